package seal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
)

// ChainStateFile is the name of the chain state a local audit root keeps (see ResumeSealer).
const ChainStateFile = ".seal-chain.json"

// ChainState is what a resumable Sealer keeps between processes: the position its chain reached.
type ChainState struct {
	// V is the seal format of the chain's records; a chain of another format is not continued.
	V     int    `json:"v"`
	Chain string `json:"chain"`
	Seq   int64  `json:"seq"`
	// Prev is the last record's Hash: its signed hash.
	Prev string `json:"prev"`
	// Key is the issuer's key id.
	Key string `json:"key"`
	// Undelivered are seqs not yet declared by a record.
	Undelivered []int64 `json:"undelivered,omitempty"`
}

// ResumeSealer returns a Sealer that continues the chain recorded in statePath (when it was sealed in this
// format under the same issuer) and records its position there after every record, so that successive local
// runs form one chain and a record deleted between them is detected like any other gap. Each process seals
// with a key of its own, certified for the chain by issuer. It holds an exclusive lock on statePath+".lock"
// for the rest of the process (or until Close); when another process holds it, or the state is unreadable, it
// starts a new chain (a second chain verifies as well as one) and says why in fresh.
func ResumeSealer(issuer Issuer, statePath string, opts ...Option) (s *Sealer, fresh string, err error) {
	s, err = NewSealer(issuer, opts...)
	if err != nil {
		return nil, "", err
	}
	if err := os.MkdirAll(filepath.Dir(statePath), 0o700); err != nil {
		return nil, "", fmt.Errorf("seal: chain state: %w", err)
	}
	lock, err := os.OpenFile(statePath+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, "", fmt.Errorf("seal: chain state: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return s, "another process is sealing with this key", nil
	}
	// The lock file stays open, and locked, until the process exits or Close.
	s.unlock = func() { lock.Close() }
	s.save = func() {
		st := ChainState{V: Version, Chain: s.chain, Seq: s.seq, Prev: s.prev, Key: issuer.KeyID(), Undelivered: slices.Clone(s.pending)}
		if err := writeState(statePath, st); err != nil {
			// The record is sealed and returned; what is lost is only the next process's continuation. A stale
			// state would make it reuse a position (a fork verify reports), so the state goes, and the next
			// process starts a new chain.
			os.Remove(statePath)
		}
	}
	st, err := ReadChainState(statePath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s, "no chain recorded yet", nil
	case err != nil:
		return s, err.Error(), nil
	case st.V != Version:
		return s, fmt.Sprintf("the chain recorded is of seal format %d", max(st.V, 1)), nil
	case st.Key != issuer.KeyID():
		return s, "chain state belongs to another key", nil
	}
	s.chain, s.seq, s.prev, s.pending = st.Chain, st.Seq, st.Prev, st.Undelivered
	return s, "", nil
}

// ReadChainState reads a chain state file.
func ReadChainState(path string) (ChainState, error) {
	var st ChainState
	data, err := os.ReadFile(path)
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(data, &st); err != nil || len(st.Chain) != 32 || st.Seq < 1 || !ascending(st.Undelivered, st.Seq+1) {
		return st, fmt.Errorf("chain state %s is malformed", path)
	}
	return st, nil
}

// writeState replaces the state file atomically.
func writeState(path string, st ChainState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("seal: chain state: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("seal: chain state: %w", err)
	}
	return nil
}
