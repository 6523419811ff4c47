package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The README walks through this main; this keeps its code the code that compiles.
func TestREADMEShowsThisMain(t *testing.T) {
	readme, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	source, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	section := regexp.MustCompile("(?s)### Audit your own agent.*?```go\n(.*?)```").FindSubmatch(readme)
	if section == nil {
		t.Fatal("README has no Go block under \"Audit your own agent\"")
	}
	mainFunc := regexp.MustCompile(`(?s)func main\(\) \{.*?\n\s*\}\n`)
	shown, compiled := mainFunc.Find(section[1]), mainFunc.Find(source)
	if shown == nil || compiled == nil {
		t.Fatalf("no func main in the README (%v) or main.go (%v)", shown != nil, compiled != nil)
	}
	normalize := func(b []byte) string { return strings.Join(strings.Fields(string(b)), " ") }
	if normalize(shown) != normalize(compiled) {
		t.Errorf("the README's main differs from main.go:\nREADME:\n%s\nmain.go:\n%s", shown, compiled)
	}
}
