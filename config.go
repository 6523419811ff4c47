package agentaudit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/agent-audit/agent-audit/agentenv"
	"github.com/agent-audit/agent-audit/function/logfire"
)

// Model kinds accepted by AGENT_MODEL.
const (
	ModelBedrock = agentenv.ModelBedrock
	ModelOffline = agentenv.ModelOffline
)

// Defaults of the settings below; the README's configuration table lists the same values.
const (
	// DefaultAgentName is the agent's name when neither AGENT_NAME nor WithAgentName names it.
	DefaultAgentName = agentenv.DefaultAgentName
	// DefaultMaxTurns bounds model calls per run (8).
	DefaultMaxTurns = agentenv.DefaultMaxTurns
	// DefaultOfflineModelName is the logical model name of the offline model in span names.
	DefaultOfflineModelName = "offline"
)

// Config is the deploy-time configuration: what the environment contract (package agentenv, the README's table)
// carries. ConfigFromEnv reads it from the Lambda environment; the local CLI builds it from flags. The agent's
// own settings (its tools, and the defaults of its name, prompt and model) come from Options in code; a field
// set here overrides the Option's value, so a deployment can change them without a rebuild.
type Config struct {
	// Model is ModelBedrock (default) or ModelOffline.
	Model string
	// InferenceProfileARN is the Bedrock model id for Converse: the application inference profile ARN. Empty:
	// WithModelSettings's.
	InferenceProfileARN string
	// ModelName is the logical model name recorded in span names and gen_ai.request.model. Empty:
	// WithModelSettings's, else DefaultOfflineModelName for the offline model.
	ModelName string
	// AgentName names the agent: span "invoke_agent {AgentName}", gen_ai.agent.name. Empty: WithAgentName's,
	// else DefaultAgentName.
	AgentName string
	// SystemPrompt is the agent's system prompt. Empty: WithSystemPrompt's, else none.
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

// DefaultConfig is the configuration with every default applied, no destination chosen, and the agent's name,
// prompt and model left to the Options.
func DefaultConfig() Config {
	return Config{
		Model:          ModelBedrock,
		MaxTurns:       DefaultMaxTurns,
		MaxPromptBytes: agentenv.DefaultMaxPromptBytes,
		CaptureContent: true,
		ShipReserve:    agentenv.DefaultShipReserve,
	}
}

// ConfigFromEnv reads the configuration through lookup (os.LookupEnv in the function) and validates it as a
// complete configuration: one that names its model and destination itself, as the AgentFunction component's
// environment does. It returns one error naming every bad or missing variable.
func ConfigFromEnv(lookup func(string) (string, bool)) (Config, error) {
	cfg, err := readEnv(lookup)
	return cfg, errors.Join(err, cfg.Validate())
}

// readEnv reads the configuration through lookup and checks each variable's syntax; the error names every
// variable that does not parse. Start validates the result with its Options in New, since an Option may supply
// what a variable would (a model, a sink).
func readEnv(lookup func(string) (string, bool)) (Config, error) {
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
	str(agentenv.Model, &cfg.Model)
	str(agentenv.InferenceProfileARN, &cfg.InferenceProfileARN)
	str(agentenv.ModelID, &cfg.ModelName)
	str(agentenv.AgentName, &cfg.AgentName)
	if v, ok := lookup(agentenv.SystemPrompt); ok && v != "" {
		cfg.SystemPrompt = v
	}
	integer(agentenv.MaxTurns, &cfg.MaxTurns)
	integer(agentenv.MaxPromptBytes, &cfg.MaxPromptBytes)
	boolean(agentenv.CaptureContent, &cfg.CaptureContent)
	boolean(agentenv.FailOpen, &cfg.FailOpen)
	if v, ok := lookup(agentenv.ShipReserve); ok && v != "" {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a duration such as 5s", agentenv.ShipReserve, v))
		} else {
			cfg.ShipReserve = d
		}
	}
	str(agentenv.FirehoseStream, &cfg.FirehoseStream)
	str(agentenv.LocalRoot, &cfg.LocalRoot)
	str(agentenv.OversizeBucket, &cfg.OversizeBucket)
	boolean(agentenv.S3ForcePathStyle, &cfg.S3ForcePathStyle)
	str(agentenv.SigningKeyID, &cfg.SigningKeyID)
	str(agentenv.SigningKeyFile, &cfg.SigningKeyFile)
	if lf, wired, err := logfire.ConfigFromEnv(lookup); err != nil {
		errs = append(errs, err)
	} else if wired {
		cfg.Logfire = &lf
	}
	return cfg, errors.Join(errs...)
}

// parts says which parts of the function an Option supplies instead of the configuration; validate leaves the
// settings of those parts alone.
type parts struct {
	// model: WithModel; sink: WithSink.
	model, sink bool
}

// Validate checks a complete configuration, one that names its own model and destination, and returns one error
// naming every bad setting by its environment variable.
func (c Config) Validate() error { return c.validate(parts{}) }

// validate checks c, except for what p says Options supply.
func (c Config) validate(p parts) error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
	}
	switch c.Model {
	case ModelBedrock:
		if p.model {
			break
		}
		if c.InferenceProfileARN == "" {
			bad(agentenv.InferenceProfileARN, "required when %s=%s (or ModelSettings.InferenceProfileARN)", agentenv.Model, ModelBedrock)
		} else if !strings.HasPrefix(c.InferenceProfileARN, "arn:") {
			bad(agentenv.InferenceProfileARN, "%q is not an ARN", c.InferenceProfileARN)
		}
		if c.ModelName == "" {
			bad(agentenv.ModelID, "required when %s=%s (or ModelSettings.ModelName)", agentenv.Model, ModelBedrock)
		}
	case ModelOffline:
	default:
		bad(agentenv.Model, "%q is not %s or %s", c.Model, ModelBedrock, ModelOffline)
	}
	if c.MaxTurns < 1 || c.MaxTurns > 100 {
		bad(agentenv.MaxTurns, "%d is outside 1..100", c.MaxTurns)
	}
	if c.MaxPromptBytes < 1 || c.MaxPromptBytes > 1<<20 {
		bad(agentenv.MaxPromptBytes, "%d is outside 1..1048576", c.MaxPromptBytes)
	}
	if c.ShipReserve < 100*time.Millisecond || c.ShipReserve > 5*time.Minute {
		bad(agentenv.ShipReserve, "%s is outside 100ms..5m", c.ShipReserve)
	}
	switch {
	case c.FirehoseStream != "" && c.LocalRoot != "":
		bad(agentenv.FirehoseStream, "set together with %s; choose one destination", agentenv.LocalRoot)
	case c.FirehoseStream == "" && c.LocalRoot == "" && !p.sink:
		bad(agentenv.FirehoseStream, "required (or %s for a local directory)", agentenv.LocalRoot)
	}
	if c.OversizeBucket != "" && c.LocalRoot != "" {
		bad(agentenv.OversizeBucket, "set together with %s, which keeps oversize content itself", agentenv.LocalRoot)
	}
	if c.SigningKeyID != "" && c.SigningKeyFile != "" {
		bad(agentenv.SigningKeyID, "set together with %s; choose one signing key", agentenv.SigningKeyFile)
	}
	return errors.Join(errs...)
}
