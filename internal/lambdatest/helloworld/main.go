// Command helloworld is the baseline of the cold-start benchmark (internal/e2e's TestColdStartAgainstHelloWorld):
// the smallest aws-lambda-go function, a handler that greets, built exactly as the agent's bootstrap is. Its INIT
// REPORT is what any Go Lambda pays before its own work. With HELLO_WITH_SIGTERM set it also registers for
// SIGTERM with lambda.WithEnableSIGTERM (one Extensions API registration during init, after everything else), which
// measures what that registration costs when nothing overlaps it (the agent overlaps its own with its init:
// package function/sigterm).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

// event is the handler's input, decoded from the invocation's JSON as in aws-lambda-go's own examples.
type event struct {
	Name string `json:"name"`
}

func greet(_ context.Context, e event) (string, error) { return "hello " + e.Name, nil }

func main() {
	if os.Getenv("HELLO_WITH_SIGTERM") != "" {
		lambda.StartWithOptions(greet, lambda.WithEnableSIGTERM(func() {}))
	}
	lambda.Start(greet)
}
