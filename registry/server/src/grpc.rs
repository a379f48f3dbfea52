//! The gRPC adapter of `accord.v1.RegistryService`: each RPC converts the
//! request, makes one domain call and converts the reply.

use accord_proto::v1::{
    self as pb, registry_service_server::RegistryService, registry_service_server::RegistryServiceServer,
};
use tokio_stream::{StreamExt, wrappers::ReceiverStream};
use tonic::{Request, Response, Status, codegen::BoxStream};

use crate::{
    convert::{self, status},
    service::Registry,
};

/// The adapter over a [`Registry`].
#[derive(Debug, Clone)]
pub struct RegistryGrpc {
    registry: Registry,
}

impl RegistryGrpc {
    /// An adapter serving `registry`.
    pub fn new(registry: Registry) -> Self {
        Self { registry }
    }

    /// Wraps the adapter into a tonic service that accepts requests up to
    /// the registry's size limit.
    pub fn into_service(self) -> RegistryServiceServer<Self> {
        let limit = self.registry.limits().max_request_bytes;
        RegistryServiceServer::new(self).max_decoding_message_size(limit)
    }
}

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl RegistryService for RegistryGrpc {
    async fn publish_contract(
        &self,
        request: Request<pb::PublishContractRequest>,
    ) -> Reply<pb::PublishContractResponse> {
        let r = request.into_inner();
        let published = self
            .registry
            .publish(convert::publish_input(&r))
            .await
            .map_err(status)?;
        Ok(Response::new(convert::published(&published)))
    }

    async fn check_compatibility(
        &self,
        request: Request<pb::CheckCompatibilityRequest>,
    ) -> Reply<pb::CheckCompatibilityResponse> {
        let r = request.into_inner();
        let decision = self
            .registry
            .check(convert::check_input(&r))
            .await
            .map_err(status)?;
        Ok(Response::new(convert::checked(&decision)))
    }

    async fn get_contract(&self, request: Request<pb::GetContractRequest>) -> Reply<pb::GetContractResponse> {
        let r = request.into_inner();
        let version = self
            .registry
            .get(&r.component, &r.contract, &r.version)
            .map_err(status)?;
        Ok(Response::new(pb::GetContractResponse {
            contract: Some(convert::stored(&version)),
        }))
    }

    async fn batch_get_contracts(
        &self,
        request: Request<pb::BatchGetContractsRequest>,
    ) -> Reply<pb::BatchGetContractsResponse> {
        let selectors = request.into_inner().selectors;
        let wanted: Vec<_> = selectors
            .iter()
            .map(|s| (s.component.as_str(), s.contract.as_str(), s.version.as_str()))
            .collect();
        let results = self.registry.batch_get(&wanted).map_err(status)?;
        Ok(Response::new(pb::BatchGetContractsResponse {
            results: selectors
                .into_iter()
                .zip(results)
                .map(|(s, r)| convert::batch_result(s, r))
                .collect(),
        }))
    }

    async fn list_components(
        &self,
        request: Request<pb::ListComponentsRequest>,
    ) -> Reply<pb::ListComponentsResponse> {
        let r = request.into_inner();
        let page = self
            .registry
            .list_components(&convert::page(r.page_size, &r.page_token))
            .map_err(status)?;
        Ok(Response::new(pb::ListComponentsResponse {
            components: page.items.into_iter().map(convert::component).collect(),
            next_page_token: page.next_token,
        }))
    }

    async fn list_contracts(
        &self,
        request: Request<pb::ListContractsRequest>,
    ) -> Reply<pb::ListContractsResponse> {
        let r = request.into_inner();
        let page = self
            .registry
            .list_contracts(&r.component, &convert::page(r.page_size, &r.page_token))
            .map_err(status)?;
        Ok(Response::new(pb::ListContractsResponse {
            contracts: page.items.into_iter().map(convert::contract).collect(),
            next_page_token: page.next_token,
        }))
    }

    async fn list_versions(
        &self,
        request: Request<pb::ListVersionsRequest>,
    ) -> Reply<pb::ListVersionsResponse> {
        let r = request.into_inner();
        let page = convert::page(r.page_size, &r.page_token);
        let page = self
            .registry
            .list_versions(&r.component, &r.contract, r.include_deleted, &page)
            .map_err(status)?;
        Ok(Response::new(pb::ListVersionsResponse {
            versions: page.items.iter().map(convert::record).collect(),
            next_page_token: page.next_token,
        }))
    }

    async fn diff_versions(
        &self,
        request: Request<pb::DiffVersionsRequest>,
    ) -> Reply<pb::DiffVersionsResponse> {
        let r = request.into_inner();
        let (mode, policy) = (convert::mode_in(r.mode)?, convert::policy_in(r.policy)?);
        let diff = self
            .registry
            .diff(
                &r.component,
                &r.contract,
                &r.from_version,
                &r.to_version,
                mode,
                policy,
            )
            .map_err(status)?;
        Ok(Response::new(convert::diffed(&diff, &r.from_version)))
    }

    async fn get_compatibility_config(
        &self,
        request: Request<pb::GetCompatibilityConfigRequest>,
    ) -> Reply<pb::GetCompatibilityConfigResponse> {
        let r = request.into_inner();
        let view = self
            .registry
            .get_config(&r.component, &r.contract)
            .map_err(status)?;
        let (config, inherited) = convert::config_view(view);
        Ok(Response::new(pb::GetCompatibilityConfigResponse {
            config,
            inherited,
        }))
    }

    async fn set_compatibility_config(
        &self,
        request: Request<pb::SetCompatibilityConfigRequest>,
    ) -> Reply<pb::SetCompatibilityConfigResponse> {
        let r = request.into_inner();
        let (mode, policy) = (convert::mode_in(r.mode)?, convert::policy_in(r.policy)?);
        let view = self
            .registry
            .set_config(&r.component, &r.contract, mode, policy, r.clear)
            .await
            .map_err(status)?;
        let (config, inherited) = convert::config_view(view);
        Ok(Response::new(pb::SetCompatibilityConfigResponse {
            config,
            inherited,
        }))
    }

    async fn deprecate_version(
        &self,
        request: Request<pb::DeprecateVersionRequest>,
    ) -> Reply<pb::DeprecateVersionResponse> {
        let r = request.into_inner();
        let version = self
            .registry
            .deprecate(&r.component, &r.contract, &r.version, &r.message)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::DeprecateVersionResponse {
            contract: Some(convert::record(&version.record)),
        }))
    }

    async fn delete_contract(
        &self,
        request: Request<pb::DeleteContractRequest>,
    ) -> Reply<pb::DeleteContractResponse> {
        let r = request.into_inner();
        let versions = self
            .registry
            .delete_contract(&r.component, &r.contract, r.hard)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::DeleteContractResponse {
            versions: versions.iter().map(ToString::to_string).collect(),
        }))
    }

    async fn delete_version(
        &self,
        request: Request<pb::DeleteVersionRequest>,
    ) -> Reply<pb::DeleteVersionResponse> {
        let r = request.into_inner();
        let version = self
            .registry
            .delete_version(&r.component, &r.contract, &r.version, r.hard)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::DeleteVersionResponse {
            version: version.to_string(),
        }))
    }

    async fn restore_contract(
        &self,
        request: Request<pb::RestoreContractRequest>,
    ) -> Reply<pb::RestoreContractResponse> {
        let r = request.into_inner();
        let versions = self
            .registry
            .restore(&r.component, &r.contract, &r.version)
            .await
            .map_err(status)?;
        Ok(Response::new(pb::RestoreContractResponse {
            versions: versions.iter().map(ToString::to_string).collect(),
        }))
    }

    async fn watch_events(
        &self,
        request: Request<pb::WatchEventsRequest>,
    ) -> Reply<BoxStream<pb::WatchEventsResponse>> {
        let r = request.into_inner();
        let events = self
            .registry
            .watch(r.after_sequence, &r.component)
            .map_err(status)?;
        let stream = ReceiverStream::new(events).map(|e| {
            e.map(|e| pb::WatchEventsResponse {
                event: Some(convert::event(&e)),
            })
            .map_err(status)
        });
        Ok(Response::new(Box::pin(stream)))
    }
}
