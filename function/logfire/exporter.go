package logfire

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// maxAnswerBytes bounds how much of Logfire's answer is read.
const maxAnswerBytes = 64 << 10

// otlpHTTPClient is the otlptrace.Client of the live view: OTLP/HTTP with protobuf bodies, one POST per batch, no
// retries (a slow Logfire must never hold an invocation beyond its flush bound). The OTel SDK's otlptrace exporter
// converts the spans and hands them here, as it does to otlptracehttp's client.
//
// Why not otlptracehttp: its configuration package links grpc (for options shared with the gRPC exporter), and
// grpc links html/template, whose reflection keeps every method of every linked type in the binary; with it the
// function was twice the size and initialised grpc on every cold start (see docs/performance.md).
// exporter_test.go holds this client to otlptracehttp's requests and answers.
type otlpHTTPClient struct {
	url     string
	token   string
	timeout time.Duration
	http    *http.Client
}

var _ otlptrace.Client = (*otlpHTTPClient)(nil)

// newExporter returns the live view's span exporter: spans to url (…/v1/traces) with token as Authorization.
func newExporter(ctx context.Context, url, token string, timeout time.Duration, client *http.Client) (*otlptrace.Exporter, error) {
	return otlptrace.New(ctx, &otlpHTTPClient{url: url, token: token, timeout: timeout, http: client})
}

// Start implements otlptrace.Client; there is no connection to open.
func (c *otlpHTTPClient) Start(context.Context) error { return nil }

// Stop implements otlptrace.Client; there is no connection to close.
func (c *otlpHTTPClient) Stop(context.Context) error { return nil }

// UploadTraces posts one ExportTraceServiceRequest. Its wire form is TracesData's (both are field 1, repeated
// ResourceSpans), which spares the collector package and its gRPC service stubs.
func (c *otlpHTTPClient) UploadTraces(ctx context.Context, spans []*tracepb.ResourceSpans) error {
	body, err := proto.Marshal(&tracepb.TracesData{ResourceSpans: spans})
	if err != nil {
		return fmt.Errorf("marshal OTLP protobuf: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build the OTLP request: %w", err)
	}
	req.Header.Set("User-Agent", "OTel OTLP Exporter Go/"+otlptrace.Version())
	req.Header.Set("Authorization", c.token)
	req.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := c.http.Do(req)
	if err != nil {
		// The URL is not secret, the token is in a header; the transport's error names neither.
		return fmt.Errorf("send OTLP to %s: %w", c.url, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return fmt.Errorf("read the OTLP answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("send OTLP to %s: %s (body: %s)", c.url, resp.Status, strings.TrimSpace(string(answer)))
	}
	if resp.Header.Get("Content-Type") == "application/x-protobuf" {
		return partialSuccess(answer)
	}
	return nil
}

// partialSuccess reads ExportTraceServiceResponse.partial_success (field 1: rejected_spans = 1, error_message =
// 2) and reports spans the receiver refused, as otlptracehttp does.
func partialSuccess(answer []byte) error {
	var rejected uint64
	var message string
	err := walk(answer, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) {
		if num == 1 && typ == protowire.BytesType {
			_ = walk(v, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) {
				switch {
				case num == 1 && typ == protowire.VarintType:
					rejected = n
				case num == 2 && typ == protowire.BytesType:
					message = string(v)
				}
			})
		}
	})
	if err != nil {
		return fmt.Errorf("read the OTLP answer: %w", err)
	}
	if rejected != 0 || message != "" {
		return fmt.Errorf("OTLP partial success: %s (%d spans rejected)", message, rejected)
	}
	return nil
}

// walk calls f with each field of the protobuf message b: its number, type, and bytes or varint value.
func walk(b []byte, f func(protowire.Number, protowire.Type, []byte, uint64)) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errors.New("malformed protobuf")
		}
		b = b[n:]
		var value []byte
		var varint uint64
		switch typ {
		case protowire.VarintType:
			varint, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			value, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return errors.New("malformed protobuf")
		}
		f(num, typ, value, varint)
		b = b[n:]
	}
	return nil
}
