// Package awsenv builds the AWS SDK configuration of a Lambda function from the variables Lambda sets, without
// config.LoadDefaultConfig.
//
// Why not the SDK's loader: LoadDefaultConfig links every credential source it might try (shared files, SSO,
// ssooidc, sign-in, STS web identity and assume-role, ECS and EC2 metadata) and their service clients, whose
// package initialisation runs on every cold start; Lambda hands the function its role's credentials in the
// environment and uses none of them. This package reads what the loader reads from the environment in Lambda and
// gives the clients the same behaviour:
//
//	AWS_REGION, else AWS_DEFAULT_REGION                       Region (required)
//	AWS_ACCESS_KEY_ID (AWS_ACCESS_KEY), AWS_SECRET_ACCESS_KEY  static credentials, as the loader's environment
//	(AWS_SECRET_KEY), AWS_SESSION_TOKEN, AWS_ACCOUNT_ID        provider reads them (required)
//	AWS_ENDPOINT_URL                                          BaseEndpoint of every client
//	AWS_ENDPOINT_URL_<SERVICE>                                one service's endpoint (its SDK ID, upper case,
//	                                                          spaces as underscores: AWS_ENDPOINT_URL_BEDROCK_RUNTIME)
//	AWS_IGNORE_CONFIGURED_ENDPOINT_URLS                       true: neither of the two above applies
//	AWS_MAX_ATTEMPTS, AWS_RETRY_MODE                          the standard retryer's attempts and mode
//	AWS_USE_FIPS_ENDPOINT, AWS_USE_DUALSTACK_ENDPOINT         refused when true (see below); false is accepted
//
// The function's own calls (packages awsjson and awss3) resolve the standard regional endpoints only, not their
// FIPS or dual-stack variants, so a configuration asking for those is an error rather than a silent fall-back to
// the standard endpoint: point each service at its FIPS endpoint with AWS_ENDPOINT_URL_<SERVICE> instead.
//
// Retries, endpoint rules, signing and the HTTP client are the service clients' own defaults, as with the loader.
// Options a client is built with (such as a retryer of its own) still override these.
package awsenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/logging"
)

// Environment variables read by Config.
const (
	EnvRegion                   = "AWS_REGION"
	EnvDefaultRegion            = "AWS_DEFAULT_REGION"
	EnvAccessKeyID              = "AWS_ACCESS_KEY_ID"
	EnvAccessKey                = "AWS_ACCESS_KEY"
	EnvSecretAccessKey          = "AWS_SECRET_ACCESS_KEY"
	EnvSecretKey                = "AWS_SECRET_KEY"
	EnvSessionToken             = "AWS_SESSION_TOKEN"
	EnvAccountID                = "AWS_ACCOUNT_ID"
	EnvEndpointURL              = "AWS_ENDPOINT_URL"
	EnvIgnoreConfiguredEndpoint = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
	EnvMaxAttempts              = "AWS_MAX_ATTEMPTS"
	EnvRetryMode                = "AWS_RETRY_MODE"
	EnvUseFIPSEndpoint          = "AWS_USE_FIPS_ENDPOINT"
	EnvUseDualStackEndpoint     = "AWS_USE_DUALSTACK_ENDPOINT"
)

// envCredentialsSource names where the credentials came from as the loader's environment provider names it.
const envCredentialsSource = "EnvConfigCredentials"

// Config returns the AWS configuration that lookup (os.LookupEnv in the function) describes. It returns one error
// naming every missing or bad variable; the error never holds a credential.
func Config(lookup func(string) (string, bool)) (aws.Config, error) {
	get := func(names ...string) string {
		for _, n := range names {
			if v, ok := lookup(n); ok && strings.TrimSpace(v) != "" {
				return strings.TrimSpace(v)
			}
		}
		return ""
	}
	var errs []error
	region := get(EnvRegion, EnvDefaultRegion)
	if region == "" {
		errs = append(errs, fmt.Errorf("%s: required (Lambda sets it)", EnvRegion))
	}
	creds := aws.Credentials{
		AccessKeyID:     get(EnvAccessKeyID, EnvAccessKey),
		SecretAccessKey: get(EnvSecretAccessKey, EnvSecretKey),
		SessionToken:    get(EnvSessionToken),
		AccountID:       get(EnvAccountID),
		Source:          envCredentialsSource,
	}
	if creds.AccessKeyID == "" {
		errs = append(errs, fmt.Errorf("%s: required (Lambda sets the execution role's credentials)", EnvAccessKeyID))
	}
	if creds.SecretAccessKey == "" {
		errs = append(errs, fmt.Errorf("%s: required (Lambda sets the execution role's credentials)", EnvSecretAccessKey))
	}
	ignore := false
	if v := get(EnvIgnoreConfiguredEndpoint); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not true or false", EnvIgnoreConfiguredEndpoint, v))
		}
		ignore = b
	}
	cfg := aws.Config{
		Region:        region,
		Credentials:   credentials.StaticCredentialsProvider{Value: creds},
		Logger:        logging.NewStandardLogger(os.Stderr),
		ConfigSources: []any{endpoints{lookup: lookup, ignore: ignore}},
	}
	if v := get(EnvEndpointURL); v != "" && !ignore {
		cfg.BaseEndpoint = aws.String(v)
	}
	if v := get(EnvMaxAttempts); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("%s: %q is not a whole number of at least 1", EnvMaxAttempts, v))
		}
		cfg.RetryMaxAttempts = n
	}
	if v := get(EnvRetryMode); v != "" {
		mode, err := aws.ParseRetryMode(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not standard or adaptive", EnvRetryMode, v))
		}
		cfg.RetryMode = mode
	}
	for _, name := range []string{EnvUseFIPSEndpoint, EnvUseDualStackEndpoint} {
		v := get(name)
		if v == "" {
			continue
		}
		switch on, err := strconv.ParseBool(v); {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: %q is not true or false", name, v))
		case on:
			errs = append(errs, fmt.Errorf("%s: not supported: the function's AWS calls resolve standard endpoints "+
				"only; set AWS_ENDPOINT_URL_<SERVICE> to each service's endpoint instead", name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration from the environment: %w", err)
	}
	return cfg, nil
}

// endpoints is the configuration source through which every service client resolves AWS_ENDPOINT_URL_<SERVICE>
// (the SDK's clients ask their ConfigSources for these two methods, as they ask the loader's environment source).
type endpoints struct {
	lookup func(string) (string, bool)
	ignore bool
}

// GetServiceBaseEndpoint returns AWS_ENDPOINT_URL_<SERVICE> for the service of SDK ID sdkID.
func (e endpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v, _ := e.lookup(EnvEndpointURL + "_" + strings.ReplaceAll(strings.ToUpper(sdkID), " ", "_"))
	v = strings.TrimSpace(v)
	return v, v != "", nil
}

// GetIgnoreConfiguredEndpoints reports AWS_IGNORE_CONFIGURED_ENDPOINT_URLS.
func (e endpoints) GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error) {
	return e.ignore, e.ignore, nil
}

// ServiceEndpoint returns the endpoint cfg's configuration sources give the service of SDK ID sdkID (such as "SSM"
// for AWS_ENDPOINT_URL_SSM), as the SDK's own clients resolve it: for a hand-written call that has no SDK client.
// It works with this package's sources and with config.LoadDefaultConfig's.
func ServiceEndpoint(cfg aws.Config, sdkID string) (string, bool) {
	type ignorer interface {
		GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error)
	}
	type resolver interface {
		GetServiceBaseEndpoint(context.Context, string) (string, bool, error)
	}
	for _, s := range cfg.ConfigSources {
		if i, ok := s.(ignorer); ok {
			if v, found, _ := i.GetIgnoreConfiguredEndpoints(context.Background()); found && v {
				return "", false
			}
		}
	}
	for _, s := range cfg.ConfigSources {
		if r, ok := s.(resolver); ok {
			if v, found, err := r.GetServiceBaseEndpoint(context.Background(), sdkID); err == nil && found {
				return v, true
			}
		}
	}
	return "", false
}
