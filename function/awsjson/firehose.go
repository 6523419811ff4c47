package awsjson

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// firehoseService is Amazon Data Firehose as its SDK client names it.
var firehoseService = Service{
	SDKID: "Firehose", SigningName: "firehose", TargetPrefix: "Firehose_20150804", KeepMessages: true,
}

// Firehose makes Firehose's PutRecordBatch call, one attempt per call: its caller (audit.FirehoseSink) owns
// retries, which see the per-record failures of a partially successful batch that a retryer cannot. It is safe
// for concurrent use.
type Firehose struct{ c *Client }

// NewFirehose returns a Firehose client for cfg (endpoint and HTTP client as New says; cfg's retry settings are
// not used).
func NewFirehose(cfg aws.Config, httpClient aws.HTTPClient) *Firehose {
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	return &Firehose{c: New(cfg, firehoseService, httpClient)}
}

// Endpoint is the URL the client sends its calls to.
func (f *Firehose) Endpoint() string { return f.c.Endpoint() }

// PutRecordBatchOutput is PutRecordBatch's answer.
type PutRecordBatchOutput struct {
	// FailedPutCount is how many records were not accepted.
	FailedPutCount int
	// RequestResponses has one entry per record, in order.
	RequestResponses []PutRecordBatchResponseEntry
}

// PutRecordBatchResponseEntry is the outcome of one record: a RecordID when accepted, an ErrorCode (and
// ErrorMessage) when not.
type PutRecordBatchResponseEntry struct {
	RecordID     string `json:"RecordId"`
	ErrorCode    string
	ErrorMessage string
}

// PutRecordBatch sends records to stream in one call. An error answer is a smithy.APIError carrying its code and
// HTTP status.
func (f *Firehose) PutRecordBatch(ctx context.Context, stream string, records [][]byte) (*PutRecordBatchOutput, error) {
	type record struct{ Data []byte }
	in := struct {
		DeliveryStreamName string
		Records            []record
	}{stream, make([]record, len(records))}
	for i, r := range records {
		in.Records[i].Data = r
	}
	var out PutRecordBatchOutput
	if err := f.c.Call(ctx, "PutRecordBatch", in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
