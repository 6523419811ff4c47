package faultmatrix

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/agent-audit/agent-audit/internal/bedrocktest"
)

// stallDelay is how long a stalled model holds its answer: longer than any deadline of the matrix.
const stallDelay = 30 * time.Second

// gateTimeout bounds how long a SIGTERM-gated model call waits for the harness (a harness bug, not a fault).
const gateTimeout = 20 * time.Second

// promptTag identifies an invocation in its prompt: "fm#<n>".
var promptTag = regexp.MustCompile(`fm#(\d+)`)

// toolArgs are the arguments the scripted model passes to each tool.
var toolArgs = map[string]string{
	"calculator": `{"expression":"17 * 23"}`,
	"clock":      `{"timezone":"Europe/Dublin"}`,
	"text_stats": `{"text":"the quick brown fox"}`,
}

// scriptedModel answers the Bedrock peer's Converse calls from each invocation's Plan, after drawing the kind's
// Bedrock fault for every request. Safe for concurrent use.
type scriptedModel struct {
	fault func(r *rand.Rand) (bedrocktest.Reply, bool)

	mu     sync.Mutex
	rng    *rand.Rand
	plans  map[int]Plan
	gates  map[int]*gate
	calls  int
	faults int
}

// gate holds a SIGTERM plan's second model call until the harness has delivered SIGTERM.
type gate struct {
	once    sync.Once
	reached chan struct{}
	release chan struct{}
}

func newScriptedModel(seed uint64, fault func(r *rand.Rand) (bedrocktest.Reply, bool)) *scriptedModel {
	return &scriptedModel{fault: fault, rng: rand.New(rand.NewPCG(seed, 0x6265)), plans: map[int]Plan{}, gates: map[int]*gate{}}
}

// expect registers invocation id's plan and, for a SIGTERM plan, returns its gate.
func (m *scriptedModel) expect(id int, p Plan) *gate {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.plans[id] = p
	if !p.SIGTERM {
		return nil
	}
	g := &gate{reached: make(chan struct{}), release: make(chan struct{})}
	m.gates[id] = g
	return g
}

// counts returns the requests answered and the faults among them.
func (m *scriptedModel) counts() (calls, faults int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls, m.faults
}

// respond implements bedrocktest.Server.Respond.
func (m *scriptedModel) respond(req bedrocktest.Request) bedrocktest.Reply {
	id, ok := invocationID(req.Body)
	m.mu.Lock()
	m.calls++
	if m.fault != nil {
		reply, faulted := m.fault(m.rng)
		// The first request is always faulted, so that even a short run exercises the fault.
		for tries := 0; m.calls == 1 && !faulted && tries < 1000; tries++ {
			reply, faulted = m.fault(m.rng)
		}
		if faulted {
			m.faults++
			m.mu.Unlock()
			return reply
		}
	}
	plan, g := m.plans[id], m.gates[id]
	m.mu.Unlock()
	if !ok {
		return bedrocktest.Fault("ValidationException", "faultmatrix: the prompt carries no fm#<n> tag")
	}

	if plan.HugeAnswer {
		return bedrocktest.Reply{Text: strings.Repeat("lorem ipsum ", OversizeResultBytes/12)}
	}
	if plan.ModelStall {
		return bedrocktest.Reply{Text: "too late", Delay: stallDelay}
	}
	if lastHasToolResult(req.Body) {
		if g != nil {
			g.once.Do(func() { close(g.reached) })
			select {
			case <-g.release:
			case <-time.After(gateTimeout):
			}
		}
		return bedrocktest.Reply{Text: fmt.Sprintf("Done with invocation %d.", id)}
	}
	if plan.Tool == "" {
		return bedrocktest.Reply{Text: fmt.Sprintf("Hello from invocation %d.", id)}
	}
	args := toolArgs[plan.Tool]
	if args == "" {
		args = "{}"
	}
	return bedrocktest.Reply{ToolUses: []bedrocktest.ToolUse{{ID: "tooluse_fm" + strconv.Itoa(id), Name: plan.Tool, Input: json.RawMessage(args)}}}
}

// invocationID reads the fm#<n> tag of the conversation's first message.
func invocationID(b bedrocktest.ConverseBody) (int, bool) {
	if len(b.Messages) == 0 {
		return 0, false
	}
	for _, block := range b.Messages[0].Content {
		if text, ok := block["text"].(string); ok {
			if m := promptTag.FindStringSubmatch(text); m != nil {
				n, err := strconv.Atoi(m[1])
				return n, err == nil
			}
		}
	}
	return 0, false
}

func lastHasToolResult(b bedrocktest.ConverseBody) bool {
	if len(b.Messages) == 0 {
		return false
	}
	for _, block := range b.Messages[len(b.Messages)-1].Content {
		if block["toolResult"] != nil {
			return true
		}
	}
	return false
}
