package components

import (
	"sort"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/agent-audit/agent-audit/internal/pulumitest"
)

// run runs program on the mocks and fails t on error.
func run(t *testing.T, program pulumi.RunFunc) *pulumitest.Mocks {
	t.Helper()
	m := &pulumitest.Mocks{}
	if err := pulumitest.Run(m, program); err != nil {
		t.Fatalf("program: %v", err)
	}
	return m
}

// assertChildren checks that every resource except the component itself is its child, named after it.
func assertChildren(t *testing.T, m *pulumitest.Mocks, token, name string) {
	t.Helper()
	want := pulumitest.ComponentURN(token, name)
	for _, r := range m.Resources() {
		if r.Type == token {
			continue
		}
		if r.Parent != want {
			t.Errorf("%s %s has parent %q, want the component %s", r.Type, r.Name, r.Parent, want)
		}
		if !strings.HasPrefix(r.Name, name) {
			t.Errorf("%s %s is not named after the component %s", r.Type, r.Name, name)
		}
	}
}

// str reads a string input.
func str(m resource.PropertyMap, path string) string {
	v := pulumitest.Get(m, path)
	if !v.IsString() {
		return ""
	}
	return v.StringValue()
}

// num reads a number input.
func num(m resource.PropertyMap, path string) float64 {
	v := pulumitest.Get(m, path)
	if !v.IsNumber() {
		return -1
	}
	return v.NumberValue()
}

// statementsByAction maps each allowed action to the sorted resources it is granted on.
func statementsByAction(p pulumitest.Policy) map[string]string {
	granted := map[string][]string{}
	for _, s := range p.Statement {
		if s.Effect != "Allow" {
			continue
		}
		for _, a := range s.Action {
			granted[a] = append(granted[a], s.Resource...)
		}
	}
	out := map[string]string{}
	for a, res := range granted {
		// Every statement's resources count: an action granted twice shows all it is granted on.
		sort.Strings(res)
		out[a] = strings.Join(res, ",")
	}
	return out
}
