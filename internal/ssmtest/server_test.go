package ssmtest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"
)

const name = "/a/b/c"

func TestTheRealSSMClientReadsThroughThePeer(t *testing.T) {
	for _, tc := range []struct {
		name      string
		param     string
		decrypt   bool
		fail      string
		wantValue string
		wantCode  string
	}{
		{"a decrypted read returns the value", name, true, "", "s3cret-value", ""},
		{"a read without decryption returns ciphertext", name, false, "", "AQICAHh-ciphertext-not-decrypted", ""},
		{"a missing parameter is ParameterNotFound", "/missing", true, "", "", "ParameterNotFound"},
		{"an injected throttle is ThrottlingException", name, true, "ThrottlingException", "", "ThrottlingException"},
		{"an injected server fault is InternalServerError", name, true, "InternalServerError", "", "InternalServerError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(t, map[string]string{name: "s3cret-value"})
			if tc.fail != "" {
				s.FailNext(tc.fail)
			}
			out, err := s.Client().GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String(tc.param), WithDecryption: aws.Bool(tc.decrypt)})
			var apiErr smithy.APIError
			switch {
			case tc.wantCode != "":
				if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.wantCode {
					t.Fatalf("error %v, want code %s", err, tc.wantCode)
				}
			case err != nil:
				t.Fatal(err)
			case aws.ToString(out.Parameter.Value) != tc.wantValue || out.Parameter.Type != "SecureString" || aws.ToString(out.Parameter.Name) != tc.param:
				t.Fatalf("parameter %+v", out.Parameter)
			}
			if n, decrypted := s.Calls(); n != 1 || decrypted[0] != tc.decrypt {
				t.Fatalf("calls %d, WithDecryption %v; want 1 call with %v", n, decrypted, tc.decrypt)
			}
		})
	}
}

func TestTheExtensionPeerChecksEncodingAndTheSessionToken(t *testing.T) {
	e := NewExtension(t, map[string]string{name: "s3cret-value"}, "session-1")
	for _, tc := range []struct {
		name, rawQuery, token string
		wantStatus            int
	}{
		{"an encoded name with the session token is answered", "name=%2Fa%2Fb%2Fc&withDecryption=true", "session-1", http.StatusOK},
		{"raw slashes in the name are refused", "name=/a/b/c&withDecryption=true", "session-1", http.StatusBadRequest},
		{"a wrong session token is refused", "name=%2Fa%2Fb%2Fc&withDecryption=true", "session-2", http.StatusForbidden},
		{"a missing session token is refused", "name=%2Fa%2Fb%2Fc&withDecryption=true", "", http.StatusForbidden},
		{"an unknown name is not found", "name=%2Fa%2Fb&withDecryption=true", "session-1", http.StatusNotFound},
		{"a read without decryption is refused", "name=%2Fa%2Fb%2Fc", "session-1", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, e.URL+"/systemsmanager/parameters/get?"+tc.rawQuery, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.token != "" {
				req.Header.Set("X-Aws-Parameters-Secrets-Token", tc.token)
			}
			resp, err := e.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if tc.wantStatus != http.StatusOK {
				return
			}
			var out struct {
				Parameter struct{ Name, Type, Value string }
			}
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Parameter.Value != "s3cret-value" || out.Parameter.Name != name {
				t.Fatalf("answer %+v, %v", out, err)
			}
		})
	}
	if q := e.RawQueries(); len(q) != 6 || q[1] != "name=/a/b/c&withDecryption=true" {
		t.Fatalf("raw queries recorded: %q", q)
	}
}
