package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/agent-audit/agent-audit/queries"
)

// readFlags are the flags of every command that reads the trail through the views.
type readFlags struct {
	root string
	// strict makes a read that had to leave out unreadable objects fail (after printing what it read).
	strict bool
}

func (f *readFlags) register(cmd *cobra.Command) {
	registerRootFlag(cmd, &f.root)
	cmd.Flags().BoolVar(&f.strict, "strict", false, "exit non-zero when an object cannot be read (by default it is skipped and named on stderr)")
}

// withDB opens the views over f.root for fn. Objects that cannot be read are left out and named on stderr
// afterwards (`audit verify` reports the same ones); with f.strict that is an error once fn has printed.
func withDB(ctx context.Context, f readFlags, stderr io.Writer, fn func(*queries.DB) error) error {
	if ctx == nil {
		ctx = context.Background()
	}
	f.root = readRoot(f.root)
	var opts []queries.Option
	if strings.HasPrefix(f.root, "s3://") {
		store, err := openStore(ctx, f.root)
		if err != nil {
			return cannotCheckError(err)
		}
		opts = append(opts, queries.WithStore(store))
	}
	db, err := queries.Open(ctx, f.root, opts...)
	if err != nil {
		return cannotCheckError(err)
	}
	defer db.Close()
	err = fn(db)
	skipped := db.Skipped()
	if len(skipped) > 0 {
		fmt.Fprintf(stderr, "audit: skipped %s, which audit verify reports as well:\n", plural(len(skipped), "unreadable object", "unreadable objects"))
		for _, s := range skipped {
			fmt.Fprintf(stderr, "  %s: %s\n", printable(s.Key), printable(s.Reason))
		}
	}
	if errors.Is(err, queries.ErrNothingReadable) {
		return cannotCheckError(err)
	}
	if err == nil && f.strict && len(skipped) > 0 {
		return cannotCheckError(fmt.Errorf("--strict: %s could not be read", plural(len(skipped), "object", "objects")))
	}
	return err
}

// scan runs a query. On a terminal it shows an elapsed-time line while the scan runs, since reading many GZIP
// objects can take a while; piped or redirected, it stays quiet.
func scan(ctx context.Context, db *queries.DB, stderr io.Writer, query string, args ...any) (*sql.Rows, error) {
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
