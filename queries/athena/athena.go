// Package athena holds the Athena side of the query layer: the table over the audit bucket's records
// (table.sql), the table over its oversize content (oversize.sql) and the views over both (views.sql),
// embedded, plus the same tables as data (columns, SerDe, partition projection) for the AuditQuery component
// to create in Glue. One definition feeds both, and a test keeps the DDL and the Glue tables from drifting
// apart.
package athena

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

// TableSQL is the CREATE EXTERNAL TABLE statement of table.sql, with AUDIT_BUCKET standing for the bucket.
//
//go:embed table.sql
var TableSQL string

// OversizeTableSQL is the CREATE EXTERNAL TABLE statement of oversize.sql, with AUDIT_BUCKET standing for the
// bucket.
//
//go:embed oversize.sql
var OversizeTableSQL string

//go:embed views.sql
var viewsSQL string

// BucketPlaceholder stands for the audit bucket's name in TableSQL.
const BucketPlaceholder = "AUDIT_BUCKET"

// TableName is the table over the records: one row per OTLP/JSON record (one line of an object).
const TableName = "otlp_records"

// OversizeTableName is the table over the oversize content: one row per oversize object (its one line), the
// span whose attributes were too large for its record, holding only the moved attributes.
const OversizeTableName = "otlp_oversize"

// Storage of the records: newline-delimited JSON read by the OpenX JSON SerDe (table.sql says why).
const (
	SerDeLibrary = "org.openx.data.jsonserde.JsonSerDe"
	InputFormat  = "org.apache.hadoop.mapred.TextInputFormat"
	OutputFormat = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
)

// The default partition projection range of year, inclusive. An unfiltered query enumerates every hour of it
// (about 8,900 hour prefixes a year), so it is kept short; records outside it are invisible until it is widened.
const (
	DefaultFirstYear = 2025
	DefaultLastYear  = 2035
)

// TracesPrefix is the key prefix Firehose writes records under.
const TracesPrefix = "traces/"

// OversizePrefix is the key prefix the function writes oversize content under (function/audit.OversizePrefix),
// laid out oversize/year=YYYY/month=MM/day=DD/hour=HH/<trace id>/<span id>-<sha256>.json.gz.
const OversizePrefix = "oversize/"

// Column is a Hive column: a lowercase name and a Hive type (Glue stores both in lowercase).
type Column struct {
	Name, Type string
}

// Hive types of the OTLP/JSON shape. 64-bit integers are decimal strings in OTLP/JSON, hence intvalue and the
// timestamps as string.
const (
	scalarValue = "struct<stringvalue:string,intvalue:string,doublevalue:double,boolvalue:boolean"
	anyValue    = scalarValue + ",arrayvalue:struct<values:array<" + scalarValue + ">>>>"
	keyValues   = "array<struct<key:string,value:" + anyValue + ">>"
	event       = "struct<timeunixnano:string,name:string,attributes:" + keyValues + ">"
	span        = "struct<traceid:string,spanid:string,parentspanid:string,name:string,kind:int," +
		"starttimeunixnano:string,endtimeunixnano:string,attributes:" + keyValues + ",events:array<" + event + ">," +
		"status:struct<message:string,code:int>>"
	scopeSpans    = "struct<scope:struct<name:string,version:string>,spans:array<" + span + ">>"
	resourceSpans = "array<struct<resource:struct<attributes:" + keyValues + ">,scopespans:array<" + scopeSpans + ">>>"
)

// Columns are the data columns of both tables (a record and an oversize object are both one OTLP/JSON
// ExportTraceServiceRequest line): its one top-level key.
func Columns() []Column {
	return []Column{{Name: "resourcespans", Type: resourceSpans}}
}

// PartitionKeys are the table's partition columns, in the order of the Hive layout.
func PartitionKeys() []Column {
	return []Column{{"year", "int"}, {"month", "int"}, {"day", "int"}, {"hour", "int"}}
}

// SerDeParameters configure the SerDe: keys match case-insensitively (camelCase JSON onto lowercase columns)
// and a malformed line fails the query instead of reading as an empty row.
func SerDeParameters() map[string]string {
	return map[string]string{"case.insensitive": "TRUE", "ignore.malformed.json": "FALSE"}
}

// Location is the table's location: the traces prefix of bucket.
func Location(bucket string) string { return "s3://" + bucket + "/" + TracesPrefix }

// OversizeLocation is the oversize table's location: the oversize prefix of bucket.
func OversizeLocation(bucket string) string { return "s3://" + bucket + "/" + OversizePrefix }

// ProjectionParameters are the table parameters that project the year/month/day/hour partitions onto
// bucket's Hive layout, with year ranging over firstYear..lastYear. Months, days and hours are two digits, as
// Firehose writes them.
func ProjectionParameters(bucket string, firstYear, lastYear int) map[string]string {
	return projectionParameters(Location(bucket), firstYear, lastYear)
}

// OversizeProjectionParameters are the oversize table's parameters: the same projection as the records', onto
// the hour prefixes of the oversize layout (two-digit months, days and hours, as function/audit writes them).
// Each hour prefix holds one folder per trace; oversize.sql says why that needs no partition of its own.
func OversizeProjectionParameters(bucket string, firstYear, lastYear int) map[string]string {
	return projectionParameters(OversizeLocation(bucket), firstYear, lastYear)
}

// projectionParameters project year (firstYear..lastYear), month, day and hour onto the Hive layout under
// location.
func projectionParameters(location string, firstYear, lastYear int) map[string]string {
	p := map[string]string{
		"projection.enabled":        "true",
		"storage.location.template": location + "year=${year}/month=${month}/day=${day}/hour=${hour}",
	}
	ranges := map[string]string{
		"year":  strconv.Itoa(firstYear) + "," + strconv.Itoa(lastYear),
		"month": "1,12", "day": "1,31", "hour": "0,23",
	}
	for col, r := range ranges {
		p["projection."+col+".type"] = "integer"
		p["projection."+col+".range"] = r
		if col != "year" {
			p["projection."+col+".digits"] = "2"
		}
	}
	return p
}

// View is one CREATE OR REPLACE VIEW statement of views.sql.
type View struct {
	// Name is the view's name.
	Name string
	// Comment is the SQL comment above the statement, without the comment markers.
	Comment string
	// SQL is the statement without its terminating semicolon (Athena runs one statement per query).
	SQL string
}

// Views returns the statements of views.sql in order (each view only reads views before it). It panics only if
// the embedded views.sql is malformed, which the package's tests rule out; safe for concurrent use.
func Views() []View {
	views, err := parseViews(viewsSQL)
	if err != nil {
		// views.sql is embedded and tested; a parse failure is a build defect, not a runtime condition.
		panic(err)
	}
	return views
}

// parseViews splits a script of CREATE OR REPLACE VIEW statements, each ending with a semicolon at the end of
// a line and preceded by its comment. Hand-written: the statements are ours and the split needs no SQL parser.
func parseViews(script string) ([]View, error) {
	var views []View
	for _, chunk := range strings.Split(script, ";\n") {
		var comment []string
		lines := strings.Split(strings.TrimSpace(chunk), "\n")
	lines:
		for i, line := range lines {
			switch {
			case strings.HasPrefix(line, "--"):
				comment = append(comment, strings.TrimSpace(strings.TrimPrefix(line, "--")))
			case strings.TrimSpace(line) == "":
				comment = nil // a blank line ends a file-level comment: the statement's own comment follows it
			default:
				stmt := strings.Join(lines[i:], "\n")
				rest, ok := strings.CutPrefix(stmt, "CREATE OR REPLACE VIEW ")
				if !ok {
					return nil, fmt.Errorf("parse views.sql: statement %d is not CREATE OR REPLACE VIEW: %.40q", len(views)+1, stmt)
				}
				name, _, _ := strings.Cut(rest, " ")
				views = append(views, View{Name: name, Comment: strings.Join(comment, " "), SQL: stmt})
				break lines
			}
		}
	}
	return views, nil
}
