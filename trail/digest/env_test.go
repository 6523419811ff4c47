package digest

import (
	"strings"
	"testing"
	"time"
)

func TestEnvConfigFrom(t *testing.T) {
	full := map[string]string{
		EnvBucket: "audit", EnvSigningKeyID: "arn:aws:kms:eu-west-1:123456789012:key/k",
		EnvPeriod: "5m0s", EnvLookback: "26h0m0s", EnvSettle: "1m0s",
	}
	with := func(changes map[string]string) func(string) (string, bool) {
		return func(name string) (string, bool) {
			if v, ok := changes[name]; ok {
				if v == "<unset>" {
					return "", false
				}
				return v, true
			}
			v, ok := full[name]
			return v, ok
		}
	}
	cfg, err := EnvConfigFrom(with(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := EnvConfig{Bucket: "audit", SigningKeyID: full[EnvSigningKeyID], Period: 5 * time.Minute, Lookback: 26 * time.Hour, Settle: time.Minute}
	if cfg != want {
		t.Errorf("config %+v, want %+v", cfg, want)
	}
	if cfg, err := EnvConfigFrom(with(map[string]string{EnvSettle: "0s"})); err != nil || cfg.Settle != 0 {
		t.Errorf("settle 0s: %+v, %v; want no settling", cfg, err)
	}

	tests := []struct {
		name    string
		changes map[string]string
		want    []string
	}{
		{"every variable is required", map[string]string{EnvBucket: "<unset>", EnvSigningKeyID: " ", EnvPeriod: "<unset>", EnvLookback: "", EnvSettle: "<unset>"},
			[]string{EnvBucket + ": required", EnvSigningKeyID + ": required", EnvPeriod + ": required", EnvLookback + ": required", EnvSettle + ": required"}},
		{"durations must parse", map[string]string{EnvPeriod: "5", EnvSettle: "a minute"}, []string{EnvPeriod + `: "5" is not a duration`, EnvSettle + `: "a minute"`}},
		{"a zero period or lookback is refused", map[string]string{EnvPeriod: "0s", EnvLookback: "0s"}, []string{EnvPeriod + ": must be longer than 0s", EnvLookback + ": must be longer than 0s"}},
		{"a negative settle is refused", map[string]string{EnvSettle: "-1s"}, []string{EnvSettle + ": -1s is negative"}},
		{"the lookback must exceed the period", map[string]string{EnvLookback: "5m"}, []string{EnvLookback + ": 5m0s is not longer than " + EnvPeriod + " 5m0s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := EnvConfigFrom(with(tt.changes))
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v does not say %q", err, w)
				}
			}
		})
	}
}
