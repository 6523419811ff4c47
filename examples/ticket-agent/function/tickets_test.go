package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestTheTicketTools(t *testing.T) {
	call := func(tool string, args string) (string, error) {
		for _, tt := range tools() {
			if tt.Spec().Name == tool {
				out, err := tt.Call(context.Background(), json.RawMessage(args))
				return string(out), err
			}
		}
		t.Fatalf("no tool %s", tool)
		return "", nil
	}
	if out, err := call("lookup_ticket", `{"id":"t-1001"}`); err != nil || !strings.Contains(out, `"title":"Invoice PDF is blank"`) {
		t.Errorf("lookup_ticket T-1001: %s, %v", out, err)
	}
	if out, err := call("sla_status", `{"id":"T-1002"}`); err != nil || !strings.Contains(out, `"response_due":"2026-11-29T16:40:00Z"`) {
		t.Errorf("sla_status T-1002: %s, %v", out, err)
	}
	if _, err := call("lookup_ticket", `{"id":"T-9999"}`); err == nil || !strings.Contains(err.Error(), "T-1001, T-1002, T-1003") {
		t.Errorf("an unknown ticket: %v", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("sla_status T-1003 did not panic: the example's panicking tool is gone")
			}
		}()
		_, _ = call("sla_status", `{"id":"T-1003"}`)
	}()
}
