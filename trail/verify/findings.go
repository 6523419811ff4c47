package verify

import "github.com/agent-audit/agent-audit/trail"

// notices are the kinds that do not fail verification; every other kind of this package is a problem.
var notices = map[trail.Kind]bool{
	KindLegacySeal:           true,
	KindDeclaredUndelivered:  true,
	KindDuplicate:            true,
	KindChainStateUnreadable: true,
}

// severity is the severity of one of this package's kinds.
func severity(k trail.Kind) trail.Severity {
	if notices[k] {
		return trail.Notice
	}
	return trail.Problem
}

// findings collects a run's findings, at most max of each kind; the others are only counted. Not safe for
// concurrent use (the merger owns it).
type findings struct {
	max        int
	list       []trail.Finding
	perKind    map[trail.Kind]int
	suppressed map[trail.Kind]int
	problems   int
	notices    int
}

func newFindings(max int) *findings {
	return &findings{max: max, perKind: map[trail.Kind]int{}, suppressed: map[trail.Kind]int{}}
}

// add records f, with its kind's severity when it has none, and returns its index in list, or -1 when the
// kind's quota is spent (the finding is then only counted).
func (fs *findings) add(f trail.Finding) int {
	if f.Severity == "" {
		f.Severity = severity(f.Kind)
	}
	if f.Severity == trail.Problem {
		fs.problems++
	} else {
		fs.notices++
	}
	if fs.perKind[f.Kind] >= fs.max {
		fs.suppressed[f.Kind]++
		return -1
	}
	fs.perKind[f.Kind]++
	fs.list = append(fs.list, f)
	return len(fs.list) - 1
}

// drop removes the finding at index i (another finding now stands for its cause).
func (fs *findings) drop(i int) {
	f := &fs.list[i]
	if f.Kind == "" {
		return
	}
	if f.Severity == trail.Problem {
		fs.problems--
	} else {
		fs.notices--
	}
	fs.perKind[f.Kind]--
	f.Kind = ""
}

// listed returns the findings not dropped.
func (fs *findings) listed() []trail.Finding {
	out := make([]trail.Finding, 0, len(fs.list))
	for _, f := range fs.list {
		if f.Kind != "" {
			out = append(out, f)
		}
	}
	return out
}

// addAll adds findings another check produced (the digest walk), with their own severities.
func (fs *findings) addAll(list []trail.Finding) {
	for _, f := range list {
		fs.add(f)
	}
}

// has reports whether any finding of one of kinds was added.
func (fs *findings) has(kinds ...trail.Kind) bool {
	for _, k := range kinds {
		if fs.perKind[k]+fs.suppressed[k] > 0 {
			return true
		}
	}
	return false
}

// count is the number of findings of kinds.
func (fs *findings) count(kinds ...trail.Kind) int {
	n := 0
	for _, k := range kinds {
		n += fs.perKind[k] + fs.suppressed[k]
	}
	return n
}
