package nexus

// Applying a credential envelope's strategy to an outgoing request, exactly as the shared
// vectors in clients/testdata/strategies.json say. A URL outside the envelope's api_origins (or
// the caller's narrowing of them), a missing field or a strategy this SDK does not know is an
// *Error, and nothing is sent.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/nexus-broker/nexus/clients/go/gateway"
)

const (
	defaultAPIKeyHeader    = "X-API-Key"
	defaultCredentialField = "api_key"
)

var knownStrategies = map[string]bool{
	"oauth2": true, "header": true, "query_param": true, "basic_auth": true, "api_key": true, "aws_sigv4": true,
}

// DecodeEnvelope reads an envelope as the Gateway sends it; a strategy this SDK does not know
// (from a newer server) is unsupported_strategy, anything else unreadable malformed_envelope.
func DecodeEnvelope(data []byte) (*gateway.CredentialEnvelope, error) {
	var peek struct {
		Strategy struct {
			Type string `json:"type"`
		} `json:"strategy"`
	}
	if err := json.Unmarshal(data, &peek); err != nil {
		return nil, refused(CodeMalformedEnvelope, "the credential envelope is not JSON")
	}
	if !knownStrategies[peek.Strategy.Type] {
		return nil, refused(CodeUnsupportedStrategy, "strategy %q is not supported by this SDK; upgrade it", peek.Strategy.Type)
	}
	var envelope gateway.CredentialEnvelope
	// The message of a decoding error can quote the JSON it failed on, a credential included.
	if err := json.Unmarshal(data, &envelope); err != nil || envelope.ApiOrigins == nil || envelope.Credentials == nil {
		return nil, refused(CodeMalformedEnvelope, "the credential envelope is malformed")
	}
	return &envelope, nil
}

// InjectOptions are a caller's choices for Inject.
type InjectOptions struct {
	// Now is the instant an AWS signature is made at (zero: the current time).
	Now time.Time
	// Origins narrows the envelope's api_origins for this caller (nil: no narrowing; empty:
	// nothing is allowed). A narrowing never widens.
	Origins []string
}

func field(envelope *gateway.CredentialEnvelope, name string) (string, error) {
	value, ok := envelope.Credentials[name]
	if !ok {
		return "", refused(CodeMissingCredentialField, "the credential has no `%s` field", name)
	}
	return value, nil
}

func orDefault(value *string, fallback string) string {
	if value == nil {
		return fallback
	}
	return *value
}

// CheckOrigin is an origin_not_allowed error unless the credential may be sent to u: an origin of
// the envelope's api_origins and, when the caller gives origins, one of those too.
func CheckOrigin(envelope *gateway.CredentialEnvelope, u *url.URL, origins []string) error {
	if OriginAllowed(u, envelope.ApiOrigins, origins) {
		return nil
	}
	// The origin is not secret; the rest of the URL (userinfo, a query) may be.
	named := "a URL that names no origin (userinfo, a trailing dot, not http)"
	if target, ok := originOf(u); ok {
		named = target.String()
	}
	narrowed := ""
	if origins != nil {
		narrowed = " or the origins this caller allowed"
	}
	return refused(CodeOriginNotAllowed, "the credential may not be sent to %s: it is outside the credential's api_origins%s", named, narrowed)
}

// addQuery appends name=value to u's query, keeping what is there in its order.
func addQuery(u *url.URL, name, value string) {
	pair := url.QueryEscape(name) + "=" + url.QueryEscape(value)
	if u.RawQuery == "" {
		u.RawQuery = pair
	} else {
		u.RawQuery += "&" + pair
	}
}

// withoutCredential is u without the query parameter a query_param strategy puts the credential
// in and without the provider's api_query (which may hold a credential field): a redirect's
// Location may repeat them, and a hop either gets them afresh or not at all.
func withoutCredential(envelope *gateway.CredentialEnvelope, u *url.URL) *url.URL {
	names := map[string]bool{}
	if envelope.ApiQuery != nil {
		for name := range *envelope.ApiQuery {
			names[name] = true
		}
	}
	if query := envelope.Strategy.StrategyQueryParamStrategy; query != nil {
		names[query.ParamName] = true
	}
	if len(names) == 0 || u.RawQuery == "" {
		return u
	}
	var kept []string
	for _, pair := range strings.Split(u.RawQuery, "&") {
		key, _, _ := strings.Cut(pair, "=")
		if decoded, err := url.QueryUnescape(key); err == nil && names[decoded] {
			continue
		}
		kept = append(kept, pair)
	}
	stripped := *u
	stripped.RawQuery = strings.Join(kept, "&")
	return &stripped
}

// Inject is a copy of req carrying the credential the way the envelope's strategy says (req is
// not changed). A URL outside the envelope's api_origins, or outside options.Origins when the
// caller narrows them, is refused with origin_not_allowed before anything else. An AWS
// signature reads the body: through req.GetBody when there is one, else by buffering it.
func Inject(envelope *gateway.CredentialEnvelope, req *http.Request, options InjectOptions) (*http.Request, error) {
	if err := CheckOrigin(envelope, req.URL, options.Origins); err != nil {
		return nil, err
	}
	out := req.Clone(req.Context())
	// The provider's own headers and query parameters first: the strategy's header wins a
	// clash, and a signature covers them.
	if envelope.ApiHeaders != nil {
		for name, value := range *envelope.ApiHeaders {
			out.Header.Set(name, value)
		}
	}
	if envelope.ApiQuery != nil {
		for _, name := range sortedKeys(*envelope.ApiQuery) {
			addQuery(out.URL, name, (*envelope.ApiQuery)[name])
		}
	}
	strategy := envelope.Strategy
	switch {
	case strategy.StrategyOauth2Strategy != nil:
		token, err := field(envelope, "access_token")
		if err != nil {
			return nil, err
		}
		out.Header.Set("Authorization", "Bearer "+token)
	case strategy.StrategyHeaderStrategy != nil:
		header := strategy.StrategyHeaderStrategy
		value, err := field(envelope, orDefault(header.CredentialField, defaultCredentialField))
		if err != nil {
			return nil, err
		}
		out.Header.Set(header.HeaderName, orDefault(header.ValuePrefix, "")+value)
	case strategy.StrategyQueryParamStrategy != nil:
		query := strategy.StrategyQueryParamStrategy
		value, err := field(envelope, orDefault(query.CredentialField, defaultCredentialField))
		if err != nil {
			return nil, err
		}
		addQuery(out.URL, query.ParamName, value)
	case strategy.StrategyBasicAuthStrategy != nil:
		basic := strategy.StrategyBasicAuthStrategy
		username, err := field(envelope, orDefault(basic.UsernameField, "username"))
		if err != nil {
			return nil, err
		}
		password, err := field(envelope, orDefault(basic.PasswordField, "password"))
		if err != nil {
			return nil, err
		}
		out.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(username+":"+password)))
	case strategy.StrategyApiKeyStrategy != nil:
		value, err := field(envelope, defaultCredentialField)
		if err != nil {
			return nil, err
		}
		out.Header.Set(orDefault(strategy.StrategyApiKeyStrategy.HeaderName, defaultAPIKeyHeader), value)
	case strategy.StrategyAwsSigv4Strategy != nil:
		if err := signAWS(envelope, strategy.StrategyAwsSigv4Strategy, out, options.Now); err != nil {
			return nil, err
		}
	default:
		return nil, refused(CodeUnsupportedStrategy, "the envelope's strategy is not supported by this SDK; upgrade it")
	}
	return out, nil
}

// bodyBytes reads a request's body without consuming it for the sender: through GetBody, or by
// buffering it and giving the request a replayable body in its place.
func bodyBytes(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	if req.GetBody != nil {
		copy, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		defer copy.Close()
		return io.ReadAll(copy)
	}
	data, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(data))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	return data, nil
}

// sortedKeys are m's keys in order, so a request is the same each time it is made.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}
