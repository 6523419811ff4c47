package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agent-audit/agent-audit/queries"
)

type tracesFlags struct {
	readFlags
	since  time.Duration
	model  string
	status string
	limit  int
}

func newTracesCommand() *cobra.Command {
	f := tracesFlags{}
	cmd := &cobra.Command{
		Use:   "traces",
		Short: "List agent runs (the runs view), newest first",
		Example: `  audit traces
  audit traces --since 1h --status error
  audit traces --root s3://my-audit-bucket --model claude-haiku-4-5 -o json`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
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
				n, err := printRows(cmd.OutOrStdout(), rows, f.output)
				if err == nil && n == 0 && f.output == FormatTable {
					fmt.Fprintln(cmd.ErrOrStderr(), "no runs match")
				}
				return err
			})
		},
	}
	f.register(cmd)
	cmd.Flags().DurationVar(&f.since, "since", 24*time.Hour, "only runs that started within this long")
	cmd.Flags().StringVar(&f.model, "model", "", "only runs of this model")
	cmd.Flags().StringVar(&f.status, "status", "", "only runs with this status: ok or error")
	cmd.Flags().IntVar(&f.limit, "limit", 50, "at most this many runs")
	return cmd
}

// query builds the SELECT. The date condition is repeated on the partition columns as plain comparisons (DuckDB
// prunes on those, not on expressions such as make_date), so whole days of objects are skipped unopened.
func (f tracesFlags) query(now time.Time) (string, []any, error) {
	if f.limit < 1 {
		return "", nil, fmt.Errorf("--limit %d: want at least 1", f.limit)
	}
	since := now.Add(-f.since).UTC()
	where := []string{
		"(year > ? OR (year = ? AND (month > ? OR (month = ? AND day >= ?))))",
		"started >= ?::TIMESTAMP",
	}
	y, m, d := since.Date()
	args := []any{y, y, int(m), int(m), d, since.Format("2006-01-02 15:04:05.999999")}
	if f.model != "" {
		where, args = append(where, "model = ?"), append(args, f.model)
	}
	switch strings.ToLower(f.status) {
	case "":
	case "error":
		where = append(where, "status = 'ERROR'")
	case "ok":
		where = append(where, "status <> 'ERROR'")
	default:
		return "", nil, fmt.Errorf("--status %q: want ok or error", f.status)
	}
	q := `SELECT started, trace, agent, model, round(dur_ms, 1) AS dur_ms, in_tokens, out_tokens, turns, tool_calls,
	        status, error_type, conversation_id
	      FROM runs WHERE ` + strings.Join(where, " AND ") + fmt.Sprintf(" ORDER BY started DESC LIMIT %d", f.limit)
	return q, args, nil
}
