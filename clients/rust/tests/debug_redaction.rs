//! The generated types never print a credential, an agent key or a client secret in `Debug`
//! (logs, panics, `dbg!`): `cargo xtask clients generate` replaces their derived `Debug`.

use nexus_client::{broker, gateway};

#[test]
fn a_credential_envelope_hides_its_credentials() {
    let envelope: gateway::types::CredentialEnvelope = serde_json::from_value(serde_json::json!({
        "connection_id": "0190a5b2-7c4e-7000-8000-000000000000",
        "credentials": {"access_token": "tok-very-secret"},
        "provider": "github",
        "scopes": ["repo"],
        "strategy": {"type": "oauth2"},
        "workspace_id": "ws-1",
        "api_origins": ["https://api.github.com"]
    }))
    .expect("an envelope");
    let text = format!("{envelope:?}");
    assert!(!text.contains("tok-very-secret"), "{text}");
    assert!(text.contains("[REDACTED]") && text.contains("github"), "{text}");
    let broker_envelope: broker::types::CredentialEnvelope =
        serde_json::from_value(serde_json::to_value(&envelope).expect("JSON")).expect("the same envelope");
    assert!(!format!("{broker_envelope:?}").contains("tok-very-secret"));
}

#[test]
fn agent_keys_and_client_secrets_are_hidden() {
    let key: broker::types::AgentKeyCreated = serde_json::from_value(serde_json::json!({
        "all_workspaces": true,
        "created_at": "2026-01-01T00:00:00Z",
        "id": "0190a5b2-7c4e-7000-8000-000000000000",
        "key": "nxa_abcd.very-secret",
        "name": "agent",
        "prefix": "nxa_abcd",
        "proxy_only": false,
        "workspace_ids": []
    }))
    .expect("a created key");
    assert!(!format!("{key:?}").contains("very-secret"), "{key:?}");
    let create: broker::types::ProviderCreate =
        serde_json::from_value(serde_json::json!({"name": "github", "client_secret": "cs-very-secret"}))
            .expect("a provider");
    let text = format!("{create:?}");
    assert!(!text.contains("cs-very-secret") && text.contains("github"), "{text}");
    let update: broker::types::ProviderUpdate =
        serde_json::from_value(serde_json::json!({"client_secret": "cs-very-secret"})).expect("an update");
    assert!(!format!("{update:?}").contains("cs-very-secret"), "{update:?}");
}

#[test]
fn a_webhook_signing_secret_is_hidden() {
    let created: broker::types::WebhookWithSecret = serde_json::from_value(serde_json::json!({
        "secret": "whsec_very-secret",
        "webhook": {
            "id": "0190a5b2-7c4e-7000-8000-000000000000",
            "url": "https://hooks.example.com/nexus",
            "event_types": ["connection.revoked"],
            "enabled": true,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z"
        }
    }))
    .expect("a created webhook");
    let text = format!("{created:?}");
    assert!(
        !text.contains("very-secret") && text.contains("hooks.example.com"),
        "{text}"
    );
}
