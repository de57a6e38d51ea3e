//! The Broker's webhook operations (admin key): endpoints, secret rotation, delivery logs.

use crate::auth::AdminAuth;
use crate::dto::webhooks::{
    DeliveryView, WebhookCreate, WebhookDeliveryPage, WebhookList, WebhookSecretRotate, WebhookUpdate, WebhookView,
    WebhookWithSecret,
};
use crate::error::ApiResult;
use crate::path::path_id;
use crate::state::BrokerState;
use nexus_domain::{DeliveryId, WebhookId};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};
use std::time::Duration;
use uuid::Uuid;

#[derive(Tags)]
enum WebhookTag {
    /// Connection events, signed to the Standard Webhooks specification
    Webhooks,
}

#[derive(ApiResponse, Debug)]
enum WebhookCreated {
    /// The endpoint is registered; `secret` is shown this once
    #[oai(status = 201)]
    Created(Json<WebhookWithSecret>),
}

#[derive(ApiResponse, Debug)]
enum WebhookDeleted {
    /// Deleted, with its deliveries
    #[oai(status = 204)]
    NoContent,
}

/// The default grace period of a rotated secret: a day for receivers to switch.
const DEFAULT_ROTATION_GRACE: Duration = Duration::from_secs(86_400);

#[derive(Debug)]
pub struct WebhookApi;

#[OpenApi]
impl WebhookApi {
    /// Register a webhook
    ///
    /// Events about connections (`connection.active`, `connection.revoked`, ...) are posted to
    /// `url`, signed to the Standard Webhooks specification with the `secret` in the answer
    /// (shown this once). Loopback and private addresses are refused unless the Broker runs
    /// with `NEXUS_WEBHOOK_ALLOW_PRIVATE=true` (the development default).
    #[oai(
        path = "/v1/webhooks",
        method = "post",
        operation_id = "webhook_create",
        tag = "WebhookTag::Webhooks"
    )]
    async fn webhook_create(
        &self,
        auth: AdminAuth,
        state: Data<&BrokerState>,
        body: Json<WebhookCreate>,
    ) -> ApiResult<WebhookCreated> {
        let issued = state.webhooks.create(&auth.0, body.0.into()).await?;
        Ok(WebhookCreated::Created(Json(issued.into())))
    }

    /// List webhooks
    #[oai(
        path = "/v1/webhooks",
        method = "get",
        operation_id = "webhook_list",
        tag = "WebhookTag::Webhooks"
    )]
    async fn webhook_list(&self, _auth: AdminAuth, state: Data<&BrokerState>) -> ApiResult<Json<WebhookList>> {
        let webhooks = state.webhooks.list().await?;
        Ok(Json(WebhookList {
            items: webhooks.into_iter().map(Into::into).collect(),
        }))
    }

    /// View a webhook
    #[oai(
        path = "/v1/webhooks/:webhook_id",
        method = "get",
        operation_id = "webhook_view",
        tag = "WebhookTag::Webhooks"
    )]
    async fn webhook_view(
        &self,
        _auth: AdminAuth,
        state: Data<&BrokerState>,
        #[oai(validator(pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"))]
        webhook_id: Path<String>,
    ) -> ApiResult<Json<WebhookView>> {
        let webhook = state
            .webhooks
            .get(path_id::<WebhookId>("webhook_id", &webhook_id)?)
            .await?;
        Ok(Json(webhook.into()))
    }

    /// Update a webhook
    ///
    /// Absent fields stay as they are. A disabled endpoint receives nothing; deliveries still
    /// pending for it fail (redeliver them once it is enabled again).
    #[oai(
        path = "/v1/webhooks/:webhook_id",
        method = "patch",
        operation_id = "webhook_update",
        tag = "WebhookTag::Webhooks"
    )]
    async fn webhook_update(
        &self,
        auth: AdminAuth,
        state: Data<&BrokerState>,
        #[oai(validator(pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"))]
        webhook_id: Path<String>,
        body: Json<WebhookUpdate>,
    ) -> ApiResult<Json<WebhookView>> {
        let webhook = state
            .webhooks
            .update(&auth.0, path_id::<WebhookId>("webhook_id", &webhook_id)?, body.0.into())
            .await?;
        Ok(Json(webhook.into()))
    }

    /// Delete a webhook
    ///
    /// Its pending deliveries are not sent; its delivery log goes with it.
    #[oai(
        path = "/v1/webhooks/:webhook_id",
        method = "delete",
        operation_id = "webhook_delete",
        tag = "WebhookTag::Webhooks"
    )]
    async fn webhook_delete(
        &self,
        auth: AdminAuth,
        state: Data<&BrokerState>,
        #[oai(validator(pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"))]
        webhook_id: Path<String>,
    ) -> ApiResult<WebhookDeleted> {
        state
            .webhooks
            .delete(&auth.0, path_id::<WebhookId>("webhook_id", &webhook_id)?)
            .await?;
        Ok(WebhookDeleted::NoContent)
    }

    /// Rotate a webhook's signing secret
    ///
    /// Returns the new secret, shown this once. For `grace_period_seconds` (default one day)
    /// every delivery carries signatures by both the old and the new secret, so receivers can
    /// switch without missing one.
    #[oai(
        path = "/v1/webhooks/:webhook_id/rotate-secret",
        method = "post",
        operation_id = "webhook_rotate_secret",
        tag = "WebhookTag::Webhooks"
    )]
    async fn webhook_rotate_secret(
        &self,
        auth: AdminAuth,
        state: Data<&BrokerState>,
        #[oai(validator(pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"))]
        webhook_id: Path<String>,
        body: Json<WebhookSecretRotate>,
    ) -> ApiResult<Json<WebhookWithSecret>> {
        let grace = body.0.grace_period_seconds.map_or(DEFAULT_ROTATION_GRACE, |seconds| {
            Duration::from_secs(u64::from(seconds))
        });
        let issued = state
            .webhooks
            .rotate_secret(&auth.0, path_id::<WebhookId>("webhook_id", &webhook_id)?, grace)
            .await?;
        Ok(Json(issued.into()))
    }

    /// List a webhook's deliveries
    ///
    /// Newest first, each with its attempts (status codes and error codes, never the
    /// receiver's body) and, while pending, when the next attempt is due. Page with `cursor`
    /// (the `next_cursor` of the previous page) and `limit` (default 50, at most 500).
    #[oai(
        path = "/v1/webhooks/:webhook_id/deliveries",
        method = "get",
        operation_id = "webhook_delivery_list",
        tag = "WebhookTag::Webhooks"
    )]
    async fn webhook_delivery_list(
        &self,
        _auth: AdminAuth,
        state: Data<&BrokerState>,
        #[oai(validator(pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"))]
        webhook_id: Path<String>,
        cursor: Query<Option<Uuid>>,
        #[oai(validator(minimum(value = "0"), maximum(value = "500")))] limit: Query<Option<u32>>,
    ) -> ApiResult<Json<WebhookDeliveryPage>> {
        let page = state
            .webhooks
            .deliveries(
                path_id::<WebhookId>("webhook_id", &webhook_id)?,
                cursor.0.map(DeliveryId::from_uuid),
                limit.0.unwrap_or(0),
            )
            .await?;
        Ok(Json(page.into()))
    }

    /// Redeliver a delivery
    ///
    /// Sends it again now, with the same `webhook-id`, whatever became of it, and retries it
    /// for another day if it fails.
    #[oai(
        path = "/v1/webhooks/:webhook_id/deliveries/:delivery_id/redeliver",
        method = "post",
        operation_id = "webhook_redeliver",
        tag = "WebhookTag::Webhooks"
    )]
    async fn webhook_redeliver(
        &self,
        auth: AdminAuth,
        state: Data<&BrokerState>,
        #[oai(validator(pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"))]
        webhook_id: Path<String>,
        #[oai(validator(pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"))]
        delivery_id: Path<String>,
    ) -> ApiResult<Json<DeliveryView>> {
        let delivery = state
            .webhooks
            .redeliver(
                &auth.0,
                path_id::<WebhookId>("webhook_id", &webhook_id)?,
                path_id::<DeliveryId>("delivery_id", &delivery_id)?,
            )
            .await?;
        Ok(Json(delivery.into()))
    }
}
