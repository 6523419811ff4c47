package logfire

import "regexp"

// tokenRegion reads the region of a Logfire write token: pylf_v<version>_<region>_<secret>.
var tokenRegion = regexp.MustCompile(`^pylf_v[0-9]+_([a-z]+)_`)

// regions are Logfire's data regions and their endpoints; a token without a known region belongs to the US one,
// as in Logfire's own SDK.
var regions = map[string]string{
	"us": "https://logfire-us.pydantic.dev",
	"eu": "https://logfire-eu.pydantic.dev",
}

// BaseURL is Logfire's endpoint for token.
func BaseURL(token string) string {
	if m := tokenRegion.FindStringSubmatch(token); m != nil {
		if u, ok := regions[m[1]]; ok {
			return u
		}
	}
	return regions["us"]
}
