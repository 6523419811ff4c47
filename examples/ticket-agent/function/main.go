// Command bootstrap is the example ticket agent: a support-desk assistant with its own tools (lookup_ticket,
// sla_status over an in-memory ticket store) and its own system prompt, made an audited AWS Lambda function by
// agentaudit.Start. It reads the same environment contract as ./function (the README's table), which the
// AgentFunction component of ../main.go sets.
//
// Build: CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -trimpath -ldflags "-s -w" -o bootstrap ./examples/ticket-agent/function
package main

import "github.com/agent-audit/agent-audit"

// AgentName is the ticket agent's name: its spans are "invoke_agent ticket-agent".
const AgentName = "ticket-agent"

// SystemPrompt is the ticket agent's system prompt.
const SystemPrompt = "You are the support desk's assistant. Answer questions about support tickets by looking them " +
	"up with lookup_ticket and sla_status; never guess a ticket's state. If a tool fails, say so plainly."

func main() {
	agentaudit.Start(
		agentaudit.WithAgentName(AgentName),
		agentaudit.WithSystemPrompt(SystemPrompt),
		agentaudit.WithTools(tools()...),
		agentaudit.WithModelSettings(agentaudit.ModelSettings{MaxTokens: 1024}),
	)
}
