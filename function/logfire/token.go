package logfire

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/aws/smithy-go"
)

// ParameterAPI reads one SSM parameter, decrypted; *SSMClient implements it. An AWS error answer is a
// smithy.APIError.
type ParameterAPI interface {
	GetParameter(ctx context.Context, name string) (string, error)
}

// fetchFromSSM reads and decrypts the parameter through the SSM API. Errors carry the AWS error code only: nothing
// of a response body is repeated.
func fetchFromSSM(ctx context.Context, client ParameterAPI, name string) (string, error) {
	value, err := client.GetParameter(ctx, name)
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) {
			return "", fmt.Errorf("ssm GetParameter %s: %s", name, apiErr.ErrorCode())
		}
		return "", fmt.Errorf("ssm GetParameter %s: request failed", name)
	}
	if value == "" {
		return "", fmt.Errorf("ssm GetParameter %s: no value", name)
	}
	return value, nil
}

// fetchFromExtension reads the parameter through the AWS Parameters and Secrets Lambda Extension's local HTTP API,
// authenticated with the function's session token. The name is percent-encoded whole, slashes included: the
// extension refuses a hierarchical name with raw slashes.
func fetchFromExtension(ctx context.Context, client *http.Client, port int, name, sessionToken string) (string, error) {
	u := fmt.Sprintf("http://localhost:%d/systemsmanager/parameters/get?name=%s&withDecryption=true", port, url.QueryEscape(name))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("parameters extension: %w", err)
	}
	req.Header.Set("X-Aws-Parameters-Secrets-Token", sessionToken)
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("parameters extension on port %d: unreachable", port)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("parameters extension: read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		// The body of an error answer names the problem, never the value; it is still not repeated.
		return "", fmt.Errorf("parameters extension: HTTP %d for %s", resp.StatusCode, name)
	}
	var out struct {
		Parameter struct{ Value string }
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Parameter.Value == "" {
		return "", fmt.Errorf("parameters extension: answer for %s holds no value", name)
	}
	return out.Parameter.Value, nil
}
