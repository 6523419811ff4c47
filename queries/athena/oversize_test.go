package athena

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/agent-audit/agent-audit/function/audit"
)

// statement is the SQL of a script without its comment lines.
func statement(script string) string {
	var lines []string
	for _, line := range strings.Split(script, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			lines = append(lines, line)
		}
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// TestTheOversizeTableHasTheRecordsShape holds oversize.sql to table.sql: an oversize object is the same
// OTLP/JSON line as a record, so the two tables differ in their name and prefix only.
func TestTheOversizeTableHasTheRecordsShape(t *testing.T) {
	records, oversize := statement(TableSQL), statement(OversizeTableSQL)
	want := strings.NewReplacer(TableName, OversizeTableName, "/"+TracesPrefix, "/"+OversizePrefix).Replace(records)
	if oversize != want {
		t.Errorf("oversize.sql is not table.sql with its name and prefix changed:\n got %s\nwant %s", oversize, want)
	}
	for _, s := range []string{"CREATE EXTERNAL TABLE IF NOT EXISTS " + OversizeTableName + " (", "LOCATION 's3://" + BucketPlaceholder + "/" + OversizePrefix + "'",
		"'storage.location.template' = 's3://" + BucketPlaceholder + "/" + OversizePrefix + "year=${year}/month=${month}/day=${day}/hour=${hour}'"} {
		if !strings.Contains(oversize, s) {
			t.Errorf("oversize.sql lacks %q", s)
		}
	}
	if strings.Count(oversize, "CREATE ") != 1 || strings.Contains(oversize, TracesPrefix) {
		t.Errorf("oversize.sql is not one table over %s:\n%s", OversizePrefix, oversize)
	}
}

// memoryStore keeps oversize objects in memory under an s3:// URI.
type memoryStore struct {
	mu      sync.Mutex
	objects map[string][]byte
}

func (m *memoryStore) URI(key string) string { return "s3://audit/" + key }

func (m *memoryStore) Put(_ context.Context, key string, object []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[key] = object
	return nil
}

// oversizeKey has function/audit store one span too large for a record at time written and returns the key its
// reference names, the object's key in the store and the span's trace id.
func oversizeKey(t *testing.T, written time.Time) (ref, stored, traceID string) {
	t.Helper()
	tid := trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{0, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}, TraceFlags: trace.FlagsSampled})
	spans := tracetest.SpanStubs{{
		Name: "chat claude-haiku-4-5", SpanContext: sc, SpanKind: trace.SpanKindClient,
		StartTime: written.Add(-time.Second), EndTime: written,
		Resource:             resource.NewSchemaless(attribute.String("service.name", "agent-audit")),
		InstrumentationScope: instrumentation.Scope{Name: "github.com/agent-audit/agent-audit/function/agent"},
		Attributes: []attribute.KeyValue{
			attribute.String("gen_ai.operation.name", "chat"),
			attribute.String("gen_ai.input.messages", strings.Repeat("x", 8000)),
		},
	}}.Snapshots()
	store := &memoryStore{objects: map[string][]byte{}}
	enc := audit.NewEncoder(4000, audit.WithOversizeStore(store), audit.WithEncoderClock(func() time.Time { return written }))
	records, err := enc.Encode(context.Background(), spans, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 1 || len(store.objects) != 1 {
		t.Fatalf("%d records and %d oversize objects, want one of each", len(records), len(store.objects))
	}
	td, err := (&ptrace.JSONUnmarshaler{}).UnmarshalTraces(records[0])
	if err != nil {
		t.Fatal(err)
	}
	key, ok := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Attributes().Get(audit.AttrOversizeKey)
	if !ok {
		t.Fatal("the span carries no oversize reference")
	}
	for k := range store.objects {
		stored = k
	}
	return key.Str(), stored, tid.String()
}

// TestTheOversizeProjectionFindsTheFunctionsObjects stores oversize content the way the function does and
// checks that the partition the projection computes for the write time is the object's hour prefix, and that
// the view's key (from "$path") is the key the span names. A template or digit mismatch would make Athena read
// nothing, without an error.
func TestTheOversizeProjectionFindsTheFunctionsObjects(t *testing.T) {
	const bucket = "audit"
	params := OversizeProjectionParameters(bucket, DefaultFirstYear, DefaultLastYear)
	template := params["storage.location.template"]
	if template == "" || !strings.HasPrefix(template, OversizeLocation(bucket)) {
		t.Fatalf("template %q is not under %s", template, OversizeLocation(bucket))
	}
	if OversizePrefix != audit.OversizePrefix {
		t.Errorf("oversize prefix %q, the function writes under %q", OversizePrefix, audit.OversizePrefix)
	}
	// The path Athena gives an object ("$path") and the key the view derives from it.
	pathKey := regexp.MustCompile(`regexp_extract\("\$path", '([^']+)', 1\) AS key`).FindStringSubmatch(spansView(t).SQL)
	if pathKey == nil {
		t.Fatal(`the spans view does not derive the oversize key from "$path" with regexp_extract`)
	}
	keyOfPath := regexp.MustCompile(pathKey[1])
	file := regexp.MustCompile(`^([0-9a-f]{32})/[0-9a-f]{16}-[0-9a-f]{64}\.json\.gz$`)

	for _, written := range []time.Time{
		time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC),      // one-digit month, day and hour: two digits in the key
		time.Date(2026, 11, 25, 23, 59, 59, 0, time.UTC), // two digits already
		time.Date(DefaultFirstYear, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(DefaultLastYear, 12, 31, 23, 0, 0, 0, time.UTC),
	} {
		t.Run(written.Format(time.RFC3339), func(t *testing.T) {
			ref, stored, traceID := oversizeKey(t, written)
			if ref != stored {
				t.Fatalf("the span names %q, the object is stored at %q", ref, stored)
			}
			// The partition Athena projects for the write time, each value formatted as the projection says.
			values := map[string]int{"year": written.Year(), "month": int(written.Month()), "day": written.Day(), "hour": written.Hour()}
			location := template
			for col, v := range values {
				lo, hi, _ := strings.Cut(params["projection."+col+".range"], ",")
				if l, _ := strconv.Atoi(lo); v < l {
					t.Errorf("%s %d below the projected range %s", col, v, params["projection."+col+".range"])
				}
				if h, _ := strconv.Atoi(hi); v > h {
					t.Errorf("%s %d above the projected range %s", col, v, params["projection."+col+".range"])
				}
				digits, _ := strconv.Atoi(params["projection."+col+".digits"])
				location = strings.ReplaceAll(location, "${"+col+"}", fmt.Sprintf("%0*d", digits, v))
			}
			path := "s3://" + bucket + "/" + ref
			rest, ok := strings.CutPrefix(path, location+"/")
			if !ok {
				t.Fatalf("object %s is not under its projected partition %s/", path, location)
			}
			// Below the hour: one folder per trace (not a partition), then the object.
			if m := file.FindStringSubmatch(rest); m == nil || m[1] != traceID {
				t.Errorf("below the partition %q, want <trace id %s>/<span id>-<sha256>.json.gz", rest, traceID)
			}
			if m := keyOfPath.FindStringSubmatch(path); m == nil || m[1] != ref {
				t.Errorf("the view reads key %v from %s, the span names %s", m, path, ref)
			}
		})
	}
}

// spansView is the spans statement of views.sql.
func spansView(t *testing.T) View {
	t.Helper()
	for _, v := range Views() {
		if v.Name == "spans" {
			return v
		}
	}
	t.Fatal("views.sql has no spans view")
	return View{}
}

// TestTheSpansViewResolvesOversizeReferences checks how the spans view joins the oversize table: a LEFT JOIN
// (spans without a reference, and an empty oversize prefix, change nothing) on the key the span names and on
// the partition columns (so a WHERE on the records' partitions prunes the oversize side too), appending the
// moved attributes to the span's own (its references stay). The other views read spans only.
func TestTheSpansViewResolvesOversizeReferences(t *testing.T) {
	sql := strings.Join(strings.Fields(spansView(t).SQL), " ")
	for _, want := range []string{
		"FROM " + OversizeTableName + " CROSS JOIN UNNEST(resourcespans)",
		"FROM flat f LEFT JOIN oversize o ON o.key = element_at(filter(f.attributes, a -> a.key = '" + audit.AttrOversizeKey + "'), 1).value.stringvalue",
		"AND o.year = f.year AND o.month = f.month AND o.day = f.day ),",
		"CASE WHEN o.key IS NULL THEN f.attributes ELSE concat(f.attributes, o.attributes) END AS attributes",
		"FROM resolved ) SELECT",
		"FROM " + TableName + " CROSS JOIN UNNEST(resourcespans)",
	} {
		if !strings.Contains(sql, want) {
			t.Errorf("spans view lacks %q", want)
		}
	}
	// Records' partition filters reach otlp_records only through the window's leading partition columns.
	if !strings.Contains(sql, "row_number() OVER (PARTITION BY year, month, day, hour, traceid, spanid") {
		t.Error("the dedup window no longer leads with the partition columns: a WHERE on them would not prune")
	}
	if n := strings.Count(sql, "JOIN oversize"); n != 1 || strings.Contains(sql, "INNER JOIN") || strings.Contains(sql, "RIGHT JOIN") {
		t.Errorf("spans view joins oversize %d times or not as a LEFT JOIN", n)
	}
	for _, v := range Views() {
		if v.Name != "spans" && strings.Contains(v.SQL, OversizeTableName) {
			t.Errorf("view %s reads %s; only spans resolves references", v.Name, OversizeTableName)
		}
	}
}
