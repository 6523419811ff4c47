package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agent-audit/agent-audit/queries"
)

type runsFlags struct {
	readFlags
	out          outputFlags
	window       timeWindow
	seals        sealFlags
	model        string
	status       string
	conversation string
	verifiedOnly bool
	limit        int
}

func newRunsCommand() *cobra.Command {
	f := runsFlags{}
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List agent runs (the runs view), newest first",
		Long: `List agent runs, newest first: the rows of the runs view (SELECT … FROM runs), one per invoke_agent span.

A run that succeeded shows status OK. The trail stores it as UNSET: OpenTelemetry's trace API has
instrumentation leave a successful span's status unset (only an application developer or operator sets OK),
and the agent's spans follow it; the spans view shows the stored value.

--conversation ID lists one conversation's runs, oldest first, over all time unless --since is given.
--verified-only lists only runs whose every record's seal verifies (under --public-key; for a local root the
local signing key); audit verify checks the chains too.

"audit traces" is the old name of this command and still works for this release.`,
		Aliases: []string{"traces"},
		Example: `  audit runs
  audit runs --since 1h --status error
  audit runs --since 2026-11-01 --until 2026-11-02
  audit runs --conversation demo-3
  audit runs --verified-only --since 7d
  audit runs --root s3://my-audit-bucket --model claude-haiku-4-5 -o json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.CalledAs() == "traces" {
				fmt.Fprintln(cmd.ErrOrStderr(), "audit: `audit traces` is now `audit runs` (the traces view holds model calls); the old name goes in the next release")
			}
			if f.conversation != "" && !cmd.Flags().Changed("since") {
				f.window.since = "" // a conversation is listed whole unless a window is asked for
			}
			where, args, err := f.conditions(time.Now())
			if err != nil {
				return usageError(err)
			}
			return withDB(cmd.Context(), f.readFlags, cmd.ErrOrStderr(), func(db *queries.DB) error {
				if f.verifiedOnly {
					cond, err := f.verifiedCondition(cmd.Context(), db, where, args)
					if err != nil {
						return err
					}
					where = append(where, cond)
				}
				rows, err := scan(cmd.Context(), db, cmd.ErrOrStderr(), f.query(where), args...)
				if err != nil {
					return err
				}
				defer rows.Close()
				n, err := printRows(cmd.OutOrStdout(), rows, f.out.options(cmd.OutOrStdout()))
				if err == nil && n == 0 && f.out.format == FormatTable {
					fmt.Fprintf(cmd.ErrOrStderr(), "no runs match (%s)\n", f.window.describe())
				}
				return err
			})
		},
	}
	f.register(cmd)
	f.out.register(cmd)
	registerTimeWindow(cmd, &f.window, defaultRunsSince, true)
	cmd.Flags().StringVar(&f.model, "model", "", "only runs of this model")
	cmd.Flags().StringVar(&f.status, "status", "", "only runs with this status: ok or error")
	cmd.Flags().IntVar(&f.limit, "limit", 50, "at most this many runs")
	cmd.Flags().StringVar(&f.conversation, "conversation", "", "only the runs of this conversation (gen_ai.conversation.id), oldest first")
	cmd.Flags().BoolVar(&f.verifiedOnly, "verified-only", false, "only runs whose records' seals verify")
	f.seals.register(cmd)
	return cmd
}

// defaultRunsSince is the window `audit runs` lists without --since.
const defaultRunsSince = "24h"

// conditions builds the WHERE conditions of the flags. The date condition is repeated on the partition columns
// as plain comparisons (DuckDB prunes on those, not on expressions such as make_date), so whole days of objects
// are skipped unopened.
func (f runsFlags) conditions(now time.Time) ([]string, []any, error) {
	if f.limit < 1 {
		return nil, nil, fmt.Errorf("--limit %d: want at least 1", f.limit)
	}
	since, until, err := f.window.resolve(now)
	if err != nil {
		return nil, nil, err
	}
	var where []string
	var args []any
	if !since.IsZero() {
		y, m, d := since.Date()
		where = append(where, "(year > ? OR (year = ? AND (month > ? OR (month = ? AND day >= ?))))", "started >= ?::TIMESTAMP")
		args = append(args, y, y, int(m), int(m), d, since.Format("2006-01-02 15:04:05.999999"))
	}
	if !until.IsZero() {
		y, m, d := until.Date()
		where = append(where, "(year < ? OR (year = ? AND (month < ? OR (month = ? AND day <= ?))))", "started < ?::TIMESTAMP")
		args = append(args, y, y, int(m), int(m), d, until.Format("2006-01-02 15:04:05.999999"))
	}
	if f.model != "" {
		where, args = append(where, "model = ?"), append(args, f.model)
	}
	if f.conversation != "" {
		where, args = append(where, "conversation_id = ?"), append(args, f.conversation)
	}
	switch strings.ToLower(f.status) {
	case "":
	case "error":
		where = append(where, "status = 'ERROR'")
	case "ok":
		where = append(where, "status = 'OK'")
	default:
		return nil, nil, fmt.Errorf("--status %q: want ok or error", f.status)
	}
	return where, args, nil
}

// query is the SELECT of the listing: newest first, or a conversation oldest first.
func (f runsFlags) query(where []string) string {
	order := "DESC"
	if f.conversation != "" {
		order = "ASC"
	}
	return `SELECT started, trace, agent, model, round(dur_ms, 1) AS dur_ms, in_tokens, out_tokens, turns, tool_calls,
	        status, error_type, conversation_id
	      FROM runs` + whereClause(where) + fmt.Sprintf(" ORDER BY started %s LIMIT %d", order, f.limit)
}

// verifiedCondition checks the seal of every record holding a span of the runs the other conditions select, and
// returns the condition that keeps the runs all of whose records verify.
func (f runsFlags) verifiedCondition(ctx context.Context, db *queries.DB, where []string, args []any) (string, error) {
	root := readRoot(f.root)
	v, keyed, err := f.seals.verifier(root)
	if err != nil {
		return "", err
	}
	if !keyed {
		return "", usageError(errors.New("--verified-only: pass the key that certifies the records with --public-key"))
	}
	rows, err := db.QueryContext(ctx, `SELECT DISTINCT trace, source_file FROM spans
		WHERE trace IN (SELECT trace FROM runs`+whereClause(where)+`) ORDER BY source_file`, args...)
	if err != nil {
		return "", fmt.Errorf("find the records of the runs: %w", err)
	}
	defer rows.Close()
	traces := map[string]bool{}
	var keys []string
	seen := map[string]bool{}
	for rows.Next() {
		var trace, file string
		if err := rows.Scan(&trace, &file); err != nil {
			return "", err
		}
		traces[trace] = true
		if k := objectKey(root, file); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	store, err := openStore(ctx, root)
	if err != nil {
		return "", cannotCheckError(err)
	}
	seals, err := recordSeals(ctx, store, keys, traces, v)
	if err != nil {
		return "", cannotCheckError(err)
	}
	var verified []string
	for trace := range traces {
		ok := len(seals[trace]) > 0
		for _, s := range seals[trace] {
			ok = ok && s.Verified
		}
		if ok {
			verified = append(verified, quoteSQL(trace))
		}
	}
	if len(verified) == 0 {
		return "false", nil
	}
	sort.Strings(verified)
	return "trace IN (" + strings.Join(verified, ", ") + ")", nil
}

// quoteSQL renders s as a SQL string literal.
func quoteSQL(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// whereClause joins conditions into a WHERE clause, "" for none.
func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}
