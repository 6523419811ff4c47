// Package logfire is the optional live view: the same spans the audit copy gets, exported over OTLP/HTTP to
// Pydantic Logfire. The audit copy (Firehose → S3) is the system of record and always receives every span; this
// leg is for debugging, samples whole traces at its own ratio, may scrub content, and can never fail or delay an
// invocation beyond its flush bound.
//
// Environment variables (all optional; without LOGFIRE_TOKEN_PARAMETER nothing of this package runs):
//
//	LOGFIRE_TOKEN_PARAMETER                 SSM parameter (SecureString) holding the write token; unset: no live view
//	PARAMETERS_SECRETS_EXTENSION_HTTP_PORT  set when the AWS Parameters and Secrets Lambda Extension is attached:
//	                                        the token is then read through it instead of the SSM API
//	LOGFIRE_BASE_URL                        Logfire's endpoint (default: from the token's region, e.g.
//	                                        pylf_v1_eu_… → https://logfire-eu.pydantic.dev; US without a region)
//	LOGFIRE_SAMPLE_RATIO                    share of traces sent, 0 to 1 (default 1), decided per trace
//	LOGFIRE_SCRUB                           true: redact GenAI content and secret-looking values (default false)
//	LOGFIRE_FLUSH_TIMEOUT                   how long an invocation may wait for the export (default 2s)
//
// The token is read once per container, at the first invocation (the extension is not ready during Lambda's
// init), and never put in an environment variable, a log line, an error or a span.
package logfire
