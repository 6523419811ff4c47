package components

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/athena"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/glue"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	athenasql "github.com/agent-audit/agent-audit/queries/athena"
	"github.com/agent-audit/agent-audit/trail/digest"
)

// AuditQuery defaults.
const (
	// DefaultResultExpiryDays is how long query results stay in the results bucket, in days.
	DefaultResultExpiryDays = 7
	// DefaultMaxScanBytesPerQuery cancels a query once it has scanned this many bytes (10 GiB, about $0.05 at
	// Athena's $5 per TB): a cost guard against an unfiltered scan of years of records.
	DefaultMaxScanBytesPerQuery = 10 << 30
	// MinScanBytesPerQuery is the smallest per-query cutoff Athena accepts (10 MiB).
	MinScanBytesPerQuery = 10 << 20
	// AthenaEngineVersion is the engine the workgroup pins; views.sql is Trino SQL.
	AthenaEngineVersion = "Athena engine version 3"
	// analystSessionSeconds is the analyst role's maximum session, in seconds.
	analystSessionSeconds = 3600
)

// glueNamePattern is what Athena accepts unquoted as a database name.
var glueNamePattern = regexp.MustCompile(`^[a-z0-9_]{1,255}$`)

// AuditQueryArgs configures an AuditQuery. Give either Bucket or all of BucketName, BucketARN and KeyARN.
type AuditQueryArgs struct {
	// Bucket is the audit store to query.
	Bucket *AuditBucket
	// BucketName, BucketARN and KeyARN name an audit store made elsewhere (its bucket and its SSE-KMS key).
	BucketName, BucketARN, KeyARN pulumi.StringInput
	// DatabaseName is the Glue database; empty derives it from the component name (dashes become
	// underscores, as Athena wants lowercase letters, digits and underscores).
	DatabaseName string
	// ResultExpiryDays is how long query results are kept, in days (1–3650; default 7).
	ResultExpiryDays int
	// FirstYear and LastYear bound the projected year partitions, inclusive (default 2025–2035; at most 100
	// years). Records of other years are not read.
	FirstYear, LastYear int
	// MaxScanBytesPerQuery cancels a query that scans more, in bytes (at least 10 MiB; default 10 GiB).
	MaxScanBytesPerQuery int
	// TrustedPrincipalARNs may assume the analyst role; empty trusts the account (its IAM policies then decide
	// who).
	TrustedPrincipalARNs []string
}

// AuditQuery is Athena over the audit store: a Glue database and two tables with partition projection, over
// the bucket's traces/ prefix and over its oversize/ prefix, the views of queries/athena/views.sql as named queries, an Athena workgroup with its
// own SSE-KMS results bucket whose results expire, and a read-only analyst role.
//
// The views ship as named queries, not as Glue views: a Glue view Athena can read is a VIRTUAL_VIEW whose text
// is a base64 "Presto View" blob with every output column's Trino type spelled out by hand, an undocumented
// format that fails as "stale" on any mismatch. Run the named queries once (as the deployer: creating a view
// needs glue:CreateTable, which the analyst role deliberately lacks).
type AuditQuery struct {
	pulumi.ResourceState

	// WorkgroupName is the Athena workgroup to run queries in; DatabaseName and TableName the Glue database
	// and its table over the records; OversizeTableName its table over the oversize content the spans view
	// joins back.
	WorkgroupName     pulumi.StringOutput
	DatabaseName      pulumi.StringOutput
	TableName         pulumi.StringOutput
	OversizeTableName pulumi.StringOutput
	// ResultsBucketName and ResultsKeyARN hold and encrypt query results.
	ResultsBucketName pulumi.StringOutput
	ResultsKeyARN     pulumi.StringOutput
	// AnalystRoleARN is the read-only role an analyst assumes to query.
	AnalystRoleARN pulumi.StringOutput
}

func (a *AuditQueryArgs) withDefaults(name string) (AuditQueryArgs, error) {
	out := AuditQueryArgs{}
	if a != nil {
		out = *a
	}
	if out.DatabaseName == "" {
		out.DatabaseName = strings.ToLower(strings.ReplaceAll(name, "-", "_"))
	}
	if out.ResultExpiryDays == 0 {
		out.ResultExpiryDays = DefaultResultExpiryDays
	}
	if out.FirstYear == 0 {
		out.FirstYear = athenasql.DefaultFirstYear
	}
	if out.LastYear == 0 {
		out.LastYear = athenasql.DefaultLastYear
	}
	if out.MaxScanBytesPerQuery == 0 {
		out.MaxScanBytesPerQuery = DefaultMaxScanBytesPerQuery
	}
	var errs []error
	named := out.BucketName != nil || out.BucketARN != nil || out.KeyARN != nil
	switch {
	case out.Bucket != nil && named:
		errs = append(errs, errors.New("Bucket: give either Bucket or BucketName, BucketARN and KeyARN, not both"))
	case out.Bucket == nil && !named:
		errs = append(errs, errors.New("Bucket: required (or BucketName, BucketARN and KeyARN)"))
	case out.Bucket == nil && (out.BucketName == nil || out.BucketARN == nil || out.KeyARN == nil):
		errs = append(errs, errors.New("BucketName, BucketARN, KeyARN: all three are required without Bucket"))
	}
	if !glueNamePattern.MatchString(out.DatabaseName) {
		errs = append(errs, fmt.Errorf("DatabaseName: %q is not lowercase letters, digits and underscores", out.DatabaseName))
	}
	if out.ResultExpiryDays < 1 || out.ResultExpiryDays > 3650 {
		errs = append(errs, fmt.Errorf("ResultExpiryDays: %d is outside 1..3650", out.ResultExpiryDays))
	}
	if out.FirstYear < 1970 || out.LastYear < out.FirstYear || out.LastYear-out.FirstYear >= 100 {
		errs = append(errs, fmt.Errorf("FirstYear, LastYear: %d..%d is not a range of 1 to 100 years from 1970 on", out.FirstYear, out.LastYear))
	}
	if out.MaxScanBytesPerQuery < MinScanBytesPerQuery {
		errs = append(errs, fmt.Errorf("MaxScanBytesPerQuery: %d is below Athena's minimum of %d bytes", out.MaxScanBytesPerQuery, MinScanBytesPerQuery))
	}
	for i, p := range out.TrustedPrincipalARNs {
		if !strings.HasPrefix(p, "arn:") || strings.Contains(p, "*") {
			errs = append(errs, fmt.Errorf("TrustedPrincipalARNs[%d]: %q is not a principal ARN without wildcards", i, p))
		}
	}
	if out.Bucket != nil {
		out.BucketName, out.BucketARN, out.KeyARN = out.Bucket.BucketName, out.Bucket.BucketARN, out.Bucket.KeyARN
	}
	return out, errors.Join(errs...)
}

// NewAuditQuery creates the catalog, the workgroup, its results bucket and key, the named view queries and the
// analyst role. It returns one error naming every bad argument.
func NewAuditQuery(ctx *pulumi.Context, name string, args *AuditQueryArgs, opts ...pulumi.ResourceOption) (*AuditQuery, error) {
	cfg, err := args.withDefaults(name)
	if err != nil {
		return nil, fmt.Errorf("audit query %s: %w", name, err)
	}
	c := &AuditQuery{}
	if err := ctx.RegisterComponentResource(typeToken("AuditQuery"), name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	env, err := lookupAWSEnv(ctx, parent)
	if err != nil {
		return nil, err
	}

	database, err := glue.NewCatalogDatabase(ctx, name+"-database", &glue.CatalogDatabaseArgs{
		Name:        pulumi.String(cfg.DatabaseName),
		Description: pulumi.String("agent-audit records (OTLP/JSON) and the views over them."),
	}, parent)
	if err != nil {
		return nil, err
	}
	table, err := glue.NewCatalogTable(ctx, name+"-table", recordsTableArgs(cfg, database), parent)
	if err != nil {
		return nil, err
	}
	oversizeTable, err := glue.NewCatalogTable(ctx, name+"-oversize-table", oversizeTableArgs(cfg, database), parent)
	if err != nil {
		return nil, err
	}

	results, resultsKey, err := newResultsStore(ctx, name, cfg.ResultExpiryDays, env, parent)
	if err != nil {
		return nil, err
	}
	workgroup, err := athena.NewWorkgroup(ctx, name, &athena.WorkgroupArgs{
		Name:        pulumi.String(name),
		Description: pulumi.String("Queries over the agent-audit trail; results encrypted and expiring."),
		// Named queries and query history go with the workgroup on destroy; the results bucket is separate.
		ForceDestroy: pulumi.Bool(true),
		Configuration: &athena.WorkgroupConfigurationArgs{
			EnforceWorkgroupConfiguration:   pulumi.Bool(true),
			PublishCloudwatchMetricsEnabled: pulumi.Bool(true),
			BytesScannedCutoffPerQuery:      pulumi.Int(cfg.MaxScanBytesPerQuery),
			EngineVersion:                   &athena.WorkgroupConfigurationEngineVersionArgs{SelectedEngineVersion: pulumi.String(AthenaEngineVersion)},
			ResultConfiguration: &athena.WorkgroupConfigurationResultConfigurationArgs{
				OutputLocation: pulumi.Sprintf("s3://%s/", results.Bucket),
				EncryptionConfiguration: &athena.WorkgroupConfigurationResultConfigurationEncryptionConfigurationArgs{
					EncryptionOption: pulumi.String("SSE_KMS"),
					KmsKeyArn:        resultsKey.Arn,
				},
				// No ACL option: the bucket is the account's own, and an ACL on results would need s3:PutObjectAcl.
			},
		},
	}, parent)
	if err != nil {
		return nil, err
	}
	for i, v := range athenasql.Views() {
		if _, err := athena.NewNamedQuery(ctx, name+"-view-"+strings.ReplaceAll(v.Name, "_", "-"), &athena.NamedQueryArgs{
			// Numbered: the console lists named queries by name, and each view reads the ones before it.
			Name:        pulumi.Sprintf("%d create view %s", i+1, v.Name),
			Description: pulumi.String(truncate(v.Comment, namedQueryDescriptionMax)),
			Database:    database.Name,
			Workgroup:   workgroup.Name,
			Query:       pulumi.String(v.SQL),
		}, parent, pulumi.DependsOn([]pulumi.Resource{table, oversizeTable})); err != nil {
			return nil, err
		}
	}

	scope := analystScope{env: env, database: cfg.DatabaseName, workgroup: name}
	role, err := newAnalystRole(ctx, name, cfg, scope, results, resultsKey, parent)
	if err != nil {
		return nil, err
	}

	c.WorkgroupName, c.DatabaseName, c.TableName, c.OversizeTableName = workgroup.Name, database.Name, table.Name, oversizeTable.Name
	c.ResultsBucketName, c.ResultsKeyARN, c.AnalystRoleARN = results.Bucket, resultsKey.Arn, role.Arn
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"workgroupName": c.WorkgroupName, "databaseName": c.DatabaseName, "tableName": c.TableName, "oversizeTableName": c.OversizeTableName,
		"resultsBucketName": c.ResultsBucketName, "resultsKeyArn": c.ResultsKeyARN, "analystRoleArn": c.AnalystRoleARN,
	})
}

// namedQueryDescriptionMax is Athena's limit on a named query's description, in characters.
const namedQueryDescriptionMax = 1024

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// recordsTableArgs is the Glue table of queries/athena/table.sql over the audit bucket's traces/ prefix.
func recordsTableArgs(cfg AuditQueryArgs, database *glue.CatalogDatabase) *glue.CatalogTableArgs {
	return tableArgs(cfg, database, athenasql.TableName,
		"One row per OTLP/JSON record of the audit trail (queries/athena/table.sql).",
		athenasql.Location, athenasql.ProjectionParameters)
}

// oversizeTableArgs is the Glue table of queries/athena/oversize.sql over the audit bucket's oversize/ prefix.
func oversizeTableArgs(cfg AuditQueryArgs, database *glue.CatalogDatabase) *glue.CatalogTableArgs {
	return tableArgs(cfg, database, athenasql.OversizeTableName,
		"One row per oversize object: a span's attributes too large for its record (queries/athena/oversize.sql).",
		athenasql.OversizeLocation, athenasql.OversizeProjectionParameters)
}

// tableArgs is a Glue table of OTLP/JSON lines (athenasql.Columns, the OpenX SerDe) at location(bucket), its
// year/month/day/hour partitions projected by projection(bucket, FirstYear, LastYear).
func tableArgs(cfg AuditQueryArgs, database *glue.CatalogDatabase, name, description string,
	location func(bucket string) string, projection func(bucket string, firstYear, lastYear int) map[string]string) *glue.CatalogTableArgs {
	var columns glue.CatalogTableStorageDescriptorColumnArray
	for _, col := range athenasql.Columns() {
		columns = append(columns, &glue.CatalogTableStorageDescriptorColumnArgs{Name: pulumi.String(col.Name), Type: pulumi.String(col.Type)})
	}
	var keys glue.CatalogTablePartitionKeyArray
	for _, col := range athenasql.PartitionKeys() {
		keys = append(keys, &glue.CatalogTablePartitionKeyArgs{Name: pulumi.String(col.Name), Type: pulumi.String(col.Type)})
	}
	first, last := cfg.FirstYear, cfg.LastYear
	parameters := cfg.BucketName.ToStringOutput().ApplyT(func(bucket string) map[string]string {
		p := projection(bucket, first, last)
		p["EXTERNAL"] = "TRUE"
		return p
	}).(pulumi.StringMapOutput)
	return &glue.CatalogTableArgs{
		Name:          pulumi.String(name),
		DatabaseName:  database.Name,
		Description:   pulumi.String(description),
		TableType:     pulumi.String("EXTERNAL_TABLE"),
		Parameters:    parameters,
		PartitionKeys: keys,
		StorageDescriptor: &glue.CatalogTableStorageDescriptorArgs{
			Location:     cfg.BucketName.ToStringOutput().ApplyT(location).(pulumi.StringOutput),
			InputFormat:  pulumi.String(athenasql.InputFormat),
			OutputFormat: pulumi.String(athenasql.OutputFormat),
			Columns:      columns,
			SerDeInfo: &glue.CatalogTableStorageDescriptorSerDeInfoArgs{
				SerializationLibrary: pulumi.String(athenasql.SerDeLibrary),
				Parameters:           pulumi.ToStringMap(athenasql.SerDeParameters()),
			},
		},
	}
}

// newResultsStore creates the results bucket (public access blocked, TLS only, SSE-KMS with its own key,
// results and unfinished uploads expiring). Results are copies of audit content, so they get a key of their
// own: the analyst may encrypt with it, never with the audit key.
func newResultsStore(ctx *pulumi.Context, name string, expiryDays int, env awsEnv, parent pulumi.ResourceOption) (*s3.BucketV2, *kms.Key, error) {
	key, err := kms.NewKey(ctx, name+"-results-key", &kms.KeyArgs{
		Description:          pulumi.Sprintf("Encrypts the %s Athena query results.", name),
		EnableKeyRotation:    pulumi.Bool(true),
		DeletionWindowInDays: pulumi.Int(DefaultKeyDeletionWindowDays),
		Policy:               pulumi.String(mustJSON(AccountKeyPolicy(env.partition, env.account))),
	}, parent)
	if err != nil {
		return nil, nil, err
	}
	// Results are disposable: destroy may empty the bucket.
	bucket, err := s3.NewBucketV2(ctx, name+"-results", &s3.BucketV2Args{ForceDestroy: pulumi.Bool(true)}, parent)
	if err != nil {
		return nil, nil, err
	}
	if err := blockPublicAndEncrypt(ctx, name+"-results", bucket, key.Arn, parent); err != nil {
		return nil, nil, err
	}
	if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, name+"-results-lifecycle", &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketLifecycleConfigurationV2RuleArray{&s3.BucketLifecycleConfigurationV2RuleArgs{
			Id:                             pulumi.String("expire-query-results"),
			Status:                         pulumi.String("Enabled"),
			Filter:                         &s3.BucketLifecycleConfigurationV2RuleFilterArgs{},
			Expiration:                     &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(expiryDays)},
			AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{DaysAfterInitiation: pulumi.Int(1)},
		}},
	}, parent); err != nil {
		return nil, nil, err
	}
	policy := PolicyJSON(func(v []string) PolicyDocument { return denyInsecureTransport(v[0]) }, bucket.Arn)
	if _, err := s3.NewBucketPolicy(ctx, name+"-results-tls-only", &s3.BucketPolicyArgs{Bucket: bucket.ID(), Policy: policy}, parent); err != nil {
		return nil, nil, err
	}
	return bucket, key, nil
}

// newAnalystRole creates the analyst role and its read-only policy.
func newAnalystRole(ctx *pulumi.Context, name string, cfg AuditQueryArgs, scope analystScope, results *s3.BucketV2, resultsKey *kms.Key, parent pulumi.ResourceOption) (*iam.Role, error) {
	principals := cfg.TrustedPrincipalARNs
	if len(principals) == 0 {
		principals = []string{fmt.Sprintf("arn:%s:iam::%s:root", scope.env.partition, scope.env.account)}
	}
	trust := PolicyDocument{Statement: []PolicyStatement{{
		Effect: "Allow", Principal: map[string][]string{"AWS": principals}, Action: []string{"sts:AssumeRole"},
	}}}
	role, err := iam.NewRole(ctx, name+"-analyst", &iam.RoleArgs{
		Description:        pulumi.String("Reads the agent-audit trail through Athena; no write, no delete."),
		AssumeRolePolicy:   pulumi.String(mustJSON(trust)),
		MaxSessionDuration: pulumi.Int(analystSessionSeconds),
	}, parent)
	if err != nil {
		return nil, err
	}
	policy := PolicyJSON(func(v []string) PolicyDocument {
		s := scope
		s.auditBucketARN, s.auditKeyARN, s.resultsBucketARN, s.resultsKeyARN = v[0], v[1], v[2], v[3]
		return analystPolicy(s)
	}, cfg.BucketARN, cfg.KeyARN, results.Arn, resultsKey.Arn)
	if _, err := iam.NewRolePolicy(ctx, name+"-analyst-read", &iam.RolePolicyArgs{Role: role.ID(), Policy: policy}, parent); err != nil {
		return nil, err
	}
	return role, nil
}

// analystScope is everything the analyst policy names.
type analystScope struct {
	env                             awsEnv
	database, workgroup             string
	auditBucketARN, auditKeyARN     string
	resultsBucketARN, resultsKeyARN string
}

// analystPolicy reads the audit trail and nothing else: objects under traces/, oversize/ and digests/ of the audit bucket,
// their versions and retention (decrypted through S3 only), the one Glue database, its two tables and views, queries in the one workgroup, and read/write
// of query results in the results bucket under the results key. Nothing writes, deletes or re-encrypts audit
// data, and no statement names a resource outside this stack.
func analystPolicy(s analystScope) PolicyDocument {
	e := s.env
	glueARN := func(kind string) string {
		return fmt.Sprintf("arn:%s:glue:%s:%s:%s", e.partition, e.region, e.account, kind)
	}
	tables := []string{glueARN("catalog"), glueARN("database/" + s.database), glueARN("table/" + s.database + "/" + athenasql.TableName),
		glueARN("table/" + s.database + "/" + athenasql.OversizeTableName)}
	for _, v := range athenasql.Views() {
		tables = append(tables, glueARN("table/"+s.database+"/"+v.Name))
	}
	athenaARN := func(kind string) string {
		return fmt.Sprintf("arn:%s:athena:%s:%s:%s", e.partition, e.region, e.account, kind)
	}
	viaS3 := map[string]map[string]any{"StringEquals": {"kms:ViaService": "s3." + e.region + "." + e.dnsSuffix}}
	auditObjects := []string{s.auditBucketARN + "/" + athenasql.TracesPrefix + "*", s.auditBucketARN + "/" + OversizePrefix + "*",
		s.auditBucketARN + "/" + digest.Prefix + "*"}
	auditPrefixes := []string{athenasql.TracesPrefix, athenasql.TracesPrefix + "*", OversizePrefix, OversizePrefix + "*", digest.Prefix, digest.Prefix + "*"}
	return PolicyDocument{Statement: []PolicyStatement{
		// Records, the oversize content they reference and the digests that list them, every version and its
		// Object Lock retention: what the views read and what `audit verify` checks.
		{Sid: "ReadAuditRecords", Effect: "Allow", Action: []string{"s3:GetObject", "s3:GetObjectRetention", "s3:GetObjectVersion"},
			Resource: auditObjects},
		{Sid: "ListAuditRecords", Effect: "Allow", Action: []string{"s3:ListBucket", "s3:ListBucketVersions"}, Resource: []string{s.auditBucketARN},
			Condition: map[string]map[string]any{"StringLike": {"s3:prefix": auditPrefixes}}},
		{Sid: "LocateAuditBucket", Effect: "Allow", Action: []string{"s3:GetBucketLocation"}, Resource: []string{s.auditBucketARN}},
		{Sid: "DecryptAuditRecords", Effect: "Allow", Action: []string{"kms:Decrypt"}, Resource: []string{s.auditKeyARN}, Condition: viaS3},
		{Sid: "ReadCatalog", Effect: "Allow", Resource: tables,
			Action: []string{"glue:BatchGetPartition", "glue:GetCatalog", "glue:GetDatabase", "glue:GetPartition", "glue:GetPartitions", "glue:GetTable"}},
		{Sid: "RunQueries", Effect: "Allow", Resource: []string{athenaARN("workgroup/" + s.workgroup)}, Action: []string{
			"athena:BatchGetNamedQuery", "athena:BatchGetQueryExecution", "athena:GetNamedQuery", "athena:GetQueryExecution",
			"athena:GetQueryResults", "athena:GetQueryResultsStream", "athena:GetWorkGroup", "athena:ListNamedQueries",
			"athena:ListQueryExecutions", "athena:StartQueryExecution", "athena:StopQueryExecution",
		}},
		{Sid: "BrowseCatalog", Effect: "Allow", Resource: []string{athenaARN("datacatalog/AwsDataCatalog")},
			Action: []string{"athena:GetDataCatalog", "athena:GetDatabase", "athena:GetTableMetadata"}},
		{Sid: "ReadWriteResults", Effect: "Allow", Resource: []string{s.resultsBucketARN + "/*"},
			Action: []string{"s3:AbortMultipartUpload", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:PutObject"}},
		{Sid: "ListResults", Effect: "Allow", Resource: []string{s.resultsBucketARN},
			Action: []string{"s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"}},
		{Sid: "EncryptResults", Effect: "Allow", Resource: []string{s.resultsKeyARN}, Condition: viaS3,
			Action: []string{"kms:Decrypt", "kms:GenerateDataKey"}},
	}}
}

// awsEnv is the deploying account, partition, its DNS suffix and the region.
type awsEnv struct{ account, partition, dnsSuffix, region string }

// lookupAWSEnv looks up the deploying account, partition and region.
func lookupAWSEnv(ctx *pulumi.Context, parent pulumi.ResourceOrInvokeOption) (awsEnv, error) {
	id, err := aws.GetCallerIdentity(ctx, nil, parent)
	if err != nil {
		return awsEnv{}, fmt.Errorf("look up the AWS account: %w", err)
	}
	p, err := aws.GetPartition(ctx, nil, parent)
	if err != nil {
		return awsEnv{}, fmt.Errorf("look up the AWS partition: %w", err)
	}
	r, err := aws.GetRegion(ctx, nil, parent)
	if err != nil {
		return awsEnv{}, fmt.Errorf("look up the AWS region: %w", err)
	}
	return awsEnv{account: id.AccountId, partition: p.Partition, dnsSuffix: p.DnsSuffix, region: r.Name}, nil
}
