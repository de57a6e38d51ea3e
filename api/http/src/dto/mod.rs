//! Request and response bodies of both APIs, and their conversions to and from domain types.

pub mod agent_keys;
pub mod audit;
pub mod background;
pub mod catalog;
pub mod connections;
pub mod internal;
pub mod providers;
pub mod strategy;
pub mod text;
pub mod webhooks;
