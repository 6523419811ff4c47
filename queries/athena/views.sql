-- Athena (Trino) views over otlp_records (table.sql) and otlp_oversize (oversize.sql): spans, traces (one row
-- per chat span), runs (one per agent run) and tool_calls, with the same names and columns as the DuckDB views
-- in ../traces.sql, so a query written on a laptop runs unchanged in Athena. Each statement runs on its own
-- (Athena runs one statement per query); the AuditQuery component ships each as a named query in the workgroup.
-- Re-running them is idempotent.
--
-- UNNEST of an array of structs yields one column per struct field, so the aliases below list every field in
-- the table's order. Attribute lookups filter the key/value list; element_at returns NULL for a missing key
-- where a [1] subscript would fail the query.

-- Every span once, whole. Firehose may store a record twice (a lost acknowledgement); a split trace spreads its
-- spans over several records; a late span arrives in a follow-up record. One row per (trace, span) makes all
-- three read as the one trace they are. The partition columns lead the window's key so that a WHERE on them is
-- pushed through the window to partition projection: a query on one day lists one day's prefixes. A span whose
-- content was too large for its record gets the moved attributes back from the oversize object it names
-- (otlp_oversize, oversize.sql), appended to its own; it keeps its agent_audit.oversize.* references, so a reader
-- can still tell. The LEFT JOIN leaves every other span as it is, and an empty oversize/ prefix reads as no
-- objects.
--
-- The join matches the span's agent_audit.oversize.key with the object's key (its "$path" without
-- s3://<bucket>/) and, so that the oversize side is pruned too, the object's year/month/day partition with the
-- record's: Trino infers the oversize partitions from the records' WHERE through these equalities, so a day's
-- query lists that day's 24 oversize hour prefixes. Without them every query would list every projected
-- oversize hour (about 8,800 a year of the projection range, most of them empty). The price: the object's day
-- is the function's UTC clock when it wrote it, the record's day Firehose's arrival time of the oldest record in
-- its object, so a span exported within about one Firehose buffer interval (60 s by default) of midnight UTC can
-- land on the other side of it; that span reads with its references but without the moved attributes (`audit
-- show` and docs/athena.md's query resolve it by key). The inference is Trino's optimizer, not verified on
-- Athena here.
CREATE OR REPLACE VIEW spans AS
WITH flat AS (
    SELECT "$path" AS source_file, year, month, day, hour, resource.attributes AS resource, scope.name AS scope,
        traceid, spanid, parentspanid, name, kind, starttimeunixnano, endtimeunixnano, attributes, events, status
    FROM otlp_records
    CROSS JOIN UNNEST(resourcespans) AS rs (resource, scopespans)
    CROSS JOIN UNNEST(scopespans) AS ss (scope, spans)
    CROSS JOIN UNNEST(spans) AS s (traceid, spanid, parentspanid, name, kind, starttimeunixnano, endtimeunixnano, attributes, events, status)
), oversize AS (
    SELECT regexp_extract("$path", '^s3://[^/]+/(.+)$', 1) AS key, year, month, day, attributes
    FROM otlp_oversize
    CROSS JOIN UNNEST(resourcespans) AS rs (resource, scopespans)
    CROSS JOIN UNNEST(scopespans) AS ss (scope, spans)
    CROSS JOIN UNNEST(spans) AS s (traceid, spanid, parentspanid, name, kind, starttimeunixnano, endtimeunixnano, attributes, events, status)
), resolved AS (
    SELECT f.source_file, f.year, f.month, f.day, f.hour, f.resource, f.scope, f.traceid, f.spanid, f.parentspanid,
        f.name, f.kind, f.starttimeunixnano, f.endtimeunixnano,
        CASE WHEN o.key IS NULL THEN f.attributes ELSE concat(f.attributes, o.attributes) END AS attributes,
        f.events, f.status
    FROM flat f
    LEFT JOIN oversize o
        ON o.key = element_at(filter(f.attributes, a -> a.key = 'agent_audit.oversize.key'), 1).value.stringvalue
        AND o.year = f.year AND o.month = f.month AND o.day = f.day
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY year, month, day, hour, traceid, spanid ORDER BY source_file) AS copy_no
    FROM resolved
)
SELECT
    traceid AS trace,
    spanid AS span_id,
    nullif(parentspanid, '') AS parent_span_id,
    name AS name,
    kind AS kind,
    CAST(from_unixtime_nanos(CAST(starttimeunixnano AS bigint)) AT TIME ZONE 'UTC' AS timestamp(6)) AS started,
    CAST(from_unixtime_nanos(CAST(endtimeunixnano AS bigint)) AT TIME ZONE 'UTC' AS timestamp(6)) AS ended,
    (CAST(endtimeunixnano AS bigint) - CAST(starttimeunixnano AS bigint)) / 1e6 AS dur_ms,
    CASE coalesce(status.code, 0) WHEN 2 THEN 'ERROR' WHEN 1 THEN 'OK' ELSE 'UNSET' END AS status,
    nullif(status.message, '') AS status_message,
    element_at(filter(attributes, a -> a.key = 'gen_ai.operation.name'), 1).value.stringvalue AS operation,
    element_at(filter(attributes, a -> a.key = 'error.type'), 1).value.stringvalue AS error_type,
    attributes AS attributes,
    events AS events,
    resource AS resource,
    scope AS scope,
    element_at(filter(resource, a -> a.key = 'agent_audit.record.batch_key'), 1).value.stringvalue AS batch_key,
    TRY_CAST(element_at(filter(resource, a -> a.key = 'agent_audit.record.part'), 1).value.intvalue AS bigint) AS part,
    TRY_CAST(element_at(filter(resource, a -> a.key = 'agent_audit.record.parts'), 1).value.intvalue AS bigint) AS parts,
    coalesce(element_at(filter(resource, a -> a.key = 'agent_audit.record.followup'), 1).value.boolvalue, false) AS followup,
    source_file, year, month, day, hour
FROM ranked
WHERE copy_no = 1;

-- One row per model call: the seed's columns, on current GenAI attribute names. The message columns are the
-- text parts of the GenAI message JSON, joined by newlines; NULL when content capture was off.
CREATE OR REPLACE VIEW traces AS
SELECT
    started,
    trace,
    coalesce(element_at(filter(attributes, a -> a.key = 'gen_ai.response.model'), 1).value.stringvalue,
        element_at(filter(attributes, a -> a.key = 'gen_ai.request.model'), 1).value.stringvalue) AS model,
    dur_ms,
    TRY_CAST(element_at(filter(attributes, a -> a.key = 'gen_ai.usage.input_tokens'), 1).value.intvalue AS bigint) AS in_tokens,
    TRY_CAST(element_at(filter(attributes, a -> a.key = 'gen_ai.usage.output_tokens'), 1).value.intvalue AS bigint) AS out_tokens,
    element_at(element_at(filter(attributes, a -> a.key = 'gen_ai.response.finish_reasons'), 1).value.arrayvalue."values", 1).stringvalue AS finish,
    element_at(filter(attributes, a -> a.key = 'gen_ai.conversation.id'), 1).value.stringvalue AS conversation_id,
    nullif(array_join(transform(
        coalesce(TRY_CAST(json_parse(element_at(filter(attributes, a -> a.key = 'gen_ai.system_instructions'), 1).value.stringvalue) AS array(json)), CAST(ARRAY[] AS array(json))),
        p -> json_extract_scalar(p, '$.content')), chr(10)), '') AS system_prompt,
    nullif(array_join(flatten(transform(
        filter(coalesce(TRY_CAST(json_parse(element_at(filter(attributes, a -> a.key = 'gen_ai.input.messages'), 1).value.stringvalue) AS array(json)), CAST(ARRAY[] AS array(json))),
            m -> json_extract_scalar(m, '$.role') = 'user'),
        m -> transform(
            filter(coalesce(TRY_CAST(json_extract(m, '$.parts') AS array(json)), CAST(ARRAY[] AS array(json))), p -> json_extract_scalar(p, '$.type') = 'text'),
            p -> json_extract_scalar(p, '$.content')))), chr(10)), '') AS user_prompt,
    nullif(array_join(flatten(transform(
        filter(coalesce(TRY_CAST(json_parse(element_at(filter(attributes, a -> a.key = 'gen_ai.output.messages'), 1).value.stringvalue) AS array(json)), CAST(ARRAY[] AS array(json))),
            m -> json_extract_scalar(m, '$.role') = 'assistant'),
        m -> transform(
            filter(coalesce(TRY_CAST(json_extract(m, '$.parts') AS array(json)), CAST(ARRAY[] AS array(json))), p -> json_extract_scalar(p, '$.type') = 'text'),
            p -> json_extract_scalar(p, '$.content')))), chr(10)), '') AS assistant_response,
    element_at(filter(attributes, a -> a.key = 'gen_ai.input.messages'), 1).value.stringvalue AS input_messages,
    element_at(filter(attributes, a -> a.key = 'gen_ai.output.messages'), 1).value.stringvalue AS output_messages,
    -- OK unless ERROR: the trail stores UNSET for success (see ../traces.sql, run_status).
    CASE status WHEN 'ERROR' THEN 'ERROR' ELSE 'OK' END AS status,
    error_type,
    span_id,
    batch_key,
    source_file, year, month, day, hour
FROM spans
WHERE operation = 'chat';

-- One row per agent run (its invoke_agent root), with the run's totals as the agent recorded them on the root:
-- usage from agent_audit.usage.* (only chat spans carry gen_ai.usage.*, so nothing is counted twice), turns and
-- tool calls from agent_audit.run.*.
CREATE OR REPLACE VIEW runs AS
SELECT
    started,
    trace,
    element_at(filter(attributes, a -> a.key = 'gen_ai.agent.name'), 1).value.stringvalue AS agent,
    element_at(filter(attributes, a -> a.key = 'gen_ai.request.model'), 1).value.stringvalue AS model,
    dur_ms,
    TRY_CAST(element_at(filter(attributes, a -> a.key = 'agent_audit.usage.input_tokens'), 1).value.intvalue AS bigint) AS in_tokens,
    TRY_CAST(element_at(filter(attributes, a -> a.key = 'agent_audit.usage.output_tokens'), 1).value.intvalue AS bigint) AS out_tokens,
    TRY_CAST(element_at(filter(attributes, a -> a.key = 'agent_audit.run.turns'), 1).value.intvalue AS bigint) AS turns,
    TRY_CAST(element_at(filter(attributes, a -> a.key = 'agent_audit.run.tool_calls'), 1).value.intvalue AS bigint) AS tool_calls,
    -- OK unless ERROR: the trail stores UNSET for success (see ../traces.sql, run_status).
    CASE status WHEN 'ERROR' THEN 'ERROR' ELSE 'OK' END AS status,
    error_type,
    status_message,
    element_at(filter(attributes, a -> a.key = 'gen_ai.conversation.id'), 1).value.stringvalue AS conversation_id,
    nullif(array_join(flatten(transform(
        filter(coalesce(TRY_CAST(json_parse(element_at(filter(attributes, a -> a.key = 'gen_ai.input.messages'), 1).value.stringvalue) AS array(json)), CAST(ARRAY[] AS array(json))),
            m -> json_extract_scalar(m, '$.role') = 'user'),
        m -> transform(
            filter(coalesce(TRY_CAST(json_extract(m, '$.parts') AS array(json)), CAST(ARRAY[] AS array(json))), p -> json_extract_scalar(p, '$.type') = 'text'),
            p -> json_extract_scalar(p, '$.content')))), chr(10)), '') AS user_prompt,
    nullif(array_join(flatten(transform(
        filter(coalesce(TRY_CAST(json_parse(element_at(filter(attributes, a -> a.key = 'gen_ai.output.messages'), 1).value.stringvalue) AS array(json)), CAST(ARRAY[] AS array(json))),
            m -> json_extract_scalar(m, '$.role') = 'assistant'),
        m -> transform(
            filter(coalesce(TRY_CAST(json_extract(m, '$.parts') AS array(json)), CAST(ARRAY[] AS array(json))), p -> json_extract_scalar(p, '$.type') = 'text'),
            p -> json_extract_scalar(p, '$.content')))), chr(10)), '') AS output,
    span_id,
    source_file, year, month, day, hour
FROM spans
WHERE operation = 'invoke_agent';

-- One row per tool call.
CREATE OR REPLACE VIEW tool_calls AS
SELECT
    started,
    trace,
    element_at(filter(attributes, a -> a.key = 'gen_ai.tool.name'), 1).value.stringvalue AS tool,
    element_at(filter(attributes, a -> a.key = 'gen_ai.tool.call.id'), 1).value.stringvalue AS call_id,
    dur_ms,
    -- OK unless ERROR: the trail stores UNSET for success (see ../traces.sql, run_status).
    CASE status WHEN 'ERROR' THEN 'ERROR' ELSE 'OK' END AS status,
    error_type,
    element_at(filter(attributes, a -> a.key = 'gen_ai.tool.call.arguments'), 1).value.stringvalue AS arguments,
    element_at(filter(attributes, a -> a.key = 'gen_ai.tool.call.result'), 1).value.stringvalue AS result,
    element_at(filter(attributes, a -> a.key = 'gen_ai.conversation.id'), 1).value.stringvalue AS conversation_id,
    span_id,
    source_file, year, month, day, hour
FROM spans
WHERE operation = 'execute_tool';
