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
//! - [`engine`]: the compatibility engine within a request's work budget.
//! - [`net`]: the cap on connections and their idle timeout.
//! - [`auth`]: bearer tokens, roles and scopes, TLS settings, and the audit
//!   of refused writes.
//! - [`grpc`]: the gRPC adapter of `accord.v1.RegistryService`.
//! - [`metrics`]: the registry's Prometheus metrics, and the tower layer
//!   that counts and times gRPC calls.
//! - [`web`]: the HTTP port: `/metrics` and the read-only web view.
//! - [`run`] / [`serve`]: open the store (or take one), then serve the
//!   registry, health and reflection on a bound listener (and the HTTP port
//!   on another, when given) until a shutdown future completes.
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
pub mod engine;
pub mod error;
pub mod grpc;
pub mod index;
pub mod metrics;
pub mod model;
pub mod net;
pub mod page;
pub mod policy;
pub mod service;
pub mod store;
#[cfg(test)]
mod test_rng;
pub mod web;

use std::{future::Future, sync::Arc};

use tokio::net::TcpListener;
use tonic::transport::Server;

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
    /// The HTTP port failed.
    #[error("HTTP port: {0}")]
    Http(#[source] std::io::Error),
}

/// The bound listeners a registry serves on: gRPC, and the HTTP port of
/// `/metrics` and the web view when there is one. A bare listener converts
/// into one without an HTTP port.
#[derive(Debug)]
pub struct Listeners {
    /// The gRPC API, health and reflection.
    pub grpc: TcpListener,
    /// `/metrics` and the web view ([`web`]); `None`: not served.
    pub http: Option<TcpListener>,
}

impl From<TcpListener> for Listeners {
    fn from(grpc: TcpListener) -> Self {
        Self { grpc, http: None }
    }
}

/// The health service name of the write path (see `--min-free-disk`).
pub const WRITES_HEALTH: &str = "accord.writes";

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
            store.set_min_free_disk(config.min_free_disk);
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
            // Refused before any handler saw it: said here, or nowhere.
            tracing::warn!("request refused: larger than --max-request-bytes");
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
    listener: impl Into<Listeners>,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let store = open_store(&config).await?;
    serve(listener, config, store, shutdown).await
}

/// Serves the registry over `store` on `listener` (and the HTTP port, when
/// [`Listeners::http`] is given) until `shutdown` completes, then ends watch
/// streams, lets in-flight calls and requests finish and flushes the store.
///
/// Health says SERVING only once the store is open and the index built;
/// until then connections wait in the listener's backlog.
pub async fn serve(
    listener: impl Into<Listeners>,
    config: Config,
    store: Arc<dyn Store>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let Listeners { grpc: listener, http } = listener.into();
    // The TLS files first: a mistake there is reported before the store is
    // opened, naming the files.
    let tls = config.security.server_tls()?;
    let registry = open(store, config.limits).await?;
    let gate = gate(&config, registry.clone()).await?;
    let limits = config.connections;
    let mut server = Server::builder()
        .max_concurrent_streams(limits.max_streams_per_connection)
        .http2_keepalive_interval(Some(limits.keepalive().0))
        .http2_keepalive_timeout(Some(limits.keepalive().1));
    if let Some(tls) = tls {
        server = server.tls_config(tls)?;
    } else if config.security.auth_file.is_some() || config.security.auth_db {
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

    // Health of the write path alone, as the service `accord.writes`:
    // NOT_SERVING while the store refuses writes (a disk nearly full),
    // SERVING again once it takes them.
    let store = registry.store().clone();
    let reporter = health_reporter.clone();
    let writes_task = tokio::spawn(async move {
        let mut last = None;
        loop {
            let writable = store.writable().await;
            let status = match &writable {
                Ok(()) => tonic_health::ServingStatus::Serving,
                Err(_) => tonic_health::ServingStatus::NotServing,
            };
            if last != Some(status) {
                if let Err(e) = &writable {
                    tracing::warn!(error = %e, "writes are refused until this is fixed");
                } else if last.is_some() {
                    tracing::info!("writes are accepted again");
                }
                reporter.set_service_status(WRITES_HEALTH, status).await;
                last = Some(status);
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    });

    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, tls = config.security.tls_cert.is_some(), "accord-registry listening");
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let web = match http {
        Some(http) => {
            if let Ok(addr) = http.local_addr() {
                tracing::info!(%addr, "metrics and web view listening (plain HTTP)");
                if gate.requires_tokens() && !addr.ip().is_loopback() {
                    tracing::warn!(
                        %addr,
                        "tokens sent to the HTTP port travel in clear: give --http-listen an internal address or put a TLS proxy in front"
                    );
                }
            }
            Some(web::serve(
                http,
                registry.clone(),
                gate.clone(),
                stopped(stop_rx.clone()),
            ))
        }
        None => None,
    };
    let web = async move {
        match web {
            Some(web) => web.await.map_err(ServeError::Http),
            None => Ok(()),
        }
    };
    let metrics = tower::ServiceBuilder::new()
        .layer(metrics::GrpcMetricsLayer::new(registry.metrics().clone()))
        .layer(tower::util::MapResponseLayer::new(
            oversized_is_resource_exhausted,
        ));
    let grpc = server
        .layer(metrics)
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(
            grpc::RegistryGrpc::new(registry.clone(), gate.clone(), limits.max_watch_streams).into_service(),
        )
        // Without TCP_NODELAY every unary reply waits on the peer's delayed
        // ACK (~40 ms): measured 45 ms per GetContract on loopback, 0.07 ms with it.
        .serve_with_incoming_shutdown(
            net::incoming(
                listener,
                net::ConnectionLimits {
                    max_connections: limits.max_connections,
                    idle_timeout: limits.idle_timeout,
                },
            ),
            stopped(stop_rx),
        );
    // Either port failing stops the server.
    let serve =
        async move { tokio::try_join!(async { grpc.await.map_err(ServeError::from) }, web).map(|_| ()) };
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
            let _ = stop_tx.send(true);
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
    writes_task.abort();
    gate.flush_unauthenticated().await;
    if let Err(e) = registry.flush().await {
        tracing::error!(error = %e, "final flush failed");
    }
    served?;
    tracing::info!("accord-registry stopped");
    Ok(())
}
