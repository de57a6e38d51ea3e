//! Assembles each API into a poem endpoint (with `/docs` and `/openapi.json`), and renders the
//! specs in canonical form for the committed contract.

use crate::background::BackgroundApi;
use crate::broker::BrokerApi;
use crate::envelope::Envelope;
use crate::gateway::GatewayApi;
use crate::health::HealthApi;
use crate::http_metrics::HttpMetrics;
use crate::internal::InternalApi;
use crate::spec;
use crate::state::{BrokerState, GatewayState};
use crate::webhooks::WebhookApi;
use poem::{Endpoint, EndpointExt, Response, Route};
use poem_openapi::OpenApiService;

/// The release version, from the repository's `VERSION` file.
pub const API_VERSION: &str = include_str!("../../../VERSION");

fn version() -> &'static str {
    API_VERSION.trim()
}

fn broker_service() -> OpenApiService<(BrokerApi, WebhookApi, BackgroundApi, InternalApi, HealthApi), ()> {
    let apis = (BrokerApi, WebhookApi, BackgroundApi, InternalApi, HealthApi);
    OpenApiService::new(apis, "Nexus Broker API", version()).description(concat!(
        "Operators and internal services: providers, consents, connections, agent keys, audit, webhooks. ",
        "Request bodies are JSON of at most 64 KiB (413 `payload_too_large` beyond); no field is nullable ",
        "(omit an optional field, never send null); unknown fields are refused. Every error is an `Error` ",
        "body with a stable `code`."
    ))
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
    OpenApiService::new(apis, "Nexus Gateway API", version()).description(concat!(
        "Agents, SDKs and MCP servers: connect a workspace to a provider and resolve its credential. ",
        "Request bodies are JSON of at most 64 KiB (413 `payload_too_large` beyond); no field is nullable ",
        "(omit an optional field, never send null); unknown fields are refused. Every error is an `Error` ",
        "body with a stable `code`."
    ))
}

/// An API with its docs and its spec (the canonical text, as committed), and the methods each of
/// its paths allows (for `Allow` on a 405).
fn routes<T, W>(service: OpenApiService<T, W>, spec_text: String) -> (Route, spec::AllowedMethods)
where
    T: poem_openapi::OpenApi + 'static,
    W: poem_openapi::Webhook + 'static,
{
    let allowed = spec::AllowedMethods::from_spec(&spec_text);
    let docs = service.swagger_ui();
    let route = Route::new()
        .at("/openapi.json", spec::serve(spec_text))
        .nest("/docs", docs)
        .nest("/", service);
    (route, allowed)
}

/// What the Broker listener serves besides its API: the browser routes and `/metrics` move to
/// listeners of their own when those are configured.
#[derive(Debug, Clone, Copy)]
pub struct BrokerRoutes {
    pub browser: bool,
    pub metrics: bool,
}

fn with_browser_routes(route: Route) -> Route {
    route
        .at("/auth/callback", poem::get(crate::browser::callback))
        .at(
            "/auth/capture",
            poem::get(crate::browser::capture_form).post(crate::browser::capture_submit),
        )
        .at(
            "/auth/client-metadata.json",
            poem::get(crate::browser::client_metadata_document),
        )
}

/// The Broker listener: its API, health, docs and spec, plus the browser routes and `/metrics`
/// unless they have listeners of their own.
pub fn broker_app(state: BrokerState, metrics: HttpMetrics, extra: BrokerRoutes) -> impl Endpoint<Output = Response> {
    let health = state.health.clone();
    let registry = state.metrics.clone();
    let (mut routes, mut allowed) = routes(broker_service(), broker_spec());
    routes = routes
        .at(crate::proxy::INTERNAL_PREFIX, crate::proxy::internal_proxy)
        .at(
            format!("{}/*path", crate::proxy::INTERNAL_PREFIX),
            crate::proxy::internal_proxy,
        );
    if extra.browser {
        routes = with_browser_routes(routes);
        allowed = allowed.with_browser_routes();
    }
    if extra.metrics {
        routes = routes.at("/metrics", poem::get(crate::browser::metrics));
        allowed = allowed.with("/metrics", "GET");
    }
    Envelope {
        inner: routes.data(state).data(health).data(registry),
        api: "broker",
        metrics,
        allowed: allowed.into(),
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
        allowed: spec::AllowedMethods::default()
            .with_browser_routes()
            .with("/healthz", "GET")
            .into(),
    }
}

/// The metrics listener (`NEXUS_METRICS_LISTEN`, on a Broker or a Gateway): `/metrics` and
/// nothing else.
pub fn metrics_app(registry: prometheus::Registry, metrics: HttpMetrics) -> impl Endpoint<Output = Response> {
    Envelope {
        inner: Route::new()
            .at("/metrics", poem::get(crate::browser::metrics))
            .data(registry),
        api: "metrics",
        metrics,
        allowed: spec::AllowedMethods::default().with("/metrics", "GET").into(),
    }
}

/// The Gateway listener: its API, health, docs and spec (`/metrics` has a listener of its own).
pub fn gateway_app(state: GatewayState, metrics: HttpMetrics) -> impl Endpoint<Output = Response> {
    let health = state.health.clone();
    let (routes, allowed) = routes(gateway_service(), gateway_spec());
    let routes = routes.at(crate::proxy::GATEWAY_PREFIX, crate::proxy::gateway_proxy).at(
        format!("{}/*path", crate::proxy::GATEWAY_PREFIX),
        crate::proxy::gateway_proxy,
    );
    Envelope {
        inner: routes.data(state).data(health),
        api: "gateway",
        metrics,
        allowed: allowed.into(),
    }
}

/// `openapi/broker.json`, as committed and served.
pub fn broker_spec() -> String {
    spec::canonical(&broker_service().spec())
}

/// `openapi/gateway.json`, as committed and served.
pub fn gateway_spec() -> String {
    spec::canonical(&spec::with_proxy(&gateway_service().spec()))
}
