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

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"

	"github.com/agent-audit/agent-audit"
	"github.com/agent-audit/agent-audit/agentenv"
	"github.com/agent-audit/agent-audit/function/audit"
	demoagent "github.com/agent-audit/agent-audit/function/demo"
)

// DefaultRoot is where `audit run` writes records when neither --root nor --firehose is given.
const DefaultRoot = "./audit-data"

type runFlags struct {
	root                string
	model               string
	firehose            string
	inferenceProfileARN string
	modelID             string
	agentName           string
	conversationID      string
	traceparent         string
	event               string
	noContent           bool
	timeout             time.Duration
	verbose             bool
	signingKey          string
	kmsKeyID            string
	maxPromptBytes      int
}

func newRunCommand() *cobra.Command {
	f := runFlags{}
	cmd := &cobra.Command{
		Use:   "run [prompt]",
		Short: "Run the agent once, locally, and write its audit trace",
		Long: `Run the agent once through the function's own handler and audit pipeline.

By default the offline model answers (no AWS needed) and the trace is written under --root exactly as
Firehose would deliver it to S3: GZIP, newline-delimited OTLP/JSON under
traces/year=YYYY/month=MM/day=DD/hour=HH/. Then the root's signed digest (see ` + "`audit digest`" + `) is
written under digests/: it covers every object written before it. --model bedrock calls Amazon Bedrock with
your AWS credentials; --firehose NAME ships the record to a real delivery stream instead of the directory.`,
		Example: `  audit run "What is 17 * 23?"
  audit run --no-content "What time is it in Tokyo?"
  audit run --event bad-event.json
  audit run --model bedrock --inference-profile-arn arn:aws:bedrock:... --firehose agent-audit-dev`,
		Args: onePrompt,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runOnce(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), cmd.InOrStdin(), f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.root, "root", DefaultRoot, "local directory receiving records in Firehose's S3 layout")
	fl.StringVar(&f.model, "model", agentenv.ModelOffline, "model: offline (deterministic, no AWS) or bedrock")
	fl.StringVar(&f.firehose, "firehose", "", "ship to this Firehose delivery stream instead of --root")
	fl.StringVar(&f.inferenceProfileARN, "inference-profile-arn", os.Getenv(agentenv.InferenceProfileARN), "Bedrock application inference profile ARN (--model bedrock; $"+agentenv.InferenceProfileARN+" when not given)")
	fl.StringVar(&f.modelID, "model-id", os.Getenv(agentenv.ModelID), "logical model name for spans (--model bedrock; $"+agentenv.ModelID+" when not given)")
	fl.StringVar(&f.agentName, "agent-name", agentenv.DefaultAgentName, "agent name (span invoke_agent {name})")
	fl.StringVar(&f.conversationID, "conversation-id", "", "conversation id recorded on every span")
	fl.StringVar(&f.traceparent, "traceparent", "", "W3C traceparent making the run a child of a caller's trace")
	fl.StringVar(&f.event, "event", "", "send this raw event JSON file (- for stdin) instead of building one from the prompt")
	fl.BoolVar(&f.noContent, "no-content", false, "do not record prompts, outputs or tool arguments/results")
	fl.DurationVar(&f.timeout, "timeout", 60*time.Second, "invocation deadline, as Lambda's function timeout")
	fl.BoolVar(&f.verbose, "verbose", false, "print the function's log lines")
	fl.StringVar(&f.signingKey, "signing-key", defaultKeyFile(), "PEM ECDSA P-256 key sealing the records, created if absent ($"+agentenv.SigningKeyFile+" names another)")
	fl.StringVar(&f.kmsKeyID, "kms-key-id", "", "seal with this KMS key (ARN) instead of --signing-key")
	fl.IntVar(&f.maxPromptBytes, "max-prompt-bytes", agentaudit.DefaultConfig().MaxPromptBytes, "largest accepted prompt, bytes (as AGENT_MAX_PROMPT_BYTES; at most 1048576)")
	return cmd
}

// runOnce assembles the function as the Lambda does, invokes it once and prints the response.
func runOnce(ctx context.Context, stdout, stderr io.Writer, stdin io.Reader, f runFlags, args []string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	payload, err := buildEvent(f, args, stdin)
	if err != nil {
		return usageError(err)
	}
	cfg := agentaudit.DefaultConfig()
	cfg.Model = f.model
	cfg.InferenceProfileARN = f.inferenceProfileARN
	cfg.ModelName = f.modelID
	cfg.AgentName = f.agentName
	cfg.CaptureContent = !f.noContent
	cfg.MaxPromptBytes = f.maxPromptBytes
	if f.kmsKeyID != "" {
		cfg.SigningKeyID = f.kmsKeyID
	} else {
		cfg.SigningKeyFile = f.signingKey
	}
	if f.firehose != "" {
		cfg.FirehoseStream = f.firehose
	} else {
		cfg.LocalRoot = f.root
	}
	if err := cfg.Validate(); err != nil {
		return usageError(errors.New(configFlags.Replace(err.Error())))
	}
	logOut := io.Discard
	if f.verbose {
		logOut = stderr
	}
	var written []string
	opts := append(demoagent.Options(),
		agentaudit.WithLogger(slog.New(slog.NewTextHandler(logOut, nil))),
		agentaudit.WithLocalSinkOptions(audit.WithOnWrite(func(path string) { written = append(written, path) })),
	)
	if cfg.Model == agentaudit.ModelBedrock || cfg.SigningKeyID != "" || cfg.FirehoseStream != "" {
		// A local run takes credentials from the default chain (profiles, SSO, ...), which the function in
		// Lambda does not link.
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return fmt.Errorf("load AWS configuration: %w", err)
		}
		opts = append(opts, agentaudit.WithAWSConfig(awsCfg))
	}
	a, err := agentaudit.New(ctx, cfg, opts...)
	if err != nil {
		return err
	}
	invokeCtx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	resp, invokeErr := a.Handler.Handle(invokeCtx, payload)
	if err := a.Shutdown(context.WithoutCancel(ctx)); err != nil && invokeErr == nil {
		invokeErr = err
	}
	for _, p := range written {
		fmt.Fprintln(stderr, "audit record written to", p)
	}
	if f.firehose == "" {
		// The run's records are all written: close the root's digest period now, so the digest covers them.
		if err := writeLocalDigest(ctx, stderr, f.root, f.signingKey, f.kmsKeyID); err != nil {
			return errors.Join(invokeErr, err)
		}
	}
	if invokeErr != nil {
		return invokeErr
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(resp)
}

// buildEvent returns the raw event: the --event file as is (so bad events can be tried), or one built from flags.
func buildEvent(f runFlags, args []string, stdin io.Reader) ([]byte, error) {
	if f.event != "" {
		if len(args) > 0 || f.conversationID != "" || f.traceparent != "" {
			return nil, fmt.Errorf("--event sends the file as is; do not combine it with a prompt, --conversation-id or --traceparent")
		}
		if f.event == "-" {
			return io.ReadAll(stdin)
		}
		b, err := os.ReadFile(f.event)
		if err != nil {
			return nil, fmt.Errorf("read event: %w", err)
		}
		return b, nil
	}
	ev := map[string]string{}
	if len(args) == 1 {
		ev["prompt"] = args[0] // sent as is: the handler validates it, and audits a rejection
	}
	if f.conversationID != "" {
		ev["conversation_id"] = f.conversationID
	}
	if f.traceparent != "" {
		ev["traceparent"] = f.traceparent
	}
	return json.Marshal(ev)
}

// onePrompt refuses more than one argument, with the likely cause: a prompt of several words not quoted.
func onePrompt(_ *cobra.Command, args []string) error {
	if len(args) > 1 {
		return usageError(fmt.Errorf("run takes one prompt, got %d arguments; quote it: audit run %q", len(args), strings.Join(args, " ")))
	}
	return nil
}

// configFlags rewrites the function's configuration errors, which name environment variables, to name the
// flags of audit run that set them too.
var configFlags = strings.NewReplacer(
	agentenv.Model+"="+agentenv.ModelBedrock, "--model "+agentenv.ModelBedrock,
	agentenv.InferenceProfileARN, "--inference-profile-arn ($"+agentenv.InferenceProfileARN+")",
	agentenv.ModelID, "--model-id ($"+agentenv.ModelID+")",
	agentenv.Model, "--model",
	agentenv.AgentName, "--agent-name",
	agentenv.MaxPromptBytes, "--max-prompt-bytes",
	agentenv.FirehoseStream, "--firehose",
	agentenv.LocalRoot, "--root",
)
