package verify

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/agent-audit/agent-audit/trail"
	"github.com/agent-audit/agent-audit/trail/verify/verifytest"
)

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

func TestUnreadableNamesWhatCannotBeRead(t *testing.T) {
	good := gz(t, "{\"a\":1}\n\n{\"b\":[2]}\n")
	flipped := bytes.Clone(gz(t, strings.Repeat("{\"a\":\"some text to compress\"}\n", 200)))
	flipped[len(flipped)/2] ^= 0xff
	for _, c := range []struct {
		name string
		raw  []byte
		want string
	}{
		{"JSON lines and a blank line are readable", good, ""},
		{"a plain text file is not GZIP", []byte("notes\n"), "not GZIP"},
		{"a changed byte breaks the GZIP stream", flipped, "GZIP"},
		{"a line that is not JSON is named", gz(t, "{\"a\":1}\nhello\n"), "line 2 is not a JSON object"},
		{"a JSON array is not a record", gz(t, "[1,2]\n"), "line 1 is not a JSON object"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Unreadable(context.Background(), c.raw)
			if err != nil {
				t.Fatal(err)
			}
			if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
				t.Fatalf("Unreadable = %q, want %q", got, c.want)
			}
		})
	}
}

// TestUnreadableIsWhatVerifyReports damages a sealed root the ways an incident does (a changed byte, a stray
// file, a GZIP object of text) and checks that the objects Unreadable names are exactly those Verify reports as
// unreadable or holding a malformed record.
func TestUnreadableIsWhatVerifyReports(t *testing.T) {
	f := newFixture(t, verifytest.Options{Records: 30, PerObject: 10})
	flip := f.Objects[1].Key
	b, err := os.ReadFile(f.path(flip))
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	dir := path.Dir(f.Objects[0].Key)
	stray, text := dir+"/notes.txt", dir+"/zz-text.gz"
	for key, body := range map[string][]byte{flip: b, stray: []byte("notes\n"), text: gz(t, "not a record\n")} {
		if err := os.WriteFile(f.path(key), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rep := f.verify(t, Options{})
	var reported []string
	for _, fd := range rep.Findings {
		if (fd.Kind == KindUnreadableObject || fd.Kind == KindMalformedRecord) && !slices.Contains(reported, fd.Key) {
			reported = append(reported, fd.Key)
		}
	}
	store := trail.NewLocal(f.Dir)
	objs, err := store.Versions(context.Background(), RecordPrefix, "")
	if err != nil {
		t.Fatal(err)
	}
	var named []string
	for _, o := range objs {
		raw, err := store.Get(context.Background(), o.Key, "")
		if err != nil {
			t.Fatal(err)
		}
		if why, err := Unreadable(context.Background(), raw); err != nil {
			t.Fatal(err)
		} else if why != "" {
			named = append(named, o.Key)
		}
	}
	slices.Sort(reported)
	slices.Sort(named)
	if len(named) != 3 || !slices.Equal(named, reported) {
		t.Fatalf("Unreadable names %v, Verify reports %v", named, reported)
	}
}
