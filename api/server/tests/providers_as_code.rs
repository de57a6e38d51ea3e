//! `nexus providers export|plan|apply` as an operator runs them: the real binary against a
//! running Broker through its API. Export → plan (no drift) → edit → plan (drift, exit 2) → apply
//! → plan (no drift) → apply again (nothing to do); a missing `${ENV_VAR}` or a bad file changes
//! nothing; `--prune` deletes; a step the Broker refuses undoes the steps before it.

mod common;

use common::{TestServer, nexus_command, raw};
use nexus_test_utils::{TestDatabase, database_tests};
use serde_json::{Value, json};
use std::path::Path;

struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

async fn nexus(server: &TestServer, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = nexus_command(dir);
    command
        .arg("providers")
        .args(args)
        .env("NEXUS_BROKER_URL", &server.broker_url)
        .env("NEXUS_ADMIN_KEY", &server.admin_key)
        .envs(env.iter().copied());
    // The Broker runs in this test's runtime: wait for the child without blocking it.
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("join")
        .expect("run nexus providers");
    Run {
        status: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

async fn providers(server: &TestServer) -> Vec<Value> {
    let list: Value = raw()
        .get(format!("{}/v1/providers", server.broker_url))
        .bearer_auth(&server.admin_key)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("JSON");
    let mut items = list["items"].as_array().cloned().unwrap_or_default();
    for item in &mut items {
        item.as_object_mut().map(|fields| fields.remove("updated_at"));
    }
    items
}

fn provider<'a>(all: &'a [Value], name: &str) -> Option<&'a Value> {
    all.iter().find(|p| p["name"] == name)
}

async fn register(server: &TestServer, body: Value) {
    let response = raw()
        .post(format!("{}/v1/providers", server.broker_url))
        .bearer_auth(&server.admin_key)
        .json(&body)
        .send()
        .await
        .expect("register");
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap_or_default());
}

async fn round_trip(db: TestDatabase) {
    let server = TestServer::start(db).await;
    register(
        &server,
        json!({"template": "github", "client_id": "gh-client", "client_secret": "gh-secret"}),
    )
    .await;
    register(
        &server,
        json!({"name": "keyed", "auth_type": "api_key", "description": "Keys",
               "strategy": {"type": "header", "header_name": "X-Api-Key"}}),
    )
    .await;
    // A remote MCP server: its URL is all there is, and it has no client secret to reference.
    register(
        &server,
        json!({"name": "acme-mcp", "auth_type": "oauth2", "mcp_server_url": "https://mcp.acme.example/mcp",
               "mcp_resource_on_refresh": false}),
    )
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("providers.yaml");
    let path = file.to_str().expect("path");
    let secret = [("NEXUS_GITHUB_CLIENT_SECRET", "gh-secret")];

    // Export: every setting, the secret as a reference.
    let export = nexus(&server, dir.path(), &["export", "-o", path], &[]).await;
    assert_eq!(export.status, 0, "{}", export.stderr);
    let text = std::fs::read_to_string(&file).expect("exported file");
    assert!(text.contains("client_secret: ${NEXUS_GITHUB_CLIENT_SECRET}"), "{text}");
    assert!(!text.contains("gh-secret") && !text.contains("fingerprint"), "{text}");
    assert!(text.contains("mcp_server_url: https://mcp.acme.example/mcp"), "{text}");
    assert!(!text.contains("ACME_MCP_CLIENT_SECRET"), "{text}");

    // Plan: no drift.
    let plan = nexus(&server, dir.path(), &["plan", "-f", path], &secret).await;
    assert_eq!(plan.status, 0, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains("Plan: 0 to create, 0 to update, 0 to delete."),
        "{}",
        plan.stdout
    );

    // Edit: a description, a new provider from the catalog, and another client secret.
    let edited = text.replace("description: Keys", "description: API keys")
        + "- template: okta-preview\n  client_id: okta-client\n  client_secret: ${OKTA_SECRET}\n";
    std::fs::write(&file, edited).expect("edit");
    let env = [
        ("NEXUS_GITHUB_CLIENT_SECRET", "gh-secret-2"),
        ("OKTA_SECRET", "okta-secret"),
    ];
    let plan = nexus(&server, dir.path(), &["plan", "-f", path], &env).await;
    assert_eq!(plan.status, 2, "drift exits 2: {}{}", plan.stdout, plan.stderr);
    for expected in [
        "+ create okta-preview",
        "~ update github",
        "client_secret: (set) -> changed",
        "~ update keyed",
        "description: \"Keys\" -> \"API keys\"",
        "Plan: 1 to create, 2 to update, 0 to delete.",
    ] {
        assert!(plan.stdout.contains(expected), "{expected}: {}", plan.stdout);
    }
    assert!(!plan.stdout.contains("gh-secret") && !plan.stdout.contains("okta-secret"));

    // Apply, then nothing is left to do, twice over.
    let apply = nexus(&server, dir.path(), &["apply", "-f", path], &env).await;
    assert_eq!(apply.status, 0, "{}{}", apply.stdout, apply.stderr);
    assert!(
        apply.stdout.contains("Applied: 1 created, 2 updated, 0 deleted."),
        "{}",
        apply.stdout
    );
    let plan = nexus(&server, dir.path(), &["plan", "-f", path], &env).await;
    assert_eq!(plan.status, 0, "{}{}", plan.stdout, plan.stderr);
    let again = nexus(&server, dir.path(), &["apply", "-f", path], &env).await;
    assert!(
        again.stdout.contains("Applied: 0 created, 0 updated, 0 deleted."),
        "{}",
        again.stdout
    );
    let live = providers(&server).await;
    assert_eq!(provider(&live, "keyed").expect("keyed")["description"], "API keys");
    let github = provider(&live, "github").expect("github");
    let id: uuid::Uuid = github["id"].as_str().expect("id").parse().expect("uuid");
    assert_eq!(
        github["client_secret_fingerprint"],
        nexus_crypto::secret_fingerprint(&id, "gh-secret-2"),
        "the new secret is stored"
    );
    assert_eq!(
        provider(&live, "okta-preview").expect("created")["authorization_url"],
        "https://{subdomain}.oktapreview.com/oauth2/v1/authorize"
    );

    // A missing variable, or a bad file, fails before anything changes.
    let before = providers(&server).await;
    let unset = [("NEXUS_GITHUB_CLIENT_SECRET", "gh-secret-3")];
    let apply = nexus(&server, dir.path(), &["apply", "-f", path], &unset).await;
    assert_eq!(apply.status, 1, "{}", apply.stdout);
    assert!(
        apply.stderr.contains("providers.yaml") && apply.stderr.contains("OKTA_SECRET is not set"),
        "{}",
        apply.stderr
    );
    let bad = dir.path().join("bad.yaml");
    for (content, expected) in [
        (
            "providers:\n  - name: keyed\n    auth_type: api_key\n    colour: blue\n",
            vec!["bad.yaml", "provider `keyed`", "colour"],
        ),
        (
            "providers:\n  - name: keyed\n    auth_type: api_key\n    api_base_url: http://api.example.com\n",
            vec!["bad.yaml", "provider `keyed`", "field api_base_url"],
        ),
        (
            "providers:\n  - name: keyed\n    auth_type: api_key\n    api_base_url: https://{tenant}.example.com\n",
            vec!["bad.yaml", "provider `keyed`", "`{tenant}`"],
        ),
        (
            "providers:\n  - name: keyed\n    auth_type: api_key\n  - name: keyed\n    auth_type: api_key\n",
            vec!["bad.yaml", "provider `keyed`", "duplicates entry 1"],
        ),
    ] {
        std::fs::write(&bad, content).expect("bad file");
        let run = nexus(
            &server,
            dir.path(),
            &["apply", "-f", bad.to_str().expect("path"), "--prune"],
            &env,
        )
        .await;
        assert_eq!(run.status, 1, "{content}: {}", run.stdout);
        for part in expected {
            assert!(run.stderr.contains(part), "{part}: {}", run.stderr);
        }
    }
    assert_eq!(providers(&server).await, before, "nothing was applied");

    // --prune deletes what the file no longer lists; without it, it stays.
    let only_keyed = dir.path().join("only-keyed.yaml");
    std::fs::write(
        &only_keyed,
        "providers:\n  - name: keyed\n    auth_type: api_key\n    description: API keys\n    strategy: {type: header, header_name: X-Api-Key}\n",
    )
    .expect("file");
    let only = only_keyed.to_str().expect("path");
    let plan = nexus(&server, dir.path(), &["plan", "-f", only], &[]).await;
    assert_eq!(plan.status, 0, "{}", plan.stdout);
    assert!(plan.stdout.contains("? github is not in the file"), "{}", plan.stdout);
    let plan = nexus(&server, dir.path(), &["plan", "-f", only, "--prune"], &[]).await;
    assert_eq!(plan.status, 2, "{}", plan.stdout);
    assert!(plan.stdout.contains("- delete okta-preview"), "{}", plan.stdout);
    let apply = nexus(&server, dir.path(), &["apply", "-f", only, "--prune"], &[]).await;
    assert_eq!(apply.status, 0, "{}{}", apply.stdout, apply.stderr);
    let names: Vec<Value> = providers(&server).await.iter().map(|p| p["name"].clone()).collect();
    assert_eq!(names, [json!("keyed")]);

    // A step the Broker refuses (deleting a provider with a connection) undoes the create before it.
    let consent = raw()
        .post(format!("{}/v1/consents", server.broker_url))
        .bearer_auth(&server.admin_key)
        .json(&json!({"workspace_id": "ws-1", "provider": "keyed", "return_url": "http://127.0.0.1:9/done"}))
        .send()
        .await
        .expect("consent");
    assert_eq!(consent.status(), 201);
    std::fs::write(&only_keyed, "providers:\n  - name: fresh\n    auth_type: basic_auth\n").expect("file");
    let apply = nexus(&server, dir.path(), &["apply", "-f", only, "--prune"], &[]).await;
    assert_eq!(apply.status, 1, "{}", apply.stdout);
    assert!(
        apply.stderr.contains("provider_in_use") && apply.stderr.contains("every earlier step was undone"),
        "{}",
        apply.stderr
    );
    let names: Vec<Value> = providers(&server).await.iter().map(|p| p["name"].clone()).collect();
    assert_eq!(names, [json!("keyed")], "the created provider was deleted again");
}

database_tests!(round_trip);
