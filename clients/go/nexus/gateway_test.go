package nexus

// A Gateway for the unit tests: a real HTTP server on 127.0.0.1 answering resolves with one
// envelope and refreshes with another, counting both.

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type fakeGateway struct {
	server    *httptest.Server
	resolves  atomic.Int32
	refreshes atomic.Int32
	mu        sync.Mutex
	envelope  []byte
	refreshed []byte
	// refreshStatus is the refresh's status (0: 200).
	refreshStatus int
	// answer, when set, is what every resolve gets instead (a status and a body).
	status int
	body   string
	// delay holds each resolve, so concurrent misses overlap.
	delay time.Duration
	// seen are the Authorization and User-Agent headers of each call.
	seen []http.Header
}

func newFakeGateway(t *testing.T, envelope, refreshed []byte) *fakeGateway {
	g := &fakeGateway{envelope: envelope, refreshed: refreshed}
	g.server = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.server.Close)
	return g
}

func (g *fakeGateway) serve(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	g.seen = append(g.seen, r.Header.Clone())
	status, body, envelope, refreshed := g.status, g.body, g.envelope, g.refreshed
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", "req-fake")
	if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/v1/refresh/") {
		g.refreshes.Add(1)
		if g.refreshStatus != 0 {
			w.WriteHeader(g.refreshStatus)
		}
		_, _ = w.Write(refreshed)
		return
	}
	if r.Method == http.MethodPost && r.URL.Path == "/v1/request-connection" {
		var asked map[string]interface{}
		_ = json.NewDecoder(r.Body).Decode(&asked)
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]interface{}{
			"auth_url":      "https://consent.example/?scope=" + strings.Join(toStrings(asked["scopes"]), "+"),
			"connection_id": asked["connection_id"],
			"expires_at":    "2030-01-01T00:00:00Z",
		})
		return
	}
	g.resolves.Add(1)
	time.Sleep(g.delay)
	if status != 0 {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
		return
	}
	_, _ = w.Write(envelope)
}

func toStrings(value interface{}) []string {
	var out []string
	if list, ok := value.([]interface{}); ok {
		for _, item := range list {
			out = append(out, item.(string))
		}
	}
	return out
}

func (g *fakeGateway) credentials(options ...Option) *Credentials {
	return NewCredentials(g.server.URL+"/", "agent-key-secret-0000", options...)
}

func newServerForBench(g *fakeGateway) *httptest.Server {
	g.server = httptest.NewServer(http.HandlerFunc(g.serve))
	return g.server
}
