package replay

import (
	"maps"
	"strings"
	"testing"
	"time"
)

func TestConfigFromEnvReadsTheStandardVariables(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		want ExporterConfig
	}{
		{"nothing set: the specification's default endpoint", nil,
			ExporterConfig{Endpoint: "http://localhost:4318/v1/traces", Protocol: ProtocolProtobuf}},
		{"a base endpoint gets /v1/traces", map[string]string{EnvEndpoint: "https://otel.example:4318/base/"},
			ExporterConfig{Endpoint: "https://otel.example:4318/base/v1/traces", Protocol: ProtocolProtobuf}},
		{"the traces endpoint is used as given and wins", map[string]string{EnvEndpoint: "http://a:4318", EnvTracesEndpoint: "http://b:4318/custom"},
			ExporterConfig{Endpoint: "http://b:4318/custom", Protocol: ProtocolProtobuf}},
		{"headers are percent-decoded and the traces form wins",
			map[string]string{EnvHeaders: "x=1", EnvTracesHeaders: "Authorization=Bearer%20abc , x-team = audit"},
			ExporterConfig{Endpoint: "http://localhost:4318/v1/traces", Protocol: ProtocolProtobuf, Headers: map[string]string{"Authorization": "Bearer abc", "x-team": "audit"}}},
		{"protocol, timeout in milliseconds and gzip",
			map[string]string{EnvProtocol: "http/json", EnvTracesTimeout: "2500", EnvCompression: "gzip"},
			ExporterConfig{Endpoint: "http://localhost:4318/v1/traces", Protocol: ProtocolJSON, Timeout: 2500 * time.Millisecond, Gzip: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConfigFromEnv(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if err != nil {
				t.Fatal(err)
			}
			if got.Endpoint != tt.want.Endpoint || got.Protocol != tt.want.Protocol || got.Timeout != tt.want.Timeout ||
				got.Gzip != tt.want.Gzip || !maps.Equal(got.Headers, tt.want.Headers) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestConfigFromEnvNamesEveryBadVariableAndNoHeaderValue(t *testing.T) {
	env := map[string]string{
		EnvProtocol:        "grpc",
		EnvTimeout:         "soon",
		EnvCompression:     "zstd",
		EnvHeaders:         "Authorization=s3cr3t%zz,novalue",
		EnvClientKey:       "/tmp/key.pem",
		EnvTracesTimeout:   "",
		EnvTracesEndpoint:  "",
		EnvTracesProtocol:  "",
		EnvTracesHeaders:   "",
		EnvTracesClientKey: "",
	}
	_, err := ConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{EnvProtocol, EnvTimeout, EnvCompression, EnvHeaders, "pair 2", EnvClientKey} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error %q repeats a header value", err)
	}
}
