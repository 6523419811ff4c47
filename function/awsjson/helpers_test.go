package awsjson

import "net/http"

// doer is an HTTP client made of a function.
type doer func(*http.Request) (*http.Response, error)

func (d doer) Do(r *http.Request) (*http.Response, error) { return d(r) }
