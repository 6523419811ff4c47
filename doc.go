// Package agentaudit is the runtime of an audited AI-agent Lambda: the user's main supplies the agent (its tools,
// system prompt, name and model settings, optionally its own agent.Model), and everything that makes the audit
// trail trustworthy comes with it, exactly as this project's own function (./function) has it:
//
//	func main() {
//		agentaudit.Start(
//			agentaudit.WithAgentName("ticket-agent"),
//			agentaudit.WithSystemPrompt("You answer questions about support tickets."),
//			agentaudit.WithTools(agentaudit.NewTool("lookup_ticket", "Look a ticket up by id.", schema, lookup)),
//			agentaudit.WithModelSettings(agentaudit.ModelSettings{MaxTokens: 512}),
//		)
//	}
//
// # What comes with it
//
//   - The event contract: {"prompt", "conversation_id", "traceparent"}, strictly decoded; a rejected payload is
//     audited as its own ERROR trace (its size and SHA-256, the payload itself only with content capture on).
//   - The per-invocation protocol: the run's deadline is the Lambda deadline less the ship reserve
//     (AUDIT_SHIP_RESERVE, capped at half the time left); the delivery deadline travels in the context to the
//     audit processor; the trace is delivered with FlushTrace before the answer is returned; and the answer is
//     "ok" only when the record was delivered (fail-closed, unless AUDIT_FAIL_OPEN), which includes refusing a
//     run whose root span never reached the audit processor (an unsampled trace).
//   - The per-trace audit processor, the Firehose sink (or a local directory), the oversize store, the seal (a
//     KMS or local key certifying each container's sealing key), and the optional Logfire live view.
//   - The tracer provider samples every span (AlwaysSample) whatever the caller's traceparent says.
//   - The SIGTERM flush: Start runs Function.LastChanceFlush on SIGTERM, asking Lambda for it with package
//     function/sigterm (lambda.WithEnableSIGTERM's registration, started before New so that it overlaps it).
//   - The environment contract: ConfigFromEnv reads the variables of the README's table, named in package
//     agentenv, which the AgentFunction component writes.
//
// # Bring your own instrumentation
//
// Agent code that does not use this project's loop (hand-instrumented calls, a framework that emits
// OpenTelemetry spans) builds the audit half alone with NewTrail, makes its tracer provider with
// Trail.NewTracerProvider (or appends Trail.TracerProviderOptions to its own), and serves with
// lambda.StartWithOptions(trail.Handler(runner), lambda.WithEnableSIGTERM(trail.LastChanceFlush)): its spans
// become the same sealed records, delivered before each answer, fail-closed.
//
// Settings in code are defaults: a variable the environment sets (AGENT_NAME, AGENT_SYSTEM_PROMPT,
// BEDROCK_INFERENCE_PROFILE_ARN, BEDROCK_MODEL_ID) wins, so a deployment can change them without a rebuild.
//
// # Testing an agent
//
// agentaudittest.MemorySink collects the records in memory (WithSink); agent.NewOfflineModel scripts model
// answers without AWS (WithModel). New returns the Function that Start would serve, so a test invokes it directly.
//
// # Stability
//
// Stable API, changed only compatibly: Start, New, Function and its methods, NewTrail, Trail and its methods,
// Config, DefaultConfig, ConfigFromEnv, Config.Validate, ModelSettings, NewTool, the constants here, and every
// Option except the three that pass options through to internal parts (WithLocalSinkOptions,
// WithProcessorOptions, WithSealerOptions). Also stable: in package agent the types a user implements or builds
// (Model, Tool, ToolSpec, Request, Response, Message, Part, Reasoning, ToolCall, ToolResult, Usage, Role and the
// Finish constants, NewOfflineModel and its script); audit.Sink and handler.Runner, the interfaces a user may
// implement; package agentenv; package agentaudittest. Not stable: the fields Function and Trail expose
// (Handler, Processor, Provider), which are for tests, and the rest of the function/... packages. The attributes
// a record carries are documented and versioned by packages audit and seal.
package agentaudit
