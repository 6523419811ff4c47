package faultmatrix

import (
	"flag"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/agent-audit/agent-audit/internal/lambdatest"
)

var (
	matrixN    = flag.Int("matrix.n", 24, "invocations per fault kind in process (scaled by the kind's weight)")
	binaryN    = flag.Int("matrix.binary.n", 8, "invocations per fault kind through the real binary (scaled by the kind's weight)")
	emulators  = flag.Int("matrix.emulators", 2, "emulators (execution environments) in parallel per real-binary kind")
	matrixOut  = flag.String("matrix.out", "", "write the report (docs/reliability.md) to this path")
	matrixSeed = flag.Uint64("matrix.seed", 1, "seed of the fault draws and plans")
	matrixRun  = flag.String("matrix.run", "", "run only the kinds whose name matches this regular expression")
)

// count is the number of invocations of k for a per-kind count of n.
func count(k Kind, n int) int {
	w := k.Weight
	if w == 0 {
		w = 1
	}
	return max(4, int(math.Round(float64(n)*w)))
}

func TestFaultMatrix(t *testing.T) {
	var filter *regexp.Regexp
	if *matrixRun != "" {
		filter = regexp.MustCompile(*matrixRun)
	}
	var rows []Row
	kinds := Kinds()
	allKinds := append(append([]Kind(nil), kinds...), BinaryKinds()...)
	store := StartStore(t)
	for _, k := range kinds {
		if filter != nil && !filter.MatchString(k.Name) {
			continue
		}
		t.Run(k.Name, func(t *testing.T) {
			obs := RunInProcess(t, k, count(k, *matrixN), Options{Seed: *matrixSeed, Store: store})
			row := Classify(obs)
			rows = append(rows, row)
			t.Logf("%d invocations: %d ok, %d error, %d stored, %d lost, %d duplicates, %d follow-ups, %d/%d Firehose calls faulted, %d/%d Bedrock requests faulted, errors %v (%.1fs)",
				row.Invocations, row.OK, row.Error, row.Stored, row.Lost, row.Duplicates, row.FollowUps,
				row.FirehoseFaults, row.FirehoseCalls, row.BedrockFaults, row.BedrockCalls, row.ErrorKinds, row.Seconds)
			checkRow(t, k, row)
		})
	}
	// Through the real binary, kinds run side by side: each has its own peers and emulators, and most of their
	// time is spent waiting on the emulators.
	bootstrap := lambdatest.Build(t)
	binaryKinds := BinaryKinds()
	binaryRows := make([]*Row, len(binaryKinds))
	t.Run("binary", func(t *testing.T) {
		for i, k := range binaryKinds {
			if filter != nil && !filter.MatchString(k.Name) {
				continue
			}
			t.Run(k.Name, func(t *testing.T) {
				t.Parallel()
				obs := RunBinary(t, k, count(k, *binaryN), BinaryOptions{Options: Options{Seed: *matrixSeed, Store: store}, Bootstrap: bootstrap, Emulators: *emulators})
				row := Classify(obs)
				binaryRows[i] = &row
				t.Logf("%d invocations: %d ok, %d error, %d stored, %d lost, %d duplicates, %d/%d Firehose calls faulted, %d/%d Bedrock requests faulted, errors %v (%.1fs)",
					row.Invocations, row.OK, row.Error, row.Stored, row.Lost, row.Duplicates,
					row.FirehoseFaults, row.FirehoseCalls, row.BedrockFaults, row.BedrockCalls, row.ErrorKinds, row.Seconds)
				checkRow(t, k, row)
			})
		}
	})
	for _, r := range binaryRows {
		if r != nil {
			rows = append(rows, *r)
		}
	}
	if *matrixOut != "" {
		err := WriteReport(*matrixOut, Report{Command: Command, Kinds: uniqueKinds(allKinds), Rows: rows, PerKind: *matrixN, PerBinaryKind: *binaryN, Emulators: *emulators, Seed: *matrixSeed})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// checkRow fails t on any loss a kind does not explain, on any unexplained duplicate, and when the kind's fault
// was never actually applied (a matrix that injects nothing proves nothing).
func checkRow(t *testing.T, k Kind, row Row) {
	t.Helper()
	if row.Stored+row.Lost != row.Invocations || row.OK+row.Error != row.Invocations {
		t.Errorf("accounting: %d invocations, %d ok + %d error, %d stored + %d lost", row.Invocations, row.OK, row.Error, row.Stored, row.Lost)
	}
	switch {
	case row.Lost > 0:
		t.Errorf("%d of %d invocations lost:\n%s", row.Lost, row.Invocations, strings.Join(row.Problems, "\n"))
	case row.Unexplained > 0:
		t.Errorf("%d unexplained duplicates:\n%s", row.Unexplained, strings.Join(row.Problems, "\n"))
	case row.SealBreaks > 0:
		t.Errorf("%d seal breaks:\n%s", row.SealBreaks, strings.Join(row.Problems, "\n"))
	}
	if row.Malformed > 0 {
		t.Errorf("%d malformed records:\n%s", row.Malformed, strings.Join(row.Problems, "\n"))
	}
	if k.Firehose != nil && row.FirehoseFaults == 0 {
		t.Errorf("no Firehose fault was applied in %d calls", row.FirehoseCalls)
	}
	if k.Bedrock != nil && row.BedrockFaults == 0 {
		t.Errorf("no Bedrock fault was applied in %d requests", row.BedrockCalls)
	}
	switch k.Name {
	case "late-span":
		if row.FollowUps == 0 {
			t.Error("no follow-up record stored")
		}
	case "sigterm-buffered":
		if row.SIGTERMs == 0 {
			t.Error("SIGTERM never arrived mid-run")
		}
	case "oversize-content", "oversize-answer":
		if row.Oversize == 0 {
			t.Error("no oversize content stored")
		}
	}
}

// uniqueKinds drops later kinds whose name repeats an earlier one (the real-binary kinds reuse most names).
func uniqueKinds(kinds []Kind) []Kind {
	seen := map[string]bool{}
	var out []Kind
	for _, k := range kinds {
		if !seen[k.Name] {
			seen[k.Name] = true
			out = append(out, k)
		}
	}
	return out
}
