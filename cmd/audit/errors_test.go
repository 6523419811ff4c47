package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAMissingRootSaysSo(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "typo")
	for _, cmd := range []string{"runs", "query", "show"} {
		args := []string{cmd, "--root", missing}
		switch cmd {
		case "query":
			args = append(args, "SELECT 1")
		case "show":
			args = append(args, "abc")
		}
		_, _, err := execute(t, args...)
		if exitCode(err) != ExitCannotCheck || !strings.Contains(err.Error(), "the audit root "+missing+" does not exist") {
			t.Errorf("%s: exit %d: %v", cmd, exitCode(err), err)
		}
	}
}

// captureStderr runs f with the process's stderr (where the AWS SDK logs) read into the returned string.
func captureStderr(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	f()
	os.Stderr = saved
	w.Close()
	return <-done
}

func TestAnS3RootWithoutCredentialsSaysWhatToSet(t *testing.T) {
	// An instance metadata service that refuses a token (the SDK then warns that it falls back to IMDSv1) and
	// has no role: what a laptop or a container without a role gives.
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		http.NotFound(w, r)
	}))
	defer imds.Close()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_PROFILE": "", "AWS_ACCESS_KEY_ID": "",
		"AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "",
		"AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.URL, "AWS_EC2_METADATA_DISABLED": "", "AUDIT_BUCKET": "",
	} {
		t.Setenv(k, v)
	}
	for _, region := range []string{"", "eu-central-1"} {
		t.Setenv("AWS_REGION", region)
		t.Setenv("AWS_DEFAULT_REGION", region)
		for _, args := range [][]string{{"runs"}, {"query", "SELECT 1"}, {"verify", "--public-key", "k.pem"}} {
			var err error
			var stderr string
			start := time.Now()
			logged := captureStderr(t, func() { _, stderr, err = execute(t, append(args, "--root", "s3://agent-audit-bucket")...) })
			if exitCode(err) != ExitCannotCheck && !(args[0] == "verify" && exitCode(err) == ExitUsage) {
				t.Fatalf("%v (region %q): exit %d: %v", args, region, exitCode(err), err)
			}
			if args[0] != "verify" && !strings.Contains(err.Error(), "no AWS region/credentials found: set AWS_PROFILE or AWS_REGION") {
				t.Errorf("%v (region %q): %v", args, region, err)
			}
			for _, noise := range []string{"IMDS", "imds", "httpfs", "existing extension"} {
				if strings.Contains(err.Error()+stderr+logged, noise) {
					t.Errorf("%v (region %q) prints %q:\n%v\n%s%s", args, region, noise, err, stderr, logged)
				}
			}
			if time.Since(start) > credentialsTimeout+5*time.Second {
				t.Errorf("%v took %s", args, time.Since(start))
			}
		}
	}
}

func TestRunNamesWhatToFix(t *testing.T) {
	_, _, err := execute(t, "run", "--root", t.TempDir(), "what", "is", "6", "*", "7")
	if exitCode(err) != ExitUsage || !strings.Contains(err.Error(), `quote it: audit run "what is 6 * 7"`) {
		t.Errorf("unquoted prompt: exit %d: %v", exitCode(err), err)
	}
	t.Setenv("BEDROCK_INFERENCE_PROFILE_ARN", "")
	t.Setenv("BEDROCK_MODEL_ID", "")
	_, _, err = execute(t, "run", "--root", t.TempDir(), "--model", "bedrock", "hi")
	if exitCode(err) != ExitUsage || !strings.Contains(err.Error(), "--inference-profile-arn") || !strings.Contains(err.Error(), "--model-id") ||
		!strings.Contains(err.Error(), "required when --model bedrock") {
		t.Errorf("bedrock without settings: exit %d: %v", exitCode(err), err)
	}
}

func TestOneSpanIsOneSpan(t *testing.T) {
	var out bytes.Buffer
	renderTrace(&out, "4bf92f3577b34da6a3ce929d0e0e4736", []traceSpan{{ID: "r", Name: "invoke_agent a", Start: time.Unix(0, 0), Duration: time.Millisecond}}, nil)
	if !strings.HasPrefix(out.String(), "trace 4bf92f3577b34da6a3ce929d0e0e4736  1 span  ") {
		t.Fatalf("header: %q", strings.SplitN(out.String(), "\n", 2)[0])
	}
}
