package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agent-audit/agent-audit/queries"
)

type runsFlags struct {
	readFlags
	out    outputFlags
	window timeWindow
	model  string
	status string
	limit  int
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

"audit traces" is the old name of this command and still works for this release.`,
		Aliases: []string{"traces"},
		Example: `  audit runs
  audit runs --since 1h --status error
  audit runs --since 2026-11-01 --until 2026-11-02
  audit runs --root s3://my-audit-bucket --model claude-haiku-4-5 -o json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.CalledAs() == "traces" {
				fmt.Fprintln(cmd.ErrOrStderr(), "audit: `audit traces` is now `audit runs` (the traces view holds model calls); the old name goes in the next release")
			}
			query, args, err := f.query(time.Now())
			if err != nil {
				return usageError(err)
			}
			return withDB(cmd.Context(), f.readFlags, cmd.ErrOrStderr(), func(db *queries.DB) error {
				rows, err := scan(cmd.Context(), db, cmd.ErrOrStderr(), query, args...)
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
	return cmd
}

// defaultRunsSince is the window `audit traces` lists without --since.
const defaultRunsSince = "24h"

// query builds the SELECT. The date condition is repeated on the partition columns as plain comparisons (DuckDB
// prunes on those, not on expressions such as make_date), so whole days of objects are skipped unopened.
func (f runsFlags) query(now time.Time) (string, []any, error) {
	if f.limit < 1 {
		return "", nil, fmt.Errorf("--limit %d: want at least 1", f.limit)
	}
	since, until, err := f.window.resolve(now)
	if err != nil {
		return "", nil, err
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
	switch strings.ToLower(f.status) {
	case "":
	case "error":
		where = append(where, "status = 'ERROR'")
	case "ok":
		where = append(where, "status = 'OK'")
	default:
		return "", nil, fmt.Errorf("--status %q: want ok or error", f.status)
	}
	q := `SELECT started, trace, agent, model, round(dur_ms, 1) AS dur_ms, in_tokens, out_tokens, turns, tool_calls,
	        status, error_type, conversation_id
	      FROM runs` + whereClause(where) + fmt.Sprintf(" ORDER BY started DESC LIMIT %d", f.limit)
	return q, args, nil
}

// whereClause joins conditions into a WHERE clause, "" for none.
func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}
