package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agent-audit/agent-audit/agentenv"
	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/internal/firehosetest"
	"github.com/agent-audit/agent-audit/internal/kmstest"
	"github.com/agent-audit/agent-audit/internal/lambdatest"
)

// sealedFunction starts the real binary under the emulator with the offline model, Firehose and the KMS
// signing key: one container, as Lambda keeps one warm.
func sealedFunction(t *testing.T) (*lambdatest.Function, *firehosetest.Server, *kmstest.Server) {
	t.Helper()
	fh := firehosetest.New(t, stream)
	keys := kmstest.New(t)
	fn := lambdatest.Start(t, lambdatest.Options{Env: map[string]string{
		"AWS_ENDPOINT_URL_FIREHOSE": fh.URL,
		"AWS_ENDPOINT_URL_KMS":      keys.URL,
		agentenv.Model:              agentenv.ModelOffline,
		agentenv.FirehoseStream:     stream,
		agentenv.SigningKeyID:       keys.KeyARN,
	}})
	return fn, fh, keys
}

// verifyAll verifies every record in Firehose (each must) and checks them as chains.
func verifyAll(t *testing.T, fh *firehosetest.Server, keys *kmstest.Server) ([]seal.Record, seal.Report) {
	t.Helper()
	v := seal.NewVerifier(keys.PublicKey())
	var chains seal.Chains
	var out []seal.Record
	for i, rec := range fh.Records(stream) {
		r, err := v.Verify(rec)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		chains.Add(r, fmt.Sprint("record ", i))
		out = append(out, r)
	}
	return out, chains.Check(false)
}

// Issue 11 point 5: N invocations of one container make exactly one kms:Sign, the certification of the
// container's sealing key, and every record verifies under it.
func TestOneKMSSignPerContainer(t *testing.T) {
	fn, fh, keys := sealedFunction(t)
	const n = 12
	for i := range n {
		okResponse(t, fn.Invoke(t, []byte(fmt.Sprintf(`{"prompt":"What is %d * 7?"}`, i))))
	}
	records, rep := verifyAll(t, fh, keys)
	if len(records) < n || len(rep.Problems) != 0 || rep.Chains != 1 {
		t.Fatalf("%d records for %d invocations: %+v", len(records), n, rep)
	}
	for _, r := range records {
		if !r.Certified || r.Issuer != keys.KeyARN || !strings.HasPrefix(r.Cert.Function, "arn:aws:lambda:") {
			t.Fatalf("record %d: certified %v by %s, function %q", r.Seq, r.Certified, r.Issuer, r.Cert.Function)
		}
	}
	if sign, pub := keys.Calls("Sign"), keys.Calls("GetPublicKey"); sign != 1 || pub != 1 {
		t.Fatalf("%d kms:Sign and %d kms:GetPublicKey calls for %d invocations, want one each", sign, pub, n)
	}
}

// KMS refusing the first certification: the container still seals every record with its own key (they verify,
// uncertified), retries in the background, and once KMS answers, the certified records vouch for the earlier
// ones.
func TestKMSFailingAtTheFirstCertificationIsRetriedInTheBackground(t *testing.T) {
	fn, fh, keys := sealedFunction(t)
	keys.FailNext("AccessDeniedException") // not retried by the SDK: the first attempt fails at once
	okResponse(t, fn.Invoke(t, []byte(`{"prompt":"What is 2 + 2?"}`)))
	if r, _ := verifyAll(t, fh, keys); r[0].Certified {
		t.Fatal("the first record is certified although KMS refused")
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		okResponse(t, fn.Invoke(t, []byte(`{"prompt":"What is 2 + 2?"}`)))
		records, rep := verifyAll(t, fh, keys)
		if records[len(records)-1].Certified {
			if len(rep.Problems) != 0 || rep.Chains != 1 {
				t.Fatalf("the certified records do not vouch for the earlier ones: %+v", rep)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not certified after %d invocations:\n%s", len(records), fn.Logs())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n := keys.Calls("Sign"); n != 1 {
		t.Fatalf("%d kms:Sign calls: the certification succeeded once", n)
	}
	if logs := fn.Logs(); !strings.Contains(logs, "certification failed") || !strings.Contains(logs, "AccessDeniedException") {
		t.Fatalf("the failed certification is not logged:\n%s", logs)
	}
}
