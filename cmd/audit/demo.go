package main

import (
	"context"

	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/agent-audit/agent-audit"
	"github.com/agent-audit/agent-audit/agentenv"
	demoagent "github.com/agent-audit/agent-audit/function/demo"
	"github.com/agent-audit/agent-audit/function/handler"
	"github.com/agent-audit/agent-audit/queries"
)

// demoPrompts cycle through the runs: tool calls of every kind, plain answers, and a model failure.
var demoPrompts = []string{
	"What is %d * 23?",
	"What time is it in Tokyo?",
	`How many words are in "the quick brown fox jumps over the lazy dog %d times"?`,
	"What is (%d + 8) / 4?",
	"Say hello to run %d.",
	"What time is it in Europe/Berlin?",
	"Please summarise run %d. [fail:ThrottlingException]",
	"What is %d %% 7?",
}

func newDemoCommand() *cobra.Command {
	var runs int
	var root string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the offline agent many times into a fresh local root, then list the runs and show one",
		Long: `Run the offline agent --runs times (tool calls, plain answers, some model failures and a few
rejected events) through the function's own handler into a fresh local root, write the root's signed digest, then
print the newest runs (saying how many of them) and the waterfall of one of those listed. Nothing leaves the
machine.

The root is ` + DefaultRoot + ` unless --root names another, so audit runs, show and query find it afterwards without
--root; the demo refuses a root that exists and is not empty.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return demo(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), root, runs)
		},
	}
	cmd.Flags().IntVar(&runs, "runs", 50, "how many invocations")
	cmd.Flags().StringVar(&root, "root", DefaultRoot, "fresh directory for the records: absent or empty")
	return cmd
}

func demo(ctx context.Context, stdout, stderr io.Writer, root string, runs int) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if runs < 1 {
		return usageError(fmt.Errorf("--runs %d: want at least 1", runs))
	}
	root, err := freshRoot(root)
	if err != nil {
		return err
	}
	cfg := agentaudit.DefaultConfig()
	cfg.Model = agentenv.ModelOffline
	cfg.LocalRoot = root
	cfg.SigningKeyFile = defaultKeyFile()
	a, err := agentaudit.New(ctx, cfg, append(demoagent.Options(), agentaudit.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))...)
	if err != nil {
		return err
	}
	bar := newBar(stderr, runs)
	var ok, failed, rejected int
	for i := 0; i < runs; i++ {
		_, err := a.Handler.Handle(ctx, demoEvent(i))
		var ie *handler.InvocationError
		switch {
		case err == nil:
			ok++
		case errors.As(err, &ie) && ie.Kind == handler.KindInvalidEvent:
			rejected++
		case errors.As(err, &ie) && ie.Kind == handler.KindAgentRun:
			failed++
		default:
			return fmt.Errorf("run %d: %w", i, err)
		}
		bar(i + 1)
	}
	if err := a.Shutdown(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	if err := writeLocalDigest(ctx, stderr, root, cfg.SigningKeyFile, ""); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s into %s: %d ok, %d failed in the model, %s (all audited)\n\n", count(runs, "run"), root, ok, failed, count(rejected, "rejected event"))
	return withDB(ctx, readFlags{root: root}, stderr, func(db *queries.DB) error {
		if runs > demoListed {
			fmt.Fprintf(stdout, "The %d newest of the %d runs (audit runs lists more):\n", demoListed, runs)
		} else {
			fmt.Fprintf(stdout, "All %s:\n", count(runs, "run"))
		}
		newest := fmt.Sprintf(`SELECT * FROM runs ORDER BY started DESC, trace LIMIT %d`, demoListed)
		rows, err := db.QueryContext(ctx, `SELECT started, trace, model, round(dur_ms, 2) AS dur_ms, in_tokens, out_tokens,
			tool_calls, status, error_type, user_prompt FROM (`+newest+`) ORDER BY started DESC, trace`)
		if err != nil {
			return err
		}
		if _, err := printRows(stdout, rows, outputOptions{format: FormatTable, width: terminalWidth(stdout)}); err != nil {
			rows.Close()
			return err
		}
		rows.Close()
		// The waterfall is of a listed run: the newest that called a tool, else the newest.
		shown, err := firstTrace(ctx, db, `SELECT trace FROM (`+newest+`) ORDER BY tool_calls > 0 DESC, started DESC, trace LIMIT 1`)
		if err != nil {
			return fmt.Errorf("pick a run to show: %w", err)
		}
		spans, err := loadSpans(ctx, db, shown)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\nThe waterfall of %s, listed above:\n", shown)
		renderTrace(stdout, shown, spans, nil)
		flag := ""
		if readRoot("") != root {
			flag = " --root " + root
		}
		fmt.Fprintf(stdout, "\nNext: audit runs%s   audit show %s%s   audit query%s \"SELECT …\"\n", flag, shown[:8], flag, flag)
		return nil
	})
}

// demoListed is how many of its runs the demo lists.
const demoListed = 12

// demoEvent is invocation i's payload: mostly prompts, every seventeenth a rejected event.
func demoEvent(i int) []byte {
	if i%17 == 16 {
		return []byte(`{"prompt": 42}`)
	}
	prompt := demoPrompts[i%len(demoPrompts)]
	if strings.Contains(prompt, "%d") {
		prompt = fmt.Sprintf(prompt, i+1)
	}
	b, _ := json.Marshal(map[string]string{"prompt": prompt, "conversation_id": fmt.Sprintf("demo-%d", i/5)})
	return b
}

// freshRoot returns dir, created, when it does not exist or is empty.
func freshRoot(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return dir, os.MkdirAll(dir, 0o755)
	case err != nil:
		return "", err
	case len(entries) > 0:
		return "", usageError(fmt.Errorf("--root %s is not empty; the demo writes into a fresh root: remove it, or pass --root with another directory", dir))
	}
	return dir, nil
}

// newBar returns a progress callback drawing "runs [████····] 12/50" on a terminal; piped, it draws nothing.
func newBar(stderr io.Writer, total int) func(done int) {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return func(int) {}
	}
	const width = 30
	last := time.Time{}
	return func(done int) {
		if done < total && time.Since(last) < 50*time.Millisecond {
			return
		}
		last = time.Now()
		filled := done * width / total
		fmt.Fprintf(f, "\rruns [%s%s] %d/%d", strings.Repeat("█", filled), strings.Repeat("·", width-filled), done, total)
		if done == total {
			fmt.Fprint(f, "\r\033[K")
		}
	}
}

// firstTrace is the trace the query's first row names.
func firstTrace(ctx context.Context, db *queries.DB, query string) (string, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	if !rows.Next() {
		return "", errors.New("no run")
	}
	var id string
	if err := rows.Scan(&id); err != nil {
		return "", err
	}
	return id, rows.Err()
}
