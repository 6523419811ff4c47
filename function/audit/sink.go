package audit

import "context"

// DefaultMaxRecordBytes is Firehose's hard limit for one record, before base64 (1,000 KiB).
const DefaultMaxRecordBytes = 1_000 * 1024

// Sink delivers records. Each record is one OTLP/JSON export request on one line, '\n'-terminated, at most the
// configured record limit. Deliver blocks until every record is accepted or it gives up; an error means at least
// one record was not delivered, and says how many. Implementations are safe for concurrent use.
type Sink interface {
	Deliver(ctx context.Context, records [][]byte) error
}
