package replay

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSelectChoosesTracesByEveryFilter(t *testing.T) {
	f := newFixture(t)
	db := openDB(t, f.root)
	future := time.Now().Add(time.Hour)
	for _, tt := range []struct {
		name   string
		filter Filter
		want   []string
	}{
		{"no filter chooses every trace", Filter{}, f.ids},
		{"a conversation", Filter{Conversation: "conv-a"}, f.ids[:2]},
		{"errors only", Filter{ErrorsOnly: true}, []string{f.failed}},
		{"a trace id", Filter{TraceIDs: []string{f.ids[1]}}, f.ids[1:2]},
		{"a query's first column", Filter{Query: "SELECT trace, model FROM runs WHERE user_prompt LIKE '%Tokyo%'"}, f.ids[1:2]},
		{"a query and a conversation together", Filter{Query: "SELECT trace FROM runs", Conversation: "conv-b"}, f.ids[2:4]},
		{"since in the future chooses none", Filter{Since: future}, nil},
		{"until in the past chooses none", Filter{Until: time.Now().Add(-time.Hour)}, nil},
		{"a window around now chooses all", Filter{Since: time.Now().Add(-time.Hour), Until: future}, f.ids},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := Select(context.Background(), db, f.root, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range sel {
				got = append(got, s.ID)
				if len(s.Keys) == 0 || !strings.HasPrefix(s.Keys[0], "traces/") {
					t.Errorf("trace %s: keys %v, want record keys relative to the root", s.ID, s.Keys)
				}
			}
			if !slices.Equal(sorted(got), sorted(tt.want)) {
				t.Errorf("chose %v, want %v", got, tt.want)
			}
		})
	}
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

func TestSelectNamesBadInput(t *testing.T) {
	f := newFixture(t)
	db := openDB(t, f.root)
	for _, tt := range []struct {
		name   string
		filter Filter
		want   string
	}{
		{"a trace id that is not hex", Filter{TraceIDs: []string{"x' OR '1'='1"}}, "want 32 lowercase hex digits"},
		{"a query that fails", Filter{Query: "SELECT nope FROM runs"}, "--query"},
		{"a query whose first column is not trace ids", Filter{Query: "SELECT model FROM runs"}, "want 32 lowercase hex digits"},
		{"a query whose first column is a number", Filter{Query: "SELECT turns FROM runs"}, "want trace IDs"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Select(context.Background(), db, f.root, tt.filter)
			if !errors.Is(err, ErrBadFilter) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
}
