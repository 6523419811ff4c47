// Package lambdatest runs the real function binary as Lambda runs it, for tests: Build compiles ./function into a
// bootstrap for the host, Start runs it under the AWS Lambda Runtime Interface Emulator (aws-lambda-rie) bound to
// 127.0.0.1 with only the environment the test gives (plus PATH, a region and freshly generated fake
// credentials), captures everything the emulator and the function write, and Invoke calls it over HTTP as the
// Lambda Invoke API does. Everything started is stopped when the test ends.
//
// The emulator is found on PATH or in the Go bin directory, or installed with `go install` at the pinned version
// (seconds; concurrent installs serialise on a file lock). .ci/run installs it ahead of the tests.
package lambdatest
