package verify

import (
	"time"

	"github.com/agent-audit/agent-audit/trail"
	"github.com/agent-audit/agent-audit/trail/digest"
)

// Report is what Verify covered and found, for an auditor to file.
type Report struct {
	Root string `json:"root"`
	// Since is the window's start (zero: everything).
	Since time.Time `json:"since,omitzero"`
	// From and Until are the earliest and latest seal times among the verified records (format 2 records carry
	// one; zero when none does).
	From  time.Time `json:"from,omitzero"`
	Until time.Time `json:"until,omitzero"`
	// Verified is true when records were checked and no finding is a problem. The guarantees say what that
	// proves, and what it does not.
	Verified bool `json:"verified"`
	// AcceptedKeys are the fingerprints of the issuer keys records were checked against; DigestKeys those of
	// the digest keys.
	AcceptedKeys []string `json:"accepted_keys"`
	DigestKeys   []string `json:"digest_keys,omitempty"`
	// Objects counts record object versions under traces/ in the window: valid when every record in it
	// verified and it could be read to its end.
	Objects Count `json:"objects"`
	// Records counts record lines: valid when the record verified. Duplicates are byte-identical copies
	// beyond the first (a retried delivery), counted in Records too.
	Records    Count `json:"records"`
	Duplicates int   `json:"duplicates"`
	// SignaturesChecked counts the valid records whose own signature was checked; each other valid record is
	// authenticated by the signed link of the record after it in its chain (its Hash is in that one's Prev),
	// up to one whose signature was checked.
	SignaturesChecked int `json:"signatures_checked"`
	// Oversize counts the oversize objects the verified records reference.
	Oversize Count `json:"oversize_objects"`
	// Versions is the number of object versions whose Object Lock retention was read.
	Versions int `json:"object_versions_checked"`
	// Digests is what the digest walk covered; nil when digests were not checked.
	Digests *digest.Summary `json:"digests,omitempty"`
	// Chains are the chains found, by id.
	Chains     []Chain    `json:"chains"`
	Guarantees Guarantees `json:"guarantees"`
	// Problems and Notices count the findings of each severity, listed or not.
	Problems int `json:"problems"`
	Notices  int `json:"notices"`
	// Findings are in trail.SortFindings order, at most Options.MaxFindingsPerKind of each kind; Suppressed
	// counts the others by kind.
	Findings   []trail.Finding    `json:"findings"`
	Suppressed map[trail.Kind]int `json:"suppressed,omitempty"`
}

// Count is a number of things checked, and how many of them were valid and invalid.
type Count struct {
	Checked int `json:"checked"`
	Valid   int `json:"valid"`
	Invalid int `json:"invalid"`
}

// Chain sums up one chain.
type Chain struct {
	ID string `json:"chain"`
	// Records is the number of positions its records hold; Verified of them by records that verified.
	Records  int `json:"records"`
	Verified int `json:"verified"`
	// First and Last are its lowest and highest positions present.
	First Position `json:"first"`
	Last  Position `json:"last"`
	// Keys are the keys that signed its verified records.
	Keys []ChainKey `json:"keys"`
	// Legacy counts its records sealed in format 1.
	Legacy int `json:"legacy_records,omitempty"`
	// End says whether the chain's end is proven (a local root's chain state records it) or not.
	End string `json:"end"`
}

// ChainKey is one key that signed records of a chain, and who vouches for it.
type ChainKey struct {
	Fingerprint string `json:"fingerprint"`
	Issuer      string `json:"issuer"`
	IssuerKey   string `json:"issuer_key"`
	Certified   bool   `json:"certified"`
	Records     int    `json:"records"`
}

// Guarantees say which of the trail's guarantees held.
type Guarantees struct {
	// Signatures: every record verifies under a key that an accepted issuer certified.
	Signatures Guarantee `json:"signatures"`
	// Chains: no seq missing between records present, every link matches, no fork.
	Chains Guarantee `json:"chains"`
	// Digests: the digest chain is whole and signed, and lists exactly the object versions there.
	Digests Guarantee `json:"digests"`
	// Completeness: nothing was removed from the end of a chain, and no whole chain is gone.
	Completeness Guarantee `json:"completeness"`
	// Retention: every object version is under Object Lock long enough, none overwritten or deleted.
	Retention Guarantee `json:"retention"`
}

// Status is the outcome of one guarantee.
type Status string

// Statuses of a guarantee.
const (
	Held       Status = "held"
	Failed     Status = "failed"
	NotChecked Status = "not checked"
)

// Guarantee is one guarantee's outcome, and why.
type Guarantee struct {
	Status Status `json:"status"`
	Why    string `json:"why"`
}
