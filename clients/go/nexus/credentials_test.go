package nexus

// Credentials against a Gateway on 127.0.0.1: the cache, one call for concurrent misses, typed
// errors, incremental consent, and nothing secret in any printed form.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func expiringEnvelope(token string, expiresAt time.Time) []byte {
	return envelopeJSON(strategyJSON(`{"type":"oauth2"}`), map[string]string{"access_token": token, "token_type": "Bearer"},
		[]string{"https://api.example.com"}, map[string]interface{}{"expires_at": expiresAt.UTC().Format(time.RFC3339)})
}

func TestConcurrentMissesMakeOneGatewayCall(t *testing.T) {
	gateway := newFakeGateway(t, expiringEnvelope("tok-1", time.Now().Add(time.Hour)), nil)
	gateway.delay = 50 * time.Millisecond
	credentials := gateway.credentials()
	var wait sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wait.Add(1)
		go func() {
			defer wait.Done()
			envelope, err := credentials.Get(context.Background(), target)
			if err == nil && envelope.Credentials["access_token"] != "tok-1" {
				err = fmt.Errorf("wrong envelope")
			}
			errs <- err
		}()
	}
	wait.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if gateway.resolves.Load() != 1 {
		t.Fatalf("%d Gateway calls for 16 concurrent misses", gateway.resolves.Load())
	}
	seen := gateway.seen[0]
	if seen.Get("Authorization") != "Bearer agent-key-secret-0000" || seen.Get("User-Agent") != UserAgent {
		t.Fatalf("the Gateway got %v", seen)
	}
	// Another target is another entry.
	if _, err := credentials.Get(context.Background(), Target{ConnectionID: "c-1", Scopes: []string{"a", "b"}}); err != nil {
		t.Fatal(err)
	}
	if gateway.resolves.Load() != 2 || gateway.seen[1].Get("Authorization") == "" {
		t.Fatalf("%d calls", gateway.resolves.Load())
	}
}

func TestAnEnvelopeIsKeptUntilItsExpiryMinusTheSkew(t *testing.T) {
	// A token with 30 s left is within the default skew of 60 s: read each time.
	short := newFakeGateway(t, expiringEnvelope("tok-short", time.Now().Add(30*time.Second)), nil)
	credentials := short.credentials()
	for i := 0; i < 3; i++ {
		if _, err := credentials.Get(context.Background(), target); err != nil {
			t.Fatal(err)
		}
	}
	if short.resolves.Load() != 3 {
		t.Fatalf("%d calls for a token within the skew", short.resolves.Load())
	}
	// With a 10 s skew it is kept.
	credentials = short.credentials(WithSkew(10 * time.Second))
	for i := 0; i < 3; i++ {
		_, _ = credentials.Get(context.Background(), target)
	}
	if short.resolves.Load() != 4 {
		t.Fatalf("%d calls with a 10 s skew", short.resolves.Load())
	}
	// An API key has no expiry: kept for the static maximum age, then read again.
	keyed := newFakeGateway(t, envelopeJSON(strategyJSON(`{"type":"api_key"}`), map[string]string{"api_key": "k"}, []string{"https://api.example.com"}, nil), nil)
	credentials = keyed.credentials(WithStaticMaxAge(100 * time.Millisecond))
	_, _ = credentials.Get(context.Background(), target)
	_, _ = credentials.Get(context.Background(), target)
	if keyed.resolves.Load() != 1 {
		t.Fatalf("%d calls within the maximum age", keyed.resolves.Load())
	}
	time.Sleep(150 * time.Millisecond) // the age itself is what is tested
	_, _ = credentials.Get(context.Background(), target)
	credentials.Forget(target)
	_, _ = credentials.Get(context.Background(), target)
	if keyed.resolves.Load() != 3 {
		t.Fatalf("%d calls after the maximum age and a Forget", keyed.resolves.Load())
	}
}

func TestGatewayErrorsAreTyped(t *testing.T) {
	gateway := newFakeGateway(t, nil, nil)
	credentials := gateway.credentials()
	gateway.status, gateway.body = http.StatusConflict,
		`{"code":"insufficient_scope","message":"the connection lacks scopes","request_id":"r-7","connection_id":"c-3","missing_scopes":["profile"]}`
	_, err := credentials.Get(context.Background(), Target{WorkspaceID: "w", Provider: "p", Scopes: []string{"openid", "profile"}})
	var insufficient *Error
	if !errorsAs(err, &insufficient) || insufficient.Code != CodeInsufficientScope || insufficient.Status != 409 ||
		insufficient.ConnectionID != "c-3" || len(insufficient.MissingScopes) != 1 || insufficient.RequestID != "r-7" {
		t.Fatalf("got %#v", err)
	}
	if !strings.Contains(gateway.server.URL, "127.0.0.1") {
		t.Fatal("the Gateway is not local")
	}
	requested, err := credentials.RequestScopes(context.Background(), insufficient, "w", "p", "https://app.example/done", nil)
	if err != nil || requested.ConnectionId != "c-3" || !strings.HasSuffix(requested.AuthUrl, "scope=profile") {
		t.Fatalf("%v %v", requested, err)
	}

	gateway.status, gateway.body = http.StatusBadGateway, "<html>bad gateway</html>"
	_, err = credentials.Get(context.Background(), Target{WorkspaceID: "w", Provider: "other"})
	if codeOf(err) != CodeUnexpectedResponse || err.(*Error).RequestID != "req-fake" {
		t.Fatalf("got %v", err)
	}
	gateway.status, gateway.body = http.StatusOK, `{"strategy":{"type":"mutual_tls"},"credentials":{"cert":"secret-cert"}}`
	_, err = credentials.Get(context.Background(), Target{WorkspaceID: "w", Provider: "newer"})
	if codeOf(err) != CodeUnsupportedStrategy || strings.Contains(err.Error(), "secret-cert") {
		t.Fatalf("got %v", err)
	}
	gateway.status, gateway.body = http.StatusOK, `{"strategy":{"type":"oauth2"},"credentials":{"access_token":"secret-tok"},"api_origins":"nope"}`
	_, err = credentials.Get(context.Background(), Target{WorkspaceID: "w", Provider: "broken"})
	if codeOf(err) != CodeMalformedEnvelope || strings.Contains(err.Error(), "secret-tok") {
		t.Fatalf("got %v", err)
	}
	if _, err := credentials.Get(context.Background(), Target{WorkspaceID: "w"}); err == nil {
		t.Fatal("an incomplete target was accepted")
	}

	gateway.server.Close()
	_, err = credentials.Get(context.Background(), Target{WorkspaceID: "w", Provider: "gone"})
	if codeOf(err) != CodeGatewayUnreachable || strings.Contains(err.Error(), "agent-key") || strings.Contains(err.Error(), "workspace_id") {
		t.Fatalf("got %v", err)
	}
}

func TestNothingPrintedShowsASecret(t *testing.T) {
	gateway := newFakeGateway(t, envelopeJSON(strategyJSON(`{"type":"oauth2"}`), map[string]string{"access_token": "tok-printed"},
		[]string{"https://api.example.com"}, map[string]interface{}{"api_headers": map[string]string{"X-Account": "acct-printed"}, "api_query": map[string]string{"sig": "sig-printed"}}), nil)
	credentials := gateway.credentials()
	envelope, err := credentials.Get(context.Background(), target)
	if err != nil {
		t.Fatal(err)
	}
	transport := &Transport{Credentials: credentials, Target: target}
	printed := fmt.Sprintf("%v %+v %#v %s %v %+v %#v %v %+v", envelope, envelope, envelope, *envelope, credentials, credentials, credentials, transport, transport)
	for _, secret := range []string{"tok-printed", "acct-printed", "sig-printed", "agent-key-secret"} {
		if strings.Contains(printed, secret) {
			t.Fatalf("%s is printed: %s", secret, printed)
		}
	}
	if !strings.Contains(printed, "[REDACTED]") || !strings.Contains(printed, `{"type":"oauth2"}`) || !strings.Contains(printed, "ws-vectors") {
		t.Fatalf("the envelope is not shown usefully: %s", printed)
	}
}
