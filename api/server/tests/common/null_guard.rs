//! A pass-through proxy in front of each test server listener that reads every JSON body the
//! tests receive and remembers each `null` in it: the specs never declare a nullable field, so
//! a `null` is a body a generated client may fail to parse. `TestServer::stop` fails on any.

use poem::http::{HeaderMap, StatusCode};
use poem::{Body, Endpoint, Request, Response};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// Headers that belong to one hop, not to the request or answer being passed on.
const HOP_BY_HOP: [&str; 5] = [
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "host",
];

pub struct NullGuard {
    pub url: String,
    target: Arc<std::sync::OnceLock<String>>,
    found: Arc<Mutex<Vec<String>>>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

struct Forward {
    /// Set once the server behind is listening (it may need this proxy's URL to start).
    target: Arc<std::sync::OnceLock<String>>,
    client: reqwest::Client,
    found: Arc<Mutex<Vec<String>>>,
}

fn copy_headers(from: &HeaderMap, to: &mut HeaderMap) {
    for (name, value) in from {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            to.append(name.clone(), value.clone());
        }
    }
}

/// JSON pointers of the `null`s in `value`.
fn nulls(value: &serde_json::Value, at: &str, found: &mut Vec<String>) {
    match value {
        serde_json::Value::Null => found.push(if at.is_empty() { "/".to_owned() } else { at.to_owned() }),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                nulls(item, &format!("{at}/{i}"), found);
            }
        }
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                nulls(item, &format!("{at}/{key}"), found);
            }
        }
        _ => {}
    }
}

impl Endpoint for Forward {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let base = self
            .target
            .get()
            .ok_or_else(|| poem::Error::from_string("no server behind the proxy yet", StatusCode::BAD_GATEWAY))?;
        let target = format!("{base}{}", req.uri().path_and_query().map_or("/", |p| p.as_str()));
        let mut headers = HeaderMap::new();
        copy_headers(req.headers(), &mut headers);
        let body = req.into_body().into_bytes().await?;
        let answer = self
            .client
            .request(method.clone(), target)
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(|e| poem::Error::from_string(e.to_string(), StatusCode::BAD_GATEWAY))?;
        let status = answer.status();
        let mut response_headers = HeaderMap::new();
        copy_headers(answer.headers(), &mut response_headers);
        let bytes = answer
            .bytes()
            .await
            .map_err(|e| poem::Error::from_string(e.to_string(), StatusCode::BAD_GATEWAY))?;
        let is_json = response_headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/json"));
        if is_json && let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            let mut found = Vec::new();
            nulls(&value, "", &mut found);
            if !found.is_empty() {
                let mut all = self.found.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                all.extend(
                    found
                        .into_iter()
                        .map(|at| format!("{method} {path} ({status}): null at {at}")),
                );
            }
        }
        let mut response = Response::builder().status(status).body(Body::from(bytes.to_vec()));
        *response.headers_mut() = response_headers;
        Ok(response)
    }
}

impl NullGuard {
    /// A proxy to `target`.
    pub async fn start(target: &str) -> Self {
        let guard = Self::bind().await;
        guard.forward_to(target);
        guard
    }

    /// A proxy with no server behind it yet: see [`NullGuard::forward_to`].
    pub async fn bind() -> Self {
        let bound = nexus_server::listen::bind("127.0.0.1:0".parse().expect("addr"))
            .await
            .expect("proxy binds");
        let url = format!("http://{}", bound.addr);
        let found = Arc::new(Mutex::new(Vec::new()));
        let target = Arc::new(std::sync::OnceLock::new());
        let forward = Forward {
            target: target.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            found: found.clone(),
        };
        let (shutdown, receiver) = watch::channel(false);
        let task = tokio::spawn(nexus_server::listen::serve(bound, forward, receiver));
        Self {
            url,
            target,
            found,
            shutdown,
            task,
        }
    }

    pub fn forward_to(&self, target: &str) {
        let _ = self.target.set(target.to_owned());
    }

    /// Stops the proxy; the `null`s it saw.
    pub async fn stop(self) -> Vec<String> {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
        std::mem::take(&mut *self.found.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

#[test]
fn every_null_is_found_with_its_place() {
    let mut found = Vec::new();
    nulls(
        &serde_json::json!({"a": null, "b": [1, null], "c": {"d": null}, "e": "x"}),
        "",
        &mut found,
    );
    found.sort();
    assert_eq!(found, ["/a", "/b/1", "/c/d"]);
}
