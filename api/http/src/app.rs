//! Assembles each API into a poem endpoint (with `/docs` and `/openapi.json`), and renders the
//! specs in canonical form for the committed contract.

use crate::broker::BrokerApi;
use crate::envelope::Envelope;
use crate::gateway::GatewayApi;
use crate::health::HealthApi;
use crate::http_metrics::HttpMetrics;
use crate::internal::InternalApi;
use crate::state::{BrokerState, GatewayState};
use poem::{Endpoint, EndpointExt, Response, Route};
use poem_openapi::OpenApiService;

/// The release version, from the repository's `VERSION` file.
pub const API_VERSION: &str = include_str!("../../../VERSION");

fn version() -> &'static str {
    API_VERSION.trim()
}

fn broker_service() -> OpenApiService<(BrokerApi, InternalApi, HealthApi), ()> {
    OpenApiService::new((BrokerApi, InternalApi, HealthApi), "Nexus Broker API", version())
        .description("Operators and internal services: providers, consents, connections, agent keys, audit.")
}

/// The Gateway's operations; a benchmark build adds the hidden baseline (the spec is the same).
#[cfg(not(feature = "bench"))]
type GatewayApis = (GatewayApi, HealthApi);
#[cfg(feature = "bench")]
type GatewayApis = (GatewayApi, HealthApi, crate::bench::BenchApi);

fn gateway_service() -> OpenApiService<GatewayApis, ()> {
    #[cfg(not(feature = "bench"))]
    let apis = (GatewayApi, HealthApi);
    #[cfg(feature = "bench")]
    let apis = (GatewayApi, HealthApi, crate::bench::BenchApi);
    OpenApiService::new(apis, "Nexus Gateway API", version())
        .description("Agents, SDKs and MCP servers: connect a workspace to a provider and resolve its credential.")
}

fn routes<T, W>(service: OpenApiService<T, W>) -> Route
where
    T: poem_openapi::OpenApi + 'static,
    W: poem_openapi::Webhook + 'static,
{
    let spec = service.spec_endpoint();
    let docs = service.swagger_ui();
    Route::new()
        .at("/openapi.json", spec)
        .nest("/docs", docs)
        .nest("/", service)
}

/// What the Broker listener serves besides its API: the browser routes and `/metrics` move to
/// listeners of their own when those are configured.
#[derive(Debug, Clone, Copy)]
pub struct BrokerRoutes {
    pub browser: bool,
    pub metrics: bool,
}

fn with_browser_routes(route: Route) -> Route {
    route.at("/auth/callback", poem::get(crate::browser::callback)).at(
        "/auth/capture",
        poem::get(crate::browser::capture_form).post(crate::browser::capture_submit),
    )
}

/// The Broker listener: its API, health, docs and spec, plus the browser routes and `/metrics`
/// unless they have listeners of their own.
pub fn broker_app(state: BrokerState, metrics: HttpMetrics, extra: BrokerRoutes) -> impl Endpoint<Output = Response> {
    let health = state.health.clone();
    let mut routes = routes(broker_service());
    if extra.browser {
        routes = with_browser_routes(routes);
    }
    if extra.metrics {
        routes = routes.at("/metrics", poem::get(crate::browser::metrics));
    }
    Envelope {
        inner: routes.data(state).data(health),
        api: "broker",
        metrics,
    }
}

/// The public listener (`NEXUS_PUBLIC_LISTEN`): only what browsers need, `/auth/*`, and
/// `/healthz` for the load balancer. No API, no docs, no metrics.
pub fn public_app(state: BrokerState, metrics: HttpMetrics) -> impl Endpoint<Output = Response> {
    let routes = with_browser_routes(Route::new()).at("/healthz", poem::get(crate::health::live));
    Envelope {
        inner: routes.data(state),
        api: "public",
        metrics,
    }
}

/// The metrics listener (`NEXUS_METRICS_LISTEN`): `/metrics` and nothing else.
pub fn metrics_app(state: BrokerState, metrics: HttpMetrics) -> impl Endpoint<Output = Response> {
    Envelope {
        inner: Route::new()
            .at("/metrics", poem::get(crate::browser::metrics))
            .data(state),
        api: "metrics",
        metrics,
    }
}

/// The Gateway listener: its API, health, docs and spec (never `/metrics`).
pub fn gateway_app(state: GatewayState, metrics: HttpMetrics) -> impl Endpoint<Output = Response> {
    let health = state.health.clone();
    Envelope {
        inner: routes(gateway_service()).data(state).data(health),
        api: "gateway",
        metrics,
    }
}

/// Pretty JSON with keys sorted at every level and a trailing newline.
fn canonical(spec_json: &str) -> String {
    fn sort(value: serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(map) => {
                let sorted: std::collections::BTreeMap<String, serde_json::Value> =
                    map.into_iter().map(|(k, v)| (k, sort(v))).collect();
                serde_json::Value::Object(sorted.into_iter().collect())
            }
            serde_json::Value::Array(items) => serde_json::Value::Array(items.into_iter().map(sort).collect()),
            other => other,
        }
    }
    let value: serde_json::Value =
        serde_json::from_str(spec_json).unwrap_or_else(|_| unreachable!("poem-openapi renders valid JSON"));
    let mut text =
        serde_json::to_string_pretty(&sort(value)).unwrap_or_else(|_| unreachable!("a JSON value serializes"));
    text.push('\n');
    text
}

/// `openapi/broker.json`, as committed.
pub fn broker_spec() -> String {
    canonical(&broker_service().spec())
}

/// `openapi/gateway.json`, as committed.
pub fn gateway_spec() -> String {
    canonical(&gateway_service().spec())
}
