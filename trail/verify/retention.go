package verify

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/agent-audit/agent-audit/trail"
)

// checkRetention reads the Object Lock retention of every version, a few at a time, and reports each that has
// none or whose retention ends before horizon past its LastModified.
func checkRetention(ctx context.Context, rr trail.RetentionReader, versions []trail.Object, horizon time.Duration) ([]trail.Finding, error) {
	var mu sync.Mutex
	var found []trail.Finding
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(DefaultRetentionWorkers)
	for _, o := range versions {
		g.Go(func() error {
			r, err := rr.Retention(ctx, o.Key, o.VersionID)
			if err != nil {
				return fmt.Errorf("check Object Lock retention: %w", err)
			}
			f := trail.Finding{Key: o.Key, VersionID: o.VersionID}
			switch {
			case r.Mode == "":
				f.Kind, f.Detail = KindNoRetention, "no Object Lock retention: it can be deleted"
			case horizon > 0 && r.RetainUntil.Before(o.LastModified.Add(horizon-RetentionSlack)):
				f.Kind, f.Detail = KindRetentionShort, fmt.Sprintf("%s retention until %s, short of %s (%s after it was written)", r.Mode,
					r.RetainUntil.Format(time.RFC3339), o.LastModified.Add(horizon).Format(time.RFC3339), days(horizon))
			default:
				return nil
			}
			f.Severity = trail.Problem
			mu.Lock()
			found = append(found, f)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return found, nil
}

// days writes a horizon in days.
func days(d time.Duration) string {
	n := int(d / (24 * time.Hour))
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}
