// Package firehosetest is a local Kinesis Data Firehose for tests: an httptest server speaking the service's
// awsJson1_1 wire protocol for PutRecord and PutRecordBatch, with Firehose's limits, error shapes and
// per-record failures, and scriptable faults. Tests talk to it with the real aws-sdk-go-v2 client (Client).
package firehosetest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
)

// Firehose's documented limits.
const (
	MaxRecordBytes  = 1_000 * 1024
	MaxBatchRecords = 500
	MaxBatchBytes   = 4 * 1024 * 1024
)

const targetPrefix = "Firehose_20150804."

// Fault is what the server does to one call instead of (or besides) answering normally.
type Fault struct {
	// Status and Code make the whole call fail with that HTTP status and error code (e.g. 503
	// ServiceUnavailableException, 500 InternalFailure, 400 LimitExceededException).
	Status int
	Code   string
	// FailRecords fails these record indexes of a PutRecordBatch (ServiceUnavailableException) and stores the rest.
	FailRecords []int
	// Delay holds the answer this long (or until the client gives up).
	Delay time.Duration
	// Reset closes the connection without an answer.
	Reset bool
	// StoreThenFail stores the records and then fails the call with Status/Code, as a lost acknowledgement does.
	StoreThenFail bool
	// StoreThenCut stores the records, answers 200 and closes the connection halfway through the body, as a
	// connection lost while the acknowledgement is on its way does.
	StoreThenCut bool
}

// Server is the fake Firehose. Safe for concurrent use.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	streams  map[string][][]byte
	faults   []Fault
	calls    int
	received int
	nextID   int
}

// New starts a server knowing the given delivery streams and stops it when the test ends.
func New(t testing.TB, streams ...string) *Server {
	s := &Server{streams: map[string][][]byte{}}
	for _, name := range streams {
		s.streams[name] = nil
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// Client returns a real Firehose client pointed at the server, with static credentials and the SDK's own
// retries off (the sink under test owns retries).
func (s *Server) Client() *firehose.Client {
	return firehose.New(firehose.Options{
		Region:           "eu-west-1",
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "not-a-secret", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       s.Server.Client(),
	})
}

// Config is an AWS configuration pointed at the server with static credentials, for awsjson.NewFirehose (what the
// function uses) or the SDK's firehose.NewFromConfig.
func (s *Server) Config() aws.Config {
	return aws.Config{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(s.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "not-a-secret", ""),
		HTTPClient:   s.Server.Client(),
	}
}

// Inject queues faults, applied one per call in order; calls after the queue is empty are answered normally.
func (s *Server) Inject(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, faults...)
}

// Throttle makes the next n calls fail as Firehose does when a stream's throughput limit is exceeded: HTTP 500
// with ServiceUnavailableException.
func (s *Server) Throttle(n int) {
	for range n {
		s.Inject(Fault{Status: http.StatusInternalServerError, Code: "ServiceUnavailableException"})
	}
}

// Records returns copies of the records stored for stream, in arrival order.
func (s *Server) Records(stream string) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]byte, len(s.streams[stream]))
	for i, r := range s.streams[stream] {
		out[i] = append([]byte(nil), r...)
	}
	return out
}

// Calls counts the API calls received (signed requests of a known operation), faulted ones included.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// RecordsReceived counts the records of every well-formed call that reached record handling, stored or not.
func (s *Server) RecordsReceived() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received
}

type wireRecord struct {
	Data string `json:"Data"`
}

type putRecordBatchRequest struct {
	DeliveryStreamName string       `json:"DeliveryStreamName"`
	Records            []wireRecord `json:"Records"`
}

type putRecordRequest struct {
	DeliveryStreamName string     `json:"DeliveryStreamName"`
	Record             wireRecord `json:"Record"`
}

type responseEntry struct {
	RecordID     string `json:"RecordId,omitempty"`
	ErrorCode    string `json:"ErrorCode,omitempty"`
	ErrorMessage string `json:"ErrorMessage,omitempty"`
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	if r.Method != http.MethodPost || r.URL.Path != "/" || !strings.HasPrefix(target, targetPrefix) {
		writeError(w, http.StatusBadRequest, "UnknownOperationException", "unknown operation "+target)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		writeError(w, http.StatusBadRequest, "SerializationException", "unexpected content type "+ct)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		writeError(w, http.StatusBadRequest, "MissingAuthenticationTokenException", "request is not signed")
		return
	}

	// Read the whole body first: only then does net/http watch the connection, so a client that gives up on a
	// delayed call cancels r.Context().
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "SerializationException", "read body: "+err.Error())
		return
	}

	s.mu.Lock()
	s.calls++
	var fault Fault
	if len(s.faults) > 0 {
		fault, s.faults = s.faults[0], s.faults[1:]
	}
	s.mu.Unlock()

	if fault.Delay > 0 {
		select {
		case <-time.After(fault.Delay):
		case <-r.Context().Done():
			return
		}
	}
	if fault.Reset {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
	}
	if fault.Status != 0 && !fault.StoreThenFail {
		writeError(w, fault.Status, fault.Code, "injected fault")
		return
	}

	var records []wireRecord
	var stream string
	batch := target == targetPrefix+"PutRecordBatch"
	switch target {
	case targetPrefix + "PutRecordBatch":
		var req putRecordBatchRequest
		if err := json.Unmarshal(body, &req); err != nil {
			writeError(w, http.StatusBadRequest, "SerializationException", err.Error())
			return
		}
		stream, records = req.DeliveryStreamName, req.Records
	case targetPrefix + "PutRecord":
		var req putRecordRequest
		if err := json.Unmarshal(body, &req); err != nil {
			writeError(w, http.StatusBadRequest, "SerializationException", err.Error())
			return
		}
		stream, records = req.DeliveryStreamName, []wireRecord{req.Record}
	default:
		writeError(w, http.StatusBadRequest, "UnknownOperationException", "unsupported operation "+target)
		return
	}

	data := make([][]byte, len(records))
	total := 0
	for i, rec := range records {
		b, err := base64.StdEncoding.DecodeString(rec.Data)
		if err != nil {
			writeError(w, http.StatusBadRequest, "SerializationException", fmt.Sprintf("record %d: Data is not base64", i))
			return
		}
		if len(b) > MaxRecordBytes {
			writeError(w, http.StatusBadRequest, "InvalidArgumentException", fmt.Sprintf("1 validation error detected: Value at 'records.%d.member.data' failed to satisfy constraint: Member must have length less than or equal to %d", i+1, MaxRecordBytes))
			return
		}
		data[i], total = b, total+len(b)
	}
	switch {
	case batch && (len(records) == 0 || len(records) > MaxBatchRecords):
		writeError(w, http.StatusBadRequest, "InvalidArgumentException", fmt.Sprintf("Records must hold 1 to %d records, got %d", MaxBatchRecords, len(records)))
		return
	case batch && total > MaxBatchBytes:
		writeError(w, http.StatusBadRequest, "InvalidArgumentException", fmt.Sprintf("batch of %d bytes exceeds %d bytes", total, MaxBatchBytes))
		return
	}

	failed := map[int]bool{}
	for _, i := range fault.FailRecords {
		failed[i] = true
	}
	s.mu.Lock()
	s.received += len(data)
	stored, known := s.streams[stream]
	if !known {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "ResourceNotFoundException", fmt.Sprintf("Firehose %s under account 123456789012 not found.", stream))
		return
	}
	entries := make([]responseEntry, len(data))
	failedCount := 0
	for i, b := range data {
		if failed[i] {
			failedCount++
			entries[i] = responseEntry{ErrorCode: "ServiceUnavailableException", ErrorMessage: "Slow down."}
			continue
		}
		stored = append(stored, b)
		s.nextID++
		entries[i] = responseEntry{RecordID: fmt.Sprintf("record-%08d", s.nextID)}
	}
	s.streams[stream] = stored
	s.mu.Unlock()

	if fault.StoreThenFail {
		writeError(w, fault.Status, fault.Code, "injected fault after storing")
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if fault.StoreThenCut {
		cutBody(w, map[string]any{"FailedPutCount": failedCount, "Encrypted": false, "RequestResponses": entries})
		return
	}
	if batch {
		_ = json.NewEncoder(w).Encode(map[string]any{"FailedPutCount": failedCount, "Encrypted": false, "RequestResponses": entries})
		return
	}
	if failedCount > 0 {
		writeError(w, http.StatusServiceUnavailable, "ServiceUnavailableException", "Slow down.")
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"RecordId": entries[0].RecordID, "Encrypted": false})
}

// cutBody announces the whole answer's length, sends half of it and closes the connection.
func cutBody(w http.ResponseWriter, answer any) {
	body, _ := json.Marshal(answer)
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body[:len(body)/2])
	if hj, ok := w.(http.Hijacker); ok {
		if conn, buf, err := hj.Hijack(); err == nil {
			_ = buf.Flush()
			conn.Close()
		}
	}
}

// writeError answers in awsJson1_1's error shape: the code in the body's __type and in X-Amzn-ErrorType.
func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": message})
}
