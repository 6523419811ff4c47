package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Tool is a function the model may call. Call must be safe for concurrent use and free of side effects outside
// the process; a returned error becomes an error result the model sees.
type Tool interface {
	Spec() ToolSpec
	Call(ctx context.Context, args json.RawMessage) (json.RawMessage, error)
}

// Registry holds the tools offered to the model, by name.
type Registry struct {
	tools map[string]Tool
	specs []ToolSpec
}

// NewRegistry checks that every tool has a name, a description and a JSON schema, and that names are unique; the
// error names every bad tool. A Registry is read-only once built and safe for concurrent use.
func NewRegistry(tools ...Tool) (*Registry, error) {
	r := &Registry{tools: map[string]Tool{}}
	var errs []error
	for i, t := range tools {
		s := t.Spec()
		switch {
		case s.Name == "":
			errs = append(errs, fmt.Errorf("tool %d: empty name", i))
		case r.tools[s.Name] != nil:
			errs = append(errs, fmt.Errorf("tool %q: registered twice", s.Name))
		case s.Description == "":
			errs = append(errs, fmt.Errorf("tool %q: empty description", s.Name))
		case !json.Valid(s.InputSchema):
			errs = append(errs, fmt.Errorf("tool %q: input schema is not JSON", s.Name))
		default:
			r.tools[s.Name] = t
			r.specs = append(r.specs, s)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("tool registry: %w", err)
	}
	slices.SortFunc(r.specs, func(a, b ToolSpec) int { return strings.Compare(a.Name, b.Name) })
	return r, nil
}

// Specs lists the tools, sorted by name.
func (r *Registry) Specs() []ToolSpec { return r.specs }

// names lists the tool names, sorted, for messages to the model.
func (r *Registry) names() string {
	names := make([]string, len(r.specs))
	for i, s := range r.specs {
		names[i] = s.Name
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// Lookup returns the named tool.
func (r *Registry) Lookup(name string) (Tool, bool) {
	t, ok := r.tools[name]
	return t, ok
}

// DefaultTools are the side-effect-free tools every deployment offers: calculator, clock and text_stats.
func DefaultTools() []Tool {
	return []Tool{Calculator{}, Clock{}, TextStats{}}
}

// DecodeArgs decodes a tool's arguments strictly into dst: empty arguments are {}, and unknown fields and wrong
// types are errors naming the field (the model reads them and can correct its call).
func DecodeArgs(args json.RawMessage, dst any) error {
	if len(bytes.TrimSpace(args)) == 0 {
		args = json.RawMessage("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(args))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return fmt.Errorf("argument %q must be a %s, got %s", typeErr.Field, typeErr.Type.Kind(), typeErr.Value)
		}
		return fmt.Errorf("arguments: %w", err)
	}
	return nil
}

// errMissing is the error for an absent required argument.
func errMissing(name string) error {
	return fmt.Errorf("argument %q is required", name)
}
