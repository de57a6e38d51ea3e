//! Webhook endpoint persistence: the endpoint's settings and its sealed signing secrets.

use crate::RepoResult;
use crate::convert::{from_json, parse, parse_url, to_json};
use crate::write_txn::begin_write;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_domain::ciphertext::Ciphertext;
use nexus_domain::webhook::Webhook;
use nexus_domain::{WebhookId, WorkspaceId};
use nexus_entities::{webhook, webhook_attempt, webhook_delivery};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

/// An endpoint with its sealed signing secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRecord {
    pub webhook: Webhook,
    pub secrets: Ciphertext,
}

crate::timed::timed_repository! {
    repo = "webhooks";
    #[async_trait]
    pub trait WebhookRepository: Send + Sync {
        async fn insert(&self, record: &WebhookRecord) -> RepoResult<()>;
        /// Every endpoint, oldest first.
        async fn list(&self) -> RepoResult<Vec<Webhook>>;
        async fn find(&self, id: WebhookId) -> RepoResult<Option<WebhookRecord>>;
        /// Writes the endpoint's settings (not its secrets); `false` when it is gone.
        async fn update(&self, webhook: &Webhook) -> RepoResult<bool>;
        /// Replaces the sealed secrets if they are still `expected`; `false` when the endpoint is
        /// gone or its secrets changed meanwhile (a concurrent rotation).
        async fn replace_secrets(
            &self,
            id: WebhookId,
            expected: &Ciphertext,
            secrets: &Ciphertext,
            previous_expires_at: Option<DateTime<Utc>>,
            at: DateTime<Utc>,
        ) -> RepoResult<bool>;
        /// Removes the endpoint with its deliveries; `false` when there is none.
        async fn delete(&self, id: WebhookId) -> RepoResult<bool>;
    }
}

#[derive(Debug, Clone)]
pub struct SqlWebhookRepository {
    db: DatabaseConnection,
}

impl SqlWebhookRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

pub(crate) fn webhook_from(model: &webhook::Model) -> RepoResult<Webhook> {
    Ok(Webhook {
        id: WebhookId::from_uuid(model.id),
        url: parse_url("url", Some(model.url.clone()))?
            .ok_or_else(|| crate::RepoError::Corrupt("webhook without url".into()))?,
        event_types: from_json("event_types", model.event_types.clone())?,
        workspace_id: model
            .workspace_id
            .as_deref()
            .map(|raw| parse("workspace_id", raw, WorkspaceId::parse))
            .transpose()?,
        enabled: model.enabled,
        description: model.description.clone(),
        previous_secret_expires_at: model.previous_secret_expires_at,
        created_at: model.created_at,
        updated_at: model.updated_at,
    })
}

/// The enabled endpoints, as the outbox fans an event out to them inside a state change's
/// transaction. On PostgreSQL they are share-locked, so an endpoint deleted meanwhile waits for
/// this transaction (rather than failing its state change on the deliveries' foreign key). A
/// row that does not convert (an event type a newer version wrote, say) is skipped with a
/// warning: a state change never fails because of an endpoint.
pub(crate) async fn enabled_webhooks<C: ConnectionTrait>(db: &C) -> RepoResult<Vec<Webhook>> {
    let mut select = webhook::Entity::find().filter(webhook::Column::Enabled.eq(true));
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        select = select.lock_shared();
    }
    Ok(select
        .all(db)
        .await?
        .iter()
        .filter_map(|model| match webhook_from(model) {
            Ok(webhook) => Some(webhook),
            Err(error) => {
                tracing::warn!(webhook_id = %model.id, %error, "skipping a webhook endpoint that does not convert");
                None
            }
        })
        .collect())
}

#[async_trait]
impl WebhookRepository for SqlWebhookRepository {
    async fn insert(&self, record: &WebhookRecord) -> RepoResult<()> {
        let hook = &record.webhook;
        webhook::Entity::insert(webhook::ActiveModel {
            id: Set(hook.id.as_uuid()),
            url: Set(hook.url.to_string()),
            event_types: Set(to_json(&hook.event_types)),
            workspace_id: Set(hook.workspace_id.as_ref().map(|w| w.as_str().to_owned())),
            enabled: Set(hook.enabled),
            description: Set(hook.description.clone()),
            secret_ciphertext: Set(record.secrets.bytes.clone()),
            secret_key_id: Set(record.secrets.key_id.clone()),
            previous_secret_expires_at: Set(hook.previous_secret_expires_at),
            created_at: Set(hook.created_at),
            updated_at: Set(hook.updated_at),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }

    async fn list(&self) -> RepoResult<Vec<Webhook>> {
        webhook::Entity::find()
            .order_by_asc(webhook::Column::CreatedAt)
            .order_by_asc(webhook::Column::Id)
            .all(&self.db)
            .await?
            .iter()
            .map(webhook_from)
            .collect()
    }

    async fn find(&self, id: WebhookId) -> RepoResult<Option<WebhookRecord>> {
        let Some(model) = webhook::Entity::find_by_id(id.as_uuid()).one(&self.db).await? else {
            return Ok(None);
        };
        Ok(Some(WebhookRecord {
            webhook: webhook_from(&model)?,
            secrets: Ciphertext {
                key_id: model.secret_key_id,
                bytes: model.secret_ciphertext,
            },
        }))
    }

    async fn update(&self, hook: &Webhook) -> RepoResult<bool> {
        let result = webhook::Entity::update_many()
            .col_expr(webhook::Column::Url, Expr::value(hook.url.to_string()))
            .col_expr(webhook::Column::EventTypes, Expr::value(to_json(&hook.event_types)))
            .col_expr(
                webhook::Column::WorkspaceId,
                Expr::value(hook.workspace_id.as_ref().map(|w| w.as_str().to_owned())),
            )
            .col_expr(webhook::Column::Enabled, Expr::value(hook.enabled))
            .col_expr(webhook::Column::Description, Expr::value(hook.description.clone()))
            .col_expr(webhook::Column::UpdatedAt, Expr::value(hook.updated_at))
            .filter(webhook::Column::Id.eq(hook.id.as_uuid()))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    async fn replace_secrets(
        &self,
        id: WebhookId,
        expected: &Ciphertext,
        secrets: &Ciphertext,
        previous_expires_at: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> RepoResult<bool> {
        let result = webhook::Entity::update_many()
            .col_expr(webhook::Column::SecretCiphertext, Expr::value(secrets.bytes.clone()))
            .col_expr(webhook::Column::SecretKeyId, Expr::value(secrets.key_id.clone()))
            .col_expr(
                webhook::Column::PreviousSecretExpiresAt,
                Expr::value(previous_expires_at),
            )
            .col_expr(webhook::Column::UpdatedAt, Expr::value(at))
            .filter(webhook::Column::Id.eq(id.as_uuid()))
            .filter(webhook::Column::SecretKeyId.eq(expected.key_id.as_str()))
            .filter(webhook::Column::SecretCiphertext.eq(expected.bytes.clone()))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    async fn delete(&self, id: WebhookId) -> RepoResult<bool> {
        // Deliveries and their attempts go with it (deleted here rather than left to the foreign
        // keys' cascade, which SQLite applies only when a connection turned it on).
        let txn = begin_write(&self.db).await?;
        let deliveries = Query::select()
            .column(webhook_delivery::Column::Id)
            .from(webhook_delivery::Entity)
            .and_where(webhook_delivery::Column::WebhookId.eq(id.as_uuid()))
            .to_owned();
        webhook_attempt::Entity::delete_many()
            .filter(webhook_attempt::Column::DeliveryId.in_subquery(deliveries))
            .exec(&txn)
            .await?;
        webhook_delivery::Entity::delete_many()
            .filter(webhook_delivery::Column::WebhookId.eq(id.as_uuid()))
            .exec(&txn)
            .await?;
        let result = webhook::Entity::delete_by_id(id.as_uuid()).exec(&txn).await?;
        txn.commit().await?;
        Ok(result.rows_affected == 1)
    }
}
