-- The Athena table over the audit trail: one row per OTLP/JSON record (one ExportTraceServiceRequest per line,
-- GZIP, Firehose layout traces/year=YYYY/month=MM/day=DD/hour=HH/). The AuditQuery component creates this very
-- table in Glue (a test parses this file and compares it with the component's table); run it by hand only
-- without the component, after replacing AUDIT_BUCKET, in the database of your choice.
--
-- SerDe: the OpenX JSON SerDe, because it maps the nested OTLP shape (arrays of structs of structs) onto Hive
-- types, matches keys case-insensitively (OTLP/JSON keys are camelCase; Glue stores every name in lowercase)
-- and ignores keys the table does not declare (flags, dropped counts, links), so new OTLP fields never break a
-- query. Malformed lines fail the query rather than read as empty rows: a silent gap in an audit trail is worse
-- than a loud error (Firehose writes records it could not deliver under errors/, not under traces/).
--
-- Types: 64-bit integers are decimal strings in OTLP/JSON (timestamps, intValue), so they are strings here and
-- the views cast them. `values` is a reserved word in DDL, hence the backticks.
--
-- Partitions are projected, never stored: Athena computes the hour prefixes a query's WHERE on year, month,
-- day and hour allows, so there is no MSCK REPAIR and no crawler, and a query that names an hour lists one
-- prefix. The year range bounds what an unfiltered query enumerates; widen it with the component's args.
CREATE EXTERNAL TABLE IF NOT EXISTS otlp_records (
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
LOCATION 's3://AUDIT_BUCKET/traces/'
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
  'storage.location.template' = 's3://AUDIT_BUCKET/traces/year=${year}/month=${month}/day=${day}/hour=${hour}'
);
