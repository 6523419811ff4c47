package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
)

// Unreadable says why an object's stored bytes cannot be read as records, or "" when every line can: the object
// is not GZIP or its GZIP stream is faulty (Verify reports it as KindUnreadableObject, with the same words), or
// one of its lines is not a JSON object (Verify reports the line as KindMalformedRecord). Blank lines are
// readable. It is the check a reader of the trail (the CLI's DuckDB views) uses to leave out what it cannot
// read and what Verify reports, without keys: it checks no seal. It returns an error only when ctx ends.
func Unreadable(ctx context.Context, raw []byte) (string, error) {
	var res objectResult
	var malformed string
	err := eachLine(ctx, raw, &res, func(line []byte, n int) {
		if malformed != "" {
			return
		}
		if line = bytes.TrimSpace(line); len(line) == 0 {
			return
		}
		if line[0] != '{' || !json.Valid(line) {
			malformed = fmt.Sprintf("line %d is not a JSON object", n)
		}
	})
	switch {
	case err != nil:
		return "", err
	case res.unreadable != "":
		return res.unreadable, nil
	}
	return malformed, nil
}
