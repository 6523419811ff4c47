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
	out, err := Clock{Now: fixed}.Call(context.Background(), json.RawMessage(`{"timezone":"Asia/Tokyo"}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"time":"2026-06-09T05:31:06+09:00","timezone":"Asia/Tokyo","weekday":"Tuesday"}` {
		t.Fatalf("got %s", out)
	}
	out, err = Clock{Now: fixed}.Call(context.Background(), nil)
	if err != nil || !strings.Contains(string(out), `"timezone":"UTC"`) {
		t.Fatalf("default zone: %s %v", out, err)
	}
	if _, err := (Clock{}).Call(context.Background(), json.RawMessage(`{"timezone":"Mars/Olympus"}`)); err == nil || !strings.Contains(err.Error(), `"timezone"`) {
		t.Fatalf("unknown zone: %v", err)
	}
}

func TestTextStats(t *testing.T) {
	out, err := TextStats{}.Call(context.Background(), json.RawMessage(`{"text":"Grüße an alle\nzweite Zeile\n"}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"bytes":29,"characters":27,"lines":2,"words":5}` {
		t.Fatalf("got %s", out)
	}
	if _, err := (TextStats{}).Call(context.Background(), json.RawMessage(`{}`)); err == nil || !strings.Contains(err.Error(), `"text"`) {
		t.Fatalf("missing text: %v", err)
	}
}

func TestRegistryRefusesBrokenTools(t *testing.T) {
	_, err := NewRegistry(Calculator{}, Calculator{}, panicky{})
	if err == nil || !strings.Contains(err.Error(), `"calculator": registered twice`) {
		t.Fatalf("err %v", err)
	}
}
