package telemetry

import (
	"testing"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
)

func TestResourceConfigFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want ResourceConfig
	}{
		{
			name: "outside Lambda the local defaults apply",
			env:  map[string]string{},
			want: ResourceConfig{ServiceName: DefaultServiceName, ServiceVersion: DefaultServiceVersion},
		},
		{
			name: "in Lambda the function names the service and its version",
			env:  map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "agent-audit-fn", "AWS_LAMBDA_FUNCTION_VERSION": "7", "AWS_REGION": "eu-west-1"},
			want: ResourceConfig{ServiceName: "agent-audit-fn", ServiceVersion: "7", FunctionName: "agent-audit-fn", FunctionVersion: "7", Region: "eu-west-1"},
		},
		{
			name: "OTEL_SERVICE_NAME overrides the service name only",
			env:  map[string]string{"AWS_LAMBDA_FUNCTION_NAME": "agent-audit-fn", "OTEL_SERVICE_NAME": "auditor"},
			want: ResourceConfig{ServiceName: "auditor", ServiceVersion: DefaultServiceVersion, FunctionName: "agent-audit-fn"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_REGION", "OTEL_SERVICE_NAME"} {
				t.Setenv(k, tt.env[k])
			}
			if got := ResourceConfigFromEnv(); got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestResource(t *testing.T) {
	tests := []struct {
		name string
		cfg  ResourceConfig
		want map[attribute.Key]string
	}{
		{
			name: "a Lambda function is described by service, cloud and faas attributes",
			cfg:  ResourceConfig{ServiceName: "fn", ServiceVersion: "7", FunctionName: "fn", FunctionVersion: "7", Region: "eu-west-1"},
			want: map[attribute.Key]string{
				semconv.ServiceNameKey: "fn", semconv.ServiceVersionKey: "7", semconv.CloudProviderKey: "aws",
				semconv.CloudRegionKey: "eu-west-1", semconv.FaaSNameKey: "fn", semconv.FaaSVersionKey: "7",
			},
		},
		{
			name: "a local process leaves out what it does not know",
			cfg:  ResourceConfig{},
			want: map[attribute.Key]string{semconv.ServiceNameKey: DefaultServiceName, semconv.CloudProviderKey: "aws"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Resource(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			got := map[attribute.Key]string{}
			for _, kv := range res.Attributes() {
				got[kv.Key] = kv.Value.Emit()
			}
			if len(got) != len(tt.want) {
				t.Errorf("attributes %v, want exactly %v (no host or process detectors)", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			if res.SchemaURL() != semconv.SchemaURL {
				t.Errorf("schema URL %q", res.SchemaURL())
			}
		})
	}
}
