package components

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/agent-audit/agent-audit/internal/pulumitest"
	athenasql "github.com/agent-audit/agent-audit/queries/athena"
)

const queryToken = "agent-audit:index:AuditQuery"

// deployQuery runs an AuditBucket named "audit" and an AuditQuery named "query" with args (Bucket filled in).
func deployQuery(t *testing.T, args AuditQueryArgs) (*pulumitest.Mocks, *AuditQuery) {
	t.Helper()
	var q *AuditQuery
	m := run(t, func(ctx *pulumi.Context) error {
		b, err := NewAuditBucket(ctx, "audit", nil)
		if err != nil {
			return err
		}
		args.Bucket = b
		q, err = NewAuditQuery(ctx, "query", &args)
		return err
	})
	return m, q
}

// queryChildren is the mocks' record of the AuditQuery's resources only.
func queryChildren(m *pulumitest.Mocks) *pulumitest.Mocks {
	out := &pulumitest.Mocks{}
	for _, r := range m.Resources() {
		if r.Type == queryToken || r.Parent == pulumitest.ComponentURN(queryToken, "query") {
			out.Add(r)
		}
	}
	return out
}

// stringMap reads an object input of strings.
func stringMap(t *testing.T, v resource.PropertyValue) map[string]string {
	t.Helper()
	if !v.IsObject() {
		t.Fatalf("input is %s, want a map", v.TypeString())
	}
	out := map[string]string{}
	for k, e := range v.ObjectValue() {
		out[string(k)] = e.StringValue()
	}
	return out
}

func TestAuditQueryTableProjectsTheFirehoseLayout(t *testing.T) {
	tests := []struct {
		name             string
		args             AuditQueryArgs
		wantDatabase     string
		wantYears        string
		wantCutoff       float64
		wantResultExpiry float64
	}{
		{"defaults derive the database from the name and project 2025 to 2035", AuditQueryArgs{}, "query", "2025,2035", 10 << 30, 7},
		{"given names, years, cutoff and expiry are used as given",
			AuditQueryArgs{DatabaseName: "audit_prod", FirstYear: 2026, LastYear: 2027, MaxScanBytesPerQuery: 1 << 30, ResultExpiryDays: 30},
			"audit_prod", "2026,2027", 1 << 30, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all, q := deployQuery(t, tt.args)
			m := queryChildren(all)
			assertChildren(t, m, queryToken, "query")

			if got := str(m.One(t, "aws:glue/catalogDatabase:CatalogDatabase", "query-database").Inputs, "name"); got != tt.wantDatabase {
				t.Errorf("database %q, want %q", got, tt.wantDatabase)
			}
			table := m.One(t, "aws:glue/catalogTable:CatalogTable", "query-table").Inputs
			if str(table, "name") != "otlp_records" || str(table, "databaseName") != tt.wantDatabase || str(table, "tableType") != "EXTERNAL_TABLE" {
				t.Errorf("table %s in %s of type %s", str(table, "name"), str(table, "databaseName"), str(table, "tableType"))
			}
			if got := str(table, "storageDescriptor.location"); got != "s3://audit/traces/" {
				t.Errorf("location %q, want the audit bucket's traces/ prefix", got)
			}
			if str(table, "storageDescriptor.serDeInfo.serializationLibrary") != "org.openx.data.jsonserde.JsonSerDe" ||
				str(table, "storageDescriptor.inputFormat") != "org.apache.hadoop.mapred.TextInputFormat" {
				t.Errorf("storage %v", pulumitest.Get(table, "storageDescriptor"))
			}
			serde := stringMap(t, pulumitest.Get(table, "storageDescriptor.serDeInfo.parameters"))
			if serde["case.insensitive"] != "TRUE" || serde["ignore.malformed.json"] != "FALSE" {
				t.Errorf("SerDe parameters %v: camelCase keys must match and malformed lines must fail", serde)
			}
			var keys []string
			for i := range 5 {
				if name := str(table, fmt.Sprintf("partitionKeys.%d.name", i)); name != "" {
					keys = append(keys, name+" "+str(table, fmt.Sprintf("partitionKeys.%d.type", i)))
				}
			}
			if strings.Join(keys, ", ") != "year int, month int, day int, hour int" {
				t.Errorf("partition keys %v", keys)
			}
			want := map[string]string{
				"EXTERNAL": "TRUE", "projection.enabled": "true",
				"projection.year.type": "integer", "projection.year.range": tt.wantYears,
				"projection.month.type": "integer", "projection.month.range": "1,12", "projection.month.digits": "2",
				"projection.day.type": "integer", "projection.day.range": "1,31", "projection.day.digits": "2",
				"projection.hour.type": "integer", "projection.hour.range": "0,23", "projection.hour.digits": "2",
				"storage.location.template": "s3://audit/traces/year=${year}/month=${month}/day=${day}/hour=${hour}",
			}
			if got := stringMap(t, pulumitest.Get(table, "parameters")); !maps.Equal(got, want) {
				t.Errorf("table parameters\n got %v\nwant %v", got, want)
			}

			wg := m.One(t, "aws:athena/workgroup:Workgroup", "query").Inputs
			if num(wg, "configuration.bytesScannedCutoffPerQuery") != tt.wantCutoff {
				t.Errorf("scan cutoff %v, want %v", num(wg, "configuration.bytesScannedCutoffPerQuery"), tt.wantCutoff)
			}
			lc := m.One(t, "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2", "query-results-lifecycle").Inputs
			if num(lc, "rules.0.expiration.days") != tt.wantResultExpiry || num(lc, "rules.0.abortIncompleteMultipartUpload.daysAfterInitiation") != 1 {
				t.Errorf("results lifecycle %v", lc)
			}
			for got, want := range map[string]string{
				pulumitest.AwaitString(t, q.DatabaseName): tt.wantDatabase, pulumitest.AwaitString(t, q.TableName): "otlp_records",
				pulumitest.AwaitString(t, q.WorkgroupName): "query", pulumitest.AwaitString(t, q.ResultsBucketName): "query-results",
				pulumitest.AwaitString(t, q.AnalystRoleARN): "arn:aws:iam::123456789012:role/query-analyst",
			} {
				if got != want {
					t.Errorf("output %q, want %q", got, want)
				}
			}
		})
	}
}

// ddlTable is what a CREATE EXTERNAL TABLE statement declares, normalised as Glue stores it.
type ddlTable struct {
	name, serde, inputFormat, outputFormat, location string
	columns, partitionKeys                           []string // "name type"
	serdeProperties, tableProperties                 map[string]string
}

var (
	ddlQuoted  = `'([^']*)'`
	ddlPattern = regexp.MustCompile(`(?s)^CREATE (EXTERNAL )?TABLE IF NOT EXISTS (\w+) \((.*)\)\s*PARTITIONED BY \((.*?)\)\s*` +
		`ROW FORMAT SERDE ` + ddlQuoted + `\s*WITH SERDEPROPERTIES \((.*?)\)\s*STORED AS INPUTFORMAT ` + ddlQuoted +
		`\s*OUTPUTFORMAT ` + ddlQuoted + `\s*LOCATION ` + ddlQuoted + `\s*TBLPROPERTIES \((.*)\);\s*$`)
	ddlProperty = regexp.MustCompile(ddlQuoted + `\s*=\s*` + ddlQuoted)
)

// parseDDL reads the table statement of table.sql: the one shape we write, not Hive DDL at large.
func parseDDL(t *testing.T, sql string) ddlTable {
	t.Helper()
	var lines []string
	for _, line := range strings.Split(sql, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			lines = append(lines, line)
		}
	}
	g := ddlPattern.FindStringSubmatch(strings.TrimSpace(strings.Join(lines, "\n")))
	if g == nil {
		t.Fatalf("table.sql is not CREATE EXTERNAL TABLE ... TBLPROPERTIES (...):\n%s", sql)
	}
	properties := func(s string) map[string]string {
		out := map[string]string{}
		for _, p := range ddlProperty.FindAllStringSubmatch(s, -1) {
			out[p[1]] = p[2]
		}
		return out
	}
	d := ddlTable{
		name: g[2], columns: ddlColumns(g[3]), partitionKeys: ddlColumns(g[4]), serde: g[5], serdeProperties: properties(g[6]),
		inputFormat: g[7], outputFormat: g[8], location: g[9], tableProperties: properties(g[10]),
	}
	if g[1] != "" {
		d.tableProperties["EXTERNAL"] = "TRUE" // what CREATE EXTERNAL TABLE records in Glue
	}
	return d
}

// ddlColumns splits a column list at top-level commas into "name type", lowercase, without whitespace or the
// backticks that quote reserved words (Glue stores types bare).
func ddlColumns(list string) []string {
	var cols []string
	depth, start := 0, 0
	for i, r := range list + "," {
		switch r {
		case '<', '(':
			depth++
		case '>', ')':
			depth--
		case ',':
			if depth == 0 {
				name, typ, _ := strings.Cut(strings.TrimSpace(list[start:min(i, len(list))]), " ")
				typ = strings.NewReplacer(" ", "", "\n", "", "`", "").Replace(typ)
				cols = append(cols, strings.ToLower(name+" "+typ))
				start = i + 1
			}
		}
	}
	return cols
}

// glueColumns reads the name and type of each entry of a Glue column list input.
func glueColumns(m resource.PropertyMap, path string) []string {
	var cols []string
	for i := range pulumitest.Get(m, path).ArrayValue() {
		cols = append(cols, str(m, fmt.Sprintf("%s.%d.name", path, i))+" "+str(m, fmt.Sprintf("%s.%d.type", path, i)))
	}
	return cols
}

// TestTheDDLDeclaresTheGlueTable parses queries/athena/table.sql and oversize.sql and the Glue tables the
// component creates and compares every declaration, so the two cannot drift apart.
func TestTheDDLDeclaresTheGlueTable(t *testing.T) {
	m, _ := deployQuery(t, AuditQueryArgs{})
	tests := []struct {
		name, sql, resource, wantLocation string
	}{
		{"the records table is table.sql", athenasql.TableSQL, "query-table", "s3://audit/traces/"},
		{"the oversize table is oversize.sql", athenasql.OversizeTableSQL, "query-oversize-table", "s3://audit/oversize/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := m.One(t, "aws:glue/catalogTable:CatalogTable", tt.resource).Inputs
			ddl := parseDDL(t, strings.ReplaceAll(tt.sql, athenasql.BucketPlaceholder, "audit"))

			checks := []struct {
				what      string
				ddl, glue any
			}{
				{"table name", ddl.name, str(table, "name")},
				{"columns", ddl.columns, glueColumns(table, "storageDescriptor.columns")},
				{"partition keys", ddl.partitionKeys, glueColumns(table, "partitionKeys")},
				{"SerDe", ddl.serde, str(table, "storageDescriptor.serDeInfo.serializationLibrary")},
				{"SerDe properties", ddl.serdeProperties, stringMap(t, pulumitest.Get(table, "storageDescriptor.serDeInfo.parameters"))},
				{"input format", ddl.inputFormat, str(table, "storageDescriptor.inputFormat")},
				{"output format", ddl.outputFormat, str(table, "storageDescriptor.outputFormat")},
				{"location", ddl.location, str(table, "storageDescriptor.location")},
				{"table properties (projection)", ddl.tableProperties, stringMap(t, pulumitest.Get(table, "parameters"))},
			}
			for _, c := range checks {
				if fmt.Sprint(c.ddl) != fmt.Sprint(c.glue) {
					t.Errorf("%s differ:\n       DDL %v\n      Glue %v", c.what, c.ddl, c.glue)
				}
			}
			// The parse itself must have found the shape, or an empty DDL would equal an empty table.
			if len(ddl.columns) != 1 || !strings.Contains(ddl.columns[0], "arrayvalue:struct<values:array<") || len(ddl.tableProperties) != 14 ||
				ddl.location != tt.wantLocation || !strings.HasPrefix(ddl.tableProperties["storage.location.template"], tt.wantLocation+"year=${year}/") {
				t.Errorf("parsed %d columns, %d properties and location %s: %v", len(ddl.columns), len(ddl.tableProperties), ddl.location, ddl.columns)
			}
		})
	}
}

// TestTheOversizeTableProjectsTheOversizeLayout checks the oversize table the component creates: the records'
// columns, SerDe and partition keys over the oversize/ prefix, with the same projection (years as configured)
// onto its hour prefixes, and the named view queries wait for it.
func TestTheOversizeTableProjectsTheOversizeLayout(t *testing.T) {
	all, q := deployQuery(t, AuditQueryArgs{DatabaseName: "audit_db", FirstYear: 2026, LastYear: 2028})
	m := queryChildren(all)
	records := m.One(t, "aws:glue/catalogTable:CatalogTable", "query-table").Inputs
	oversize := m.One(t, "aws:glue/catalogTable:CatalogTable", "query-oversize-table").Inputs
	if str(oversize, "name") != "otlp_oversize" || str(oversize, "databaseName") != "audit_db" || str(oversize, "tableType") != "EXTERNAL_TABLE" {
		t.Errorf("oversize table %s in %s of type %s", str(oversize, "name"), str(oversize, "databaseName"), str(oversize, "tableType"))
	}
	if got := str(oversize, "storageDescriptor.location"); got != "s3://audit/oversize/" {
		t.Errorf("oversize location %q, want the audit bucket's oversize/ prefix", got)
	}
	for _, path := range []string{"storageDescriptor.columns", "partitionKeys"} {
		if got, want := glueColumns(oversize, path), glueColumns(records, path); len(got) == 0 || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("oversize %s %v, want the records' %v", path, got, want)
		}
	}
	if str(oversize, "storageDescriptor.serDeInfo.serializationLibrary") != str(records, "storageDescriptor.serDeInfo.serializationLibrary") {
		t.Error("the oversize table does not read with the records' SerDe")
	}
	got, want := stringMap(t, pulumitest.Get(oversize, "parameters")), stringMap(t, pulumitest.Get(records, "parameters"))
	if got["storage.location.template"] != "s3://audit/oversize/year=${year}/month=${month}/day=${day}/hour=${hour}" || got["projection.year.range"] != "2026,2028" {
		t.Errorf("oversize projection %v", got)
	}
	delete(got, "storage.location.template")
	delete(want, "storage.location.template")
	if !maps.Equal(got, want) {
		t.Errorf("oversize projection differs from the records' beyond the location:\n got %v\nwant %v", got, want)
	}
	for _, r := range m.ByType("aws:athena/namedQuery:NamedQuery") {
		if !slices.ContainsFunc(r.DependsOn, func(u string) bool { return strings.HasSuffix(u, "::query-oversize-table") }) {
			t.Errorf("named query %s does not wait for the oversize table: %v", r.Name, r.DependsOn)
		}
	}
	if got := pulumitest.AwaitString(t, q.OversizeTableName); got != "otlp_oversize" {
		t.Errorf("output OversizeTableName %q", got)
	}
}

// TestTheProjectionFollowsTheFirehosePrefix checks the location template against the prefix the delivery stream
// writes: a mismatch would read nothing, without an error.
func TestTheProjectionFollowsTheFirehosePrefix(t *testing.T) {
	m, _ := deployQuery(t, AuditQueryArgs{})
	template := stringMap(t, pulumitest.Get(m.One(t, "aws:glue/catalogTable:CatalogTable", "query-table").Inputs, "parameters"))["storage.location.template"]
	asFirehose := strings.NewReplacer("${year}", "!{timestamp:yyyy}", "${month}", "!{timestamp:MM}", "${day}", "!{timestamp:dd}", "${hour}", "!{timestamp:HH}").Replace(template)
	if want := "s3://audit/" + TracesPrefix; asFirehose+"/" != want {
		t.Errorf("location template %q does not follow the Firehose prefix %q", template, want)
	}
}

func TestAuditQueryWorkgroupAndResultsStore(t *testing.T) {
	m := queryChildren(func() *pulumitest.Mocks { m, _ := deployQuery(t, AuditQueryArgs{}); return m }())
	const resultsKey = "arn:aws:kms:eu-west-1:123456789012:key/key-query-results-key"

	wg := m.One(t, "aws:athena/workgroup:Workgroup", "query").Inputs
	if str(wg, "name") != "query" || !pulumitest.Get(wg, "configuration.enforceWorkgroupConfiguration").BoolValue() ||
		!pulumitest.Get(wg, "configuration.publishCloudwatchMetricsEnabled").BoolValue() {
		t.Errorf("workgroup %v: its configuration must be enforced on every query", wg)
	}
	if got := str(wg, "configuration.engineVersion.selectedEngineVersion"); got != "Athena engine version 3" {
		t.Errorf("engine %q: views.sql is Trino SQL", got)
	}
	rc := "configuration.resultConfiguration."
	if got := pulumitest.Get(wg, rc+"aclConfiguration"); !got.IsNull() {
		t.Errorf("results ACL %v: the analyst has no s3:PutObjectAcl", got)
	}
	if str(wg, rc+"outputLocation") != "s3://query-results/" || str(wg, rc+"encryptionConfiguration.encryptionOption") != "SSE_KMS" ||
		str(wg, rc+"encryptionConfiguration.kmsKeyArn") != resultsKey {
		t.Errorf("result configuration %v", pulumitest.Get(wg, "configuration.resultConfiguration"))
	}

	if !pulumitest.Get(m.One(t, "aws:kms/key:Key", "query-results-key").Inputs, "enableKeyRotation").BoolValue() {
		t.Error("results key does not rotate")
	}
	sse := m.One(t, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", "query-results-encryption").Inputs
	if str(sse, "rules.0.applyServerSideEncryptionByDefault.sseAlgorithm") != "aws:kms" || str(sse, "rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId") != resultsKey {
		t.Errorf("results bucket encryption %v", sse)
	}
	pab := m.One(t, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "query-results-public-access").Inputs
	for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
		if !pulumitest.Get(pab, k).BoolValue() {
			t.Errorf("results public access block %s is not true", k)
		}
	}
	tls := pulumitest.ParsePolicy(t, pulumitest.Get(m.One(t, "aws:s3/bucketPolicy:BucketPolicy", "query-results-tls-only").Inputs, "policy"))
	if tls.Statement[0].Effect != "Deny" || strings.Join(tls.Statement[0].Resource, " ") != "arn:aws:s3:::query-results arn:aws:s3:::query-results/*" {
		t.Errorf("results TLS policy %+v", tls)
	}
}

func TestAuditQueryShipsEveryViewAsANamedQuery(t *testing.T) {
	m, _ := deployQuery(t, AuditQueryArgs{DatabaseName: "audit_db"})
	queries := m.ByType("aws:athena/namedQuery:NamedQuery")
	views := athenasql.Views()
	if len(queries) != len(views) || len(views) != 4 {
		t.Fatalf("%d named queries for %d views, want the 4 views", len(queries), len(views))
	}
	for i, v := range views {
		r := m.One(t, "aws:athena/namedQuery:NamedQuery", "query-view-"+strings.ReplaceAll(v.Name, "_", "-"))
		q := r.Inputs
		if str(q, "name") != fmt.Sprintf("%d create view %s", i+1, v.Name) || str(q, "database") != "audit_db" || str(q, "workgroup") != "query" {
			t.Errorf("named query for %s: %q in %s/%s", v.Name, str(q, "name"), str(q, "database"), str(q, "workgroup"))
		}
		if !strings.HasPrefix(str(q, "query"), "CREATE OR REPLACE VIEW "+v.Name+" AS") || strings.HasSuffix(str(q, "query"), ";") {
			t.Errorf("named query %s is not one CREATE VIEW statement: %.60q", v.Name, str(q, "query"))
		}
		if d := str(q, "description"); d == "" || len(d) > 1024 {
			t.Errorf("named query %s description of %d characters", v.Name, len(d))
		}
		if !slices.ContainsFunc(r.DependsOn, func(u string) bool { return strings.HasSuffix(u, "::query-table") }) {
			t.Errorf("named query %s does not wait for the table: %v", v.Name, r.DependsOn)
		}
	}
	if got := strings.Join([]string{views[0].Name, views[1].Name, views[2].Name, views[3].Name}, " "); got != "spans traces runs tool_calls" {
		t.Errorf("views in order %s", got)
	}
}

func TestTheAnalystReadsAndNeverWrites(t *testing.T) {
	tests := []struct {
		name           string
		principals     []string
		wantPrincipals string
	}{
		{"by default the account is trusted", nil, "arn:aws:iam::123456789012:root"},
		{"given principals replace the account", []string{"arn:aws:iam::123456789012:role/sso-analysts"}, "arn:aws:iam::123456789012:role/sso-analysts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := deployQuery(t, AuditQueryArgs{TrustedPrincipalARNs: tt.principals})
			trust := pulumitest.ParsePolicy(t, pulumitest.Get(m.One(t, "aws:iam/role:Role", "query-analyst").Inputs, "assumeRolePolicy"))
			if len(trust.Statement) != 1 || strings.Join(trust.Statement[0].Principal["AWS"], " ") != tt.wantPrincipals ||
				strings.Join(trust.Statement[0].Action, " ") != "sts:AssumeRole" {
				t.Errorf("trust %+v", trust)
			}
			policy := pulumitest.ParsePolicy(t, pulumitest.Get(m.One(t, "aws:iam/rolePolicy:RolePolicy", "query-analyst-read").Inputs, "policy"))
			const (
				audit    = "arn:aws:s3:::audit"
				auditKey = "arn:aws:kms:eu-west-1:123456789012:key/key-audit-key"
				results  = "arn:aws:s3:::query-results"
				resKey   = "arn:aws:kms:eu-west-1:123456789012:key/key-query-results-key"
				glue     = "arn:aws:glue:eu-west-1:123456789012:"
				catalog  = glue + "catalog," + glue + "database/query," + glue + "table/query/otlp_oversize," + glue + "table/query/otlp_records," + glue + "table/query/runs," +
					glue + "table/query/spans," + glue + "table/query/tool_calls," + glue + "table/query/traces"
				workgroup = "arn:aws:athena:eu-west-1:123456789012:workgroup/query"
				dataCat   = "arn:aws:athena:eu-west-1:123456789012:datacatalog/AwsDataCatalog"
			)
			want := map[string]string{
				"s3:GetObject": audit + "/digests/*," + audit + "/oversize/*," + audit + "/traces/*," + results + "/*", "s3:ListBucket": audit + "," + results,
				"s3:GetObjectVersion":   audit + "/digests/*," + audit + "/oversize/*," + audit + "/traces/*",
				"s3:GetObjectRetention": audit + "/digests/*," + audit + "/oversize/*," + audit + "/traces/*",
				"s3:ListBucketVersions": audit,
				"s3:GetBucketLocation":  audit + "," + results, "kms:Decrypt": auditKey + "," + resKey,
				"glue:BatchGetPartition": catalog, "glue:GetCatalog": catalog, "glue:GetDatabase": catalog, "glue:GetPartition": catalog,
				"glue:GetPartitions": catalog, "glue:GetTable": catalog,
				"athena:BatchGetNamedQuery": workgroup, "athena:BatchGetQueryExecution": workgroup, "athena:GetNamedQuery": workgroup,
				"athena:GetQueryExecution": workgroup, "athena:GetQueryResults": workgroup, "athena:GetQueryResultsStream": workgroup,
				"athena:GetWorkGroup": workgroup, "athena:ListNamedQueries": workgroup, "athena:ListQueryExecutions": workgroup,
				"athena:StartQueryExecution": workgroup, "athena:StopQueryExecution": workgroup,
				"athena:GetDataCatalog": dataCat, "athena:GetDatabase": dataCat, "athena:GetTableMetadata": dataCat,
				"s3:PutObject": results + "/*", "s3:AbortMultipartUpload": results + "/*", "s3:ListMultipartUploadParts": results + "/*",
				"s3:ListBucketMultipartUploads": results, "kms:GenerateDataKey": resKey,
			}
			grants := statementsByAction(policy)
			if !maps.Equal(grants, want) {
				for a := range maps.Keys(grants) {
					if grants[a] != want[a] {
						t.Errorf("%s on %q, want %q", a, grants[a], want[a])
					}
				}
				for a := range maps.Keys(want) {
					if _, ok := grants[a]; !ok {
						t.Errorf("%s is not granted, want it on %q", a, want[a])
					}
				}
			}
			for _, s := range policy.Statement {
				if s.Effect != "Allow" {
					continue
				}
				for _, a := range s.Action {
					for _, r := range s.Resource {
						writes := strings.HasPrefix(a, "s3:Put") || strings.HasPrefix(a, "s3:Delete") || strings.HasPrefix(a, "s3:Abort") ||
							a == "kms:Encrypt" || strings.HasPrefix(a, "kms:GenerateDataKey") || strings.HasPrefix(a, "kms:ReEncrypt") ||
							strings.HasPrefix(a, "glue:Create") || strings.HasPrefix(a, "glue:Update") || strings.HasPrefix(a, "glue:Delete")
						if writes && (strings.HasPrefix(r, audit) && !strings.HasPrefix(r, results) || r == auditKey || strings.HasPrefix(r, glue)) {
							t.Errorf("%s: the analyst may %s on audit resource %s", s.Sid, a, r)
						}
					}
				}
				if slices.Contains(s.Resource, auditKey) || slices.Contains(s.Resource, resKey) {
					if s.Condition["StringEquals"]["kms:ViaService"] != "s3.eu-west-1.amazonaws.com" {
						t.Errorf("%s: key use %v is not limited to S3 in the region", s.Sid, s.Condition)
					}
				}
			}
			listing := map[string]any{}
			for _, s := range policy.Statement {
				if slices.Contains(s.Action, "s3:ListBucket") && slices.Contains(s.Resource, audit) {
					listing = s.Condition["StringLike"]
				}
			}
			if fmt.Sprint(listing["s3:prefix"]) != "[traces/ traces/* oversize/ oversize/* digests/ digests/*]" {
				t.Errorf("the audit bucket is listable beyond traces/, oversize/ and digests/: %v", listing)
			}
		})
	}
}

func TestAuditQueryAcceptsABucketMadeElsewhere(t *testing.T) {
	m := run(t, func(ctx *pulumi.Context) error {
		_, err := NewAuditQuery(ctx, "query", &AuditQueryArgs{
			BucketName: pulumi.String("acme-audit"), BucketARN: pulumi.String("arn:aws:s3:::acme-audit"),
			KeyARN: pulumi.String("arn:aws:kms:eu-west-1:123456789012:key/acme"),
		})
		return err
	})
	if got := str(m.One(t, "aws:glue/catalogTable:CatalogTable", "query-table").Inputs, "storageDescriptor.location"); got != "s3://acme-audit/traces/" {
		t.Errorf("location %q", got)
	}
	if got := str(m.One(t, "aws:glue/catalogTable:CatalogTable", "query-oversize-table").Inputs, "storageDescriptor.location"); got != "s3://acme-audit/oversize/" {
		t.Errorf("oversize location %q", got)
	}
	grants := statementsByAction(pulumitest.ParsePolicy(t, pulumitest.Get(m.One(t, "aws:iam/rolePolicy:RolePolicy", "query-analyst-read").Inputs, "policy")))
	if !strings.Contains(grants["s3:GetObject"], "arn:aws:s3:::acme-audit/traces/*") || !strings.Contains(grants["kms:Decrypt"], "key/acme") {
		t.Errorf("grants %v do not name the given bucket and key", grants)
	}
}

func TestAuditQueryNamesEveryBadArgument(t *testing.T) {
	tests := []struct {
		name       string
		args       *AuditQueryArgs
		wantFields []string
	}{
		{"no args name the missing bucket", nil, []string{"Bucket: required"}},
		{"a bucket name without its ARN and key is incomplete", &AuditQueryArgs{BucketName: pulumi.String("b")}, []string{"BucketName, BucketARN, KeyARN"}},
		{"every bad value is named at once",
			&AuditQueryArgs{BucketName: pulumi.String("b"), BucketARN: pulumi.String("arn:aws:s3:::b"), KeyARN: pulumi.String("k"),
				DatabaseName: "Audit-DB", ResultExpiryDays: -1, FirstYear: 2030, LastYear: 2029, MaxScanBytesPerQuery: 1024,
				TrustedPrincipalARNs: []string{"arn:aws:iam::*:root"}},
			[]string{"DatabaseName", "ResultExpiryDays", "FirstYear, LastYear", "MaxScanBytesPerQuery", "TrustedPrincipalARNs[0]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &pulumitest.Mocks{}
			err := pulumitest.Run(m, func(ctx *pulumi.Context) error {
				_, err := NewAuditQuery(ctx, "query", tt.args)
				return err
			})
			for _, f := range tt.wantFields {
				if err == nil || !strings.Contains(err.Error(), f) {
					t.Errorf("error %v does not name %s", err, f)
				}
			}
			if n := len(m.Resources()); n != 0 {
				t.Errorf("%d resources registered before validation failed", n)
			}
		})
	}
	err := pulumitest.Run(&pulumitest.Mocks{}, func(ctx *pulumi.Context) error {
		b, err := NewAuditBucket(ctx, "audit", nil)
		if err != nil {
			return err
		}
		_, err = NewAuditQuery(ctx, "query", &AuditQueryArgs{Bucket: b, BucketName: pulumi.String("other")})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "not both") {
		t.Errorf("a bucket given twice: error %v", err)
	}
}
