package audit

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/agent-audit/agent-audit/internal/audittest"
)

func TestLocalDirSinkWritesFirehosesLayout(t *testing.T) {
	root := t.TempDir()
	at := time.Date(2026, 6, 8, 20, 31, 5, 0, time.FixedZone("CEST", 2*3600))
	var written []string
	sink := NewLocalDirSink(root, WithClock(func() time.Time { return at }), WithOnWrite(func(p string) { written = append(written, p) }))
	recs, err := NewEncoder(0).Encode(context.Background(), stubTrace(3, 10), false)
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Deliver(context.Background(), append(recs, recs...)); err != nil {
		t.Fatal(err)
	}
	got, objects := audittest.ReadRoot(t, root, "traces")
	// Arrival time in UTC: 18:31 UTC, not the caller's 20:31 CEST.
	name := regexp.MustCompile(`^traces/year=2026/month=06/day=08/hour=18/agent-audit-local-1-2026-06-08-18-31-05-[0-9a-f]{16}\.gz$`)
	if len(objects) != 1 || !name.MatchString(objects[0]) {
		t.Fatalf("objects %v", objects)
	}
	if len(written) != 1 || !strings.HasSuffix(written[0], filepath.FromSlash(objects[0])) {
		t.Fatalf("OnWrite saw %v", written)
	}
	if len(got) != 2 || string(got[0]) != string(recs[0]) {
		t.Fatalf("read back %d records, want the 2 delivered, byte for byte", len(got))
	}
	leftovers, _ := filepath.Glob(filepath.Join(root, "traces", "*", "*", "*", "*", ".incoming-*"))
	if len(leftovers) != 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}
}

func TestLocalDirSinkRefusesWhatFirehoseWould(t *testing.T) {
	root := t.TempDir()
	sink := NewLocalDirSink(root, WithLocalMaxRecordBytes(100))
	err := sink.Deliver(context.Background(), [][]byte{[]byte(`{"a":"` + strings.Repeat("x", 200) + `"}` + "\n")})
	if err == nil || !strings.Contains(err.Error(), "over the 100-byte record limit") {
		t.Fatalf("err %v", err)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Fatal("an oversize record was written")
	}

	err = sink.Deliver(context.Background(), [][]byte{[]byte("{\"ok\":1}\n"), []byte("not json\n")})
	if err == nil || !strings.Contains(err.Error(), "1 of 2 records are not one JSON line") {
		t.Fatalf("err %v", err)
	}
	good, _ := audittest.ReadRoot(t, root, "traces")
	bad, badObjects := audittest.ReadRoot(t, root, "errors")
	if len(good) != 1 || len(bad) != 1 || !strings.HasPrefix(badObjects[0], "errors/processing-failed/year=") {
		t.Fatalf("good %d bad %d at %v", len(good), len(bad), badObjects)
	}
	var wrapped struct {
		ErrorCode string `json:"errorCode"`
		RawData   []byte `json:"rawData"`
	}
	if err := json.Unmarshal(bad[0], &wrapped); err != nil || wrapped.ErrorCode != InvalidRecordErrorCode || string(wrapped.RawData) != "not json\n" {
		t.Fatalf("error record %s (%v): want Firehose's error shape holding the refused bytes", bad[0], err)
	}
}

func TestLocalDirSinkSendsMalformedRecordsToTheErrorPrefix(t *testing.T) {
	tests := []struct {
		name   string
		record string
	}{
		{"JSON without its newline", `{"a":1}`},
		{"two JSON lines in one record", "{\"a\":1}\n{\"b\":2}\n"},
		{"a line that is not JSON", "{\"a\":\n"},
		{"an empty line", "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			err := NewLocalDirSink(root).Deliver(context.Background(), [][]byte{[]byte(tt.record)})
			if err == nil {
				t.Fatal("Deliver accepted a malformed record without an error")
			}
			if _, err := os.Stat(filepath.Join(root, "traces")); !os.IsNotExist(err) {
				t.Fatal("a malformed record reached the traces prefix")
			}
			bad, _ := audittest.ReadRoot(t, root, "errors")
			var wrapped struct {
				RawData []byte `json:"rawData"`
			}
			if len(bad) != 1 || json.Unmarshal(bad[0], &wrapped) != nil || string(wrapped.RawData) != tt.record {
				t.Fatalf("error prefix holds %q, want the record's exact bytes", bad)
			}
		})
	}
}
