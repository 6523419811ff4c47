// Package bedrocktest is a local Amazon Bedrock Runtime for tests: an httptest server speaking the Converse
// operation's restJson1 wire protocol (POST /model/{modelId}/converse), validating conversations the way Bedrock
// does, and answering with scripted replies or Bedrock's error shapes. Tests talk to it with the function's own
// client (Server.Client, awsjson.BedrockRuntime) or with the real aws-sdk-go-v2 client (Server.SDKClient), to
// which the function's client is held.
package bedrocktest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"

	"github.com/agent-audit/agent-audit/function/awsjson"
	"github.com/agent-audit/agent-audit/internal/awsjsontest"
)

// Region is the region the Client signs for.
const Region = "eu-west-1"

// Request is a Converse request as the server received it.
type Request struct {
	// ModelID is the path's model id, unescaped (an inference profile ARN arrives percent-encoded).
	ModelID string
	// RequestID is the x-amzn-RequestId the server answered with.
	RequestID string
	Body      ConverseBody
}

// Server is the fake Bedrock Runtime. All methods are safe for concurrent use, and so is the server itself:
// concurrent calls take scripted replies in arrival order.
type Server struct {
	*httptest.Server

	mu        sync.Mutex
	models    map[string]bool
	replies   []Reply
	responder func(Request) Reply
	requests  []Request
	// handedOut holds the key of every reasoning block the server has answered with.
	handedOut map[string]bool
}

// New starts a server that knows the given model ids (inference profile ARNs or model ids); any other id is
// answered with ResourceNotFoundException. The server stops when the test ends.
func New(t testing.TB, modelIDs ...string) *Server {
	s := &Server{models: map[string]bool{}, handedOut: map[string]bool{}}
	for _, id := range modelIDs {
		s.models[id] = true
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Config points a client at the server, with static test credentials and retries off, so each Converse call is
// exactly one request.
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:           Region,
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "not-a-secret", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       s.Server.Client(),
	}
}

// Client returns the function's Bedrock Runtime client (awsjson.BedrockRuntime) for Config.
func (s *Server) Client() *awsjson.BedrockRuntime { return awsjson.NewBedrockRuntime(s.Config(), nil) }

// SDKClient returns the SDK's Bedrock Runtime client for Config.
func (s *Server) SDKClient() *bedrockruntime.Client { return bedrockruntime.NewFromConfig(s.Config()) }

// Enqueue adds replies, taken one per valid call in order. When none is left, the Respond function answers; with
// neither, the call fails with InternalServerException naming the problem.
func (s *Server) Enqueue(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies = append(s.replies, replies...)
}

// Respond sets the function that answers valid calls once the queue is empty, for tests whose calls arrive in
// no fixed order. It is called without the server's lock held and may be called concurrently.
func (s *Server) Respond(f func(Request) Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.responder = f
}

// Requests returns the requests received so far, valid or not, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	modelID, ok := converseModelID(r)
	if !ok {
		writeError(w, "", http.StatusNotFound, "UnknownOperationException", "")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		writeError(w, "", http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token")
		return
	}
	var body ConverseBody
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, "", http.StatusBadRequest, "SerializationException", "Could not parse the request body as JSON.")
		return
	}

	s.mu.Lock()
	req := Request{ModelID: modelID, RequestID: fmt.Sprintf("00000000-0000-4000-8000-%012d", len(s.requests)+1), Body: body}
	s.requests = append(s.requests, req)
	known := s.models[modelID]
	problem := validate(body)
	if keys, where := reasoningSentBack(body); problem == "" {
		for i, k := range keys {
			if !s.handedOut[k] {
				problem = fmt.Sprintf("%s: Invalid `signature` in `thinking` block: the reasoning was not sent back as the model returned it.", where[i])
				break
			}
		}
	}
	var reply Reply
	scripted := known && problem == "" && len(s.replies) > 0
	if scripted {
		reply, s.replies = s.replies[0], s.replies[1:]
	}
	responder := s.responder
	s.mu.Unlock()

	switch {
	case !known:
		writeError(w, req.RequestID, 0, "ResourceNotFoundException", "The provided model identifier is invalid.")
		return
	case problem != "":
		writeError(w, req.RequestID, 0, "ValidationException", problem)
		return
	case !scripted && responder != nil:
		reply = responder(req)
	case !scripted:
		writeError(w, req.RequestID, 0, "InternalServerException", "bedrocktest: no scripted reply left")
		return
	}
	if reply.Delay > 0 {
		select {
		case <-time.After(reply.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if reply.Reset {
		awsjsontest.Reset(w)
		return
	}
	if reply.ErrCode != "" {
		writeError(w, req.RequestID, reply.ErrStatus, reply.ErrCode, reply.ErrMessage)
		return
	}
	s.mu.Lock()
	for _, rb := range reply.Reasoning {
		s.handedOut[rb.key()] = true
	}
	s.mu.Unlock()
	writeReply(w, req.RequestID, reply)
}

// converseModelID matches POST /model/{modelId}/converse, with modelId one path segment that may hold
// percent-encoded slashes and colons, and returns it unescaped.
func converseModelID(r *http.Request) (string, bool) {
	escaped := r.URL.EscapedPath()
	segment, ok := strings.CutPrefix(escaped, "/model/")
	if !ok {
		return "", false
	}
	segment, ok = strings.CutSuffix(segment, "/converse")
	if !ok || r.Method != http.MethodPost || segment == "" || strings.Contains(segment, "/") {
		return "", false
	}
	id, err := url.PathUnescape(segment)
	return id, err == nil
}
