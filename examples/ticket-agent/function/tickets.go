package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/agent-audit/agent-audit"
	"github.com/agent-audit/agent-audit/function/agent"
)

// ticket is one support ticket of the example's store.
type ticket struct {
	ID, Title, Customer, Status, Priority string
	Opened                                time.Time
	// SLA is the ticket's response-time policy; nil for T-1003, a record migrated without one (see slaStatus).
	SLA *slaPolicy
}

// slaPolicy is a ticket's promised first response time.
type slaPolicy struct{ ResponseHours int }

// tickets is the example's ticket store: fixed, in memory, so the agent needs no database and every run is
// reproducible.
var tickets = map[string]ticket{
	"T-1001": {ID: "T-1001", Title: "Invoice PDF is blank", Customer: "Acme GmbH", Status: "open", Priority: "high",
		Opened: time.Date(2026, 11, 30, 9, 15, 0, 0, time.UTC), SLA: &slaPolicy{ResponseHours: 8}},
	"T-1002": {ID: "T-1002", Title: "Password reset mail never arrives", Customer: "Globex", Status: "waiting on customer", Priority: "normal",
		Opened: time.Date(2026, 11, 28, 16, 40, 0, 0, time.UTC), SLA: &slaPolicy{ResponseHours: 24}},
	"T-1003": {ID: "T-1003", Title: "Export to CSV times out", Customer: "Initech", Status: "open", Priority: "low",
		Opened: time.Date(2026, 11, 25, 11, 5, 0, 0, time.UTC)},
}

// ticketArgs are the arguments of both tools.
type ticketArgs struct {
	ID string `json:"id"`
}

// ticketSchema is the JSON Schema of ticketArgs, as the model sees it.
var ticketSchema = json.RawMessage(`{"type":"object","properties":{"id":{"type":"string","description":"the ticket id, such as T-1001"}},"required":["id"]}`)

// find returns the ticket, or an error the model can act on: it names the ids that exist.
func find(id string) (ticket, error) {
	t, ok := tickets[strings.ToUpper(strings.TrimSpace(id))]
	if !ok {
		ids := make([]string, 0, len(tickets))
		for k := range tickets {
			ids = append(ids, k)
		}
		sort.Strings(ids)
		return ticket{}, fmt.Errorf("no ticket %q; the tickets are %s", id, strings.Join(ids, ", "))
	}
	return t, nil
}

// lookupTicket returns a ticket's title, customer, status, priority and opening time. An unknown id is an
// error: the run goes on, the model reads the error, and the execute_tool span is audited as failed.
var lookupTicket = agentaudit.NewTool("lookup_ticket", "Look a support ticket up by its id: title, customer, status, priority, when it was opened.",
	ticketSchema, func(_ context.Context, a ticketArgs) (any, error) {
		t, err := find(a.ID)
		if err != nil {
			return nil, err
		}
		return map[string]string{"id": t.ID, "title": t.Title, "customer": t.Customer, "status": t.Status,
			"priority": t.Priority, "opened": t.Opened.Format(time.RFC3339)}, nil
	})

// slaStatus returns when a ticket's first response is due. It has a bug on purpose, the kind an agent's tool
// ships with: it trusts every ticket to have an SLA policy, and T-1003 has none, so the call panics. The runtime
// recovers it, audits the execute_tool span with error.type tool_panic, and the model gets an error result.
var slaStatus = agentaudit.NewTool("sla_status", "When the first response to a support ticket is due under its SLA.",
	ticketSchema, func(_ context.Context, a ticketArgs) (any, error) {
		t, err := find(a.ID)
		if err != nil {
			return nil, err
		}
		due := t.Opened.Add(time.Duration(t.SLA.ResponseHours) * time.Hour)
		return map[string]any{"id": t.ID, "response_hours": t.SLA.ResponseHours, "response_due": due.Format(time.RFC3339)}, nil
	})

// tools are the ticket agent's tools.
func tools() []agent.Tool { return []agent.Tool{lookupTicket, slaStatus} }
