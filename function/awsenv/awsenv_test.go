package awsenv_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/agent-audit/agent-audit/function/awsenv"
)

// resolved is what a client ends up with from a configuration: what a difference in the loader would change.
type resolved struct {
	Region, BaseEndpoint string
	MaxAttempts          int
	RetryMode            aws.RetryMode
	Creds                aws.Credentials
}

// clients are the function's clients built from cfg, by name.
func clients(t *testing.T, cfg aws.Config) map[string]resolved {
	t.Helper()
	out := map[string]resolved{}
	add := func(name, region string, base *string, attempts int, mode aws.RetryMode, retryer aws.Retryer, creds aws.CredentialsProvider) {
		c, err := creds.Retrieve(context.Background())
		if err != nil {
			t.Fatalf("%s: credentials: %v", name, err)
		}
		c.CanExpire, c.Expires = false, c.Expires.UTC().Truncate(0)
		out[name] = resolved{Region: region, BaseEndpoint: aws.ToString(base), MaxAttempts: max(attempts, retryer.MaxAttempts()), RetryMode: mode, Creds: c}
	}
	b := bedrockruntime.NewFromConfig(cfg).Options()
	add("bedrock", b.Region, b.BaseEndpoint, b.RetryMaxAttempts, b.RetryMode, b.Retryer, b.Credentials)
	f := firehose.NewFromConfig(cfg).Options()
	add("firehose", f.Region, f.BaseEndpoint, f.RetryMaxAttempts, f.RetryMode, f.Retryer, f.Credentials)
	k := kms.NewFromConfig(cfg).Options()
	add("kms", k.Region, k.BaseEndpoint, k.RetryMaxAttempts, k.RetryMode, k.Retryer, k.Credentials)
	s := s3.NewFromConfig(cfg).Options()
	add("s3", s.Region, s.BaseEndpoint, s.RetryMaxAttempts, s.RetryMode, s.Retryer, s.Credentials)
	m := ssm.NewFromConfig(cfg).Options()
	add("ssm", m.Region, m.BaseEndpoint, m.RetryMaxAttempts, m.RetryMode, m.Retryer, m.Credentials)
	return out
}

// TestClientsResolveWhatTheLoaderResolves builds every client the function uses from this package's configuration
// and from config.LoadDefaultConfig, in the same environment, and requires the same region, endpoint, retries and
// credentials of each: the loader is what this package replaces.
func TestClientsResolveWhatTheLoaderResolves(t *testing.T) {
	lambda := map[string]string{
		"AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "eu-central-1",
		"AWS_ACCESS_KEY_ID": "ASIAEXAMPLEEXAMPLE", "AWS_SECRET_ACCESS_KEY": "c2VjcmV0LWZvci10aGUtdGVzdA",
		"AWS_SESSION_TOKEN": "dG9rZW4tZm9yLXRoZS10ZXN0",
	}
	cases := []struct {
		name string
		env  map[string]string
	}{
		{"Lambda's variables alone give the region and the session credentials", nil},
		{"AWS_DEFAULT_REGION stands in for AWS_REGION", map[string]string{"AWS_REGION": "", "AWS_DEFAULT_REGION": "us-west-2"}},
		{"a service's endpoint variable reaches that client only", map[string]string{
			"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": "http://127.0.0.1:1001", "AWS_ENDPOINT_URL_FIREHOSE": "http://127.0.0.1:1002",
			"AWS_ENDPOINT_URL_KMS": "http://127.0.0.1:1003", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:1004",
			"AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:1005",
		}},
		{"AWS_ENDPOINT_URL reaches every client a service variable does not override", map[string]string{
			"AWS_ENDPOINT_URL": "http://127.0.0.1:2000", "AWS_ENDPOINT_URL_KMS": "http://127.0.0.1:1003",
		}},
		{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS turns both kinds off", map[string]string{
			"AWS_ENDPOINT_URL": "http://127.0.0.1:2000", "AWS_ENDPOINT_URL_KMS": "http://127.0.0.1:1003",
			"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
		}},
		{"AWS_MAX_ATTEMPTS and AWS_RETRY_MODE reach the retryer", map[string]string{"AWS_MAX_ATTEMPTS": "7", "AWS_RETRY_MODE": "adaptive"}},
		{"the account id reaches the credentials", map[string]string{"AWS_ACCOUNT_ID": "123456789012"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			for k, v := range lambda {
				t.Setenv(k, v)
			}
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			loaded, err := awsconfig.LoadDefaultConfig(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			ours, err := awsenv.Config(os.LookupEnv)
			if err != nil {
				t.Fatal(err)
			}
			want, got := clients(t, loaded), clients(t, ours)
			for name, w := range want {
				if g := got[name]; g != w {
					t.Errorf("%s client:\n got %+v\nwant %+v (config.LoadDefaultConfig)", name, g, w)
				}
			}
		})
	}
}

func TestMissingOrBadVariablesAreNamedWithoutTheirSecrets(t *testing.T) {
	env := map[string]string{"AWS_SECRET_ACCESS_KEY": "do-not-print-me", "AWS_MAX_ATTEMPTS": "many", "AWS_RETRY_MODE": "eager"}
	_, err := awsenv.Config(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err == nil {
		t.Fatal("no error without a region and an access key")
	}
	for _, want := range []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "do-not-print-me") {
		t.Errorf("error %q holds the secret key", err)
	}
}

// isolate keeps the test machine's own AWS settings out of both loaders.
func isolate(t *testing.T) {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// A configuration asking for FIPS or dual-stack endpoints is refused, naming the variable: the function's calls
// would otherwise reach the standard endpoint while the operator believes it reaches the FIPS one. False (and
// unset) are accepted; a value that is not a boolean is named.
func TestFIPSAndDualStackEndpointsAreRefusedNotIgnored(t *testing.T) {
	base := map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "x"}
	for _, c := range []struct {
		name, value, want string // want "" means accepted
	}{
		{"AWS_USE_FIPS_ENDPOINT", "true", "AWS_USE_FIPS_ENDPOINT: not supported"},
		{"AWS_USE_DUALSTACK_ENDPOINT", "TRUE", "AWS_USE_DUALSTACK_ENDPOINT: not supported"},
		{"AWS_USE_FIPS_ENDPOINT", "yes", `AWS_USE_FIPS_ENDPOINT: "yes" is not true or false`},
		{"AWS_USE_FIPS_ENDPOINT", "false", ""},
		{"AWS_USE_DUALSTACK_ENDPOINT", "false", ""},
	} {
		env := map[string]string{c.name: c.value}
		for k, v := range base {
			env[k] = v
		}
		_, err := awsenv.Config(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s=%s: %v", c.name, c.value, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s=%s: error %v, want %q", c.name, c.value, err, c.want)
		}
	}
}
