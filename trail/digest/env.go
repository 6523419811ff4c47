package digest

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// The digest Lambda's environment, in one place: the DigestWriter component (components/digestwriter.go) sets
// every one of these, and the Lambda (digester/) reads them with EnvConfigFrom.
const (
	// EnvBucket is the name of the audit bucket the Lambda lists and writes digests into.
	EnvBucket = "AUDIT_DIGEST_BUCKET"
	// EnvSigningKeyID is the asymmetric KMS key (its ARN: digests name it as their issuer) that signs every digest.
	EnvSigningKeyID = "AUDIT_DIGEST_SIGNING_KEY_ID"
	// EnvPeriod is the length of one digest period, as a Go duration ("5m0s").
	EnvPeriod = "AUDIT_DIGEST_PERIOD"
	// EnvLookback is how far back the writer lists objects for versions no digest has listed yet ("26h0m0s").
	EnvLookback = "AUDIT_DIGEST_LOOKBACK"
	// EnvSettle is how long after a period's end the writer waits before it lists that period ("1m0s").
	EnvSettle = "AUDIT_DIGEST_SETTLE"
)

// EnvConfig is the digest Lambda's configuration as its environment carries it. The component sets every
// variable explicitly, so the Lambda has no defaults of its own that could drift from the component's.
type EnvConfig struct {
	// Bucket is EnvBucket.
	Bucket string
	// SigningKeyID is EnvSigningKeyID.
	SigningKeyID string
	// Period, Lookback and Settle are EnvPeriod, EnvLookback and EnvSettle.
	Period, Lookback, Settle time.Duration
}

// EnvConfigFrom reads the configuration through lookup (os.LookupEnv in the Lambda). Every variable is
// required; Period and Lookback must be positive, Settle not negative, and Lookback longer than Period. It
// returns one error naming every missing or bad variable.
func EnvConfigFrom(lookup func(string) (string, bool)) (EnvConfig, error) {
	var cfg EnvConfig
	var errs []error
	str := func(name string, dst *string) {
		v, _ := lookup(name)
		if *dst = strings.TrimSpace(v); *dst == "" {
			errs = append(errs, fmt.Errorf("%s: required", name))
		}
	}
	duration := func(name string, dst *time.Duration, zeroOK bool) {
		v, _ := lookup(name)
		v = strings.TrimSpace(v)
		if v == "" {
			errs = append(errs, fmt.Errorf("%s: required", name))
			return
		}
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %q is not a duration such as 5m0s", name, v))
		case d < 0:
			errs = append(errs, fmt.Errorf("%s: %s is negative", name, d))
		case d == 0 && !zeroOK:
			errs = append(errs, fmt.Errorf("%s: must be longer than 0s", name))
		default:
			*dst = d
		}
	}
	str(EnvBucket, &cfg.Bucket)
	str(EnvSigningKeyID, &cfg.SigningKeyID)
	duration(EnvPeriod, &cfg.Period, false)
	duration(EnvLookback, &cfg.Lookback, false)
	duration(EnvSettle, &cfg.Settle, true)
	if cfg.Period > 0 && cfg.Lookback > 0 && cfg.Lookback <= cfg.Period {
		errs = append(errs, fmt.Errorf("%s: %s is not longer than %s %s", EnvLookback, cfg.Lookback, EnvPeriod, cfg.Period))
	}
	return cfg, errors.Join(errs...)
}
