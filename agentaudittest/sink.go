package agentaudittest

import (
	"context"
	"sync"
)

// MemorySink is an audit.Sink (and so a sink for agentaudit.WithSink) that keeps every delivered record in
// memory: each record one OTLP/JSON line, as Firehose would receive it. The zero value is ready to use. Safe for
// concurrent use.
type MemorySink struct {
	mu      sync.Mutex
	records [][]byte
	calls   int
	fail    error
}

// Deliver stores copies of the records, or returns the configured failure without storing anything.
func (s *MemorySink) Deliver(_ context.Context, records [][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.fail != nil {
		return s.fail
	}
	for _, r := range records {
		s.records = append(s.records, append([]byte(nil), r...))
	}
	return nil
}

// FailWith makes every later Deliver fail with err (nil restores delivery).
func (s *MemorySink) FailWith(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

// Records returns copies of the records delivered so far, in delivery order.
func (s *MemorySink) Records() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]byte, len(s.records))
	copy(out, s.records)
	return out
}

// Calls counts Deliver calls, failed ones included.
func (s *MemorySink) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}
