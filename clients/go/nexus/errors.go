package nexus

// The SDK's one error type: what the Gateway answered, or why the SDK itself refused.

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Codes the SDK itself gives (the Gateway's own, such as "connection_not_found" or
// "insufficient_scope", are listed in the Gateway's OpenAPI document).
const (
	CodeOriginNotAllowed       = "origin_not_allowed"
	CodeMissingCredentialField = "missing_credential_field"
	CodeUnsupportedStrategy    = "unsupported_strategy"
	CodeMalformedEnvelope      = "malformed_envelope"
	CodeUnexpectedResponse     = "unexpected_response"
	CodeGatewayUnreachable     = "gateway_unreachable"
	CodeInsufficientScope      = "insufficient_scope"
	CodeBodyNotRepeatable      = "body_not_repeatable"
)

// Error is an error from Nexus, or from the SDK applying what Nexus returned. It never holds a
// key or a token: messages name fields and origins, never values or full URLs.
type Error struct {
	// Code is Nexus's stable code ("connection_revoked", "attention_required", ...) or one of
	// the SDK's own (CodeOriginNotAllowed, ...).
	Code    string
	Message string
	// Status is the Gateway's HTTP status; 0 when the SDK refused without asking it.
	Status    int
	RequestID string
	// Field is the request field an invalid_request is about.
	Field string
	// ConnectionID is the connection the error is about: the one to send the user back to on
	// attention_required, the one to consent again with MissingScopes on insufficient_scope.
	ConnectionID string
	// MissingScopes are the scopes the connection lacks (insufficient_scope).
	MissingScopes []string
	// cause is a context's error when one ended the call, so errors.Is(err, context.Canceled) holds.
	cause error
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Unwrap is the context's error that ended the call, if one did.
func (e *Error) Unwrap() error { return e.cause }

func refused(code, format string, args ...interface{}) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// errorFromAnswer is the error a Gateway answer of status with body stands for; a body that is
// not Nexus's error JSON (an HTML page from a proxy in between) is unexpected_response.
func errorFromAnswer(status int, body []byte, header http.Header) *Error {
	var answer struct {
		Code          string   `json:"code"`
		Message       string   `json:"message"`
		RequestID     string   `json:"request_id"`
		Field         string   `json:"field"`
		ConnectionID  string   `json:"connection_id"`
		MissingScopes []string `json:"missing_scopes"`
	}
	requestID := header.Get("X-Request-Id")
	if json.Unmarshal(body, &answer) != nil || answer.Code == "" {
		return &Error{
			Code:      CodeUnexpectedResponse,
			Message:   fmt.Sprintf("the Gateway answered HTTP %d without a Nexus error body", status),
			Status:    status,
			RequestID: requestID,
		}
	}
	if answer.RequestID == "" {
		answer.RequestID = requestID
	}
	return &Error{
		Code:          answer.Code,
		Message:       answer.Message,
		Status:        status,
		RequestID:     answer.RequestID,
		Field:         answer.Field,
		ConnectionID:  answer.ConnectionID,
		MissingScopes: answer.MissingScopes,
	}
}
