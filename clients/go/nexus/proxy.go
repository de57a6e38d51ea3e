package nexus

// Sending through the Gateway's proxy (/v1/proxy): the credential never reaches this process.
// Each request goes to {gateway}/v1/proxy with its absolute URL in Nexus-Proxy-Url, the
// connection in Nexus-Workspace-Id and Nexus-Provider (or Nexus-Connection-Id) and the agent key
// in Authorization; Nexus applies the credential and forwards it, only within the provider's
// api_origins. An answer marked Nexus-Proxied is the provider's, whatever its status; one
// without it and with a status of 400 or more is Nexus's own error, returned as *Error.
// Redirects come back as they are: the Gateway never follows one.

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
)

const proxyPath = "/v1/proxy"

func (t *Transport) throughProxy(req *http.Request) (*http.Response, error) {
	if req.Response != nil {
		// The Gateway would apply the credential to any hop within the provider's origins: a
		// redirect is the caller's to look at, never followed here.
		closeBody(req)
		return nil, errors.New("nexus: the proxy mode does not follow redirects: use NewProxyHTTPClient, or a client whose CheckRedirect returns http.ErrUseLastResponse")
	}
	if len(t.Target.Scopes) > 0 {
		closeBody(req)
		return nil, errors.New("nexus: the proxy checks no scopes: give Target.Scopes only without Proxy")
	}
	// The Gateway checks the provider's api_origins itself; a caller's narrowing is checked here.
	if target, ok := originOf(req.URL); !ok || (t.Origins != nil && !matchesAny(t.Origins, target)) {
		closeBody(req)
		named := "a URL that names no origin (userinfo, a trailing dot, not http)"
		if ok {
			named = target.String()
		}
		return nil, refused(CodeOriginNotAllowed, "the request may not go to %s: it is outside the origins this caller allowed", named)
	}
	gatewayURL, err := url.Parse(t.Credentials.gatewayURL + proxyPath)
	if err != nil {
		closeBody(req)
		return nil, refused(CodeGatewayUnreachable, "the Gateway URL is not usable")
	}
	proxied := req.Clone(req.Context())
	proxied.URL = gatewayURL
	proxied.Host = ""
	// The caller's Authorization and Nexus-* headers would name another key or connection.
	for name := range proxied.Header {
		lower := strings.ToLower(name)
		if lower == "authorization" || strings.HasPrefix(lower, "nexus-") || strings.HasPrefix(lower, "x-nexus-") {
			proxied.Header.Del(name)
		}
	}
	proxied.Header.Set("Authorization", "Bearer "+t.Credentials.agentKey)
	proxied.Header.Set("Nexus-Proxy-Url", req.URL.String())
	if t.Target.ConnectionID != "" {
		proxied.Header.Set("Nexus-Connection-Id", t.Target.ConnectionID)
	} else {
		proxied.Header.Set("Nexus-Workspace-Id", t.Target.WorkspaceID)
		proxied.Header.Set("Nexus-Provider", t.Target.Provider)
	}
	response, err := t.base().RoundTrip(proxied)
	if err != nil {
		return nil, unreachable(err)
	}
	if response.StatusCode < 400 || response.Header.Get("Nexus-Proxied") != "" {
		return response, nil
	}
	defer response.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(response.Body, maxAnswerBytes))
	return nil, errorFromAnswer(response.StatusCode, body, response.Header)
}
