//! The baseline: a bare tonic service with the registry's API that answers
//! each measured call with a reply captured from the registry (so of the
//! same size), without any work. It runs on a runtime and threads of its
//! own, as a separate server would.

use std::{net::SocketAddr, sync::Arc};

use accord_proto::v1::{self as pb, registry_service_server::RegistryService};
use tonic::{Request, Response, Status};

/// One captured reply per measured call.
#[derive(Debug, Clone, Default)]
pub struct Canned {
    /// Reply to GetContract.
    pub get: pb::GetContractResponse,
    /// Reply to BatchGetContracts.
    pub batch: pb::BatchGetContractsResponse,
    /// Reply to CheckCompatibility.
    pub check: pb::CheckCompatibilityResponse,
    /// Reply to PublishContract.
    pub publish: pb::PublishContractResponse,
}

#[derive(Debug)]
struct Baseline(Arc<Canned>);

type Reply<T> = Result<Response<T>, Status>;

fn unmeasured<T>() -> Reply<T> {
    Err(Status::unimplemented("not part of the baseline"))
}

#[tonic::async_trait]
impl RegistryService for Baseline {
    async fn publish_contract(
        &self,
        _: Request<pb::PublishContractRequest>,
    ) -> Reply<pb::PublishContractResponse> {
        Ok(Response::new(self.0.publish.clone()))
    }
    async fn check_compatibility(
        &self,
        _: Request<pb::CheckCompatibilityRequest>,
    ) -> Reply<pb::CheckCompatibilityResponse> {
        Ok(Response::new(self.0.check.clone()))
    }
    async fn get_contract(&self, _: Request<pb::GetContractRequest>) -> Reply<pb::GetContractResponse> {
        Ok(Response::new(self.0.get.clone()))
    }
    async fn batch_get_contracts(
        &self,
        _: Request<pb::BatchGetContractsRequest>,
    ) -> Reply<pb::BatchGetContractsResponse> {
        Ok(Response::new(self.0.batch.clone()))
    }
    async fn list_components(
        &self,
        _: Request<pb::ListComponentsRequest>,
    ) -> Reply<pb::ListComponentsResponse> {
        unmeasured()
    }
    async fn list_contracts(&self, _: Request<pb::ListContractsRequest>) -> Reply<pb::ListContractsResponse> {
        unmeasured()
    }
    async fn list_versions(&self, _: Request<pb::ListVersionsRequest>) -> Reply<pb::ListVersionsResponse> {
        unmeasured()
    }
    async fn diff_versions(&self, _: Request<pb::DiffVersionsRequest>) -> Reply<pb::DiffVersionsResponse> {
        unmeasured()
    }
    async fn get_compatibility_config(
        &self,
        _: Request<pb::GetCompatibilityConfigRequest>,
    ) -> Reply<pb::GetCompatibilityConfigResponse> {
        unmeasured()
    }
    async fn set_compatibility_config(
        &self,
        _: Request<pb::SetCompatibilityConfigRequest>,
    ) -> Reply<pb::SetCompatibilityConfigResponse> {
        unmeasured()
    }
    async fn deprecate_version(
        &self,
        _: Request<pb::DeprecateVersionRequest>,
    ) -> Reply<pb::DeprecateVersionResponse> {
        unmeasured()
    }
    async fn delete_contract(
        &self,
        _: Request<pb::DeleteContractRequest>,
    ) -> Reply<pb::DeleteContractResponse> {
        unmeasured()
    }
    async fn delete_version(&self, _: Request<pb::DeleteVersionRequest>) -> Reply<pb::DeleteVersionResponse> {
        unmeasured()
    }
    async fn restore_contract(
        &self,
        _: Request<pb::RestoreContractRequest>,
    ) -> Reply<pb::RestoreContractResponse> {
        unmeasured()
    }
    async fn watch_events(
        &self,
        _: Request<pb::WatchEventsRequest>,
    ) -> Reply<tonic::codegen::BoxStream<pb::WatchEventsResponse>> {
        unmeasured()
    }
    async fn list_audit_entries(
        &self,
        _: Request<pb::ListAuditEntriesRequest>,
    ) -> Reply<pb::ListAuditEntriesResponse> {
        unmeasured()
    }
}

/// Starts the baseline on `127.0.0.1:0` on a thread with its own runtime
/// of `workers` threads, and returns its address. It serves until the
/// process ends.
pub fn start(canned: Canned, workers: usize) -> anyhow::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers.max(1))
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("baseline".into())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => listener,
                    Err(e) => {
                        eprintln!("baseline cannot listen: {e}");
                        return;
                    }
                };
                let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
                let service =
                    pb::registry_service_server::RegistryServiceServer::new(Baseline(Arc::new(canned)));
                if let Err(e) = tonic::transport::Server::builder()
                    .add_service(service)
                    .serve_with_incoming(incoming)
                    .await
                {
                    eprintln!("baseline stopped: {e}");
                }
            });
        })?;
    Ok(addr)
}
