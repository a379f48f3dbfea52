//! The gRPC adapter of `accord.v1.RegistryService`: each RPC passes the
//! [`Gate`] (authentication, authorization, and the audit of writes),
//! converts the request, makes one domain call and converts the reply.

use accord_proto::v1::{
    self as pb, registry_service_server::RegistryService, registry_service_server::RegistryServiceServer,
};
use tokio_stream::{StreamExt, wrappers::ReceiverStream};
use tonic::{Request, Response, Status, codegen::BoxStream};

use crate::{
    auth::{Gate, Role, audit::micros, target},
    convert::{self, status},
    service::Registry,
};

/// The adapter over a [`Registry`].
#[derive(Debug, Clone)]
pub struct RegistryGrpc {
    registry: Registry,
    gate: Gate,
}

/// Default and largest page of `ListAuditEntries`.
const AUDIT_PAGE: (usize, usize) = (100, 1000);

impl RegistryGrpc {
    /// An adapter serving `registry`, every call through `gate`.
    pub fn new(registry: Registry, gate: Gate) -> Self {
        Self { registry, gate }
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
        let caller = self.gate.authenticate(request.metadata());
        let r = request.into_inner();
        let to = target(&r.component, &r.contract, &r.version);
        let call = async {
            let published = self
                .registry
                .publish(convert::publish_input(&r))
                .await
                .map_err(status)?;
            Ok(Response::new(convert::published(&published)))
        };
        self.gate
            .write(caller, "PublishContract", Role::Publisher, &r.component, to, call)
            .await
    }

    async fn check_compatibility(
        &self,
        request: Request<pb::CheckCompatibilityRequest>,
    ) -> Reply<pb::CheckCompatibilityResponse> {
        let r = self.read(request, "CheckCompatibility", |r| vec![&r.component])?;
        let decision = self
            .registry
            .check(convert::check_input(&r))
            .await
            .map_err(status)?;
        Ok(Response::new(convert::checked(&decision)))
    }

    async fn get_contract(&self, request: Request<pb::GetContractRequest>) -> Reply<pb::GetContractResponse> {
        let r = self.read(request, "GetContract", |r| vec![&r.component])?;
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
        let selectors = self
            .read(request, "BatchGetContracts", |r| {
                r.selectors.iter().map(|s| s.component.as_str()).collect()
            })?
            .selectors;
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
        let principal = self.gate.authenticate(request.metadata())?;
        let r = request.into_inner();
        let mut page = self
            .registry
            .list_components(&convert::page(r.page_size, &r.page_token))
            .map_err(status)?;
        // A scoped token sees only the components it covers.
        page.items.retain(|c| principal.covers(Some(&c.name)));
        Ok(Response::new(pb::ListComponentsResponse {
            components: page.items.into_iter().map(convert::component).collect(),
            next_page_token: page.next_token,
        }))
    }

    async fn list_contracts(
        &self,
        request: Request<pb::ListContractsRequest>,
    ) -> Reply<pb::ListContractsResponse> {
        let r = self.read(request, "ListContracts", |r| vec![&r.component])?;
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
        let r = self.read(request, "ListVersions", |r| vec![&r.component])?;
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
        let r = self.read(request, "DiffVersions", |r| vec![&r.component])?;
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
        let principal = self.gate.authenticate(request.metadata())?;
        let r = request.into_inner();
        // The global settings apply to every component: any reader may see them.
        if !r.component.is_empty() {
            principal.allow("GetCompatibilityConfig", Role::Reader, Some(&r.component))?;
        }
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
        let caller = self.gate.authenticate(request.metadata());
        let r = request.into_inner();
        let to = target(&r.component, &r.contract, "");
        let call = async {
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
        };
        self.gate
            .write(
                caller,
                "SetCompatibilityConfig",
                Role::Admin,
                &r.component,
                to,
                call,
            )
            .await
    }

    async fn deprecate_version(
        &self,
        request: Request<pb::DeprecateVersionRequest>,
    ) -> Reply<pb::DeprecateVersionResponse> {
        let caller = self.gate.authenticate(request.metadata());
        let r = request.into_inner();
        let to = target(&r.component, &r.contract, &r.version);
        let call = async {
            let version = self
                .registry
                .deprecate(&r.component, &r.contract, &r.version, &r.message)
                .await
                .map_err(status)?;
            Ok(Response::new(pb::DeprecateVersionResponse {
                contract: Some(convert::record(&version.record)),
            }))
        };
        self.gate
            .write(
                caller,
                "DeprecateVersion",
                Role::Publisher,
                &r.component,
                to,
                call,
            )
            .await
    }

    async fn delete_contract(
        &self,
        request: Request<pb::DeleteContractRequest>,
    ) -> Reply<pb::DeleteContractResponse> {
        let caller = self.gate.authenticate(request.metadata());
        let r = request.into_inner();
        let to = target(&r.component, &r.contract, "");
        let call = async {
            let versions = self
                .registry
                .delete_contract(&r.component, &r.contract, r.hard)
                .await
                .map_err(status)?;
            Ok(Response::new(pb::DeleteContractResponse {
                versions: versions.iter().map(ToString::to_string).collect(),
            }))
        };
        self.gate
            .write(caller, "DeleteContract", Role::Admin, &r.component, to, call)
            .await
    }

    async fn delete_version(
        &self,
        request: Request<pb::DeleteVersionRequest>,
    ) -> Reply<pb::DeleteVersionResponse> {
        let caller = self.gate.authenticate(request.metadata());
        let r = request.into_inner();
        let to = target(&r.component, &r.contract, &r.version);
        let call = async {
            let version = self
                .registry
                .delete_version(&r.component, &r.contract, &r.version, r.hard)
                .await
                .map_err(status)?;
            Ok(Response::new(pb::DeleteVersionResponse {
                version: version.to_string(),
            }))
        };
        self.gate
            .write(caller, "DeleteVersion", Role::Admin, &r.component, to, call)
            .await
    }

    async fn restore_contract(
        &self,
        request: Request<pb::RestoreContractRequest>,
    ) -> Reply<pb::RestoreContractResponse> {
        let caller = self.gate.authenticate(request.metadata());
        let r = request.into_inner();
        let to = target(&r.component, &r.contract, &r.version);
        let call = async {
            let versions = self
                .registry
                .restore(&r.component, &r.contract, &r.version)
                .await
                .map_err(status)?;
            Ok(Response::new(pb::RestoreContractResponse {
                versions: versions.iter().map(ToString::to_string).collect(),
            }))
        };
        self.gate
            .write(caller, "RestoreContract", Role::Admin, &r.component, to, call)
            .await
    }

    async fn watch_events(
        &self,
        request: Request<pb::WatchEventsRequest>,
    ) -> Reply<BoxStream<pb::WatchEventsResponse>> {
        // Without a component the stream carries every component's events,
        // which only an unscoped token may see.
        let r = self.read(request, "WatchEvents", |r| {
            (!r.component.is_empty())
                .then_some(r.component.as_str())
                .into_iter()
                .collect()
        })?;
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

    async fn list_audit_entries(
        &self,
        request: Request<pb::ListAuditEntriesRequest>,
    ) -> Reply<pb::ListAuditEntriesResponse> {
        // The log covers every component: it is for unscoped admins.
        let principal = self.gate.authenticate(request.metadata())?;
        principal.allow("ListAuditEntries", Role::Admin, None)?;
        let r = request.into_inner();
        let since = match r.since {
            None => 0,
            Some(t) => micros(
                std::time::SystemTime::try_from(t)
                    .map_err(|e| Status::invalid_argument(format!("invalid since: {e}")))?,
            ),
        };
        let size = match usize::try_from(r.page_size) {
            Err(_) => {
                return Err(Status::invalid_argument(format!(
                    "page_size {} is negative",
                    r.page_size
                )));
            }
            Ok(0) => AUDIT_PAGE.0,
            Ok(n) => n.min(AUDIT_PAGE.1),
        };
        let after =
            if r.page_token.is_empty() {
                None
            } else {
                let key = hex::decode(&r.page_token)
                    .ok()
                    .and_then(|k| <[u8; 16]>::try_from(k).ok());
                Some(key.ok_or_else(|| {
                    Status::invalid_argument(format!("invalid page_token {:?}", r.page_token))
                })?)
            };
        let log = self.gate.audit_log().clone();
        let mut page = tokio::task::spawn_blocking(move || log.page(since, after, size + 1))
            .await
            .map_err(|e| {
                status(crate::Error::Internal(format!(
                    "reading the audit log failed: {e}"
                )))
            })?
            .map_err(|e| status(crate::Error::Storage(e)))?;
        let next_page_token = if page.len() > size {
            page.truncate(size);
            page.last().map(|(key, _)| hex::encode(key)).unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListAuditEntriesResponse {
            entries: page.iter().map(|(_, record)| record.to_wire()).collect(),
            next_page_token,
        }))
    }
}

impl RegistryGrpc {
    /// Authorizes a read by a reader of every component that `components`
    /// names in the request (none: a call about no one component), then
    /// hands over the message.
    fn read<T>(
        &self,
        request: Request<T>,
        action: &str,
        components: impl FnOnce(&T) -> Vec<&str>,
    ) -> Result<T, Status> {
        let principal = self.gate.authenticate(request.metadata())?;
        let message = request.into_inner();
        let components = components(&message);
        if components.is_empty() {
            principal.allow(action, Role::Reader, None)?;
        }
        for component in components {
            principal.allow(action, Role::Reader, Some(component))?;
        }
        Ok(message)
    }
}
