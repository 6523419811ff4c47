// Package awsjson makes signed calls of AWS services that speak JSON: the awsJson1_1 protocol (SSM, KMS,
// Firehose: one POST of a JSON body to the service's endpoint, named by X-Amz-Target) and the restJson1 protocol
// (Bedrock Runtime's Converse: a POST of a JSON body to the operation's path). Each call is signed with Signature
// V4 and retried by the SDK's retryer, as the SDK's generated clients do.
//
// Why not the SDK's clients: each service package (and its schemas and endpoint tables) initialises on every cold
// start whether or not it is called, and the function calls these services a handful of times per container (see
// docs/performance.md). The tests of this package and of its users hold every call to the SDK client's requests,
// answers, errors and attempts.
package awsjson
