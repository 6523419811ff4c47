package audit

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/agent-audit/agent-audit/function/seal"
)

func TestSealedRecordsFitVerifyAndChain(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := seal.NewFileSigner(key)
	sealer, err := seal.NewSealer(signer)
	if err != nil {
		t.Fatal(err)
	}
	const limit = 8000
	enc := NewEncoder(limit, WithSealer(sealer), WithOversizeStore(NewLocalOversizeStore(t.TempDir())))
	v := seal.NewVerifier(&key.PublicKey)
	var chains seal.Chains
	var all int
	for shipment, spans := range [][]int{{1, 10}, {12, 300}, {3, 9000}} { // one record; split; oversize and split
		records, err := enc.Encode(context.Background(), stubTrace(spans[0], spans[1]), false)
		if err != nil {
			t.Fatal(err)
		}
		for i, rec := range records {
			if len(rec) > limit {
				t.Errorf("shipment %d record %d: %d bytes, over %d", shipment, i, len(rec), limit)
			}
			r, err := v.Verify(rec)
			if err != nil {
				t.Fatalf("shipment %d record %d: %v", shipment, i, err)
			}
			all++
			if r.Seq != int64(all) || r.Chain != sealer.Chain() {
				t.Errorf("shipment %d record %d: seq %d of %s, want %d of %s", shipment, i, r.Seq, r.Chain, all, sealer.Chain())
			}
			chains.Add(r, fmt.Sprintf("shipment %d record %d", shipment, i))
		}
	}
	if all < 4 {
		t.Fatalf("only %d records: the split cases did not split", all)
	}
	if rep := chains.Check(false); len(rep.Problems) != 0 || rep.Records != all {
		t.Errorf("chain: %+v", rep)
	}
}

// flakySigner fails while down is set.
type flakySigner struct {
	*seal.FileSigner
	down bool
}

func (s *flakySigner) Sign(ctx context.Context, digest []byte) ([]byte, error) {
	if s.down {
		return nil, errors.New("KMSInternalException: try again")
	}
	return s.FileSigner.Sign(ctx, digest)
}

func TestARecordTheKeyCannotSignIsKeptUnsealedAndTheChainHasNoGap(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	fs, _ := seal.NewFileSigner(key)
	signer := &flakySigner{FileSigner: fs}
	sealer, _ := seal.NewSealer(signer)
	var logs bytes.Buffer
	enc := NewEncoder(0, WithSealer(sealer), WithEncoderLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	v := seal.NewVerifier(&key.PublicKey)
	var seqs []int64
	for i, down := range []bool{false, true, false} {
		signer.down = down
		records, err := enc.Encode(context.Background(), stubTrace(2, 10), false)
		if err != nil || len(records) != 1 {
			t.Fatalf("shipment %d: %d records, %v: the trace must be kept", i, len(records), err)
		}
		r, err := v.Verify(records[0])
		if down {
			if !errors.Is(err, seal.ErrUnsealed) || !strings.Contains(err.Error(), "KMSInternalException") {
				t.Fatalf("unsealed record: %v", err)
			}
			if bytes.Contains(records[0], []byte(seal.AttrChain)) {
				t.Fatal("an unsealed record carries part of a seal")
			}
			if got := decodeRecord(t, records[0]).ResourceSpans().At(0).ScopeSpans().At(0).Spans().Len(); got != 2 {
				t.Fatalf("unsealed record holds %d spans", got)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, r.Seq)
	}
	if !strings.Contains(logs.String(), "audit record kept unsealed") || !strings.Contains(logs.String(), "KMSInternalException") {
		t.Errorf("the unsealed record was not logged: %q", logs.String())
	}
	if len(seqs) != 2 || seqs[0] != 1 || seqs[1] != 2 {
		t.Fatalf("seqs %v: a failed signing must not take a position", seqs)
	}
}
