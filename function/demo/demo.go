// Package demo is this project's own demo agent: the tools and system prompt that ./function deploys and that
// `audit run` and `audit demo` run locally, so both run the same agent. The tools are side-effect free
// (agent.DefaultTools: calculator, clock, text_stats); the offline model scripts calls to them.
package demo

import (
	"github.com/agent-audit/agent-audit"
	"github.com/agent-audit/agent-audit/function/agent"
)

// SystemPrompt is the demo agent's system prompt (AGENT_SYSTEM_PROMPT overrides it).
const SystemPrompt = "You are a concise, careful assistant. Use the tools you are given for arithmetic, " +
	"the current time and text statistics instead of guessing, and say briefly what you did."

// Options are the demo agent's settings for agentaudit.Start or agentaudit.New: its tools and system prompt (its
// name is agentaudit.DefaultAgentName).
func Options() []agentaudit.Option {
	return []agentaudit.Option{
		agentaudit.WithSystemPrompt(SystemPrompt),
		agentaudit.WithTools(agent.DefaultTools()...),
	}
}
