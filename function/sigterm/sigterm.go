// Package sigterm asks Lambda to send the function's process SIGTERM before it shuts an execution environment
// down, and runs a hook when it arrives: what aws-lambda-go's lambda.WithEnableSIGTERM does, one Extensions API
// registration for no events during init, but started before the function's own init and finished after it, so
// that the registration's round trip to Lambda overlaps the function's own work instead of following it.
//
// Why not lambda.WithEnableSIGTERM: it registers inside lambda.Start, after everything else of init, which put
// the round trip's whole time on every cold start (docs/performance.md). This package is its registration and
// signal handling, nothing more, and is tested under the Lambda runtime interface emulator.
package sigterm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

// ExtensionName is the name the registration gives Lambda (its INIT logs list it among the extensions).
const ExtensionName = "agent-audit-sigterm"

// RuntimeAPIVariable is the variable that holds the Runtime and Extensions API's address in Lambda.
const RuntimeAPIVariable = "AWS_LAMBDA_RUNTIME_API"

// ErrNotInLambda is Enable's error when there is no Extensions API to register with (RuntimeAPIVariable unset):
// the hook is installed, but nothing asked for the SIGTERM.
var ErrNotInLambda = errors.New(RuntimeAPIVariable + " is not set: not registered for SIGTERM")

// Registration is a registration in flight. Enable it once the hook exists.
type Registration struct {
	done chan struct{}
	err  error
}

// Register starts registering with the Extensions API at runtimeAPI (the value of RuntimeAPIVariable; empty
// means not in Lambda) and returns at once. Lambda accepts registrations only during init, so call Enable before
// the runtime asks for its first event (before lambda.Start).
func Register(runtimeAPI string) *Registration {
	r := &Registration{done: make(chan struct{})}
	if runtimeAPI == "" {
		r.err = ErrNotInLambda
		close(r.done)
		return r
	}
	go func() {
		defer close(r.done)
		r.err = register(runtimeAPI)
	}()
	return r
}

// Enable runs onSIGTERM (once) when the process receives SIGTERM, then waits for the registration and returns
// its error: the hook is installed even when the registration failed, as lambda.WithEnableSIGTERM does, since
// Lambda may still send SIGTERM on behalf of another extension.
func (r *Registration) Enable(onSIGTERM func()) error {
	signaled := make(chan os.Signal, 1)
	signal.Notify(signaled, syscall.SIGTERM)
	go func() {
		<-signaled
		onSIGTERM()
	}()
	<-r.done
	return r.err
}

// register is one POST /2020-01-01/extension/register for no events, then the GET of the first event in the
// background: an extension must ask for its next event to tell Lambda it has finished its init, and since it
// subscribed to none, that request is answered only by the end of the process.
func register(runtimeAPI string) error {
	base := "http://" + runtimeAPI + "/2020-01-01/extension/"
	client := &http.Client{Transport: &http.Transport{}} // no proxy: the API is local, whatever HTTP_PROXY says
	req, err := http.NewRequest(http.MethodPost, base+"register", bytes.NewReader([]byte(`{"events":[]}`)))
	if err != nil {
		return fmt.Errorf("register for SIGTERM: %w", err)
	}
	req.Header.Set("Lambda-Extension-Name", ExtensionName)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("register for SIGTERM: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("register for SIGTERM: the Extensions API answered %s", resp.Status)
	}
	id := resp.Header.Get("Lambda-Extension-Identifier")
	if id == "" {
		return errors.New("register for SIGTERM: the Extensions API answered without Lambda-Extension-Identifier")
	}
	next, err := http.NewRequest(http.MethodGet, base+"event/next", nil)
	if err != nil {
		return fmt.Errorf("register for SIGTERM: %w", err)
	}
	next.Header.Set("Lambda-Extension-Identifier", id)
	go func() {
		if resp, err := client.Do(next); err == nil {
			resp.Body.Close()
		}
	}()
	return nil
}
