package nexus

// Against a running Nexus (started by `cargo xtask fuzz`, which also connects ws-go-oauth to the
// real OpenID provider through a consent in headless Chromium): the generated clients parse
// what the Broker and the Gateway really answer, the Transport delivers an API key and an OAuth2
// token, refreshes once on a forced 401, reports a revoked connection and a missing scope, and
// the proxy mode works with a proxy_only key. Skipped (and said so) without NEXUS_GATEWAY_URL.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/nexus-broker/nexus/clients/go/broker"
	"github.com/nexus-broker/nexus/clients/go/gateway"
)

type live struct {
	t         *testing.T
	gateway   string
	broker    *broker.APIClient
	admin     string
	brokerURL string
}

func liveNexus(t *testing.T) *live {
	gatewayURL, brokerURL, admin := os.Getenv("NEXUS_GATEWAY_URL"), os.Getenv("NEXUS_BROKER_URL"), os.Getenv("NEXUS_ADMIN_KEY")
	if gatewayURL == "" || brokerURL == "" || admin == "" {
		t.Skip("skipped: no running Nexus (NEXUS_GATEWAY_URL, NEXUS_BROKER_URL, NEXUS_ADMIN_KEY); cargo xtask fuzz runs this")
	}
	cfg := broker.NewConfiguration()
	cfg.Servers = broker.ServerConfigurations{{URL: brokerURL}}
	cfg.AddDefaultHeader("Authorization", "Bearer "+admin)
	return &live{t: t, gateway: gatewayURL, broker: broker.NewAPIClient(cfg), admin: admin, brokerURL: brokerURL}
}

// allowOrigins adds origins to those provider's credentials may be sent to (the local APIs
// here listen on ports chosen at random), before the first resolve.
func (l *live) allowOrigins(provider string, origins ...string) {
	ctx := context.Background()
	current, _, err := l.broker.ProvidersAPI.ProviderView(ctx, provider).Execute()
	if err != nil {
		l.t.Fatalf("reading provider %s: %v", provider, err)
	}
	update := broker.NewProviderUpdate()
	update.SetApiOrigins(append(current.ApiOrigins, origins...))
	if _, _, err := l.broker.ProvidersAPI.ProviderUpdate(ctx, provider).ProviderUpdate(*update).Execute(); err != nil {
		l.t.Fatalf("updating provider %s: %v", provider, err)
	}
}

// agentKey issues a key for workspace alone.
func (l *live) agentKey(name, workspace string, proxyOnly bool) string {
	create := broker.NewAgentKeyCreate(name)
	create.SetWorkspaceIds([]string{workspace})
	create.SetProxyOnly(proxyOnly)
	created, _, err := l.broker.AgentKeysAPI.AgentKeyCreate(context.Background()).AgentKeyCreate(*create).Execute()
	if err != nil {
		l.t.Fatalf("issuing an agent key: %v", err)
	}
	if strings.Contains(created.String(), created.Key) {
		l.t.Fatal("AgentKeyCreated prints its key")
	}
	return created.Key
}

// connectKeyed connects workspace to the API-key provider `keyed` through the hosted form's
// JSON variant.
func (l *live) connectKeyed(workspace, apiKey string) {
	consent := broker.NewConsentCreate("keyed", "http://127.0.0.1:9/done", workspace)
	started, _, err := l.broker.ConnectionsAPI.ConsentCreate(context.Background()).ConsentCreate(*consent).Execute()
	if err != nil {
		l.t.Fatalf("starting a consent: %v", err)
	}
	body, _ := json.Marshal(map[string]interface{}{"state": started.State, "credentials": map[string]string{"api_key": apiKey}})
	answer, err := http.Post(l.brokerURL+"/auth/capture", "application/json", strings.NewReader(string(body)))
	if err != nil || answer.StatusCode != 200 {
		l.t.Fatalf("capturing the key: %v %v", answer, err)
	}
	answer.Body.Close()
}

// recorder is a local API that records each request's headers and answers ok (or 401 to the
// first token it sees, when refuseFirst is set, as an API that revoked it would).
type recorder struct {
	mu          sync.Mutex
	headers     []http.Header
	refuseFirst bool
	server      *httptest.Server
}

func newRecorder(t *testing.T, refuseFirst bool) *recorder {
	r := &recorder{refuseFirst: refuseFirst}
	r.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.headers = append(r.headers, req.Header.Clone())
		first := len(r.headers) == 1
		r.mu.Unlock()
		if r.refuseFirst && first {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(r.server.Close)
	return r
}

// countingTransport counts the Gateway's resolves.
type countingTransport struct{ resolves atomic.Int32 }

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path == "/v1/resolve" {
		c.resolves.Add(1)
	}
	return http.DefaultTransport.RoundTrip(req)
}

func get(t *testing.T, client *http.Client, address string) (*http.Response, string, error) {
	t.Helper()
	response, err := client.Get(address)
	if err != nil {
		return nil, "", err
	}
	defer response.Body.Close()
	body, _ := io.ReadAll(response.Body)
	return response, string(body), nil
}

func TestLiveAPIKey(t *testing.T) {
	l := liveNexus(t)
	api := newRecorder(t, false)
	l.allowOrigins("keyed", api.server.URL)
	l.connectKeyed("ws-go", "sk-go")
	agentKey := l.agentKey("go-sdk", "ws-go", false)

	// The generated Gateway client parses what the Gateway answers.
	cfg := gateway.NewConfiguration()
	cfg.Servers = gateway.ServerConfigurations{{URL: l.gateway}}
	cfg.AddDefaultHeader("Authorization", "Bearer "+agentKey)
	client := gateway.NewAPIClient(cfg)
	envelope, _, err := client.TokensAPI.TokenResolve(context.Background()).WorkspaceId("ws-go").Provider("keyed").Execute()
	if err != nil || envelope.Credentials["api_key"] != "sk-go" || envelope.ExpiresAt != nil {
		t.Fatalf("resolve: %v %v", envelope, err)
	}
	catalog, _, err := client.CatalogAPI.ProviderCatalog(context.Background()).Execute()
	if err != nil || len(catalog.Items) == 0 {
		t.Fatalf("catalog: %v", err)
	}

	// 16 concurrent requests through the Transport: the key arrives, one Gateway call.
	counter := &countingTransport{}
	credentials := NewCredentials(l.gateway, agentKey, WithHTTPClient(&http.Client{Transport: counter}))
	authenticated := NewAuthenticatedHTTPClient(credentials, Target{WorkspaceID: "ws-go", Provider: "keyed"})
	var wait sync.WaitGroup
	statuses := make(chan int, 16)
	for i := 0; i < 16; i++ {
		wait.Add(1)
		go func() {
			defer wait.Done()
			response, _, err := get(t, authenticated, api.server.URL+"/v1/me")
			if err != nil {
				statuses <- 0
				return
			}
			statuses <- response.StatusCode
		}()
	}
	wait.Wait()
	close(statuses)
	for status := range statuses {
		if status != 200 {
			t.Fatalf("a request answered %d", status)
		}
	}
	if counter.resolves.Load() != 1 {
		t.Fatalf("%d Gateway calls for 16 concurrent requests", counter.resolves.Load())
	}
	for _, header := range api.headers {
		if header.Get("X-Api-Key") != "sk-go" {
			t.Fatalf("the key did not arrive: %v", header)
		}
	}
	// Outside the key's workspaces, and after a revocation: typed errors, no secret.
	outside := NewAuthenticatedHTTPClient(credentials, Target{WorkspaceID: "ws-1", Provider: "keyed"})
	if _, _, err := get(t, outside, api.server.URL); codeOf(err) != "connection_not_found" {
		t.Fatalf("outside the key's workspaces: %v", err)
	}
	if _, err := l.broker.ConnectionsAPI.ConnectionRevoke(context.Background(), envelope.ConnectionId).Execute(); err != nil {
		t.Fatalf("revoking: %v", err)
	}
	byID := NewAuthenticatedHTTPClient(NewCredentials(l.gateway, agentKey), Target{ConnectionID: envelope.ConnectionId})
	_, _, err = get(t, byID, api.server.URL)
	var revoked *Error
	if !errorsAs(err, &revoked) || revoked.Code != "connection_revoked" || revoked.Status != 409 || strings.Contains(err.Error(), "sk-go") {
		t.Fatalf("a revoked connection: %v", err)
	}

	// A proxy_only key: its requests go through the Gateway's proxy, the key never read here.
	l.connectKeyed("ws-go-proxy", "sk-go-proxy")
	proxyKey := l.agentKey("go-proxy", "ws-go-proxy", true)
	proxyCredentials := NewCredentials(l.gateway, proxyKey)
	proxyTarget := Target{WorkspaceID: "ws-go-proxy", Provider: "keyed"}
	if _, err := proxyCredentials.Get(context.Background(), proxyTarget); codeOf(err) != "proxy_only_key" {
		t.Fatalf("a proxy_only key read a credential: %v", err)
	}
	proxied := NewProxyHTTPClient(proxyCredentials, proxyTarget)
	response, body, err := get(t, proxied, api.server.URL+"/v1/me?page=1")
	if err != nil || response.StatusCode != 200 || body != "ok" || response.Header.Get("Nexus-Proxied") != "true" {
		t.Fatalf("through the proxy: %v %v", response, err)
	}
	last := api.headers[len(api.headers)-1]
	if last.Get("X-Api-Key") != "sk-go-proxy" || strings.Contains(last.Get("Authorization"), proxyKey) {
		t.Fatalf("the proxied request carried %v", last)
	}
}

func TestLiveOAuth2(t *testing.T) {
	l := liveNexus(t)
	issuer := os.Getenv("NEXUS_OIDC_ISSUER")
	if issuer == "" {
		t.Skip("skipped: no OpenID provider (NEXUS_OIDC_ISSUER); cargo xtask fuzz runs this")
	}
	refusing := newRecorder(t, true)
	parsed, _ := url.Parse(issuer)
	l.allowOrigins("oidc", parsed.Scheme+"://"+parsed.Host, refusing.server.URL)
	agentKey := l.agentKey("go-oauth", "ws-go-oauth", false)
	credentials := NewCredentials(l.gateway, agentKey)
	target := Target{WorkspaceID: "ws-go-oauth", Provider: "oidc"}
	client := NewAuthenticatedHTTPClient(credentials, target)

	// userinfo with the injected token.
	response, body, err := get(t, client, issuer+"/me")
	if err != nil || response.StatusCode != 200 || !strings.Contains(body, `"sub"`) {
		t.Fatalf("userinfo: %v %s %v", response, body, err)
	}
	// A forced 401: refreshed once through the Gateway, sent again with the new token.
	response, _, err = get(t, client, refusing.server.URL+"/v1/me")
	if err != nil || response.StatusCode != 200 || len(refusing.headers) != 2 {
		t.Fatalf("after a 401: %v %v (%d requests)", response, err, len(refusing.headers))
	}
	first, second := refusing.headers[0].Get("Authorization"), refusing.headers[1].Get("Authorization")
	if !strings.HasPrefix(first, "Bearer ") || !strings.HasPrefix(second, "Bearer ") || first == second {
		t.Fatal("the token was not refreshed before it was sent again")
	}
	req, _ := http.NewRequest("GET", issuer+"/me", nil)
	req.Header.Set("Authorization", second)
	if answer, err := http.DefaultClient.Do(req); err != nil || answer.StatusCode != 200 {
		t.Fatalf("the refreshed token does not work: %v %v", answer, err)
	}

	// A scope the grant lacks: a typed error, then an incremental consent of the same connection.
	wider := NewAuthenticatedHTTPClient(credentials, Target{WorkspaceID: "ws-go-oauth", Provider: "oidc", Scopes: []string{"openid", "profile"}})
	_, _, err = get(t, wider, issuer+"/me")
	var insufficient *Error
	if !errorsAs(err, &insufficient) || insufficient.Code != CodeInsufficientScope || insufficient.Status != 409 ||
		len(insufficient.MissingScopes) != 1 || insufficient.MissingScopes[0] != "profile" {
		t.Fatalf("a missing scope: %v", err)
	}
	started, err := credentials.RequestScopes(context.Background(), insufficient, "ws-go-oauth", "oidc", "http://127.0.0.1:9/done", nil)
	if err != nil || started.ConnectionId != insufficient.ConnectionID {
		t.Fatalf("incremental consent: %v %v", started, err)
	}
	consent, _ := url.Parse(started.AuthUrl)
	scope := " " + consent.Query().Get("scope") + " "
	if !strings.Contains(scope, " profile ") || !strings.Contains(scope, " email ") {
		t.Fatalf("the consent asks for %q, not the union of the grant and profile", scope)
	}
}
