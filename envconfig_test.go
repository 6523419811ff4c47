package agentaudit

import "testing"

// configFromEnv sets env as the process environment for the test (the AWS clients read it too) and returns the
// Config that ConfigFromEnv reads from it.
func configFromEnv(t *testing.T, env map[string]string) Config {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	cfg, err := ConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
