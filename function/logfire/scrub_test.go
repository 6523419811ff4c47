package logfire

import (
	"context"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

func TestSecretLikeTextFollowsLogfiresDefaultPatterns(t *testing.T) {
	for _, tc := range []struct {
		name, text, want string
	}{
		{"a password key matches", "db.password", "password"},
		{"matching ignores case", "DB_PASSWORD", "PASSWORD"},
		{"an authorization header matches auth", "http.request.header.authorization", "auth"},
		{"authority matches auth", "tls.authority", "auth"},
		{"an author is spared", "book.author", ""},
		{"authors are spared", "book.authors", ""},
		{"an author followed by more of the word is not spared", "authors_count", "auth"},
		{"an api key with an underscore matches", "http.request.header.x_api_key", "api_key"},
		{"an api key without a separator matches", "apikey", "apikey"},
		{"a session id matches", "user.session_id", "session"},
		{"a private key with a space matches", "my private key", "private key"},
		{"ssn as its own word matches", "user.ssn", "ssn"},
		{"ssn inside a word is spared", "classname", ""},
		{"jwt between underscores matches with them", "x_jwt_value", "_jwt_"},
		{"a Logfire token shape matches", "Authorization: pylf_v1_eu_abc", "Auth"},
		{"a bare Logfire token matches its prefix", "pylf_v2_us_abc", "pylf_v2_"},
		{"token counts are not secrets", "gen_ai.usage.input_tokens", ""},
		{"a batch key is not an api key", "agent_audit.record.batch_key", ""},
		{"a model id is kept", "gen_ai.request.model", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := secretMatch(tc.text); got != tc.want {
				t.Fatalf("secretMatch(%q) = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

func TestScrubbingRedactsOnlyTheLogfireCopy(t *testing.T) {
	recorded := map[string]string{
		"gen_ai.input.messages":             `[{"role":"user","parts":[{"type":"text","content":"hi"}]}]`,
		"http.request.header.authorization": "Bearer abc",
		"book.author":                       "Ada",
		"note":                              "my password is hunter2",
		"word":                              "password",
		"gen_ai.usage.input_tokens":         "12",
		"gen_ai.output.messages":            `[{"role":"assistant","parts":[]}]`,
		"event.session":                     "s-1",
	}
	for _, tc := range []struct {
		name  string
		scrub bool
		want  map[string]string // attribute → value Logfire receives, on the span or its event
	}{
		{"scrubbing off sends everything as recorded", false, recorded},
		{"scrubbing on redacts content and secret-looking keys and values", true, map[string]string{
			"gen_ai.input.messages":             "[Scrubbed due to 'gen_ai.input.messages']",
			"http.request.header.authorization": "[Scrubbed due to 'auth']",
			"book.author":                       "Ada",
			"note":                              "[Scrubbed due to 'password']",
			"word":                              "password",
			"gen_ai.usage.input_tokens":         "12",
			"gen_ai.output.messages":            "[Scrubbed due to 'gen_ai.output.messages']",
			"event.session":                     "[Scrubbed due to 'session']",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(c *Config) { c.Scrub = tc.scrub })
			f.leg.Prepare(context.Background())
			_, span := f.tracer.Start(context.Background(), "chat offline", trace.WithAttributes(
				attribute.String("gen_ai.input.messages", recorded["gen_ai.input.messages"]),
				attribute.String("http.request.header.authorization", recorded["http.request.header.authorization"]),
				attribute.String("book.author", recorded["book.author"]),
				attribute.String("note", recorded["note"]),
				attribute.String("word", recorded["word"]),
				attribute.Int("gen_ai.usage.input_tokens", 12),
			))
			span.AddEvent("gen_ai.client.inference.operation.details", trace.WithAttributes(
				attribute.String("gen_ai.output.messages", recorded["gen_ai.output.messages"]),
				attribute.String("event.session", recorded["event.session"]),
			))
			span.End()
			f.leg.Flush(context.Background())

			got := received(f.receiver)[span.SpanContext().TraceID().String()]
			if len(got) != 1 || got[0].Events().Len() != 1 {
				t.Fatalf("Logfire got %d spans, want 1 with its event", len(got))
			}
			sent := map[string]string{}
			for _, m := range []pcommon.Map{got[0].Attributes(), got[0].Events().At(0).Attributes()} {
				m.Range(func(k string, v pcommon.Value) bool { sent[k] = v.AsString(); return true })
			}
			for k, want := range tc.want {
				if sent[k] != want {
					t.Errorf("%s: Logfire got %q, want %q", k, sent[k], want)
				}
			}

			audit := f.audit.Ended()[0]
			kept := map[string]string{}
			for _, kv := range append(audit.Attributes(), audit.Events()[0].Attributes...) {
				kept[string(kv.Key)] = kv.Value.Emit()
			}
			for k, want := range recorded {
				if kept[k] != want {
					t.Errorf("%s: the audit copy holds %q, want the original %q", k, kept[k], want)
				}
			}
		})
	}
}
