// Package nexus is the credential layer of Nexus's Go SDK: it reads a workspace's credential
// from the Gateway and applies it to outgoing requests, so an agent's code never handles a
// secret.
//
// [Credentials] resolves a [Target] (a workspace's connection to a provider, or one connection)
// through the Gateway and caches the envelope until it is within a skew of its expiry;
// concurrent misses for one target make one Gateway call. [NewAuthenticatedHTTPClient] (or a
// [Transport] in a client of your own) injects the credential into every request the way the
// provider's strategy says (bearer, header, query parameter, basic, API key, AWS Signature
// Version 4), sends it only to the envelope's api_origins, drops it when a redirect leaves the
// request's origin, and refreshes once and resends when the provider answers 401 to an OAuth2
// token. Every failure is an [*Error] carrying Nexus's stable code; none holds a key or a token,
// and no String method of this package or of the generated envelope prints one.
//
// The generated clients for every operation are in the sibling packages gateway and broker.
package nexus
