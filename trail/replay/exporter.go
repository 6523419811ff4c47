package replay

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/klauspost/compress/gzip"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// Protocol is an OTLP/HTTP encoding, named as OTEL_EXPORTER_OTLP_PROTOCOL names it.
type Protocol string

// The OTLP/HTTP encodings.
const (
	ProtocolProtobuf Protocol = "http/protobuf"
	ProtocolJSON     Protocol = "http/json"
)

// Defaults of ExporterConfig, as the OTLP exporter specification gives them where it does.
const (
	// DefaultTimeout bounds one request (the specification's 10 s).
	DefaultTimeout = 10 * time.Second
	// DefaultMaxElapsed bounds the retries of one request, waits included (1 min, as the Go SDK's exporter).
	DefaultMaxElapsed = time.Minute
	// maxAnswerBytes bounds what is read of an answer.
	maxAnswerBytes = 1 << 20
	// maxMessageRunes bounds how much of a server's error message an error repeats.
	maxMessageRunes = 300
)

// ExporterConfig says where and how an Exporter sends.
type ExporterConfig struct {
	// Endpoint is the full URL requests are POSTed to, path included (http://localhost:4318/v1/traces).
	Endpoint string
	// Protocol is ProtocolProtobuf (default) or ProtocolJSON.
	Protocol Protocol
	// Headers are sent with every request. Their values are secrets to the Exporter: no error repeats a value
	// of 4 bytes or more (shorter ones would blank unrelated text, and no credential is that short).
	Headers map[string]string
	// Gzip compresses request bodies (Content-Encoding: gzip).
	Gzip bool
	// Timeout bounds one attempt (default DefaultTimeout).
	Timeout time.Duration
	// MaxElapsed bounds the retries of one request, waits included (default DefaultMaxElapsed).
	MaxElapsed time.Duration
	// TLS configures https endpoints (nil: the system's roots).
	TLS *tls.Config
	// InitialBackoff is the first retry's wait before jitter (default DefaultInitialBackoff).
	InitialBackoff time.Duration
}

// The backoff between retries, as the Go SDK's OTLP exporter has it: 5 s first, growing 1.5 times per retry
// with ±50 % jitter, to at most 30 s.
const (
	DefaultInitialBackoff = 5 * time.Second
	maxBackoff            = 30 * time.Second
)

// Exporter sends traces over OTLP/HTTP. Safe for concurrent use.
type Exporter struct {
	cfg    ExporterConfig
	client *http.Client
}

// NewExporter checks cfg and returns an Exporter. The error names every bad setting.
func NewExporter(cfg ExporterConfig) (*Exporter, error) {
	var errs []error
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("OTLP endpoint %q: want an http or https URL", redactURL(cfg.Endpoint)))
	}
	switch cfg.Protocol {
	case "":
		cfg.Protocol = ProtocolProtobuf
	case ProtocolProtobuf, ProtocolJSON:
	default:
		errs = append(errs, fmt.Errorf("OTLP protocol %q: want http/protobuf or http/json (grpc is not supported)", cfg.Protocol))
	}
	if cfg.Timeout < 0 || cfg.MaxElapsed < 0 || cfg.InitialBackoff < 0 {
		errs = append(errs, errors.New("OTLP timeouts: want durations of 0 or more"))
	}
	for k := range cfg.Headers {
		if k == "" || strings.ContainsAny(k, " \t\r\n:") {
			errs = append(errs, fmt.Errorf("OTLP header name %q: not a header name", k))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxElapsed == 0 {
		cfg.MaxElapsed = DefaultMaxElapsed
	}
	if cfg.InitialBackoff == 0 {
		cfg.InitialBackoff = DefaultInitialBackoff
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = cfg.TLS
	return &Exporter{cfg: cfg, client: &http.Client{Transport: tr}}, nil
}

// Endpoint is the URL requests go to, for display: without user information or query, which may hold
// credentials.
func (e *Exporter) Endpoint() string { return redactURL(e.cfg.Endpoint) }

// Protocol is the encoding requests use.
func (e *Exporter) Protocol() Protocol { return e.cfg.Protocol }

// Result is what one Export delivered.
type Result struct {
	// Bytes is the size of the request body as sent (compressed, when it was).
	Bytes int
	// Attempts is how many times the request was sent.
	Attempts int
	// Rejected is the number of spans the server answered it rejected (a partial success); RejectedMessage
	// its message.
	Rejected        int64
	RejectedMessage string
}

// ErrRejected is wrapped by the error Export returns when the server accepted the request but rejected spans.
var ErrRejected = errors.New("spans rejected")

// Export sends td as one request and waits for the answer. It retries what the OTLP specification calls
// retryable (HTTP 429, 502, 503, 504, and transport errors) with exponential backoff and jitter, waiting as long
// as a Retry-After header says when there is one, until MaxElapsed or ctx ends; any other answer but 2xx fails at
// once. A 2xx answer with a partial success returns an error wrapping ErrRejected, with the Result saying how
// many spans. Errors never repeat a header value.
func (e *Exporter) Export(ctx context.Context, td ptrace.Traces) (Result, error) {
	body, err := e.encode(td)
	if err != nil {
		return Result{}, err
	}
	res := Result{Bytes: len(body)}
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = e.cfg.InitialBackoff
	b.MaxInterval = maxBackoff
	got, err := backoff.Retry(ctx, func() (answer, error) {
		res.Attempts++
		return e.attempt(ctx, body)
	}, backoff.WithBackOff(b), backoff.WithMaxElapsedTime(e.cfg.MaxElapsed))
	if err != nil {
		return res, fmt.Errorf("export to %s after %d attempts: %w", redactURL(e.cfg.Endpoint), res.Attempts, err)
	}
	if ps := partialSuccess(got); ps.RejectedSpans() > 0 {
		res.Rejected, res.RejectedMessage = ps.RejectedSpans(), e.scrub(ps.ErrorMessage())
		return res, fmt.Errorf("export to %s: partial success: %d of %d spans rejected: %s: %w",
			redactURL(e.cfg.Endpoint), ps.RejectedSpans(), td.SpanCount(), res.RejectedMessage, ErrRejected)
	}
	return res, nil
}

// encode marshals and compresses a request body.
func (e *Exporter) encode(td ptrace.Traces) ([]byte, error) {
	req := ptraceotlp.NewExportRequestFromTraces(td)
	var body []byte
	var err error
	if e.cfg.Protocol == ProtocolJSON {
		body, err = req.MarshalJSON()
	} else {
		body, err = req.MarshalProto()
	}
	if err != nil {
		return nil, fmt.Errorf("encode the export request: %w", err)
	}
	if !e.cfg.Gzip {
		return body, nil
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(body); err != nil {
		return nil, fmt.Errorf("compress the export request: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress the export request: %w", err)
	}
	return buf.Bytes(), nil
}

// answer is a 2xx answer's body and content type.
type answer struct {
	body        []byte
	contentType string
}

// partialSuccess reads the partial success of a 2xx answer, in the encoding its Content-Type names. A body that
// is not an ExportTraceServiceResponse (some servers answer 2xx with an empty or plain body) says nothing was
// rejected: the status accepted the request, and only a partial success can take that back.
func partialSuccess(a answer) ptraceotlp.ExportPartialSuccess {
	resp := ptraceotlp.NewExportResponse()
	var err error
	if strings.HasPrefix(a.contentType, "application/json") {
		err = resp.UnmarshalJSON(a.body)
	} else {
		err = resp.UnmarshalProto(a.body)
	}
	if err != nil {
		return ptraceotlp.NewExportResponse().PartialSuccess()
	}
	return resp.PartialSuccess()
}

// attempt sends body once. A retryable failure is returned as is (or wrapping a backoff.RetryAfterError), any
// other as a backoff.Permanent error.
func (e *Exporter) attempt(ctx context.Context, body []byte) (answer, error) {
	actx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, e.cfg.Endpoint, bytes.NewReader(body))
	if err != nil {
		return answer{}, backoff.Permanent(fmt.Errorf("build the request: %w", err))
	}
	for k, v := range e.cfg.Headers {
		req.Header.Set(k, v)
	}
	if e.cfg.Protocol == ProtocolJSON {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Header.Set("Content-Type", "application/x-protobuf")
	}
	if e.cfg.Gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := e.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return answer{}, backoff.Permanent(ctx.Err())
		}
		return answer{}, errors.New(e.scrub(err.Error())) // connection refused, reset, attempt timed out: retryable
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return answer{}, fmt.Errorf("read the answer: %s", e.scrub(err.Error()))
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return answer{body: got, contentType: resp.Header.Get("Content-Type")}, nil
	}
	failed := fmt.Errorf("HTTP %d: %s", resp.StatusCode, e.message(got))
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return answer{}, fmt.Errorf("%w: %w", failed, &backoff.RetryAfterError{Duration: d})
		}
		return answer{}, failed
	}
	return answer{}, backoff.Permanent(failed)
}

// retryAfter reads a Retry-After value: delay seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}

// message is a short, printable form of a failed answer's body, with header values removed.
func (e *Exporter) message(answer []byte) string {
	s := strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(string(answer), "?"))
	s = e.scrub(strings.TrimSpace(s))
	if r := []rune(s); len(r) > maxMessageRunes {
		s = string(r[:maxMessageRunes]) + "…"
	}
	if s == "" {
		return "no message"
	}
	return s
}

// scrub removes every header value from s: a server, or a proxy before it, may echo a request's headers.
func (e *Exporter) scrub(s string) string {
	for _, v := range e.cfg.Headers {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}

// redactURL drops user information and the query from a URL for messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an unparsable URL)"
	}
	u.User, u.RawQuery = nil, ""
	return u.String()
}
