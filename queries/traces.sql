-- DuckDB views over the audit trail: spans, traces (one row per chat span), runs (one per agent run) and
-- tool_calls. The root is a DuckDB variable, so the same script reads a local directory or the bucket:
--
--   SET VARIABLE audit_root = './audit-data';          -- or 's3://' || getenv('AUDIT_BUCKET') in the duckdb CLI
--   .read queries/traces.sql
--
-- The spans view joins the oversize view (queries/oversize.sql, or oversize_none.sql for a root without oversize
-- content), which must be defined first. Re-running it is idempotent (CREATE OR REPLACE). For s3:// roots, queries/s3.sql sets up httpfs with DuckDB's
-- credential chain. Partition columns (year, month, day, hour) come from the Hive layout, so a WHERE on them
-- prunes objects before any is opened.

-- One attribute's value (an OTLP AnyValue as JSON) from a key/value list.
CREATE OR REPLACE MACRO otel_value(attrs, k) AS list_filter(attrs, lambda a: a.key = k)[1].value;
CREATE OR REPLACE MACRO otel_str(attrs, k) AS otel_value(attrs, k) ->> '$.stringValue';
CREATE OR REPLACE MACRO otel_int(attrs, k) AS TRY_CAST(otel_value(attrs, k) ->> '$.intValue' AS BIGINT);
CREATE OR REPLACE MACRO otel_bool(attrs, k) AS TRY_CAST(otel_value(attrs, k) ->> '$.boolValue' AS BOOLEAN);
-- OTLP timestamps are nanoseconds since the epoch, written as decimal strings.
CREATE OR REPLACE MACRO otel_time(ns) AS make_timestamp(CAST(ns AS BIGINT) // 1000);
-- The text parts of the GenAI messages (a JSON array) of one role, joined; NULL when content capture was off.
CREATE OR REPLACE MACRO gen_ai_text(msgs, role) AS nullif(array_to_string(flatten(list_transform(
    list_filter(CAST(msgs AS JSON[]), lambda m: m ->> 'role' = role),
    lambda m: list_transform(list_filter(CAST(m -> 'parts' AS JSON[]), lambda p: p ->> 'type' = 'text'), lambda p: p ->> 'content'))), chr(10)), '');

-- The status of a run, model call or tool call: ERROR, or OK when it succeeded. The trail stores a success as
-- UNSET because OpenTelemetry's trace API has instrumentation leave a successful span's status unset (only an
-- application developer or operator sets OK, as a final verdict), and the agent is instrumentation; the spans
-- view keeps the stored value.
CREATE OR REPLACE MACRO run_status(s) AS CASE s WHEN 'ERROR' THEN 'ERROR' ELSE 'OK' END;

-- The record objects the views read: every object of the Hive layout, or, when the variable audit_objects is set
-- (a list of paths), only those. The CLI sets it to leave out objects it cannot read (audit verify reports them).
CREATE OR REPLACE MACRO audit_trace_objects() AS coalesce(CAST(getvariable('audit_objects') AS VARCHAR[]),
    [getvariable('audit_root') || '/traces/year=*/month=*/day=*/hour=*/*']);

-- Every span once. Firehose may store a record twice (a lost acknowledgement); a split trace spreads its spans
-- over several records; a late span arrives in a follow-up record. Keeping one row per (trace, span) makes all
-- three read as the one trace they are. The partition columns are part of the de-duplication key so that a WHERE
-- on them still prunes objects (a window over other columns would stop DuckDB pushing the filter down); a
-- duplicate that Firehose delivered in a later hour than its original therefore shows twice, each row naming
-- its source_file.
CREATE OR REPLACE VIEW spans AS
WITH records AS (
    SELECT filename AS source_file, year, month, day, hour, unnest(resourceSpans) AS rs
    FROM read_json(audit_trace_objects(),
        format = 'newline_delimited', compression = 'gzip', hive_partitioning = true, filename = true,
        -- The schema below is complete; without this, DuckDB samples objects anyway, which cost about a
        -- second per query on 100 objects even when a partition filter reads two.
        maximum_sample_files = 1,
        hive_types = {'year': INTEGER, 'month': INTEGER, 'day': INTEGER, 'hour': INTEGER},
        columns = {resourceSpans: 'STRUCT(
            resource STRUCT(attributes STRUCT(key VARCHAR, value JSON)[]),
            scopeSpans STRUCT(
                scope STRUCT(name VARCHAR),
                spans STRUCT(
                    traceId VARCHAR, spanId VARCHAR, parentSpanId VARCHAR, name VARCHAR, kind INTEGER,
                    startTimeUnixNano VARCHAR, endTimeUnixNano VARCHAR,
                    attributes STRUCT(key VARCHAR, value JSON)[],
                    events STRUCT(timeUnixNano VARCHAR, name VARCHAR, attributes STRUCT(key VARCHAR, value JSON)[])[],
                    status STRUCT(message VARCHAR, code INTEGER)
                )[]
            )[]
        )[]'})
), scoped AS (
    SELECT source_file, year, month, day, hour, rs.resource.attributes AS resource, unnest(rs.scopeSpans) AS ss FROM records
), flat AS (
    SELECT source_file, year, month, day, hour, resource, ss.scope.name AS scope, unnest(ss.spans) AS s FROM scoped
), resolved AS (
    -- A span whose content was too large for its record gets the moved attributes back from the oversize object
    -- it names; it keeps its agent_audit.oversize.* references, so a reader can still tell.
    SELECT f.*, CASE WHEN o.key IS NULL THEN f.s.attributes ELSE list_concat(f.s.attributes, o.attributes) END AS attrs
    FROM flat f LEFT JOIN oversize o ON o.key = otel_str(f.s.attributes, 'agent_audit.oversize.key')
)
SELECT
    s.traceId AS trace,
    s.spanId AS span_id,
    nullif(s.parentSpanId, '') AS parent_span_id,
    s.name AS name,
    s.kind AS kind,
    otel_time(s.startTimeUnixNano) AS started,
    otel_time(s.endTimeUnixNano) AS ended,
    (CAST(s.endTimeUnixNano AS BIGINT) - CAST(s.startTimeUnixNano AS BIGINT)) / 1e6 AS dur_ms,
    CASE coalesce(s.status.code, 0) WHEN 2 THEN 'ERROR' WHEN 1 THEN 'OK' ELSE 'UNSET' END AS status,
    nullif(s.status.message, '') AS status_message,
    otel_str(attrs, 'gen_ai.operation.name') AS operation,
    otel_str(attrs, 'error.type') AS error_type,
    attrs AS attributes,
    s.events AS events,
    resource,
    scope,
    otel_str(resource, 'agent_audit.record.batch_key') AS batch_key,
    otel_int(resource, 'agent_audit.record.part') AS part,
    otel_int(resource, 'agent_audit.record.parts') AS parts,
    coalesce(otel_bool(resource, 'agent_audit.record.followup'), false) AS followup,
    source_file, year, month, day, hour
FROM resolved
QUALIFY row_number() OVER (PARTITION BY year, month, day, hour, s.traceId, s.spanId ORDER BY source_file) = 1;

-- One row per model call: the seed's columns, on current GenAI attribute names.
CREATE OR REPLACE VIEW traces AS
SELECT
    started,
    trace,
    coalesce(otel_str(attributes, 'gen_ai.response.model'), otel_str(attributes, 'gen_ai.request.model')) AS model,
    dur_ms,
    otel_int(attributes, 'gen_ai.usage.input_tokens') AS in_tokens,
    otel_int(attributes, 'gen_ai.usage.output_tokens') AS out_tokens,
    otel_value(attributes, 'gen_ai.response.finish_reasons') ->> '$.arrayValue.values[0].stringValue' AS finish,
    otel_str(attributes, 'gen_ai.conversation.id') AS conversation_id,
    nullif(array_to_string(list_transform(CAST(otel_str(attributes, 'gen_ai.system_instructions') AS JSON[]), lambda p: p ->> 'content'), chr(10)), '') AS system_prompt,
    gen_ai_text(otel_str(attributes, 'gen_ai.input.messages'), 'user') AS user_prompt,
    gen_ai_text(otel_str(attributes, 'gen_ai.output.messages'), 'assistant') AS assistant_response,
    otel_str(attributes, 'gen_ai.input.messages') AS input_messages,
    otel_str(attributes, 'gen_ai.output.messages') AS output_messages,
    run_status(status) AS status,
    error_type,
    span_id,
    batch_key,
    source_file, year, month, day, hour
FROM spans
WHERE operation = 'chat';

-- One row per agent run (its invoke_agent root, whose parent is the caller's span when the run was invoked with a
-- traceparent), with the run's totals as the agent recorded them on the root: usage from agent_audit.usage.*
-- (only chat spans carry gen_ai.usage.*, so nothing is counted twice), turns and tool calls from
-- agent_audit.run.*. Reading them from the root alone keeps the view a filter over spans, so partition pruning
-- applies.
CREATE OR REPLACE VIEW runs AS
SELECT
    r.started,
    r.trace,
    otel_str(r.attributes, 'gen_ai.agent.name') AS agent,
    otel_str(r.attributes, 'gen_ai.request.model') AS model,
    r.dur_ms,
    otel_int(r.attributes, 'agent_audit.usage.input_tokens') AS in_tokens,
    otel_int(r.attributes, 'agent_audit.usage.output_tokens') AS out_tokens,
    otel_int(r.attributes, 'agent_audit.run.turns') AS turns,
    otel_int(r.attributes, 'agent_audit.run.tool_calls') AS tool_calls,
    run_status(r.status) AS status,
    r.error_type,
    r.status_message,
    otel_str(r.attributes, 'gen_ai.conversation.id') AS conversation_id,
    gen_ai_text(otel_str(r.attributes, 'gen_ai.input.messages'), 'user') AS user_prompt,
    gen_ai_text(otel_str(r.attributes, 'gen_ai.output.messages'), 'assistant') AS output,
    r.span_id,
    r.source_file, r.year, r.month, r.day, r.hour
FROM spans r
WHERE r.operation = 'invoke_agent';

-- One row per tool call.
CREATE OR REPLACE VIEW tool_calls AS
SELECT
    started,
    trace,
    otel_str(attributes, 'gen_ai.tool.name') AS tool,
    otel_str(attributes, 'gen_ai.tool.call.id') AS call_id,
    dur_ms,
    run_status(status) AS status,
    error_type,
    otel_str(attributes, 'gen_ai.tool.call.arguments') AS arguments,
    otel_str(attributes, 'gen_ai.tool.call.result') AS result,
    otel_str(attributes, 'gen_ai.conversation.id') AS conversation_id,
    span_id,
    source_file, year, month, day, hour
FROM spans
WHERE operation = 'execute_tool';
