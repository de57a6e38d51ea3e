//! Clients registered with discovered authorization servers, one per issuer: found by issuer,
//! inserted once (a second process's insert loses to the first and reads it), replaced when it
//! no longer fits (its secret expired, Nexus's callback URL changed).

use crate::RepoResult;
use crate::error::RepoError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_domain::ciphertext::Ciphertext;
use nexus_entities::oauth_client_registration;
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

/// A registered client, its secret sealed (bound to `id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRegistrationRecord {
    pub id: Uuid,
    pub issuer: String,
    /// `dynamic` (RFC 7591) or `metadata_document`.
    pub kind: String,
    pub redirect_uri: String,
    pub client_id: String,
    pub client_secret: Option<Ciphertext>,
    pub token_endpoint_auth_method: String,
    pub client_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::timed::timed_repository! {
    repo = "oauth_client_registrations";
    #[async_trait]
    pub trait ClientRegistrationRepository: Send + Sync {
        async fn find_by_issuer(&self, issuer: &str) -> RepoResult<Option<ClientRegistrationRecord>>;
        /// Stores the issuer's first registration; `RepoError::UniqueViolation` when another
        /// process stored one first (read it instead).
        async fn insert(&self, record: &ClientRegistrationRecord) -> RepoResult<()>;
        /// Replaces the registration `previous` (by id) with `record`; `false` when another process
        /// replaced it first.
        async fn replace(&self, previous: Uuid, record: &ClientRegistrationRecord) -> RepoResult<bool>;
        /// Removes the issuer's registration if it is still `client_id` (the server refused it): the
        /// next consent registers again. `false` when it was already replaced or removed.
        async fn discard(&self, issuer: &str, client_id: &str) -> RepoResult<bool>;
    }
}

#[derive(Debug, Clone)]
pub struct SqlClientRegistrationRepository {
    db: DatabaseConnection,
}

impl SqlClientRegistrationRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

fn to_active_model(record: &ClientRegistrationRecord) -> oauth_client_registration::ActiveModel {
    oauth_client_registration::ActiveModel {
        id: Set(record.id),
        issuer: Set(record.issuer.clone()),
        kind: Set(record.kind.clone()),
        redirect_uri: Set(record.redirect_uri.clone()),
        client_id: Set(record.client_id.clone()),
        client_secret_ciphertext: Set(record.client_secret.as_ref().map(|c| c.bytes.clone())),
        client_secret_key_id: Set(record.client_secret.as_ref().map(|c| c.key_id.clone())),
        token_endpoint_auth_method: Set(record.token_endpoint_auth_method.clone()),
        client_secret_expires_at: Set(record.client_secret_expires_at),
        created_at: Set(record.created_at),
        updated_at: Set(record.updated_at),
    }
}

fn from_model(model: oauth_client_registration::Model) -> RepoResult<ClientRegistrationRecord> {
    let client_secret = match (model.client_secret_ciphertext, model.client_secret_key_id) {
        (Some(bytes), Some(key_id)) => Some(Ciphertext { key_id, bytes }),
        (None, None) => None,
        _ => {
            return Err(RepoError::Corrupt(
                "registration secret ciphertext without key id".into(),
            ));
        }
    };
    Ok(ClientRegistrationRecord {
        id: model.id,
        issuer: model.issuer,
        kind: model.kind,
        redirect_uri: model.redirect_uri,
        client_id: model.client_id,
        client_secret,
        token_endpoint_auth_method: model.token_endpoint_auth_method,
        client_secret_expires_at: model.client_secret_expires_at,
        created_at: model.created_at,
        updated_at: model.updated_at,
    })
}

#[async_trait]
impl ClientRegistrationRepository for SqlClientRegistrationRepository {
    async fn find_by_issuer(&self, issuer: &str) -> RepoResult<Option<ClientRegistrationRecord>> {
        oauth_client_registration::Entity::find()
            .filter(oauth_client_registration::Column::Issuer.eq(issuer))
            .one(&self.db)
            .await?
            .map(from_model)
            .transpose()
    }

    async fn insert(&self, record: &ClientRegistrationRecord) -> RepoResult<()> {
        oauth_client_registration::Entity::insert(to_active_model(record))
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    async fn replace(&self, previous: Uuid, record: &ClientRegistrationRecord) -> RepoResult<bool> {
        // One statement: the row changes only if it is still the one the caller read.
        let result = oauth_client_registration::Entity::update_many()
            .set(to_active_model(record))
            .filter(oauth_client_registration::Column::Id.eq(previous))
            .filter(oauth_client_registration::Column::Issuer.eq(record.issuer.as_str()))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    async fn discard(&self, issuer: &str, client_id: &str) -> RepoResult<bool> {
        let result = oauth_client_registration::Entity::delete_many()
            .filter(oauth_client_registration::Column::Issuer.eq(issuer))
            .filter(oauth_client_registration::Column::ClientId.eq(client_id))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }
}
