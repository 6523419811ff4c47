package main

import (
	"context"
	"database/sql"
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
print the runs view and the waterfall of one run. Nothing leaves the machine.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return demo(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), root, runs)
		},
	}
	cmd.Flags().IntVar(&runs, "runs", 50, "how many invocations")
	cmd.Flags().StringVar(&root, "root", "", "fresh directory for the records (default: a new temporary directory)")
	return cmd
}

func demo(ctx context.Context, stdout, stderr io.Writer, root string, runs int) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if runs < 1 {
		return fmt.Errorf("--runs %d: want at least 1", runs)
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
	var shown string
	for i := 0; i < runs; i++ {
		resp, err := a.Handler.Handle(ctx, demoEvent(i))
		var ie *handler.InvocationError
		switch {
		case err == nil:
			ok++
			if shown == "" && i%8 == 0 {
				shown = resp.TraceID
			}
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
	fmt.Fprintf(stdout, "%d runs into %s: %d ok, %d failed in the model, %d rejected events (all audited)\n\n", runs, root, ok, failed, rejected)
	return withDB(ctx, root, stderr, func(db *sql.DB) error {
		rows, err := db.QueryContext(ctx, `SELECT started, trace, model, round(dur_ms, 2) AS dur_ms, in_tokens, out_tokens,
			tool_calls, status, error_type, user_prompt FROM runs ORDER BY started DESC LIMIT 12`)
		if err != nil {
			return err
		}
		if _, err := printRows(stdout, rows, FormatTable); err != nil {
			rows.Close()
			return err
		}
		rows.Close()
		if shown == "" {
			return nil
		}
		spans, err := loadSpans(ctx, db, shown)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout)
		renderTrace(stdout, shown, spans)
		fmt.Fprintf(stdout, "\nNext: audit traces --root %s   audit show <trace> --root %s   audit query --root %s \"SELECT …\"\n", root, root, root)
		return nil
	})
}

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

// freshRoot returns dir when it does not exist or is empty, or a new temporary directory when dir is "".
func freshRoot(dir string) (string, error) {
	if dir == "" {
		return os.MkdirTemp("", "agent-audit-demo-")
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return dir, os.MkdirAll(dir, 0o755)
	case err != nil:
		return "", err
	case len(entries) > 0:
		return "", fmt.Errorf("--root %s is not empty; the demo writes into a fresh root", dir)
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
