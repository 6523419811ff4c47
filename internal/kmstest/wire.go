package kmstest

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

const targetPrefix = "TrentService."

// KMS's limits and the enum values this key supports.
const (
	maxMessageBytes = 4096
	ecdsaSHA256     = "ECDSA_SHA_256"
	keySpec         = "ECC_NIST_P256"
)

// signingAlgorithms is KMS's SigningAlgorithmSpec enum, for its validation message.
var signingAlgorithms = []string{
	"RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512", "RSASSA_PKCS1_V1_5_SHA_256",
	"RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512", "ECDSA_SHA_256", "ECDSA_SHA_384", "ECDSA_SHA_512",
	"SM2DSA", "ML_DSA_SHAKE_256",
}

// apiError is one KMS error response: HTTP status, __type and message.
type apiError struct {
	status  int
	code    string
	message string
}

// signRequest is the body of Sign and Verify (Verify adds Signature).
type signRequest struct {
	KeyID            *string `json:"KeyId"`
	Message          []byte
	MessageType      string
	SigningAlgorithm *string
	Signature        []byte
	GrantTokens      []string
	DryRun           bool
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, targetPrefix)
	switch {
	case r.Method != http.MethodPost || !ok:
		writeError(w, &apiError{400, "UnknownOperationException", ""})
		return
	case !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 "):
		writeError(w, &apiError{400, "MissingAuthenticationTokenException", "Missing Authentication Token"})
		return
	}
	var in signRequest
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeError(w, &apiError{400, "SerializationException", "Start of structure or map found where not expected."})
		return
	}

	s.mu.Lock()
	s.calls[op]++
	var injected string
	if len(s.failNext) > 0 {
		injected, s.failNext = s.failNext[0], s.failNext[1:]
	}
	disabled := s.disabled
	s.mu.Unlock()

	var (
		out  any
		aerr *apiError
	)
	switch op {
	case "Sign", "Verify", "GetPublicKey":
	default:
		writeError(w, &apiError{400, "UnknownOperationException", ""})
		return
	}
	switch {
	case injected != "":
		aerr = injectedError(injected)
	default:
		aerr = s.checkKey(in.KeyID, disabled)
	}
	if aerr == nil {
		switch op {
		case "Sign":
			out, aerr = s.sign(&in)
		case "Verify":
			out, aerr = s.verify(&in)
		case "GetPublicKey":
			out = s.getPublicKey()
		}
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

// checkKey resolves the KeyId of a request as KMS does: required, and naming this key.
func (s *Server) checkKey(id *string, disabled bool) *apiError {
	switch {
	case id == nil:
		return &apiError{400, "ValidationException", "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null"}
	case *id == "" || len(*id) > 2048:
		return &apiError{400, "ValidationException", "1 validation error detected: Value at 'keyId' failed to satisfy constraint: Member must have length between 1 and 2048"}
	case !s.matches(*id):
		if strings.Contains(*id, "alias/") {
			return &apiError{400, "NotFoundException", fmt.Sprintf("Alias %s is not found.", *id)}
		}
		return &apiError{400, "NotFoundException", fmt.Sprintf("Key '%s' does not exist", *id)}
	case disabled:
		return &apiError{400, "DisabledException", fmt.Sprintf("%s is disabled.", s.KeyARN)}
	}
	return nil
}

// digest returns the 32-byte SHA-256 digest the request asks to sign or verify: the message itself for DIGEST,
// its hash for RAW.
func digest(in *signRequest) ([]byte, *apiError) {
	switch {
	case in.Message == nil:
		return nil, &apiError{400, "ValidationException", "1 validation error detected: Value null at 'message' failed to satisfy constraint: Member must not be null"}
	case len(in.Message) == 0 || len(in.Message) > maxMessageBytes:
		return nil, &apiError{400, "ValidationException", fmt.Sprintf("1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length between 1 and %d", maxMessageBytes)}
	case in.SigningAlgorithm == nil:
		return nil, &apiError{400, "ValidationException", "1 validation error detected: Value null at 'signingAlgorithm' failed to satisfy constraint: Member must not be null"}
	}
	if !slices.Contains(signingAlgorithms, *in.SigningAlgorithm) {
		return nil, &apiError{400, "ValidationException", fmt.Sprintf("1 validation error detected: Value '%s' at 'signingAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [%s]", *in.SigningAlgorithm, strings.Join(signingAlgorithms, ", "))}
	}
	if *in.SigningAlgorithm != ecdsaSHA256 {
		return nil, &apiError{400, "InvalidKeyUsageException", fmt.Sprintf("Signing algorithm %s is not compatible with key spec %s.", *in.SigningAlgorithm, keySpec)}
	}
	switch in.MessageType {
	case "", "RAW":
		sum := sha256.Sum256(in.Message)
		return sum[:], nil
	case "DIGEST":
		if len(in.Message) != sha256.Size {
			return nil, &apiError{400, "ValidationException", "Digest is invalid length for algorithm ECDSA_SHA_256."}
		}
		return in.Message, nil
	default:
		return nil, &apiError{400, "ValidationException", fmt.Sprintf("1 validation error detected: Value '%s' at 'messageType' failed to satisfy constraint: Member must satisfy enum value set: [RAW, DIGEST, EXTERNAL_MU]", in.MessageType)}
	}
}

func (s *Server) sign(in *signRequest) (any, *apiError) {
	d, aerr := digest(in)
	if aerr != nil {
		return nil, aerr
	}
	if in.DryRun {
		return nil, &apiError{412, "DryRunOperationException", "The request would have succeeded, but the DryRun option is set."}
	}
	sig, err := ecdsa.SignASN1(rand.Reader, s.key, d)
	if err != nil {
		return nil, &apiError{500, "KMSInternalException", "internal error"}
	}
	return map[string]any{"KeyId": s.KeyARN, "Signature": sig, "SigningAlgorithm": ecdsaSHA256}, nil
}

func (s *Server) verify(in *signRequest) (any, *apiError) {
	d, aerr := digest(in)
	if aerr != nil {
		return nil, aerr
	}
	if in.Signature == nil {
		return nil, &apiError{400, "ValidationException", "1 validation error detected: Value null at 'signature' failed to satisfy constraint: Member must not be null"}
	}
	if in.DryRun {
		return nil, &apiError{412, "DryRunOperationException", "The request would have succeeded, but the DryRun option is set."}
	}
	if !ecdsa.VerifyASN1(&s.key.PublicKey, d, in.Signature) {
		return nil, &apiError{400, "KMSInvalidSignatureException", ""}
	}
	return map[string]any{"KeyId": s.KeyARN, "SignatureValid": true, "SigningAlgorithm": ecdsaSHA256}, nil
}

func (s *Server) getPublicKey() any {
	return map[string]any{
		"KeyId": s.KeyARN, "PublicKey": s.PublicKeyDER(), "KeySpec": keySpec, "CustomerMasterKeySpec": keySpec,
		"KeyUsage": "SIGN_VERIFY", "SigningAlgorithms": []string{ecdsaSHA256},
	}
}

// injectedError maps an injected code to the status KMS answers it with.
func injectedError(code string) *apiError {
	status := 400
	switch code {
	case "KMSInternalException", "DependencyTimeoutException", "KeyUnavailableException":
		status = 500
	}
	return &apiError{status, code, "injected fault"}
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.code, "message": e.message})
}
