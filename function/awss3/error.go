package awss3

import (
	"net/http"
	"strings"

	"github.com/agent-audit/agent-audit/function/awsjson"
)

// maxErrorBytes bounds what is read of an error answer (64 KiB): S3's error documents are a few hundred bytes.
const maxErrorBytes = 64 << 10

// apiError reads S3's error answer to PutObject, as the SDK's s3 client does: the code and message from the
// <Error> document, else both from the HTTP status (403 Forbidden is code Forbidden), and the request ID from
// x-amz-request-id.
func apiError(resp *http.Response, doc []byte) error {
	code, message := element(doc, "Code"), element(doc, "Message")
	if code == "" && message == "" {
		message = http.StatusText(resp.StatusCode)
		code = strings.ReplaceAll(message, " ", "")
	}
	if code == "" {
		code = "UnknownError" // as the SDK names an answer without a code
	}
	return awsjson.NewAPIError("PutObject", resp.StatusCode, resp.Header.Get("X-Amz-Request-Id"), code, message)
}

// xmlEntities are XML's predefined entities, the only ones S3 writes in an error document's text.
var xmlEntities = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&apos;", "'", "&amp;", "&")

// element is the text of the first <name> element of doc. Hand-written: S3's error document is flat, and
// encoding/xml (its init and its size) is what the package replaces.
func element(doc []byte, name string) string {
	s := string(doc)
	start := strings.Index(s, "<"+name+">")
	if start < 0 {
		return ""
	}
	s = s[start+len(name)+2:]
	end := strings.Index(s, "</"+name+">")
	if end < 0 {
		return ""
	}
	return xmlEntities.Replace(s[:end])
}
