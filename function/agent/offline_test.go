package agent

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestOfflineModelPicksToolsFromThePrompt(t *testing.T) {
	tests := []struct {
		prompt, wantTool, wantArgs string
	}{
		{"What is 17 * 23?", "calculator", `{"expression":"17 * 23"}`},
		{"compute (1 + 2) * 3 please", "calculator", `{"expression":"(1 + 2) * 3"}`},
		{"What time is it in Tokyo?", "clock", `{"timezone":"Asia/Tokyo"}`},
		{"What's the date in Europe/Berlin", "clock", `{"timezone":"Europe/Berlin"}`},
		{`How many words are in "the quick brown fox"?`, "text_stats", `{"text":"the quick brown fox"}`},
		{"Say hello.", "", ""},
	}
	m := NewOfflineModel()
	for _, tt := range tests {
		t.Run(tt.prompt, func(t *testing.T) {
			req := Request{Messages: []Message{{Role: RoleUser, Parts: []Part{{Text: tt.prompt}}}}, Tools: must(NewRegistry(DefaultTools()...)).Specs()}
			resp, err := m.Converse(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			calls := resp.Message.ToolCalls()
			if tt.wantTool == "" {
				if len(calls) != 0 || resp.FinishReason != FinishStop || resp.Message.Text() == "" {
					t.Fatalf("want a text answer, got %+v", resp)
				}
				return
			}
			if len(calls) != 1 || calls[0].Name != tt.wantTool || string(calls[0].Arguments) != tt.wantArgs || resp.FinishReason != FinishToolCall {
				t.Fatalf("calls %+v finish %s", calls, resp.FinishReason)
			}
			again, _ := m.Converse(context.Background(), req)
			if again.Message.ToolCalls()[0].ID != calls[0].ID || again.Usage != resp.Usage || again.ResponseID != resp.ResponseID {
				t.Fatalf("not deterministic: %+v vs %+v", again, resp)
			}
		})
	}
	t.Run("a one-word message is 1 word", func(t *testing.T) {
		resp, err := m.Converse(context.Background(), Request{Messages: []Message{{Role: RoleUser, Parts: []Part{{Text: "Hello"}}}}})
		if err != nil || !strings.Contains(resp.Message.Text(), "your message had 1 word.") {
			t.Fatalf("resp %+v err %v", resp, err)
		}
	})
	t.Run("without tools on offer it answers in text", func(t *testing.T) {
		resp, err := m.Converse(context.Background(), Request{Messages: []Message{{Role: RoleUser, Parts: []Part{{Text: "What is 17 * 23?"}}}}})
		if err != nil || len(resp.Message.ToolCalls()) != 0 || !strings.Contains(resp.Message.Text(), "5 words") {
			t.Fatalf("resp %+v err %v", resp, err)
		}
	})
	t.Run("a fail directive returns that AWS error code", func(t *testing.T) {
		_, err := m.Converse(context.Background(), Request{Messages: []Message{{Role: RoleUser, Parts: []Part{{Text: "x [fail:ServiceUnavailableException]"}}}}})
		if ErrorType(err) != "ServiceUnavailableException" {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("a used-up script fails", func(t *testing.T) {
		s := NewOfflineModel(WithScript(Step{Text: "one"}))
		if _, err := s.Converse(context.Background(), Request{}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Converse(context.Background(), Request{}); err == nil || !strings.Contains(err.Error(), "used up") {
			t.Fatalf("err %v", err)
		}
	})
}

// must returns r or panics; for test tables.
func must(r *Registry, err error) *Registry {
	if err != nil {
		panic(err)
	}
	return r
}

func TestOfflineModelAnswersFromToolResults(t *testing.T) {
	fixed := func() time.Time { return time.Date(2026, 6, 8, 20, 31, 6, 0, time.UTC) }
	reg, err := NewRegistry(Calculator{}, Clock{Now: fixed}, TextStats{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ prompt, want string }{
		{"What time is it in Tokyo?", "It is 2026-06-09T05:31:06+09:00 (Tuesday) in Asia/Tokyo."},
		{`How many words are in "the quick brown fox"?`, "The text has 4 words, 19 characters and 1 line."},
		{`How many words are in "fox"?`, "The text has 1 word, 3 characters and 1 line."},
		{"What is (1 + 2) * 3?", "(1 + 2) * 3 = 9"},
		{"What is 1 / 0?", "The calculator tool failed: tool calculator: division by zero."},
	}
	for _, tt := range tests {
		t.Run(tt.prompt, func(t *testing.T) {
			_, tracer := recorder(t)
			a, err := New(NewOfflineModel(), reg, Config{Name: "a", MaxTurns: 3, Tracer: tracer})
			if err != nil {
				t.Fatal(err)
			}
			res, err := a.Run(context.Background(), Input{Prompt: tt.prompt})
			if err != nil || res.Output != tt.want || res.ToolCalls != 1 || res.Turns != 2 {
				t.Fatalf("result %+v err %v, want output %q after one tool call", res, err, tt.want)
			}
		})
	}
}

func TestOfflineScriptSteps(t *testing.T) {
	m := NewOfflineModel(WithOfflineName("scripted"), WithScript(
		Step{ToolCalls: []ToolCall{{Name: "clock"}}, Usage: &Usage{7, 8}},
		Step{Text: "cut", FinishReason: FinishLength},
	))
	req := Request{Messages: []Message{{Role: RoleUser, Parts: []Part{{Text: "x"}}}}}
	first, err := m.Converse(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	calls := first.Message.ToolCalls()
	if m.Name() != "scripted" || len(calls) != 1 || calls[0].ID == "" || string(calls[0].Arguments) != "{}" ||
		first.FinishReason != FinishToolCall || first.Usage != (Usage{7, 8}) || first.ResponseModel != OfflineModelName {
		t.Fatalf("first step %+v", first)
	}
	second, err := m.Converse(context.Background(), req)
	if err != nil || second.Message.Text() != "cut" || second.FinishReason != FinishLength || second.Usage.OutputTokens != len("cut")/4+1 {
		t.Fatalf("second step %+v err %v", second, err)
	}
}
