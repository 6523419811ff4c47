package telemetry

import (
	"os"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
)

// Defaults for a process that is not running in Lambda (the local CLI, tests).
const (
	DefaultServiceName    = "agent-audit"
	DefaultServiceVersion = "dev"
)

// ResourceConfig describes the function the spans come from.
type ResourceConfig struct {
	ServiceName, ServiceVersion string
	// FunctionName and FunctionVersion are the Lambda function's (faas.name, faas.version); empty locally.
	FunctionName, FunctionVersion string
	// Region is the AWS region (cloud.region); empty locally.
	Region string
}

// ResourceConfigFromEnv reads the variables Lambda sets (AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_VERSION,
// AWS_REGION). service.name is the function name in Lambda and DefaultServiceName elsewhere; OTEL_SERVICE_NAME
// overrides it, as in every OTel SDK.
func ResourceConfigFromEnv() ResourceConfig {
	cfg := ResourceConfig{
		ServiceName:     DefaultServiceName,
		ServiceVersion:  DefaultServiceVersion,
		FunctionName:    os.Getenv("AWS_LAMBDA_FUNCTION_NAME"),
		FunctionVersion: os.Getenv("AWS_LAMBDA_FUNCTION_VERSION"),
		Region:          os.Getenv("AWS_REGION"),
	}
	if cfg.FunctionName != "" {
		cfg.ServiceName = cfg.FunctionName
	}
	if cfg.FunctionVersion != "" {
		cfg.ServiceVersion = cfg.FunctionVersion
	}
	if v := os.Getenv("OTEL_SERVICE_NAME"); v != "" {
		cfg.ServiceName = v
	}
	return cfg
}

// Resource builds the resource: service.name, service.version, cloud.provider = aws, and cloud.region, faas.name,
// faas.version where known. It never merges in the SDK's default host/process detectors: the audit record
// describes the function, not the sandbox it happened to run in.
func Resource(cfg ResourceConfig) (*resource.Resource, error) {
	if cfg.ServiceName == "" {
		cfg.ServiceName = DefaultServiceName
	}
	attrs := []attribute.KeyValue{
		semconv.ServiceName(cfg.ServiceName),
		semconv.CloudProviderAWS,
	}
	if cfg.ServiceVersion != "" {
		attrs = append(attrs, semconv.ServiceVersion(cfg.ServiceVersion))
	}
	if cfg.Region != "" {
		attrs = append(attrs, semconv.CloudRegion(cfg.Region))
	}
	if cfg.FunctionName != "" {
		attrs = append(attrs, semconv.FaaSName(cfg.FunctionName))
	}
	if cfg.FunctionVersion != "" {
		attrs = append(attrs, semconv.FaaSVersion(cfg.FunctionVersion))
	}
	return resource.NewWithAttributes(semconv.SchemaURL, attrs...), nil
}
