// The SDK's version (stamped by `cargo xtask release` from the repository's VERSION file).

export const VERSION = "0.1.0";
/** Sent by every client this package constructs (where the runtime lets a script set it). */
export const USER_AGENT = `nexus-broker-client-typescript/${VERSION}`;
