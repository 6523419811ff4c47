package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestTheBootstrapLinksNoColdStartWeight lists what the function links, built as shipped, and refuses the packages
// whose initialisation or size docs/performance.md measured and removed: each runs on every cold start whether or
// not the configuration uses it.
func TestTheBootstrapLinksNoColdStartWeight(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	refused := map[string]string{
		"github.com/aws/aws-sdk-go-v2/config":                             "the default loader: use package awsenv",
		"github.com/aws/aws-sdk-go-v2/service/sts":                        "a credential source Lambda never uses",
		"github.com/aws/aws-sdk-go-v2/service/sso":                        "a credential source Lambda never uses",
		"github.com/aws/aws-sdk-go-v2/service/ssooidc":                    "a credential source Lambda never uses",
		"github.com/aws/aws-sdk-go-v2/service/signin":                     "a credential source Lambda never uses",
		"github.com/aws/aws-sdk-go-v2/feature/ec2/imds":                   "a credential source Lambda never uses",
		"github.com/aws/aws-sdk-go-v2/service/ssm":                        "one GetParameter call: logfire.SSMClient",
		"github.com/aws/aws-sdk-go-v2/service/kms":                        "two calls per container: awsjson.KMS",
		"github.com/aws/aws-sdk-go-v2/service/firehose":                   "one call per batch: awsjson.Firehose",
		"github.com/aws/aws-sdk-go-v2/service/bedrockruntime":             "one operation, Converse: awsjson.BedrockRuntime",
		"github.com/aws/aws-sdk-go-v2/service/s3":                         "one PutObject per oversize content: awss3.Client",
		"google.golang.org/grpc":                                          "gRPC is never spoken",
		"html/template":                                                   "its reflection keeps every method of every type",
		"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp": "links gRPC: logfire's own client",
		"go.opentelemetry.io/proto/otlp/collector/trace/v1":               "links gRPC's service stubs: TracesData has the same wire form",
		"github.com/grpc-ecosystem/grpc-gateway/v2/runtime":               "links gRPC",
	}
	for _, pkg := range strings.Fields(string(out)) {
		if why, ok := refused[pkg]; ok {
			t.Errorf("the function links %s (%s)", pkg, why)
		}
	}
}
