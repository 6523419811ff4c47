package awss3

import (
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// doer is an aws.HTTPClient made of a function.
type doer func(*http.Request) (*http.Response, error)

func (d doer) Do(r *http.Request) (*http.Response, error) { return d(r) }

// sentURL is the URL of the request put makes through a client built with the HTTP client given, caught before
// it leaves, or "not sent" when put fails before.
func sentURL(t *testing.T, put func(aws.HTTPClient) error) string {
	t.Helper()
	sent := "not sent"
	catch := doer(func(r *http.Request) (*http.Response, error) {
		sent = r.URL.Scheme + "://" + r.URL.Host + r.URL.EscapedPath() + "?" + r.URL.RawQuery
		return nil, errors.New("caught")
	})
	if err := put(catch); err == nil {
		t.Fatal("the put succeeded against an HTTP client that fails")
	}
	return sent
}
