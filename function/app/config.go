package app

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/agent-audit/agent-audit/function/handler"
	"github.com/agent-audit/agent-audit/function/logfire"
)

// Model kinds accepted by AGENT_MODEL.
const (
	ModelBedrock = "bedrock"
	ModelOffline = "offline"
)

// Defaults of the settings below; the README's configuration table lists the same values.
const (
	DefaultAgentName = "agent-audit"
	// DefaultMaxTurns bounds model calls per run (8).
	DefaultMaxTurns = 8
	// DefaultOfflineModelName is the logical model name of the offline model in span names.
	DefaultOfflineModelName = "offline"
	// DefaultSystemPrompt is the system prompt when AGENT_SYSTEM_PROMPT is unset.
	DefaultSystemPrompt = "You are a concise, careful assistant. Use the tools you are given for arithmetic, " +
		"the current time and text statistics instead of guessing, and say briefly what you did."
)

// Config is the function's configuration. ConfigFromEnv reads it from the Lambda environment; the local CLI
// builds it from flags.
type Config struct {
	// Model is ModelBedrock (default) or ModelOffline.
	Model string
	// InferenceProfileARN is the Bedrock model id for Converse: the application inference profile ARN.
	InferenceProfileARN string
	// ModelName is the logical model name recorded in span names and gen_ai.request.model.
	ModelName string
	// AgentName names the agent: span "invoke_agent {AgentName}", gen_ai.agent.name.
	AgentName string
	// SystemPrompt is the agent's system prompt.
	SystemPrompt string
	// MaxTurns bounds model calls per run.
	MaxTurns int
	// MaxPromptBytes is the largest accepted prompt.
	MaxPromptBytes int
	// CaptureContent records prompts, outputs and tool arguments/results on spans (default true).
	CaptureContent bool
	// FailOpen answers "ok" even when the audit record could not be delivered (default false: fail closed).
	FailOpen bool
	// ShipReserve is the time kept before the Lambda deadline for shipping the trace.
	ShipReserve time.Duration
	// FirehoseStream is the audit delivery stream. Exactly one of FirehoseStream and LocalRoot is set.
	FirehoseStream string
	// LocalRoot is a directory receiving records in Firehose's S3 layout instead of a delivery stream. Oversize
	// content then goes under it too.
	LocalRoot string
	// OversizeBucket is the audit bucket that keeps the content of spans too large for a record (under
	// oversize/). Unset with a delivery stream, such a span fails its shipment.
	OversizeBucket string
	// S3ForcePathStyle addresses the oversize bucket path-style, for S3-compatible endpoints.
	S3ForcePathStyle bool
	// SigningKeyID is the KMS key (ARN) that certifies the container's sealing key (see package seal), and so
	// vouches for every record. At most one of SigningKeyID and SigningKeyFile is set; with neither, records are
	// not sealed.
	SigningKeyID string
	// SigningKeyFile is a PEM ECDSA P-256 private key that certifies the sealing key instead (offline runs);
	// created when absent.
	SigningKeyFile string
	// Logfire configures the optional live view; nil leaves it off (no exporter, no calls).
	Logfire *logfire.Config
}

// Environment variables read by ConfigFromEnv.
const (
	EnvModel               = "AGENT_MODEL"
	EnvInferenceProfileARN = "BEDROCK_INFERENCE_PROFILE_ARN"
	EnvModelID             = "BEDROCK_MODEL_ID"
	EnvAgentName           = "AGENT_NAME"
	EnvSystemPrompt        = "AGENT_SYSTEM_PROMPT"
	EnvMaxTurns            = "AGENT_MAX_TURNS"
	EnvMaxPromptBytes      = "AGENT_MAX_PROMPT_BYTES"
	EnvCaptureContent      = "AUDIT_CAPTURE_CONTENT"
	EnvFailOpen            = "AUDIT_FAIL_OPEN"
	EnvShipReserve         = "AUDIT_SHIP_RESERVE"
	EnvFirehoseStream      = "FIREHOSE_DELIVERY_STREAM"
	EnvLocalRoot           = "AUDIT_LOCAL_ROOT"
	EnvOversizeBucket      = "AUDIT_OVERSIZE_BUCKET"
	EnvS3ForcePathStyle    = "AUDIT_S3_FORCE_PATH_STYLE"
	EnvSigningKeyID        = "AUDIT_SIGNING_KEY_ID"
	EnvSigningKeyFile      = "AUDIT_SIGNING_KEY_FILE"
)

// DefaultConfig is the configuration with every default applied and no destination chosen.
func DefaultConfig() Config {
	return Config{
		Model:          ModelBedrock,
		AgentName:      DefaultAgentName,
		SystemPrompt:   DefaultSystemPrompt,
		MaxTurns:       DefaultMaxTurns,
		MaxPromptBytes: handler.DefaultMaxPromptBytes,
		CaptureContent: true,
		ShipReserve:    handler.DefaultShipReserve,
	}
}

// ConfigFromEnv reads the configuration through lookup (os.LookupEnv in the function) and validates it. It
// returns one error naming every bad or missing variable.
func ConfigFromEnv(lookup func(string) (string, bool)) (Config, error) {
	cfg := DefaultConfig()
	var errs []error
	str := func(name string, dst *string) {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			*dst = strings.TrimSpace(v)
		}
	}
	integer := func(name string, dst *int) {
		if v, ok := lookup(name); ok && v != "" {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a whole number", name, v))
				return
			}
			*dst = n
		}
	}
	boolean := func(name string, dst *bool) {
		if v, ok := lookup(name); ok && v != "" {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not true or false", name, v))
				return
			}
			*dst = b
		}
	}
	str(EnvModel, &cfg.Model)
	str(EnvInferenceProfileARN, &cfg.InferenceProfileARN)
	str(EnvModelID, &cfg.ModelName)
	str(EnvAgentName, &cfg.AgentName)
	if v, ok := lookup(EnvSystemPrompt); ok && v != "" {
		cfg.SystemPrompt = v
	}
	integer(EnvMaxTurns, &cfg.MaxTurns)
	integer(EnvMaxPromptBytes, &cfg.MaxPromptBytes)
	boolean(EnvCaptureContent, &cfg.CaptureContent)
	boolean(EnvFailOpen, &cfg.FailOpen)
	if v, ok := lookup(EnvShipReserve); ok && v != "" {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a duration such as 5s", EnvShipReserve, v))
		} else {
			cfg.ShipReserve = d
		}
	}
	str(EnvFirehoseStream, &cfg.FirehoseStream)
	str(EnvLocalRoot, &cfg.LocalRoot)
	str(EnvOversizeBucket, &cfg.OversizeBucket)
	boolean(EnvS3ForcePathStyle, &cfg.S3ForcePathStyle)
	str(EnvSigningKeyID, &cfg.SigningKeyID)
	str(EnvSigningKeyFile, &cfg.SigningKeyFile)
	if lf, wired, err := logfire.ConfigFromEnv(lookup); err != nil {
		errs = append(errs, err)
	} else if wired {
		cfg.Logfire = &lf
	}
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	return cfg, errors.Join(errs...)
}

// Validate checks the configuration and returns one error naming every bad setting by its environment variable.
func (c Config) Validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
	}
	switch c.Model {
	case ModelBedrock:
		if c.InferenceProfileARN == "" {
			bad(EnvInferenceProfileARN, "required when %s=%s", EnvModel, ModelBedrock)
		} else if !strings.HasPrefix(c.InferenceProfileARN, "arn:") {
			bad(EnvInferenceProfileARN, "%q is not an ARN", c.InferenceProfileARN)
		}
		if c.ModelName == "" {
			bad(EnvModelID, "required when %s=%s", EnvModel, ModelBedrock)
		}
	case ModelOffline:
	default:
		bad(EnvModel, "%q is not %s or %s", c.Model, ModelBedrock, ModelOffline)
	}
	if c.AgentName == "" {
		bad(EnvAgentName, "must not be empty")
	}
	if c.MaxTurns < 1 || c.MaxTurns > 100 {
		bad(EnvMaxTurns, "%d is outside 1..100", c.MaxTurns)
	}
	if c.MaxPromptBytes < 1 || c.MaxPromptBytes > 1<<20 {
		bad(EnvMaxPromptBytes, "%d is outside 1..1048576", c.MaxPromptBytes)
	}
	if c.ShipReserve < 100*time.Millisecond || c.ShipReserve > 5*time.Minute {
		bad(EnvShipReserve, "%s is outside 100ms..5m", c.ShipReserve)
	}
	switch {
	case c.FirehoseStream == "" && c.LocalRoot == "":
		bad(EnvFirehoseStream, "required (or %s for a local directory)", EnvLocalRoot)
	case c.FirehoseStream != "" && c.LocalRoot != "":
		bad(EnvFirehoseStream, "set together with %s; choose one destination", EnvLocalRoot)
	}
	if c.OversizeBucket != "" && c.LocalRoot != "" {
		bad(EnvOversizeBucket, "set together with %s, which keeps oversize content itself", EnvLocalRoot)
	}
	if c.SigningKeyID != "" && c.SigningKeyFile != "" {
		bad(EnvSigningKeyID, "set together with %s; choose one signing key", EnvSigningKeyFile)
	}
	return errors.Join(errs...)
}
