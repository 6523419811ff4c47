package verify

import (
	"regexp"
	"strconv"
	"time"
)

// partitionHour reads the hour partition of a key in Firehose's layout.
var partitionHour = regexp.MustCompile(`year=(\d{4})/month=(\d{2})/day=(\d{2})/hour=(\d{2})/`)

// inWindow reports whether key's hour partition ends after since (every key when since is zero, and keys outside
// the layout, so they are checked rather than skipped).
func inWindow(key string, since time.Time) bool {
	if since.IsZero() {
		return true
	}
	m := partitionHour.FindStringSubmatch(key)
	if m == nil {
		return true
	}
	n := make([]int, 4)
	for i := range n {
		n[i], _ = strconv.Atoi(m[i+1])
	}
	hour := time.Date(n[0], time.Month(n[1]), n[2], n[3], 0, 0, 0, time.UTC)
	return hour.Add(time.Hour).After(since)
}
