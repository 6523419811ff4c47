package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"
	"go.opentelemetry.io/otel/trace"
)

// DefaultMaxTokens bounds each model answer when Config.MaxTokens is zero.
const DefaultMaxTokens = 1024

// MinReasoningBudgetTokens is the smallest extended-thinking budget Claude accepts (1,024 tokens).
const MinReasoningBudgetTokens = 1024

// Run-level attributes on the invoke_agent span (this project's namespace; see the package doc).
const (
	AttrUsageInputTokens  = attribute.Key("agent_audit.usage.input_tokens")
	AttrUsageOutputTokens = attribute.Key("agent_audit.usage.output_tokens")
	AttrRunTurns          = attribute.Key("agent_audit.run.turns")
	AttrRunToolCalls      = attribute.Key("agent_audit.run.tool_calls")
)

// Config configures an Agent.
type Config struct {
	// Name is the agent's name: span "invoke_agent {Name}", gen_ai.agent.name. Required.
	Name string
	// SystemPrompt is sent with every model call.
	SystemPrompt string
	// MaxTurns bounds model calls per run. Required, at least 1.
	MaxTurns int
	// MaxTokens bounds each model answer (default DefaultMaxTokens).
	MaxTokens int
	// Temperature and TopP, when set, are sent with every model call (each 0..1); nil leaves the provider's
	// default. StopSequences, when set, end an answer at any of them.
	Temperature, TopP *float64
	StopSequences     []string
	// ReasoningBudgetTokens turns extended thinking on with this budget: at least MinReasoningBudgetTokens and
	// less than MaxTokens; 0 leaves it off. Claude's thinking cannot be combined with Temperature or TopP. The
	// reasoning blocks go back to the model on every later turn and, with content capture on, are recorded as
	// reasoning parts of the chat spans' messages.
	ReasoningBudgetTokens int
	// CaptureContent records prompts, outputs, tool arguments and results, and error messages on spans.
	CaptureContent bool
	// Tracer starts the run's spans. Required.
	Tracer trace.Tracer
}

// Agent runs prompts through a Model with tools. Safe for concurrent use; it keeps no state between runs.
type Agent struct {
	model Model
	tools *Registry
	cfg   Config
}

// Input is one run's input.
type Input struct {
	// Prompt is the user's message; the handler bounds its size before Run.
	Prompt string
	// ConversationID is recorded as gen_ai.conversation.id on every span of the run when set.
	ConversationID string
}

// Result is one run's outcome. TraceID is set even when Run returns an error.
type Result struct {
	// Output is the model's final text ("" when the run failed).
	Output string
	// TraceID identifies the run's trace: the caller's when ctx carried a span, else a new one.
	TraceID trace.TraceID
	// Usage is the sum over the run's model calls, failed calls included when the model reported usage.
	Usage Usage
	// Turns counts model calls; ToolCalls counts tool executions, failed ones included.
	Turns, ToolCalls int
}

// New checks the configuration and returns an Agent. The error names every bad field.
func New(model Model, tools *Registry, cfg Config) (*Agent, error) {
	var errs []error
	if model == nil {
		errs = append(errs, errors.New("model: required"))
	}
	if cfg.Name == "" {
		errs = append(errs, errors.New("Name: required"))
	}
	if cfg.MaxTurns < 1 {
		errs = append(errs, fmt.Errorf("MaxTurns: %d, want at least 1", cfg.MaxTurns))
	}
	if cfg.MaxTokens < 0 {
		errs = append(errs, fmt.Errorf("MaxTokens: %d, want 0 (default) or more", cfg.MaxTokens))
	}
	if t := cfg.Temperature; t != nil && (*t < 0 || *t > 1) {
		errs = append(errs, fmt.Errorf("Temperature: %v is outside 0..1", *t))
	}
	if p := cfg.TopP; p != nil && (*p < 0 || *p > 1) {
		errs = append(errs, fmt.Errorf("TopP: %v is outside 0..1", *p))
	}
	if cfg.MaxTokens == 0 {
		cfg.MaxTokens = DefaultMaxTokens
	}
	if b := cfg.ReasoningBudgetTokens; b != 0 {
		switch {
		case b < MinReasoningBudgetTokens || b >= cfg.MaxTokens:
			errs = append(errs, fmt.Errorf("ReasoningBudgetTokens: %d, want %d or more and less than MaxTokens (%d)", b, MinReasoningBudgetTokens, cfg.MaxTokens))
		case cfg.Temperature != nil || cfg.TopP != nil:
			errs = append(errs, errors.New("ReasoningBudgetTokens: extended thinking cannot be combined with Temperature or TopP"))
		}
	}
	if cfg.Tracer == nil {
		errs = append(errs, errors.New("Tracer: required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("agent config: %w", err)
	}
	if tools == nil {
		tools = &Registry{tools: map[string]Tool{}}
	}
	return &Agent{model: model, tools: tools, cfg: cfg}, nil
}

// Run runs the tool-use loop: call the model, execute the tools it asks for, feed the results back, until it
// answers without tool calls. Model errors (a panic in the model client included) and the MaxTurns bound end the
// run with an error; tool failures (unknown tool, bad arguments, error, panic) become error results the model sees,
// and the run goes on. Any other panic during the run ends it with a PanicError. The
// invoke_agent span has ended, with every child, when Run returns.
func (a *Agent) Run(ctx context.Context, in Input) (res Result, err error) {
	ctx, root := a.cfg.Tracer.Start(ctx, "invoke_agent "+a.cfg.Name,
		trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(a.baseAttrs(semconv.GenAIOperationNameInvokeAgent, in.ConversationID)...),
		trace.WithAttributes(semconv.GenAIAgentName(a.cfg.Name)))
	res.TraceID = root.SpanContext().TraceID()
	prompt := Message{Role: RoleUser, Parts: []Part{{Text: in.Prompt}}}
	if a.cfg.CaptureContent {
		root.SetAttributes(semconv.GenAIInputMessagesKey.String(messagesJSON([]Message{prompt}, "")))
		if a.cfg.SystemPrompt != "" {
			root.SetAttributes(semconv.GenAISystemInstructionsKey.String(systemJSON(a.cfg.SystemPrompt)))
		}
	}
	finish := FinishStop // the last model call's finish reason, for the run's output message
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Where: "agent run", Value: r}
		}
		root.SetAttributes(
			AttrUsageInputTokens.Int(res.Usage.InputTokens),
			AttrUsageOutputTokens.Int(res.Usage.OutputTokens),
			AttrRunTurns.Int(res.Turns),
			AttrRunToolCalls.Int(res.ToolCalls))
		if err != nil {
			a.recordError(root, err)
		} else if a.cfg.CaptureContent {
			final := Message{Role: RoleAssistant, Parts: []Part{{Text: res.Output}}}
			root.SetAttributes(semconv.GenAIOutputMessagesKey.String(messagesJSON([]Message{final}, finish)))
		}
		root.End()
	}()

	req := Request{System: a.cfg.SystemPrompt, Messages: []Message{prompt}, Tools: a.tools.Specs(), MaxTokens: a.cfg.MaxTokens,
		Temperature: a.cfg.Temperature, TopP: a.cfg.TopP, StopSequences: a.cfg.StopSequences, ReasoningBudgetTokens: a.cfg.ReasoningBudgetTokens}
	for {
		if res.Turns == a.cfg.MaxTurns {
			return res, fmt.Errorf("after %d model calls: %w", res.Turns, ErrMaxTurns)
		}
		res.Turns++
		resp, err := a.chat(ctx, req, in.ConversationID)
		res.Usage = res.Usage.Add(resp.Usage)
		if err != nil {
			return res, fmt.Errorf("model call %d: %w", res.Turns, err)
		}
		req.Messages = append(req.Messages, resp.Message)
		calls := resp.Message.ToolCalls()
		if len(calls) == 0 {
			res.Output, finish = resp.Message.Text(), resp.FinishReason
			return res, nil
		}
		results := Message{Role: RoleUser}
		for _, call := range calls {
			res.ToolCalls++
			r := a.executeTool(ctx, call, in.ConversationID)
			results.Parts = append(results.Parts, Part{ToolResult: &r})
		}
		req.Messages = append(req.Messages, results)
	}
}

// Reject records a request the handler refused as a trace of its own: an invoke_agent span with status ERROR,
// error.type "invalid_request", the cause, and attrs. The cause's message is recorded whatever the content
// setting, so it must name fields and limits, never content (the handler's EventError does so).
func (a *Agent) Reject(ctx context.Context, in Input, cause error, attrs ...attribute.KeyValue) trace.TraceID {
	if cause == nil {
		cause = errors.New("request rejected")
	}
	_, root := a.cfg.Tracer.Start(ctx, "invoke_agent "+a.cfg.Name,
		trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(a.baseAttrs(semconv.GenAIOperationNameInvokeAgent, in.ConversationID)...),
		trace.WithAttributes(semconv.GenAIAgentName(a.cfg.Name)),
		trace.WithAttributes(attrs...))
	root.SetAttributes(semconv.ErrorTypeKey.String(ErrorTypeInvalidRequest))
	root.AddEvent(semconv.ExceptionEventName, trace.WithAttributes(
		semconv.ExceptionTypeKey.String(ErrorTypeInvalidRequest),
		semconv.ExceptionMessageKey.String(cause.Error())))
	root.SetStatus(codes.Error, cause.Error())
	root.End()
	return root.SpanContext().TraceID()
}

// chat makes one instrumented model call.
func (a *Agent) chat(ctx context.Context, req Request, conversationID string) (Response, error) {
	ctx, span := a.cfg.Tracer.Start(ctx, "chat "+a.model.Name(),
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(a.baseAttrs(semconv.GenAIOperationNameChat, conversationID)...),
		trace.WithAttributes(semconv.GenAIRequestMaxTokens(req.MaxTokens)))
	defer span.End()
	if req.Temperature != nil {
		span.SetAttributes(semconv.GenAIRequestTemperature(*req.Temperature))
	}
	if req.TopP != nil {
		span.SetAttributes(semconv.GenAIRequestTopP(*req.TopP))
	}
	if len(req.StopSequences) > 0 {
		span.SetAttributes(semconv.GenAIRequestStopSequences(req.StopSequences...))
	}
	if a.cfg.CaptureContent {
		span.SetAttributes(semconv.GenAIInputMessagesKey.String(messagesJSON(req.Messages, "")))
		if req.System != "" {
			span.SetAttributes(semconv.GenAISystemInstructionsKey.String(systemJSON(req.System)))
		}
	}
	resp, err := safeConverse(ctx, a.model, req)
	if err != nil {
		a.recordError(span, err)
		return resp, err
	}
	span.SetAttributes(
		semconv.GenAIResponseFinishReasons(resp.FinishReason),
		semconv.GenAIUsageInputTokens(resp.Usage.InputTokens),
		semconv.GenAIUsageOutputTokens(resp.Usage.OutputTokens))
	if resp.ResponseModel != "" {
		span.SetAttributes(semconv.GenAIResponseModel(resp.ResponseModel))
	}
	if resp.ResponseID != "" {
		span.SetAttributes(semconv.GenAIResponseID(resp.ResponseID))
	}
	if resp.RequestID != "" {
		span.SetAttributes(semconv.AWSRequestID(resp.RequestID))
	}
	if a.cfg.CaptureContent {
		span.SetAttributes(semconv.GenAIOutputMessagesKey.String(messagesJSON([]Message{resp.Message}, resp.FinishReason)))
	}
	return resp, nil
}

// executeTool runs one tool call in its own span and always returns a result for the model: the tool's output,
// or {"error": "..."} when the tool is unknown, refuses its arguments, fails or panics.
func (a *Agent) executeTool(ctx context.Context, call ToolCall, conversationID string) ToolResult {
	ctx, span := a.cfg.Tracer.Start(ctx, "execute_tool "+call.Name,
		trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(a.baseAttrs(semconv.GenAIOperationNameExecuteTool, conversationID)...),
		trace.WithAttributes(
			semconv.GenAIToolName(call.Name),
			semconv.GenAIToolCallID(call.ID),
			semconv.GenAIToolType("function")))
	defer span.End()
	if a.cfg.CaptureContent {
		span.SetAttributes(semconv.GenAIToolCallArgumentsKey.String(string(call.Arguments)))
	}

	var out json.RawMessage
	var err error
	if tool, ok := a.tools.Lookup(call.Name); !ok {
		err = &ToolError{Tool: call.Name, Type: ErrorTypeUnknownTool, Err: fmt.Errorf("no such tool; the tools are %s", a.tools.names())}
	} else if out, err = safeCall(ctx, tool, call.Arguments); err == nil && !json.Valid(out) {
		err = &ToolError{Tool: call.Name, Type: ErrorTypeTool, Err: errors.New("tool returned invalid JSON")}
	}
	result := ToolResult{ID: call.ID, Content: out}
	if err != nil {
		var te *ToolError
		if !errors.As(err, &te) {
			err = &ToolError{Tool: call.Name, Type: ErrorTypeTool, Err: err}
		}
		result = ToolResult{ID: call.ID, Content: errorResult(err), IsError: true}
		a.recordError(span, err)
	}
	if a.cfg.CaptureContent {
		span.SetAttributes(semconv.GenAIToolCallResultKey.String(string(result.Content)))
	}
	return result
}

// errorResult is what the model reads about a failed call: the error, except for a panic, whose value says
// more about the tool's insides than the model can use.
func errorResult(err error) json.RawMessage {
	msg := err.Error()
	if ErrorType(err) == ErrorTypeToolPanic {
		msg = "the tool failed unexpectedly"
	}
	b, _ := json.Marshal(map[string]string{"error": msg}) // a map of strings always encodes
	return b
}

// safeCall runs the tool, turning a panic into a ToolError so one broken tool cannot take the run (or the
// audit of it) down.
func safeCall(ctx context.Context, t Tool, args json.RawMessage) (out json.RawMessage, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, &ToolError{Tool: t.Spec().Name, Type: ErrorTypeToolPanic, Err: fmt.Errorf("panic: %v", r)}
		}
	}()
	return t.Call(ctx, args)
}

// safeConverse calls the model, turning a panic in its client into a PanicError, so the chat span and the run
// record the failure.
func safeConverse(ctx context.Context, m Model, req Request) (resp Response, err error) {
	defer func() {
		if r := recover(); r != nil {
			resp, err = Response{}, &PanicError{Where: "model call", Value: r}
		}
	}()
	return m.Converse(ctx, req)
}

// baseAttrs are on every span of a run.
func (a *Agent) baseAttrs(op attribute.KeyValue, conversationID string) []attribute.KeyValue {
	attrs := []attribute.KeyValue{
		op,
		semconv.GenAIProviderNameKey.String(a.model.Provider()),
		semconv.GenAIRequestModel(a.model.Name()),
	}
	if conversationID != "" {
		attrs = append(attrs, semconv.GenAIConversationID(conversationID))
	}
	return attrs
}

// recordError marks span failed: error.type, an exception event and status ERROR. With content capture on, the
// event carries exception.message and the status the error text; with it off both carry only the error type,
// because error messages routinely quote their input (a model echoing the prompt, a tool echoing its arguments).
// No stack trace is recorded either way.
func (a *Agent) recordError(span trace.Span, err error) {
	typ := ErrorType(err)
	span.SetAttributes(semconv.ErrorTypeKey.String(typ))
	if id := awsRequestID(err); id != "" {
		span.SetAttributes(semconv.AWSRequestID(id))
	}
	event := []attribute.KeyValue{semconv.ExceptionTypeKey.String(typ)}
	description := typ
	if a.cfg.CaptureContent {
		event = append(event, semconv.ExceptionMessageKey.String(err.Error()))
		description = err.Error()
	}
	span.AddEvent(semconv.ExceptionEventName, trace.WithAttributes(event...))
	span.SetStatus(codes.Error, description)
}
