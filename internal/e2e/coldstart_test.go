package e2e

import (
	"flag"
	"slices"
	"testing"
	"time"

	"github.com/agent-audit/agent-audit/internal/bedrocktest"
	"github.com/agent-audit/agent-audit/internal/lambdatest"
)

// coldStarts is how many fresh execution environments TestEveryColdStartReportsItsInit starts. The suite runs a
// few; docs/performance.md's figures come from -coldstarts 21.
var coldStarts = flag.Int("coldstarts", 3, "cold starts of the real bootstrap to measure")

// TestEveryColdStartReportsItsInit starts the real bootstrap in a fresh emulator again and again, with the
// configuration the stack deploys (Bedrock model, Firehose sink, KMS seal, S3 oversize store, Logfire token
// parameter), and collects the emulator's INIT REPORT of each first invocation. It logs the median; it asserts
// only that every cold start initialised, answered and reported (timings are not asserted).
func TestEveryColdStartReportsItsInit(t *testing.T) {
	s := newPeers(t)
	bootstrap := lambdatest.Build(t)
	env := s.env()
	inits := make([]time.Duration, 0, *coldStarts)
	for i := 0; i < *coldStarts; i++ {
		fn := lambdatest.Start(t, lambdatest.Options{Bootstrap: bootstrap, Env: env})
		s.bedrock.Enqueue(bedrocktest.Reply{Text: "hello"})
		okResponse(t, fn.Invoke(t, []byte(`{"prompt":"hi"}`)))
		d, ok := fn.InitDuration()
		if !ok || d <= 0 {
			t.Fatalf("cold start %d: no INIT REPORT:\n%s", i+1, fn.Logs())
		}
		inits = append(inits, d)
		fn.Stop() // the next start is a new execution environment
	}
	slices.Sort(inits)
	t.Logf("INIT REPORT of %d cold starts: median %.1f ms, min %.1f ms, max %.1f ms", len(inits),
		ms(inits[len(inits)/2]), ms(inits[0]), ms(inits[len(inits)-1]))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
