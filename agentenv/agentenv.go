// Package agentenv is the audited agent function's environment contract: the names of the variables the runtime
// (package agentaudit) reads, and the defaults the deploying side (components.AgentFunction, the stack, the
// `audit` CLI) and the runtime share. It is the one place a name is spelled; the component writes these names,
// the runtime's ConfigFromEnv reads them, the end-to-end tests and the CLI use them. It imports nothing, so any
// of them can depend on it.
//
// Stable API: every constant here. Removing or renaming one is a breaking change of the deployed contract, since
// a function built from one version may be configured by a component of another.
package agentenv

import "time"

// The agent and its model.
const (
	// Model selects the model kind: ModelBedrock (default) or ModelOffline.
	Model = "AGENT_MODEL"
	// InferenceProfileARN is the Bedrock application inference profile ARN, the Converse model id.
	InferenceProfileARN = "BEDROCK_INFERENCE_PROFILE_ARN"
	// ModelID is the logical model name recorded in span names and gen_ai.request.model.
	ModelID = "BEDROCK_MODEL_ID"
	// AgentName names the agent: span "invoke_agent {name}", gen_ai.agent.name.
	AgentName = "AGENT_NAME"
	// SystemPrompt is the agent's system prompt.
	SystemPrompt = "AGENT_SYSTEM_PROMPT"
	// MaxTurns bounds model calls per run (1..100).
	MaxTurns = "AGENT_MAX_TURNS"
	// MaxPromptBytes is the largest accepted prompt in bytes (1..1048576).
	MaxPromptBytes = "AGENT_MAX_PROMPT_BYTES"
)

// The audit trail.
const (
	// CaptureContent records prompts, outputs and tool arguments and results (true or false; default true).
	CaptureContent = "AUDIT_CAPTURE_CONTENT"
	// FailOpen answers "ok" even when the audit record could not be delivered (default false).
	FailOpen = "AUDIT_FAIL_OPEN"
	// ShipReserve is the time kept before the Lambda deadline to ship the trace, a Go duration (100ms..5m).
	ShipReserve = "AUDIT_SHIP_RESERVE"
	// FirehoseStream is the audit delivery stream's name. Exactly one of FirehoseStream and LocalRoot is set.
	FirehoseStream = "FIREHOSE_DELIVERY_STREAM"
	// LocalRoot is a directory receiving records in Firehose's S3 layout instead of a delivery stream.
	LocalRoot = "AUDIT_LOCAL_ROOT"
	// OversizeBucket is the audit bucket receiving, under OversizePrefix, content too large for a record.
	OversizeBucket = "AUDIT_OVERSIZE_BUCKET"
	// S3ForcePathStyle addresses S3 path-style, for S3-compatible endpoints (true or false).
	S3ForcePathStyle = "AUDIT_S3_FORCE_PATH_STYLE"
	// SigningKeyID is the KMS key (ARN) certifying each container's sealing key.
	SigningKeyID = "AUDIT_SIGNING_KEY_ID"
	// SigningKeyFile is a local PEM ECDSA P-256 key certifying the sealing key instead (offline runs).
	SigningKeyFile = "AUDIT_SIGNING_KEY_FILE"
)

// The optional Logfire live view (read by function/logfire).
const (
	// LogfireTokenParameter is the SSM parameter holding the Logfire write token; unset leaves the view off.
	LogfireTokenParameter = "LOGFIRE_TOKEN_PARAMETER"
	// ExtensionHTTPPort is the Parameters and Secrets extension's port; set, the token is read through it.
	ExtensionHTTPPort = "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"
	// ExtensionCacheSize is the extension's cache size (the extension reads it; the function does not).
	ExtensionCacheSize = "PARAMETERS_SECRETS_EXTENSION_CACHE_SIZE"
	// LogfireBaseURL overrides the Logfire endpoint derived from the token.
	LogfireBaseURL = "LOGFIRE_BASE_URL"
	// LogfireSampleRatio is the share of traces sent to Logfire, 0..1.
	LogfireSampleRatio = "LOGFIRE_SAMPLE_RATIO"
	// LogfireScrub redacts GenAI content and secret-looking values in the Logfire copy (true or false).
	LogfireScrub = "LOGFIRE_SCRUB"
	// LogfireFlushTimeout bounds the Logfire export at the end of an invocation, a Go duration (1ms..1m).
	LogfireFlushTimeout = "LOGFIRE_FLUSH_TIMEOUT"
)

// Values of Model.
const (
	ModelBedrock = "bedrock"
	ModelOffline = "offline"
)

// Shared defaults. The README's configuration table lists the same values.
const (
	// DefaultAgentName is the agent's name when neither AgentName nor the function's code names it.
	DefaultAgentName = "agent-audit"
	// DefaultMaxTurns bounds model calls per run (8).
	DefaultMaxTurns = 8
	// DefaultMaxPromptBytes is the largest accepted prompt (32 KiB).
	DefaultMaxPromptBytes = 32 * 1024
	// DefaultShipReserve is kept before the Lambda deadline to ship the trace (5 s).
	DefaultShipReserve = 5 * time.Second
	// DefaultExtensionHTTPPort is the Parameters and Secrets extension's port when its layer is attached (2773).
	DefaultExtensionHTTPPort = 2773
	// OversizePrefix is the key prefix of oversize content in the audit bucket, the only prefix the function
	// writes.
	OversizePrefix = "oversize/"
)

// All lists every variable the runtime reads, in the README's order (for tests that check the contract
// end to end, and for docs).
func All() []string {
	return []string{
		FirehoseStream, LocalRoot, Model, InferenceProfileARN, ModelID, AgentName, SystemPrompt, MaxTurns,
		MaxPromptBytes, CaptureContent, FailOpen, OversizeBucket, SigningKeyID, SigningKeyFile, S3ForcePathStyle,
		ShipReserve, LogfireTokenParameter, ExtensionHTTPPort, LogfireBaseURL, LogfireSampleRatio, LogfireScrub,
		LogfireFlushTimeout,
	}
}
