package handler

import "context"

// Leg is an optional second telemetry destination beside the audit copy (the Logfire live view). Prepare runs at
// the start of every invocation, before the agent (the place for work that cannot happen at init, such as reading
// a token through the Parameters and Secrets extension); Flush runs after the audit record is delivered and
// before the response is returned, and must give up within its own bound. Neither may fail the invocation or
// delay the audit leg: a Leg reports its own problems in its logs.
type Leg interface {
	Prepare(ctx context.Context)
	Flush(ctx context.Context)
}
