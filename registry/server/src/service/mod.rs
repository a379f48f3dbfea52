//! The domain service: publish, check, get, list, diff, config, deprecate,
//! delete, restore, watch, consumers and waivers. It knows nothing of gRPC.
//!
//! - `mod.rs` (this file): the operations on contracts.
//! - [`consumers`]: registering consumers, checking readings, waivers and
//!   their expiry.
//! - [`write`](mod@write): the write path (decide against a snapshot outside any lock,
//!   apply on the condition that nothing decided on changed, reveal in
//!   sequence order once durable) and following a shared store.
//! - [`watch`]: event streams.
//!
//! Reads are served from an immutable in-memory [`Index`] behind an
//! `ArcSwap`: a reader loads the current snapshot and never waits on disk
//! or on a writer.

pub mod consumers;
pub mod watch;
pub mod write;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use accord_compat::{Bump, Finding, Mode, Policy, Schema};
use semver::Version;
use tokio::sync::mpsc;

use self::write::{Inner, Outcome};
pub use self::{watch::EventFilter, write::Written};
use crate::{
    config::Limits,
    engine::{self, Work},
    error::Error,
    index::{ConfigView, ContractIndex, Index, find_exact, resolve},
    metrics::{Gauges, Metrics, Operation, VersionCounts},
    model::{
        Actor, AuditRecord, CompatConfig, ConsumerBreaks, ContractName, Decision, Deprecation, Event,
        EventKind, ImpactOutcome, Settings, StoredVersion, Tombstone, Verdict, VersionRecord,
        VersionSelector, micros, now_millis, parse_version, validate_name,
    },
    page::{Page, PageRequest, paginate},
    policy::parse_stored,
    store::{AuditCursor, Batch, Store},
};

/// Live events buffered for watchers; one that falls further behind goes
/// back to the store. Tiny in tests, so that falling behind is exercised.
const LIVE_CAPACITY: usize = if cfg!(test) { 4 } else { 1024 };

/// How often a replica of a shared store looks for other replicas' writes
/// when no notification came.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);

/// A publish or check request, as received.
#[derive(Debug, Clone, Copy)]
pub struct PublishInput<'a> {
    /// The component name.
    pub component: &'a str,
    /// The contract name.
    pub contract: &'a str,
    /// The JSON Schema text.
    pub schema: &'a str,
    /// The version, or empty to have one assigned.
    pub version: &'a str,
}

/// A validated publish or check request.
struct Parsed {
    name: ContractName,
    version: Option<Version>,
    schema: Arc<Schema>,
    fingerprint: String,
    text: Arc<str>,
}

/// The outcome of a successful publish.
#[derive(Debug, Clone)]
pub struct Published {
    /// The stored version.
    pub version: StoredVersion,
    /// False for an idempotent re-publish.
    pub created: bool,
    /// The decision that let it through.
    pub decision: Decision,
}

/// A component in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentSummary {
    /// Its name.
    pub name: String,
    /// How many visible contracts it owns.
    pub contract_count: u32,
}

/// A change of settings ([`Registry::set_config`]): fields left `None` keep
/// their value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SettingsChange {
    /// The new mode.
    pub mode: Option<Mode>,
    /// The new policy.
    pub policy: Option<Policy>,
    /// What a consumer's break does now.
    pub consumer_breaks: Option<ConsumerBreaks>,
    /// Drop the contract's own settings (reset the global ones).
    pub clear: bool,
}

/// A contract in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractSummary {
    /// Its name.
    pub name: ContractName,
    /// The latest release, or the latest pre-release when there is no release.
    pub latest: Option<Version>,
    /// How many visible versions it has.
    pub version_count: u32,
}

/// The comparison of two stored versions.
#[derive(Debug, Clone)]
pub struct DiffOutcome {
    /// No incompatible finding under the settings.
    pub compatible: bool,
    /// The differences.
    pub findings: Vec<Finding>,
    /// The bump the change requires.
    pub required_bump: Bump,
    /// The settings the comparison ran under.
    pub config: CompatConfig,
}

/// The registry: cheap to clone, every clone is the same registry.
#[derive(Debug, Clone)]
pub struct Registry {
    inner: Arc<Inner>,
    /// The work budget of the request this handle serves
    /// ([`Registry::for_request`]); a fresh `--check-time` for each call
    /// without one.
    work: Option<Work>,
}

/// A registry that does not keep it open (for background tasks).
#[derive(Debug, Clone)]
pub struct WeakRegistry(std::sync::Weak<Inner>);

impl WeakRegistry {
    /// The registry, if it is still open.
    pub fn upgrade(&self) -> Option<Registry> {
        self.0.upgrade().map(|inner| Registry { inner, work: None })
    }
}

/// Parses a component/contract pair where both empty means "global".
fn optional_name(component: &str, contract: &str) -> Result<Option<ContractName>, Error> {
    match (component.is_empty(), contract.is_empty()) {
        (true, true) => Ok(None),
        (false, false) => Ok(Some(ContractName::new(component, contract)?)),
        _ => Err(Error::InvalidArgument {
            what: "contract",
            reason: "give both component and contract, or neither for the global settings".into(),
        }),
    }
}

fn visible_contract<'a>(index: &'a Index, name: &ContractName) -> Result<&'a ContractIndex, Error> {
    index
        .contract(name)
        .filter(|c| c.is_visible())
        .ok_or_else(|| Error::not_found(format!("contract {name}")))
}

fn stored_in(index: &Index, name: &ContractName, version: &Version) -> Result<StoredVersion, Error> {
    index
        .contract(name)
        .and_then(|c| c.find(version))
        .cloned()
        .ok_or_else(|| {
            Error::Internal(format!(
                "version {name}@{version} is missing from the index after its write"
            ))
        })
}

impl Registry {
    /// Opens the registry over `store`: reads it whole and builds the index.
    /// A shared store is then followed in the background for as long as the
    /// registry lives.
    pub async fn open(store: Arc<dyn Store>, limits: Limits) -> Result<Self, Error> {
        let snapshot = store.load().await?;
        let index = tokio::task::spawn_blocking(move || Index::from_snapshot(snapshot))
            .await
            .map_err(|e| Error::Internal(format!("building the index failed: {e}")))??;
        let inner = Arc::new(Inner::new(store, index, limits, LIVE_CAPACITY));
        let registry = Self { inner, work: None };
        if registry
            .inner
            .store
            .follow(registry.last_sequence())
            .await?
            .is_some()
        {
            tokio::spawn(follow_loop(Arc::downgrade(&registry.inner)));
        }
        prune_audit(&registry.inner).await;
        tokio::spawn(prune_loop(Arc::downgrade(&registry.inner)));
        tokio::spawn(consumers::expiry_loop(Arc::downgrade(&registry.inner)));
        Ok(registry)
    }

    /// This registry serving one request: every comparison its calls make
    /// runs within `work` (the call's deadline, `--check-time`, its
    /// cancellation). The work is cancelled when the server shuts down.
    pub fn for_request(&self, work: Work) -> Registry {
        self.inner.in_flight.register(&work);
        Registry {
            inner: self.inner.clone(),
            work: Some(work),
        }
    }

    /// The work budget of this handle's request, or a fresh one.
    pub(crate) fn work(&self) -> Work {
        self.work.clone().unwrap_or_else(|| {
            let work = Work::of_request(&self.inner.limits, None);
            self.inner.in_flight.register(&work);
            work
        })
    }

    /// A handle that does not keep the registry open.
    pub fn downgrade(&self) -> WeakRegistry {
        WeakRegistry(Arc::downgrade(&self.inner))
    }

    /// Ends every watch stream and the follower; called when the server
    /// begins to shut down.
    pub fn shutdown(&self) {
        self.inner.in_flight.cancel_all();
        self.inner.shutdown.send_replace(true);
    }

    /// Makes every write durable (they already are once answered; this is
    /// the last word on shutdown).
    pub async fn flush(&self) -> Result<(), Error> {
        Ok(self.inner.store.flush().await?)
    }

    /// The store, for tools (export) that read it directly.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// How many versions the registry holds, soft-deleted and erased ones included.
    pub fn version_count(&self) -> usize {
        self.inner.index.load().version_count()
    }

    /// The registry's metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// The metrics exposition, with the gauges read from the index now.
    pub fn metrics_text(&self) -> String {
        let index = self.inner.index.load();
        let mut gauges = Gauges {
            applied_sequence: index.last_sequence,
            store_up: *self.inner.serving.borrow(),
            ..Gauges::default()
        };
        let mut consumers = 0u64;
        for component in index.components.values() {
            for contract in component.contracts.values() {
                gauges.contracts += u64::from(contract.is_visible());
                consumers += contract.consumers.len() as u64;
                for v in &contract.versions {
                    let r = &v.record;
                    let VersionCounts {
                        live,
                        deprecated,
                        deleted,
                        erased,
                    } = &mut gauges.versions;
                    let count = if r.erased.is_some() {
                        erased
                    } else if r.deleted_at.is_some() {
                        deleted
                    } else if r.deprecated.is_some() {
                        deprecated
                    } else {
                        live
                    };
                    *count += 1;
                }
            }
        }
        drop(index);
        self.inner.metrics.set_consumers(consumers);
        self.inner.metrics.encode(&gauges)
    }

    /// The sequence of the last event visible on this replica.
    pub fn last_sequence(&self) -> u64 {
        self.inner.index.load().last_sequence
    }

    /// Whether the store answers, as it changes: false while a shared
    /// store is out of reach (reads go on from memory, writes fail).
    pub fn serving(&self) -> tokio::sync::watch::Receiver<bool> {
        self.inner.serving.subscribe()
    }

    /// The store's history id.
    pub fn epoch(&self) -> Arc<str> {
        self.inner.index.load().epoch.clone()
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// Returns once this replica has applied `min_sequence` (0: at once),
    /// waiting at most `wait`; then UNAVAILABLE, saying how far it is.
    pub async fn wait_for(&self, min_sequence: u64, wait: Duration) -> Result<(), Error> {
        if self.last_sequence() >= min_sequence {
            return Ok(());
        }
        match tokio::time::timeout(wait, self.inner.ensure_visible(min_sequence)).await {
            Ok(result) => result,
            Err(_) => Err(Error::Unavailable(format!(
                "this replica has applied events up to sequence {}, not yet {min_sequence}; retry, or ask another replica",
                self.last_sequence()
            ))),
        }
    }

    /// Validates and parses a request off the async runtime: the engine's
    /// parse (meta-schema validation included) is linear in the schema size,
    /// which may be large.
    async fn parse_input(&self, input: PublishInput<'_>) -> Result<Parsed, Error> {
        let name = ContractName::new(input.component, input.contract)?;
        let version = match input.version {
            "" => None,
            v => Some(parse_version(v)?),
        };
        let text: Arc<str> = Arc::from(input.schema);
        let (schema, fingerprint) = self.parse_schema(text.clone(), "schema").await?;
        Ok(Parsed {
            name,
            version,
            schema,
            fingerprint,
            text,
        })
    }

    /// Validates and parses a schema (the field `what` of a request) under
    /// the limits in force, off the async runtime; with its fingerprint.
    async fn parse_schema(&self, text: Arc<str>, what: &'static str) -> Result<(Arc<Schema>, String), Error> {
        let options = self.inner.limits.parse_options();
        tokio::task::spawn_blocking(move || {
            let schema = Schema::parse_with_options(&text, &options).map_err(|e| {
                if e.is_limit() {
                    Error::SchemaLimit(e)
                } else {
                    Error::InvalidArgument {
                        what,
                        reason: e.to_string(),
                    }
                }
            })?;
            let fingerprint = accord_compat::fingerprint(schema.value());
            Ok::<_, Error>((Arc::new(schema), fingerprint))
        })
        .await
        .map_err(|e| Error::Internal(format!("schema parse task failed: {e}")))?
    }

    /// Answers exactly as [`Registry::publish`] would decide, storing nothing.
    pub async fn check(&self, input: PublishInput<'_>) -> Result<Decision, Error> {
        let Parsed {
            name,
            version,
            schema,
            fingerprint,
            ..
        } = self.parse_input(input).await?;
        let inner = self.inner.clone();
        let work = self.work();
        // The comparison is CPU work too; it reads a snapshot and waits on nobody.
        tokio::task::spawn_blocking(move || {
            let index = inner.index.load();
            timed_decision(&inner.metrics, Operation::Check, &work, || {
                crate::consumers::decide(
                    &index,
                    &name,
                    &schema,
                    &fingerprint,
                    version,
                    inner.limits.default_draft,
                    now_millis(),
                )
            })
        })
        .await
        .map_err(|e| Error::Internal(format!("check task failed: {e}")))?
    }

    /// Publishes a version: the decision of [`Registry::check`], then one
    /// durable commit (with its audit record) when it is accepted.
    pub async fn publish(&self, input: PublishInput<'_>, actor: Actor) -> Result<Written<Published>, Error> {
        let published = self.publish_unmetered(input, actor).await;
        self.inner.metrics.published(publish_outcome(&published));
        published
    }

    async fn publish_unmetered(
        &self,
        input: PublishInput<'_>,
        actor: Actor,
    ) -> Result<Written<Published>, Error> {
        let Parsed {
            name,
            version,
            schema,
            fingerprint,
            text,
        } = self.parse_input(input).await?;
        let default_draft = self.inner.limits.default_draft;
        let principal = actor.principal.clone();
        let touched = vec![Some(name.clone()), None];
        let metrics = self.inner.metrics.clone();
        let work = self.work();
        self.inner
            .write(actor, touched, move |index| {
                let decision = timed_decision(&metrics, Operation::Publish, &work, || {
                    crate::consumers::decide(
                        index,
                        &name,
                        &schema,
                        &fingerprint,
                        version.clone(),
                        default_draft,
                        now_millis(),
                    )
                })?;
                match decision.verdict {
                    Verdict::Accepted => {}
                    Verdict::AlreadyPublished => {
                        let existing = stored_in(index, &name, &decision.version)?;
                        return Ok(Outcome::Done(Published {
                            version: existing,
                            created: false,
                            decision,
                        }));
                    }
                    // A taken version (ALREADY_EXISTS) is refused with the
                    // whole decision too: the change is still reported.
                    Verdict::Incompatible | Verdict::VersionTooLow | Verdict::VersionExists => {
                        return Err(Error::Refused(Box::new(decision)));
                    }
                }
                let record = VersionRecord {
                    name: name.clone(),
                    version: decision.version.clone(),
                    fingerprint: fingerprint.clone(),
                    created_at: now_millis(),
                    bump: decision.declared_bump,
                    deprecated: None,
                    deleted_at: None,
                    draft: Some(schema.draft()),
                    published_by: principal.clone(),
                    erased: None,
                };
                let mut published =
                    Event::new(EventKind::Published, Some(&name), decision.version.to_string());
                published.fingerprint = fingerprint.clone();
                let mut batch = Batch {
                    versions: vec![record],
                    schemas: vec![(fingerprint.clone(), text.clone())],
                    events: vec![published],
                    ..Batch::default()
                };
                record_waivers_used(&mut batch, &name, &decision, &principal);
                let name = name.clone();
                Ok(Outcome::Write(
                    batch,
                    Box::new(move |index, _| {
                        Ok(Published {
                            version: stored_in(index, &name, &decision.version)?,
                            created: true,
                            decision,
                        })
                    }),
                ))
            })
            .await
    }

    /// One version: exact, by requirement, or the latest release (`""`).
    /// The request is validated before anything is looked up.
    pub fn get(&self, component: &str, contract: &str, selector: &str) -> Result<StoredVersion, Error> {
        let name = ContractName::new(component, contract)?;
        let selector = VersionSelector::from_wire(selector)?;
        let index = self.inner.index.load();
        resolve(visible_contract(&index, &name)?, &name, &selector).cloned()
    }

    /// Many [`Registry::get`]s against one snapshot, one result each.
    pub fn batch_get(
        &self,
        selectors: &[(&str, &str, &str)],
    ) -> Result<Vec<Result<StoredVersion, Error>>, Error> {
        let limit = self.inner.limits.max_batch_size;
        if selectors.len() > limit {
            return Err(Error::LimitExceeded {
                what: "selectors in one batch",
                limit,
                actual: selectors.len(),
            });
        }
        let index = self.inner.index.load();
        Ok(selectors
            .iter()
            .map(|&(component, contract, selector)| {
                let name = ContractName::new(component, contract)?;
                let selector = VersionSelector::from_wire(selector)?;
                resolve(visible_contract(&index, &name)?, &name, &selector).cloned()
            })
            .collect())
    }

    /// Components with at least one visible contract that `may_see` lets
    /// through, by name. Filtered before paging, so that a page token never
    /// points past what the caller may see.
    pub fn list_components(
        &self,
        page: &PageRequest,
        may_see: &dyn Fn(&str) -> bool,
    ) -> Result<Page<ComponentSummary>, Error> {
        const LISTING: &str = "components";
        let size = page.size()?;
        let after = page.after(LISTING)?;
        let index = self.inner.index.load();
        let items = index
            .components
            .iter()
            .filter(|(name, _)| after.as_deref().is_none_or(|a| name.as_str() > a))
            .filter(|(name, _)| may_see(name))
            .filter_map(|(name, component)| {
                let count = component.contracts.values().filter(|c| c.is_visible()).count();
                (count > 0).then(|| ComponentSummary {
                    name: name.clone(),
                    contract_count: u32::try_from(count).unwrap_or(u32::MAX),
                })
            });
        Ok(paginate(items, size, LISTING, |c| c.name.clone()))
    }

    /// Visible contracts of a component, by name.
    pub fn list_contracts(
        &self,
        component: &str,
        page: &PageRequest,
    ) -> Result<Page<ContractSummary>, Error> {
        validate_name("component", component)?;
        let listing = format!("contracts/{component}");
        let size = page.size()?;
        let after = page.after(&listing)?;
        let index = self.inner.index.load();
        let entry = index
            .components
            .get(component)
            .filter(|c| c.contracts.values().any(|c| c.is_visible()))
            .ok_or_else(|| Error::not_found(format!("component {component}")))?;
        let items = entry
            .contracts
            .iter()
            .filter(|(name, _)| after.as_deref().is_none_or(|a| name.as_str() > a))
            .filter(|(_, c)| c.is_visible())
            .filter_map(|(name, c)| {
                Some(ContractSummary {
                    name: ContractName::new(component, name.as_str()).ok()?,
                    latest: c.latest().map(|v| v.record.version.clone()),
                    version_count: u32::try_from(c.visible().count()).unwrap_or(u32::MAX),
                })
            });
        Ok(paginate(items, size, &listing, |c| c.name.contract().to_owned()))
    }

    /// Versions of a contract, oldest first, without soft-deleted ones
    /// unless asked (erased ones are listed with the deleted, as tombstones).
    pub fn list_versions(
        &self,
        component: &str,
        contract: &str,
        include_deleted: bool,
        page: &PageRequest,
    ) -> Result<Page<VersionRecord>, Error> {
        let name = ContractName::new(component, contract)?;
        let listing = format!("versions/{name}/{include_deleted}");
        let size = page.size()?;
        let after = match page.after(&listing)? {
            None => None,
            Some(position) => Some(Version::parse(&position).map_err(|_| Error::InvalidArgument {
                what: "page_token",
                reason: "the page token was not given by this listing".into(),
            })?),
        };
        let index = self.inner.index.load();
        let entry = index
            .contract(&name)
            .filter(|c| c.is_visible() || (include_deleted && !c.versions.is_empty()))
            .ok_or_else(|| Error::not_found(format!("contract {name}")))?;
        let items = entry
            .versions
            .iter()
            .filter(|v| include_deleted || v.record.is_visible())
            .filter(|v| after.as_ref().is_none_or(|a| v.record.version > *a))
            .map(|v| VersionRecord::clone(&v.record));
        Ok(paginate(items, size, &listing, |v| v.version.to_string()))
    }

    /// Compares two stored versions under the given settings, or the contract's.
    pub async fn diff(
        &self,
        component: &str,
        contract: &str,
        from: &str,
        to: &str,
        mode: Option<Mode>,
        policy: Option<Policy>,
    ) -> Result<DiffOutcome, Error> {
        let name = ContractName::new(component, contract)?;
        let (from, to) = (parse_version(from)?, parse_version(to)?);
        let index = self.inner.index.load_full();
        let draft = self.inner.limits.default_draft;
        let metrics = self.inner.metrics.clone();
        let work = self.work();
        tokio::task::spawn_blocking(move || {
            let entry = visible_contract(&index, &name)?;
            let mut config = index.config_for(&name).config;
            config.mode = mode.unwrap_or(config.mode);
            config.policy = policy.unwrap_or(config.policy);
            let old = parse_stored(&name, find_exact(entry, &name, &from, false)?, draft)?;
            let new = parse_stored(&name, find_exact(entry, &name, &to, false)?, draft)?;
            let started = Instant::now();
            let report = engine::within(&work, || engine::check(&new, &[&old], config.mode, config.policy));
            let report = match report {
                Ok(report) => report,
                Err(e) => {
                    metrics.engine_failed(Operation::Diff, started.elapsed());
                    return Err(e);
                }
            };
            metrics.engine_ran(Operation::Diff, started.elapsed(), &report.findings);
            Ok(DiffOutcome {
                compatible: report.compatible,
                findings: report.findings,
                required_bump: report.required_bump,
                config,
            })
        })
        .await
        .map_err(|e| Error::Internal(format!("diff task failed: {e}")))?
    }

    /// The settings in force for a contract, or the global ones (both names empty).
    pub fn get_config(&self, component: &str, contract: &str) -> Result<ConfigView, Error> {
        let index = self.inner.index.load();
        Ok(match optional_name(component, contract)? {
            None => ConfigView::global(index.global),
            Some(name) => index.config_for(&name),
        })
    }

    /// Changes settings; `None` fields keep their value (for a contract: go
    /// on following the global one when it had none of its own), `clear`
    /// drops the contract's own settings (or resets the global ones to the
    /// defaults).
    pub async fn set_config(
        &self,
        component: &str,
        contract: &str,
        change: SettingsChange,
        actor: Actor,
    ) -> Result<Written<ConfigView>, Error> {
        let name = optional_name(component, contract)?;
        let SettingsChange {
            mode,
            policy,
            consumer_breaks,
            clear,
        } = change;
        let any = mode.is_some() || policy.is_some() || consumer_breaks.is_some();
        if clear && any {
            return Err(Error::InvalidArgument {
                what: "config",
                reason: "clear cannot be combined with a mode, a policy or consumer_breaks".into(),
            });
        }
        if !clear && !any {
            return Err(Error::InvalidArgument {
                what: "config",
                reason: "nothing to change: give a mode, a policy, consumer_breaks, or clear".into(),
            });
        }
        let touched = vec![name.clone()];
        self.inner
            .write(actor, touched, move |index| {
                let stored = match &name {
                    None if clear => Some(Settings::full(CompatConfig::default())),
                    None => Some(Settings::full(CompatConfig {
                        mode: mode.unwrap_or(index.global.mode),
                        policy: policy.unwrap_or(index.global.policy),
                        consumer_breaks: consumer_breaks.unwrap_or(index.global.consumer_breaks),
                    })),
                    Some(_) if clear => None,
                    Some(n) => {
                        let own = index.contract(n).and_then(|c| c.settings).unwrap_or_default();
                        Some(Settings {
                            mode: mode.or(own.mode),
                            policy: policy.or(own.policy),
                            consumer_breaks: consumer_breaks.or(own.consumer_breaks),
                        })
                    }
                };
                let mut changed = Event::new(EventKind::ConfigChanged, name.as_ref(), String::new());
                let view_config = match (&name, stored) {
                    (None, Some(s)) => s.over(CompatConfig::default()),
                    (_, s) => s.unwrap_or_default().over(index.global),
                };
                changed.config = Some(view_config);
                changed.message = match (&name, stored) {
                    (Some(_), None) => "own settings cleared: inherits the global ones".into(),
                    _ => {
                        let mut words = format!("mode {}, policy {}", view_config.mode, view_config.policy);
                        if view_config.consumer_breaks == ConsumerBreaks::Warn {
                            words.push_str(", consumer breaks warn");
                        }
                        words
                    }
                };
                let batch = Batch {
                    settings: vec![(name.clone(), stored)],
                    events: vec![changed],
                    ..Batch::default()
                };
                let name = name.clone();
                Ok(Outcome::Write(
                    batch,
                    Box::new(move |index, _| {
                        Ok(match &name {
                            None => ConfigView::global(index.global),
                            Some(n) => index.config_for(n),
                        })
                    }),
                ))
            })
            .await
    }

    /// Marks a visible version deprecated (again: replaces the message).
    /// Deprecating the last version that satisfies a registered consumer's
    /// requirement is refused unless `force` gives a reason.
    pub async fn deprecate(
        &self,
        component: &str,
        contract: &str,
        version: &str,
        message: &str,
        force: Option<&str>,
        actor: Actor,
    ) -> Result<Written<StoredVersion>, Error> {
        let name = ContractName::new(component, contract)?;
        let version = parse_version(version)?;
        let message = message.to_owned();
        let force = force_reason(force)?;
        self.inner
            .write(actor, vec![Some(name.clone())], move |index| {
                let entry = index
                    .contract(&name)
                    .ok_or_else(|| Error::not_found(format!("contract {name}")))?;
                let mut record = VersionRecord::clone(&find_exact(entry, &name, &version, false)?.record);
                let note = guard_consumers(
                    entry,
                    &name,
                    &[&version],
                    |r| r.is_visible() && r.deprecated.is_none(),
                    "deprecating",
                    force.as_deref(),
                )?;
                record.deprecated = Some(Deprecation {
                    message: message.clone(),
                    at: now_millis(),
                });
                let mut deprecated = Event::new(EventKind::Deprecated, Some(&name), version.to_string());
                deprecated.fingerprint = record.fingerprint.clone();
                deprecated.message = message.clone();
                let (name, version) = (name.clone(), version.clone());
                Ok(Outcome::Write(
                    Batch {
                        versions: vec![record],
                        events: vec![deprecated],
                        note,
                        ..Batch::default()
                    },
                    Box::new(move |index, _| stored_in(index, &name, &version)),
                ))
            })
            .await
    }

    /// Deletes every version of a contract: hidden (restorable) unless
    /// `hard`, which erases the schema texts and keeps tombstones. A hard
    /// delete that leaves a registered consumer without a version that
    /// satisfies its requirement, visible or soft-deleted (restorable), is
    /// refused unless `force` gives a reason.
    pub async fn delete_contract(
        &self,
        component: &str,
        contract: &str,
        hard: bool,
        force: Option<&str>,
        actor: Actor,
    ) -> Result<Written<Vec<Version>>, Error> {
        let name = ContractName::new(component, contract)?;
        let by = actor.principal.clone();
        let force = force_reason(force)?;
        self.inner
            .write(actor, vec![Some(name.clone())], move |index| {
                delete(index, &name, None, hard, force.as_deref(), &by)
            })
            .await
    }

    /// Deletes one version: hidden (restorable) unless `hard`, which erases
    /// its schema text and keeps a tombstone: the number is never reused.
    /// Guarded as [`Registry::delete_contract`].
    pub async fn delete_version(
        &self,
        component: &str,
        contract: &str,
        version: &str,
        hard: bool,
        force: Option<&str>,
        actor: Actor,
    ) -> Result<Written<Version>, Error> {
        let name = ContractName::new(component, contract)?;
        let version = parse_version(version)?;
        let by = actor.principal.clone();
        let force = force_reason(force)?;
        let written = self
            .inner
            .write(actor, vec![Some(name.clone())], move |index| {
                delete(index, &name, Some(&version), hard, force.as_deref(), &by)
            })
            .await?;
        let Written { value, sequence } = written;
        let version = value
            .into_iter()
            .next()
            .ok_or_else(|| Error::Internal("a delete removed nothing".into()))?;
        Ok(Written {
            value: version,
            sequence,
        })
    }

    /// Brings back soft-deleted versions: one, or all of them (`version`
    /// empty). Erased versions cannot come back.
    pub async fn restore(
        &self,
        component: &str,
        contract: &str,
        version: &str,
        actor: Actor,
    ) -> Result<Written<Vec<Version>>, Error> {
        let name = ContractName::new(component, contract)?;
        let version = match version {
            "" => None,
            v => Some(parse_version(v)?),
        };
        self.inner
            .write(actor, vec![Some(name.clone())], move |index| {
                let entry = index
                    .contract(&name)
                    .ok_or_else(|| Error::not_found(format!("contract {name}")))?;
                let mut batch = Batch::default();
                for stored in &entry.versions {
                    let record = &stored.record;
                    if record.deleted_at.is_none()
                        || record.erased.is_some()
                        || version.as_ref().is_some_and(|v| *v != record.version)
                    {
                        continue;
                    }
                    let mut restored = VersionRecord::clone(record);
                    restored.deleted_at = None;
                    let mut event = Event::new(EventKind::Restored, Some(&name), record.version.to_string());
                    event.fingerprint = record.fingerprint.clone();
                    batch.events.push(event);
                    batch.versions.push(restored);
                }
                if batch.versions.is_empty() {
                    let entity = match &version {
                        Some(v) => format!("soft-deleted version {name}@{v}"),
                        None => format!("soft-deleted versions of contract {name}"),
                    };
                    return Err(Error::not_found(entity));
                }
                let versions: Vec<Version> = batch.versions.iter().map(|r| r.version.clone()).collect();
                Ok(Outcome::Write(batch, Box::new(move |_, _| Ok(versions))))
            })
            .await
    }

    /// Streams events with a sequence above `after` that `wanted` lets
    /// through: first the stored ones, then live ones, until the receiver is
    /// dropped or the registry shuts down. `epoch` (when given) must be this
    /// store's: a resume point from another history (a store restored from a
    /// backup, or recreated) is refused, never silently skipped.
    pub async fn watch(
        &self,
        after: u64,
        epoch: &str,
        wanted: EventFilter,
    ) -> Result<mpsc::Receiver<Result<Event, Error>>, Error> {
        let current = self.epoch();
        if !epoch.is_empty() && epoch != &*current {
            return Err(Error::FailedPrecondition {
                entity: "resume point".into(),
                reason: format!(
                    "it is from another history of the registry (epoch {epoch:?}, now {current:?}): the store was recreated or restored from a backup; fetch your contracts again and watch from sequence 0"
                ),
            });
        }
        if after > self.last_sequence() {
            // A replica may be behind the store: give it a moment.
            let _ = self.wait_for(after, Duration::from_secs(2)).await;
            let last = self.last_sequence();
            if after > last {
                return Err(Error::FailedPrecondition {
                    entity: "resume point".into(),
                    reason: format!(
                        "sequence {after} is beyond the last event of this registry ({last}): the store was restored from an older backup; fetch your contracts again and watch from sequence 0"
                    ),
                });
            }
        }
        let (tx, rx) = mpsc::channel(64);
        let live = self.inner.events.subscribe();
        let shutdown = self.inner.shutdown.subscribe();
        // A watcher must not keep the store open once the server is gone.
        let registry = Arc::downgrade(&self.inner);
        let open = self.inner.metrics.watch_opened();
        tokio::spawn(async move {
            watch::watch_loop(registry, live, shutdown, tx, after, wanted).await;
            drop(open);
        });
        Ok(rx)
    }

    /// Records refused write attempts in the audit log, durably.
    pub async fn audit(&self, records: Vec<AuditRecord>) -> Result<(), Error> {
        self.inner.audit(records).await
    }

    /// A page of the audit log, oldest first, with the cursor of its last entry.
    pub async fn audit_page(
        &self,
        since_micros: u64,
        cursor: Option<AuditCursor>,
        limit: usize,
    ) -> Result<Vec<(AuditCursor, AuditRecord)>, Error> {
        Ok(self.inner.store.audit_page(since_micros, cursor, limit).await?)
    }
}

/// Runs a publish or check decision within the request's `work`,
/// recording the engine's work in the metrics.
fn timed_decision(
    metrics: &Metrics,
    operation: Operation,
    work: &Work,
    decide: impl FnOnce() -> Result<Decision, Error>,
) -> Result<Decision, Error> {
    let started = Instant::now();
    let decision = engine::within(work, decide);
    match &decision {
        Ok(d) => metrics.engine_ran(
            operation,
            started.elapsed(),
            d.findings.iter().map(|f| &f.finding),
        ),
        Err(_) => metrics.engine_failed(operation, started.elapsed()),
    }
    decision
}

/// The `outcome` label of a publish that reached the registry.
fn publish_outcome(published: &Result<Written<Published>, Error>) -> &'static str {
    match published {
        Ok(w) if w.value.created => "accepted",
        Ok(_) => "already_published",
        Err(Error::Refused(decision)) => match decision.verdict {
            Verdict::Incompatible => "incompatible",
            Verdict::VersionTooLow => "version_too_low",
            Verdict::VersionExists => "version_exists",
            // A refusal always carries a refusing verdict.
            Verdict::Accepted | Verdict::AlreadyPublished => "error",
        },
        Err(Error::InvalidArgument { .. }) => "invalid",
        Err(Error::LimitExceeded { .. } | Error::SchemaLimit(_)) => "too_large",
        Err(Error::Unavailable(_)) => "unavailable",
        Err(Error::Budget { .. }) => "too_costly",
        Err(
            Error::NotFound { .. }
            | Error::FailedPrecondition { .. }
            | Error::Storage(_)
            | Error::Internal(_),
        ) => "error",
    }
}

/// The longest reason (of a waiver, of a forced guard) kept, in bytes: a
/// sentence or a paragraph, not a document.
const MAX_REASON_BYTES: usize = 2000;

/// Refuses a reason longer than [`MAX_REASON_BYTES`].
fn refuse_long(what: &'static str, reason: &str) -> Result<(), Error> {
    if reason.len() > MAX_REASON_BYTES {
        return Err(Error::InvalidArgument {
            what,
            reason: format!(
                "{what} is {} bytes long; at most {MAX_REASON_BYTES} are kept: say why in a paragraph and link to the rest",
                reason.len()
            ),
        });
    }
    Ok(())
}

/// A force reason as given: `None` when not forcing; an empty one is refused.
fn force_reason(force: Option<&str>) -> Result<Option<String>, Error> {
    match force.map(str::trim) {
        None => Ok(None),
        Some("") => Err(Error::InvalidArgument {
            what: "force_reason",
            reason: "forcing past registered consumers needs a reason, kept in the audit log".into(),
        }),
        Some(reason) => {
            refuse_long("force_reason", reason)?;
            Ok(Some(reason.to_owned()))
        }
    }
}

/// Refuses an operation (`doing`) that leaves a registered consumer of
/// `entry` without a usable version satisfying its requirement, unless
/// forced; a forced one returns what its audit record says.
fn guard_consumers(
    entry: &ContractIndex,
    name: &ContractName,
    removed: &[&Version],
    usable: impl Fn(&VersionRecord) -> bool,
    doing: &str,
    force: Option<&str>,
) -> Result<String, Error> {
    let stranded = crate::consumers::stranded(entry, removed, usable);
    if stranded.is_empty() {
        return Ok(String::new());
    }
    let who = stranded
        .iter()
        .map(|c| format!("{} ({})", c.consumer, c.requirement))
        .collect::<Vec<_>>()
        .join(", ");
    match force {
        Some(reason) => Ok(format!(
            "forced past registered consumer(s) {who} of {name}: {reason}"
        )),
        None => {
            let versions = removed
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            Err(Error::FailedPrecondition {
                entity: format!("{name}@{versions}"),
                reason: format!(
                    "{doing} it leaves registered consumer(s) {who} without a version that satisfies \
                     their requirement; publish one first, or force it with a reason"
                ),
            })
        }
    }
}

/// Adds to a publish's batch the record of each waiver that let it through:
/// an event and an audit entry per waiver and consumer, and a note on the
/// publish's own audit record.
fn record_waivers_used(batch: &mut Batch, name: &ContractName, decision: &Decision, principal: &str) {
    let version = decision.version.to_string();
    let mut notes = Vec::new();
    for impact in decision
        .impacts
        .iter()
        .filter(|i| i.outcome == ImpactOutcome::Waived)
    {
        for waiver in &impact.waivers {
            let mut used = Event::new(EventKind::WaiverUsed, Some(name), version.clone());
            used.consumer = impact.consumer.clone();
            used.waiver = waiver.id.clone();
            used.message = format!(
                "waiver {} covered the break of consumer {} ({} finding(s)): {}",
                waiver.id,
                impact.consumer,
                impact.findings.len(),
                waiver.reason
            );
            batch.audit.push(AuditRecord {
                time_micros: micros(std::time::SystemTime::now()),
                principal: principal.to_owned(),
                action: "UseWaiver".into(),
                target: format!("{name}@{version}"),
                allowed: true,
                outcome: "OK".into(),
                message: used.message.clone(),
            });
            batch.events.push(used);
            notes.push(format!("waiver {} for consumer {}", waiver.id, impact.consumer));
        }
    }
    if !notes.is_empty() {
        batch.note = format!("consumer break(s) waived: {}", notes.join(", "));
    }
}

/// The batch of a delete: soft (hide) or hard (tombstones, texts released).
/// A hard one is guarded: see [`Registry::delete_contract`].
fn delete(
    index: &Index,
    name: &ContractName,
    version: Option<&Version>,
    hard: bool,
    force: Option<&str>,
    by: &str,
) -> Result<Outcome<Vec<Version>>, Error> {
    let entry = index
        .contract(name)
        .filter(|c| c.versions.iter().any(|v| v.record.erased.is_none()))
        .ok_or_else(|| Error::not_found(format!("contract {name}")))?;
    let targets: Vec<&StoredVersion> = match version {
        Some(v) => vec![find_exact(entry, name, v, hard)?],
        // A soft delete hides what is visible; a hard one erases what is left.
        None => entry
            .versions
            .iter()
            .filter(|v| v.record.erased.is_none() && (hard || v.record.is_visible()))
            .collect(),
    };
    if targets.is_empty() {
        return Err(Error::NotFound {
            entity: format!("contract {name}"),
            hint: Some("every version is already soft-deleted".into()),
        });
    }
    let mut batch = Batch::default();
    if hard {
        let removed: Vec<&Version> = targets.iter().map(|v| &v.record.version).collect();
        // Soft-deleted versions are what a restore gives their consumers
        // back: erasing them is guarded as erasing visible ones is, or a
        // soft delete first would let any erase through.
        let visible = guard_consumers(entry, name, &removed, VersionRecord::is_visible, "erasing", force)?;
        let restorable = guard_consumers(entry, name, &removed, |r| r.erased.is_none(), "erasing", force)?;
        batch.note = if visible.is_empty() { restorable } else { visible };
    }
    let now = now_millis();
    for stored in &targets {
        let record = &stored.record;
        let mut deleted = Event::new(EventKind::Deleted, Some(name), record.version.to_string());
        deleted.fingerprint = record.fingerprint.clone();
        deleted.hard = hard;
        batch.events.push(deleted);
        let mut changed = VersionRecord::clone(record);
        if hard {
            changed.erased = Some(Tombstone {
                at: now,
                by: by.to_owned(),
            });
            if !batch.released_schemas.contains(&record.fingerprint) {
                batch.released_schemas.push(record.fingerprint.clone());
            }
        } else {
            changed.deleted_at = Some(now);
        }
        batch.versions.push(changed);
    }
    if hard && version.is_none() && entry.settings.is_some() {
        batch.settings.push((Some(name.clone()), None));
    }
    let versions = targets
        .iter()
        .map(|v| v.record.version.clone())
        .collect::<Vec<_>>();
    Ok(Outcome::Write(batch, Box::new(move |_, _| Ok(versions))))
}

/// How often the audit log is pruned (see `--audit-retention`).
const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// Removes audit entries beyond `--audit-retention` and `--audit-max-entries`.
async fn prune_audit(inner: &Inner) {
    let limits = inner.limits;
    let before = crate::model::micros(std::time::SystemTime::now())
        .saturating_sub(u64::try_from(limits.audit_retention.as_micros()).unwrap_or(u64::MAX));
    match inner.store.prune_audit(before, limits.audit_max_entries).await {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "audit log pruned"),
        Err(e) => tracing::warn!(error = %e, "cannot prune the audit log"),
    }
}

/// Prunes the audit log every [`PRUNE_EVERY`] (after the prune at
/// start-up), for as long as the registry lives.
async fn prune_loop(registry: std::sync::Weak<Inner>) {
    loop {
        let Some(inner) = registry.upgrade() else {
            return;
        };
        let mut shutdown = inner.shutdown.subscribe();
        drop(inner);
        tokio::select! {
            () = tokio::time::sleep(PRUNE_EVERY) => {}
            _ = shutdown.wait_for(|stopping| *stopping) => return,
        }
        let Some(inner) = registry.upgrade() else {
            return;
        };
        prune_audit(&inner).await;
    }
}

/// Follows a shared store for as long as the registry lives: on each
/// notification, and at least every [`FOLLOW_EVERY`] in case one was lost.
async fn follow_loop(registry: std::sync::Weak<Inner>) {
    let mut failing = false;
    loop {
        let Some(inner) = registry.upgrade() else {
            return;
        };
        let mut shutdown = inner.shutdown.subscribe();
        if *shutdown.borrow() {
            return;
        }
        match inner.follow().await {
            Ok(()) => {
                if failing {
                    tracing::info!(
                        sequence = inner.index.load().last_sequence,
                        "the shared store answers again: caught up"
                    );
                }
                failing = false;
                inner.serving.send_if_modified(|s| !std::mem::replace(s, true));
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, "cannot follow the shared store; reads go on from memory, writes fail until it is back");
                }
                failing = true;
                inner.serving.send_if_modified(|s| std::mem::replace(s, false));
            }
        }
        let store = inner.store.clone();
        drop(inner);
        tokio::select! {
            () = store.changed() => {}
            () = tokio::time::sleep(FOLLOW_EVERY) => {}
            _ = shutdown.wait_for(|stopping| *stopping) => return,
        }
    }
}

#[cfg(test)]
mod tests;
