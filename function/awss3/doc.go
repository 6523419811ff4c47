// Package awss3 makes the one S3 call the function makes, PutObject of an oversize content: a signed PUT of the
// object's bytes with its SHA-256 checksum, addressed, signed, retried and read back as the SDK's s3 client does.
//
// Why not the SDK's s3 client: its package initialisation (the endpoint table, encoding/xml, the S3
// customisations) runs on every cold start and it adds over a megabyte to the binary, for a call that only
// oversize content makes (see docs/performance.md). Signing, retries, the endpoint's order of precedence and the
// error type are package awsjson's; this package adds what S3 does differently: the bucket in the host or the
// path, the key in the path, the checksum headers and the XML error document. Not supported, on purpose: access
// point and Outposts ARNs, directory buckets, FIPS, dual-stack and accelerate endpoints, multipart uploads and
// trailing checksums. The tests hold every request, answer, error and attempt to the SDK client's.
package awss3
