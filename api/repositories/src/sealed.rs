//! Every sealed value in the database, for key rotation: client secrets (providers' and
//! registered clients'), credentials, PKCE verifiers and webhook signing secrets, found by the key that sealed them and replaced one by one, each only if it has not
//! changed meanwhile (a concurrent refresh always wins).

use crate::RepoResult;
use async_trait::async_trait;
use nexus_domain::ciphertext::Ciphertext;
use nexus_entities::{connection, credential, oauth_client_registration as registration, provider, webhook};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SealedColumn {
    ProviderClientSecret,
    Credential,
    PkceVerifier,
    /// A webhook endpoint's signing secrets.
    WebhookSecrets,
    /// The client secret of a client registered with a discovered authorization server.
    RegistrationClientSecret,
}

/// One sealed value and the row it is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedValue {
    pub column: SealedColumn,
    pub row_id: Uuid,
    pub ciphertext: Ciphertext,
}

crate::timed::timed_repository! {
    repo = "sealed_secrets";
    #[async_trait]
    pub trait SealedSecretRepository: Send + Sync {
        /// Up to `limit` sealed values of each column whose key is not `key_id`.
        async fn not_sealed_with(&self, key_id: &str, limit: u64) -> RepoResult<Vec<SealedValue>>;
        /// Replaces a sealed value if it is still exactly `value`; `false` when it changed.
        async fn reseal(&self, value: &SealedValue, new: &Ciphertext) -> RepoResult<bool>;
    }
}

#[derive(Debug, Clone)]
pub struct SqlSealedSecretRepository {
    db: DatabaseConnection,
}

impl SqlSealedSecretRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl SealedSecretRepository for SqlSealedSecretRepository {
    async fn not_sealed_with(&self, key_id: &str, limit: u64) -> RepoResult<Vec<SealedValue>> {
        let mut found = Vec::new();
        let secrets: Vec<(Uuid, Option<Vec<u8>>, Option<String>)> = provider::Entity::find()
            .select_only()
            .columns([
                provider::Column::Id,
                provider::Column::ClientSecretCiphertext,
                provider::Column::ClientSecretKeyId,
            ])
            .filter(provider::Column::ClientSecretKeyId.is_not_null())
            .filter(provider::Column::ClientSecretKeyId.ne(key_id))
            .order_by_asc(provider::Column::Id)
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await?;
        let credentials: Vec<(Uuid, Vec<u8>, String)> = credential::Entity::find()
            .select_only()
            .columns([
                credential::Column::ConnectionId,
                credential::Column::Ciphertext,
                credential::Column::KeyId,
            ])
            .filter(credential::Column::KeyId.ne(key_id))
            .order_by_asc(credential::Column::ConnectionId)
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await?;
        let verifiers: Vec<(Uuid, Option<Vec<u8>>, Option<String>)> = connection::Entity::find()
            .select_only()
            .columns([
                connection::Column::Id,
                connection::Column::PkceVerifierCiphertext,
                connection::Column::PkceVerifierKeyId,
            ])
            .filter(connection::Column::PkceVerifierKeyId.is_not_null())
            .filter(connection::Column::PkceVerifierKeyId.ne(key_id))
            .order_by_asc(connection::Column::Id)
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await?;
        let webhook_secrets: Vec<(Uuid, Vec<u8>, String)> = webhook::Entity::find()
            .select_only()
            .columns([
                webhook::Column::Id,
                webhook::Column::SecretCiphertext,
                webhook::Column::SecretKeyId,
            ])
            .filter(webhook::Column::SecretKeyId.ne(key_id))
            .order_by_asc(webhook::Column::Id)
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await?;
        let registrations: Vec<(Uuid, Option<Vec<u8>>, Option<String>)> = registration::Entity::find()
            .select_only()
            .columns([
                registration::Column::Id,
                registration::Column::ClientSecretCiphertext,
                registration::Column::ClientSecretKeyId,
            ])
            .filter(registration::Column::ClientSecretKeyId.is_not_null())
            .filter(registration::Column::ClientSecretKeyId.ne(key_id))
            .order_by_asc(registration::Column::Id)
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut push = |column, row_id, bytes: Option<Vec<u8>>, key_id: Option<String>| {
            if let (Some(bytes), Some(key_id)) = (bytes, key_id) {
                found.push(SealedValue {
                    column,
                    row_id,
                    ciphertext: Ciphertext { key_id, bytes },
                });
            }
        };
        for (id, bytes, key) in secrets {
            push(SealedColumn::ProviderClientSecret, id, bytes, key);
        }
        for (id, bytes, key) in credentials {
            push(SealedColumn::Credential, id, Some(bytes), Some(key));
        }
        for (id, bytes, key) in verifiers {
            push(SealedColumn::PkceVerifier, id, bytes, key);
        }
        for (id, bytes, key) in webhook_secrets {
            push(SealedColumn::WebhookSecrets, id, Some(bytes), Some(key));
        }
        for (id, bytes, key) in registrations {
            push(SealedColumn::RegistrationClientSecret, id, bytes, key);
        }
        Ok(found)
    }

    async fn reseal(&self, value: &SealedValue, new: &Ciphertext) -> RepoResult<bool> {
        let old = &value.ciphertext;
        let affected = match value.column {
            SealedColumn::ProviderClientSecret => {
                provider::Entity::update_many()
                    .col_expr(
                        provider::Column::ClientSecretCiphertext,
                        Expr::value(Some(new.bytes.clone())),
                    )
                    .col_expr(
                        provider::Column::ClientSecretKeyId,
                        Expr::value(Some(new.key_id.clone())),
                    )
                    .filter(provider::Column::Id.eq(value.row_id))
                    .filter(provider::Column::ClientSecretKeyId.eq(old.key_id.as_str()))
                    .filter(provider::Column::ClientSecretCiphertext.eq(old.bytes.clone()))
                    .exec(&self.db)
                    .await?
                    .rows_affected
            }
            SealedColumn::Credential => {
                credential::Entity::update_many()
                    .col_expr(credential::Column::Ciphertext, Expr::value(new.bytes.clone()))
                    .col_expr(credential::Column::KeyId, Expr::value(new.key_id.clone()))
                    .filter(credential::Column::ConnectionId.eq(value.row_id))
                    .filter(credential::Column::KeyId.eq(old.key_id.as_str()))
                    .filter(credential::Column::Ciphertext.eq(old.bytes.clone()))
                    .exec(&self.db)
                    .await?
                    .rows_affected
            }
            SealedColumn::PkceVerifier => {
                connection::Entity::update_many()
                    .col_expr(
                        connection::Column::PkceVerifierCiphertext,
                        Expr::value(Some(new.bytes.clone())),
                    )
                    .col_expr(
                        connection::Column::PkceVerifierKeyId,
                        Expr::value(Some(new.key_id.clone())),
                    )
                    .filter(connection::Column::Id.eq(value.row_id))
                    .filter(connection::Column::PkceVerifierKeyId.eq(old.key_id.as_str()))
                    .filter(connection::Column::PkceVerifierCiphertext.eq(old.bytes.clone()))
                    .exec(&self.db)
                    .await?
                    .rows_affected
            }
            SealedColumn::WebhookSecrets => {
                webhook::Entity::update_many()
                    .col_expr(webhook::Column::SecretCiphertext, Expr::value(new.bytes.clone()))
                    .col_expr(webhook::Column::SecretKeyId, Expr::value(new.key_id.clone()))
                    .filter(webhook::Column::Id.eq(value.row_id))
                    .filter(webhook::Column::SecretKeyId.eq(old.key_id.as_str()))
                    .filter(webhook::Column::SecretCiphertext.eq(old.bytes.clone()))
                    .exec(&self.db)
                    .await?
                    .rows_affected
            }
            SealedColumn::RegistrationClientSecret => {
                registration::Entity::update_many()
                    .col_expr(
                        registration::Column::ClientSecretCiphertext,
                        Expr::value(Some(new.bytes.clone())),
                    )
                    .col_expr(
                        registration::Column::ClientSecretKeyId,
                        Expr::value(Some(new.key_id.clone())),
                    )
                    .filter(registration::Column::Id.eq(value.row_id))
                    .filter(registration::Column::ClientSecretKeyId.eq(old.key_id.as_str()))
                    .filter(registration::Column::ClientSecretCiphertext.eq(old.bytes.clone()))
                    .exec(&self.db)
                    .await?
                    .rows_affected
            }
        };
        Ok(affected == 1)
    }
}
