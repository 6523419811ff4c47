-- Questions operators ask of the audit trail. Run after traces.sql (in the duckdb shell: .read queries/traces.sql),
-- or one at a time by name: audit query tokens-per-day (audit query --list lists them). Each statement starts with
-- a "-- name:" line and ends with a line holding only ";".
-- Add WHERE year = … AND month = … AND day = … to read only those days' objects.

-- name: tokens-per-day
-- Tokens per day and model (from the chat spans, where each model call's usage is recorded once).
SELECT make_date(year, month, day) AS day, model, count(*) AS model_calls,
       sum(in_tokens) AS in_tokens, sum(out_tokens) AS out_tokens, sum(in_tokens + out_tokens) AS total_tokens
FROM traces
GROUP BY ALL
ORDER BY day DESC, total_tokens DESC
;
-- name: slowest-runs
-- The slowest runs of the last 7 days.
SELECT started, trace, agent, round(dur_ms) AS dur_ms, turns, tool_calls, status, user_prompt
FROM runs
WHERE started >= now() - INTERVAL 7 DAY
ORDER BY dur_ms DESC
LIMIT 20
;
-- name: failed-runs
-- Failed runs with their error (rejected events included: error_type = 'invalid_request').
SELECT started, trace, error_type, status_message, conversation_id, user_prompt
FROM runs
WHERE status = 'ERROR'
ORDER BY started DESC
;
-- name: failed-tool-calls
-- Tool calls that failed, with what the model asked for and what it was told.
SELECT started, trace, tool, error_type, arguments, result
FROM tool_calls
WHERE status = 'ERROR'
ORDER BY started DESC
;
-- name: conversation
-- One conversation end to end: every model call and tool call in order (set the id first:
-- SET VARIABLE conversation = 'conv-9'; or audit query conversation --var conversation=conv-9).
SELECT started, trace, 'chat' AS step, model AS what, user_prompt AS input, assistant_response AS output
FROM traces WHERE conversation_id = getvariable('conversation')
UNION ALL
SELECT started, trace, 'tool', tool, arguments, result
FROM tool_calls WHERE conversation_id = getvariable('conversation')
ORDER BY started
;
-- name: over-budget
-- Runs above a token budget (set it first: SET VARIABLE token_budget = 5000; or --var token_budget=5000).
SELECT started, trace, agent, in_tokens + out_tokens AS tokens, turns, tool_calls, user_prompt
FROM runs
WHERE in_tokens + out_tokens > coalesce(getvariable('token_budget'), 5000)
ORDER BY tokens DESC
;
