package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/aws/smithy-go"
)

// OfflineModelName is the offline model's default logical name and its gen_ai.response.model.
const OfflineModelName = "offline"

// Step is one scripted answer of an OfflineModel.
type Step struct {
	// Text is the assistant's text.
	Text string
	// ToolCalls asks for tools; IDs left empty are filled deterministically.
	ToolCalls []ToolCall
	// Err, when set, is returned instead of an answer.
	Err error
	// FinishReason defaults to tool_call when ToolCalls is set, else stop.
	FinishReason string
	// Usage defaults to the model's deterministic estimate.
	Usage *Usage
}

// OfflineModel is a deterministic model that needs no network, for tests, the local run and demos. Scripted
// (WithScript), it answers with the steps in order across all runs and fails once they are used up. Otherwise it
// behaves like a small tool-using assistant: a prompt holding arithmetic calls calculator, one asking for the time
// or date calls clock, one asking to count words calls text_stats; after tool results it answers from them; any
// other prompt gets a fixed reply. A prompt containing "[fail:<ErrorCode>]" fails with that AWS error code (for
// example [fail:ThrottlingException]), so failure paths can be tried locally. Safe for concurrent use.
type OfflineModel struct {
	name string
	mu   sync.Mutex
	// script is nil for the default behaviour.
	script []Step
	next   int
	p      *patterns
}

// OfflineOption configures an OfflineModel.
type OfflineOption func(*OfflineModel)

// WithScript makes the model answer with steps, in order.
func WithScript(steps ...Step) OfflineOption {
	return func(m *OfflineModel) { m.script = append([]Step{}, steps...) }
}

// WithOfflineName sets the logical model name (default OfflineModelName).
func WithOfflineName(name string) OfflineOption { return func(m *OfflineModel) { m.name = name } }

// NewOfflineModel returns an offline model.
func NewOfflineModel(opts ...OfflineOption) *OfflineModel {
	m := &OfflineModel{name: OfflineModelName, p: offlinePatterns()}
	for _, o := range opts {
		o(m)
	}
	return m
}

var _ Model = (*OfflineModel)(nil)

// Name implements Model.
func (m *OfflineModel) Name() string { return m.name }

// Provider implements Model: the offline model stands in for Bedrock, so its spans read like Bedrock's.
func (m *OfflineModel) Provider() string { return OfflineProviderName }

// Converse implements Model.
func (m *OfflineModel) Converse(ctx context.Context, req Request) (Response, error) {
	if err := ctx.Err(); err != nil {
		return Response{}, err
	}
	step, err := m.step(req)
	if err != nil {
		return Response{}, err
	}
	if step.Err != nil {
		return Response{}, step.Err
	}
	msg := Message{Role: RoleAssistant}
	if step.Text != "" {
		msg.Parts = append(msg.Parts, Part{Text: step.Text})
	}
	for i, c := range step.ToolCalls {
		if c.ID == "" {
			c.ID = deterministicID("tooluse_", req, i)
		}
		if len(c.Arguments) == 0 {
			c.Arguments = json.RawMessage("{}")
		}
		msg.Parts = append(msg.Parts, Part{ToolCall: &c})
	}
	finish := step.FinishReason
	if finish == "" {
		finish = FinishStop
		if len(step.ToolCalls) > 0 {
			finish = FinishToolCall
		}
	}
	usage := estimateUsage(req, msg)
	if step.Usage != nil {
		usage = *step.Usage
	}
	return Response{Message: msg, FinishReason: finish, Usage: usage, ResponseID: deterministicID("offline-", req, -1), ResponseModel: OfflineModelName}, nil
}

func (m *OfflineModel) step(req Request) (Step, error) {
	if m.script == nil {
		return m.p.defaultStep(req), nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.next >= len(m.script) {
		return Step{}, fmt.Errorf("offline model: script of %d steps is used up", len(m.script))
	}
	s := m.script[m.next]
	m.next++
	return s, nil
}

// offlinePatterns are the prompt patterns of the offline model's own behaviour, compiled by the first
// NewOfflineModel rather than at package initialisation: a function configured with Bedrock links this package
// but never builds an offline model, and should not compile them on its cold start.
var offlinePatterns = sync.OnceValue(func() *patterns {
	return &patterns{
		failDirective: regexp.MustCompile(`\[fail:([A-Za-z]+)\]`),
		arithmetic:    regexp.MustCompile(`[-+(]*\d[\d.]*(?:\s*[-+*/%]\s*[-+(]*\s*\d[\d.]*\)*)+`),
		asksTime:      regexp.MustCompile(`(?i)\b(time|date|day is it|clock)\b`),
		asksWords:     regexp.MustCompile(`(?i)\b(how many words|count the words|count words|word count)\b`),
		ianaZone:      regexp.MustCompile(`\b[A-Z][A-Za-z_]+/[A-Z][A-Za-z_]+(?:/[A-Z][A-Za-z_]+)?\b`),
		quoted:        regexp.MustCompile(`"([^"]*)"`),
	}
})

// patterns is what the offline model looks for in a prompt.
type patterns struct {
	failDirective, arithmetic, asksTime, asksWords, ianaZone, quoted *regexp.Regexp
}

// cities maps a few city names to zones so "What time is it in Tokyo?" works offline.
var cities = map[string]string{
	"tokyo": "Asia/Tokyo", "london": "Europe/London", "berlin": "Europe/Berlin", "paris": "Europe/Paris",
	"new york": "America/New_York", "sydney": "Australia/Sydney", "dublin": "Europe/Dublin",
}

// defaultStep is the offline model's own behaviour.
func (p *patterns) defaultStep(req Request) Step {
	if len(req.Messages) == 0 {
		return Step{Text: "Hello! (offline model)"}
	}
	last := req.Messages[len(req.Messages)-1]
	if results := toolResults(last); len(results) > 0 {
		return Step{Text: answerFromResults(req, results)}
	}
	prompt := last.Text()
	if m := p.failDirective.FindStringSubmatch(prompt); m != nil {
		return Step{Err: APIError(m[1], "simulated by the offline model")}
	}
	offered := map[string]bool{}
	for _, t := range req.Tools {
		offered[t.Name] = true
	}
	switch {
	case offered["calculator"] && p.arithmetic.MatchString(prompt):
		return callTool("calculator", map[string]string{"expression": strings.TrimSpace(p.arithmetic.FindString(prompt))})
	case offered["text_stats"] && p.asksWords.MatchString(prompt):
		return callTool("text_stats", map[string]string{"text": p.textToCount(prompt)})
	case offered["clock"] && p.asksTime.MatchString(prompt):
		return callTool("clock", map[string]string{"timezone": p.zoneIn(prompt)})
	}
	return Step{Text: fmt.Sprintf("Hello! This is the offline model; your message had %s. Ask me to calculate, tell the time or count words to see a tool call.", nouns(float64(len(strings.Fields(prompt))), "word"))}
}

func callTool(name string, args map[string]string) Step {
	b, _ := json.Marshal(args)
	return Step{ToolCalls: []ToolCall{{Name: name, Arguments: b}}}
}

func (p *patterns) textToCount(prompt string) string {
	if m := p.quoted.FindStringSubmatch(prompt); m != nil {
		return m[1]
	}
	if i := strings.Index(prompt, ":"); i >= 0 {
		return strings.TrimSpace(prompt[i+1:])
	}
	return prompt
}

func (p *patterns) zoneIn(prompt string) string {
	if z := p.ianaZone.FindString(prompt); z != "" {
		return z
	}
	lower := strings.ToLower(prompt)
	for city, zone := range cities {
		if strings.Contains(lower, city) {
			return zone
		}
	}
	return "UTC"
}

func toolResults(m Message) []ToolResult {
	var out []ToolResult
	for _, p := range m.Parts {
		if p.ToolResult != nil {
			out = append(out, *p.ToolResult)
		}
	}
	return out
}

// answerFromResults phrases tool results, finding each call's tool by ID in the previous assistant message.
func answerFromResults(req Request, results []ToolResult) string {
	names := map[string]string{}
	for _, m := range req.Messages {
		for _, c := range m.ToolCalls() {
			names[c.ID] = c.Name
		}
	}
	var parts []string
	for _, r := range results {
		var v map[string]any
		_ = json.Unmarshal(r.Content, &v)
		switch name := names[r.ID]; {
		case r.IsError:
			parts = append(parts, fmt.Sprintf("The %s tool failed: %v.", name, v["error"]))
		case name == "calculator":
			parts = append(parts, fmt.Sprintf("%v = %v", v["expression"], v["value"]))
		case name == "clock":
			parts = append(parts, fmt.Sprintf("It is %v (%v) in %v.", v["time"], v["weekday"], v["timezone"]))
		case name == "text_stats":
			parts = append(parts, fmt.Sprintf("The text has %s, %s and %s.", nouns(v["words"], "word"), nouns(v["characters"], "character"), nouns(v["lines"], "line")))
		default:
			parts = append(parts, fmt.Sprintf("%s returned %s.", name, r.Content))
		}
	}
	return strings.Join(parts, " ")
}

// estimateUsage counts about four bytes a token, deterministically.
func estimateUsage(req Request, out Message) Usage {
	in := len(req.System)
	for _, m := range req.Messages {
		in += messageBytes(m)
	}
	return Usage{InputTokens: in/4 + 1, OutputTokens: messageBytes(out)/4 + 1}
}

func messageBytes(m Message) int {
	n := 0
	for _, p := range m.Parts {
		n += len(p.Text)
		if p.ToolCall != nil {
			n += len(p.ToolCall.Name) + len(p.ToolCall.Arguments)
		}
		if p.ToolResult != nil {
			n += len(p.ToolResult.Content)
		}
	}
	return n
}

// deterministicID derives an ID from the request, so the same conversation gets the same IDs.
func deterministicID(prefix string, req Request, index int) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d|%s|", index, req.System)
	for _, m := range req.Messages {
		fmt.Fprintf(h, "%s:%d:%s|", m.Role, len(m.Parts), m.Text())
		for _, c := range m.ToolCalls() {
			fmt.Fprintf(h, "%s%s%s|", c.ID, c.Name, c.Arguments)
		}
		for _, r := range toolResults(m) {
			fmt.Fprintf(h, "%s%s|", r.ID, r.Content)
		}
	}
	return prefix + hex.EncodeToString(h.Sum(nil))[:24]
}

// APIError builds an AWS-shaped error (a smithy.APIError with code) for scripted steps.
func APIError(code, message string) error {
	return &smithy.GenericAPIError{Code: code, Message: message, Fault: smithy.FaultServer}
}

// nouns writes a count with its noun in the singular or plural: "1 word", "3 words". n is a number as JSON
// decodes it; anything else is written as it is.
func nouns(n any, noun string) string {
	if f, ok := n.(float64); ok && f == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%v %ss", n, noun)
}
