package agent

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestCalculator(t *testing.T) {
	tests := []struct {
		name, args, want, wantErr string
	}{
		{"integers are exact", `{"expression":"17 * 23"}`, "391", ""},
		{"precedence and parentheses", `{"expression":"(2 + 3) * 4 - 6 / 3"}`, "18", ""},
		{"division gives decimals", `{"expression":"10 / 4"}`, "2.5", ""},
		{"big integers stay exact", `{"expression":"99999999999 * 99999999999"}`, "9999999999800000000001", ""},
		{"remainder", `{"expression":"17 % 5"}`, "2", ""},
		{"unary minus", `{"expression":"-(3 - 10)"}`, "7", ""},
		{"decimals are exact", `{"expression":"0.1 + 0.2"}`, "0.3", ""},
		{"rationals stay exact until printed", `{"expression":"7 / 2 * 2"}`, "7", ""},
		{"a repeating decimal has 15 significant digits", `{"expression":"1 / 3"}`, "0.333333333333333", ""},
		{"a huge result keeps its exponent", `{"expression":"1e300 * 1e300"}`, "1e+600", ""},
		{"a tiny result keeps its exponent", `{"expression":"1e-400"}`, "1e-400", ""},
		{"an exponent beyond range is refused, not read as zero", `{"expression":"9e999999999 * 2"}`, "", "out of range"},
		{"division by zero", `{"expression":"1 / 0"}`, "", "division by zero"},
		{"remainder of decimals is refused", `{"expression":"10 % 2.5"}`, "", "whole numbers"},
		{"identifiers are refused", `{"expression":"os.Exit(1)"}`, "", "only numbers"},
		{"strings are refused", `{"expression":"\"a\" + \"b\""}`, "", "only numbers are allowed"},
		{"shifts are refused", `{"expression":"1 << 70"}`, "", "operator << is not allowed"},
		{"missing expression", `{}`, "", `argument "expression" is required`},
		{"wrong type names the field", `{"expression":5}`, "", `argument "expression" must be a string`},
		{"unknown argument", `{"expression":"1","x":1}`, "", "unknown field"},
		{"over-long input", `{"expression":"` + strings.Repeat("1+", 200) + `1"}`, "", "exceeds the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Calculator{}.Call(context.Background(), json.RawMessage(tt.args))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			var v map[string]string
			if err != nil || json.Unmarshal(out, &v) != nil || v["value"] != tt.want {
				t.Fatalf("out %s err %v, want value %s", out, err, tt.want)
			}
		})
	}
}

func TestClock(t *testing.T) {
	fixed := func() time.Time { return time.Date(2026, 6, 8, 20, 31, 6, 0, time.UTC) }
	tests := []struct {
		name, args, want, wantErr string
	}{
		{"a zone east of UTC is already tomorrow", `{"timezone":"Asia/Tokyo"}`, `{"time":"2026-06-09T05:31:06+09:00","timezone":"Asia/Tokyo","weekday":"Tuesday"}`, ""},
		{"a zone with summer time", `{"timezone":"America/New_York"}`, `{"time":"2026-06-08T16:31:06-04:00","timezone":"America/New_York","weekday":"Monday"}`, ""},
		{"no arguments mean UTC", ``, `{"time":"2026-06-08T20:31:06Z","timezone":"UTC","weekday":"Monday"}`, ""},
		{"an unknown zone names the argument", `{"timezone":"Mars/Olympus"}`, "", `argument "timezone": "Mars/Olympus" is not an IANA time zone`},
		{"a wrong type names the argument", `{"timezone":9}`, "", `argument "timezone" must be a string`},
		{"an unknown argument is refused", `{"zone":"UTC"}`, "", `unknown field "zone"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Clock{Now: fixed}.Call(context.Background(), json.RawMessage(tt.args))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(out) != tt.want {
				t.Fatalf("got %s %v, want %s", out, err, tt.want)
			}
		})
	}
}

func TestTextStats(t *testing.T) {
	tests := []struct {
		name, args, want, wantErr string
	}{
		{"characters are runes, bytes are bytes", `{"text":"Grüße an alle\nzweite Zeile\n"}`, `{"bytes":29,"characters":27,"lines":2,"words":5}`, ""},
		{"a last line without newline counts", `{"text":"one\ntwo"}`, `{"bytes":7,"characters":7,"lines":2,"words":2}`, ""},
		{"empty text has no lines", `{"text":""}`, `{"bytes":0,"characters":0,"lines":0,"words":0}`, ""},
		{"missing text names the argument", `{}`, "", `argument "text" is required`},
		{"a wrong type names the argument", `{"text":["a"]}`, "", `argument "text" must be a string`},
		{"arguments that are not JSON are refused", `{"text":`, "", "arguments:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := TextStats{}.Call(context.Background(), json.RawMessage(tt.args))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(out) != tt.want {
				t.Fatalf("got %s %v, want %s", out, err, tt.want)
			}
		})
	}
}

func TestRegistryRefusesBrokenTools(t *testing.T) {
	reg, err := NewRegistry(Calculator{}, Calculator{}, badTool{ToolSpec{Name: "x", Description: "d", InputSchema: json.RawMessage(`{`)}}, badTool{ToolSpec{Description: "d"}})
	for _, want := range []string{`"calculator": registered twice`, `"x": input schema is not JSON`, "tool 3: empty name"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err %v, want it to contain %q", err, want)
		}
	}
	if reg != nil {
		t.Errorf("a registry came back with the error")
	}
	reg, err = NewRegistry(DefaultTools()...)
	if err != nil || len(reg.Specs()) != 3 || reg.Specs()[0].Name != "calculator" {
		t.Fatalf("default tools: %v %v", reg, err)
	}
	for _, s := range reg.Specs() {
		var schema struct{ Type string }
		if json.Unmarshal(s.InputSchema, &schema) != nil || schema.Type != "object" || s.Description == "" {
			t.Errorf("tool %s: schema %s", s.Name, s.InputSchema)
		}
	}
}

// badTool is a tool with a given spec; it is never called.
type badTool struct{ spec ToolSpec }

func (b badTool) Spec() ToolSpec { return b.spec }

func (badTool) Call(context.Context, json.RawMessage) (json.RawMessage, error) { return nil, nil }
