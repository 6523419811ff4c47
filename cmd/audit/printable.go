package main

import (
	"strconv"
	"strings"
	"unicode"
)

// printable makes stored content safe to print on a terminal: control characters (ESC sequences could restyle or
// rewrite the operator's screen), line and paragraph separators and bidirectional overrides (which could reorder
// what is shown) are written as Go escapes, \x1b or \u202e, and everything else is left as it is. Audit content is
// attacker-controlled (a prompt, a tool result), so nothing from it reaches the terminal raw.
func printable(s string) string {
	if !strings.ContainsFunc(s, unsafeRune) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unsafeRune(r) {
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || (r >= '\u202a' && r <= '\u202e') ||
		(r >= '\u2066' && r <= '\u2069') || r == '\u200e' || r == '\u200f' || r == '\u061c'
}
