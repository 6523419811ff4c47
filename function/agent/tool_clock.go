package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
	// Embedded zone data: provided.al2023 images are not guaranteed to ship /usr/share/zoneinfo.
	_ "time/tzdata"
)

// Clock tells the current time in an IANA time zone. Now is the time source (time.Now when nil).
type Clock struct {
	Now func() time.Time
}

type clockArgs struct {
	TimeZone string `json:"timezone"`
}

// Spec implements Tool.
func (Clock) Spec() ToolSpec {
	return ToolSpec{
		Name:        "clock",
		Description: "Current date and time in an IANA time zone such as Europe/Berlin (default UTC).",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"timezone":{"type":"string","description":"IANA time zone, default UTC"}},"additionalProperties":false}`),
	}
}

// Call implements Tool. The result is {"timezone", "time" (RFC 3339), "weekday"}.
func (c Clock) Call(_ context.Context, raw json.RawMessage) (json.RawMessage, error) {
	var args clockArgs
	if err := DecodeArgs(raw, &args); err != nil {
		return nil, err
	}
	if args.TimeZone == "" {
		args.TimeZone = "UTC"
	}
	loc, err := time.LoadLocation(args.TimeZone)
	if err != nil {
		return nil, fmt.Errorf(`argument "timezone": %q is not an IANA time zone`, args.TimeZone)
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	t := now().In(loc)
	return json.Marshal(map[string]string{"timezone": loc.String(), "time": t.Format(time.RFC3339), "weekday": t.Weekday().String()})
}
