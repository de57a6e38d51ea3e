//! Nexus HTTP: the Broker API (operators) and the Gateway API (agents) in poem-openapi, over the
//! domain service traits. A handler extracts, converts the DTO to domain types, makes one service
//! call and converts back; it never holds a query, a key or an entity.

mod app;
mod auth;
mod background;
#[cfg(feature = "bench")]
mod bench;
mod broker;
mod browser;
mod dto;
mod envelope;
mod error;
#[cfg(test)]
mod error_snapshots;
mod gateway;
mod health;
mod http_metrics;
mod internal;
mod pages;
mod params;
mod path;
pub mod provider_documents;
mod proxy;
mod spec;
mod state;
mod webhooks;

pub use app::{API_VERSION, BrokerRoutes, broker_app, broker_spec, gateway_app, gateway_spec, metrics_app, public_app};
pub use envelope::MAX_BODY_BYTES;
pub use error::{ApiError, ErrorBody};
pub use http_metrics::HttpMetrics;
pub use proxy::PROXIED_HEADER;
pub use state::{BenchBaseline, BrokerState, GatewayState, KeyedSelect};
