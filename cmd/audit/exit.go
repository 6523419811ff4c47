package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Exit codes of the audit command. Verify uses all four; the other commands exit 0, 1 on failure, or 2 on a
// usage error.
const (
	// ExitOK: success; for verify, the trail verified.
	ExitOK = 0
	// ExitProblems: verify found an integrity problem (any other command: it failed).
	ExitProblems = 1
	// ExitUsage: a bad flag or argument.
	ExitUsage = 2
	// ExitCannotCheck: verify could not read or check the trail: the root does not exist or cannot be read,
	// credentials are missing, the KMS key cannot be reached.
	ExitCannotCheck = 3
)

// exitError is a failure with its exit code.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageError(err error) error       { return &exitError{ExitUsage, err} }
func cannotCheckError(err error) error { return &exitError{ExitCannotCheck, err} }
func problemsError(err error) error    { return &exitError{ExitProblems, err} }

// exitCode is the process exit code for what a command returned.
func exitCode(err error) int {
	var e *exitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &e):
		return e.code
	}
	return ExitProblems
}

// flagError makes cobra's flag parsing errors usage errors.
func flagError(_ *cobra.Command, err error) error { return usageError(err) }
