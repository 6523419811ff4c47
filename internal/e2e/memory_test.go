package e2e

import (
	"encoding/json"
	"flag"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agent-audit/agent-audit/internal/bedrocktest"
	"github.com/agent-audit/agent-audit/internal/cputest"
	"github.com/agent-audit/agent-audit/internal/lambdatest"
)

// memorySizes are the Lambda memory sizes whose CPU share TestMemoryAndDurationOfARun also runs under (through
// cputest's CFS quota); empty runs with the machine's CPU only. docs/performance.md's figures come from
// -memory-sizes 128,256,512 -memory-runs 5.
var (
	memorySizes = flag.String("memory-sizes", "", "Lambda memory sizes (MB) whose CPU share to run under, comma-separated")
	memoryRuns  = flag.Int("memory-runs", 1, "measured invocations per scenario and CPU share")
)

// TestMemoryAndDurationOfARun measures what sizing the function's memory needs: the function process's peak RSS
// and each invocation's duration (the Invoke round trip; the peers answer at once, so no model latency is in it)
// for a typical run (one tool call) and for the largest trace the configuration accepts (a 1 MiB prompt, recorded
// on two spans: about 2 MB of content, stored apart in the oversize bucket). Each scenario runs in a fresh
// execution environment after one cold-start invocation, at full CPU and under the CPU share of each
// -memory-sizes. It logs the figures; it asserts only that every run answered ok.
func TestMemoryAndDurationOfARun(t *testing.T) {
	s := newPeers(t)
	bootstrap := lambdatest.Build(t)
	env := s.env()
	typical := func() []byte {
		s.bedrock.Enqueue(
			bedrocktest.Reply{ToolUses: []bedrocktest.ToolUse{{ID: "tooluse_1", Name: "calculator", Input: []byte(`{"expression":"17 * 23"}`)}}},
			bedrocktest.Reply{Text: "17 * 23 = 391"},
		)
		return []byte(`{"prompt":"What is 17 * 23?"}`)
	}
	oversize := func() []byte {
		s.bedrock.Enqueue(bedrocktest.Reply{Text: "Done."})
		payload, _ := json.Marshal(map[string]string{"prompt": strings.Repeat("audit this line. ", maxPromptBytes/17)})
		return payload
	}
	sizes := []int{0}
	for _, v := range strings.Split(*memorySizes, ",") {
		if v = strings.TrimSpace(v); v != "" {
			mb, err := strconv.Atoi(v)
			if err != nil || mb < 128 || mb > cputest.LambdaFullCPUMemoryMB {
				t.Fatalf("-memory-sizes: %q is not a size from 128 to %d MB", v, cputest.LambdaFullCPUMemoryMB)
			}
			sizes = append(sizes, mb)
		}
	}
	for _, sc := range []struct {
		name    string
		payload func() []byte
	}{{"a typical run (one tool call)", typical}, {"the 2 MB oversize trace", oversize}} {
		for _, mb := range sizes {
			fn := lambdatest.Start(t, lambdatest.Options{Bootstrap: bootstrap, Env: env})
			okResponse(t, fn.Invoke(t, typical())) // the cold start, not measured
			share := "the machine's CPU"
			if mb > 0 {
				pid, err := fn.FunctionPID()
				if err != nil {
					t.Fatal(err)
				}
				cputest.Limit(t, pid, cputest.ShareOfMemory(mb))
				share = strconv.Itoa(mb) + " MB's CPU share (" + strconv.FormatFloat(100*cputest.ShareOfMemory(mb), 'f', 1, 64) + "% of a vCPU)"
			}
			var durations, cpu []time.Duration
			for i := 0; i < *memoryRuns; i++ {
				payload := sc.payload()
				before, err := fn.CPUTime()
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				okResponse(t, fn.Invoke(t, payload))
				durations = append(durations, time.Since(start))
				after, err := fn.CPUTime()
				if err != nil {
					t.Fatal(err)
				}
				cpu = append(cpu, after-before)
			}
			peak, err := fn.PeakRSS()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s under %s: peak RSS %.1f MB, duration median %.0f ms (min %.0f, max %.0f), CPU time median %.0f ms, %d runs",
				sc.name, share, float64(peak)/1e6, ms(median(durations)), ms(slices.Min(durations)), ms(slices.Max(durations)), ms(median(cpu)), len(durations))
			fn.Stop()
		}
	}
}
