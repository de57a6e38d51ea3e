"""AWS Signature Version 4 with botocore's signer (the optional extra ``nexus-broker-client[aws]``),
made at a given instant so the shared vectors can fix the clock."""

from __future__ import annotations

import datetime

from .errors import NexusError

SIGV4_TIMESTAMP = "%Y%m%dT%H%M%SZ"


def sign_aws(
    *,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    access_key_id: str,
    secret_access_key: str,
    session_token: str | None,
    service: str,
    region: str,
    now: datetime.datetime,
) -> dict[str, str]:
    """The headers the signature adds (``Authorization``, ``X-Amz-Date``, and
    ``X-Amz-Security-Token`` with temporary credentials)."""
    try:
        from botocore.auth import SigV4Auth  # type: ignore[import-untyped]
        from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]
        from botocore.credentials import Credentials  # type: ignore[import-untyped]
    except ImportError:
        raise NexusError("missing_dependency", "aws_sigv4 needs botocore: install nexus-broker-client[aws]") from None

    class AtInstant(SigV4Auth):  # type: ignore[misc]
        """botocore's signer, with the instant given instead of read from the clock."""

        def add_auth(self, request: AWSRequest) -> None:
            request.context["timestamp"] = now.astimezone(datetime.UTC).strftime(SIGV4_TIMESTAMP)
            self._modify_request_before_signing(request)
            canonical = self.canonical_request(request)
            string_to_sign = self.string_to_sign(request, canonical)
            self._inject_signature_to_request(request, self.signature(string_to_sign, request))

    request = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    AtInstant(Credentials(access_key_id, secret_access_key, session_token), service, region).add_auth(request)
    added = {name: value for name, value in request.headers.items() if name.lower() not in {k.lower() for k in headers}}
    return {name: str(value) for name, value in added.items()}
