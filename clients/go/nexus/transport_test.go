package nexus

// The Transport over real servers on 127.0.0.1: the shared redirect vectors, the refresh on a
// provider's 401, what a redirect may and may not carry, and the proxy mode.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// arrival is one request an API received.
type arrival struct {
	at, path, method, body string
	header                 http.Header
}

// hopServers are two APIs, "allowed" (the envelope's one origin) and "foreign". Hop i of the
// running chain is /hop/i on the server its `at` names, answering its status with a Location
// at the next hop (the last redirect points at itself again).
type hopServers struct {
	mu        sync.Mutex
	base      map[string]string
	hops      []hop
	arrivals  []arrival
	echoQuery bool
	// stale, when set, is an Authorization answered 401, as an API that revoked it would.
	stale string
}

type hop struct {
	At         string `json:"at"`
	Status     int    `json:"status"`
	Credential bool   `json:"credential"`
	Method     string `json:"method"`
	Body       *string
}

func newHopServers(t *testing.T) *hopServers {
	h := &hopServers{base: map[string]string{}}
	for _, at := range []string{"allowed", "foreign"} {
		at := at
		server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.serve(at, w, r) }))
		t.Cleanup(server.Close)
		h.base[at] = server.URL
	}
	return h
}

func (h *hopServers) serve(at string, w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.arrivals = append(h.arrivals, arrival{at: at, path: r.URL.RequestURI(), method: r.Method, body: string(body), header: r.Header.Clone()})
	var index int
	fmt.Sscanf(r.URL.Path, "/hop/%d", &index)
	status := h.hops[index].Status
	if h.stale != "" && r.Header.Get("Authorization") == h.stale {
		status = http.StatusUnauthorized
	}
	if status >= 300 && status < 400 {
		following := index + 1
		if following >= len(h.hops) {
			following = len(h.hops) - 1
		}
		query := ""
		if h.echoQuery && r.URL.RawQuery != "" {
			query = "?" + r.URL.RawQuery
		}
		w.Header().Set("Location", fmt.Sprintf("%s/hop/%d%s", h.base[h.hops[following].At], following, query))
	}
	w.WriteHeader(status)
	fmt.Fprintf(w, "answer %d", index)
}

func (h *hopServers) reset(hops []hop) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hops, h.arrivals, h.echoQuery, h.stale = hops, nil, false, ""
}

func strategyJSON(text string) json.RawMessage { return json.RawMessage(text) }

var target = Target{WorkspaceID: "ws-vectors", Provider: "vectors"}

// send makes one request through an authenticated client and reads the answer.
func send(t *testing.T, client *http.Client, method, address, body string, header http.Header) (*http.Response, error) {
	t.Helper()
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, address, reader)
	if err != nil {
		t.Fatal(err)
	}
	for name, values := range header {
		req.Header[name] = values
	}
	response, err := client.Do(req)
	if err == nil {
		_, _ = io.ReadAll(response.Body)
		response.Body.Close()
	}
	return response, err
}

// credentialArrived reports whether a request carried the credential wherever the strategy puts it.
func credentialArrived(strategy map[string]string, credentials map[string]string, got arrival) bool {
	for _, secret := range credentials {
		if strings.Contains(got.path, url.QueryEscape(secret)) {
			return true
		}
		for _, values := range got.header {
			for _, value := range values {
				if strings.Contains(value, secret) {
					return true
				}
			}
		}
	}
	// Basic auth carries the pair encoded.
	return strategy["type"] == "basic_auth" && strings.HasPrefix(got.header.Get("Authorization"), "Basic ")
}

func TestRedirectVectors(t *testing.T) {
	var vectors struct {
		Redirects []struct {
			Name        string            `json:"name"`
			Strategy    map[string]string `json:"strategy"`
			Credentials map[string]string `json:"credentials"`
			Method      string            `json:"method"`
			Body        string            `json:"body"`
			Hops        []hop             `json:"hops"`
		} `json:"redirects"`
	}
	readVectors(t, "origins.json", &vectors)
	if len(vectors.Redirects) < 9 {
		t.Fatalf("only %d redirect cases", len(vectors.Redirects))
	}
	servers := newHopServers(t)
	for _, c := range vectors.Redirects {
		c := c
		t.Run(c.Name, func(t *testing.T) {
			strategy, _ := json.Marshal(c.Strategy)
			gateway := newFakeGateway(t, envelopeJSON(strategy, c.Credentials, []string{servers.base["allowed"]}, nil), nil)
			servers.reset(c.Hops)
			client := NewAuthenticatedHTTPClient(gateway.credentials(), target)
			response, err := send(t, client, c.Method, servers.base["allowed"]+"/hop/0", c.Body, nil)
			if err != nil {
				t.Fatal(err)
			}
			if response.StatusCode != c.Hops[len(c.Hops)-1].Status {
				t.Fatalf("final status %d", response.StatusCode)
			}
			if len(servers.arrivals) != len(c.Hops) {
				t.Fatalf("%d arrivals for %d hops", len(servers.arrivals), len(c.Hops))
			}
			for i, want := range c.Hops {
				got := servers.arrivals[i]
				if got.at != want.At || !strings.HasPrefix(got.path, fmt.Sprintf("/hop/%d", i)) {
					t.Fatalf("hop %d went to %s %s", i, got.at, got.path)
				}
				if credentialArrived(c.Strategy, c.Credentials, got) != want.Credential {
					t.Fatalf("hop %d: credential arrived = %v, want %v", i, !want.Credential, want.Credential)
				}
				if want.Method != "" && got.method != want.Method {
					t.Fatalf("hop %d: method %s, want %s", i, got.method, want.Method)
				}
				if want.Body != nil && got.body != *want.Body {
					t.Fatalf("hop %d: body %q, want %q", i, got.body, *want.Body)
				}
			}
		})
	}
}

func (h *hop) UnmarshalJSON(data []byte) error {
	type plain hop
	var raw struct {
		plain
		Body *string `json:"body"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	*h = hop(raw.plain)
	h.Body = raw.Body
	return nil
}

func TestMoreThanTenRedirectsIsAnError(t *testing.T) {
	servers := newHopServers(t)
	servers.reset([]hop{{At: "allowed", Status: 302}})
	gateway := newFakeGateway(t, envelopeJSON(strategyJSON(`{"type":"oauth2"}`), map[string]string{"access_token": "tok-x"}, []string{servers.base["allowed"]}, nil), nil)
	_, err := send(t, NewAuthenticatedHTTPClient(gateway.credentials(), target), "GET", servers.base["allowed"]+"/hop/0", "", nil)
	if codeOf(err) != "too_many_redirects" || len(servers.arrivals) != 11 {
		t.Fatalf("got %v after %d requests", err, len(servers.arrivals))
	}
}

func TestAForeignOriginIsRefusedBeforeAnythingIsSent(t *testing.T) {
	servers := newHopServers(t)
	servers.reset([]hop{{At: "foreign", Status: 200}})
	gateway := newFakeGateway(t, envelopeJSON(strategyJSON(`{"type":"oauth2"}`), map[string]string{"access_token": "tok-origin"}, []string{servers.base["allowed"]}, nil), nil)
	credentials := gateway.credentials()
	for _, transport := range []*Transport{
		{Credentials: credentials, Target: target},
		{Credentials: credentials, Target: target, Origins: []string{servers.base["foreign"]}},
	} {
		address := servers.base["foreign"] + "/hop/0"
		if transport.Origins != nil {
			address = servers.base["allowed"] + "/hop/0"
		}
		_, err := send(t, &http.Client{Transport: transport}, "GET", address, "", nil)
		if codeOf(err) != CodeOriginNotAllowed || strings.Contains(err.Error(), "tok-origin") {
			t.Fatalf("got %v", err)
		}
	}
	if len(servers.arrivals) != 0 {
		t.Fatalf("%d requests reached an API", len(servers.arrivals))
	}
}

func TestTheCallersOwnCredentialsStopAtTheOriginToo(t *testing.T) {
	servers := newHopServers(t)
	servers.reset([]hop{{At: "allowed", Status: 302}, {At: "foreign", Status: 200}})
	gateway := newFakeGateway(t, envelopeJSON(strategyJSON(`{"type":"query_param","param_name":"key"}`), map[string]string{"api_key": "k-1"}, []string{servers.base["allowed"]}, nil), nil)
	mine := http.Header{"Authorization": {"Bearer caller"}, "Cookie": {"session=caller"}, "Proxy-Authorization": {"Basic eA=="}, "X-Trace": {"t"}}
	if _, err := send(t, NewAuthenticatedHTTPClient(gateway.credentials(), target), "GET", servers.base["allowed"]+"/hop/0", "", mine); err != nil {
		t.Fatal(err)
	}
	first, second := servers.arrivals[0], servers.arrivals[1]
	for name := range mine {
		if first.header.Get(name) != mine.Get(name) {
			t.Fatalf("the first hop lost %s", name)
		}
	}
	if second.header.Get("Authorization")+second.header.Get("Cookie")+second.header.Get("Proxy-Authorization") != "" || second.header.Get("X-Trace") != "t" {
		t.Fatalf("the foreign hop got %v", second.header)
	}
}

func TestWhatALocationRepeatsOfTheCredentialIsNotCarriedOut(t *testing.T) {
	servers := newHopServers(t)
	for _, c := range []struct {
		strategy string
		extras   map[string]interface{}
		first    string
	}{
		{`{"type":"query_param","param_name":"api_key"}`, nil, "/hop/0?page=2&api_key=k-echo"},
		{`{"type":"oauth2"}`, map[string]interface{}{"api_query": map[string]string{"account": "acct-secret"}, "api_headers": map[string]string{"x-api-version": "2"}}, "/hop/0?page=2&account=acct-secret"},
	} {
		servers.reset([]hop{{At: "allowed", Status: 301}, {At: "foreign", Status: 200}})
		servers.echoQuery = true
		credentials := map[string]string{"api_key": "k-echo", "access_token": "tok-q"}
		gateway := newFakeGateway(t, envelopeJSON(strategyJSON(c.strategy), credentials, []string{servers.base["allowed"]}, c.extras), nil)
		if _, err := send(t, NewAuthenticatedHTTPClient(gateway.credentials(), target), "GET", servers.base["allowed"]+"/hop/0?page=2", "", nil); err != nil {
			t.Fatal(err)
		}
		first, second := servers.arrivals[0], servers.arrivals[1]
		if first.path != c.first || second.path != "/hop/1?page=2" {
			t.Fatalf("paths %s, %s", first.path, second.path)
		}
		if strings.Contains(second.header.Get("Referer"), "k-echo") || strings.Contains(second.header.Get("Referer"), "acct-secret") || second.header.Get("X-Api-Version") != "" {
			t.Fatalf("the foreign hop got %v", second.header)
		}
	}
}

func TestA401RefreshesOnceAndSendsTheBodyAgain(t *testing.T) {
	servers := newHopServers(t)
	servers.reset([]hop{{At: "allowed", Status: 200}})
	servers.stale = "Bearer tok-stale"
	oauth := strategyJSON(`{"type":"oauth2"}`)
	origins := []string{servers.base["allowed"]}
	gateway := newFakeGateway(t,
		envelopeJSON(oauth, map[string]string{"access_token": "tok-stale"}, origins, nil),
		envelopeJSON(oauth, map[string]string{"access_token": "tok-fresh"}, origins, nil))
	client := NewAuthenticatedHTTPClient(gateway.credentials(), target)
	response, err := send(t, client, "POST", servers.base["allowed"]+"/hop/0", "payload", nil)
	if err != nil || response.StatusCode != 200 {
		t.Fatalf("%v %v", response, err)
	}
	if len(servers.arrivals) != 2 || servers.arrivals[1].header.Get("Authorization") != "Bearer tok-fresh" || servers.arrivals[1].body != "payload" {
		t.Fatalf("arrivals %+v", servers.arrivals)
	}
	if gateway.refreshes.Load() != 1 {
		t.Fatalf("%d refreshes", gateway.refreshes.Load())
	}
	// The refreshed token is cached: the next request sends it at once.
	if _, err := send(t, client, "GET", servers.base["allowed"]+"/hop/0", "", nil); err != nil || len(servers.arrivals) != 3 || gateway.refreshes.Load() != 1 {
		t.Fatalf("%v, %d arrivals", err, len(servers.arrivals))
	}

	// A provider that refuses the new token too gets one refresh, not a loop.
	servers.reset([]hop{{At: "allowed", Status: 401}})
	response, err = send(t, NewAuthenticatedHTTPClient(gateway.credentials(), target), "GET", servers.base["allowed"]+"/hop/0", "", nil)
	if err != nil || response.StatusCode != 401 || len(servers.arrivals) != 2 || gateway.refreshes.Load() != 2 {
		t.Fatalf("%v %v, %d arrivals, %d refreshes", response, err, len(servers.arrivals), gateway.refreshes.Load())
	}

	// A body that cannot be read again keeps the 401 (nothing is resent without its body).
	servers.reset([]hop{{At: "allowed", Status: 401}})
	reader, writer := io.Pipe()
	go func() { _, _ = writer.Write([]byte("once")); writer.Close() }()
	req, _ := http.NewRequest("POST", servers.base["allowed"]+"/hop/0", reader)
	response, err = NewAuthenticatedHTTPClient(gateway.credentials(), target).Do(req)
	if err != nil || response.StatusCode != 401 || len(servers.arrivals) != 1 || gateway.refreshes.Load() != 2 {
		t.Fatalf("%v %v, %d arrivals", response, err, len(servers.arrivals))
	}
	response.Body.Close()

	// An API key is not refreshed: its 401 is the API's answer.
	servers.reset([]hop{{At: "allowed", Status: 401}})
	keyed := newFakeGateway(t, envelopeJSON(strategyJSON(`{"type":"api_key"}`), map[string]string{"api_key": "k"}, origins, nil), nil)
	response, err = send(t, NewAuthenticatedHTTPClient(keyed.credentials(), target), "GET", servers.base["allowed"]+"/hop/0", "", nil)
	if err != nil || response.StatusCode != 401 || keyed.refreshes.Load() != 0 {
		t.Fatalf("%v %v", response, err)
	}
}

func TestAFailedRefreshIsTheGatewaysError(t *testing.T) {
	servers := newHopServers(t)
	servers.reset([]hop{{At: "allowed", Status: 401}})
	oauth := strategyJSON(`{"type":"oauth2"}`)
	gateway := newFakeGateway(t,
		envelopeJSON(oauth, map[string]string{"access_token": "tok-1"}, []string{servers.base["allowed"]}, nil),
		[]byte(`{"code":"attention_required","message":"the provider revoked the grant","request_id":"r-1","connection_id":"c-9"}`))
	gateway.refreshStatus = http.StatusConflict
	_, err := send(t, NewAuthenticatedHTTPClient(gateway.credentials(), target), "GET", servers.base["allowed"]+"/hop/0", "", nil)
	var nexusError *Error
	if !errorsAs(err, &nexusError) || nexusError.Code != "attention_required" || nexusError.ConnectionID != "c-9" {
		t.Fatalf("got %v", err)
	}
}

func TestTheRequestsContextIsHonoured(t *testing.T) {
	servers := newHopServers(t)
	servers.reset([]hop{{At: "allowed", Status: 200}})
	gateway := newFakeGateway(t, envelopeJSON(strategyJSON(`{"type":"oauth2"}`), map[string]string{"access_token": "tok"}, []string{servers.base["allowed"]}, nil), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", servers.base["allowed"]+"/hop/0", nil)
	_, err := NewAuthenticatedHTTPClient(gateway.credentials(), target).Do(req)
	if !errorsIs(err, context.Canceled) || len(servers.arrivals) != 0 {
		t.Fatalf("got %v, %d arrivals", err, len(servers.arrivals))
	}
}

func TestProxyModeSendsThroughTheGateway(t *testing.T) {
	var seen *http.Request
	var body string
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		seen, body = r.Clone(context.Background()), string(data)
		if r.Header.Get("Nexus-Provider") == "unknown" {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"code":"connection_not_found","message":"no connection","request_id":"r-2"}`))
			return
		}
		w.Header().Set("Nexus-Proxied", "true")
		w.WriteHeader(http.StatusTeapot)
	}))
	defer gateway.Close()
	credentials := NewCredentials(gateway.URL, "agent-key-proxy")
	client := &http.Client{Transport: &Transport{Credentials: credentials, Target: target, Proxy: true}}
	header := http.Header{"Authorization": {"Bearer mine"}, "Nexus-Connection-Id": {"other"}, "X-Caller": {"kept"}}
	response, err := send(t, client, "PUT", "https://api.example.com/v1/items?page=1", "data", header)
	if err != nil || response.StatusCode != http.StatusTeapot {
		t.Fatalf("%v %v", response, err)
	}
	if seen.URL.Path != "/v1/proxy" || seen.Method != "PUT" || body != "data" ||
		seen.Header.Get("Nexus-Proxy-Url") != "https://api.example.com/v1/items?page=1" ||
		seen.Header.Get("Authorization") != "Bearer agent-key-proxy" || seen.Header.Get("Nexus-Workspace-Id") != "ws-vectors" ||
		seen.Header.Get("Nexus-Provider") != "vectors" || seen.Header.Get("Nexus-Connection-Id") != "" || seen.Header.Get("X-Caller") != "kept" {
		t.Fatalf("the Gateway got %s %s %v", seen.Method, seen.URL, seen.Header)
	}
	unknown := &Transport{Credentials: credentials, Target: Target{WorkspaceID: "ws", Provider: "unknown"}, Proxy: true}
	_, err = send(t, &http.Client{Transport: unknown}, "GET", "https://api.example.com/", "", nil)
	if codeOf(err) != "connection_not_found" {
		t.Fatalf("got %v", err)
	}
	narrowed := &Transport{Credentials: credentials, Target: target, Proxy: true, Origins: []string{"https://elsewhere.example"}}
	seen = nil
	_, err = send(t, &http.Client{Transport: narrowed}, "GET", "https://api.example.com/", "", nil)
	if codeOf(err) != CodeOriginNotAllowed || seen != nil {
		t.Fatalf("got %v", err)
	}
}

func TestAnUnlinkedRedirectHopCarriesNoCredential(t *testing.T) {
	servers := newHopServers(t)
	servers.reset([]hop{{At: "allowed", Status: 200}})
	gateway := newFakeGateway(t, envelopeJSON(strategyJSON(`{"type":"oauth2"}`), map[string]string{"access_token": "tok-unlinked"}, []string{servers.base["allowed"]}, nil), nil)
	req, _ := http.NewRequest("GET", servers.base["allowed"]+"/hop/0", nil)
	// A hop whose chain is not linked, as a RoundTripper of another's making could pass on.
	req.Response = &http.Response{StatusCode: http.StatusFound}
	response, err := (&Transport{Credentials: gateway.credentials(), Target: target}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	response.Body.Close()
	if servers.arrivals[0].header.Get("Authorization") != "" {
		t.Fatal("an unplaceable hop carried the credential")
	}
}

func TestTheProxyModeFollowsNoRedirect(t *testing.T) {
	hops := 0
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hops++
		w.Header().Set("Nexus-Proxied", "true")
		w.Header().Set("Location", "https://api.example.com/elsewhere")
		w.WriteHeader(http.StatusFound)
	}))
	defer gateway.Close()
	credentials := NewCredentials(gateway.URL, "agent-key-proxy")
	// NewProxyHTTPClient hands the redirect back.
	response, err := send(t, NewProxyHTTPClient(credentials, target), "GET", "https://api.example.com/", "", nil)
	if err != nil || response.StatusCode != http.StatusFound || hops != 1 {
		t.Fatalf("%v %v after %d hops", response, err, hops)
	}
	// A client that follows redirects gets an error at the second hop, which is not sent.
	following := &http.Client{Transport: &Transport{Credentials: credentials, Target: target, Proxy: true}}
	if _, err := send(t, following, "GET", "https://api.example.com/", "", nil); err == nil || hops != 2 {
		t.Fatalf("got %v after %d hops", err, hops)
	}
}

func TestTheGatewaysRedirectsAreNotFollowed(t *testing.T) {
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the agent key was sent to a redirect's target: %v", r.Header.Get("Authorization"))
	}))
	defer elsewhere.Close()
	gateway := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+"/v1/resolve", http.StatusTemporaryRedirect)
	}))
	defer gateway.Close()
	_, err := NewCredentials(gateway.URL, "agent-key-redirected").Get(context.Background(), target)
	if codeOf(err) != CodeUnexpectedResponse {
		t.Fatalf("got %v", err)
	}
}
