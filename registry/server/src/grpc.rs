//! The gRPC adapter of `accord.v1.RegistryService`: each RPC passes the
//! [`Gate`] (authentication, authorization, and the audit of refused
//! writes), converts the request, makes one domain call and converts the
//! reply.
//!
//! Writes run in a task of their own: once started, a write completes and
//! is audited even if its caller goes away. Reads that carry a
//! `min_sequence` wait (at most the call's deadline) until this replica has
//! applied that far.

use std::{sync::Arc, time::Duration};

use accord_proto::v1::{
    self as pb, registry_service_server::RegistryService, registry_service_server::RegistryServiceServer,
};
use tokio_stream::{StreamExt, wrappers::ReceiverStream};
use tonic::{Request, Response, Status, codegen::BoxStream, metadata::MetadataMap};

use crate::{
    auth::{Gate, Principal, Role, audit, target},
    convert::{self, status},
    engine::{CancelOnDrop, Work},
    model::{ContractName, Event, now_millis, validate_name},
    service::{Registry, consumers::ConsumersOf},
};

/// The adapter over a [`Registry`].
#[derive(Debug, Clone)]
pub struct RegistryGrpc {
    registry: Registry,
    gate: Gate,
    watchers: Arc<WatchCount>,
}

/// Open WatchEvents streams, and how many may be.
#[derive(Debug)]
struct WatchCount {
    open: std::sync::atomic::AtomicUsize,
    max: usize,
}

/// A place among the open watch streams, given back when the stream ends.
struct WatchPlace(Arc<WatchCount>);

impl Drop for WatchPlace {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

impl WatchCount {
    fn enter(self: &Arc<Self>) -> Result<WatchPlace, Status> {
        let before = self.open.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        let place = WatchPlace(self.clone());
        if before >= self.max {
            return Err(Status::resource_exhausted(format!(
                "this registry serves at most {} watch streams at once (--max-watch-streams); retry later",
                self.max
            )));
        }
        Ok(place)
    }
}

/// Default and largest page of `ListAuditEntries`.
const AUDIT_PAGE: (usize, usize) = (100, 1000);

/// A page of `ListAuditEntries` ends once its entries take this many bytes.
const AUDIT_PAGE_BYTES: usize = 1 << 20;

/// How long a read with a `min_sequence` waits when the call has no deadline.
const DEFAULT_SEQUENCE_WAIT: Duration = Duration::from_secs(10);

impl RegistryGrpc {
    /// An adapter serving `registry`, every call through `gate`, with at
    /// most `max_watch_streams` streams of events open at once.
    pub fn new(registry: Registry, gate: Gate, max_watch_streams: usize) -> Self {
        Self {
            registry,
            gate,
            watchers: Arc::new(WatchCount {
                open: std::sync::atomic::AtomicUsize::new(0),
                max: max_watch_streams,
            }),
        }
    }

    /// Wraps the adapter into a tonic service that accepts requests up to
    /// the registry's size limit.
    pub fn into_service(self) -> RegistryServiceServer<Self> {
        let limit = self.registry.limits().max_request_bytes;
        RegistryServiceServer::new(self).max_decoding_message_size(limit)
    }
}

type Reply<T> = Result<Response<T>, Status>;

/// Runs a write in a task of its own, so that it completes (and is audited)
/// whatever happens to the call.
async fn detached<T: Send + 'static>(
    write: impl Future<Output = Result<T, Status>> + Send + 'static,
) -> Result<T, Status> {
    tokio::spawn(write)
        .await
        .map_err(|e| status(crate::Error::Internal(format!("write task failed: {e}"))))?
}

/// The engine work a call may cause: its deadline or `--check-time`,
/// whichever is sooner, and a flag its handler's guard sets once the call
/// is over (a caller that went away stops its comparison).
fn call_work(registry: &Registry, metadata: &MetadataMap) -> (Work, CancelOnDrop) {
    let work = Work::of_request(&registry.limits(), deadline(metadata));
    let guard = work.cancel_on_drop();
    (work, guard)
}

/// The call's deadline (`grpc-timeout`), if it has one.
fn deadline(metadata: &MetadataMap) -> Option<Duration> {
    let text = metadata.get("grpc-timeout")?.to_str().ok()?;
    let (digits, unit) = text.split_at(text.len().checked_sub(1)?);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

#[tonic::async_trait]
impl RegistryService for RegistryGrpc {
    async fn publish_contract(
        &self,
        request: Request<pb::PublishContractRequest>,
    ) -> Reply<pb::PublishContractResponse> {
        let caller = self.gate.authenticate(request.metadata());
        let peer = request.remote_addr();
        let (work, _cancel) = call_work(&self.registry, request.metadata());
        let r = request.into_inner();
        let this = self.clone();
        detached(async move {
            let to = target(&r.component, &r.contract, &r.version);
            this.gate
                .write(
                    caller,
                    peer,
                    "PublishContract",
                    Role::Publisher,
                    &r.component,
                    to,
                    |actor| async {
                        let written = this
                            .registry
                            .for_request(work)
                            .publish(convert::publish_input(&r), actor)
                            .await
                            .map_err(status)?;
                        Ok(Response::new(convert::published(
                            &written.value,
                            written.sequence,
                        )))
                    },
                )
                .await
        })
        .await
    }

    async fn check_compatibility(
        &self,
        request: Request<pb::CheckCompatibilityRequest>,
    ) -> Reply<pb::CheckCompatibilityResponse> {
        let (work, _cancel) = call_work(&self.registry, request.metadata());
        let r = self
            .read(
                request,
                "CheckCompatibility",
                |r| vec![&r.component],
                |r| r.min_sequence,
            )
            .await?;
        let decision = self
            .registry
            .for_request(work)
            .check(convert::check_input(&r))
            .await
            .map_err(status)?;
        Ok(Response::new(convert::checked(&decision)))
    }

    async fn get_contract(&self, request: Request<pb::GetContractRequest>) -> Reply<pb::GetContractResponse> {
        let r = self
            .read(request, "GetContract", |r| vec![&r.component], |r| r.min_sequence)
            .await?;
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
            .read(
                request,
                "BatchGetContracts",
                |r| r.selectors.iter().map(|s| s.component.as_str()).collect(),
                |r| r.min_sequence,
            )
            .await?
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
        let wait = deadline(request.metadata());
        let r = request.into_inner();
        self.at_least(r.min_sequence, wait).await?;
        // A scoped token sees only the components it covers, and the page
        // is cut after that filter.
        let page = self
            .registry
            .list_components(&convert::page(r.page_size, &r.page_token), &|c| {
                principal.covers(Some(c))
            })
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
        let r = self
            .read(
                request,
                "ListContracts",
                |r| vec![&r.component],
                |r| r.min_sequence,
            )
            .await?;
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
        let r = self
            .read(
                request,
                "ListVersions",
                |r| vec![&r.component],
                |r| r.min_sequence,
            )
            .await?;
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
        let (work, _cancel) = call_work(&self.registry, request.metadata());
        let r = self
            .read(
                request,
                "DiffVersions",
                |r| vec![&r.component],
                |r| r.min_sequence,
            )
            .await?;
        let (mode, policy) = (convert::mode_in(r.mode)?, convert::policy_in(r.policy)?);
        let diff = self
            .registry
            .for_request(work)
            .diff(
                &r.component,
                &r.contract,
                &r.from_version,
                &r.to_version,
                mode,
                policy,
            )
            .await
            .map_err(status)?;
        Ok(Response::new(convert::diffed(&diff, &r.from_version)))
    }

    async fn get_compatibility_config(
        &self,
        request: Request<pb::GetCompatibilityConfigRequest>,
    ) -> Reply<pb::GetCompatibilityConfigResponse> {
        let principal = self.gate.authenticate(request.metadata())?;
        let wait = deadline(request.metadata());
        let r = request.into_inner();
        // The global settings apply to every component: any reader may see them.
        if !r.component.is_empty() {
            self.gate.allow(
                &principal,
                "GetCompatibilityConfig",
                Role::Reader,
                Some(&r.component),
            )?;
        }
        self.at_least(r.min_sequence, wait).await?;
        let view = self
            .registry
            .get_config(&r.component, &r.contract)
            .map_err(status)?;
        Ok(Response::new(convert::config_view(view)))
    }

    async fn set_compatibility_config(
        &self,
        request: Request<pb::SetCompatibilityConfigRequest>,
    ) -> Reply<pb::SetCompatibilityConfigResponse> {
        let caller = self.gate.authenticate(request.metadata());
        let peer = request.remote_addr();
        let r = request.into_inner();
        let this = self.clone();
        detached(async move {
            let to = target(&r.component, &r.contract, "");
            this.gate
                .write(
                    caller,
                    peer,
                    "SetCompatibilityConfig",
                    Role::Admin,
                    &r.component,
                    to,
                    |actor| async {
                        let change = convert::settings_change(&r)?;
                        let written = this
                            .registry
                            .set_config(&r.component, &r.contract, change, actor)
                            .await
                            .map_err(status)?;
                        let view = convert::config_view(written.value);
                        Ok(Response::new(pb::SetCompatibilityConfigResponse {
                            config: view.config,
                            inherited: view.inherited,
                            mode_inherited: view.mode_inherited,
                            policy_inherited: view.policy_inherited,
                            sequence: written.sequence,
                            consumer_breaks_inherited: view.consumer_breaks_inherited,
                        }))
                    },
                )
                .await
        })
        .await
    }

    async fn deprecate_version(
        &self,
        request: Request<pb::DeprecateVersionRequest>,
    ) -> Reply<pb::DeprecateVersionResponse> {
        let caller = self.gate.authenticate(request.metadata());
        let peer = request.remote_addr();
        let r = request.into_inner();
        let this = self.clone();
        detached(async move {
            let to = target(&r.component, &r.contract, &r.version);
            this.gate
                .write(
                    caller,
                    peer,
                    "DeprecateVersion",
                    Role::Publisher,
                    &r.component,
                    to,
                    |actor| async {
                        let written = this
                            .registry
                            .deprecate(
                                &r.component,
                                &r.contract,
                                &r.version,
                                &r.message,
                                convert::force(r.force, &r.force_reason),
                                actor,
                            )
                            .await
                            .map_err(status)?;
                        Ok(Response::new(pb::DeprecateVersionResponse {
                            contract: Some(convert::record(&written.value.record)),
                            sequence: written.sequence,
                        }))
                    },
                )
                .await
        })
        .await
    }

    async fn delete_contract(
        &self,
        request: Request<pb::DeleteContractRequest>,
    ) -> Reply<pb::DeleteContractResponse> {
        let caller = self.gate.authenticate(request.metadata());
        let peer = request.remote_addr();
        let r = request.into_inner();
        let this = self.clone();
        detached(async move {
            let to = target(&r.component, &r.contract, "");
            this.gate
                .write(
                    caller,
                    peer,
                    "DeleteContract",
                    Role::Admin,
                    &r.component,
                    to,
                    |actor| async {
                        let written = this
                            .registry
                            .delete_contract(
                                &r.component,
                                &r.contract,
                                r.hard,
                                convert::force(r.force, &r.force_reason),
                                actor,
                            )
                            .await
                            .map_err(status)?;
                        Ok(Response::new(pb::DeleteContractResponse {
                            versions: written.value.iter().map(ToString::to_string).collect(),
                            sequence: written.sequence,
                        }))
                    },
                )
                .await
        })
        .await
    }

    async fn delete_version(
        &self,
        request: Request<pb::DeleteVersionRequest>,
    ) -> Reply<pb::DeleteVersionResponse> {
        let caller = self.gate.authenticate(request.metadata());
        let peer = request.remote_addr();
        let r = request.into_inner();
        let this = self.clone();
        detached(async move {
            let to = target(&r.component, &r.contract, &r.version);
            this.gate
                .write(
                    caller,
                    peer,
                    "DeleteVersion",
                    Role::Admin,
                    &r.component,
                    to,
                    |actor| async {
                        let written = this
                            .registry
                            .delete_version(
                                &r.component,
                                &r.contract,
                                &r.version,
                                r.hard,
                                convert::force(r.force, &r.force_reason),
                                actor,
                            )
                            .await
                            .map_err(status)?;
                        Ok(Response::new(pb::DeleteVersionResponse {
                            version: written.value.to_string(),
                            sequence: written.sequence,
                        }))
                    },
                )
                .await
        })
        .await
    }

    async fn restore_contract(
        &self,
        request: Request<pb::RestoreContractRequest>,
    ) -> Reply<pb::RestoreContractResponse> {
        let caller = self.gate.authenticate(request.metadata());
        let peer = request.remote_addr();
        let r = request.into_inner();
        let this = self.clone();
        detached(async move {
            let to = target(&r.component, &r.contract, &r.version);
            this.gate
                .write(
                    caller,
                    peer,
                    "RestoreContract",
                    Role::Admin,
                    &r.component,
                    to,
                    |actor| async {
                        let written = this
                            .registry
                            .restore(&r.component, &r.contract, &r.version, actor)
                            .await
                            .map_err(status)?;
                        Ok(Response::new(pb::RestoreContractResponse {
                            versions: written.value.iter().map(ToString::to_string).collect(),
                            sequence: written.sequence,
                        }))
                    },
                )
                .await
        })
        .await
    }

    async fn watch_events(
        &self,
        request: Request<pb::WatchEventsRequest>,
    ) -> Reply<BoxStream<pb::WatchEventsResponse>> {
        let principal = self.gate.authenticate(request.metadata())?;
        let r = request.into_inner();
        let mut components: Vec<String> = r.components.clone();
        if !r.component.is_empty() {
            components.push(r.component.clone());
        }
        for component in &components {
            validate_name("component", component).map_err(|e| status(e.into()))?;
            self.gate
                .allow(&principal, "WatchEvents", Role::Reader, Some(component))?;
        }
        // Without components, a scoped token gets its scopes' events.
        let place = self.watchers.enter()?;
        let wanted = event_filter(components, principal, r.consumer_events);
        let events = self
            .registry
            .watch(r.after_sequence, &r.epoch, wanted)
            .await
            .map_err(status)?;
        let epoch = self.registry.epoch().to_string();
        let stream = ReceiverStream::new(events).map(move |e| {
            // Held as long as the stream: its place is given back with it.
            let _place = &place;
            e.map(|e| pb::WatchEventsResponse {
                event: Some(convert::event(&e)),
                epoch: epoch.clone(),
            })
            .map_err(status)
        });
        Ok(Response::new(Box::pin(stream)))
    }

    async fn register_consumer(
        &self,
        request: Request<pb::RegisterConsumerRequest>,
    ) -> Reply<pb::RegisterConsumerResponse> {
        let caller = self.gate.authenticate(request.metadata());
        let peer = request.remote_addr();
        let (work, _cancel) = call_work(&self.registry, request.metadata());
        let r = request.into_inner();
        let this = self.clone();
        detached(async move {
            let to = reading_target(&r.consumer, &r.component, &r.contract);
            this.gate
                .write(
                    caller,
                    peer,
                    "RegisterConsumer",
                    Role::Publisher,
                    &r.consumer,
                    to,
                    |actor| async {
                        let written = this
                            .registry
                            .for_request(work)
                            .register_consumer(convert::reading_input(&r), actor)
                            .await
                            .map_err(status)?;
                        Ok(Response::new(convert::registered(
                            &written.value,
                            written.sequence,
                        )))
                    },
                )
                .await
        })
        .await
    }

    async fn unregister_consumer(
        &self,
        request: Request<pb::UnregisterConsumerRequest>,
    ) -> Reply<pb::UnregisterConsumerResponse> {
        let caller = self.gate.authenticate(request.metadata());
        let peer = request.remote_addr();
        let r = request.into_inner();
        let this = self.clone();
        detached(async move {
            let to = reading_target(&r.consumer, &r.component, &r.contract);
            this.gate
                .write(
                    caller,
                    peer,
                    "UnregisterConsumer",
                    Role::Publisher,
                    &r.consumer,
                    to,
                    |actor| async {
                        let written = this
                            .registry
                            .unregister_consumer(&r.consumer, &r.component, &r.contract, actor)
                            .await
                            .map_err(status)?;
                        Ok(Response::new(pb::UnregisterConsumerResponse {
                            sequence: written.sequence,
                        }))
                    },
                )
                .await
        })
        .await
    }

    async fn list_consumers(
        &self,
        request: Request<pb::ListConsumersRequest>,
    ) -> Reply<pb::ListConsumersResponse> {
        // By contract, the contract's component is read; by consumer, the
        // consumer's own readings.
        let r = self
            .read(
                request,
                "ListConsumers",
                |r| {
                    if r.consumer.is_empty() {
                        vec![&r.component]
                    } else {
                        vec![&r.consumer]
                    }
                },
                |r| r.min_sequence,
            )
            .await?;
        let of = match (
            r.consumer.is_empty(),
            r.component.is_empty() && r.contract.is_empty(),
        ) {
            (true, false) => ConsumersOf::Contract(
                ContractName::new(&r.component, &r.contract).map_err(|e| status(e.into()))?,
            ),
            (false, true) => ConsumersOf::Consumer(r.consumer.clone()),
            _ => {
                return Err(Status::invalid_argument(
                    "invalid request: give a contract (component and contract) or a consumer, not both",
                ));
            }
        };
        let consumers = self.registry.list_consumers(&of).map_err(status)?;
        Ok(Response::new(pb::ListConsumersResponse {
            consumers: consumers
                .iter()
                .map(|(c, v)| convert::consumer(c, v.as_ref(), r.include_readers))
                .collect(),
        }))
    }

    async fn check_consumer(
        &self,
        request: Request<pb::CheckConsumerRequest>,
    ) -> Reply<pb::CheckConsumerResponse> {
        let (work, _cancel) = call_work(&self.registry, request.metadata());
        let r = self
            .read(
                request,
                "CheckConsumer",
                |r| vec![&r.component],
                |r| r.min_sequence,
            )
            .await?;
        let (check, has_reader) = self
            .registry
            .for_request(work)
            .check_consumer(&r.component, &r.contract, &r.requirement, &r.reader)
            .await
            .map_err(status)?;
        Ok(Response::new(convert::consumer_checked(&check, has_reader)))
    }

    async fn create_waiver(
        &self,
        request: Request<pb::CreateWaiverRequest>,
    ) -> Reply<pb::CreateWaiverResponse> {
        let caller = self.gate.authenticate(request.metadata());
        let peer = request.remote_addr();
        let r = request.into_inner();
        let this = self.clone();
        detached(async move {
            let to = target(&r.component, &r.contract, "");
            this.gate
                .write(
                    caller,
                    peer,
                    "CreateWaiver",
                    Role::Admin,
                    &r.component,
                    to,
                    |actor| async {
                        let input = convert::waiver_input(&r)?;
                        let written = this.registry.create_waiver(input, actor).await.map_err(status)?;
                        Ok(Response::new(pb::CreateWaiverResponse {
                            waiver: Some(convert::waiver(&written.value, now_millis())),
                            sequence: written.sequence,
                        }))
                    },
                )
                .await
        })
        .await
    }

    async fn revoke_waiver(
        &self,
        request: Request<pb::RevokeWaiverRequest>,
    ) -> Reply<pb::RevokeWaiverResponse> {
        let caller = self.gate.authenticate(request.metadata());
        let peer = request.remote_addr();
        let r = request.into_inner();
        let this = self.clone();
        detached(async move {
            // Authorized on the component of the waiver's contract; an
            // unknown id is about no component (an unscoped admin learns
            // that it does not exist).
            let component = this
                .registry
                .waiver_contract(&r.id)
                .map(|n| n.component().to_owned())
                .unwrap_or_default();
            let to = format!("waiver {}", crate::page::truncate(&r.id));
            this.gate
                .write(
                    caller,
                    peer,
                    "RevokeWaiver",
                    Role::Admin,
                    &component,
                    to,
                    |actor| async {
                        let written = this.registry.revoke_waiver(&r.id, actor).await.map_err(status)?;
                        Ok(Response::new(pb::RevokeWaiverResponse {
                            waiver: Some(convert::waiver(&written.value, now_millis())),
                            sequence: written.sequence,
                        }))
                    },
                )
                .await
        })
        .await
    }

    async fn list_waivers(&self, request: Request<pb::ListWaiversRequest>) -> Reply<pb::ListWaiversResponse> {
        let principal = self.gate.authenticate(request.metadata())?;
        let wait = deadline(request.metadata());
        let r = request.into_inner();
        let contract = match (r.component.is_empty(), r.contract.is_empty()) {
            // Every role reads; a scoped token sees its scopes' waivers.
            (true, true) => None,
            _ => {
                principal.allow("ListWaivers", Role::Reader, Some(&r.component))?;
                Some(ContractName::new(&r.component, &r.contract).map_err(|e| status(e.into()))?)
            }
        };
        self.at_least(r.min_sequence, wait).await?;
        let now = now_millis();
        let waivers = self
            .registry
            .list_waivers(contract.as_ref(), r.include_inactive, &|c| {
                principal.covers(Some(c))
            });
        Ok(Response::new(pb::ListWaiversResponse {
            waivers: waivers.iter().map(|w| convert::waiver(w, now)).collect(),
        }))
    }

    async fn list_audit_entries(
        &self,
        request: Request<pb::ListAuditEntriesRequest>,
    ) -> Reply<pb::ListAuditEntriesResponse> {
        // The log covers every component: it is for unscoped admins.
        let principal = self.gate.authenticate(request.metadata())?;
        self.gate
            .allow(&principal, "ListAuditEntries", Role::Admin, None)?;
        let r = request.into_inner();
        let since = match r.since {
            None => 0,
            Some(t) => audit::micros(
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
        let cursor = if r.page_token.is_empty() {
            None
        } else {
            Some(hex::decode(&r.page_token).map_err(|_| {
                Status::invalid_argument(format!(
                    "invalid page_token {:?}: pass the next_page_token of the previous page",
                    crate::page::truncate(&r.page_token)
                ))
            })?)
        };
        let page = self
            .registry
            .audit_page(since, cursor, size + 1)
            .await
            .map_err(status)?;
        // Whatever the entries hold (some were written before entries had a
        // size cap), a page stays well within the message limit: fields are
        // cut, and the page ends early once it is large.
        let more = page.len() > size;
        let taken = page.len().min(size);
        let mut entries = Vec::new();
        let mut bytes = 0;
        let mut last_cursor = None;
        for (cursor, record) in page.into_iter().take(size) {
            let mut entry = audit::to_wire(&record);
            entry.target = crate::page::truncate_to(&entry.target, 256);
            entry.message = crate::page::truncate_to(&entry.message, crate::auth::MAX_AUDIT_MESSAGE);
            bytes += prost::Message::encoded_len(&entry);
            entries.push(entry);
            last_cursor = Some(cursor);
            if bytes > AUDIT_PAGE_BYTES {
                break;
            }
        }
        let stopped_early = entries.len() < taken;
        let next_page_token = match (more || stopped_early, last_cursor) {
            (true, Some(cursor)) => hex::encode(cursor),
            _ => String::new(),
        };
        Ok(Response::new(pb::ListAuditEntriesResponse {
            entries,
            next_page_token,
        }))
    }
}

/// Which events a watcher gets: those of the components it named, or,
/// when it named none, those of every component its token covers (all of
/// them, global settings included, for an unscoped token). Consumer and
/// waiver events only when asked for (`consumer_events`), and then also
/// those of the consumers among these components.
fn event_filter(
    components: Vec<String>,
    principal: Principal,
    consumer_events: bool,
) -> crate::service::EventFilter {
    let kind = move |e: &Event| consumer_events || !e.kind.is_consumer_kind();
    let of = move |e: &Event, component: &dyn Fn(&str) -> bool| {
        component(&e.component) || (!e.consumer.is_empty() && component(&e.consumer))
    };
    if !components.is_empty() {
        return Arc::new(move |e: &Event| kind(e) && of(e, &|c| components.iter().any(|n| n == c)));
    }
    if principal.scopes.is_empty() {
        return Arc::new(move |e: &Event| kind(e));
    }
    Arc::new(move |e: &Event| kind(e) && of(e, &|c| !c.is_empty() && principal.covers(Some(c))))
}

/// The audit target of a call about a consumer's reading of a contract.
fn reading_target(consumer: &str, component: &str, contract: &str) -> String {
    format!(
        "{} (consumer {})",
        target(component, contract, ""),
        crate::page::truncate(consumer)
    )
}

impl RegistryGrpc {
    /// Authorizes a read by a reader of every component that `components`
    /// names in the request (none: a call about no one component), waits
    /// for the request's `min_sequence`, then hands over the message.
    async fn read<T>(
        &self,
        request: Request<T>,
        action: &str,
        components: impl FnOnce(&T) -> Vec<&str>,
        min_sequence: impl FnOnce(&T) -> u64,
    ) -> Result<T, Status> {
        let principal = self.gate.authenticate(request.metadata())?;
        let wait = deadline(request.metadata());
        let message = request.into_inner();
        let components = components(&message);
        if components.is_empty() {
            self.gate.allow(&principal, action, Role::Reader, None)?;
        }
        for component in components {
            self.gate
                .allow(&principal, action, Role::Reader, Some(component))?;
        }
        self.at_least(min_sequence(&message), wait).await?;
        Ok(message)
    }

    async fn at_least(&self, min_sequence: u64, deadline: Option<Duration>) -> Result<(), Status> {
        if min_sequence == 0 {
            return Ok(());
        }
        // Answer before the caller gives up, so that it learns why.
        let wait = match deadline {
            Some(d) => d.saturating_sub((d / 5).min(Duration::from_millis(100))),
            None => DEFAULT_SEQUENCE_WAIT,
        };
        self.registry.wait_for(min_sequence, wait).await.map_err(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_are_read_from_grpc_timeout() {
        let mut metadata = MetadataMap::new();
        assert_eq!(deadline(&metadata), None);
        metadata.insert("grpc-timeout", "250m".parse().unwrap());
        assert_eq!(deadline(&metadata), Some(Duration::from_millis(250)));
        metadata.insert("grpc-timeout", "3S".parse().unwrap());
        assert_eq!(deadline(&metadata), Some(Duration::from_secs(3)));
        metadata.insert("grpc-timeout", "x".parse().unwrap());
        assert_eq!(deadline(&metadata), None);
    }
}
