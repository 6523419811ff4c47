package agentaudit

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/agent-audit/agent-audit/agentenv"
	"github.com/agent-audit/agent-audit/function/awsjson"
	"github.com/agent-audit/agent-audit/function/seal"
)

// lambdaIdentity is what the seal's certificates say the records come from: the function, its version and the
// container's log stream, from the variables Lambda sets, and the function's ARN once an invocation told it.
// Outside Lambda (no AWS_LAMBDA_FUNCTION_NAME) it is seal.LocalSubject.
type lambdaIdentity struct {
	arn atomic.Pointer[string]
}

// setARN records the invoked function's ARN without its qualifier (an alias or version: the version is a field
// of its own).
func (l *lambdaIdentity) setARN(arn string) {
	if parts := strings.Split(arn, ":"); len(parts) >= 7 && parts[0] == "arn" {
		unqualified := strings.Join(parts[:7], ":")
		l.arn.Store(&unqualified)
	}
}

func (l *lambdaIdentity) subject() seal.Subject {
	name := os.Getenv("AWS_LAMBDA_FUNCTION_NAME")
	if name == "" {
		return seal.LocalSubject()
	}
	s := seal.Subject{Function: name, Version: os.Getenv("AWS_LAMBDA_FUNCTION_VERSION"), LogStream: os.Getenv("AWS_LAMBDA_LOG_STREAM_NAME")}
	if arn := l.arn.Load(); arn != nil {
		s.Function = *arn
	}
	return s
}

// buildSealer returns the Sealer of the configured signing key, nil when records are not sealed. The key is
// the issuer: it certifies the Sealer's own keys (one kms:Sign per container and renewal), never a record.
func buildSealer(ctx context.Context, cfg Config, o options, loadAWS func() (aws.Config, error), ident *lambdaIdentity) (*seal.Sealer, error) {
	opts := append([]seal.Option{seal.WithLogger(o.logger), seal.WithSubject(ident.subject)}, o.sealOpt...)
	switch {
	case cfg.SigningKeyID != "":
		awsCfg, err := loadAWS()
		if err != nil {
			return nil, err
		}
		// One chain per container: its records are sealed in order, one invocation at a time.
		sealer, err := seal.NewSealer(seal.NewKMSSigner(awsjson.NewKMS(awsCfg, nil), cfg.SigningKeyID), opts...)
		if err != nil {
			return nil, err
		}
		o.logger.InfoContext(ctx, "seal chain starts", "chain", sealer.Chain(), "key", cfg.SigningKeyID)
		return sealer, nil
	case cfg.SigningKeyFile != "":
		key, created, err := seal.LoadOrCreateKeyFile(cfg.SigningKeyFile)
		if err != nil {
			return nil, err
		}
		if created {
			o.logger.InfoContext(ctx, "created a local signing key", "path", cfg.SigningKeyFile)
		}
		signer, err := seal.NewFileSigner(key)
		if err != nil {
			return nil, err
		}
		if cfg.LocalRoot == "" {
			return seal.NewSealer(signer, opts...)
		}
		// Runs into one local root continue one chain, recorded in the root, so a record deleted between
		// them, or after the last, is detected.
		sealer, fresh, err := seal.ResumeSealer(signer, filepath.Join(cfg.LocalRoot, seal.ChainStateFile), opts...)
		if err != nil {
			return nil, err
		}
		if fresh != "" {
			o.logger.InfoContext(ctx, "starting a new seal chain", "chain", sealer.Chain(), "reason", fresh)
		}
		return sealer, nil
	}
	o.logger.WarnContext(ctx, "audit records are not sealed: no signing key configured", "variables", agentenv.SigningKeyID+", "+agentenv.SigningKeyFile)
	return nil, nil
}
