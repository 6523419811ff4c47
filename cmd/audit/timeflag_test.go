package main

import (
	"strings"
	"testing"
	"time"
)

func TestTimeFlagsTakeOneSetOfForms(t *testing.T) {
	now := time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		value string
		want  time.Time
		err   string
	}{
		{value: "90m", want: now.Add(-90 * time.Minute)},
		{value: "24h", want: now.Add(-24 * time.Hour)},
		{value: "7d", want: now.AddDate(0, 0, -7)},
		{value: "2w", want: now.AddDate(0, 0, -14)},
		{value: "1d12h", want: now.Add(-36 * time.Hour)},
		{value: "1.5d", want: now.Add(-36 * time.Hour)},
		{value: "2026-11-01", want: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
		{value: "2026-11-01T14:30", want: time.Date(2026, 11, 1, 14, 30, 0, 0, time.UTC)},
		{value: "2026-11-01T14:30:00+01:00", want: time.Date(2026, 11, 1, 13, 30, 0, 0, time.UTC)},
		{value: "2026-11-01T14:30:00.5Z", want: time.Date(2026, 11, 1, 14, 30, 0, 5e8, time.UTC)},
		{value: "-1h", err: "negative duration"},
		{value: "-7d", err: "negative duration"},
		{value: "0s", err: "longer than 0"},
		{value: "2027-01-01", err: "in the future"},
		{value: "2026-12-01T23:00:00Z", err: "in the future"},
		{value: "last tuesday", err: "want a duration back from now"},
		{value: "7 days", err: "want a duration back from now"},
		{value: "", err: "empty"},
	} {
		t.Run(c.value, func(t *testing.T) {
			got, err := parseTimeFlag("since", c.value, now)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.HasPrefix(err.Error(), "--since") {
					t.Fatalf("--since %q: %v, %v; want an error saying %q", c.value, got, err, c.err)
				}
				return
			}
			if err != nil || !got.Equal(c.want) {
				t.Fatalf("--since %q = %v, %v; want %v", c.value, got, err, c.want)
			}
		})
	}
}

func TestTracesTakeAWindowAndSayWhichMatchedNothing(t *testing.T) {
	root, _ := demoRoot(t)
	if out := mustExecute(t, "runs", "--root", root, "--since", "1w", "-o", "csv"); strings.Count(out, "\n") != 21 {
		t.Fatalf("--since 1w listed %d lines, want the 20 runs and a header:\n%s", strings.Count(out, "\n"), out)
	}
	_, stderr, err := execute(t, "runs", "--root", root, "--model", "no-such-model")
	if err != nil || !strings.Contains(stderr, "no runs match (last 24h)") {
		t.Fatalf("default window: %v %q", err, stderr)
	}
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02")
	_, stderr, err = execute(t, "runs", "--root", root, "--since", "2d", "--until", yesterday)
	if err != nil || !strings.Contains(stderr, "no runs match (last 2d, until "+yesterday+")") {
		t.Fatalf("--until before the runs: %v %q", err, stderr)
	}
	for _, args := range [][]string{{"--since", "-1h"}, {"--until", "2999-01-01"}, {"--since", "1h", "--until", "2h"}} {
		if _, _, err := execute(t, append([]string{"runs", "--root", root}, args...)...); exitCode(err) != ExitUsage {
			t.Errorf("traces %v: exit %d (%v), want a usage error", args, exitCode(err), err)
		}
	}
	if _, _, err := execute(t, "verify", "--root", root, "--since", "-1h"); exitCode(err) != ExitUsage {
		t.Errorf("verify --since -1h: exit %d (%v)", exitCode(err), err)
	}
	out, _, err := execute(t, "verify", "--root", root, "--since", "1m")
	if err != nil || !strings.Contains(out, "rounded down to its hour") || !strings.Contains(out, ":00:00Z on") {
		t.Fatalf("verify --since header: %v\n%s", err, out)
	}
	out = mustExecute(t, "runs", "--help")
	if !strings.Contains(out, `(default "24h")`) || !strings.Contains(out, "7d") {
		t.Errorf("traces --help does not give the window's default and forms:\n%s", out)
	}
}
