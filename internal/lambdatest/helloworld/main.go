// Command helloworld is the baseline of the cold-start benchmark (internal/e2e's TestColdStartAgainstHelloWorld):
// the smallest aws-lambda-go function, a handler that greets, built exactly as the agent's bootstrap is. Its INIT
// REPORT is what any Go Lambda pays before its own work.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

// event is the handler's input, decoded from the invocation's JSON as in aws-lambda-go's own examples.
type event struct {
	Name string `json:"name"`
}

func main() {
	lambda.Start(func(_ context.Context, e event) (string, error) {
		return "hello " + e.Name, nil
	})
}
