package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/agent-audit/agent-audit/trail"
	"github.com/agent-audit/agent-audit/trail/verify"
)

// printReport writes the report: as JSON (the Report as is, findings in their stable order), or as text laid
// out like aws cloudtrail validate-logs: what was covered, the counts, the chains, the guarantees, every
// finding, and a verdict that claims no more than the guarantees hold.
func printReport(w io.Writer, format string, rep verify.Report) error {
	if format == FormatJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	window := "everything"
	if !rep.Since.IsZero() {
		window = fmt.Sprintf("every record of the hour partitions from %s on: --since %s rounded down to its hour",
			rep.Since.Truncate(time.Hour).Format(time.RFC3339), rep.Since.Format(time.RFC3339))
	}
	fmt.Fprintf(w, "Validating the audit trail in %s (%s)\n", rep.Root, window)
	fmt.Fprintf(w, "Keys accepted: %s\n", listOr(rep.AcceptedKeys, "none"))
	if rep.DigestKeys != nil {
		fmt.Fprintf(w, "Digest keys accepted: %s\n", strings.Join(rep.DigestKeys, ", "))
	}
	if rep.From.IsZero() {
		fmt.Fprintln(w, "Results found: no record with a seal time")
	} else {
		fmt.Fprintf(w, "Results found for %s to %s:\n", rep.From.Format(time.RFC3339Nano), rep.Until.Format(time.RFC3339Nano))
	}
	fmt.Fprintf(w, "  %d/%d record objects valid\n", rep.Objects.Valid, rep.Objects.Checked)
	fmt.Fprintf(w, "  %d/%d records valid (%s; %s)\n", rep.Records.Valid, rep.Records.Checked, plural(rep.Duplicates, "duplicate copy", "duplicate copies"), signatures(rep))
	if d := rep.Digests; d != nil {
		fmt.Fprintf(w, "  %d/%d digests valid", d.Valid, d.Digests)
		if d.Digests > 0 {
			fmt.Fprintf(w, " (periods %s to %s, listing %d object versions)", d.FirstPeriodStart.Format(time.RFC3339), d.LastPeriodEnd.Format(time.RFC3339), d.ObjectsListed)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "  %d/%d oversize objects valid\n", rep.Oversize.Valid, rep.Oversize.Checked)
	if strings.HasPrefix(rep.Root, "s3://") {
		fmt.Fprintf(w, "  %d object versions checked for Object Lock retention\n", rep.Versions)
	}

	if len(rep.Chains) > 0 {
		fmt.Fprintf(w, "Chains (%d):\n", len(rep.Chains))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  chain\tfirst\tlast\trecords\tkey\tissuer\tend")
		for _, c := range rep.Chains {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\t%s\t%s\n", c.ID, position(c.First), position(c.Last), c.Records, chainKeys(c), chainIssuers(c), c.End)
		}
		tw.Flush()
	}

	fmt.Fprintln(w, "Guarantees:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	g := rep.Guarantees
	for _, row := range []struct {
		name string
		g    verify.Guarantee
	}{{"signatures", g.Signatures}, {"chains", g.Chains}, {"digests", g.Digests}, {"completeness", g.Completeness}, {"retention", g.Retention}} {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", row.name, row.g.Status, row.g.Why)
	}
	tw.Flush()

	printFindings(w, rep, trail.Problem, "Problems")
	printFindings(w, rep, trail.Notice, "Notices")
	for _, kind := range slices.Sorted(maps.Keys(rep.Suppressed)) {
		fmt.Fprintf(w, "  … and %d more %s findings, not listed\n", rep.Suppressed[kind], kind)
	}

	fmt.Fprintln(w, verdict(rep))
	return nil
}

// verdict is the last line: VERIFIED only when no problem was found, and then only as far as the guarantees go.
func verdict(rep verify.Report) string {
	if !rep.Verified {
		return fmt.Sprintf("FAILED: %s found in %s", count(rep.Problems, "problem"), rep.Root)
	}
	var unproven []string
	g := rep.Guarantees
	for _, row := range []struct {
		name string
		g    verify.Guarantee
	}{{"digests", g.Digests}, {"completeness", g.Completeness}, {"retention", g.Retention}} {
		if row.g.Status != verify.Held {
			unproven = append(unproven, row.name)
		}
	}
	if len(unproven) == 0 {
		return "VERIFIED: every record verifies, every chain is whole to its proven end, and every object is retained"
	}
	msg := "VERIFIED: every record present verifies and its chain has no gap; not proven: " + strings.Join(unproven, ", ") + " (see Guarantees)"
	if g.Completeness.Status == verify.Held {
		msg = "VERIFIED: every record verifies and every chain is whole to its proven end; not checked: " + strings.Join(unproven, ", ")
	}
	return msg
}

func printFindings(w io.Writer, rep verify.Report, sev trail.Severity, title string) {
	var lines []string
	for _, f := range rep.Findings {
		if f.Severity != sev {
			continue
		}
		where := f.Key
		if f.VersionID != "" {
			where += " version " + f.VersionID
		}
		if f.Line > 0 {
			where += fmt.Sprintf(" line %d", f.Line)
		}
		if f.Chain != "" {
			where += fmt.Sprintf(" (chain %s seq %d)", f.Chain, f.Seq)
		}
		if f.TraceID != "" {
			where += " trace " + f.TraceID
		}
		lines = append(lines, fmt.Sprintf("  - %s %s: %s", f.Kind, strings.TrimSpace(where), f.Detail))
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "%s (%d):\n%s\n", title, len(lines), strings.Join(lines, "\n"))
}

// signatures says how the valid records were authenticated.
func signatures(rep verify.Report) string {
	if rep.SignaturesChecked == rep.Records.Valid {
		return "every one's own signature checked"
	}
	return fmt.Sprintf("%s checked, each other one authenticated by the signed link of the next", plural(rep.SignaturesChecked, "signature", "signatures"))
}

func position(p verify.Position) string {
	if p.Time.IsZero() {
		return fmt.Sprint(p.Seq)
	}
	return fmt.Sprintf("%d (%s)", p.Seq, p.Time.Format(time.RFC3339))
}

func chainKeys(c verify.Chain) string {
	var fps []string
	for _, k := range c.Keys {
		fps = append(fps, k.Fingerprint)
	}
	return listOr(fps, "(none verified)")
}

func chainIssuers(c verify.Chain) string {
	seen := map[string]bool{}
	var out []string
	for _, k := range c.Keys {
		if !seen[k.Issuer] {
			seen[k.Issuer] = true
			out = append(out, k.Issuer)
		}
	}
	return listOr(out, "-")
}

func listOr(xs []string, none string) string {
	if len(xs) == 0 {
		return none
	}
	return strings.Join(xs, ", ")
}
