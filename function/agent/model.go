package agent

import (
	"context"

	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
)

// providerAWSBedrock is gen_ai.provider.name for Bedrock.
var providerAWSBedrock = semconv.GenAIProviderNameAWSBedrock.Value.AsString()

// OfflineProviderName is gen_ai.provider.name for the offline model. It is no provider on the GenAI semconv's
// list of well-known values, so it reports a custom value, as the semconv allows for such a provider; a
// well-known value (aws.bedrock) would tell a backend to read its spans as that provider's, which they are not.
const OfflineProviderName = "agent_audit.offline"

// Model is a chat model the agent can call. Implementations: BedrockModel (Amazon Bedrock Converse) and
// OfflineModel (deterministic, scriptable, no network). Converse must be safe for concurrent use.
type Model interface {
	// Name is the logical model name: span "chat {Name}" and gen_ai.request.model.
	Name() string
	// Provider is gen_ai.provider.name.
	Provider() string
	// Converse makes one model call. Errors keep the provider's error code (a smithy.APIError for AWS).
	Converse(ctx context.Context, req Request) (Response, error)
}
