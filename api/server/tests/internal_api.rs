//! The Broker's internal API trusts no Gateway's word: a service key alone reads nothing, a
//! forged agent identity reads nothing, and a deleted agent key stops working there too. Only
//! the agent's own valid key, checked by the Broker, reaches what that key may reach.

mod common;

use common::{TestServer, raw};
use nexus_test_utils::{TestDatabase, database_tests};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn a_service_key_alone_reads_nothing(db: TestDatabase) {
    let server = TestServer::start(db).await;
    server
        .admin_post("/v1/providers", json!({"name": "keyed", "auth_type": "api_key"}))
        .await;
    let consent = server
        .admin_post(
            "/v1/consents",
            json!({"workspace_id": "ws-1", "provider": "keyed", "return_url": "http://127.0.0.1:9/done"}),
        )
        .await;
    let captured = raw()
        .post(format!("{}/auth/capture", server.broker_url))
        .json(&json!({"state": consent["state"], "credentials": {"api_key": "sk-must-not-leak"}}))
        .send()
        .await
        .expect("capture");
    assert_eq!(captured.status(), StatusCode::OK);
    let id = consent["connection_id"].as_str().expect("id").to_owned();
    let everywhere = server.agent_key(None).await;
    let elsewhere = server.agent_key(Some(vec!["ws-2"])).await;
    let operations = [
        (Method::GET, format!("/v1/internal/token/{id}")),
        (Method::POST, format!("/v1/internal/refresh/{id}")),
        (Method::GET, format!("/v1/internal/connections/{id}")),
        (
            Method::GET,
            "/v1/internal/resolve?workspace_id=ws-1&provider=keyed".to_owned(),
        ),
        (Method::POST, "/v1/internal/request-connection".to_owned()),
        (Method::GET, "/v1/internal/providers".to_owned()),
    ];
    let request_body = json!({"workspace_id": "ws-1", "provider": "keyed", "return_url": "http://127.0.0.1:9/done"});
    let call = |method: Method, path: String, headers: Vec<(&'static str, String)>| {
        let mut request = raw()
            .request(method, format!("{}{path}", server.broker_url))
            .bearer_auth(&server.service_key)
            .json(&request_body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        async move {
            let response = request.send().await.expect("send");
            let status = response.status();
            (status, response.text().await.unwrap_or_default())
        }
    };
    let forged = || {
        vec![
            ("X-Nexus-Agent-Key-Id", uuid::Uuid::new_v4().to_string()),
            ("X-Nexus-Agent-Workspaces", "*".to_owned()),
        ]
    };
    for (method, path) in &operations {
        let what = format!("{method} {path}");
        for (case, headers) in [
            ("no agent key", Vec::new()),
            ("a forged agent identity", forged()),
            (
                "a wrong agent key",
                vec![(
                    "X-Nexus-Agent-Key",
                    "nxa_AAAAAAAA_wrongwrongwrongwrongwrongwrongwrongwro".to_owned(),
                )],
            ),
        ] {
            let (status, body) = call(method.clone(), path.clone(), headers).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{what} with {case}: {body}");
            assert!(body.contains("\"forbidden\""), "{what} with {case}: {body}");
            assert!(!body.contains("sk-must-not-leak"), "{what} with {case}");
        }
        if path.ends_with("/providers") {
            // The catalog is not scoped to workspaces; any live agent key reads it.
            continue;
        }
        // A key restricted to another workspace: as if the connection did not exist.
        let (status, body) = call(
            method.clone(),
            path.clone(),
            vec![("X-Nexus-Agent-Key", elsewhere.clone())],
        )
        .await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{what} outside the key's workspaces: {body}"
        );
        assert!(!body.contains("sk-must-not-leak"));
    }
    // The agent's own valid key reaches what it may reach.
    let (status, body) = call(
        Method::GET,
        format!("/v1/internal/token/{id}"),
        vec![("X-Nexus-Agent-Key", everywhere.clone())],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("sk-must-not-leak"));

    // Deleted on the Broker: refused there at once (a write in the same process).
    server.delete_agent_key(&everywhere).await;
    let (status, body) = call(
        Method::GET,
        format!("/v1/internal/token/{id}"),
        vec![("X-Nexus-Agent-Key", everywhere)],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    server.stop().await;
}

database_tests!(a_service_key_alone_reads_nothing);
