package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/agent-audit/agent-audit/function/logfire"
	"github.com/agent-audit/agent-audit/trail/replay"
)

// EnvLogfireToken holds a Logfire write token for `audit replay --logfire`.
const EnvLogfireToken = "LOGFIRE_TOKEN"

// logfireToken reads the write token: LOGFIRE_TOKEN, else the SSM parameter (the flag, else the function's own
// LOGFIRE_TOKEN_PARAMETER). Errors name where it was looked for, never the value.
func logfireToken(ctx context.Context, parameter string, lookup func(string) (string, bool)) (string, error) {
	if v, _ := lookup(EnvLogfireToken); strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v), nil
	}
	if parameter == "" {
		parameter, _ = lookup(logfire.EnvTokenParameter)
		parameter = strings.TrimSpace(parameter)
	}
	if parameter == "" {
		return "", usageError(fmt.Errorf("--logfire: set %s or name the SSM parameter holding the token with --logfire-token-parameter (or %s)",
			EnvLogfireToken, logfire.EnvTokenParameter))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return "", cannotCheckError(fmt.Errorf("--logfire: load AWS configuration: %w", err))
	}
	// As function/logfire reads it: the AWS error code only, nothing of a response.
	out, err := ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(parameter), WithDecryption: aws.Bool(true)})
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) {
			return "", cannotCheckError(fmt.Errorf("--logfire: ssm GetParameter %s: %s", parameter, apiErr.ErrorCode()))
		}
		return "", cannotCheckError(fmt.Errorf("--logfire: ssm GetParameter %s: request failed", parameter))
	}
	if out.Parameter == nil || strings.TrimSpace(aws.ToString(out.Parameter.Value)) == "" {
		return "", cannotCheckError(fmt.Errorf("--logfire: ssm GetParameter %s: no value", parameter))
	}
	return strings.TrimSpace(aws.ToString(out.Parameter.Value)), nil
}

// logfireEndpoint is where Logfire takes traces for token: the function's LOGFIRE_BASE_URL override, else the
// region the token names (function/logfire.BaseURL), with /v1/traces.
func logfireEndpoint(token string, lookup func(string) (string, bool)) string {
	base, _ := lookup(logfire.EnvBaseURL)
	if base = strings.TrimRight(strings.TrimSpace(base), "/"); base == "" {
		base = logfire.BaseURL(token)
	}
	return replay.TracesURL(base)
}
