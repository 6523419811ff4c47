package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/agent-audit/agent-audit/queries"
)

type readFlags struct {
	root   string
	output string
}

func (f *readFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.root, "root", defaultReadRoot(), "audit root: a local directory or s3://bucket (default s3://$AUDIT_BUCKET, else ./audit-data)")
	cmd.Flags().StringVarP(&f.output, "output", "o", FormatTable, "output format: table, json or csv")
}

func newQueryCommand() *cobra.Command {
	f := readFlags{}
	cmd := &cobra.Command{
		Use:   "query <sql>",
		Short: "Run SQL against the views: spans, traces, runs, tool_calls",
		Example: `  audit query "SELECT model, sum(in_tokens + out_tokens) AS tokens FROM traces GROUP BY model"
  audit query -o csv "SELECT * FROM tool_calls WHERE status = 'ERROR'"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDB(cmd.Context(), f.root, cmd.ErrOrStderr(), func(db *sql.DB) error {
				rows, err := scan(cmd.Context(), db, cmd.ErrOrStderr(), args[0])
				if err != nil {
					return err
				}
				defer rows.Close()
				_, err = printRows(cmd.OutOrStdout(), rows, f.output)
				return err
			})
		},
	}
	f.register(cmd)
	return cmd
}

// withDB opens the views over root for fn.
func withDB(ctx context.Context, root string, stderr io.Writer, fn func(*sql.DB) error) error {
	if ctx == nil {
		ctx = context.Background()
	}
	db, err := queries.Open(ctx, root)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db)
}

// scan runs a query. On a terminal it shows an elapsed-time line while the scan runs, since reading many GZIP
// objects can take a while; piped or redirected, it stays quiet.
func scan(ctx context.Context, db *sql.DB, stderr io.Writer, query string, args ...any) (*sql.Rows, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	stop := progress(stderr, "scanning the audit trail")
	defer stop()
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	return rows, nil
}

// progress draws "label … 3s" on stderr once a second while the returned func has not been called, but only when
// stderr is a terminal.
func progress(stderr io.Writer, label string) (stop func()) {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		start := time.Now()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(f, "\r\033[K")
				return
			case <-tick.C:
				fmt.Fprintf(f, "\r\033[K%s … %s", label, time.Since(start).Round(time.Second))
			}
		}
	}()
	return func() { close(done); <-finished }
}
