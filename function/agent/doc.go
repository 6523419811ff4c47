// Package agent runs a tool-using agent against a Model (Amazon Bedrock's Converse API, or an offline stand-in)
// and records every run as one OpenTelemetry trace that follows the GenAI semantic conventions (v1.41):
//
//   - invoke_agent {agent name} (kind INTERNAL): the root span of a run, a child of the caller's span when ctx
//     carries one (the handler extracts a traceparent). gen_ai.operation.name, gen_ai.provider.name,
//     gen_ai.agent.name, gen_ai.request.model, gen_ai.conversation.id when given; with content capture on, the
//     run's input (gen_ai.input.messages), final answer (gen_ai.output.messages) and gen_ai.system_instructions.
//   - chat {model} (kind CLIENT): one per model call, with gen_ai.request.max_tokens,
//     gen_ai.usage.input_tokens/output_tokens, gen_ai.response.finish_reasons, gen_ai.response.id/model when
//     the provider reports them, aws.request_id for Bedrock (also on a failed call; it finds the call in
//     Bedrock's invocation logs and CloudTrail) and, with content on, the messages sent and received.
//   - execute_tool {tool name} (kind INTERNAL): one per tool call, with gen_ai.tool.name, gen_ai.tool.call.id,
//     gen_ai.tool.type "function" and, with content on, gen_ai.tool.call.arguments and gen_ai.tool.call.result.
//
// Message attributes are JSON strings in the conventions' message schemas (see package telemetry). Bedrock
// carries tool results in user messages; they are recorded with the conventions' "tool" role.
//
// # Extended thinking
//
// With Config.ReasoningBudgetTokens set, every Converse call asks Claude to think (additionalModelRequestFields
// thinking), and the reasoning blocks of each answer stay in the conversation, sent back unchanged with their
// signatures on every later turn, as Converse requires after a tool call. With content capture on, a chat span's
// messages hold them as {"type": "reasoning", "content": ...} parts ({"type": "redacted_reasoning"} for
// reasoning the provider encrypted); signatures and encrypted bytes are never recorded. Converse counts thinking
// in outputTokens, so gen_ai.usage.output_tokens and the run's totals include it.
//
// # Token usage
//
// Only chat spans carry gen_ai.usage.*, so summing that attribute over the spans of a trace counts every model
// call exactly once. The root carries the run's totals under this project's own names,
// agent_audit.usage.input_tokens and agent_audit.usage.output_tokens, with agent_audit.run.turns and
// agent_audit.run.tool_calls, for queries that read one row per run. Putting gen_ai.usage.* on the root as well
// would double every sum.
//
// # Failures
//
// A model error ends the run: the chat span and the root get status ERROR, error.type (the AWS error code such
// as ThrottlingException, "timeout", ...; see ErrorType) and an exception event. MaxTurns model calls that still
// ask for tools end the run with ErrMaxTurns ("max_turns_exceeded"). A tool failure does not: an unknown tool,
// arguments the tool refuses, a tool error or a tool panic (recovered) mark only that execute_tool span ERROR
// and go back to the model as an error result, so it can recover.
//
// # Content capture off
//
// No prompt, answer, tool argument or result, and no error message reaches any span field: not attributes, not
// exception events (exception.type only, no exception.message, no stack trace), not status descriptions (the
// error type instead). Error messages are content too: a model error may quote the prompt, a tool error its
// arguments (pydantic-ai's GHSA-4x9p-g9wm-8q7f leaked content exactly so). With capture on, exception events
// carry the message and statuses the error text. Reject is the exception: its cause is recorded either way, so
// it must name fields and limits, never content.
package agent
