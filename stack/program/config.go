package program

import (
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/agent-audit/agent-audit/components"
)

// Namespace is the project's configuration namespace (the project name in Pulumi.yaml).
const Namespace = "agent-audit"

// Config is the stack's configuration, read and validated from `pulumi config`. Every key, its default and its
// meaning is listed in the README and in Pulumi.dev.yaml.
type Config struct {
	AuditRetentionDays int
	ObjectLockMode     string
	ForceDestroy       bool
	// BreakGlassRoleARN is the one role that may bypass governance retention, change the lock, and delete or
	// disable the audit and signing keys; empty means nobody may.
	BreakGlassRoleARN        string
	AlertEmail               string
	DailyTokenAlarmThreshold int
	// LogfireToken is the Logfire write token; empty leaves the live view out entirely.
	LogfireToken             string
	LogfireSampleRatio       float64
	LogfireScrub             bool
	SecretsExtensionLayerARN string
	SourceInferenceProfileID string
	FoundationModelID        string
	ModelName                string
	AgentName                string
	SystemPrompt             string
	CaptureContent           bool
	FirehoseBufferMB         int
	FirehoseBufferSeconds    int
	LambdaTimeoutSeconds     int
	LambdaMemoryMB           int
	LogRetentionDays         int
	// Athena provisions the Athena query layer (AuditQuery); on by default.
	Athena bool
	// DigestPeriodMinutes is how often the DigestWriter writes a signed digest of the audit bucket: whole minutes
	// dividing an hour (default 5).
	DigestPeriodMinutes int
}

// ReadConfig reads the namespaced keys through get (ctx.GetConfig) and tells secrets by isSecret
// (ctx.IsConfigSecret). It returns one error naming every bad key.
func ReadConfig(get func(key string) (string, bool), isSecret func(key string) bool) (Config, error) {
	cfg := Config{
		AuditRetentionDays:       components.DefaultRetentionDays,
		ObjectLockMode:           components.RetentionGovernance,
		DailyTokenAlarmThreshold: components.DefaultDailyTokenThreshold,
		FoundationModelID:        components.DefaultFoundationModelID,
		ModelName:                components.DefaultModelName,
		AgentName:                components.DefaultAgentName,
		CaptureContent:           true,
		LogfireSampleRatio:       1,
		FirehoseBufferMB:         components.DefaultBufferingSizeMB,
		FirehoseBufferSeconds:    components.DefaultBufferingIntervalSeconds,
		LambdaTimeoutSeconds:     components.DefaultTimeoutSeconds,
		LambdaMemoryMB:           components.DefaultMemoryMB,
		LogRetentionDays:         components.DefaultLogRetentionDays,
		Athena:                   true,
		DigestPeriodMinutes:      int(components.DefaultDigestPeriod / time.Minute),
	}
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s:%s: "+format, append([]any{Namespace, key}, a...)...))
	}
	lookup := func(key string) (string, bool) {
		v, ok := get(Namespace + ":" + key)
		return strings.TrimSpace(v), ok && strings.TrimSpace(v) != ""
	}
	str := func(key string, dst *string) {
		if v, ok := lookup(key); ok {
			*dst = v
		}
	}
	integer := func(key string, dst *int, lo, hi int) {
		v, ok := lookup(key)
		if !ok {
			return
		}
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			bad(key, "%q is not a whole number", v)
		case n < lo || n > hi:
			bad(key, "%d is outside %d..%d", n, lo, hi)
		default:
			*dst = n
		}
	}
	boolean := func(key string, dst *bool) {
		v, ok := lookup(key)
		if !ok {
			return
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad(key, "%q is not true or false", v)
			return
		}
		*dst = b
	}

	integer("auditRetentionDays", &cfg.AuditRetentionDays, 1, 36500)
	str("objectLockMode", &cfg.ObjectLockMode)
	if cfg.ObjectLockMode != components.RetentionGovernance && cfg.ObjectLockMode != components.RetentionCompliance {
		bad("objectLockMode", "%q is not GOVERNANCE or COMPLIANCE", cfg.ObjectLockMode)
	}
	boolean("forceDestroy", &cfg.ForceDestroy)
	str("breakGlassRoleArn", &cfg.BreakGlassRoleARN)
	if v := cfg.BreakGlassRoleARN; v != "" && !(strings.HasPrefix(v, "arn:") && strings.Contains(v, ":iam::") && strings.Contains(v, ":role/")) {
		bad("breakGlassRoleArn", "%q is not an IAM role ARN", v)
	}
	str("alertEmail", &cfg.AlertEmail)
	if cfg.AlertEmail == "" {
		bad("alertEmail", "required: pulumi config set alertEmail you@example.com")
	} else if a, err := mail.ParseAddress(cfg.AlertEmail); err != nil || a.Address != cfg.AlertEmail {
		bad("alertEmail", "%q is not an email address", cfg.AlertEmail)
	}
	integer("dailyTokenAlarmThreshold", &cfg.DailyTokenAlarmThreshold, 1, 1<<50)
	if v, ok := lookup("logfireToken"); ok {
		if !isSecret(Namespace + ":logfireToken") {
			bad("logfireToken", "is stored in clear; set it with: pulumi config set --secret logfireToken <token>")
		} else {
			cfg.LogfireToken = v
		}
	}
	if v, ok := lookup("logfireSampleRatio"); ok {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r < 0 || r > 1 {
			bad("logfireSampleRatio", "%q is not a number from 0 to 1", v)
		} else {
			cfg.LogfireSampleRatio = r
		}
	}
	boolean("logfireScrub", &cfg.LogfireScrub)
	str("secretsExtensionLayerArn", &cfg.SecretsExtensionLayerARN)
	if v := cfg.SecretsExtensionLayerARN; v != "" && !strings.HasPrefix(v, "arn:") {
		bad("secretsExtensionLayerArn", "%q is not a layer version ARN", v)
	}
	str("sourceInferenceProfileId", &cfg.SourceInferenceProfileID)
	str("foundationModelId", &cfg.FoundationModelID)
	str("modelName", &cfg.ModelName)
	str("agentName", &cfg.AgentName)
	if v, ok := get(Namespace + ":systemPrompt"); ok {
		cfg.SystemPrompt = v
	}
	boolean("captureContent", &cfg.CaptureContent)
	integer("firehoseBufferMb", &cfg.FirehoseBufferMB, 1, 128)
	integer("firehoseBufferSeconds", &cfg.FirehoseBufferSeconds, 0, 900)
	integer("lambdaTimeoutSeconds", &cfg.LambdaTimeoutSeconds, 1, 900)
	integer("lambdaMemoryMb", &cfg.LambdaMemoryMB, 128, 10240)
	integer("logRetentionDays", &cfg.LogRetentionDays, 1, 3653)
	boolean("athena", &cfg.Athena)
	integer("digestPeriodMinutes", &cfg.DigestPeriodMinutes, 1, 60)
	if m := cfg.DigestPeriodMinutes; 60%m != 0 {
		bad("digestPeriodMinutes", "%d does not divide an hour (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60)", m)
	}
	return cfg, errors.Join(errs...)
}
