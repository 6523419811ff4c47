// Package s3test is a fake Amazon S3 that takes PutObject, virtual-hosted or path-style, for the differential
// tests of the function's hand-written PutObject (function/awss3) against the SDK's s3 client: it keeps each
// object under its request path and host, checks the x-amz-checksum-sha256 a PUT carries against its body (as
// S3 does, BadDigest when they differ) and answers injected faults as S3 does (an XML <Error> document with
// x-amz-request-id, or a connection closed without an answer). Signatures are not checked here; the tests check
// them with awsjsontest.VerifySignature. It is for tests only; no shipped code imports it.
package s3test

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/agent-audit/agent-audit/internal/awsjsontest"
)

// Fault is what the server answers one request with instead of taking it.
type Fault struct {
	// Status and Code answer an S3 error document (SlowDown with 503, AccessDenied with 403).
	Status int
	Code   string
	// Reset ends the connection with a TCP reset instead of an answer.
	Reset bool
}

// Object is a stored PUT: where it was sent and what it carried.
type Object struct {
	Host, Path  string
	ContentType string
	Checksum    string
	Body        []byte
}

// Server is the fake S3, closed when the test ends. Safe for concurrent use.
type Server struct {
	*httptest.Server

	mu      sync.Mutex
	faults  []Fault
	objects []Object
	calls   int
	ids     int
}

// New starts a Server.
func New(t testing.TB) *Server {
	s := &Server{}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Inject queues faults, answered to the next requests in order.
func (s *Server) Inject(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, faults...)
}

// Calls is how many requests reached the server.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// Objects returns the objects stored, in the order they arrived.
func (s *Server) Objects() []Object {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Object(nil), s.objects...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	s.mu.Lock()
	s.calls++
	s.ids++
	id := fmt.Sprintf("S3TEST%010d", s.ids)
	var fault *Fault
	if len(s.faults) > 0 {
		fault = &s.faults[0]
		s.faults = s.faults[1:]
	}
	s.mu.Unlock()
	w.Header().Set("X-Amz-Request-Id", id)
	switch {
	case fault != nil && fault.Reset:
		awsjsontest.Reset(w)
		return
	case fault != nil:
		writeError(w, fault.Status, fault.Code, "injected fault", id)
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, "IncompleteBody", "the body was cut off", id)
		return
	case r.Method != http.MethodPut || r.URL.Query().Get("x-id") != "PutObject":
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "only PutObject is served", id)
		return
	}
	sum := sha256.Sum256(body)
	if got := r.Header.Get("X-Amz-Checksum-Sha256"); got != base64.StdEncoding.EncodeToString(sum[:]) {
		writeError(w, http.StatusBadRequest, "BadDigest", "the SHA256 you specified did not match the calculated checksum", id)
		return
	}
	s.mu.Lock()
	s.objects = append(s.objects, Object{Host: r.Host, Path: r.URL.EscapedPath(), ContentType: r.Header.Get("Content-Type"),
		Checksum: r.Header.Get("X-Amz-Checksum-Sha256"), Body: body})
	s.mu.Unlock()
	w.Header().Set("ETag", fmt.Sprintf("%q", fmt.Sprintf("%x", sum[:16])))
	w.Header().Set("X-Amz-Checksum-Sha256", r.Header.Get("X-Amz-Checksum-Sha256"))
	w.WriteHeader(http.StatusOK)
}

// writeError answers S3's error document: <Error> with Code, Message and RequestId.
func writeError(w http.ResponseWriter, status int, code, message, id string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId><HostId>aG9zdA==</HostId></Error>`,
		html.EscapeString(code), html.EscapeString(message), id)
}
