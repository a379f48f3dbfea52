//! Typed async client of the Accord contract registry.
//!
//! - [`Client`]: connects to a registry.
//! - [`Error`]: everything a call can fail with.
#![deny(missing_docs)]

use accord_proto::v1::registry_service_client::RegistryServiceClient;
use tonic::transport::{Channel, Endpoint};

/// Errors of the client.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The registry address is not a valid URL.
    #[error("invalid registry address {url:?}: {source}")]
    InvalidUrl {
        /// The address given.
        url: String,
        /// Why it is invalid.
        source: tonic::transport::Error,
    },
    /// The registry could not be reached.
    #[error("cannot reach the registry at {url}: {source}")]
    Unreachable {
        /// The address tried.
        url: String,
        /// The transport error.
        source: tonic::transport::Error,
    },
}

/// A connection to a registry.
#[derive(Debug, Clone)]
pub struct Client {
    inner: RegistryServiceClient<Channel>,
}

impl Client {
    /// Connects to the registry at `url` (e.g. `http://127.0.0.1:50051`).
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let endpoint = Endpoint::from_shared(url.to_owned()).map_err(|source| Error::InvalidUrl {
            url: url.to_owned(),
            source,
        })?;
        let channel = endpoint.connect().await.map_err(|source| Error::Unreachable {
            url: url.to_owned(),
            source,
        })?;
        Ok(Self {
            inner: RegistryServiceClient::new(channel),
        })
    }

    /// The generated gRPC client, for calls this crate does not wrap yet.
    pub fn raw(&self) -> RegistryServiceClient<Channel> {
        self.inner.clone()
    }
}
