//! id_token verification (signature through the provider's JWKS, issuer, audience, expiry,
//! nonce), delegated to the `openidconnect` crate rather than written by hand.

use nexus_domain::secret::{ExposeSecret, SecretString};
use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet};
use openidconnect::{ClientId, ClientSecret, IssuerUrl, Nonce};

/// Verifies an id_token; the error is a short reason, safe to log (no token content).
pub fn verify(
    id_token: &str,
    jwks_json: &[u8],
    issuer: &str,
    client_id: &str,
    client_secret: &SecretString,
    nonce: &str,
) -> Result<(), String> {
    let jwks: CoreJsonWebKeySet = serde_json::from_slice(jwks_json).map_err(|_| "the JWKS is not valid".to_owned())?;
    let issuer = IssuerUrl::new(issuer.to_owned()).map_err(|_| "the issuer is not a URL".to_owned())?;
    let verifier = CoreIdTokenVerifier::new_confidential_client(
        ClientId::new(client_id.to_owned()),
        ClientSecret::new(client_secret.expose_secret().to_owned()),
        issuer,
        jwks,
    );
    let token: CoreIdToken = id_token.parse().map_err(|_| "the id_token is not a JWT".to_owned())?;
    token
        .claims(&verifier, &Nonce::new(nonce.to_owned()))
        .map(|_| ())
        .map_err(|e| format!("the id_token failed verification: {e}"))
}
