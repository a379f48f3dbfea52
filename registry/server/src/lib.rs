//! The Accord registry server.
//!
//! Layers, each using only those above it:
//! - [`model`]: the vocabulary — names, versions, stored versions and
//!   tombstones, settings, consumers and waivers, events, audit records,
//!   the publish decision and its consumer impacts.
//! - [`store`]: the [`store::Store`] trait and its backends (sled, the
//!   embedded default; PostgreSQL, shared by replicas): the only code that
//!   touches a database.
//! - [`error`]: the domain errors.
//! - [`policy`]: the semver policy, the one publish decision behind both
//!   publish and check.
//! - [`index`]: the in-memory snapshot reads are served from, and its pure
//!   `apply`.
//! - [`consumers`]: the publish decision with what a version does to each
//!   registered consumer, a reading checked against live versions, and the
//!   guard of deprecations and hard deletes.
//! - [`page`]: paging with opaque tokens.
//! - [`service`]: the domain service over a store and the index (its write
//!   path, event streams, consumers and waivers); knows nothing of gRPC.
//! - [`backup`]: export and import of a store as JSON lines.
//! - [`config`]: the server's settings (flags and environment) and limits.
//! - [`convert`]: API messages ⇄ domain types, errors → gRPC codes.
//! - [`auth`]: bearer tokens, roles and scopes, TLS settings, and the audit
//!   of refused writes.
//! - [`grpc`]: the gRPC adapter of `accord.v1.RegistryService`.
//! - [`run`] / [`serve`]: open the store (or take one), then serve the
//!   registry, health and reflection on a bound listener until a shutdown
//!   future completes.
//!
//! The library never picks a port nor installs signal handlers: the binary
//! (`src/main.rs`) binds and passes ctrl-c / SIGTERM, tests bind
//! `127.0.0.1:0`.

#![deny(missing_docs)]

pub mod auth;
pub mod backup;
pub mod config;
pub mod consumers;
pub mod convert;
pub mod error;
pub mod grpc;
pub mod index;
pub mod model;
pub mod page;
pub mod policy;
pub mod service;
pub mod store;
#[cfg(test)]
mod test_rng;

use std::{future::Future, sync::Arc};

use tokio::net::TcpListener;
use tonic::transport::{Server, server::TcpIncoming};

pub use config::{Config, Limits};
pub use error::Error;
pub use service::Registry;
use store::Store;

/// Errors that stop the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The store could not be opened or read.
    #[error("cannot open the registry: {0}")]
    Open(#[from] Error),
    /// The reflection service could not be built from the descriptors.
    #[error("cannot build the reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The token file or the TLS files cannot be used.
    #[error("{0}")]
    Security(#[from] auth::AuthError),
    /// The transport failed.
    #[error("transport error: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Opens the store the settings name: PostgreSQL for a `postgres://` URL in
/// `--store`, else sled in `--data-dir`.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, Error> {
    match &config.store {
        Some(url) => Ok(Arc::new(open_postgres(url).await?)),
        None => {
            let dir = config.data_dir.clone();
            let store = tokio::task::spawn_blocking(move || store::sled::SledStore::open(&dir))
                .await
                .map_err(|e| Error::Internal(format!("opening the store failed: {e}")))??;
            Ok(Arc::new(store))
        }
    }
}

/// Opens the PostgreSQL store at `url`, refusing anything else.
pub async fn open_postgres(url: &str) -> Result<store::postgres::PostgresStore, Error> {
    if !store::postgres::is_postgres_url(url) {
        return Err(Error::InvalidArgument {
            what: "store",
            reason: format!(
                "--store takes a postgres://USER@HOST:PORT/DATABASE URL, not {:?}; without --store the embedded store in --data-dir is used",
                page::truncate(url)
            ),
        });
    }
    Ok(store::postgres::PostgresStore::open(url).await?)
}

/// Opens the registry over `store` and builds its index.
pub async fn open(store: Arc<dyn Store>, limits: Limits) -> Result<Registry, Error> {
    let started = std::time::Instant::now();
    let describe = store.describe();
    let registry = Registry::open(store, limits).await?;
    tracing::info!(
        store = %describe,
        open_ms = started.elapsed().as_millis() as u64,
        versions = registry.version_count() as u64,
        sequence = registry.last_sequence(),
        "registry open"
    );
    Ok(registry)
}

/// The gate of the configured access control, saying loudly when there is
/// none.
async fn gate(config: &Config, registry: Registry) -> Result<auth::Gate, ServeError> {
    if config.security.auth_db {
        let Some(url) = &config.store else {
            return Err(auth::AuthError::Invalid(
                "--auth-db keeps tokens in the PostgreSQL store: it needs --store postgres://…".into(),
            )
            .into());
        };
        let store = open_postgres(url).await?;
        let tokens = auth::DatabaseTokens::open(store).await?;
        tracing::info!("bearer tokens required, from the database");
        return Ok(auth::Gate::with_tokens(auth::Tokens::Database(tokens), registry));
    }
    match &config.security.auth_file {
        Some(path) => {
            let source = auth::tokens::TokenSource::open(path)?;
            tracing::info!(path = %path.display(), "bearer tokens required");
            Ok(auth::Gate::with_tokens(auth::Tokens::File(source), registry))
        }
        None => {
            tracing::warn!(
                "NO ACCESS CONTROL: started without --auth-file, so anyone who can reach this \
                 address may publish, reconfigure and delete contracts; create tokens with \
                 `accord-registry token create` and pass --auth-file"
            );
            Ok(auth::Gate::open(registry))
        }
    }
}

/// tonic refuses a request above the decoding limit with OUT_OF_RANGE; the
/// registry answers every exceeded limit with RESOURCE_EXHAUSTED, as gRPC
/// recommends for an oversized message.
///
/// tonic also answers a request it cannot decode (a `string` field that is
/// not UTF-8, a truncated message) with INTERNAL, which tells the caller the
/// server is at fault; the fault is the request's, so it becomes
/// INVALID_ARGUMENT with tonic's message, which names the field.
fn oversized_is_resource_exhausted<B>(mut response: http::Response<B>) -> http::Response<B> {
    let headers = response.headers_mut();
    let code = headers.get("grpc-status").map(|code| code.as_bytes().to_vec());
    let message = headers
        .get("grpc-message")
        .and_then(|m| m.to_str().ok())
        .unwrap_or_default();
    let oversized = message.contains("length%20too%20large") || message.contains("length too large");
    let undecodable = message.starts_with("failed%20to%20decode%20Protobuf%20message")
        || message.starts_with("failed to decode Protobuf message");
    match code.as_deref() {
        Some(b"11") if oversized => {
            headers.insert("grpc-status", http::HeaderValue::from_static("8"));
        }
        Some(b"13") if undecodable => {
            headers.insert("grpc-status", http::HeaderValue::from_static("3"));
        }
        _ => {}
    }
    response
}

/// Opens the store the settings name and serves the registry on
/// `listener` until `shutdown` completes (see [`serve`]).
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let store = open_store(&config).await?;
    serve(listener, config, store, shutdown).await
}

/// Serves the registry over `store` on `listener` until `shutdown`
/// completes, then ends watch streams, lets in-flight calls finish and
/// flushes the store.
///
/// Health says SERVING only once the store is open and the index built;
/// until then connections wait in the listener's backlog.
pub async fn serve(
    listener: TcpListener,
    config: Config,
    store: Arc<dyn Store>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let registry = open(store, config.limits).await?;
    let gate = gate(&config, registry.clone()).await?;
    let mut server = Server::builder();
    if let Some(tls) = config.security.server_tls()? {
        server = server.tls_config(tls)?;
    } else if config.security.auth_file.is_some() {
        tracing::warn!("tokens travel in clear without --tls-cert/--tls-key");
    }
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(accord_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(accord_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    health_reporter
        .set_serving::<accord_proto::v1::registry_service_server::RegistryServiceServer<grpc::RegistryGrpc>>()
        .await;
    health_reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;

    // Health follows the store: NOT_SERVING while a shared store is out of
    // reach, SERVING again once this replica has caught up.
    let mut serving = registry.serving();
    let reporter = health_reporter.clone();
    let health_task = tokio::spawn(async move {
        while serving.changed().await.is_ok() {
            let status = if *serving.borrow_and_update() {
                tonic_health::ServingStatus::Serving
            } else {
                tonic_health::ServingStatus::NotServing
            };
            reporter.set_service_status("", status).await;
            reporter
                .set_service_status(accord_proto::SERVICE_NAME, status)
                .await;
        }
    });

    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, tls = config.security.tls_cert.is_some(), "accord-registry listening");
    }
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let serve = server
        .layer(tower::util::MapResponseLayer::new(
            oversized_is_resource_exhausted,
        ))
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(grpc::RegistryGrpc::new(registry.clone(), gate).into_service())
        // Without TCP_NODELAY every unary reply waits on the peer's delayed
        // ACK (~40 ms): measured 45 ms per GetContract on loopback, 0.07 ms with it.
        .serve_with_incoming_shutdown(TcpIncoming::from(listener).with_nodelay(Some(true)), async {
            let _ = stop_rx.await;
        });
    tokio::pin!(serve);
    let served = tokio::select! {
        served = &mut serve => served,
        () = shutdown => {
            // Watch streams never end on their own: end them so that the
            // graceful shutdown does not wait for them.
            registry.shutdown();
            health_reporter
                .set_service_status("", tonic_health::ServingStatus::NotServing)
                .await;
            let _ = stop_tx.send(());
            let grace = std::time::Duration::from_secs(config.shutdown_grace_secs);
            match tokio::time::timeout(grace, &mut serve).await {
                Ok(served) => served,
                Err(_) => {
                    tracing::warn!(?grace, "connections still open after the grace period: closing them");
                    Ok(())
                }
            }
        }
    };
    health_task.abort();
    if let Err(e) = registry.flush().await {
        tracing::error!(error = %e, "final flush failed");
    }
    served?;
    tracing::info!("accord-registry stopped");
    Ok(())
}
