package replay

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// The OTLP exporter's environment variables (OpenTelemetry specification, "OTLP Exporter Configuration"). Each
// has a signal-specific form (OTEL_EXPORTER_OTLP_TRACES_…) that wins over the general one.
const (
	EnvEndpoint          = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvTracesEndpoint    = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	EnvHeaders           = "OTEL_EXPORTER_OTLP_HEADERS"
	EnvTracesHeaders     = "OTEL_EXPORTER_OTLP_TRACES_HEADERS"
	EnvProtocol          = "OTEL_EXPORTER_OTLP_PROTOCOL"
	EnvTracesProtocol    = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	EnvTimeout           = "OTEL_EXPORTER_OTLP_TIMEOUT"
	EnvTracesTimeout     = "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"
	EnvCompression       = "OTEL_EXPORTER_OTLP_COMPRESSION"
	EnvTracesCompression = "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION"
	EnvCertificate       = "OTEL_EXPORTER_OTLP_CERTIFICATE"
	EnvTracesCertificate = "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE"
	EnvClientCertificate = "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"
	EnvTracesClientCert  = "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE"
	EnvClientKey         = "OTEL_EXPORTER_OTLP_CLIENT_KEY"
	EnvTracesClientKey   = "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY"
)

// DefaultEndpoint is the OTLP/HTTP base URL when none is configured (the specification's).
const DefaultEndpoint = "http://localhost:4318"

// TracesPath is appended to a base endpoint (OTEL_EXPORTER_OTLP_ENDPOINT) to reach the traces service.
const TracesPath = "v1/traces"

// ConfigFromEnv reads the exporter's configuration from the OTEL_EXPORTER_OTLP_* variables through lookup, as
// the OpenTelemetry SDKs do: the traces endpoint as given, or the base endpoint (default DefaultEndpoint) with
// /v1/traces appended; headers as comma-separated key=value pairs with percent-encoded values; the protocol
// (http/protobuf by default; grpc is refused); the timeout in milliseconds; gzip or none compression; and PEM
// files for the server's CA and a client certificate. Hand-written: the Go SDK's reader is internal to its
// exporters. The error names every bad variable and never repeats a header value.
func ConfigFromEnv(lookup func(string) (string, bool)) (ExporterConfig, error) {
	get := func(specific, general string) (string, string) {
		if v, ok := lookup(specific); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v), specific
		}
		v, _ := lookup(general)
		return strings.TrimSpace(v), general
	}
	var errs []error
	cfg := ExporterConfig{Protocol: ProtocolProtobuf}
	if v, _ := get(EnvTracesEndpoint, EnvTracesEndpoint); v != "" {
		cfg.Endpoint = v
	} else {
		base, _ := get(EnvEndpoint, EnvEndpoint)
		if base == "" {
			base = DefaultEndpoint
		}
		cfg.Endpoint = TracesURL(base)
	}
	if v, name := get(EnvTracesHeaders, EnvHeaders); v != "" {
		h, err := ParseHeaders(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		cfg.Headers = h
	}
	if v, name := get(EnvTracesProtocol, EnvProtocol); v != "" {
		switch Protocol(v) {
		case ProtocolProtobuf, ProtocolJSON:
			cfg.Protocol = Protocol(v)
		default:
			errs = append(errs, fmt.Errorf("%s: %q: want http/protobuf or http/json (grpc is not supported)", name, v))
		}
	}
	if v, name := get(EnvTracesTimeout, EnvTimeout); v != "" {
		ms, err := strconv.Atoi(v)
		if err != nil || ms < 0 {
			errs = append(errs, fmt.Errorf("%s: %q: want milliseconds", name, v))
		}
		cfg.Timeout = time.Duration(ms) * time.Millisecond
	}
	if v, name := get(EnvTracesCompression, EnvCompression); v != "" {
		switch v {
		case "gzip":
			cfg.Gzip = true
		case "none":
		default:
			errs = append(errs, fmt.Errorf("%s: %q: want gzip or none", name, v))
		}
	}
	tlsCfg, err := tlsFromEnv(get)
	if err != nil {
		errs = append(errs, err)
	}
	cfg.TLS = tlsCfg
	return cfg, errors.Join(errs...)
}

// TracesURL is the traces URL under an OTLP/HTTP base endpoint: base with /v1/traces appended to its path.
func TracesURL(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return strings.TrimRight(base, "/") + "/" + TracesPath
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/" + TracesPath
	return u.String()
}

// ParseHeaders reads headers in the OTEL_EXPORTER_OTLP_HEADERS form: key=value pairs separated by commas,
// values percent-decoded, blanks around each trimmed. The error names the pair by position, never its value.
func ParseHeaders(s string) (map[string]string, error) {
	out := map[string]string{}
	var errs []error
	for i, pair := range strings.Split(s, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			errs = append(errs, fmt.Errorf("pair %d: want key=value", i+1))
			continue
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			errs = append(errs, fmt.Errorf("header %s: the value is not percent-encoded correctly", k))
			continue
		}
		out[k] = dv
	}
	return out, errors.Join(errs...)
}

// tlsFromEnv builds the TLS configuration from the certificate variables; nil when none is set.
func tlsFromEnv(get func(specific, general string) (string, string)) (*tls.Config, error) {
	ca, caName := get(EnvTracesCertificate, EnvCertificate)
	cert, certName := get(EnvTracesClientCert, EnvClientCertificate)
	key, keyName := get(EnvTracesClientKey, EnvClientKey)
	if ca == "" && cert == "" && key == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", caName, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: %s holds no PEM certificate", caName, ca)
		}
		cfg.RootCAs = pool
	}
	if (cert == "") != (key == "") {
		return nil, fmt.Errorf("%s and %s: set both or neither", certName, keyName)
	}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("%s and %s: %w", certName, keyName, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}
