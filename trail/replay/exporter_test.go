package replay

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

func oneSpan() ptrace.Traces {
	td := ptrace.NewTraces()
	s := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	s.SetName("probe")
	s.SetTraceID([16]byte{1})
	s.SetSpanID([8]byte{2})
	return td
}

// respond writes an ExportTraceServiceResponse in the request's encoding.
func respond(w http.ResponseWriter, r *http.Request, rejected int64, message string) {
	resp := ptraceotlp.NewExportResponse()
	if rejected > 0 {
		resp.PartialSuccess().SetRejectedSpans(rejected)
		resp.PartialSuccess().SetErrorMessage(message)
	}
	var body []byte
	if r.Header.Get("Content-Type") == "application/json" {
		body, _ = resp.MarshalJSON()
	} else {
		body, _ = resp.MarshalProto()
	}
	w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
	w.Write(body)
}

func TestExportRetriesAsTheSpecificationSays(t *testing.T) {
	for _, tt := range []struct {
		name string
		// status answers the attempts before the last, which answers 200.
		status       []int
		retryAfter   string
		wantAttempts int
		wantErr      string
	}{
		{"503 with Retry-After is retried when the header says, not after the backoff", []int{503}, "0", 2, ""},
		{"429, 502, 503 and 504 are retried", []int{429, 502, 503, 504}, "0", 5, ""},
		{"400 is not retried", []int{400}, "", 1, "HTTP 400"},
		{"500 is not retried", []int{500}, "", 1, "HTTP 500"},
		{"a Retry-After beyond the retry budget ends the export", []int{503}, "3600", 1, "HTTP 503"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				i := int(n.Add(1)) - 1
				if i < len(tt.status) {
					if tt.retryAfter != "" {
						w.Header().Set("Retry-After", tt.retryAfter)
					}
					http.Error(w, "try later", tt.status[i])
					return
				}
				respond(w, r, 0, "")
			}))
			defer srv.Close()
			// The backoff alone would wait an hour, past the budget: only Retry-After lets a retry happen.
			exp, err := NewExporter(ExporterConfig{Endpoint: srv.URL + "/v1/traces", InitialBackoff: time.Hour, MaxElapsed: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			res, err := exp.Export(context.Background(), oneSpan())
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if res.Attempts != tt.wantAttempts || int(n.Load()) != tt.wantAttempts {
				t.Errorf("%d attempts (server saw %d), want %d", res.Attempts, n.Load(), tt.wantAttempts)
			}
		})
	}
}

func TestExportRetriesAReceiverThatIsDownWithBackoffUntilTheBudgetEnds(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	exp, err := NewExporter(ExporterConfig{Endpoint: "http://" + addr + "/v1/traces", InitialBackoff: 10 * time.Millisecond, MaxElapsed: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	res, err := exp.Export(context.Background(), oneSpan())
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("error %v, want connection refused", err)
	}
	if res.Attempts < 2 {
		t.Errorf("%d attempts: a transport error must be retried", res.Attempts)
	}
}

func TestExportReportsAPartialSuccessAsRejectedSpans(t *testing.T) {
	for _, protocol := range []Protocol{ProtocolProtobuf, ProtocolJSON} {
		t.Run(string(protocol), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				respond(w, r, 1, "span too old")
			}))
			defer srv.Close()
			exp, err := NewExporter(ExporterConfig{Endpoint: srv.URL, Protocol: protocol})
			if err != nil {
				t.Fatal(err)
			}
			res, err := exp.Export(context.Background(), oneSpan())
			if !errors.Is(err, ErrRejected) || res.Rejected != 1 || res.RejectedMessage != "span too old" || res.Attempts != 1 {
				t.Fatalf("partial success: %+v, %v", res, err)
			}
		})
	}
}

func TestExportErrorsNeverRepeatAHeaderValue(t *testing.T) {
	const token = "pylf_v1_eu_s3cr3tw0rdth4tmustn0tl34k"
	var sawToken bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawToken = r.Header.Get("Authorization") == token
		// A hostile or careless server echoes the credential in its error and its partial success.
		if r.URL.Path == "/partial" {
			respond(w, r, 1, "bad token "+r.Header.Get("Authorization"))
			return
		}
		http.Error(w, "invalid token "+r.Header.Get("Authorization"), http.StatusUnauthorized)
	}))
	defer srv.Close()
	for _, path := range []string{"/v1/traces", "/partial"} {
		exp, err := NewExporter(ExporterConfig{Endpoint: srv.URL + path, Headers: map[string]string{"Authorization": token}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := exp.Export(context.Background(), oneSpan())
		if err == nil || !sawToken {
			t.Fatalf("%s: error %v, token sent %v", path, err, sawToken)
		}
		if strings.Contains(err.Error(), token) || strings.Contains(res.RejectedMessage, token) {
			t.Errorf("%s: the error repeats the token: %v", path, err)
		}
	}
}

func TestExporterRefusesBadConfiguration(t *testing.T) {
	_, err := NewExporter(ExporterConfig{Endpoint: "localhost:4318", Protocol: "grpc", Headers: map[string]string{"a b": "x"}})
	for _, want := range []string{"localhost:4318", "grpc", `"a b"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

func TestExportTakesA2xxWithoutAResponseBodyAsDelivered(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte("accepted"))
	}))
	defer srv.Close()
	exp, err := NewExporter(ExporterConfig{Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := exp.Export(context.Background(), oneSpan()); err != nil || res.Rejected != 0 {
		t.Errorf("a 202 with a plain body: %+v, %v", res, err)
	}
}

func TestEndpointIsShownWithoutCredentials(t *testing.T) {
	exp, err := NewExporter(ExporterConfig{Endpoint: "https://user:s3cr3tpass@otel.example/v1/traces?api_key=s3cr3tkey"})
	if err != nil {
		t.Fatal(err)
	}
	if got := exp.Endpoint(); got != "https://otel.example/v1/traces" {
		t.Errorf("Endpoint() = %q", got)
	}
}
