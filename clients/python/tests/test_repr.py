"""Generated models never print a secret in their repr (logs, tracebacks, debuggers)."""

from __future__ import annotations

import uuid

from nexus_broker_client.broker.models import AgentKeyCreated, ProviderCreate, ProviderUpdate, WebhookWithSecret
from nexus_broker_client.broker.models import CredentialEnvelope as BrokerCredentialEnvelope
from nexus_broker_client.gateway.models import CredentialEnvelope


def test_a_credential_envelope_hides_its_credentials() -> None:
    envelope = CredentialEnvelope.from_dict(
        {
            "connection_id": str(uuid.uuid4()),
            "credentials": {"access_token": "tok-very-secret"},
            "provider": "github",
            "scopes": ["repo"],
            "strategy": {"type": "oauth2"},
            "workspace_id": "ws-1",
            "api_origins": ["https://api.github.com"],
        }
    )
    text = repr(envelope)
    assert "tok-very-secret" not in text
    assert "credentials=[REDACTED]" in text
    assert "provider='github'" in text
    assert "tok-very-secret" not in repr(envelope.credentials)
    broker_envelope = BrokerCredentialEnvelope.from_dict(envelope.to_dict())
    assert "tok-very-secret" not in repr(broker_envelope)
    assert "tok-very-secret" not in repr(broker_envelope.credentials)


def test_keys_and_client_secrets_are_hidden() -> None:
    created = ProviderCreate(name="github", client_secret="cs-very-secret")
    assert "cs-very-secret" not in repr(created)
    assert "cs-very-secret" not in repr(ProviderUpdate(client_secret="cs-very-secret"))
    assert "name='github'" in repr(created)
    key = AgentKeyCreated.from_dict(
        {
            "all_workspaces": True,
            "created_at": "2026-01-01T00:00:00Z",
            "id": str(uuid.uuid4()),
            "key": "nxa_abcd.very-secret",
            "name": "agent",
            "prefix": "nxa_abcd",
            "proxy_only": True,
            "workspace_ids": [],
        }
    )
    assert "very-secret" not in repr(key)
    assert "name='agent'" in repr(key)


def test_a_webhook_signing_secret_is_hidden() -> None:
    created = WebhookWithSecret.from_dict(
        {
            "secret": "whsec_very-secret",
            "webhook": {
                "id": str(uuid.uuid4()),
                "url": "https://hooks.example.com/nexus",
                "event_types": ["connection.revoked"],
                "enabled": True,
                "created_at": "2026-01-01T00:00:00Z",
                "updated_at": "2026-01-01T00:00:00Z",
            },
        }
    )
    assert "very-secret" not in repr(created)
    assert "secret=[REDACTED]" in repr(created)
    assert "hooks.example.com" in repr(created)


def test_headers_and_query_parameters_of_an_envelope_are_hidden() -> None:
    envelope = CredentialEnvelope.from_dict(
        {
            "connection_id": str(uuid.uuid4()),
            "credentials": {"api_key": "k"},
            "provider": "x",
            "scopes": [],
            "strategy": {"type": "oauth2"},
            "workspace_id": "ws-1",
            "api_headers": {"X-Tenant-Key": "hdr-very-secret"},
            "api_query": {"key": "qry-very-secret"},
            "api_origins": ["https://api.example.com"],
        }
    )
    assert "very-secret" not in repr(envelope)
    assert "very-secret" not in repr(envelope.api_headers)
    assert "very-secret" not in repr(envelope.api_query)
