package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/agent-audit/agent-audit/trail/replay"
	"github.com/agent-audit/agent-audit/trail/verify"
)

type replayFlags struct {
	root           string
	since, until   string
	trace          string
	conversation   string
	status         string
	query          string
	endpoint       string
	protocol       string
	headers        []string
	logfire        bool
	tokenParameter string
	strip          bool
	verify         bool
	publicKeys     []string
	kmsKeyID       string
}

func newReplayCommand() *cobra.Command {
	f := replayFlags{}
	cmd := &cobra.Command{
		Use:   "replay",
		Short: "Send traces from the trail to an OTLP backend (Jaeger, Tempo, Logfire, Langfuse, Phoenix, a Collector)",
		Long: `Replay reads the selected traces from the audit root and sends them over OTLP/HTTP, each one whole: every
span once (a record stored twice counts once), the parts of a split record together, and content stored apart
(oversize) put back in place. IDs, timestamps, status, attributes and resource are sent as stored, the seal and
record framing attributes too unless --strip-audit-attributes is given.

Without a selection flag every trace is sent. Selection flags combine (all must hold).

The destination is --otlp-endpoint, else the standard OTEL_EXPORTER_OTLP_* variables (ENDPOINT, TRACES_ENDPOINT,
HEADERS, PROTOCOL, TIMEOUT, COMPRESSION, CERTIFICATE, CLIENT_CERTIFICATE, CLIENT_KEY and their TRACES_ forms),
as the OpenTelemetry SDKs read them, else http://localhost:4318. Flags win over variables. --logfire sends to
Logfire with the write token from LOGFIRE_TOKEN, or read from the SSM parameter --logfire-token-parameter
(default $LOGFIRE_TOKEN_PARAMETER), in the region the token names; the token is never printed.

Requests are retried as the OTLP specification says (429, 502, 503, 504 and connection errors, with exponential
backoff and jitter, honouring Retry-After); spans a server rejects in a partial success are failures.
Replaying a trace twice sends it twice; the README ("Replay runs into Jaeger, Tempo or Logfire") says what
each backend makes of that.

Exit status: 0 every selected trace was delivered, 1 something was not (each failure is listed), 2 a usage error,
3 the trail could not be read or verified.`,
		Example: `  audit replay --root ./audit-data --otlp-endpoint http://localhost:4318
  audit replay --trace 4bf92f35 --protocol http/json --header "Authorization=Bearer $TOKEN" --otlp-endpoint https://otlp.example
  audit replay --root s3://my-audit-bucket --since 2026-11-01 --until 2026-11-02 --status error --logfire
  audit replay --conversation conv-9 --verify --strip-audit-attributes
  audit replay --query "SELECT trace FROM runs WHERE in_tokens > 5000"`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := cobra.NoArgs(cmd, args); err != nil {
				return usageError(err)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runReplay(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), f, os.LookupEnv, time.Now())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.root, "root", defaultReadRoot(), "audit root: a local directory or s3://bucket (default s3://$AUDIT_BUCKET, else ./audit-data)")
	fl.StringVar(&f.since, "since", "", "only traces that started then or later: a duration (24h), a date or an RFC 3339 time")
	fl.StringVar(&f.until, "until", "", "only traces that started before then: a duration (1h ago), a date or an RFC 3339 time")
	fl.StringVar(&f.trace, "trace", "", "only this trace: its ID or a prefix of it, as for show")
	fl.StringVar(&f.conversation, "conversation", "", "only traces of this gen_ai.conversation.id")
	fl.StringVar(&f.status, "status", "", "error: only traces with a span in status ERROR")
	fl.StringVar(&f.query, "query", "", "only the traces whose IDs this SQL (over spans, traces, runs, tool_calls) returns in its first column")
	fl.StringVar(&f.endpoint, "otlp-endpoint", "", "OTLP/HTTP base URL (/v1/traces is appended unless the path already ends so)")
	fl.StringVar(&f.protocol, "protocol", "", "http/protobuf (default) or http/json")
	fl.StringArrayVar(&f.headers, "header", nil, "request header K=V; repeatable")
	fl.BoolVar(&f.logfire, "logfire", false, "send to Logfire: token from LOGFIRE_TOKEN or --logfire-token-parameter, region from the token")
	fl.StringVar(&f.tokenParameter, "logfire-token-parameter", "", "SSM parameter holding the Logfire write token (default $LOGFIRE_TOKEN_PARAMETER)")
	fl.BoolVar(&f.strip, "strip-audit-attributes", false, "drop the seal, record framing and oversize reference attributes")
	fl.BoolVar(&f.verify, "verify", false, "verify the root first and refuse every trace whose records fail")
	fl.StringArrayVar(&f.publicKeys, "public-key", nil, "with --verify: PEM public key that certifies the records; repeatable (local roots: the local signing key)")
	fl.StringVar(&f.kmsKeyID, "kms-key-id", "", "with --verify: also accept records certified by this KMS key")
	return cmd
}

// runReplay selects, sends and prints the summary; its error carries the exit code.
func runReplay(ctx context.Context, stdout, stderr io.Writer, f replayFlags, lookup func(string) (string, bool), now time.Time) error {
	if ctx == nil {
		ctx = context.Background()
	}
	filter, err := replayFilter(f, now)
	if err != nil {
		return usageError(err)
	}
	cfg, err := exporterConfig(ctx, f, lookup)
	if err != nil {
		return err
	}
	exp, err := replay.NewExporter(cfg)
	if err != nil {
		return usageError(err)
	}
	if f.verify && strings.HasPrefix(f.root, "s3://") && len(f.publicKeys) == 0 && f.kmsKeyID == "" {
		return usageError(errors.New("--verify on an s3:// root: pass the stack's public key with --public-key (pulumi stack output signingPublicKeyPem) or --kms-key-id"))
	}
	store, err := openStore(ctx, f.root)
	if err != nil {
		return cannotCheckError(err)
	}
	var opts replay.Options
	opts.Assemble.StripAuditAttributes = f.strip
	if f.verify {
		vo := verify.Options{Since: filter.Since}
		if err := acceptedKeys(ctx, store, verifyFlags{root: f.root, publicKeys: f.publicKeys, kmsKeyID: f.kmsKeyID}, &vo); err != nil {
			return err
		}
		opts.Verify = &vo
	}
	var sel []replay.Selected
	err = withDB(ctx, f.root, stderr, func(db *sql.DB) error {
		if f.trace != "" {
			id, err := resolveTrace(ctx, db, f.trace)
			if err != nil {
				return usageError(err)
			}
			filter.TraceIDs = []string{id}
		}
		stop := progress(stderr, "selecting traces")
		defer stop()
		sel, err = replay.Select(ctx, db, f.root, filter)
		return err
	})
	if err != nil {
		var e *exitError
		if errors.As(err, &e) {
			return err
		}
		if errors.Is(err, replay.ErrBadFilter) {
			return usageError(err)
		}
		return cannotCheckError(err)
	}
	if len(sel) == 0 {
		fmt.Fprintln(stdout, "no trace matches: nothing sent")
		return nil
	}
	bar := newBar(stderr, len(sel))
	opts.Progress = func(done, _ int) { bar(done) }
	sum, err := replay.Replay(ctx, store, sel, exp, opts)
	printReplaySummary(stdout, exp, sum)
	if err != nil {
		return cannotCheckError(err)
	}
	if !sum.Delivered() {
		return problemsError(fmt.Errorf("replay: %s of %d not delivered", count(len(sum.Failures), "trace"), sum.Selected))
	}
	return nil
}

// replayFilter reads the selection flags.
func replayFilter(f replayFlags, now time.Time) (replay.Filter, error) {
	var errs []error
	filter := replay.Filter{Conversation: f.conversation, Query: f.query}
	var err error
	if filter.Since, err = parseSince(f.since, now); err != nil {
		errs = append(errs, err)
	}
	if filter.Until, err = parseSince(f.until, now); err != nil {
		errs = append(errs, fmt.Errorf("--until %q: want a duration such as 1h, a date such as 2026-11-02, or an RFC 3339 time", f.until))
	}
	if !filter.Since.IsZero() && !filter.Until.IsZero() && !filter.Until.After(filter.Since) {
		errs = append(errs, fmt.Errorf("--until %s is not after --since %s", f.until, f.since))
	}
	switch strings.ToLower(f.status) {
	case "":
	case "error":
		filter.ErrorsOnly = true
	default:
		errs = append(errs, fmt.Errorf("--status %q: want error", f.status))
	}
	return filter, errors.Join(errs...)
}

// exporterConfig builds the destination: the OTEL_EXPORTER_OTLP_* variables, overridden by the flags, or
// Logfire.
func exporterConfig(ctx context.Context, f replayFlags, lookup func(string) (string, bool)) (replay.ExporterConfig, error) {
	cfg, err := replay.ConfigFromEnv(lookup)
	if err != nil {
		return cfg, usageError(err)
	}
	if f.logfire {
		if f.endpoint != "" {
			return cfg, usageError(errors.New("--logfire and --otlp-endpoint: give one destination"))
		}
		token, err := logfireToken(ctx, f.tokenParameter, lookup)
		if err != nil {
			return cfg, err
		}
		cfg.Endpoint = logfireEndpoint(token, lookup)
		cfg.Headers = map[string]string{"Authorization": token}
	}
	if f.endpoint != "" {
		u, err := url.Parse(f.endpoint)
		if err != nil || u.Host == "" {
			return cfg, usageError(fmt.Errorf("--otlp-endpoint %q: want an http or https URL", f.endpoint))
		}
		cfg.Endpoint = f.endpoint
		if !strings.HasSuffix(strings.TrimRight(u.Path, "/"), "/"+replay.TracesPath) {
			cfg.Endpoint = replay.TracesURL(f.endpoint)
		}
	}
	if f.protocol != "" {
		cfg.Protocol = replay.Protocol(f.protocol)
	}
	for _, h := range f.headers {
		k, v, ok := strings.Cut(h, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return cfg, usageError(fmt.Errorf("--header: want K=V (the value is not shown)"))
		}
		if cfg.Headers == nil {
			cfg.Headers = map[string]string{}
		}
		cfg.Headers[strings.TrimSpace(k)] = v
	}
	return cfg, nil
}

// printReplaySummary writes what was delivered, then every failure.
func printReplaySummary(w io.Writer, exp *replay.Exporter, sum replay.Summary) {
	fmt.Fprintf(w, "replayed %d of %d traces to %s (%s): %s in %s, %s sent\n", sum.Traces, sum.Selected, exp.Endpoint(),
		exp.Protocol(), count(sum.Spans, "span"), count(sum.Requests, "request"), formatBytes(sum.Bytes))
	if sum.Oversize > 0 {
		fmt.Fprintf(w, "%s had their oversize content put back\n", plural(sum.Oversize, "span", "spans"))
	}
	for _, fl := range sum.Failures {
		fmt.Fprintf(w, "not delivered %s: %s\n", fl.TraceID, printable(fl.Err.Error()))
	}
}

// formatBytes writes a byte count in B, KiB or MiB.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%d B", n)
	}
}
