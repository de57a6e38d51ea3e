package nexus

// Version is the SDK's version (stamped by `cargo xtask release` from the repository's VERSION file).
const Version = "0.1.0"

// UserAgent is sent on every Gateway call this package makes, so Nexus's logs can tell SDKs apart.
const UserAgent = "nexus-broker-client-go/" + Version
