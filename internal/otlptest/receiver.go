// Package otlptest is an OTLP/HTTP trace receiver for tests (a stand-in for Logfire): it decodes what arrives with
// the Collector's own ptraceotlp request type, records headers and spans, and can fail or stall on demand.
package otlptest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// Receiver collects exported traces. Safe for concurrent use.
type Receiver struct {
	*httptest.Server

	mu      sync.Mutex
	traces  []ptrace.Traces
	headers []http.Header
	status  int
	stall   chan struct{}
}

// New starts a receiver and stops it when the test ends.
func New(t testing.TB) *Receiver {
	r := &Receiver{status: http.StatusOK}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(func() { r.Release(); r.Close() })
	return r
}

// FailWith answers every request with status (e.g. 500) until called again with 200.
func (r *Receiver) FailWith(status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status = status
}

// Stall holds every request until Release.
func (r *Receiver) Stall() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stall = make(chan struct{})
}

// Release lets stalled requests through.
func (r *Receiver) Release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stall != nil {
		close(r.stall)
		r.stall = nil
	}
}

// Traces returns what was received.
func (r *Receiver) Traces() []ptrace.Traces {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ptrace.Traces(nil), r.traces...)
}

// Headers returns the headers of every request received.
func (r *Receiver) Headers() []http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]http.Header(nil), r.headers...)
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	stall, status := r.stall, r.status
	r.headers = append(r.headers, req.Header.Clone())
	r.mu.Unlock()
	if stall != nil {
		select {
		case <-stall:
		case <-req.Context().Done():
			return
		}
	}
	if req.URL.Path != "/v1/traces" {
		http.NotFound(w, req)
		return
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	exp := ptraceotlp.NewExportRequest()
	if req.Header.Get("Content-Type") == "application/json" {
		err = exp.UnmarshalJSON(body)
	} else {
		err = exp.UnmarshalProto(body)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if status != http.StatusOK {
		w.WriteHeader(status)
		return
	}
	r.mu.Lock()
	r.traces = append(r.traces, exp.Traces())
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	resp, _ := ptraceotlp.NewExportResponse().MarshalProto()
	_, _ = w.Write(resp)
}
