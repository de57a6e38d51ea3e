"""The SDK's version (stamped by ``cargo xtask release`` from the repository's VERSION file)."""

__version__ = "0.1.0"

#: Sent by every client this package constructs, so the Broker's logs can tell SDKs apart.
USER_AGENT = f"nexus-broker-client-python/{__version__}"
