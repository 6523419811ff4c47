package main

import "testing"

func TestPrintableEscapesWhatCouldRewriteTheTerminal(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text, ünïcödé and emoji 🙂", "plain text, ünïcödé and emoji 🙂"},
		{"red \x1b[31malert\x1b[0m", `red \x1b[31malert\x1b[0m`},
		{"two\nlines\r\tand a bell\a", `two\nlines\r\tand a bell\a`},
		{"nul\x00 del\x7f nel\u0085", `nul\x00 del\x7f nel\u0085`},
		{"reversed \u202eevil\u202c text", `reversed \u202eevil\u202c text`},
		{"separators \u2028 \u2029", `separators \u2028 \u2029`},
	}
	for _, tt := range tests {
		if got := printable(tt.in); got != tt.want {
			t.Errorf("printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
