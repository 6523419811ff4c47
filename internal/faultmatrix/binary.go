package faultmatrix

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agent-audit/agent-audit/function/handler"
	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/internal/bedrocktest"
	"github.com/agent-audit/agent-audit/internal/firehosetest"
	"github.com/agent-audit/agent-audit/internal/kmstest"
	"github.com/agent-audit/agent-audit/internal/lambdatest"
)

// DefaultEmulators is how many emulators (execution environments) serve a real-binary kind at once.
const DefaultEmulators = 4

// invokePath is the Lambda Invoke API's path for the emulator's one function.
const invokePath = "/2015-03-31/functions/function/invocations"

// BinaryOptions tunes a real-binary run.
type BinaryOptions struct {
	Options
	// Bootstrap is the function binary (lambdatest.Build); one build serves every kind.
	Bootstrap string
	// Emulators is the number of emulators in parallel (default DefaultEmulators).
	Emulators int
}

// BinaryKinds are the kinds that run through the real binary: those whose faults live in the peers (the binary
// offers no test tools, so the tool kinds stay in process). The partial-batch kind runs with the binary's real
// record limit, so each of its batches holds one record and a per-record failure fails that record; mixed draws
// its plans without the test tools. oversize-answer replaces oversize-content: the model's answer is the 1.1 MB.
func BinaryKinds() []Kind {
	var out []Kind
	for _, k := range Kinds() {
		switch k.Name {
		case "tool-panic", "late-span", "sigterm-buffered":
			continue
		case "oversize-content":
			k.Name = "oversize-answer"
			k.Description = "The model answers with 1.1 MB of text, so the `chat` span's output and the root's output go to the bucket under `oversize/`."
			k.Plan = func(*rand.Rand) Plan { return Plan{HugeAnswer: true} }
		case "mixed":
			draw := k.Plan
			k.Plan = func(r *rand.Rand) Plan {
				p := draw(r)
				if p.needsTestTools() {
					p.Tool = "calculator"
				}
				return p
			}
		}
		k.MaxRecordBytes = 0
		out = append(out, k)
	}
	return out
}

// RunBinary runs n invocations of kind k through the real bootstrap under aws-lambda-rie, configured only by its
// environment and pointed at fresh peers, over the Invoke API. The process is out of reach, so Observed.Truth
// is nil: the stored roots' counters say which spans to expect.
func RunBinary(t testing.TB, k Kind, n int, o BinaryOptions) Observed {
	t.Helper()
	if o.Emulators <= 0 {
		o.Emulators = DefaultEmulators
	}
	seed := o.Seed ^ nameHash("binary "+k.Name)
	p := peers{firehose: firehosetest.New(t, Stream), bedrock: bedrocktest.New(t, ProfileARN), kms: kmstest.New(t), store: o.Store}
	model := newScriptedModel(seed, k.Bedrock)
	p.bedrock.Respond(model.respond)
	queue := FaultQueue(k, seed, 8*n+64)
	p.firehose.Inject(queue...)

	deadline := k.Deadline
	if deadline == 0 {
		deadline = DefaultDeadline
	}
	functions := make([]*lambdatest.Function, min(o.Emulators, n))
	for i := range functions {
		functions[i] = lambdatest.Start(t, lambdatest.Options{Bootstrap: o.Bootstrap, Env: p.FunctionEnv(), Timeout: deadline})
	}

	plans := Plans(k, seed, n)
	start := time.Now()
	outcomes := make([]Outcome, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for _, fn := range functions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: deadline + 30*time.Second}
			for i := range next {
				model.expect(i, plans[i])
				outcomes[i] = invokeBinary(client, fn, i, plans[i])
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()

	obs := Observed{Kind: k, Mode: ModeRealBinary, Outcomes: outcomes, Records: p.firehose.Records(Stream),
		Verifier: seal.NewVerifier(p.kms.PublicKey()), Oversize: oversizeReader(o.Store), Elapsed: time.Since(start)}
	obs.FirehoseCalls = p.firehose.Calls()
	obs.FirehoseFaults = faultsApplied(queue, obs.FirehoseCalls)
	obs.BedrockCalls, obs.BedrockFaults = model.counts()
	for _, out := range outcomes {
		if out.ErrKind == "" && !out.OK {
			t.Logf("invocation %d: %s\nlogs of the emulators:\n%s", out.ID, out.Err, tail(functions[0].Logs(), 4000))
			break
		}
	}
	return obs
}

// traceIDInMessage is the trace_id every InvocationError message ends with.
var traceIDInMessage = regexp.MustCompile(`\(trace_id=([0-9a-f]{32})\)$`)

// agentRunType reads the error type of an "agent run failed (<type>)" message.
var agentRunType = regexp.MustCompile(`^agent run failed \(([^)]+)\)`)

// invokeBinary calls the emulator as the Lambda Invoke API does and reads the answer back into an Outcome.
func invokeBinary(client *http.Client, fn *lambdatest.Function, id int, p Plan) Outcome {
	out := Outcome{ID: id, Plan: p}
	resp, err := client.Post(fn.URL+invokePath, "application/json", bytes.NewReader(Payload(id, p)))
	if err != nil {
		out.Err = "invoke: " + err.Error()
		return out
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		out.Err = "read the response: " + err.Error()
		return out
	}
	var fe lambdatest.FunctionError
	if json.Unmarshal(body, &fe) != nil || fe.Type == "" || fe.Message == "" {
		settle(&out, body, nil)
		return out
	}
	out.Err = fe.Type + ": " + fe.Message
	if fe.Type != "InvocationError" {
		return out // the runtime's own error (a crash, a timeout Lambda enforced): no trace_id
	}
	if m := traceIDInMessage.FindStringSubmatch(fe.Message); m != nil {
		out.TraceID = m[1]
	}
	switch {
	case strings.HasPrefix(fe.Message, "invalid event:"):
		out.ErrKind = handler.KindInvalidEvent
	case strings.HasPrefix(fe.Message, "agent run failed"):
		out.ErrKind = handler.KindAgentRun
		if m := agentRunType.FindStringSubmatch(fe.Message); m != nil {
			out.ErrType = m[1]
		}
	case strings.HasPrefix(fe.Message, "audit record not delivered"):
		out.ErrKind = handler.KindAuditDelivery
		out.SpanTooLarge = strings.Contains(fe.Message, "too large")
	default:
		out.ErrKind = fmt.Sprintf("unrecognised (%.40s)", fe.Message)
	}
	return out
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
