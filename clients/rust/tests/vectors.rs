//! The shared strategy vectors (`clients/testdata/strategies.json`), applied by `inject`.

use nexus_client::inject::{envelope_from_json, inject_at};
use serde_json::{Value, json};

#[test]
fn every_shared_vector() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/strategies.json");
    let vectors: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("vectors")).expect("JSON");
    let cases = vectors["cases"].as_array().expect("cases");
    assert!(cases.len() >= 10, "the vectors are all here");
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let mut envelope = json!({
            "connection_id": "0190a5b2-7c4e-7000-8000-000000000000",
            "workspace_id": "ws-1",
            "provider": "example",
            "strategy": case["strategy"],
            "credentials": case["credentials"],
            "scopes": [],
            "api_origins": case["api_origins"],
        });
        for extras in ["api_headers", "api_query"] {
            if let Some(value) = case.get(extras) {
                envelope[extras] = value.clone();
            }
        }
        let method: reqwest::Method = case["request"]["method"]
            .as_str()
            .expect("method")
            .parse()
            .expect("method");
        let url = reqwest::Url::parse(case["request"]["url"].as_str().expect("url")).expect("url");
        let request = reqwest::Request::new(method, url);
        let clock = case["clock"].as_str().map_or_else(std::time::SystemTime::now, |at| {
            chrono::DateTime::parse_from_rfc3339(at)
                .expect("clock")
                .with_timezone(&chrono::Utc)
                .into()
        });
        let applied = envelope_from_json(&envelope).and_then(|envelope| inject_at(&envelope, request, clock));
        if let Some(code) = case["error"].as_str() {
            let error = applied.expect_err(name);
            assert_eq!(error.code(), code, "{name}");
            for secret in case["credentials"].as_object().expect("credentials").values() {
                let secret = secret.as_str().expect("text");
                assert!(!error.to_string().contains(secret), "{name}: no secret in the error");
            }
            continue;
        }
        let sent = applied.unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected = &case["expected"];
        assert_eq!(sent.method().as_str(), expected["method"], "{name}");
        assert_eq!(sent.url().as_str(), expected["url"], "{name}");
        let headers: serde_json::Map<String, Value> = sent
            .headers()
            .iter()
            .map(|(name, value)| (name.to_string(), json!(value.to_str().expect("ASCII"))))
            .collect();
        assert_eq!(Value::Object(headers), expected["headers"], "{name}");
        assert!(
            sent.headers().values().all(|value| value.is_sensitive()),
            "{name}: credentials are hidden from Debug"
        );
    }
}
