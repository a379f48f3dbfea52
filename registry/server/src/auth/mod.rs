//! Access control, TLS and audit.
//!
//! - [`tokens`]: the token file (`--auth-file`): salted hashes of named
//!   bearer tokens with a role and scopes; create, revoke, and a
//!   [`tokens::TokenSource`] that reads the file again when it changes.
//! - [`audit`]: the wire form of audit records and the names of status codes.
//! - [`Gate`]: authenticates a call's `authorization` metadata, authorizes
//!   it by role and scope, and records refused write attempts in the audit
//!   log (the registry records the accepted ones with their change).
//! - [`Security`]: the flags (`--auth-file`, `--tls-cert`, `--tls-key`,
//!   `--tls-client-ca`) and the server's TLS settings built from them.
//!
//! Roles are ordered: a `reader` gets, lists, diffs, checks and watches; a
//! `publisher` also publishes and deprecates; an `admin` also changes
//! settings, deletes, restores and reads the audit log. Scopes are
//! component name patterns where `*` stands for any run of characters.

pub mod audit;
pub mod tokens;

use std::{fmt, future::Future, path::PathBuf, sync::Arc};

use serde::{Deserialize, Serialize};
use tonic::{Status, metadata::MetadataMap};

use crate::{model::Actor, service::Registry};
use audit::code_name;
use tokens::TokenSource;

/// Failures of access-control settings and files.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The token file cannot be read, parsed or written.
    #[error("token file {}: {reason}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A name, scope or role given by the operator is not valid.
    #[error("{0}")]
    Invalid(String),
    /// A TLS file cannot be read or is not usable.
    #[error("TLS: {0}")]
    Tls(String),
    /// The operating system gave no random bytes.
    #[error("the operating system's random source failed: {0}")]
    Random(String),
}

/// What a token may do. Each role includes the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Get, list, diff, check, watch.
    Reader,
    /// A reader that also publishes and deprecates.
    Publisher,
    /// A publisher that also changes settings, deletes, restores and reads
    /// the audit log.
    Admin,
}

impl Role {
    /// The role's name as written in the token file and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Publisher => "publisher",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Role {
    type Err = AuthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "reader" => Ok(Role::Reader),
            "publisher" => Ok(Role::Publisher),
            "admin" => Ok(Role::Admin),
            other => Err(AuthError::Invalid(format!(
                "unknown role {other:?}: expected reader, publisher or admin"
            ))),
        }
    }
}

/// Checks a scope pattern: a component name in which `*` may stand for any
/// run of characters (`orders`, `billing-*`, `*`).
pub fn validate_pattern(pattern: &str) -> Result<(), AuthError> {
    let valid = !pattern.is_empty()
        && pattern.len() <= crate::model::MAX_NAME_LEN
        && pattern
            .chars()
            .all(|c| matches!(c, 'a'..='z' | '0'..='9' | '.' | '_' | '-' | '*'));
    if valid {
        Ok(())
    } else {
        Err(AuthError::Invalid(format!(
            "invalid scope {pattern:?}: a component name (lowercase letters, digits, '.', '_', '-') \
             where '*' stands for any run of characters"
        )))
    }
}

/// Whether `name` matches `pattern`, where `*` matches any run of
/// characters. Linear backtracking over the last `*`, so a hostile pattern
/// cannot make it exponential.
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ni));
            pi += 1;
        } else if pi < p.len() && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Who made a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's name, or `anonymous` on an open registry.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The component patterns it is limited to; empty: all.
    pub scopes: Vec<String>,
}

/// Why a call was not authenticated.
#[derive(Debug)]
pub enum Refusal {
    /// No credentials.
    Missing,
    /// Credentials in a form the registry does not read.
    Malformed,
    /// A token that no entry matches (unknown or revoked).
    Unknown,
    /// The tokens cannot be read: the registry's fault, not the caller's.
    Unreadable(Status),
}

impl Refusal {
    /// The `reason` label of `accord_auth_failures_total`.
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::Missing => "missing",
            Refusal::Malformed => "malformed",
            Refusal::Unknown => "unknown",
            Refusal::Unreadable(_) => "unreadable",
        }
    }
}

/// The principal of every call on a registry without a token file.
pub const ANONYMOUS: &str = "anonymous";
/// The principal recorded for a call without a valid token.
pub const UNAUTHENTICATED: &str = "unauthenticated";

impl Principal {
    /// Whether the principal's scopes cover `component` (`None`: something
    /// that is not one component, which only an unscoped token covers).
    pub fn covers(&self, component: Option<&str>) -> bool {
        if self.scopes.is_empty() {
            return true;
        }
        component.is_some_and(|c| self.scopes.iter().any(|p| pattern_matches(p, c)))
    }

    /// Allows the call when the principal has at least `role` and its scopes
    /// cover `component` (`None`: the call is not about one component, which
    /// only an unscoped token may make). The denial names what is missing.
    pub fn allow(&self, action: &str, role: Role, component: Option<&str>) -> Result<(), Status> {
        if self.role < role {
            return Err(Status::permission_denied(format!(
                "{action} needs the {role} role; token {:?} has the {} role",
                self.name, self.role
            )));
        }
        if !self.covers(component) {
            let scopes = self.scopes.join(", ");
            return Err(Status::permission_denied(match component {
                Some(c) => format!(
                    "{action} on component {c:?} is outside the scopes of token {:?} ({scopes})",
                    self.name
                ),
                None => format!(
                    "{action} without a component needs an unscoped token; token {:?} is limited to {scopes}",
                    self.name
                ),
            }));
        }
        Ok(())
    }
}

/// The access-control flags of the server.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Security {
    /// Token file: require a bearer token on every call but health and reflection.
    ///
    /// Created and managed with `accord-registry token create|list|revoke`; it
    /// holds salted hashes only. Changes are picked up by a running server on
    /// the next call. Without it (or --auth-db) the registry is open to anyone
    /// who can reach it.
    #[arg(
        long,
        env = "ACCORD_AUTH_FILE",
        value_name = "FILE",
        conflicts_with = "auth_db"
    )]
    pub auth_file: Option<PathBuf>,

    /// Require a bearer token on every call, from the PostgreSQL store's database.
    ///
    /// Every replica then authenticates the same tokens. Manage them with
    /// `accord-registry token create|list|revoke --store URL`; a running
    /// replica sees a change within a few seconds. Needs --store postgres://….
    #[arg(long, env = "ACCORD_AUTH_DB")]
    pub auth_db: bool,

    /// PEM certificate chain: serve over TLS (with --tls-key).
    #[arg(long, env = "ACCORD_TLS_CERT", value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key of --tls-cert.
    #[arg(long, env = "ACCORD_TLS_KEY", value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// PEM CA certificates: require a client certificate signed by one of them.
    ///
    /// Needs --tls-cert. Clients without such a certificate are refused during
    /// the TLS handshake.
    #[arg(long, env = "ACCORD_TLS_CLIENT_CA", value_name = "PEM", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
}

fn read_pem(what: &str, path: &std::path::Path) -> Result<Vec<u8>, AuthError> {
    let bytes = std::fs::read(path)
        .map_err(|e| AuthError::Tls(format!("cannot read the {what} {}: {e}", path.display())))?;
    if !bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        return Err(AuthError::Tls(format!(
            "the {what} {} is not PEM",
            path.display()
        )));
    }
    Ok(bytes)
}

impl Security {
    /// The server's TLS settings, when `--tls-cert` is given.
    pub fn server_tls(&self) -> Result<Option<tonic::transport::ServerTlsConfig>, AuthError> {
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else {
            if self.tls_cert.is_some() || self.tls_key.is_some() || self.tls_client_ca.is_some() {
                return Err(AuthError::Tls(
                    "--tls-cert and --tls-key go together, and --tls-client-ca needs them".into(),
                ));
            }
            return Ok(None);
        };
        let (cert_pem, key_pem) = (read_pem("certificate", cert)?, read_pem("private key", key)?);
        check_identity(cert, &cert_pem, key, &key_pem)?;
        let identity = tonic::transport::Identity::from_pem(cert_pem, key_pem);
        let mut tls = tonic::transport::ServerTlsConfig::new().identity(identity);
        if let Some(ca) = &self.tls_client_ca {
            tls = tls.client_ca_root(tonic::transport::Certificate::from_pem(read_pem(
                "client CA certificate",
                ca,
            )?));
        }
        Ok(Some(tls))
    }
}

/// Checks what clients would refuse only during their handshake, so that
/// the server says it at start-up, naming the files: a certificate and key
/// that do not belong together, and a CA certificate used as the server's.
fn check_identity(
    cert_path: &std::path::Path,
    cert_pem: &[u8],
    key_path: &std::path::Path,
    key_pem: &[u8],
) -> Result<(), AuthError> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| {
            AuthError::Tls(format!(
                "the certificate {} cannot be read: {e}",
                cert_path.display()
            ))
        })?;
    let Some(leaf) = certs.first() else {
        return Err(AuthError::Tls(format!(
            "the certificate file {} holds no certificate",
            cert_path.display()
        )));
    };
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| {
        AuthError::Tls(format!(
            "the private key {} cannot be read: {e}",
            key_path.display()
        ))
    })?;
    let (_, parsed) = x509_parser::parse_x509_certificate(leaf.as_ref()).map_err(|e| {
        AuthError::Tls(format!(
            "the certificate {} is not valid X.509: {e}",
            cert_path.display()
        ))
    })?;
    if parsed.is_ca() {
        return Err(AuthError::Tls(format!(
            "the certificate {} is a CA certificate (basicConstraints CA:TRUE): clients refuse it as a \
             server certificate; sign a server certificate with it and give that to --tls-cert (the README \
             has a recipe)",
            cert_path.display()
        )));
    }
    let provider = rustls::crypto::ring::default_provider();
    let signing = provider.key_provider.load_private_key(key).map_err(|e| {
        AuthError::Tls(format!(
            "the private key {} cannot be used: {e}",
            key_path.display()
        ))
    })?;
    rustls::sign::CertifiedKey::new(certs, signing)
        .keys_match()
        .map_err(|_| {
            AuthError::Tls(format!(
                "the private key {} does not match the certificate {}: give the key the certificate was issued for",
                key_path.display(),
                cert_path.display()
            ))
        })
}

/// Authentication, authorization and the audit of refused writes for the
/// gRPC adapter. (A write that succeeds is audited by the registry, in the
/// same transaction as its change.)
#[derive(Debug, Clone)]
pub struct Gate {
    tokens: Option<Arc<Tokens>>,
    registry: Registry,
    unauthenticated: Arc<Unauthenticated>,
}

/// How often refused unauthenticated write attempts are written to the
/// audit log: one entry per peer and interval, with a count, instead of one
/// durable write per attempt (which let anyone fill the disk).
pub const UNAUTHENTICATED_AUDIT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// Peers counted apart in one interval; the rest are counted together.
const MAX_PEERS_PER_INTERVAL: usize = 1024;

/// The longest refusal message an audit entry keeps, in characters.
pub const MAX_AUDIT_MESSAGE: usize = 512;

/// Refused unauthenticated write attempts of the current interval, by peer.
#[derive(Debug, Default)]
struct Unauthenticated {
    counts:
        std::sync::Mutex<std::collections::BTreeMap<String, (u64, std::collections::BTreeSet<&'static str>)>>,
}

impl Unauthenticated {
    fn record(&self, peer: Option<std::net::SocketAddr>, action: &'static str) {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut key = peer.map_or_else(|| "unknown peer".to_owned(), |p| p.ip().to_string());
        if !counts.contains_key(&key) && counts.len() >= MAX_PEERS_PER_INTERVAL {
            key = "other peers".to_owned();
        }
        let entry = counts.entry(key).or_default();
        entry.0 += 1;
        entry.1.insert(action);
    }

    /// The audit records of the interval that ends now.
    fn drain(&self) -> Vec<crate::model::AuditRecord> {
        let counts = std::mem::take(
            &mut *self
                .counts
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        counts
            .into_iter()
            .map(|(peer, (count, actions))| {
                let actions: Vec<&str> = actions.into_iter().collect();
                let actor = Actor {
                    principal: UNAUTHENTICATED.to_owned(),
                    action: "UnauthenticatedWrites",
                    target: peer.clone(),
                };
                actor.record(
                    "UNAUTHENTICATED",
                    format!(
                        "{count} write attempt(s) without a valid token from {peer} ({})",
                        actions.join(", ")
                    ),
                )
            })
            .collect()
    }
}

/// Where the tokens of a registry that requires them come from.
#[derive(Debug)]
pub enum Tokens {
    /// A token file (`--auth-file`), read again when it changes.
    File(TokenSource),
    /// The shared store's database (`--auth-db`), read again when a replica
    /// announces a change, and at least every few seconds.
    Database(DatabaseTokens),
}

impl Tokens {
    /// The tokens in force.
    pub fn current(&self) -> Result<Arc<tokens::TokenFile>, AuthError> {
        match self {
            Tokens::File(source) => source.current(),
            Tokens::Database(source) => Ok(source.current.load_full()),
        }
    }
}

/// How often tokens kept in the database are read again when no
/// notification came: the longest a revoked token may still be honoured.
pub const DATABASE_TOKENS_REFRESH: std::time::Duration = std::time::Duration::from_secs(2);

/// Tokens kept in a PostgreSQL store, followed in the background.
pub struct DatabaseTokens {
    current: Arc<arc_swap::ArcSwap<tokens::TokenFile>>,
    task: tokio::task::JoinHandle<()>,
}

impl fmt::Debug for DatabaseTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseTokens")
            .field("tokens", &self.current.load().tokens.len())
            .finish()
    }
}

impl Drop for DatabaseTokens {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DatabaseTokens {
    /// Reads the tokens of `store` and follows its changes.
    pub async fn open(store: crate::store::postgres::PostgresStore) -> Result<Self, AuthError> {
        let first = store
            .tokens()
            .await
            .map_err(|e| AuthError::Invalid(format!("cannot read the tokens from the database: {e}")))?;
        let current = Arc::new(arc_swap::ArcSwap::from_pointee(first));
        let follower = current.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = store.tokens_changed() => {}
                    () = tokio::time::sleep(DATABASE_TOKENS_REFRESH) => {}
                }
                match store.tokens().await {
                    Ok(file) => {
                        if *follower.load_full() != file {
                            tracing::info!(tokens = file.tokens.len(), "tokens reloaded from the database");
                            follower.store(Arc::new(file));
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read the tokens from the database; keeping the last ones")
                    }
                }
            }
        });
        Ok(Self { current, task })
    }
}

impl Gate {
    /// A gate that lets every call through as `anonymous`.
    pub fn open(registry: Registry) -> Self {
        Self::new(None, registry)
    }

    /// A gate that requires a token from `source`.
    pub fn with_tokens(source: Tokens, registry: Registry) -> Self {
        Self::new(Some(Arc::new(source)), registry)
    }

    fn new(tokens: Option<Arc<Tokens>>, registry: Registry) -> Self {
        let unauthenticated = Arc::new(Unauthenticated::default());
        // Writes the counts of refused unauthenticated attempts once per
        // interval, for as long as the gate lives.
        // Holds no registry between ticks: a gate dropped (a server that
        // failed to start) lets its store go.
        let counts = Arc::downgrade(&unauthenticated);
        let writer = registry.downgrade();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(UNAUTHENTICATED_AUDIT_INTERVAL);
            tick.tick().await;
            loop {
                tick.tick().await;
                let (Some(counts), Some(writer)) = (counts.upgrade(), writer.upgrade()) else {
                    return;
                };
                let records = counts.drain();
                drop(counts);
                if !records.is_empty()
                    && let Err(e) = writer.audit(records).await
                {
                    tracing::error!(error = %e, "cannot record refused unauthenticated attempts");
                }
            }
        });
        Self {
            tokens,
            registry,
            unauthenticated,
        }
    }

    /// Writes the counts of refused unauthenticated attempts now (at
    /// shutdown, and in tests) rather than at the end of the interval.
    pub async fn flush_unauthenticated(&self) {
        let records = self.unauthenticated.drain();
        if !records.is_empty()
            && let Err(e) = self.registry.audit(records).await
        {
            tracing::error!(error = %e, "cannot record refused unauthenticated attempts");
        }
    }

    /// Allows a call by `principal` (see [`Principal::allow`]), logging a
    /// denial with the token's name, the action and the component.
    pub fn allow(
        &self,
        principal: &Principal,
        action: &str,
        role: Role,
        component: Option<&str>,
    ) -> Result<(), Status> {
        principal.allow(action, role, component).inspect_err(|denied| {
            tracing::warn!(
                principal = %principal.name,
                action,
                component = component.map(crate::page::truncate).unwrap_or_default(),
                reason = %denied.message(),
                "call denied"
            );
        })
    }

    /// Whether calls need a token.
    pub fn requires_tokens(&self) -> bool {
        self.tokens.is_some()
    }

    /// Who made the call: UNAUTHENTICATED when a token is required and the
    /// call has none, or one that no entry of the token file matches.
    pub fn authenticate(&self, metadata: &MetadataMap) -> Result<Principal, Status> {
        let header = metadata.get("authorization").map(|h| h.to_str().ok());
        self.principal(header, |h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
                .map(|t| t.trim().to_owned())
        })
        .map_err(|refusal| {
            Status::unauthenticated(match refusal {
                Refusal::Missing => "this registry requires a bearer token in the authorization metadata",
                Refusal::Malformed => "the authorization metadata must be \"Bearer <token>\"",
                Refusal::Unknown => "the bearer token is not valid (unknown or revoked)",
                Refusal::Unreadable(status) => return status,
            })
        })
    }

    /// Who made an HTTP request: its `Authorization` header is `Bearer
    /// <token>` (scripts, Prometheus) or `Basic` with the token as the
    /// password (what a browser sends after asking for a user name and
    /// password; the user name is not checked).
    pub fn authenticate_http(&self, headers: &http::HeaderMap) -> Result<Principal, Refusal> {
        let header = headers.get(http::header::AUTHORIZATION).map(|h| h.to_str().ok());
        self.principal(header, |h| {
            if let Some(token) = h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")) {
                return Some(token.trim().to_owned());
            }
            let encoded = h.strip_prefix("Basic ").or_else(|| h.strip_prefix("basic "))?;
            use base64::Engine as _;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()?;
            let text = String::from_utf8(decoded).ok()?;
            let token = text
                .split_once(':')
                .map_or(text.as_str(), |(_, password)| password);
            Some(token.trim().to_owned())
        })
    }

    /// The principal of an `authorization` header (`None`: absent;
    /// `Some(None)`: not text), read by `token_of`; failures are counted.
    fn principal(
        &self,
        header: Option<Option<&str>>,
        token_of: impl FnOnce(&str) -> Option<String>,
    ) -> Result<Principal, Refusal> {
        let Some(source) = &self.tokens else {
            return Ok(Principal {
                name: ANONYMOUS.into(),
                role: Role::Admin,
                scopes: Vec::new(),
            });
        };
        let refused = |refusal: Refusal| {
            self.registry.metrics().auth_failed(refusal.reason());
            tracing::warn!(reason = refusal.reason(), "authentication failed");
            Err(refusal)
        };
        let Some(header) = header else {
            return refused(Refusal::Missing);
        };
        let Some(token) = header.and_then(token_of) else {
            return refused(Refusal::Malformed);
        };
        let file = source.current().map_err(|e| {
            tracing::error!(error = %e, "the tokens cannot be read: refusing calls");
            Refusal::Unreadable(Status::unavailable(
                "the registry cannot read its tokens; the server log has the details",
            ))
        })?;
        let Some(entry) = file.find(&token) else {
            return refused(Refusal::Unknown);
        };
        Ok(Principal {
            name: entry.name.clone(),
            role: entry.role,
            scopes: entry.scopes.clone(),
        })
    }

    /// Runs a write `call` when `caller` may make it with `role` on
    /// `component` (empty: the global settings). `call` gets the [`Actor`]
    /// the registry audits a success with; a refusal, by the gate or by
    /// `call`, is audited here. `call` is not started when the attempt is
    /// refused.
    /// Refused attempts without a valid token are counted per `peer` and
    /// audited once per [`UNAUTHENTICATED_AUDIT_INTERVAL`].
    #[allow(clippy::too_many_arguments)]
    pub async fn write<T, F, Fut>(
        &self,
        caller: Result<Principal, Status>,
        peer: Option<std::net::SocketAddr>,
        action: &'static str,
        role: Role,
        component: &str,
        target: String,
        call: F,
    ) -> Result<T, Status>
    where
        F: FnOnce(Actor) -> Fut,
        Fut: Future<Output = Result<T, Status>>,
    {
        let scope = (!component.is_empty()).then_some(component);
        let (principal, result) = match caller {
            Err(refused) => {
                self.unauthenticated.record(peer, action);
                return Err(refused);
            }
            Ok(principal) => match self.allow(&principal, action, role, scope) {
                Err(refused) => (principal.name, Err(refused)),
                Ok(()) => {
                    let actor = Actor {
                        principal: principal.name.clone(),
                        action,
                        target: target.clone(),
                    };
                    (principal.name, call(actor).await)
                }
            },
        };
        if let Err(status) = &result {
            let actor = Actor {
                principal,
                action,
                target,
            };
            tracing::warn!(
                principal = %actor.principal,
                action,
                target = %actor.target,
                code = code_name(status.code()),
                reason = %crate::page::truncate(status.message()),
                "write refused"
            );
            let record = actor.record(
                code_name(status.code()),
                crate::page::truncate_to(status.message(), MAX_AUDIT_MESSAGE),
            );
            // The write itself is refused by now: a failure to record it
            // must not turn into the call's answer, but it must be seen.
            if let Err(e) = self.registry.audit(vec![record]).await {
                tracing::error!(error = %e, "cannot record an audit entry");
            }
        }
        result
    }
}

/// The audit target of a call on `component/contract[@version]`, or
/// `global` when neither is named.
/// Each part is cut to a bounded length: the target is built before the
/// request is validated, from what the caller sent.
pub fn target(component: &str, contract: &str, version: &str) -> String {
    let cut = crate::page::truncate;
    match (component.is_empty() && contract.is_empty(), version.is_empty()) {
        (true, _) => "global".to_owned(),
        (false, true) => format!("{}/{}", cut(component), cut(contract)),
        (false, false) => format!("{}/{}@{}", cut(component), cut(contract), cut(version)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_whole_names_with_stars() {
        assert!(pattern_matches("orders", "orders"));
        assert!(!pattern_matches("orders", "orders-eu"));
        assert!(!pattern_matches("orders", "order"));
        assert!(pattern_matches("billing-*", "billing-eu"));
        assert!(pattern_matches("billing-*", "billing-"));
        assert!(!pattern_matches("billing-*", "billing"));
        assert!(!pattern_matches("billing-*", "xbilling-eu"));
        assert!(pattern_matches("*", "anything"));
        assert!(pattern_matches("*-eu", "orders-eu"));
        assert!(pattern_matches("a*b*c", "axxbyyc"));
        assert!(!pattern_matches("a*b*c", "axxbyy"));
        let hostile = "*a".repeat(30);
        assert!(!pattern_matches(&hostile, &"a".repeat(29)));
    }

    #[test]
    fn scope_patterns_are_validated() {
        assert!(validate_pattern("billing-*").is_ok());
        assert!(validate_pattern("").is_err());
        assert!(validate_pattern("Orders").is_err());
        assert!(validate_pattern("orders/x").is_err());
    }

    fn principal(role: Role, scopes: &[&str]) -> Principal {
        Principal {
            name: "t".into(),
            role,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn denials_name_the_missing_role_or_scope() {
        let reader = principal(Role::Reader, &[]);
        let err = reader
            .allow("PublishContract", Role::Publisher, Some("orders"))
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::PermissionDenied);
        assert!(err.message().contains("publisher role"), "{}", err.message());
        let scoped = principal(Role::Admin, &["orders", "billing-*"]);
        assert!(
            scoped
                .allow("DeleteContract", Role::Admin, Some("billing-eu"))
                .is_ok()
        );
        let err = scoped
            .allow("DeleteContract", Role::Admin, Some("payments"))
            .unwrap_err();
        assert!(err.message().contains("\"payments\""), "{}", err.message());
        assert!(err.message().contains("orders, billing-*"), "{}", err.message());
        let err = scoped
            .allow("SetCompatibilityConfig", Role::Admin, None)
            .unwrap_err();
        assert!(err.message().contains("unscoped"), "{}", err.message());
        assert!(principal(Role::Admin, &[]).allow("X", Role::Admin, None).is_ok());
    }

    #[test]
    fn roles_parse_and_order() {
        assert_eq!("publisher".parse::<Role>().unwrap(), Role::Publisher);
        assert!("root".parse::<Role>().unwrap_err().to_string().contains("root"));
        assert!(Role::Reader < Role::Publisher && Role::Publisher < Role::Admin);
    }

    #[test]
    fn targets_name_what_was_acted_on() {
        assert_eq!(target("", "", ""), "global");
        assert_eq!(target("orders", "placed", ""), "orders/placed");
        assert_eq!(target("orders", "placed", "1.0.0"), "orders/placed@1.0.0");
        let huge = "x".repeat(3 << 20);
        assert!(target(&huge, &huge, &huge).len() < 1000);
    }
}
