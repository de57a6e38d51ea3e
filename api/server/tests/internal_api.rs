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
    let id = server.connect_api_key("ws-1", "keyed", "sk-must-not-leak").await;
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

/// Reads a Gateway served from its cache count only under receipts the Broker signed: a forged
/// or altered receipt counts nothing, a genuine one is audited under the agent key it names, once
/// for its fresh reads and once for its stale ones (a replayed report counts nothing), and a full
/// report of the largest receipts fits the body limit.
async fn read_reports_need_the_brokers_receipts(db: TestDatabase) {
    let server = TestServer::start(db).await;
    server
        .admin_post("/v1/providers", json!({"name": "keyed", "auth_type": "api_key"}))
        .await;
    let workspace = "w".repeat(128);
    server.connect_api_key(&workspace, "keyed", "sk-1").await;
    let agent_key = server.agent_key(None).await;
    let read = raw()
        .get(format!(
            "{}/v1/internal/resolve?workspace_id={workspace}&provider=keyed",
            server.broker_url
        ))
        .bearer_auth(&server.service_key)
        .header("X-Nexus-Agent-Key", &agent_key)
        .send()
        .await
        .expect("resolve");
    assert_eq!(read.status(), StatusCode::OK);
    let read: serde_json::Value = read.json().await.expect("json");
    let receipt = read["receipt"].as_str().expect("a receipt").to_owned();
    assert!(read["cache_for_ms"].as_u64().is_some_and(|ms| ms <= 2000), "{read}");

    let report_as = |entries: Vec<(String, u64)>, stale: bool| {
        let now = chrono::Utc::now();
        let body = json!({"reads": entries.into_iter().map(|(receipt, reads)| json!({
            "receipt": receipt, "reads": reads, "first_at": now, "last_at": now, "stale": stale,
        })).collect::<Vec<_>>()});
        let request = raw()
            .post(format!("{}/v1/internal/reads", server.broker_url))
            .bearer_auth(&server.service_key)
            .json(&body);
        async move { request.send().await.expect("report").status() }
    };
    let report = |entries: Vec<(String, u64)>| report_as(entries, false);
    let (payload, signature) = receipt.split_once('.').expect("payload.signature");
    let altered = format!("{}A.{signature}", &payload[..payload.len() - 1]);
    let forged = format!("{payload}.{}", "A".repeat(signature.len()));
    assert_eq!(
        report(vec![(altered, 1000), (forged, 1000), ("not.a-receipt".into(), 1000)]).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(report(vec![(receipt.clone(), 5)]).await, StatusCode::NO_CONTENT);
    // Replays: the same fresh reads again, and the largest receipt (longest workspace id) fifty
    // times in one report, within the body limit; none counts.
    assert_eq!(report(vec![(receipt.clone(), 5)]).await, StatusCode::NO_CONTENT);
    assert_eq!(report(vec![(receipt.clone(), 1); 50]).await, StatusCode::NO_CONTENT);
    // Its stale reads count once too.
    assert_eq!(
        report_as(vec![(receipt.clone(), 7)], true).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        report_as(vec![(receipt.clone(), 7)], true).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        report(vec![(receipt.clone(), 1); 51]).await,
        StatusCode::BAD_REQUEST,
        "more entries than the schema allows"
    );

    let db = server.db.connect().await;
    server.stop().await;
    use sea_orm::{ConnectionTrait, Statement};
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT data, actor FROM audit_events WHERE event_type = 'token_read'".to_owned(),
        ))
        .await
        .expect("reads");
    let reads: u64 = rows
        .iter()
        .map(|row| {
            let actor: String = row.try_get("", "actor").expect("actor");
            assert!(actor.starts_with("agent_key:"), "{actor}");
            let data: serde_json::Value = row.try_get("", "data").expect("data");
            data["reads"].as_u64().unwrap_or(1)
        })
        .sum();
    // One read served by the Broker, five fresh and seven stale reported under its receipt;
    // nothing forged or replayed.
    assert_eq!(reads, 1 + 5 + 7);
}

database_tests!(
    a_service_key_alone_reads_nothing,
    read_reports_need_the_brokers_receipts
);
