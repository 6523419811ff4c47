package agentaudit

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/agent-audit/agent-audit/function/sigterm"
)

// Start is the whole main of an audited agent Lambda. It reads the configuration from the environment (the
// README's table; the names are in package agentenv), assembles the function with opts (New) and serves it with
// lambda.Start, with LastChanceFlush as the SIGTERM hook (package sigterm asks Lambda for SIGTERM while New
// runs). Without WithLogger it logs JSON to stderr, as Lambda's JSON log format expects, and makes that logger
// slog's default. It never returns: a bad configuration or a failed assembly is logged with every problem named,
// and the process exits with status 1, which Lambda reports as an init failure.
func Start(opts ...Option) {
	// The SIGTERM registration's round trip to Lambda runs while the function assembles.
	asked := sigterm.Register(os.Getenv(sigterm.RuntimeAPIVariable))
	logger := newOptions(opts).logger
	if !newOptions(opts).ownLogger {
		logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
		slog.SetDefault(logger)
		opts = append(opts, WithLogger(logger))
	}
	cfg, err := readEnv(os.LookupEnv)
	if err != nil {
		logger.Error("invalid configuration", "error", err)
		os.Exit(1)
	}
	fn, err := New(context.Background(), cfg, opts...)
	if err != nil {
		logger.Error("cannot start", "error", err)
		os.Exit(1)
	}
	if err := asked.Enable(fn.LastChanceFlush); err != nil {
		logger.Warn("the last-chance flush may not run: Lambda was not asked for SIGTERM", "error", err)
	}
	lambda.Start(fn)
}
