package faultmatrix

import (
	"bytes"
	"testing"
)

// TestClassifyCatchesWhatTheMatrixLooksFor tampers with the store of a clean run and checks that the
// classification notices: the matrix's zeros mean something only if it can count other numbers.
func TestClassifyCatchesWhatTheMatrixLooksFor(t *testing.T) {
	clean := RunInProcess(t, Kinds()[0], 6, Options{Seed: 7})
	if row := Classify(clean); row.Stored != 6 || row.Lost != 0 || row.Duplicates != 0 || row.SealBreaks != 0 || len(row.Problems) != 0 {
		t.Fatalf("clean run: %+v", row)
	}
	tests := []struct {
		name   string
		tamper func(records [][]byte) [][]byte
		check  func(r Row) bool
	}{
		{"a dropped record is a loss and a seal chain gap", func(rs [][]byte) [][]byte { return rs[1:] },
			func(r Row) bool { return r.Lost == 1 && r.Stored == 5 && r.SealBreaks == 1 }},
		{"a byte-identical copy is a duplicate, nothing else", func(rs [][]byte) [][]byte { return append(rs, rs[2]) },
			func(r Row) bool { return r.Duplicates == 1 && r.Unexplained == 0 && r.Lost == 0 && r.SealBreaks == 0 }},
		{"a copy with other bytes is an unexplained duplicate and a broken seal", func(rs [][]byte) [][]byte {
			changed := bytes.Replace(rs[3], []byte(`"name":"chat `), []byte(`"name":"chaT `), 1)
			return append(rs, changed)
		}, func(r Row) bool { return r.Unexplained == 1 && r.SealBreaks >= 1 }},
		{"a record that is not OTLP/JSON is malformed", func(rs [][]byte) [][]byte { return append(rs, []byte("{}x\n")) },
			func(r Row) bool { return r.Malformed == 1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obs := clean
			obs.Records = tt.tamper(append([][]byte(nil), clean.Records...))
			if row := Classify(obs); !tt.check(row) {
				t.Fatalf("not caught: %+v", row)
			}
		})
	}
}
