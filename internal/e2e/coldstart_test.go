package e2e

import (
	"flag"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agent-audit/agent-audit/internal/bedrocktest"
	"github.com/agent-audit/agent-audit/internal/lambdatest"
)

// coldStarts is how many fresh execution environments TestColdStartAgainstHelloWorld starts for each binary. The
// suite runs a few; docs/performance.md's figures come from -coldstarts 15.
var coldStarts = flag.Int("coldstarts", 3, "cold starts of each binary to measure")

// compareWith names more bootstraps to measure in the same run, alternating with the others, as label=path pairs
// separated by commas (for example builds of earlier commits, to measure what a change bought).
var compareWith = flag.String("coldstart-compare", "", "more bootstraps to measure alongside, label=path,...")

// settle is the pause before each cold start of TestColdStartAgainstHelloWorld.
const settle = 200 * time.Millisecond

// helloWorld is the baseline function: the smallest aws-lambda-go handler, built as the bootstrap is.
const helloWorld = "./internal/lambdatest/helloworld"

// TestColdStartAgainstHelloWorld is the cold-start benchmark. It builds the real bootstrap and a hello-world
// aws-lambda-go handler as shipped (host architecture, since the emulator runs them natively), then starts each in
// a fresh emulator -coldstarts times, in rounds that run every binary once in a random order, so that all see the
// same machine load. The function runs with the configuration the stack deploys (Bedrock model, Firehose sink, KMS
// seal, S3 oversize store, Logfire token parameter) against the peers. Each first invocation's INIT REPORT is
// collected, and the function's first invocation round trip. It logs both medians, their ratio, the median of the
// per-round ratios, both linux/arm64 binary sizes (what Lambda runs), and the median of the hello world registered
// for SIGTERM as lambda.WithEnableSIGTERM does, the share of init such a registration costs when it is not
// overlapped. It asserts only that every cold start initialised, answered and reported (timings are not
// asserted).
func TestColdStartAgainstHelloWorld(t *testing.T) {
	s := newPeers(t)
	bootstrap, hello := lambdatest.Build(t), lambdatest.BuildPackage(t, helloWorld)
	env := s.env()
	var fnInits, fnFirsts, helloInits, sigtermInits []time.Duration
	type other struct {
		label, path   string
		inits, firsts []time.Duration
	}
	var others []*other
	if *compareWith != "" {
		for _, pair := range strings.Split(*compareWith, ",") {
			label, path, ok := strings.Cut(pair, "=")
			if !ok {
				t.Fatalf("-coldstart-compare %q: want label=path", pair)
			}
			others = append(others, &other{label: label, path: lambdatest.Unpack(t, path)})
		}
	}
	// coldStart returns the INIT REPORT and the first invocation's round trip (the emulator's Invoke, which
	// includes the init it triggers): what a user's cold start adds up to is both, so work moved from init into the
	// first invocation shows in the second.
	coldStart := func(bootstrap string, i int) (time.Duration, time.Duration) {
		fn := lambdatest.Start(t, lambdatest.Options{Bootstrap: bootstrap, Env: env})
		s.bedrock.Enqueue(bedrocktest.Reply{Text: "hello"})
		start := time.Now()
		okResponse(t, fn.Invoke(t, []byte(`{"prompt":"hi"}`)))
		first := time.Since(start)
		defer fn.Stop() // the next start is a new execution environment
		return initDuration(t, fn, i), first
	}
	// Each round runs the binaries in a new random order, after a pause that lets the previous execution
	// environment's teardown finish: a start right after another's teardown runs slower, and copies of one binary
	// measured in a fixed order (or in a rotation, which keeps who follows whom) differed by up to 30 % in their
	// medians.
	starts := []func(i int){
		func(i int) {
			init, first := coldStart(bootstrap, i)
			fnInits, fnFirsts = append(fnInits, init), append(fnFirsts, first)
		},
		func(i int) { helloInits = append(helloInits, helloStart(t, hello, nil, i)) },
		func(i int) {
			sigtermInits = append(sigtermInits, helloStart(t, hello, map[string]string{"HELLO_WITH_SIGTERM": "1"}, i))
		},
	}
	for _, o := range others {
		starts = append(starts, func(i int) {
			init, first := coldStart(o.path, i)
			o.inits, o.firsts = append(o.inits, init), append(o.firsts, first)
		})
	}
	order := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	for i := 0; i < *coldStarts; i++ {
		for _, k := range order.Perm(len(starts)) {
			time.Sleep(settle)
			starts[k](i)
		}
	}
	t.Logf("INIT REPORT median of hello world registered for SIGTERM with lambda.WithEnableSIGTERM: %.1f ms (min %.1f, max %.1f), ratio to hello world %.2f×",
		ms(median(sigtermInits)), ms(slices.Min(sigtermInits)), ms(slices.Max(sigtermInits)), float64(median(sigtermInits))/float64(median(helloInits)))
	for _, o := range others {
		t.Logf("INIT REPORT median of %s: %.1f ms (min %.1f, max %.1f), ratio to hello world %.2f× (median of the per-round ratios %.2f×); first invocation with its init, median %.1f ms", o.label, ms(median(o.inits)),
			ms(slices.Min(o.inits)), ms(slices.Max(o.inits)), float64(median(o.inits))/float64(median(helloInits)), roundRatio(o.inits, helloInits), ms(median(o.firsts)))
	}
	t.Logf("first invocation of the function with its init (Invoke round trip through the emulator), median %.1f ms (min %.1f, max %.1f)",
		ms(median(fnFirsts)), ms(slices.Min(fnFirsts)), ms(slices.Max(fnFirsts)))
	fnMedian, helloMedian := median(fnInits), median(helloInits)
	fnSize := fileSize(t, lambdatest.BuildPackageFor(t, "./function", "linux", "arm64"))
	helloSize := fileSize(t, lambdatest.BuildPackageFor(t, helloWorld, "linux", "arm64"))
	t.Logf("INIT REPORT median of %d cold starts each: function %.1f ms (min %.1f, max %.1f), hello world %.1f ms (min %.1f, max %.1f), ratio %.2f× (median of the per-round ratios %.2f×)",
		*coldStarts, ms(fnMedian), ms(slices.Min(fnInits)), ms(slices.Max(fnInits)),
		ms(helloMedian), ms(slices.Min(helloInits)), ms(slices.Max(helloInits)), float64(fnMedian)/float64(helloMedian),
		roundRatio(fnInits, helloInits))
	t.Logf("bootstrap linux/arm64 stripped: function %d bytes (%.1f MB), hello world %d bytes (%.1f MB), ratio %.2f×",
		fnSize, float64(fnSize)/1e6, helloSize, float64(helloSize)/1e6, float64(fnSize)/float64(helloSize))
}

// helloStart cold-starts the hello world with env, checks its answer and returns its INIT REPORT.
func helloStart(t *testing.T, hello string, env map[string]string, i int) time.Duration {
	t.Helper()
	hw := lambdatest.Start(t, lambdatest.Options{Bootstrap: hello, Env: env})
	defer hw.Stop()
	if r := hw.Invoke(t, []byte(`{"name":"world"}`)); r.Error != nil || string(r.Payload) != `"hello world"` {
		t.Fatalf("hello world answered %d %s", r.Status, r.Payload)
	}
	return initDuration(t, hw, i)
}

// initDuration is the INIT REPORT of cold start i, which must exist after its first invocation.
func initDuration(t *testing.T, fn *lambdatest.Function, i int) time.Duration {
	t.Helper()
	d, ok := fn.InitDuration()
	for deadline := time.Now().Add(2 * time.Second); !ok && time.Now().Before(deadline); d, ok = fn.InitDuration() {
		time.Sleep(10 * time.Millisecond) // the emulator may write the line just after the first answer
	}
	if !ok || d <= 0 {
		t.Fatalf("cold start %d: no INIT REPORT:\n%s", i+1, fn.Logs())
	}
	return d
}

// roundRatio is the median over rounds of a's INIT over b's in the same round: a slow stretch of the machine
// slows both starts of a round, so it cancels in their ratio.
func roundRatio(a, b []time.Duration) float64 {
	rs := make([]float64, len(a))
	for i := range a {
		rs[i] = float64(a[i]) / float64(b[i])
	}
	slices.Sort(rs)
	return rs[len(rs)/2]
}

// median is the middle value (the upper one of an even count).
func median(ds []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	return s[len(s)/2]
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
