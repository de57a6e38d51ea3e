"""Against a running Nexus (run by ``cargo xtask fuzz``): the generated Python client parses what
the Gateway really answers, for a credential without an expiry, and never shows the key."""

from __future__ import annotations

import sys

from nexus_client import gateway_client
from nexus_client.gateway.api.catalog import provider_catalog
from nexus_client.gateway.api.tokens import token_resolve
from nexus_client.gateway.models import CredentialEnvelope, Error, ProviderCatalog
from nexus_client.gateway.types import UNSET


def main(base_url: str, agent_key: str) -> None:
    client = gateway_client(base_url, agent_key)
    assert agent_key not in repr(client), "the key is hidden from repr"
    envelope = token_resolve.sync(client=client, workspace_id="ws-1", provider="keyed")
    assert isinstance(envelope, CredentialEnvelope), envelope
    assert envelope.credentials.additional_properties == {"api_key": "sk-fuzz"}, "the captured key"
    assert envelope.expires_at is UNSET, "an API key does not expire: the field is absent"
    missing = token_resolve.sync(client=client, workspace_id="ws-none", provider="keyed")
    assert isinstance(missing, Error) and missing.code == "connection_not_found", missing
    catalog = provider_catalog.sync(client=client)
    assert isinstance(catalog, ProviderCatalog) and [p.name for p in catalog.items] == ["keyed"], catalog
    print("the Python client parsed the Gateway's answers")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
