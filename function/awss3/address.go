package awss3

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/aws/smithy-go/encoding/httpbinding"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// objectURL is the URL of PutObject of key in bucket at endpoint, as the SDK's S3 endpoint rules give it for a
// general purpose bucket: virtual-hosted (the bucket before the endpoint's host) where the bucket name is one DNS
// label and the endpoint's host no IP address, or over http where the name is DNS labels with dots; else, and
// whenever pathStyle asks, path-style (the bucket after the endpoint's path). The key is a greedy label: escaped but for its
// slashes, as the SDK escapes it. The query names the operation, x-id=PutObject, as the SDK's does.
func objectURL(endpoint, bucket, key string, pathStyle bool) (string, error) {
	switch {
	case bucket == "":
		return "", errors.New("no bucket")
	case strings.HasPrefix(bucket, "arn:"):
		return "", fmt.Errorf("bucket %q is an ARN: access points and Outposts are not supported, name the bucket", bucket)
	case strings.HasSuffix(bucket, "--x-s3") || strings.HasSuffix(bucket, "--xa-s3"):
		return "", fmt.Errorf("bucket %q is a directory bucket, which is not supported", bucket)
	case key == "":
		return "", errors.New("no key")
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return "", fmt.Errorf("S3 endpoint %q is not an http or https URL without a query", endpoint)
	}
	host, path := u.Host, u.Path
	switch {
	case pathStyle:
	case virtualHostable(bucket, false):
		if net.ParseIP(u.Hostname()) == nil {
			host = bucket + "." + host
		}
	case u.Scheme == "http" && virtualHostable(bucket, true):
		// A name with dots goes in the host only over http (it would not match a TLS certificate), and then
		// before an IP address too, as the SDK's rules have it.
		host = bucket + "." + host
	}
	if host == u.Host {
		path = strings.TrimSuffix(smithyhttp.JoinPath(path, ""), "/") + "/" + httpbinding.EscapePath(bucket, true)
	}
	// The operation's path, /{Key+}, joins the endpoint's as the SDK joins them; the key goes in after the join,
	// so a key's own leading slash stays.
	path = strings.TrimSuffix(smithyhttp.JoinPath(path, "k"), "k") + httpbinding.EscapePath(key, false)
	return u.Scheme + "://" + host + path + "?x-id=PutObject", nil
}

// virtualHostable reports whether bucket can be a host name's first labels, as the SDK's
// IsVirtualHostableS3Bucket says (which is internal to the SDK): no IP address, and one label (several, separated
// by dots, with dots) of 3 to 63 lower-case letters, digits and hyphens.
func virtualHostable(bucket string, dots bool) bool {
	if net.ParseIP(bucket) != nil {
		return false
	}
	labels := []string{bucket}
	if dots {
		labels = strings.Split(bucket, ".")
	}
	for _, l := range labels {
		if len(l) < 3 || l != strings.ToLower(l) || !smithyhttp.ValidHostLabel(l) {
			return false
		}
	}
	return true
}
