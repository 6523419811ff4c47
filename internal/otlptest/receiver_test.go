package otlptest

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// request is an export of one span named name, encoded as contentType.
func request(t *testing.T, name, contentType string) []byte {
	t.Helper()
	td := ptrace.NewTraces()
	td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName(name)
	req := ptraceotlp.NewExportRequestFromTraces(td)
	var body []byte
	var err error
	if contentType == "application/json" {
		body, err = req.MarshalJSON()
	} else {
		body, err = req.MarshalProto()
	}
	if err != nil {
		t.Fatal(err)
	}
	return body
}

func post(t *testing.T, r *Receiver, ctx context.Context, path, contentType string, body []byte) (int, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "test-token")
	resp, err := r.Client().Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestTheReceiverDecodesBothEncodings(t *testing.T) {
	for _, tc := range []struct{ name, contentType string }{
		{"protobuf is decoded", "application/x-protobuf"},
		{"JSON is decoded", "application/json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := New(t)
			status, err := post(t, r, context.Background(), "/v1/traces", tc.contentType, request(t, "span-"+tc.contentType, tc.contentType))
			if err != nil || status != http.StatusOK {
				t.Fatalf("status %d, %v", status, err)
			}
			got := r.Traces()
			if len(got) != 1 || got[0].SpanCount() != 1 || got[0].ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Name() != "span-"+tc.contentType {
				t.Fatalf("received %d exports", len(got))
			}
			if h := r.Headers(); len(h) != 1 || h[0].Get("Authorization") != "test-token" {
				t.Fatalf("headers %v", h)
			}
		})
	}
}

func TestTheReceiverRefusesWhatIsNotAnExport(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		body       []byte
		want       int
	}{
		{"another path is not found", "/v1/logs", nil, http.StatusNotFound},
		{"a body that is not OTLP is a bad request", "/v1/traces", []byte("not protobuf \xff\xff"), http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := New(t)
			body := tc.body
			if body == nil {
				body = request(t, "x", "application/x-protobuf")
			}
			if status, err := post(t, r, context.Background(), tc.path, "application/x-protobuf", body); err != nil || status != tc.want {
				t.Fatalf("status %d, %v; want %d", status, err, tc.want)
			}
			if len(r.Traces()) != 0 {
				t.Fatal("a refused request was recorded")
			}
		})
	}
}

func TestFaultsAreInjectedUntilLifted(t *testing.T) {
	r := New(t)
	body := request(t, "x", "application/x-protobuf")
	r.FailWith(http.StatusInternalServerError)
	if status, _ := post(t, r, context.Background(), "/v1/traces", "application/x-protobuf", body); status != http.StatusInternalServerError || len(r.Traces()) != 0 {
		t.Fatalf("status %d with %d recorded; want 500 and nothing", status, len(r.Traces()))
	}
	r.FailWith(http.StatusOK)

	r.Stall()
	done := make(chan error, 1)
	go func() {
		_, err := post(t, r, context.Background(), "/v1/traces", "application/x-protobuf", body)
		done <- err
	}()
	for len(r.Headers()) < 2 { // wait until the handler holds the request
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("a stalled request came back (%v)", err)
	default:
	}
	r.Release()
	if err := <-done; err != nil || len(r.Traces()) != 1 {
		t.Fatalf("after Release: %v, %d recorded", err, len(r.Traces()))
	}
}
