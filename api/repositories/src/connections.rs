//! Connection and credential persistence. Every state change is one conditional update or one
//! transaction, so concurrent callers cannot both win (single-use consent states, optimistic
//! credential versions, refresh leases).

use crate::connection_reads::{ActiveConnectionRead, read_newest_active};
use crate::convert::{from_json, parse, to_json};
use crate::providers::{ProviderRecord, from_model as provider_from_model};
use crate::webhook_outbox::{ChangedConnection, enqueue};
use crate::write_txn::begin_write;
use crate::{RepoError, RepoResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use nexus_domain::ciphertext::Ciphertext;
use nexus_domain::connection::{Connection, ConnectionQuery};
use nexus_domain::status::ConnectionStatus;
use nexus_domain::token_lifetime::{TokenLifetime, half_life};
use nexus_domain::webhook::WebhookEventType;
use nexus_domain::{ConnectionId, ProviderId, ProviderName, Scope, WorkspaceId};
use nexus_entities::{connection, credential, provider};
use sea_orm::sea_query::{Expr, ExprTrait, Func, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, UpdateMany,
};
use url::Url;

/// A consent or capture in progress: its single-use nonce, the sealed PKCE verifier, where to
/// send the user afterwards, and until when it may complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingConsent {
    pub nonce: String,
    pub pkce_verifier: Option<Ciphertext>,
    pub return_url: Url,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRecord {
    pub ciphertext: Ciphertext,
    pub expires_at: Option<DateTime<Utc>>,
    /// The middle of the token's life: it is not refreshed before then unless forced.
    pub refresh_not_before: Option<DateTime<Utc>>,
    pub version: i64,
}

impl CredentialRecord {
    /// What decides when the token is due for refresh.
    pub fn lifetime(&self) -> TokenLifetime {
        TokenLifetime {
            expires_at: self.expires_at,
            refresh_not_before: self.refresh_not_before,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredential {
    pub ciphertext: Ciphertext,
    pub expires_at: Option<DateTime<Utc>>,
    pub refresh_not_before: Option<DateTime<Utc>>,
}

impl NewCredential {
    /// A credential issued at `issued_at`: it may be refreshed from the middle of its life on.
    pub fn issued(ciphertext: Ciphertext, issued_at: DateTime<Utc>, expires_at: Option<DateTime<Utc>>) -> Self {
        Self {
            ciphertext,
            expires_at,
            refresh_not_before: half_life(issued_at, expires_at),
        }
    }
}

/// A connection with its provider and its sealed credential, read together.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionBundle {
    pub connection: Connection,
    pub provider: ProviderRecord,
    pub credential: Option<CredentialRecord>,
    /// Consents in a row that asked for the same scopes without the grant holding them.
    pub scope_step_ups: u32,
}

/// A consent taken for completion: the nonce is gone from the row, so nobody else can take it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedConsent {
    pub connection: Connection,
    pub provider: ProviderRecord,
    pub pkce_verifier: Option<Ciphertext>,
    pub return_url: Url,
}

crate::timed::timed_repository! {
    repo = "connections";
    #[async_trait]
    pub trait ConnectionRepository: Send + Sync {
        async fn insert_pending(&self, connection: &Connection, consent: &PendingConsent) -> RepoResult<()>;
        /// Starts a new consent on an existing connection that is not revoked; `false` otherwise.
        /// `step_ups`: consents in a row, this one included, that ask for these same scopes
        /// without the grant holding them (0 for any other re-consent).
        async fn begin_reconsent(
            &self,
            id: ConnectionId,
            consent: &PendingConsent,
            requested_scopes: &[Scope],
            step_ups: u32,
            at: DateTime<Utc>,
        ) -> RepoResult<bool>;
        async fn find(&self, id: ConnectionId) -> RepoResult<Option<ConnectionBundle>>;
        /// What serving a token of the workspace's newest active connection to a live provider of
        /// this name needs, in one statement.
        async fn find_active_for_read(
            &self,
            workspace: &WorkspaceId,
            provider: &ProviderName,
        ) -> RepoResult<Option<ActiveConnectionRead>>;
        /// The workspace's most recently changed connection to a live provider of this name that
        /// waits on its user (`pending` or `attention_required`).
        async fn find_newest_waiting(
            &self,
            workspace: &WorkspaceId,
            provider: &ProviderName,
        ) -> RepoResult<Option<Connection>>;
        async fn list(&self, query: &ConnectionQuery) -> RepoResult<Vec<Connection>>;
        /// Whether the consent or capture with this nonce is still open (not completed, replaced
        /// by a newer link, or expired).
        async fn consent_open(&self, id: ConnectionId, nonce: &str, now: DateTime<Utc>) -> RepoResult<bool>;
        /// Counts one submission with the open capture link `nonce`, unless `max` were made
        /// already; `false` when the link is not open or its submissions are used up.
        async fn count_capture_attempt(
            &self,
            id: ConnectionId,
            nonce: &str,
            now: DateTime<Utc>,
            max: u32,
        ) -> RepoResult<bool>;
        /// Takes the consent whose nonce matches, if it has not expired: once, for one caller.
        async fn claim_consent(
            &self,
            id: ConnectionId,
            nonce: &str,
            now: DateTime<Utc>,
        ) -> RepoResult<Option<ClaimedConsent>>;
        /// Stores the credential and makes the connection active, in one transaction. With
        /// `replacing`, the credential is written only over that version of the stored one (a
        /// re-consent that keeps the stored refresh token must not overwrite a newer one): `Conflict`
        /// when it moved on.
        async fn activate(
            &self,
            id: ConnectionId,
            credential: &NewCredential,
            replacing: Option<i64>,
            granted_scopes: Option<&[Scope]>,
            reason: &str,
            at: DateTime<Utc>,
        ) -> RepoResult<()>;
        /// Changes the status when it is one of `from`; `false` when it was not. The webhook event
        /// of the new status carries `error` as its reason, or the status's name.
        async fn transition(
            &self,
            id: ConnectionId,
            from: &[ConnectionStatus],
            to: ConnectionStatus,
            error: Option<&str>,
            at: DateTime<Utc>,
        ) -> RepoResult<bool>;
        /// Marks an active connection `attention_required` (the provider said its grant is gone),
        /// only while its credential is still at `credential_version`: a refresh that failed with
        /// an old refresh token never undoes a consent completed meanwhile. `false` otherwise.
        async fn require_attention(
            &self,
            id: ConnectionId,
            credential_version: i64,
            error: &str,
            at: DateTime<Utc>,
        ) -> RepoResult<bool>;
        /// Pending connections past their window become expired; returns them.
        async fn expire_pending(&self, now: DateTime<Utc>) -> RepoResult<Vec<ConnectionId>>;
        /// Erases the credential and marks the connection revoked; `false` when already revoked or absent.
        async fn revoke(&self, id: ConnectionId, at: DateTime<Utc>) -> RepoResult<bool>;
        async fn count_by_status(&self) -> RepoResult<Vec<(ConnectionStatus, u64)>>;
        async fn credential(&self, id: ConnectionId) -> RepoResult<Option<CredentialRecord>>;
    }
}

#[derive(Debug, Clone)]
pub struct SqlConnectionRepository {
    db: DatabaseConnection,
}

impl SqlConnectionRepository {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Changes the status when it is one of `from` (and, with `credential_version`, while the
    /// credential is still that version), writing the new status's webhook event in the same
    /// transaction.
    async fn change_status(
        &self,
        id: ConnectionId,
        from: &[ConnectionStatus],
        to: ConnectionStatus,
        error: Option<&str>,
        at: DateTime<Utc>,
        credential_version: Option<i64>,
    ) -> RepoResult<bool> {
        let txn = begin_write(&self.db).await?;
        let mut update = connection::Entity::update_many()
            .col_expr(connection::Column::Status, Expr::value(to.as_str()))
            .col_expr(connection::Column::ErrorCode, Expr::value(error.map(str::to_owned)))
            .col_expr(connection::Column::UpdatedAt, Expr::value(at))
            .filter(connection::Column::Id.eq(id.as_uuid()))
            .filter(connection::Column::Status.is_in(status_strings(from)));
        if let Some(version) = credential_version {
            update = update.filter(credential_at_version(id, version));
        }
        let changed: Vec<ChangedConnection> = update
            .exec_with_returning(&txn)
            .await?
            .iter()
            .map(ChangedConnection::from)
            .collect();
        if changed.len() != 1 {
            return Ok(false);
        }
        if let Some(event) = WebhookEventType::entering(to) {
            enqueue(&txn, event, &changed, error.unwrap_or(to.as_str()), at).await?;
        }
        txn.commit().await?;
        Ok(true)
    }
}

fn connection_from(model: &connection::Model, provider: &ProviderRecord) -> RepoResult<Connection> {
    Ok(Connection {
        id: ConnectionId::from_uuid(model.id),
        workspace_id: parse("workspace_id", &model.workspace_id, WorkspaceId::parse)?,
        provider_id: ProviderId::from_uuid(model.provider_id),
        provider_name: provider.provider.spec.name.clone(),
        status: parse("status", &model.status, str::parse)?,
        requested_scopes: from_json("requested_scopes", model.requested_scopes.clone())?,
        granted_scopes: model
            .granted_scopes
            .clone()
            .map(|v| from_json("granted_scopes", v))
            .transpose()?,
        error: model.error_code.clone(),
        consent_expires_at: model.nonce.as_ref().and(model.pending_expires_at),
        return_url: crate::convert::parse_url("return_url", model.return_url.clone())?,
        connection_params: model
            .connection_params
            .clone()
            .map_or(Ok(Default::default()), |v| from_json("connection_params", v))?,
        created_at: model.created_at,
        updated_at: model.updated_at,
        activated_at: model.activated_at,
    })
}

fn credential_from(model: credential::Model) -> CredentialRecord {
    CredentialRecord {
        ciphertext: Ciphertext {
            key_id: model.key_id,
            bytes: model.ciphertext,
        },
        expires_at: model.expires_at,
        refresh_not_before: model.refresh_not_before,
        version: model.version,
    }
}

/// A new connection's row as the domain value describes it: no consent in progress, no error, no
/// refresh state.
pub(crate) fn new_row(connection: &Connection) -> connection::ActiveModel {
    connection::ActiveModel {
        id: Set(connection.id.as_uuid()),
        workspace_id: Set(connection.workspace_id.to_string()),
        provider_id: Set(connection.provider_id.as_uuid()),
        status: Set(connection.status.as_str().to_owned()),
        requested_scopes: Set(to_json(&connection.requested_scopes)),
        granted_scopes: Set(connection.granted_scopes.as_ref().map(to_json)),
        return_url: Set(connection.return_url.as_ref().map(ToString::to_string)),
        connection_params: Set(
            (!connection.connection_params.is_empty()).then(|| to_json(&connection.connection_params))
        ),
        pkce_verifier_ciphertext: Set(None),
        pkce_verifier_key_id: Set(None),
        nonce: Set(None),
        pending_expires_at: Set(None),
        error_code: Set(None),
        refresh_lease_owner: Set(None),
        refresh_lease_expires_at: Set(None),
        refresh_failures: Set(0),
        refresh_retry_at: Set(None),
        capture_attempts: Set(0),
        scope_step_ups: Set(0),
        created_at: Set(connection.created_at),
        updated_at: Set(connection.updated_at),
        activated_at: Set(connection.activated_at),
    }
}

fn sealed_parts(sealed: Option<&Ciphertext>) -> (Option<Vec<u8>>, Option<String>) {
    (sealed.map(|c| c.bytes.clone()), sealed.map(|c| c.key_id.clone()))
}

async fn bundle<C: ConnectionTrait>(
    db: &C,
    row: Option<(connection::Model, Option<provider::Model>)>,
) -> RepoResult<Option<ConnectionBundle>> {
    let Some((model, provider)) = row else {
        return Ok(None);
    };
    let provider = provider_from_model(
        provider.ok_or_else(|| RepoError::Corrupt(format!("connection {} has no provider row", model.id)))?,
    )?;
    let credential = credential::Entity::find_by_id(model.id)
        .one(db)
        .await?
        .map(credential_from);
    Ok(Some(ConnectionBundle {
        connection: connection_from(&model, &provider)?,
        provider,
        credential,
        scope_step_ups: u32::try_from(model.scope_step_ups).unwrap_or_default(),
    }))
}

async fn upsert_credential<C: ConnectionTrait>(
    db: &C,
    id: ConnectionId,
    credential: &NewCredential,
    replacing: Option<i64>,
    at: DateTime<Utc>,
) -> RepoResult<()> {
    if let Some(version) = replacing {
        // Written over exactly the credential the caller read: the version moves on in SQL, so
        // two writers can never both store the same next version.
        let written = overwrite_credential(credential, at)
            .col_expr(
                credential::Column::Version,
                Expr::col(credential::Column::Version).add(1),
            )
            .filter(credential::Column::ConnectionId.eq(id.as_uuid()))
            .filter(credential::Column::Version.eq(version))
            .exec(db)
            .await?;
        if written.rows_affected != 1 {
            return Err(RepoError::Conflict("the credential changed meanwhile"));
        }
        return Ok(());
    }
    let model = credential::ActiveModel {
        connection_id: Set(id.as_uuid()),
        ciphertext: Set(credential.ciphertext.bytes.clone()),
        key_id: Set(credential.ciphertext.key_id.clone()),
        expires_at: Set(credential.expires_at),
        refresh_not_before: Set(credential.refresh_not_before),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
    };
    // One statement whichever writer comes first; an existing row's version is incremented by
    // the database, never computed from a read.
    credential::Entity::insert(model)
        .on_conflict(
            OnConflict::column(credential::Column::ConnectionId)
                .update_columns([
                    credential::Column::Ciphertext,
                    credential::Column::KeyId,
                    credential::Column::ExpiresAt,
                    credential::Column::RefreshNotBefore,
                    credential::Column::UpdatedAt,
                ])
                .value(
                    credential::Column::Version,
                    Expr::col((credential::Entity, credential::Column::Version)).add(1),
                )
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// An update of a credential row to `credential`, written at `at` (the version is the caller's).
pub(crate) fn overwrite_credential(credential: &NewCredential, at: DateTime<Utc>) -> UpdateMany<credential::Entity> {
    credential::Entity::update_many()
        .col_expr(
            credential::Column::Ciphertext,
            Expr::value(credential.ciphertext.bytes.clone()),
        )
        .col_expr(
            credential::Column::KeyId,
            Expr::value(credential.ciphertext.key_id.clone()),
        )
        .col_expr(credential::Column::ExpiresAt, Expr::value(credential.expires_at))
        .col_expr(
            credential::Column::RefreshNotBefore,
            Expr::value(credential.refresh_not_before),
        )
        .col_expr(credential::Column::UpdatedAt, Expr::value(at))
}

/// The connection's credential is still at `version` (a condition on the connection row).
pub(crate) fn credential_at_version(id: ConnectionId, version: i64) -> sea_orm::sea_query::SimpleExpr {
    connection::Column::Id.in_subquery(
        Query::select()
            .column(credential::Column::ConnectionId)
            .from(credential::Entity)
            .and_where(Expr::col(credential::Column::ConnectionId).eq(id.as_uuid()))
            .and_where(Expr::col(credential::Column::Version).eq(version))
            .to_owned(),
    )
}

/// Clears a consent in progress: its nonce (so its state no longer works), its sealed PKCE
/// verifier and its deadline.
fn without_consent(update: UpdateMany<connection::Entity>) -> UpdateMany<connection::Entity> {
    update
        .col_expr(connection::Column::Nonce, Expr::value(Option::<String>::None))
        .col_expr(
            connection::Column::PkceVerifierCiphertext,
            Expr::value(Option::<Vec<u8>>::None),
        )
        .col_expr(
            connection::Column::PkceVerifierKeyId,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            connection::Column::PendingExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
}

fn status_strings(statuses: &[ConnectionStatus]) -> Vec<&'static str> {
    statuses.iter().map(|s| s.as_str()).collect()
}

#[async_trait]
impl ConnectionRepository for SqlConnectionRepository {
    async fn insert_pending(&self, connection: &Connection, consent: &PendingConsent) -> RepoResult<()> {
        let (verifier, verifier_key) = sealed_parts(consent.pkce_verifier.as_ref());
        connection::Entity::insert(connection::ActiveModel {
            granted_scopes: Set(None),
            return_url: Set(Some(consent.return_url.to_string())),
            pkce_verifier_ciphertext: Set(verifier),
            pkce_verifier_key_id: Set(verifier_key),
            nonce: Set(Some(consent.nonce.clone())),
            pending_expires_at: Set(Some(consent.expires_at)),
            activated_at: Set(None),
            ..new_row(connection)
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }

    async fn begin_reconsent(
        &self,
        id: ConnectionId,
        consent: &PendingConsent,
        requested_scopes: &[Scope],
        step_ups: u32,
        at: DateTime<Utc>,
    ) -> RepoResult<bool> {
        let (verifier, verifier_key) = sealed_parts(consent.pkce_verifier.as_ref());
        let result = connection::Entity::update_many()
            .col_expr(connection::Column::Nonce, Expr::value(Some(consent.nonce.clone())))
            .col_expr(connection::Column::PkceVerifierCiphertext, Expr::value(verifier))
            .col_expr(connection::Column::PkceVerifierKeyId, Expr::value(verifier_key))
            .col_expr(
                connection::Column::ReturnUrl,
                Expr::value(Some(consent.return_url.to_string())),
            )
            .col_expr(
                connection::Column::PendingExpiresAt,
                Expr::value(Some(consent.expires_at)),
            )
                        // What was granted stays what was granted until the user consents again: a grant
            // recorded only as "what was requested" is frozen before the request grows.
            .col_expr(
                connection::Column::GrantedScopes,
                Expr::cust(
                    "CASE WHEN activated_at IS NOT NULL THEN COALESCE(granted_scopes, requested_scopes) ELSE granted_scopes END",
                ),
            )
            .col_expr(
                connection::Column::RequestedScopes,
                Expr::value(to_json(&requested_scopes)),
            )
            .col_expr(connection::Column::CaptureAttempts, Expr::value(0))
            .col_expr(
                connection::Column::ScopeStepUps,
                Expr::value(i32::try_from(step_ups).unwrap_or(i32::MAX)),
            )
            .col_expr(connection::Column::UpdatedAt, Expr::value(at))
            .filter(connection::Column::Id.eq(id.as_uuid()))
            .filter(connection::Column::Status.ne(ConnectionStatus::Revoked.as_str()))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    async fn find(&self, id: ConnectionId) -> RepoResult<Option<ConnectionBundle>> {
        let row = connection::Entity::find_by_id(id.as_uuid())
            .find_also_related(provider::Entity)
            .one(&self.db)
            .await?;
        bundle(&self.db, row).await
    }

    async fn find_active_for_read(
        &self,
        workspace: &WorkspaceId,
        provider_name: &ProviderName,
    ) -> RepoResult<Option<ActiveConnectionRead>> {
        read_newest_active(&self.db, workspace, provider_name).await
    }

    async fn find_newest_waiting(
        &self,
        workspace: &WorkspaceId,
        provider_name: &ProviderName,
    ) -> RepoResult<Option<Connection>> {
        let waiting = [ConnectionStatus::Pending, ConnectionStatus::AttentionRequired];
        let row = connection::Entity::find()
            .find_also_related(provider::Entity)
            .filter(connection::Column::WorkspaceId.eq(workspace.as_str()))
            .filter(connection::Column::Status.is_in(status_strings(&waiting)))
            .filter(provider::Column::Name.eq(provider_name.as_str()))
            .filter(provider::Column::DeletedAt.is_null())
            .order_by_desc(connection::Column::UpdatedAt)
            .order_by_desc(connection::Column::Id)
            .one(&self.db)
            .await?;
        match row {
            Some((model, Some(provider))) => Ok(Some(connection_from(&model, &provider_from_model(provider)?)?)),
            Some((model, None)) => Err(RepoError::Corrupt(format!("connection {} has no provider", model.id))),
            None => Ok(None),
        }
    }

    async fn list(&self, query: &ConnectionQuery) -> RepoResult<Vec<Connection>> {
        let mut select = connection::Entity::find().find_also_related(provider::Entity);
        if let Some(workspace) = &query.workspace_id {
            select = select.filter(connection::Column::WorkspaceId.eq(workspace.as_str()));
        }
        if let Some(name) = &query.provider {
            select = select.filter(provider::Column::Name.eq(name.as_str()));
        }
        if let Some(status) = query.status {
            select = select.filter(connection::Column::Status.eq(status.as_str()));
        }
        if let Some(after) = query.after {
            select = select.filter(connection::Column::Id.gt(after.as_uuid()));
        }
        if let Some(workspaces) = &query.workspace_in {
            select = select.filter(connection::Column::WorkspaceId.is_in(workspaces.iter().map(WorkspaceId::as_str)));
        }
        select
            .order_by_asc(connection::Column::Id)
            .limit(query.limit)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|(model, provider)| {
                let provider = provider_from_model(
                    provider.ok_or_else(|| RepoError::Corrupt(format!("connection {} has no provider", model.id)))?,
                )?;
                connection_from(&model, &provider)
            })
            .collect()
    }

    async fn consent_open(&self, id: ConnectionId, nonce: &str, now: DateTime<Utc>) -> RepoResult<bool> {
        Ok(connection::Entity::find_by_id(id.as_uuid())
            .filter(connection::Column::Nonce.eq(nonce))
            .filter(connection::Column::PendingExpiresAt.gt(now))
            .one(&self.db)
            .await?
            .is_some())
    }

    async fn count_capture_attempt(
        &self,
        id: ConnectionId,
        nonce: &str,
        now: DateTime<Utc>,
        max: u32,
    ) -> RepoResult<bool> {
        // One conditional update: concurrent submissions, from any process, cannot exceed `max`.
        let counted = connection::Entity::update_many()
            .col_expr(
                connection::Column::CaptureAttempts,
                Expr::col(connection::Column::CaptureAttempts).add(1),
            )
            .filter(connection::Column::Id.eq(id.as_uuid()))
            .filter(connection::Column::Nonce.eq(nonce))
            .filter(connection::Column::PendingExpiresAt.gt(now))
            .filter(connection::Column::CaptureAttempts.lt(i64::from(max)))
            .exec(&self.db)
            .await?;
        Ok(counted.rows_affected == 1)
    }

    async fn claim_consent(
        &self,
        id: ConnectionId,
        nonce: &str,
        now: DateTime<Utc>,
    ) -> RepoResult<Option<ClaimedConsent>> {
        let txn = begin_write(&self.db).await?;
        let row = connection::Entity::find_by_id(id.as_uuid())
            .find_also_related(provider::Entity)
            .filter(connection::Column::Nonce.eq(nonce))
            .filter(connection::Column::PendingExpiresAt.gt(now))
            .one(&txn)
            .await?;
        let Some((model, provider)) = row else {
            return Ok(None);
        };
        let taken = connection::Entity::update_many()
            .col_expr(connection::Column::Nonce, Expr::value(Option::<String>::None))
            .col_expr(
                connection::Column::PkceVerifierCiphertext,
                Expr::value(Option::<Vec<u8>>::None),
            )
            .col_expr(
                connection::Column::PkceVerifierKeyId,
                Expr::value(Option::<String>::None),
            )
            .col_expr(connection::Column::UpdatedAt, Expr::value(now))
            .filter(connection::Column::Id.eq(id.as_uuid()))
            .filter(connection::Column::Nonce.eq(nonce))
            .exec(&txn)
            .await?;
        if taken.rows_affected != 1 {
            return Ok(None);
        }
        txn.commit().await?;
        let provider = provider_from_model(
            provider.ok_or_else(|| RepoError::Corrupt(format!("connection {} has no provider", model.id)))?,
        )?;
        let pkce_verifier = match (
            model.pkce_verifier_ciphertext.clone(),
            model.pkce_verifier_key_id.clone(),
        ) {
            (Some(bytes), Some(key_id)) => Some(Ciphertext { key_id, bytes }),
            _ => None,
        };
        let return_url = model
            .return_url
            .as_deref()
            .ok_or_else(|| RepoError::Corrupt("consent without return_url".into()))
            .and_then(|raw| Url::parse(raw).map_err(|e| RepoError::Corrupt(format!("return_url: {e}"))))?;
        Ok(Some(ClaimedConsent {
            connection: connection_from(&model, &provider)?,
            provider,
            pkce_verifier,
            return_url,
        }))
    }

    async fn activate(
        &self,
        id: ConnectionId,
        credential: &NewCredential,
        replacing: Option<i64>,
        granted_scopes: Option<&[Scope]>,
        reason: &str,
        at: DateTime<Utc>,
    ) -> RepoResult<()> {
        let txn = begin_write(&self.db).await?;
        upsert_credential(&txn, id, credential, replacing, at).await?;
        let mut update = connection::Entity::update_many()
            .col_expr(
                connection::Column::Status,
                Expr::value(ConnectionStatus::Active.as_str()),
            )
            .col_expr(connection::Column::ErrorCode, Expr::value(Option::<String>::None))
            .col_expr(
                connection::Column::PendingExpiresAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(connection::Column::ActivatedAt, Expr::value(Some(at)))
            .col_expr(connection::Column::RefreshFailures, Expr::value(0))
            .col_expr(
                connection::Column::RefreshRetryAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(connection::Column::UpdatedAt, Expr::value(at));
        if let Some(scopes) = granted_scopes {
            update = update.col_expr(connection::Column::GrantedScopes, Expr::value(Some(to_json(&scopes))));
        }
        let activated = update
            .filter(connection::Column::Id.eq(id.as_uuid()))
            .filter(connection::Column::Status.ne(ConnectionStatus::Revoked.as_str()))
            .exec_with_returning(&txn)
            .await?;
        if activated.len() != 1 {
            return Err(RepoError::Conflict("the connection was revoked meanwhile"));
        }
        let changed: Vec<ChangedConnection> = activated.iter().map(ChangedConnection::from).collect();
        enqueue(&txn, WebhookEventType::ConnectionActive, &changed, reason, at).await?;
        txn.commit().await?;
        Ok(())
    }

    async fn transition(
        &self,
        id: ConnectionId,
        from: &[ConnectionStatus],
        to: ConnectionStatus,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) -> RepoResult<bool> {
        self.change_status(id, from, to, error, at, None).await
    }

    async fn require_attention(
        &self,
        id: ConnectionId,
        credential_version: i64,
        error: &str,
        at: DateTime<Utc>,
    ) -> RepoResult<bool> {
        self.change_status(
            id,
            &[ConnectionStatus::Active],
            ConnectionStatus::AttentionRequired,
            Some(error),
            at,
            Some(credential_version),
        )
        .await
    }

    async fn expire_pending(&self, now: DateTime<Utc>) -> RepoResult<Vec<ConnectionId>> {
        let txn = begin_write(&self.db).await?;
        // RETURNING names the rows this statement changed: with several replicas sweeping at
        // once, each expired connection is reported (and audited) by exactly one of them.
        let expired = connection::Entity::update_many()
            .col_expr(
                connection::Column::Status,
                Expr::value(ConnectionStatus::Expired.as_str()),
            )
            .col_expr(connection::Column::UpdatedAt, Expr::value(now))
            .filter(connection::Column::Status.eq(ConnectionStatus::Pending.as_str()))
            .filter(connection::Column::PendingExpiresAt.lt(now))
            .exec_with_returning(&txn)
            .await?;
        // Abandoned re-consents: drop their verifier and nonce, keep the connection as it is.
        without_consent(connection::Entity::update_many())
            .filter(connection::Column::PendingExpiresAt.lt(now))
            .filter(connection::Column::Status.ne(ConnectionStatus::Pending.as_str()))
            .exec(&txn)
            .await?;
        let changed: Vec<ChangedConnection> = expired.iter().map(ChangedConnection::from).collect();
        enqueue(
            &txn,
            WebhookEventType::ConnectionExpired,
            &changed,
            "consent_window_elapsed",
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(expired
            .into_iter()
            .map(|model| ConnectionId::from_uuid(model.id))
            .collect())
    }

    async fn revoke(&self, id: ConnectionId, at: DateTime<Utc>) -> RepoResult<bool> {
        let txn = begin_write(&self.db).await?;
        let result = without_consent(connection::Entity::update_many())
            .col_expr(
                connection::Column::Status,
                Expr::value(ConnectionStatus::Revoked.as_str()),
            )
            .col_expr(connection::Column::UpdatedAt, Expr::value(at))
            .filter(connection::Column::Id.eq(id.as_uuid()))
            .filter(connection::Column::Status.ne(ConnectionStatus::Revoked.as_str()))
            .exec_with_returning(&txn)
            .await?;
        if result.len() != 1 {
            return Ok(false);
        }
        let changed: Vec<ChangedConnection> = result.iter().map(ChangedConnection::from).collect();
        enqueue(&txn, WebhookEventType::ConnectionRevoked, &changed, "revoked", at).await?;
        credential::Entity::delete_many()
            .filter(credential::Column::ConnectionId.eq(id.as_uuid()))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(true)
    }

    async fn count_by_status(&self) -> RepoResult<Vec<(ConnectionStatus, u64)>> {
        let rows: Vec<(String, i64)> = connection::Entity::find()
            .select_only()
            .column(connection::Column::Status)
            .column_as(Expr::from(Func::count(Expr::col(connection::Column::Id))), "count")
            .group_by(connection::Column::Status)
            .into_tuple()
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|(status, count)| Ok((parse("status", &status, str::parse)?, u64::try_from(count).unwrap_or(0))))
            .collect()
    }

    async fn credential(&self, id: ConnectionId) -> RepoResult<Option<CredentialRecord>> {
        Ok(credential::Entity::find_by_id(id.as_uuid())
            .one(&self.db)
            .await?
            .map(credential_from))
    }
}
