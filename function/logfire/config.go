package logfire

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/agent-audit/agent-audit/agentenv"
)

// Environment variables read by ConfigFromEnv (spelled once, in package agentenv).
const (
	EnvTokenParameter = agentenv.LogfireTokenParameter
	EnvExtensionPort  = agentenv.ExtensionHTTPPort
	EnvBaseURL        = agentenv.LogfireBaseURL
	EnvSampleRatio    = agentenv.LogfireSampleRatio
	EnvScrub          = agentenv.LogfireScrub
	EnvFlushTimeout   = agentenv.LogfireFlushTimeout
)

// DefaultFlushTimeout bounds how long an invocation waits for the export to Logfire.
const DefaultFlushTimeout = 2 * time.Second

// Config configures the leg.
type Config struct {
	// TokenParameter is the SSM parameter holding the write token.
	TokenParameter string
	// ExtensionPort, when set, reads the token through the Parameters and Secrets extension on this port.
	ExtensionPort int
	// BaseURL overrides the endpoint derived from the token.
	BaseURL string
	// SampleRatio is the share of traces exported (0–1).
	SampleRatio float64
	// Scrub redacts GenAI content and secret-looking values in what is exported.
	Scrub bool
	// FlushTimeout bounds the export at the end of each invocation.
	FlushTimeout time.Duration
}

// ConfigFromEnv reads the configuration through lookup. wired is false, and nothing else is read, when
// LOGFIRE_TOKEN_PARAMETER is unset. The error names every bad variable.
func ConfigFromEnv(lookup func(string) (string, bool)) (cfg Config, wired bool, err error) {
	get := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	cfg = Config{TokenParameter: get(EnvTokenParameter), SampleRatio: 1, FlushTimeout: DefaultFlushTimeout}
	if cfg.TokenParameter == "" {
		return Config{}, false, nil
	}
	var errs []error
	if v := get(EnvExtensionPort); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			errs = append(errs, fmt.Errorf("%s: %q is not a port", EnvExtensionPort, v))
		}
		cfg.ExtensionPort = p
	}
	if v := get(EnvBaseURL); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s: %q is not an http(s) URL", EnvBaseURL, v))
		}
		cfg.BaseURL = strings.TrimRight(v, "/")
	}
	if v := get(EnvSampleRatio); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r < 0 || r > 1 {
			errs = append(errs, fmt.Errorf("%s: %q is not a number from 0 to 1", EnvSampleRatio, v))
		}
		cfg.SampleRatio = r
	}
	if v := get(EnvScrub); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not true or false", EnvScrub, v))
		}
		cfg.Scrub = b
	}
	if v := get(EnvFlushTimeout); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > time.Minute {
			errs = append(errs, fmt.Errorf("%s: %q is not a duration from 1ms to 1m", EnvFlushTimeout, v))
		}
		cfg.FlushTimeout = d
	}
	return cfg, true, errors.Join(errs...)
}
