package logfire

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// exportServer answers every export with status and body (content type ctype) and keeps each request.
type exportServer struct {
	*httptest.Server
	mu      sync.Mutex
	bodies  [][]byte
	headers []http.Header
}

func newExportServer(t *testing.T, status int, ctype string, body []byte) *exportServer {
	s := &exportServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.bodies, s.headers = append(s.bodies, b), append(s.headers, r.Header.Clone())
		s.mu.Unlock()
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

// recordedSpans are spans of every shape the agent makes: nested, with attributes of each type, events, a link,
// an error status, and a remote parent.
func recordedSpans(t *testing.T) []sdktrace.ReadOnlySpan {
	rec := tracetest.NewSpanRecorder()
	res := sdkresource.NewSchemaless(attribute.String("service.name", "agent-audit"), attribute.Int("n", 3))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithResource(res))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	tr := tp.Tracer("github.com/agent-audit/agent-audit/function/agent", trace.WithInstrumentationVersion("1.0"))
	remote := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5}, TraceFlags: trace.FlagsSampled, Remote: true})
	ctx, root := tr.Start(trace.ContextWithRemoteSpanContext(context.Background(), remote), "invoke_agent a", trace.WithSpanKind(trace.SpanKindServer))
	root.SetAttributes(attribute.String("gen_ai.operation.name", "invoke_agent"), attribute.Bool("b", true), attribute.Float64("f", 1.5),
		attribute.StringSlice("ss", []string{"x", "y"}), attribute.Int64Slice("is", []int64{1, 2}))
	_, child := tr.Start(ctx, "chat m", trace.WithSpanKind(trace.SpanKindClient), trace.WithLinks(trace.Link{SpanContext: remote, Attributes: []attribute.KeyValue{attribute.String("l", "v")}}))
	child.AddEvent("gen_ai.choice", trace.WithAttributes(attribute.String("text", "héllo \u2028 \"q\"")), trace.WithTimestamp(time.Unix(1_700_000_000, 5)))
	child.SetStatus(codes.Error, "throttled")
	child.End()
	root.End()
	return rec.Ended()
}

// TestTheExporterSendsWhatOtlptracehttpSends exports the same spans with otlptracehttp (configured as the leg
// configured it) and with the leg's own client, and requires the same request (body bytes, content type,
// authorization, user agent) and the same outcome for each answer a receiver may give.
func TestTheExporterSendsWhatOtlptracehttpSends(t *testing.T) {
	partial, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{PartialSuccess: &coltracepb.ExportTracePartialSuccess{RejectedSpans: 1, ErrorMessage: "span too old"}})
	empty, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	cases := []struct {
		name   string
		status int
		ctype  string
		body   []byte
		fails  bool
	}{
		{"an accepted export", 200, "application/x-protobuf", empty, false},
		{"an accepted export without a body", 200, "", nil, false},
		{"a partial success is an error", 200, "application/x-protobuf", partial, true},
		{"a refused token is an error", 401, "text/plain", []byte("invalid token"), true},
		{"an overloaded receiver is an error, not retried", 503, "", nil, true},
	}
	spans := recordedSpans(t)
	const token = "pylf_v1_eu_not-a-real-token"
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lib := newExportServer(t, tc.status, tc.ctype, tc.body)
			ours := newExportServer(t, tc.status, tc.ctype, tc.body)
			ctx := context.Background()
			want, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(lib.URL+"/v1/traces"),
				otlptracehttp.WithHeaders(map[string]string{"Authorization": token}), otlptracehttp.WithTimeout(time.Second),
				otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}), otlptracehttp.WithHTTPClient(&http.Client{}))
			if err != nil {
				t.Fatal(err)
			}
			got, err := newExporter(ctx, ours.URL+"/v1/traces", token, time.Second, &http.Client{})
			if err != nil {
				t.Fatal(err)
			}
			wantErr, gotErr := want.ExportSpans(ctx, spans), got.ExportSpans(ctx, spans)
			if (wantErr != nil) != tc.fails || (gotErr != nil) != tc.fails {
				t.Fatalf("errors: otlptracehttp %v, ours %v; want failure %v", wantErr, gotErr, tc.fails)
			}
			if gotErr != nil && strings.Contains(gotErr.Error(), token) {
				t.Fatalf("error %q holds the token", gotErr)
			}
			if len(lib.bodies) != 1 || len(ours.bodies) != 1 {
				t.Fatalf("%d requests from otlptracehttp, %d from ours; want one each", len(lib.bodies), len(ours.bodies))
			}
			if !bytes.Equal(lib.bodies[0], ours.bodies[0]) {
				t.Fatalf("bodies differ: %d bytes from otlptracehttp, %d from ours", len(lib.bodies[0]), len(ours.bodies[0]))
			}
			var td tracepb.TracesData
			if err := proto.Unmarshal(ours.bodies[0], &td); err != nil || len(td.ResourceSpans) != 1 || len(td.ResourceSpans[0].ScopeSpans[0].Spans) != 2 {
				t.Fatalf("body does not hold the two spans: %v", err)
			}
			for _, h := range []string{"Content-Type", "Authorization", "User-Agent"} {
				if lib.headers[0].Get(h) != ours.headers[0].Get(h) {
					t.Errorf("%s: ours %q, otlptracehttp %q", h, ours.headers[0].Get(h), lib.headers[0].Get(h))
				}
			}
		})
	}
}
