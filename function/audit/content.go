package audit

// AttrContentCaptured is the resource attribute that says whether the record's spans were recorded with content
// capture on (prompts, outputs, tool arguments and results, error messages) or off; see the package
// documentation. A reader that finds no content can tell "captured and empty" from "not captured".
const AttrContentCaptured = "agent_audit.content.captured"
