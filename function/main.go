// Command bootstrap is the audited agent as an AWS Lambda function (provided.al2023, arm64). It only wires: the
// configuration comes from the environment (see the README), app.New assembles the parts, lambda.Start serves.
//
// Build: CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -trimpath -ldflags "-s -w" -o bootstrap ./function
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/agent-audit/agent-audit/function/app"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	slog.SetDefault(logger)

	cfg, err := app.ConfigFromEnv(os.LookupEnv)
	if err != nil {
		logger.Error("invalid configuration", "error", err)
		os.Exit(1)
	}
	a, err := app.New(context.Background(), cfg, app.WithLogger(logger))
	if err != nil {
		logger.Error("cannot start", "error", err)
		os.Exit(1)
	}
	lambda.StartWithOptions(a, lambda.WithEnableSIGTERM(a.LastChanceFlush))
}
