package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/agent-audit/agent-audit/queries"
)

type queryFlags struct {
	readFlags
	out  outputFlags
	file string
	list bool
	vars []string
}

// queryName is the form of a named question (tokens-per-day) and variableName that of a --var.
var (
	queryName    = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	variableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

func newQueryCommand() *cobra.Command {
	f := queryFlags{}
	cmd := &cobra.Command{
		Use:   "query [SQL | NAME]",
		Short: "Run one read-only SQL statement, or a named question, against the views",
		Long: `Run one SELECT against the views (spans, traces, runs, tool_calls, oversize; queries/traces.sql defines
them). The SQL comes from the argument, from -f FILE, or from stdin when neither is given; a NAME runs that
question of queries/queries.sql (--list lists them). --var sets a DuckDB variable the question reads with
getvariable, as conversation and token_budget.

The session is read-only through DuckDB's own settings: files are reachable only under the root
(enable_external_access = false with allowed_directories) and the configuration is locked; a statement that is
not one SELECT (COPY … TO, ATTACH, CREATE, SET, INSTALL, a script of several) is refused.`,
		Example: `  audit query "SELECT model, sum(in_tokens + out_tokens) AS tokens FROM traces GROUP BY model"
  audit query -o csv "SELECT * FROM tool_calls WHERE status = 'ERROR'"
  audit query --list
  audit query tokens-per-day
  audit query conversation --var conversation=demo-3
  audit query -f slow-tools.sql
  audit query < slow-tools.sql`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.list {
				if len(args) > 0 || f.file != "" {
					return usageError(errors.New("--list takes no SQL, name or -f"))
				}
				return listQuestions(cmd.OutOrStdout())
			}
			sql, err := f.statement(args, cmd.InOrStdin())
			if err != nil {
				return err
			}
			vars, err := f.variables()
			if err != nil {
				return err
			}
			return withDB(cmd.Context(), f.readFlags, cmd.ErrOrStderr(), func(db *queries.DB) error {
				for _, v := range vars {
					if _, err := db.ExecContext(cmd.Context(), v); err != nil {
						return usageError(fmt.Errorf("--var: %w", err))
					}
				}
				if err := db.Lock(cmd.Context()); err != nil {
					return err
				}
				if err := db.CheckReadOnly(cmd.Context(), sql); err != nil {
					return queryError(err)
				}
				rows, err := scan(cmd.Context(), db, cmd.ErrOrStderr(), sql)
				if err != nil {
					return queryError(err)
				}
				defer rows.Close()
				_, err = printRows(cmd.OutOrStdout(), rows, f.out.options(cmd.OutOrStdout()))
				return err
			})
		},
	}
	f.register(cmd)
	f.out.register(cmd)
	cmd.Flags().StringVarP(&f.file, "file", "f", "", "read the SQL from this file (- for stdin)")
	cmd.Flags().BoolVar(&f.list, "list", false, "list the named questions of queries/queries.sql")
	cmd.Flags().StringArrayVar(&f.vars, "var", nil, "set a DuckDB variable before the query, NAME=VALUE (a number stays a number); repeatable")
	return cmd
}

// statement is the SQL to run: -f FILE, the argument (a question's name or SQL), or stdin.
func (f queryFlags) statement(args []string, stdin io.Reader) (string, error) {
	var sql string
	switch {
	case f.file != "" && len(args) > 0:
		return "", usageError(errors.New("give the SQL as an argument or with -f, not both"))
	case f.file == "-":
		b, err := io.ReadAll(stdin)
		if err != nil {
			return "", fmt.Errorf("read the SQL from stdin: %w", err)
		}
		sql = string(b)
	case f.file != "":
		b, err := os.ReadFile(f.file)
		if err != nil {
			return "", usageError(fmt.Errorf("-f: %w", err))
		}
		sql = string(b)
	case len(args) == 1:
		if q, ok := queries.QuestionNamed(args[0]); ok {
			return q.SQL, nil
		}
		if queryName.MatchString(args[0]) {
			return "", usageError(fmt.Errorf("no question is named %q; audit query --list lists them", args[0]))
		}
		sql = args[0]
	default:
		if file, ok := stdin.(*os.File); ok && term.IsTerminal(int(file.Fd())) {
			return "", usageError(errors.New("give SQL, a question's name (audit query --list), -f FILE, or SQL on stdin"))
		}
		b, err := io.ReadAll(stdin)
		if err != nil {
			return "", fmt.Errorf("read the SQL from stdin: %w", err)
		}
		sql = string(b)
	}
	if strings.TrimSpace(sql) == "" {
		return "", usageError(errors.New("the SQL is empty"))
	}
	return sql, nil
}

// variables turns each --var into a SET VARIABLE statement.
func (f queryFlags) variables() ([]string, error) {
	var out []string
	for _, v := range f.vars {
		name, value, ok := strings.Cut(v, "=")
		if !ok || !variableName.MatchString(name) {
			return nil, usageError(fmt.Errorf("--var %q: want NAME=VALUE, NAME a letter or _ then letters, digits or _", v))
		}
		literal := "'" + strings.ReplaceAll(value, "'", "''") + "'"
		if _, err := strconv.ParseFloat(value, 64); err == nil {
			literal = value
		}
		out = append(out, "SET VARIABLE "+name+" = "+literal)
	}
	return out, nil
}

// listQuestions prints the named questions with what each answers.
func listQuestions(w io.Writer) error {
	for _, q := range queries.Questions() {
		if _, err := fmt.Fprintf(w, "%-18s %s\n", q.Name, q.Doc); err != nil {
			return err
		}
	}
	return nil
}

// queryError classifies a failed statement: a refused one is a usage error, and one that names a table the
// session does not have says which views there are.
func queryError(err error) error {
	if errors.Is(err, queries.ErrNotReadOnly) {
		return usageError(err)
	}
	var de *duckdb.Error
	if errors.As(err, &de) && de.Type == duckdb.ErrorTypeCatalog && strings.Contains(de.Msg, "Table with name") {
		return usageError(fmt.Errorf("%w\nthe views are: %s (queries/traces.sql)", err, strings.Join(queries.Views, ", ")))
	}
	return err
}

// sqlArguments keeps SQL that starts with a "--" comment from being read as a flag: an argument that starts
// with "--" and has white space in what would be its flag name is SQL, so it is moved after a "--" terminator
// (pflag takes everything after it as arguments). Arguments after an existing "--" are left as they are.
func sqlArguments(args []string) []string {
	var flags, sql []string
	for i, a := range args {
		if a == "--" {
			return append(append(flags, args[i:]...), sql...)
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if strings.HasPrefix(a, "--") && strings.ContainsAny(name, " \t\r\n") {
			sql = append(sql, a)
			continue
		}
		flags = append(flags, a)
	}
	if len(sql) == 0 {
		return flags
	}
	return append(append(flags, "--"), sql...)
}
