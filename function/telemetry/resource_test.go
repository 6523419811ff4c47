package telemetry

import (
	"testing"

	"go.opentelemetry.io/otel/attribute"
)

func TestResourceDescribesTheFunction(t *testing.T) {
	t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "agent-audit-dev")
	t.Setenv("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("OTEL_SERVICE_NAME", "")
	res, err := Resource(ResourceConfigFromEnv())
	if err != nil {
		t.Fatal(err)
	}
	want := map[attribute.Key]string{
		"service.name": "agent-audit-dev", "service.version": "$LATEST", "cloud.provider": "aws",
		"cloud.region": "eu-west-1", "faas.name": "agent-audit-dev", "faas.version": "$LATEST",
	}
	got := map[attribute.Key]string{}
	for _, kv := range res.Attributes() {
		got[kv.Key] = kv.Value.Emit()
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("resource has extra attributes (host or process detectors?): %v", got)
	}
}

func TestResourceOutsideLambda(t *testing.T) {
	for _, k := range []string{"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_REGION", "OTEL_SERVICE_NAME"} {
		t.Setenv(k, "")
	}
	res, _ := Resource(ResourceConfigFromEnv())
	got := map[attribute.Key]string{}
	for _, kv := range res.Attributes() {
		got[kv.Key] = kv.Value.Emit()
	}
	if got["service.name"] != DefaultServiceName || got["faas.name"] != "" || got["cloud.region"] != "" {
		t.Fatalf("local resource %v", got)
	}
}
