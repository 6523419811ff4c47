package main

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// timeForms is what a time flag accepts, as its help and its errors say.
const timeForms = "a duration back from now (90m, 24h, 7d, 2w, 1d12h), a date (2026-11-01, UTC), a date and time " +
	"(2026-11-01T14:30, UTC) or an RFC 3339 time (2026-11-01T14:30:00+01:00)"

// durationPart is one number and unit of a duration; d (24h) and w (7d) are added to time.ParseDuration's units.
// Hand-written because no maintained library in the module graph parses day and week units.
var durationPart = regexp.MustCompile(`(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d|w)`)

// parseTimeFlag reads the value of a time flag (--since, --until; name is the flag, for the error) as a point
// in time: a duration back from now, a date, a date and time, or an RFC 3339 time; timeForms lists them. Dates
// and times without an offset are UTC, the trail's partitions' zone. A negative duration and a time after now
// are refused, since no record can be there. The result is in UTC.
func parseTimeFlag(name, value string, now time.Time) (time.Time, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return time.Time{}, fmt.Errorf("--%s is empty: want %s", name, timeForms)
	}
	if strings.HasPrefix(value, "-") {
		return time.Time{}, fmt.Errorf("--%s %s: a negative duration; give how long ago without a sign", name, value)
	}
	if d, ok, err := parseDuration(value); ok {
		if err != nil {
			return time.Time{}, fmt.Errorf("--%s %s: %w", name, value, err)
		}
		if d == 0 {
			return time.Time{}, fmt.Errorf("--%s %s: want a duration longer than 0", name, value)
		}
		return now.Add(-d).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		t, err := time.Parse(layout, value)
		if err != nil {
			continue
		}
		if t.After(now) {
			return time.Time{}, fmt.Errorf("--%s %s is in the future (now is %s)", name, value, now.UTC().Format(time.RFC3339))
		}
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("--%s %q: want %s", name, value, timeForms)
}

// parseDuration reads a duration with day and week units. ok is false when s is not made of number-unit parts
// (so it may be a date); err is set when it is but does not fit a time.Duration.
func parseDuration(s string) (d time.Duration, ok bool, err error) {
	parts := durationPart.FindAllStringSubmatchIndex(s, -1)
	covered := 0
	for _, p := range parts {
		if p[0] != covered {
			return 0, false, nil
		}
		covered = p[1]
	}
	if len(parts) == 0 || covered != len(s) {
		return 0, false, nil
	}
	var b strings.Builder
	for _, p := range parts {
		num, unit := s[p[2]:p[3]], s[p[4]:p[5]]
		switch unit {
		case "d", "w":
			n, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, true, err
			}
			hours := 24 * n
			if unit == "w" {
				hours *= 7
			}
			fmt.Fprintf(&b, "%gh", hours)
		default:
			b.WriteString(num + unit)
		}
	}
	d, err = time.ParseDuration(b.String())
	if err != nil {
		return 0, true, errors.New("too long a duration")
	}
	return d, true, nil
}

// timeWindow is the --since and --until of a command that reads a time range of the trail.
type timeWindow struct {
	since, until string
	// defaultSince is --since's default, said in the help and in "no runs match (last …)"; "" for everything.
	defaultSince string
}

// registerTimeWindow adds --since (default defaultSince; "" for everything) and, when withUntil, --until to cmd.
func registerTimeWindow(cmd *cobra.Command, w *timeWindow, defaultSince string, withUntil bool) {
	w.defaultSince = defaultSince
	cmd.Flags().StringVar(&w.since, "since", defaultSince, "start of the window: "+timeForms)
	if withUntil {
		cmd.Flags().StringVar(&w.until, "until", "", "end of the window, in the same forms (default now)")
	}
}

// resolve returns the window's start and end; a zero start is "everything", a zero end is "now". A start not
// before the end is refused.
func (w timeWindow) resolve(now time.Time) (since, until time.Time, err error) {
	if w.since != "" {
		if since, err = parseTimeFlag("since", w.since, now); err != nil {
			return time.Time{}, time.Time{}, err
		}
	}
	if w.until != "" {
		if until, err = parseTimeFlag("until", w.until, now); err != nil {
			return time.Time{}, time.Time{}, err
		}
		if !since.IsZero() && !since.Before(until) {
			return time.Time{}, time.Time{}, fmt.Errorf("--since %s is not before --until %s", w.since, w.until)
		}
	}
	return since, until, nil
}

// describe names the window for a "no runs match (…)" line: "last 24h", "since 2026-11-01", "2026-11-01 to 2026-11-02".
func (w timeWindow) describe() string {
	since := w.since
	switch {
	case since == "" && w.until == "":
		return "all time"
	case since == "":
		return "until " + w.until
	}
	if _, ok, _ := parseDuration(since); ok {
		since = "last " + since
	} else {
		since = "since " + since
	}
	if w.until != "" {
		return since + ", until " + w.until
	}
	return since
}
