// Package agent runs a tool-using agent against a Model and records every run as an OpenTelemetry trace that
// follows the GenAI semantic conventions (v1.41):
//
//   - invoke_agent {agent name}: the root span of a run (kind INTERNAL), child of the caller's span when the
//     handler passed a traceparent;
//   - chat {model}: one per model call (kind CLIENT), with gen_ai.usage.input_tokens/output_tokens,
//     gen_ai.response.finish_reasons and, with content capture on, gen_ai.input.messages,
//     gen_ai.output.messages and gen_ai.system_instructions;
//   - execute_tool {tool name}: one per tool call (kind INTERNAL), with gen_ai.tool.name, gen_ai.tool.call.id and,
//     with content on, gen_ai.tool.call.arguments and gen_ai.tool.call.result.
//
// Token totals: only chat spans carry gen_ai.usage.*, so summing that attribute over all spans of a trace gives
// the run's usage exactly once. The root carries the same totals as agent_audit.usage.input_tokens and
// agent_audit.usage.output_tokens, for queries that read one row per run.
//
// Content capture off: no prompt, output, tool argument or result, and no model or tool error message reaches any
// span field. Errors are recorded as error.type, an exception event with exception.type only, and a status
// description equal to the error type (pydantic-ai's GHSA-4x9p-g9wm-8q7f leaked content through exception
// messages; this package never records them with capture off).
package agent
