// Package faultmatrix drives invocations of the audited function through injected faults and accounts for every
// one of them: it returned ok and its trace is stored (every span the process ended, in complete shipments, the
// root's status matching the outcome), or it returned an error and its ERROR trace is stored; anything else is
// lost. Duplicates are counted: a byte-identical second copy of a (batch_key, part) is what Firehose stores when
// an acknowledgement is lost and what the views de-duplicate on; any other repetition is unexplained.
//
// In process, the function is assembled by agentaudit.New from its environment, exactly as in Lambda, with the
// Firehose client it ships (awsjson.Firehose) and the aws-sdk-go-v2 Bedrock client pointed at the local peers
// (internal/firehosetest, internal/bedrocktest), which inject the faults. The ground truth is a span processor registered on the
// function's own tracer provider after the audit processor: it sees every span the process ends.
//
// TestFaultMatrix runs a small matrix with `go test ./...`; with -matrix.n and -matrix.out it regenerates
// docs/reliability.md (see that file for the command). It is for tests only; no shipped code imports it.
package faultmatrix
