package nexus

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/nexus-broker/nexus/clients/go/broker"
)

// The generated Broker models that carry a secret never print it: a created webhook's signing
// secret and an agent key (the list is generated with the models, deny-by-default).
func TestGeneratedBrokerModelsNeverPrintTheirSecrets(t *testing.T) {
	var created broker.WebhookWithSecret
	if err := json.Unmarshal([]byte(`{"secret":"whsec_very-secret","webhook":{"id":"0190a5b2-7c4e-7000-8000-000000000000",
		"url":"https://hooks.example.com/nexus","event_types":["connection.revoked"],"enabled":true,
		"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}}`), &created); err != nil {
		t.Fatal(err)
	}
	var key broker.AgentKeyCreated
	if err := json.Unmarshal([]byte(`{"all_workspaces":true,"created_at":"2026-01-01T00:00:00Z",
		"id":"0190a5b2-7c4e-7000-8000-000000000000","key":"nxa_abcd.very-secret","name":"agent","prefix":"nxa_abcd",
		"proxy_only":false,"workspace_ids":[]}`), &key); err != nil {
		t.Fatal(err)
	}
	printed := fmt.Sprintf("%v %+v %#v %v %+v %#v", created, created, created, key, &key, key)
	if strings.Contains(printed, "very-secret") {
		t.Fatalf("a secret is printed: %s", printed)
	}
	if created.Secret != "whsec_very-secret" || !strings.Contains(printed, "[REDACTED]") {
		t.Fatalf("got %q, printed %s", created.Secret, printed)
	}
}
