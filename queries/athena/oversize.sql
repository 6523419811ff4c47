-- The Athena table over the oversize content: one row per oversize object. A span too large for one Firehose
-- record has its largest attributes moved to an object the function writes (function/audit/oversize.go): GZIP of
-- one OTLP/JSON ExportTraceServiceRequest line holding that span (same resource, scope, ids, name, times) with
-- only the moved attributes, under
--   oversize/year=YYYY/month=MM/day=DD/hour=HH/<trace id>/<span id>-<sha256>.json.gz   (UTC, the function's clock)
-- The spans view (views.sql) joins these objects back onto the spans that name them. The AuditQuery component
-- creates this very table in Glue (a test parses this file and compares it with the component's table); run it
-- by hand only without the component, after replacing AUDIT_BUCKET, next to table.sql.
--
-- Same SerDe, settings and columns as otlp_records (table.sql says why): an object is the same OTLP/JSON shape
-- as a record. Athena tells GZIP by the .gz extension. The object key is read back through "$path".
--
-- Partitions are projected onto the hour prefixes exactly as for the records. Below each hour prefix the
-- function adds one folder per trace id, which is not a partition: trace ids cannot be projected (an integer,
-- date or enum projection needs the values known in advance, and an injected one needs every query to name
-- them). The table relies on Athena reading every object under a partition's location, subfolders included.
-- Athena's documentation says it reads all data under a table's S3 prefix and, for a partition, the data
-- stored in the partition's prefix, and its CloudTrail guide points a table at AWSLogs/ to read the
-- account/region/date folders nested below; it has no sentence on subfolders of a projected partition as such,
-- so that is inferred, not verified here (the Trino Hive connector, by contrast, skips subdirectories unless
-- configured to recurse). Cost of the extra level: S3 listing of the hour prefix also walks its trace folders,
-- one more LIST request per 1,000 objects if Athena lists the prefix flat, or per trace folder if it lists
-- folder by folder (not documented which); nothing is read twice. Were subfolders ever skipped, the views would
-- still read every span, with its references but without the moved attributes (nothing fails); the remedy
-- would then be a manifest table (SymlinkTextInputFormat) listing the objects, not a new key format: the
-- function and `audit verify` depend on this one.
CREATE EXTERNAL TABLE IF NOT EXISTS otlp_oversize (
  resourcespans array<struct<
    resource: struct<
      attributes: array<struct<key: string, value: struct<
        stringvalue: string, intvalue: string, doublevalue: double, boolvalue: boolean,
        arrayvalue: struct<`values`: array<struct<stringvalue: string, intvalue: string, doublevalue: double, boolvalue: boolean>>>>>>>,
    scopespans: array<struct<
      scope: struct<name: string, version: string>,
      spans: array<struct<
        traceid: string,
        spanid: string,
        parentspanid: string,
        name: string,
        kind: int,
        starttimeunixnano: string,
        endtimeunixnano: string,
        attributes: array<struct<key: string, value: struct<
          stringvalue: string, intvalue: string, doublevalue: double, boolvalue: boolean,
          arrayvalue: struct<`values`: array<struct<stringvalue: string, intvalue: string, doublevalue: double, boolvalue: boolean>>>>>>,
        events: array<struct<
          timeunixnano: string,
          name: string,
          attributes: array<struct<key: string, value: struct<
            stringvalue: string, intvalue: string, doublevalue: double, boolvalue: boolean,
            arrayvalue: struct<`values`: array<struct<stringvalue: string, intvalue: string, doublevalue: double, boolvalue: boolean>>>>>>>>,
        status: struct<message: string, code: int>>>>>>>
)
PARTITIONED BY (year int, month int, day int, hour int)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES (
  'case.insensitive' = 'TRUE',
  'ignore.malformed.json' = 'FALSE'
)
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://AUDIT_BUCKET/oversize/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.year.type' = 'integer',
  'projection.year.range' = '2025,2035',
  'projection.month.type' = 'integer',
  'projection.month.range' = '1,12',
  'projection.month.digits' = '2',
  'projection.day.type' = 'integer',
  'projection.day.range' = '1,31',
  'projection.day.digits' = '2',
  'projection.hour.type' = 'integer',
  'projection.hour.range' = '0,23',
  'projection.hour.digits' = '2',
  'storage.location.template' = 's3://AUDIT_BUCKET/oversize/year=${year}/month=${month}/day=${day}/hour=${hour}'
);
