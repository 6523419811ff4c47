package faultmatrix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"go.opentelemetry.io/otel/trace"

	"github.com/agent-audit/agent-audit"
	"github.com/agent-audit/agent-audit/function/agent"
	"github.com/agent-audit/agent-audit/function/audit"
	"github.com/agent-audit/agent-audit/function/awsjson"
	"github.com/agent-audit/agent-audit/function/demo"
	"github.com/agent-audit/agent-audit/function/handler"
	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/internal/bedrocktest"
	"github.com/agent-audit/agent-audit/internal/firehosetest"
	"github.com/agent-audit/agent-audit/internal/kmstest"
)

// Names the function is configured with.
const (
	Stream     = "agent-audit-faultmatrix"
	ProfileARN = "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/faultmatrix"
	ModelName  = "claude-haiku-4-5"
	AgentName  = "faultmatrix-agent"
)

// tracerName is the function's instrumentation scope (app's own, for the agent built with test tools).
const tracerName = "github.com/agent-audit/agent-audit/function/agent"

// DefaultConcurrency is how many invocations are in flight at once in process.
const DefaultConcurrency = 8

// Options tunes a run.
type Options struct {
	// Seed makes the fault draws and plans reproducible (as far as concurrent scheduling allows).
	Seed uint64
	// Concurrency is the number of invocations in flight (default DefaultConcurrency).
	Concurrency int
	// Store receives oversize content; nil leaves AUDIT_OVERSIZE_BUCKET unset (an oversize span then fails its
	// shipment).
	Store *Store
}

// Outcome is what one invocation returned and what the harness saw of it.
type Outcome struct {
	ID   int
	Plan Plan
	// TraceID is the response's or the error's trace_id.
	TraceID string
	// OK is set when the invocation returned {"status":"ok"}.
	OK bool
	// ErrKind and ErrType are the InvocationError's Kind and Type; Err its message (or a harness failure).
	ErrKind, ErrType, Err string
	// SpanTooLarge is set when the error wraps audit.ErrSpanTooLarge.
	SpanTooLarge bool
	// SIGTERMDelivered is set when SIGTERM arrived mid-run (a SIGTERM plan whose first model call succeeded).
	SIGTERMDelivered bool
	// FlushMissed lists the spans that had ended before SIGTERM but were not stored when LastChanceFlush
	// returned.
	FlushMissed []string
}

// Observed is everything a run of one kind produced, for classification.
type Observed struct {
	Kind     Kind
	Mode     string
	Outcomes []Outcome
	// Records are the records Firehose stored, in arrival order.
	Records [][]byte
	// Truth is every span the process ended, by trace ID; nil when the process is out of reach (real binary):
	// the stored root's run counters then say which spans to expect.
	Truth map[string][]endedSpan
	// Verifier checks every record's seal against the KMS peer's public key.
	Verifier *seal.Verifier
	// Oversize reads the uncompressed content of an oversize object by key; nil when no store was configured.
	Oversize                      func(key string) ([]byte, error)
	FirehoseCalls, FirehoseFaults int
	BedrockCalls, BedrockFaults   int
	Elapsed                       time.Duration
}

// Modes of a row.
const (
	ModeInProcess  = "in-process"
	ModeRealBinary = "real binary"
)

// harness runs one kind in process.
type harness struct {
	kind       Kind
	deadline   time.Duration
	fh         *firehosetest.Server
	model      *scriptedModel
	background *BackgroundTool
	cfg        agentaudit.Config
	logger     *slog.Logger

	mu     sync.Mutex
	truths []*groundTruth
}

// container is one function instance (one agentaudit.New), as one Lambda execution environment.
type container struct {
	app   *agentaudit.Function
	truth *groundTruth
	// own is agentaudit.New's handler (the demo agent, as the function deploys it); withTools is the same
	// processor and provider with an agent that also offers the test tools.
	own, withTools *handler.Handler
}

// RunInProcess runs n invocations of kind k through the function assembled by agentaudit.New from its environment,
// with the real Firehose and Bedrock clients pointed at fresh local peers, and returns what it observed. It sets
// environment variables with t.Setenv, so it must not run in parallel with other tests.
func RunInProcess(t testing.TB, k Kind, n int, o Options) Observed {
	t.Helper()
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	seed := o.Seed ^ nameHash(k.Name)
	h := &harness{kind: k, deadline: k.Deadline, background: NewBackgroundTool(),
		logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if h.deadline == 0 {
		h.deadline = DefaultDeadline
	}
	p := peers{firehose: firehosetest.New(t, Stream), bedrock: bedrocktest.New(t, ProfileARN), kms: kmstest.New(t), store: o.Store}
	h.fh = p.firehose
	h.model = newScriptedModel(seed, k.Bedrock)
	p.bedrock.Respond(h.model.respond)

	queue := FaultQueue(k, seed, 8*n+64)
	h.fh.Inject(queue...)

	env := p.FunctionEnv()
	for key, v := range env {
		t.Setenv(key, v)
	}
	cfg, err := agentaudit.ConfigFromEnv(func(key string) (string, bool) { v, ok := env[key]; return v, ok })
	if err != nil {
		t.Fatalf("function configuration: %v", err)
	}
	h.cfg = cfg
	shared, err := h.newContainer()
	if err != nil {
		t.Fatal(err)
	}

	plans := Plans(k, seed, n)

	start := time.Now()
	outcomes := make([]Outcome, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(o.Concurrency, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				outcomes[i] = h.invoke(shared, i, plans[i])
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()

	obs := Observed{Kind: k, Mode: ModeInProcess, Outcomes: outcomes, Records: h.fh.Records(Stream),
		Truth: map[string][]endedSpan{}, Elapsed: time.Since(start)}
	h.mu.Lock()
	for _, g := range h.truths {
		for _, s := range g.ended() {
			obs.Truth[s.TraceID] = append(obs.Truth[s.TraceID], s)
		}
	}
	h.mu.Unlock()
	obs.Verifier = seal.NewVerifier(p.kms.PublicKey())
	obs.Oversize = oversizeReader(o.Store)
	obs.FirehoseCalls = h.fh.Calls()
	obs.FirehoseFaults = faultsApplied(queue, obs.FirehoseCalls)
	obs.BedrockCalls, obs.BedrockFaults = h.model.counts()
	return obs
}

// Plans draws what each of n invocations of kind k asks for, reproducibly from seed (a clock question when the
// kind has no plan of its own).
func Plans(k Kind, seed uint64, n int) []Plan {
	plans := make([]Plan, n)
	rng := rand.New(rand.NewPCG(seed, 0x706c616e))
	for i := range plans {
		plans[i] = Plan{Tool: "clock"}
		if k.Plan != nil {
			plans[i] = k.Plan(rng)
		}
	}
	return plans
}

// FaultQueue draws kind k's Firehose faults for the first n calls; the peer applies them one per call in order
// (a zero Fault answers normally), so the share of faulted calls holds whatever the concurrency. The first call
// is always faulted, so that even a short run exercises the fault.
func FaultQueue(k Kind, seed uint64, n int) []firehosetest.Fault {
	queue := make([]firehosetest.Fault, n)
	if k.Firehose == nil {
		return queue
	}
	rng := rand.New(rand.NewPCG(seed, 0x66697265))
	for i := range queue {
		queue[i] = k.Firehose(rng)
		for tries := 0; i == 0 && !isFault(queue[0]) && tries < 1000; tries++ {
			queue[0] = k.Firehose(rng)
		}
	}
	return queue
}

// faultsApplied counts the faults among the first calls entries of the queue.
func faultsApplied(queue []firehosetest.Fault, calls int) int {
	n := 0
	for _, f := range queue[:min(calls, len(queue))] {
		if isFault(f) {
			n++
		}
	}
	return n
}

// isFault tells a fault from the zero Fault (answer normally).
func isFault(f firehosetest.Fault) bool {
	return f.Status != 0 || len(f.FailRecords) > 0 || f.Delay > 0 || f.Reset || f.StoreThenFail
}

// newContainer assembles one function instance with agentaudit.New and registers the ground truth on its provider.
func (h *harness) newContainer() (*container, error) {
	ctx := context.Background()
	opts := append(demo.Options(), agentaudit.WithLogger(h.logger))
	if h.kind.MaxRecordBytes > 0 {
		opts = append(opts, agentaudit.WithProcessorOptions(audit.WithMaxRecordBytes(h.kind.MaxRecordBytes)))
	}
	a, err := agentaudit.New(ctx, h.cfg, opts...)
	if err != nil {
		return nil, fmt.Errorf("agentaudit.New: %w", err)
	}
	truth := &groundTruth{}
	a.Provider.RegisterSpanProcessor(truth)
	h.mu.Lock()
	h.truths = append(h.truths, truth)
	h.mu.Unlock()

	// The same model, processor and provider as agentaudit.New's, with the test tools offered beside the function's.
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	model, err := agent.NewBedrockModel(awsjson.NewBedrockRuntime(awsCfg, nil), h.cfg.InferenceProfileARN, h.cfg.ModelName)
	if err != nil {
		return nil, err
	}
	tools, err := agent.NewRegistry(append(agent.DefaultTools(), PanicTool{}, OversizeTool{}, h.background)...)
	if err != nil {
		return nil, err
	}
	ag, err := agent.New(model, tools, agent.Config{
		Name:           h.cfg.AgentName,
		SystemPrompt:   h.cfg.SystemPrompt,
		MaxTurns:       h.cfg.MaxTurns,
		CaptureContent: h.cfg.CaptureContent,
		Tracer:         a.Provider.Tracer(tracerName),
	})
	if err != nil {
		return nil, err
	}
	withTools := handler.New(ag, a.Processor, handler.Config{
		MaxPromptBytes: h.cfg.MaxPromptBytes,
		CaptureContent: h.cfg.CaptureContent,
		FailOpen:       h.cfg.FailOpen,
		ShipReserve:    h.cfg.ShipReserve,
	}, h.logger)
	return &container{app: a, truth: truth, own: a.Handler, withTools: withTools}, nil
}

// Payload is invocation id's event: a prompt tagged fm#<id>, or for an Invalid plan a prompt of the wrong type.
func Payload(id int, p Plan) []byte {
	if p.Invalid {
		return fmt.Appendf(nil, `{"prompt": %d, "conversation_id": "fm#%d"}`, id, id)
	}
	b, _ := json.Marshal(map[string]string{"prompt": fmt.Sprintf("fm#%d: please help with task %d", id, id), "conversation_id": fmt.Sprintf("fm-%d", id)})
	return b
}

// invoke runs invocation id in c, or in a fresh container for a SIGTERM plan.
func (h *harness) invoke(shared *container, id int, p Plan) Outcome {
	out := Outcome{ID: id, Plan: p}
	g := h.model.expect(id, p)
	c := shared
	if p.SIGTERM {
		fresh, err := h.newContainer()
		if err != nil {
			out.Err = err.Error()
			return out
		}
		c = fresh
	}
	hd := c.own
	if p.needsTestTools() {
		hd = c.withTools
	}

	ctx, cancel := context.WithTimeout(context.Background(), h.deadline)
	defer cancel()
	type result struct {
		resp []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := hd.Invoke(ctx, Payload(id, p))
		done <- result{resp, err}
	}()
	var r result
	if g != nil {
		select {
		case <-g.reached:
			out.SIGTERMDelivered = true
			ended := c.truth.ended()
			c.app.LastChanceFlush()
			stored := storedSpanIDs(h.fh.Records(Stream))
			for _, s := range ended {
				if !stored[s.SpanID] {
					out.FlushMissed = append(out.FlushMissed, s.Name+" "+s.SpanID)
				}
			}
			close(g.release)
			r = <-done
		case r = <-done:
		}
	} else {
		r = <-done
	}

	settle(&out, r.resp, r.err)
	if id, err := trace.TraceIDFromHex(out.TraceID); err == nil {
		h.background.Release(id)
	}
	return out
}

// settle fills out from an invocation's response or error.
func settle(out *Outcome, resp []byte, err error) {
	if err == nil {
		var r handler.Response
		if jerr := json.Unmarshal(resp, &r); jerr != nil || r.Status != handler.StatusOK {
			out.Err = fmt.Sprintf("unexpected response %q", resp)
			return
		}
		out.OK, out.TraceID = true, r.TraceID
		return
	}
	out.Err = err.Error()
	out.SpanTooLarge = errors.Is(err, audit.ErrSpanTooLarge)
	var ie *handler.InvocationError
	if errors.As(err, &ie) {
		out.TraceID, out.ErrKind, out.ErrType = ie.TraceID, ie.Kind, ie.Type
	}
}

// nameHash spreads kinds over seeds.
func nameHash(s string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(s))
	return h.Sum64()
}
