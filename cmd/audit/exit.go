package main

import (
	"errors"
	"fmt"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/spf13/cobra"
)

// Exit codes of every audit command: one scheme, verify's, so a script can tell a bad call from an unreadable
// trail from a trail that fails its checks. The root help (exitCodesHelp) and README list them.
const (
	// ExitOK: success; for verify, the trail verified.
	ExitOK = 0
	// ExitProblems: an integrity problem was found (verify's findings).
	ExitProblems = 1
	// ExitUsage: a bad flag, argument or SQL statement, an unknown command or named query, or a trace prefix
	// that matches no trace or several.
	ExitUsage = 2
	// ExitCannotCheck: the trail could not be read or checked: the root does not exist or cannot be read, no
	// object of it can be read (or, with --strict, one cannot), credentials or region are missing, the KMS key
	// cannot be reached.
	ExitCannotCheck = 3
	// ExitFailed: the command could not do its work for another reason (an agent run's invocation failed in
	// `audit run`, a digest could not be written).
	ExitFailed = 4
)

// exitCodesHelp is the scheme as the root command's help prints it.
const exitCodesHelp = `Exit status (every command):
  0  success (verify: the trail verified)
  1  an integrity problem was found (verify)
  2  usage error: a bad flag, argument or SQL, an unknown command or query name, a trace prefix matching no trace or several
  3  the trail could not be read: the root is missing or unreadable, nothing in it can be read (--strict: anything),
     credentials or region missing, the KMS key unreachable
  4  the command failed otherwise (an invocation of audit run failed, a digest could not be written)`

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

// exitCode is the process exit code for what a command returned: the code it carries, or for a DuckDB error
// the code of its kind (a mistake in the SQL is a usage error, a read that failed is "could not read").
func exitCode(err error) int {
	var e *exitError
	var de *duckdb.Error
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &e):
		return e.code
	case errors.As(err, &de):
		switch de.Type {
		case duckdb.ErrorTypeIO, duckdb.ErrorTypeHTTP, duckdb.ErrorTypeInvalidInput:
			return ExitCannotCheck
		}
		return ExitUsage
	}
	return ExitFailed
}

// flagError makes cobra's flag parsing errors usage errors.
func flagError(_ *cobra.Command, err error) error { return usageError(err) }

// usageArgs makes a cobra argument check's failure a usage error.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError(err)
		}
		return nil
	}
}

// unknownCommand refuses arguments to the root command (cobra would otherwise report them with exit status 1).
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError(fmt.Errorf("unknown command %q; see audit --help", args[0]))
	}
	return nil
}
