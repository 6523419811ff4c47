package agentaudit

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/agent-audit/agent-audit/agentaudittest"
	"github.com/agent-audit/agent-audit/agentenv"
	"github.com/agent-audit/agent-audit/function/agent"
	"github.com/agent-audit/agent-audit/internal/audittest"
)

var quiet = WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

func TestASinkOptionWithAnOversizeBucketNeedsNoDestinationVariable(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Model = ModelOffline
	cfg.OversizeBucket = "audit-bucket"
	_, err := New(context.Background(), cfg, WithSink(&agentaudittest.MemorySink{}), WithAWSConfig(aws.Config{Region: "eu-west-1"}), quiet)
	if err != nil {
		t.Fatalf("WithSink and an oversize bucket were refused: %v", err)
	}
	if _, err := New(context.Background(), cfg, quiet); err == nil || !strings.Contains(err.Error(), agentenv.FirehoseStream) {
		t.Fatalf("without a sink option the missing destination is not named: %v", err)
	} else if strings.Contains(err.Error(), agentenv.LocalRoot+" ") && !strings.Contains(err.Error(), "or "+agentenv.LocalRoot) {
		t.Fatalf("the error blames %s, which nobody set: %v", agentenv.LocalRoot, err)
	}
}

func TestTheEnvironmentOverridesTheCodesDefaults(t *testing.T) {
	run := func(t *testing.T, env map[string]string, opts ...Option) audittest.Span {
		t.Helper()
		cfg, err := readEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err != nil {
			t.Fatal(err)
		}
		sink := &agentaudittest.MemorySink{}
		fn, err := New(context.Background(), cfg, append([]Option{WithSink(sink), quiet}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := invoke(t, fn, `{"prompt":"hi"}`)
		if err != nil {
			t.Fatal(err)
		}
		for _, sp := range audittest.ByTrace(audittest.Decode(t, sink.Records()))[resp.TraceID] {
			if sp.ParentSpanID == "" {
				return sp
			}
		}
		t.Fatal("no root span recorded")
		return audittest.Span{}
	}
	code := []Option{WithAgentName("ticket-agent"), WithSystemPrompt("You look tickets up."),
		WithModelSettings(ModelSettings{ModelName: "claude-sonnet-4-5"})}
	tests := []struct {
		name              string
		env               map[string]string
		wantName, wantSys string
	}{
		{"the code's settings apply when the environment is silent", map[string]string{agentenv.Model: ModelOffline},
			"invoke_agent ticket-agent", "You look tickets up."},
		{"AGENT_NAME and AGENT_SYSTEM_PROMPT win over the code", map[string]string{agentenv.Model: ModelOffline,
			agentenv.AgentName: "renamed", agentenv.SystemPrompt: "Deployed prompt."}, "invoke_agent renamed", "Deployed prompt."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := run(t, tt.env, append(code, WithModel(agent.NewOfflineModel()))...)
			if root.Name != tt.wantName || !strings.Contains(root.Attrs["gen_ai.system_instructions"].(string), tt.wantSys) {
				t.Fatalf("root %q with system instructions %v, want %q and %q", root.Name, root.Attrs["gen_ai.system_instructions"], tt.wantName, tt.wantSys)
			}
		})
	}
	t.Run("without either the defaults apply", func(t *testing.T) {
		root := run(t, map[string]string{agentenv.Model: ModelOffline})
		if root.Name != "invoke_agent "+DefaultAgentName || root.Attrs["gen_ai.system_instructions"] != nil {
			t.Fatalf("root %q with system instructions %v", root.Name, root.Attrs["gen_ai.system_instructions"])
		}
	})
}

func TestModelSettingsInCodeCompleteABedrockConfiguration(t *testing.T) {
	cfg := DefaultConfig()
	cfg.LocalRoot = t.TempDir()
	aws := WithAWSConfig(aws.Config{Region: "eu-west-1"})
	if _, err := New(context.Background(), cfg, aws, quiet); err == nil ||
		!strings.Contains(err.Error(), agentenv.InferenceProfileARN) || !strings.Contains(err.Error(), agentenv.ModelID) {
		t.Fatalf("a Bedrock configuration without a profile or model name was accepted or not named: %v", err)
	}
	settings := WithModelSettings(ModelSettings{InferenceProfileARN: "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/p", ModelName: "claude-haiku-4-5"})
	if _, err := New(context.Background(), cfg, settings, aws, quiet); err != nil {
		t.Fatalf("profile and model name from code were refused: %v", err)
	}
}

func TestModelSettingsReachEveryChatSpan(t *testing.T) {
	temp, topP := 0.3, 0.8
	a, sink := newOfflineApp(t, nil, WithModelSettings(ModelSettings{MaxTokens: 321, Temperature: &temp, TopP: &topP, StopSequences: []string{"END"}}))
	resp, err := invoke(t, a, `{"prompt":"What is 17 * 23?"}`)
	if err != nil {
		t.Fatal(err)
	}
	chats := audittest.Named(audittest.ByTrace(audittest.Decode(t, sink.Records()))[resp.TraceID], "chat offline")
	if len(chats) != 2 {
		t.Fatalf("%d chat spans", len(chats))
	}
	for _, c := range chats {
		stops, _ := c.Attrs["gen_ai.request.stop_sequences"].([]any)
		if c.Attrs["gen_ai.request.max_tokens"] != int64(321) || c.Attrs["gen_ai.request.temperature"] != temp ||
			c.Attrs["gen_ai.request.top_p"] != topP || len(stops) != 1 || stops[0] != "END" {
			t.Errorf("chat span settings %v", c.Attrs)
		}
	}
	bad := -0.5
	if _, err := New(context.Background(), DefaultConfig(), WithSink(&agentaudittest.MemorySink{}), WithModel(agent.NewOfflineModel()),
		WithModelSettings(ModelSettings{Temperature: &bad, MaxTokens: -1}), quiet); err == nil ||
		!strings.Contains(err.Error(), "Temperature") || !strings.Contains(err.Error(), "MaxTokens") {
		t.Fatalf("bad settings not named: %v", err)
	}
}

func TestAnUnsampledTraceparentIsAuditedAnyway(t *testing.T) {
	a, sink := newOfflineApp(t, nil)
	resp, err := invoke(t, a, `{"prompt":"hi","traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}`)
	if err != nil || resp.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("response %+v, %v", resp, err)
	}
	if spans := audittest.ByTrace(audittest.Decode(t, sink.Records()))[resp.TraceID]; len(spans) == 0 {
		t.Fatal("the caller's unsampled trace left no record: the audit provider sampled it out")
	}
}
