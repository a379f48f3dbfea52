//! The gRPC adapter of `accord.v1.RegistryService`.

use accord_proto::v1::registry_service_server::{RegistryService, RegistryServiceServer};

/// The adapter: converts requests, makes one domain call, converts the reply.
#[derive(Debug, Default, Clone)]
pub struct RegistryGrpc {}

impl RegistryGrpc {
    /// Wraps the adapter into a tonic service.
    pub fn into_service(self) -> RegistryServiceServer<Self> {
        RegistryServiceServer::new(self)
    }
}

// Every RPC answers UNIMPLEMENTED until the service behind it lands.
impl RegistryService for RegistryGrpc {}
