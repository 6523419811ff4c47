-- The oversize view: content stored apart from its record because a span was too large for one (see
-- function/audit: the span keeps agent_audit.oversize.key and the object holds the moved attributes, as a
-- one-span OTLP/JSON line). traces.sql joins it back onto the spans, so the views read such spans whole.
--
-- DuckDB refuses to read a glob that matches nothing, so this file is for roots that hold at least one oversize
-- object; queries/oversize_none.sql defines the same view empty. The CLI picks one (queries.Open); in the duckdb
-- shell, .read this file before traces.sql, or oversize_none.sql when there is no oversize/ prefix yet.
CREATE OR REPLACE VIEW oversize AS
SELECT
    -- The key relative to the root, as the span names it.
    substr(filename, length(getvariable('audit_root')) + 2) AS key,
    resourceSpans[1].scopeSpans[1].spans[1].attributes AS attributes
FROM read_json(getvariable('audit_root') || '/oversize/year=*/month=*/day=*/hour=*/*/*.json.gz',
    format = 'newline_delimited', compression = 'gzip', filename = true, hive_partitioning = false,
    maximum_sample_files = 1,
    columns = {resourceSpans: 'STRUCT(scopeSpans STRUCT(spans STRUCT(attributes STRUCT(key VARCHAR, value JSON)[])[])[])[]'});
