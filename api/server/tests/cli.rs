//! The `nexus` binary as a newcomer runs it: development mode out of the box, production refusing
//! incomplete configuration, key generation and spec printing.

mod common;

use common::{NexusProcess, nexus_command as nexus};

#[tokio::test]
async fn serve_starts_on_sqlite_with_generated_development_keys() {
    // This process builds HTTP clients too: one TLS provider for it, as the server does.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("tempdir");
    let process = NexusProcess::spawn(nexus(dir.path()));
    let (broker, gateway) = (process.broker_url.clone(), process.gateway_url.clone());

    for base in [&broker, &gateway] {
        let health = reqwest::get(format!("{base}/readyz")).await.expect("readyz");
        assert_eq!(health.status(), 200);
    }
    let data = dir.path().join(".nexus");
    #[cfg(unix)]
    for file in ["encryption.key", "state.key", "admin.key"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join(file))
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    assert!(data.join("nexus.db").exists());
    let admin_key = std::fs::read_to_string(data.join("admin.key")).expect("admin key");
    let providers = reqwest::Client::new()
        .get(format!("{broker}/v1/providers"))
        .bearer_auth(admin_key.trim())
        .send()
        .await
        .expect("providers");
    assert_eq!(providers.status(), 200);

    // SIGTERM: in-flight work finishes and the process exits cleanly.
    assert!(process.terminate(), "nexus did not exit cleanly on SIGTERM");
}

#[test]
fn production_refuses_incomplete_configuration() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = nexus(dir.path())
        .args(["serve", "--production"])
        .output()
        .expect("run nexus");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for var in [
        "NEXUS_ENCRYPTION_KEYS",
        "NEXUS_STATE_KEY",
        "NEXUS_ADMIN_KEYS",
        "NEXUS_DATABASE_URL",
        "NEXUS_PUBLIC_URL",
    ] {
        assert!(stderr.contains(var), "{stderr}");
    }
    assert!(
        !dir.path().join(".nexus").exists(),
        "production mode must not generate keys"
    );

    let output = nexus(dir.path())
        .args(["serve", "--production"])
        .env("NEXUS_ENCRYPTION_KEYS", "c2hvcnQ=")
        .env("NEXUS_STATE_KEY", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        .env("NEXUS_ADMIN_KEYS", "x".repeat(40))
        .env("NEXUS_DATABASE_URL", "sqlite://nexus.db?mode=rwc")
        .env("NEXUS_PUBLIC_URL", "https://nexus.example.com")
        .env("NEXUS_ALLOWED_RETURN_URLS", "app.example.com")
        .output()
        .expect("run nexus");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("NEXUS_ENCRYPTION_KEYS: key #1 decoded to 5 bytes, expected 32"),
        "{stderr}"
    );
    assert!(!stderr.contains(&"x".repeat(40)), "an admin key reached the output");
}

/// The benchmark's baseline exists only in a `--features bench` build.
#[test]
fn a_normal_build_has_no_benchmark_baseline() {
    let dir = tempfile::tempdir().expect("tempdir");
    for args in [
        vec!["serve", "--bench-baseline"],
        vec!["gateway", "--broker-url", "http://127.0.0.1:9", "--bench-baseline"],
    ] {
        let output = nexus(dir.path()).args(&args).output().expect("run nexus");
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--bench-baseline"), "{args:?}: {stderr}");
    }
}

#[test]
fn keys_generate_prints_a_32_byte_key() {
    use base64::Engine;
    let dir = tempfile::tempdir().expect("tempdir");
    let output = nexus(dir.path())
        .args(["keys", "generate"])
        .output()
        .expect("run nexus");
    assert!(output.status.success());
    let key = String::from_utf8(output.stdout).expect("utf8");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(key.trim())
        .expect("base64");
    assert_eq!(bytes.len(), 32);
}

#[test]
fn openapi_prints_the_committed_specs() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (api, spec) in [
        ("broker", nexus_http::broker_spec()),
        ("gateway", nexus_http::gateway_spec()),
    ] {
        let output = nexus(dir.path()).args(["openapi", api]).output().expect("run nexus");
        assert!(output.status.success());
        assert_eq!(String::from_utf8(output.stdout).expect("utf8"), spec);
    }
}

#[tokio::test]
async fn keys_rotate_re_encrypts_under_the_newest_key() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().expect("tempdir");
    let old = nexus_server::config::generate_key();
    let new = nexus_server::config::generate_key();
    let database = format!("sqlite://{}?mode=rwc", dir.path().join("nexus.db").display());

    // A provider whose client secret is sealed with the old key.
    let mut serve = nexus(dir.path());
    serve
        .env("NEXUS_ENCRYPTION_KEYS", &old)
        .env("NEXUS_DATABASE_URL", &database)
        .env("NEXUS_ADMIN_KEYS", "rotation-admin-key");
    let process = NexusProcess::spawn(serve);
    let created = reqwest::Client::new()
        .post(format!("{}/v1/providers", process.broker_url))
        .bearer_auth("rotation-admin-key")
        .json(&serde_json::json!({
            "name": "acme", "auth_type": "oauth2", "client_id": "c", "client_secret": "s3cret",
            "authorization_url": "https://acme.test/auth", "token_url": "https://acme.test/token"
        }))
        .send()
        .await
        .expect("create provider");
    assert_eq!(created.status(), 201);
    let provider_id: nexus_domain::ProviderId = created.json::<serde_json::Value>().await.expect("JSON")["id"]
        .as_str()
        .expect("an id")
        .parse()
        .expect("a provider id");
    assert!(process.terminate());

    // The client secret as stored: the key it is sealed with, and what that key opens it to.
    let sealed = || async {
        use sea_orm::{Database, EntityTrait};
        let db = Database::connect(&database).await.expect("connect");
        let row = nexus_entities::provider::Entity::find_by_id(provider_id.as_uuid())
            .one(&db)
            .await
            .expect("read")
            .expect("the provider row");
        db.close().await.ok();
        nexus_domain::ciphertext::Ciphertext {
            key_id: row.client_secret_key_id.expect("a key id"),
            bytes: row.client_secret_ciphertext.expect("a ciphertext"),
        }
    };
    let (old_ring, new_ring) = (
        nexus_crypto::Keyring::parse(&old).expect("old key"),
        nexus_crypto::Keyring::parse(&new).expect("new key"),
    );
    let aad = nexus_services::client_secret_aad(provider_id);
    let before = sealed().await;
    assert_eq!(before.key_id, old_ring.primary_key_id());
    assert!(
        new_ring.decrypt(&before, &aad).is_err(),
        "the new key cannot open it yet"
    );

    let rotate = |keys: String| {
        nexus(dir.path())
            .args(["keys", "rotate"])
            .env("NEXUS_ENCRYPTION_KEYS", keys)
            .env("NEXUS_DATABASE_URL", &database)
            .output()
            .expect("run nexus")
    };
    let first = rotate(format!("{new},{old}"));
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(
        String::from_utf8_lossy(&first.stdout).contains("re-encrypted 1 secrets"),
        "{first:?}"
    );
    // Re-sealed: under the new key, a new ciphertext, the same secret, bound to the same row.
    let after = sealed().await;
    assert_eq!(after.key_id, new_ring.primary_key_id());
    assert_ne!(after.bytes, before.bytes);
    assert_eq!(new_ring.decrypt(&after, &aad).expect("the new key opens it"), b"s3cret");
    assert!(
        old_ring.decrypt(&after, &aad).is_err(),
        "the old key no longer opens it"
    );
    let other_row = nexus_services::client_secret_aad(nexus_domain::ProviderId::new());
    assert!(new_ring.decrypt(&after, &other_row).is_err(), "bound to its own row");
    let again = rotate(format!("{new},{old}"));
    assert!(
        String::from_utf8_lossy(&again.stdout).contains("re-encrypted 0 secrets"),
        "resumable: nothing left"
    );
    assert_eq!(sealed().await, after, "a second rotation leaves the row as it was");
    // The new key alone now opens it: a rotation with only the new key has nothing unreadable.
    let only_new = rotate(new);
    assert!(
        String::from_utf8_lossy(&only_new.stdout).contains("0 could not be opened"),
        "{only_new:?}"
    );
}
