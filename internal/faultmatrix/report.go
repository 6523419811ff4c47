package faultmatrix

import (
	_ "embed"
	"fmt"
	"os"
	"strings"
	"text/template"
)

//go:embed reliability.md.tmpl
var reportTemplate string

// Command regenerates docs/reliability.md from the repository root.
const Command = "go test ./internal/faultmatrix -run 'TestFaultMatrix$' -timeout 30m -matrix.n=100 -matrix.binary.n=40 -matrix.emulators=4 -matrix.out=../../docs/reliability.md"

// Report is what docs/reliability.md is rendered from.
type Report struct {
	Command string
	Kinds   []Kind
	Rows    []Row
	// PerKind and PerBinaryKind are the invocation counts per kind, in process and through the real binary,
	// before weights.
	PerKind, PerBinaryKind int
	// Emulators is the number of emulators per real-binary kind.
	Emulators int
	Seed      uint64
}

// WriteReport renders r into path.
func WriteReport(path string, r Report) error {
	tmpl, err := template.New("reliability").Funcs(template.FuncMap{
		"table":    Markdown,
		"problems": problems,
	}).Parse(reportTemplate)
	if err != nil {
		return fmt.Errorf("parse the report template: %w", err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, r); err != nil {
		return fmt.Errorf("render the report: %w", err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// problems lists the first problems of every row that has any, as Markdown.
func problems(rows []Row) string {
	const perRow = 5
	var b strings.Builder
	for _, r := range rows {
		if len(r.Problems) == 0 {
			continue
		}
		fmt.Fprintf(&b, "- **%s** (%s), %d:\n", r.Kind, r.Mode, len(r.Problems))
		for i, p := range r.Problems {
			if i == perRow {
				fmt.Fprintf(&b, "  - … %d more\n", len(r.Problems)-perRow)
				break
			}
			fmt.Fprintf(&b, "  - %s\n", strings.ReplaceAll(p, "|", "\\|"))
		}
	}
	if b.Len() == 0 {
		return "None.\n"
	}
	return b.String()
}
