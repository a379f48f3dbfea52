//! The Accord registry server.
//!
//! - [`config`]: the server's settings (flags and environment).
//! - [`grpc`]: the gRPC adapter of `accord.v1.RegistryService`.
//! - [`run`]: serves the registry, health and reflection on a bound listener
//!   until a shutdown future completes.
//!
//! The library never picks a port nor installs signal handlers: the binary
//! (`src/main.rs`) binds and passes ctrl-c / SIGTERM, tests bind
//! `127.0.0.1:0`.

pub mod config;
pub mod grpc;

use std::future::Future;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::Server;

pub use config::Config;

/// Errors that stop the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The reflection service could not be built from the descriptors.
    #[error("cannot build the reflection service: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    /// The transport failed.
    #[error("transport error: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Serves the registry on `listener` until `shutdown` completes, then lets
/// in-flight calls finish.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let _ = &config;
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(accord_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(accord_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    let registry = grpc::RegistryGrpc::default();
    health_reporter
        .set_serving::<accord_proto::v1::registry_service_server::RegistryServiceServer<grpc::RegistryGrpc>>()
        .await;
    health_reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;

    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "accord-registry listening");
    }
    Server::builder()
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(grpc::RegistryGrpc::into_service(registry))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown)
        .await?;
    Ok(())
}
