package verify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/agent-audit/agent-audit/function/seal"
	"github.com/agent-audit/agent-audit/trail"
	"github.com/agent-audit/agent-audit/trail/digest"
)

// Kinds that fail each guarantee. A finding of another package (the digest walk's) that is a problem fails
// the digests.
var (
	signatureKinds    = []trail.Kind{KindBadSignature, KindUnknownKey, KindBadCertificate, KindUnsealed, KindUncertified, KindMalformedRecord, KindUnreadableObject}
	chainKinds        = []trail.Kind{KindMissingRecord, KindLinkMismatch, KindFork}
	completenessKinds = []trail.Kind{KindChainEndMissing, digest.KindListedGone, digest.KindPeriodMissing, digest.KindChainEmpty}
	retentionKinds    = []trail.Kind{KindNoRetention, KindRetentionShort, KindOverwritten, KindDeleteMarker}
)

// guarantees says which guarantees held, and why, and what proves the end of each chain.
func (r *run) guarantees(ctx context.Context, state *seal.ChainState, keepsRetention bool) Guarantees {
	chains := 0
	for _, c := range r.chains {
		if c.records > 0 {
			chains++
		}
	}
	var g Guarantees
	switch {
	case r.rep.Records.Checked == 0:
		g.Signatures = Guarantee{NotChecked, "there is no record to check"}
	case r.fs.has(signatureKinds...):
		g.Signatures = Guarantee{Failed, fmt.Sprintf("%d of %d records do not verify (%s)", r.rep.Records.Invalid, r.rep.Records.Checked, r.tally(signatureKinds))}
	default:
		g.Signatures = Guarantee{Held, fmt.Sprintf("%s, each under the key its certificate names, certified by a key you passed", count(r.rep.Records.Checked, "the 1 record verifies", "all %d records verify"))}
	}

	switch {
	case chains == 0:
		g.Chains = Guarantee{NotChecked, "there is no chain to check"}
	case r.fs.has(chainKinds...):
		g.Chains = Guarantee{Failed, r.tally(chainKinds)}
	default:
		why := fmt.Sprintf("%s: no seq missing between the records present, every link matches, no fork", count(chains, "1 chain", "%d chains"))
		if n := r.fs.count(KindDeclaredUndelivered); n > 0 {
			why += "; " + count(n, "1 seq", "%d seqs") + " declared undelivered"
		}
		if r.windowed() {
			why += "; chains may begin before the window"
		}
		g.Chains = Guarantee{Held, why}
	}

	switch {
	case r.opts.Digests == nil:
		why := "not asked for"
		if ds, err := r.store.Versions(ctx, digest.Prefix, ""); err == nil && len(ds) > 0 {
			why = fmt.Sprintf("the root holds %s under %s, not checked: pass the digest key", count(len(ds), "1 digest version", "%d digest versions"), digest.Prefix)
		}
		g.Digests = Guarantee{NotChecked, why}
	case !r.digestsHeld:
		g.Digests = Guarantee{Failed, r.digestProblems}
	default:
		d := r.rep.Digests
		g.Digests = Guarantee{Held, fmt.Sprintf("%s and chain from %s to %s; every object version they list is here unchanged, and every one here is listed",
			count(d.Digests, "1 digest verifies", "%d digests verify"), d.FirstPeriodStart.Format(time.RFC3339), d.LastPeriodEnd.Format(time.RFC3339))}
	}

	_, local := r.store.(*trail.Local)
	unproven := 0
	for _, c := range r.chains {
		if c.records == 0 || c.endProof != "" {
			continue
		}
		if r.digestsHeld {
			c.endProof = "proven by the digests, up to " + r.rep.Digests.CoveredBefore.Format(time.RFC3339)
		} else {
			c.endProof, unproven = "not proven", unproven+1
		}
	}
	switch {
	case r.fs.has(completenessKinds...):
		g.Completeness = Guarantee{Failed, r.tally(completenessKinds)}
	case r.digestsHeld:
		g.Completeness = Guarantee{Held, fmt.Sprintf("the digests prove that every object version written before %s is here, so no chain lost its end and none is gone", r.rep.Digests.CoveredBefore.Format(time.RFC3339))}
	case state != nil && unproven == 0:
		g.Completeness = Guarantee{Held, fmt.Sprintf("the chain state proves where the root's chain ends (seq %d), and every record up to it is here", state.Seq)}
	case state != nil:
		g.Completeness = Guarantee{NotChecked, fmt.Sprintf("the chain state proves the end of chain %s only; where the other %s not proven (their newest records could be removed unseen)", state.Chain, count(unproven, "chain ends is", "%d chains end is"))}
	case local:
		g.Completeness = Guarantee{NotChecked, "the root has no chain state (" + seal.ChainStateFile + "): nothing proves where its chains end, so records removed from the end of a chain, or a whole chain, would go unseen"}
	default:
		g.Completeness = Guarantee{NotChecked, "only the digests prove where a chain ends and that no chain is gone, and they were not checked"}
	}

	switch {
	case !keepsRetention:
		g.Retention = Guarantee{NotChecked, "a local root has no Object Lock"}
	case r.fs.has(retentionKinds...):
		g.Retention = Guarantee{Failed, r.tally(retentionKinds)}
	case r.opts.Retention > 0:
		g.Retention = Guarantee{Held, fmt.Sprintf("%d object versions are under Object Lock until at least %s after they were written; none was written over or deleted", r.rep.Versions, days(r.opts.Retention))}
	default:
		g.Retention = Guarantee{Held, fmt.Sprintf("%d object versions are under Object Lock; none was written over or deleted", r.rep.Versions)}
	}
	return g
}

// tally counts the findings of kinds, by kind.
func (r *run) tally(kinds []trail.Kind) string {
	var parts []string
	for _, k := range kinds {
		if n := r.fs.count(k); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	return strings.Join(parts, ", ")
}

// count writes n with the noun of its number: one for 1, many (a format with one %d) otherwise.
func count(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return fmt.Sprintf(many, n)
}
