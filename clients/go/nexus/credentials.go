package nexus

// Credentials through the Gateway, cached: one Gateway call per target while its envelope is
// fresh, and one for any number of concurrent misses.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/nexus-broker/nexus/clients/go/gateway"
)

// maxAnswerBytes bounds what is read of a Gateway answer (an envelope is a few KiB).
const maxAnswerBytes = 1 << 20

// Target is what to resolve: a workspace's connection to a provider, or one connection, and the
// scopes the calls made with it need (none: whatever the connection has).
type Target struct {
	WorkspaceID  string
	Provider     string
	ConnectionID string
	Scopes       []string
}

func (t Target) check() error {
	if t.ConnectionID == "" && (t.WorkspaceID == "" || t.Provider == "") {
		return errors.New("nexus: a Target needs WorkspaceID and Provider, or ConnectionID")
	}
	return nil
}

// key is the target as a map key (a slice cannot be one).
func (t Target) key() string {
	return t.WorkspaceID + "\x00" + t.Provider + "\x00" + t.ConnectionID + "\x00" + strings.Join(t.Scopes, ",")
}

// path is the Gateway request that reads the target's envelope.
func (t Target) path() string {
	query := url.Values{}
	if len(t.Scopes) > 0 {
		query.Set("scopes", strings.Join(t.Scopes, ","))
	}
	path := "/v1/token/" + url.PathEscape(t.ConnectionID)
	if t.ConnectionID == "" {
		query.Set("workspace_id", t.WorkspaceID)
		query.Set("provider", t.Provider)
		path = "/v1/resolve"
	}
	if len(query) == 0 {
		return path
	}
	return path + "?" + query.Encode()
}

type entry struct {
	envelope   *gateway.CredentialEnvelope
	freshUntil time.Time
}

// Credentials resolves and caches credential envelopes through the Gateway. An envelope is kept
// until it is within the skew of its expiry; one without expiry (an API key) for the static
// maximum age, so a revoked connection is noticed. It is safe for concurrent use.
type Credentials struct {
	gatewayURL   string
	agentKey     string
	client       *http.Client
	skew         time.Duration
	staticMaxAge time.Duration

	mu      sync.Mutex
	entries map[string]entry
	// One lock per target, a channel so that waiting for it honours a context.
	locks map[string]chan struct{}
}

// Option changes a Credentials made by NewCredentials.
type Option func(*Credentials)

// WithHTTPClient makes the Gateway calls with client (default: a client with a 30 s timeout that
// follows no redirect, so the agent key goes to the Gateway only). A client of yours should not
// follow redirects either.
func WithHTTPClient(client *http.Client) Option { return func(c *Credentials) { c.client = client } }

// WithSkew sets how long before its expiry an envelope is read again (default 60 s).
func WithSkew(skew time.Duration) Option { return func(c *Credentials) { c.skew = skew } }

// WithStaticMaxAge sets how long an envelope without expiry is kept (default 60 s).
func WithStaticMaxAge(age time.Duration) Option { return func(c *Credentials) { c.staticMaxAge = age } }

// NewCredentials reads credentials from the Gateway at gatewayURL with an agent key.
func NewCredentials(gatewayURL, agentKey string, options ...Option) *Credentials {
	c := &Credentials{
		gatewayURL: strings.TrimRight(gatewayURL, "/"),
		agentKey:   agentKey,
		client: &http.Client{
			Timeout:       30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		skew:         time.Minute,
		staticMaxAge: time.Minute,
		entries:      map[string]entry{},
		locks:        map[string]chan struct{}{},
	}
	for _, option := range options {
		option(c)
	}
	return c
}

// String names the Gateway and the number of cached targets, never the agent key.
func (c *Credentials) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprintf("nexus.Credentials{gateway: %s, targets: %d}", c.gatewayURL, len(c.entries))
}

// GoString is String, so %#v shows no key either.
func (c *Credentials) GoString() string { return c.String() }

func (c *Credentials) fresh(target Target) *gateway.CredentialEnvelope {
	c.mu.Lock()
	defer c.mu.Unlock()
	found, ok := c.entries[target.key()]
	if !ok || !time.Now().Before(found.freshUntil) {
		return nil
	}
	return found.envelope
}

func (c *Credentials) keep(target Target, envelope *gateway.CredentialEnvelope) *gateway.CredentialEnvelope {
	freshUntil := time.Now().Add(c.staticMaxAge)
	if envelope.ExpiresAt != nil {
		freshUntil = envelope.ExpiresAt.Add(-c.skew)
	}
	c.mu.Lock()
	c.entries[target.key()] = entry{envelope: envelope, freshUntil: freshUntil}
	c.mu.Unlock()
	return envelope
}

// Forget drops the target's cached envelope: the next Get asks the Gateway.
func (c *Credentials) Forget(target Target) {
	c.mu.Lock()
	delete(c.entries, target.key())
	c.mu.Unlock()
}

// lock takes the target's lock, or gives up when ctx ends first; the caller must unlock.
func (c *Credentials) lock(ctx context.Context, target Target) (func(), error) {
	c.mu.Lock()
	lock, ok := c.locks[target.key()]
	if !ok {
		lock = make(chan struct{}, 1)
		c.locks[target.key()] = lock
	}
	c.mu.Unlock()
	select {
	case lock <- struct{}{}:
		return func() { <-lock }, nil
	case <-ctx.Done():
		return nil, unreachable(ctx.Err())
	}
}

// Get is the target's envelope: the cached one while it is fresh, else the Gateway's.
func (c *Credentials) Get(ctx context.Context, target Target) (*gateway.CredentialEnvelope, error) {
	if err := target.check(); err != nil {
		return nil, err
	}
	if envelope := c.fresh(target); envelope != nil {
		return envelope, nil
	}
	unlock, err := c.lock(ctx, target)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if envelope := c.fresh(target); envelope != nil {
		return envelope, nil // another caller read it meanwhile
	}
	return c.fetch(ctx, target, http.MethodGet, target.path())
}

// Refresh forces a refresh of stale's connection through the Gateway (after the provider
// refused its token), unless another caller has replaced stale meanwhile.
func (c *Credentials) Refresh(ctx context.Context, target Target, stale *gateway.CredentialEnvelope) (*gateway.CredentialEnvelope, error) {
	unlock, err := c.lock(ctx, target)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if current := c.fresh(target); current != nil && current != stale {
		return current, nil
	}
	return c.fetch(ctx, target, http.MethodPost, "/v1/refresh/"+url.PathEscape(stale.ConnectionId))
}

// fetch reads an envelope from the Gateway and keeps it for target.
func (c *Credentials) fetch(ctx context.Context, target Target, method, path string) (*gateway.CredentialEnvelope, error) {
	status, body, header, err := c.call(ctx, method, path, nil)
	if err != nil {
		return nil, err
	}
	envelope, err := envelopeFromAnswer(status, body, header)
	if err != nil {
		return nil, err
	}
	return c.keep(target, envelope), nil
}

// RequestScopes starts the incremental consent an insufficient_scope error calls for: the same
// connection, asking for scopes (nil: the missing ones) on top of its grant. Send the user to
// the answer's AuthUrl; until they finish, the connection keeps serving its old grant.
func (c *Credentials) RequestScopes(ctx context.Context, insufficient *Error, workspaceID, provider, returnURL string, scopes []string) (*gateway.ConnectionRequested, error) {
	if insufficient == nil || insufficient.Code != CodeInsufficientScope || insufficient.ConnectionID == "" {
		return nil, errors.New("nexus: RequestScopes needs an insufficient_scope error naming its connection")
	}
	if scopes == nil {
		scopes = insufficient.MissingScopes
	}
	request := gateway.NewConnectionRequest(provider, returnURL, workspaceID)
	request.SetConnectionId(insufficient.ConnectionID)
	request.SetScopes(scopes)
	payload, err := json.Marshal(request)
	if err != nil {
		return nil, err
	}
	status, body, header, err := c.call(ctx, http.MethodPost, "/v1/request-connection", payload)
	if err != nil {
		return nil, err
	}
	if status != http.StatusCreated {
		return nil, errorFromAnswer(status, body, header)
	}
	var requested gateway.ConnectionRequested
	if err := json.Unmarshal(body, &requested); err != nil {
		return nil, refused(CodeUnexpectedResponse, "the Gateway's answer is not a connection request")
	}
	return &requested, nil
}

func envelopeFromAnswer(status int, body []byte, header http.Header) (*gateway.CredentialEnvelope, error) {
	if status != http.StatusOK {
		return nil, errorFromAnswer(status, body, header)
	}
	return DecodeEnvelope(body)
}

// unreachable names the kind of failure only: a transport error's text can carry the URL.
func unreachable(cause error) *Error {
	kind := "a network error"
	switch {
	case errors.Is(cause, context.Canceled):
		kind = "the context was canceled"
	case errors.Is(cause, context.DeadlineExceeded):
		kind = "the deadline passed"
	}
	return &Error{Code: CodeGatewayUnreachable, Message: "the Gateway could not be reached (" + kind + ")", cause: contextCause(cause)}
}

// contextCause keeps a context's error (errors.Is(err, context.Canceled) holds), nothing else.
func contextCause(cause error) error {
	for _, known := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(cause, known) {
			return known
		}
	}
	return nil
}

// call makes one Gateway request with the agent key and reads its answer.
func (c *Credentials) call(ctx context.Context, method, path string, payload []byte) (int, []byte, http.Header, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.gatewayURL+path, body)
	if err != nil {
		return 0, nil, nil, refused(CodeGatewayUnreachable, "the Gateway URL is not usable")
	}
	req.Header.Set("Authorization", "Bearer "+c.agentKey)
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	response, err := c.client.Do(req)
	if err != nil {
		return 0, nil, nil, unreachable(err)
	}
	defer response.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(response.Body, maxAnswerBytes))
	if err != nil {
		return 0, nil, nil, unreachable(err)
	}
	return response.StatusCode, answer, response.Header, nil
}
