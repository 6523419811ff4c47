package faultmatrix

import (
	"math/rand/v2"
	"time"

	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/internal/bedrocktest"
	"github.com/agent-audit/agent-audit/internal/firehosetest"
)

// Kind is one row of the matrix: which faults are injected and what the invocations do.
type Kind struct {
	// Name is the row's name (lowercase, hyphenated).
	Name string
	// Description says what the fault does, for docs/reliability.md (Markdown, one paragraph).
	Description string
	// Firehose draws the fault of one PutRecordBatch call; nil or a zero Fault answers normally.
	Firehose func(r *rand.Rand) firehosetest.Fault
	// Bedrock draws the fault of one Converse request (every SDK attempt is one); ok false answers normally.
	Bedrock func(r *rand.Rand) (reply bedrocktest.Reply, ok bool)
	// Plan draws what one invocation does; nil is a plain run with one tool call.
	Plan func(r *rand.Rand) Plan
	// Deadline is the Lambda deadline of each invocation, from its start (default DefaultDeadline).
	Deadline time.Duration
	// MaxRecordBytes, when set, lowers the audit record limit so shipments split into several records and a
	// PutRecordBatch carries several of them.
	MaxRecordBytes int
	// Weight scales the invocation count of this kind (default 1); heavy kinds run fewer.
	Weight float64
}

// DefaultDeadline is an invocation's Lambda deadline unless its kind says otherwise (10 s).
const DefaultDeadline = 10 * time.Second

// Plan is what one invocation does.
type Plan struct {
	// Tool is the tool the model asks for on its first turn; "" answers at once.
	Tool string
	// Invalid sends a payload the handler rejects (the rejection is audited as an ERROR trace).
	Invalid bool
	// ModelStall makes the model's answer arrive after the Lambda deadline: the run is cut at deadline − reserve.
	ModelStall bool
	// SIGTERM runs the invocation in a fresh container and delivers SIGTERM (Function.LastChanceFlush) while its
	// second model call is in flight, with the first model call and the tool call ended and buffered.
	SIGTERM bool
	// HugeAnswer makes the model answer with OversizeResultBytes of text.
	HugeAnswer bool
}

// Test tools registered beside the function's default tools (see tools.go).
const (
	ToolPanic      = "unstable_plugin"
	ToolOversize   = "fetch_document"
	ToolBackground = "background_refresh"
)

// defaultTools are the function's own tools.
var defaultTools = []string{"calculator", "clock", "text_stats"}

// needsTestTools tells whether a plan asks for a tool the function does not ship.
func (p Plan) needsTestTools() bool {
	return p.Tool == ToolPanic || p.Tool == ToolOversize || p.Tool == ToolBackground
}

// plainPlan calls one of the function's own tools, or none.
func plainPlan(r *rand.Rand) Plan {
	if r.IntN(4) == 0 {
		return Plan{}
	}
	return Plan{Tool: defaultTools[r.IntN(len(defaultTools))]}
}

// chance is true with probability p.
func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

// Kinds is the catalogue, in table order. The in-process rows are these; real-binary rows reuse their faults.
func Kinds() []Kind {
	throttle := firehosetest.Fault{Status: 500, Code: "ServiceUnavailableException"}
	firehose5xx := []firehosetest.Fault{
		{Status: 500, Code: "InternalFailure"},
		{Status: 503, Code: "ServiceUnavailableException"},
		{Status: 502},
		{Status: 504},
	}
	bedrockErrors := []bedrocktest.Reply{
		bedrocktest.Fault("InternalServerException", "The server encountered an error processing the request."),
		bedrocktest.Fault("ServiceUnavailableException", "Bedrock is unable to process your request."),
		bedrocktest.Fault("ModelErrorException", "The model produced an invalid response."),
		bedrocktest.Fault("ModelTimeoutException", "The request took too long to process."),
		bedrocktest.Fault("ValidationException", "Malformed input request."),
		bedrocktest.Fault("AccessDeniedException", "You don't have access to the model with the specified model ID."),
	}
	fhMixed := func(r *rand.Rand) firehosetest.Fault {
		if !chance(r, 0.3) {
			return firehosetest.Fault{}
		}
		switch r.IntN(6) {
		case 0:
			return throttle
		case 1:
			return firehose5xx[r.IntN(len(firehose5xx))]
		case 2:
			return firehosetest.Fault{FailRecords: failSome(r)}
		case 3:
			return firehosetest.Fault{Reset: true}
		case 4:
			return firehosetest.Fault{Status: 503, Code: "ServiceUnavailableException", StoreThenFail: true}
		default:
			return firehosetest.Fault{Delay: time.Duration(300+r.IntN(700)) * time.Millisecond}
		}
	}
	return []Kind{
		{
			Name:        "none (control)",
			Description: "No fault. Runs call one of the function's tools or none; the control row.",
			Plan:        plainPlan,
		},
		{
			Name:        "firehose-throttle-30",
			Description: "Each PutRecordBatch call is throttled with probability 0.3: HTTP 500 `ServiceUnavailableException`, what Firehose answers when a stream's throughput limit is exceeded.",
			Firehose: func(r *rand.Rand) firehosetest.Fault {
				if chance(r, 0.3) {
					return throttle
				}
				return firehosetest.Fault{}
			},
			Plan: plainPlan,
		},
		{
			Name:        "firehose-5xx",
			Description: "Each call fails with probability 0.3 with a server error: 500 `InternalFailure`, 503 `ServiceUnavailableException`, or a bare 502 or 504 without an error code (a load balancer's answer).",
			Firehose: func(r *rand.Rand) firehosetest.Fault {
				if chance(r, 0.3) {
					return firehose5xx[r.IntN(len(firehose5xx))]
				}
				return firehosetest.Fault{}
			},
			Plan: plainPlan,
		},
		{
			Name:        "firehose-partial-batch",
			Description: "With probability 0.5 a PutRecordBatch succeeds partially: Firehose stores some records and answers `ServiceUnavailableException` for one to three others inside a 200 response (`FailedPutCount` > 0). The record limit is lowered to 4 KiB of content (plus the seal's reserve) so every trace splits into several records and one call carries several.",
			Firehose: func(r *rand.Rand) firehosetest.Fault {
				if chance(r, 0.5) {
					return firehosetest.Fault{FailRecords: failSome(r)}
				}
				return firehosetest.Fault{}
			},
			MaxRecordBytes: recordBytes4KiB,
			Plan:           plainPlan,
		},
		{
			Name:        "firehose-connection-reset",
			Description: "With probability 0.3 the server reads the request and closes the connection without answering (a TCP reset as the client sees it).",
			Firehose: func(r *rand.Rand) firehosetest.Fault {
				if chance(r, 0.3) {
					return firehosetest.Fault{Reset: true}
				}
				return firehosetest.Fault{}
			},
			Plan: plainPlan,
		},
		{
			Name:        "firehose-lost-ack",
			Description: "With probability 0.3 the server stores the records and then answers 503 `ServiceUnavailableException`, as when an acknowledgement is lost: the sink retries and the record is stored twice. Duplicates are expected here and must be byte-identical copies of the same (batch_key, part).",
			Firehose: func(r *rand.Rand) firehosetest.Fault {
				if chance(r, 0.3) {
					return firehosetest.Fault{Status: 503, Code: "ServiceUnavailableException", StoreThenFail: true}
				}
				return firehosetest.Fault{}
			},
			Plan: plainPlan,
		},
		{
			Name:        "firehose-slow",
			Description: "Lambda deadline 3 s (ship reserve 1.5 s, the cap at half the time left). With probability 0.3 a call is answered after 1.5–2.4 s, close to the delivery deadline (deadline − 200 ms) of a run that finished at once; a retry after a slow call has no room left, so the row shows whether the first attempt gets the whole budget.",
			Firehose: func(r *rand.Rand) firehosetest.Fault {
				if chance(r, 0.3) {
					return firehosetest.Fault{Delay: time.Duration(1500+r.IntN(900)) * time.Millisecond}
				}
				return firehosetest.Fault{}
			},
			Deadline: 3 * time.Second,
			Plan:     plainPlan,
		},
		{
			Name:        "bedrock-throttle-30",
			Description: "Each Converse request is throttled with probability 0.3 (HTTP 429 `ThrottlingException`). The SDK's standard retryer tries three times; a run whose three attempts are all throttled fails with an ERROR trace.",
			Bedrock: func(r *rand.Rand) (bedrocktest.Reply, bool) {
				if chance(r, 0.3) {
					return bedrocktest.Fault("ThrottlingException", "Too many requests, please wait before trying again."), true
				}
				return bedrocktest.Reply{}, false
			},
			Plan: plainPlan,
		},
		{
			Name:        "bedrock-errors",
			Description: "Each Converse request fails with probability 0.3 with one of Bedrock's errors: `InternalServerException` (500), `ServiceUnavailableException` (503), `ModelErrorException` (424), `ModelTimeoutException` (408), `ValidationException` (400), `AccessDeniedException` (403). The SDK retries the retryable ones; the run fails on the rest.",
			Bedrock: func(r *rand.Rand) (bedrocktest.Reply, bool) {
				if chance(r, 0.3) {
					return bedrockErrors[r.IntN(len(bedrockErrors))], true
				}
				return bedrocktest.Reply{}, false
			},
			Plan: plainPlan,
		},
		{
			Name:        "tool-panic",
			Description: "The model calls a tool that panics (`" + ToolPanic + "`, registered beside the function's tools). The agent recovers it as an error result with `error.type = tool_panic`; the run goes on and answers.",
			Plan:        func(*rand.Rand) Plan { return Plan{Tool: ToolPanic} },
		},
		{
			Name:        "function-timeout",
			Description: "Lambda deadline 1.5 s; the model's answer would come after 30 s. The handler cuts the run at deadline − reserve (the reserve capped at half the time left) and ships the ERROR trace (`error.type = timeout`) in the reserve, before the deadline. Half the runs call a tool first.",
			Plan: func(r *rand.Rand) Plan {
				p := Plan{ModelStall: true}
				if r.IntN(2) == 0 {
					p.Tool = defaultTools[r.IntN(len(defaultTools))]
				}
				return p
			},
			Deadline: 1500 * time.Millisecond,
		},
		{
			Name:        "late-span",
			Description: "A tool (`" + ToolBackground + "`) starts a child span and leaves it open; the harness ends it after the invocation returned. The trace ships without it when the invocation ends, and the late span ships as a follow-up record of the same trace.",
			Plan:        func(*rand.Rand) Plan { return Plan{Tool: ToolBackground} },
		},
		{
			Name:        "sigterm-buffered",
			Description: "Each invocation runs in a fresh container (a new `agentaudit.New`). While its second model call is in flight — the first `chat` and the `execute_tool` spans ended and buffered, the root open — SIGTERM arrives and `Function.LastChanceFlush` ships what is buffered; then the call completes and the invocation returns. Stored requires the flushed spans to be stored by the flush itself and the rest to follow.",
			Plan: func(r *rand.Rand) Plan {
				return Plan{SIGTERM: true, Tool: defaultTools[r.IntN(len(defaultTools))]}
			},
		},
		{
			Name:        "oversize-content",
			Description: "A tool (`" + ToolOversize + "`) returns 1.1 MB of JSON, so its `execute_tool` span and the next `chat` span do not fit a 1,000 KiB Firehose record on their own: their largest attributes go to the Object Lock bucket under `oversize/` (`AUDIT_OVERSIZE_BUCKET`, a real MinIO) and the spans carry the reference. Stored requires every referenced object to exist and match its `agent_audit.oversize.sha256`.",
			Plan:        func(*rand.Rand) Plan { return Plan{Tool: ToolOversize} },
			Weight:      0.5,
		},
		{
			Name:        "mixed",
			Description: "All at once, at lower rates: each Firehose call faulted with probability 0.3 (throttle, 5xx, partial batch, reset, lost acknowledgement, or a 0.3–1 s delay, equally likely); each Bedrock request throttled or failed with probability 0.15; runs that call the panicking tool, leave a late span, stall past the 10 s deadline, or send an invalid event; records of 4 KiB of content.",
			Firehose:    fhMixed,
			Bedrock: func(r *rand.Rand) (bedrocktest.Reply, bool) {
				if !chance(r, 0.15) {
					return bedrocktest.Reply{}, false
				}
				if r.IntN(2) == 0 {
					return bedrocktest.Fault("ThrottlingException", "Too many requests, please wait before trying again."), true
				}
				return bedrockErrors[r.IntN(len(bedrockErrors))], true
			},
			Plan: func(r *rand.Rand) Plan {
				switch r.IntN(8) {
				case 0:
					return Plan{Tool: ToolPanic}
				case 1:
					return Plan{Tool: ToolBackground}
				case 2:
					return Plan{ModelStall: true, Tool: defaultTools[r.IntN(len(defaultTools))]}
				case 3:
					return Plan{Invalid: true}
				default:
					return plainPlan(r)
				}
			},
			MaxRecordBytes: recordBytes4KiB,
		},
	}
}

// recordBytes4KiB is a record limit leaving 4 KiB for a record's content besides the seal's reserve: every
// trace with a model call splits, and the largest single span still fits. That is a failed run's invoke_agent
// span with content capture on, which carries the error text twice (its status and its exception event), and
// neither can be stored apart: 3,099 bytes were seen for a Bedrock timeout, over the 3 KiB this limit once left.
const recordBytes4KiB = seal.Overhead + 4*1024

// failSome picks one to three record indexes among the first four.
func failSome(r *rand.Rand) []int {
	idx := r.Perm(4)
	return idx[:1+r.IntN(3)]
}
