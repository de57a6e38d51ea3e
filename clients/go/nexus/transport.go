package nexus

// An http.RoundTripper that applies a target's credential to every request: only within the
// envelope's origins, never across a redirect that leaves the request's origin, and refreshed
// once when the provider answers 401 to an OAuth2 token.

import (
	"io"
	"net/http"
	"net/url"

	"github.com/nexus-broker/nexus/clients/go/gateway"
)

// callerCredentialHeaders are the caller's own credentials, dropped with the strategy's once a
// redirect chain leaves its origin (net/http keeps them on a subdomain).
var callerCredentialHeaders = []string{"Authorization", "Cookie", "Proxy-Authorization"}

// Transport is an http.RoundTripper that sends each request with Target's credential, read from
// Credentials. Put it in any http.Client; the client may follow redirects (net/http's default):
// each hop is checked on its own, with the chain it belongs to.
type Transport struct {
	Credentials *Credentials
	Target      Target
	// Origins narrows the envelope's api_origins for these requests (nil: no narrowing).
	Origins []string
	// Proxy sends every request through the Gateway's proxy (/v1/proxy) instead: Nexus applies
	// the credential and this process never reads it (the only mode a proxy_only agent key
	// allows). Target.Scopes must be empty: the proxy checks none.
	Proxy bool
	// Base sends the requests (nil: http.DefaultTransport).
	Base http.RoundTripper
}

// NewAuthenticatedHTTPClient is an http.Client whose every request carries target's credential
// (see Transport). It follows redirects as net/http does (at most 10), the credential going
// only to hops within the first request's origin.
func NewAuthenticatedHTTPClient(credentials *Credentials, target Target) *http.Client {
	return &http.Client{Transport: &Transport{Credentials: credentials, Target: target}, CheckRedirect: atMostTenRedirects}
}

// NewProxyHTTPClient is an http.Client whose every request goes through the Gateway's proxy
// for target (see Transport.Proxy): the credential never reaches this process. Redirects come
// back as they are, unfollowed, as the proxy returns them.
func NewProxyHTTPClient(credentials *Credentials, target Target) *http.Client {
	return &http.Client{
		Transport:     &Transport{Credentials: credentials, Target: target, Proxy: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// maxRedirects is how many redirects a chain may follow; one more is too_many_redirects.
const maxRedirects = 10

func atMostTenRedirects(_ *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return refused("too_many_redirects", "the API redirected more than %d times", maxRedirects)
	}
	return nil
}

// String names the target, never a credential.
func (t *Transport) String() string {
	return "nexus.Transport{workspace: " + t.Target.WorkspaceID + ", provider: " + t.Target.Provider +
		", connection: " + t.Target.ConnectionID + "}"
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// withinOrigin reports whether every hop of the redirect chain req ends (net/http links each
// hop to the answer that asked for it, and that answer to its request) stayed within the first
// request's origin: once a chain leaves it, no later hop carries the credential, even back.
func withinOrigin(req *http.Request) bool {
	for hop := req; hop.Response != nil; hop = hop.Response.Request {
		// A redirect whose request is not linked (a RoundTripper of another's making) cannot be
		// placed in its chain: it is taken to have left the origin.
		if hop.Response.Request == nil || !sameOrigin(hop.Response.Request.URL, hop.URL) {
			return false
		}
	}
	return true
}

// RoundTrip sends req with the credential, or refuses it (an *Error) without sending anything.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.Target.check(); err != nil {
		closeBody(req)
		return nil, err
	}
	if t.Proxy {
		return t.throughProxy(req)
	}
	ctx := req.Context()
	envelope, err := t.Credentials.Get(ctx, t.Target)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	if req.Response == nil {
		response, err := t.send(envelope, req)
		return t.refreshOn401(envelope, req, response, err)
	}
	// A redirect's hop: it carries the credential only while the chain stays in its origin, and
	// either way never what a Location repeated of it.
	within := withinOrigin(req)
	hop := req.Clone(ctx)
	hop.URL = withoutCredential(envelope, req.URL)
	if referer := hop.Header.Get("Referer"); referer != "" {
		if parsed, err := url.Parse(referer); err == nil {
			hop.Header.Set("Referer", withoutCredential(envelope, parsed).String())
		} else {
			hop.Header.Del("Referer")
		}
	}
	if !within {
		for _, name := range callerCredentialHeaders {
			hop.Header.Del(name)
		}
		return t.base().RoundTrip(hop)
	}
	response, err := t.send(envelope, hop)
	return t.refreshOn401(envelope, hop, response, err)
}

// send injects the envelope's credential into req and sends it.
func (t *Transport) send(envelope *gateway.CredentialEnvelope, req *http.Request) (*http.Response, error) {
	injected, err := Inject(envelope, req, InjectOptions{Origins: t.Origins})
	if err != nil {
		closeBody(req)
		return nil, err
	}
	return t.base().RoundTrip(injected)
}

// refreshOn401 answers a provider's 401 to an OAuth2 token by refreshing it once through the
// Gateway and sending req again (its body from GetBody); a body that cannot be read again keeps
// the 401.
func (t *Transport) refreshOn401(envelope *gateway.CredentialEnvelope, req *http.Request, response *http.Response, err error) (*http.Response, error) {
	if err != nil || response.StatusCode != http.StatusUnauthorized || envelope.Strategy.StrategyOauth2Strategy == nil {
		return response, err
	}
	again := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			return response, nil
		}
		body, err := req.GetBody()
		if err != nil {
			return response, nil
		}
		again.Body = body
	}
	// The 401 is answered by the retry, or by the refresh's error: drain a little of it so the
	// connection can be reused.
	_, _ = io.CopyN(io.Discard, response.Body, 4096)
	response.Body.Close()
	fresh, err := t.Credentials.Refresh(req.Context(), t.Target, envelope)
	if err != nil {
		closeBody(again)
		return nil, err
	}
	return t.send(fresh, again)
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
