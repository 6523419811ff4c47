package audit

import (
	"context"
	"time"
)

type deadlineKey struct{}

type suppressKey struct{}

// ContextWithDeliveryDeadline records when the trace started from ctx must be delivered by. The Processor reads it
// when the trace's local root starts and bounds delivery (with retries) by it; the handler sets it to just before
// the Lambda deadline.
func ContextWithDeliveryDeadline(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, deadlineKey{}, t)
}

func deliveryDeadline(ctx context.Context) (time.Time, bool) {
	t, ok := ctx.Value(deadlineKey{}).(time.Time)
	return t, ok
}

// Suppress marks ctx so that spans started from it are ignored by the Processor. The sinks deliver with such a
// context, so an instrumented AWS client inside a sink can never feed spans back into the audit it is shipping.
func Suppress(ctx context.Context) context.Context {
	return context.WithValue(ctx, suppressKey{}, true)
}

// IsSuppressed reports whether ctx was marked by Suppress.
func IsSuppressed(ctx context.Context) bool {
	v, _ := ctx.Value(suppressKey{}).(bool)
	return v
}
