// Package e2e holds the end-to-end tests: the real function binary under the Lambda Runtime Interface Emulator
// (internal/lambdatest), configured only through its environment as in Lambda, with the AWS SDK pointed at the
// local Bedrock, Firehose, SSM and KMS peers, a real MinIO for the oversize content, and an OTLP receiver standing
// in for Logfire. The package has no code of its own besides its tests.
package e2e
