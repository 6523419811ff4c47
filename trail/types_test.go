package trail

import (
	"slices"
	"testing"
)

func TestSortFindingsOrdersByPlaceThenKind(t *testing.T) {
	got := []Finding{
		{Kind: "b", Key: "traces/2.gz", Line: 1},
		{Kind: "a", Chain: "c2", Seq: 3},
		{Kind: "z", Key: "traces/1.gz", Line: 10},
		{Kind: "a", Key: "traces/1.gz", Line: 2},
		{Kind: "a", Chain: "c2", Seq: 1},
		{Kind: "b", Key: "traces/1.gz", Line: 2},
	}
	want := []Finding{
		{Kind: "a", Chain: "c2", Seq: 1},
		{Kind: "a", Chain: "c2", Seq: 3},
		{Kind: "a", Key: "traces/1.gz", Line: 2},
		{Kind: "b", Key: "traces/1.gz", Line: 2},
		{Kind: "z", Key: "traces/1.gz", Line: 10},
		{Kind: "b", Key: "traces/2.gz", Line: 1},
	}
	SortFindings(got)
	if !slices.Equal(got, want) {
		t.Fatalf("SortFindings:\n got %v\nwant %v", got, want)
	}
}
