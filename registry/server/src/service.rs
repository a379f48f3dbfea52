//! The domain service: publish, check, get, list, diff, config, deprecate,
//! delete, restore and watch. It knows nothing of gRPC.
//!
//! Reads are served from an immutable in-memory [`Index`] behind an
//! `ArcSwap`: a reader loads the current snapshot and never waits on disk or
//! on a writer. Writes are serialised by one mutex (held off the async
//! runtime, in `spawn_blocking`): each decides against the writers' latest
//! snapshot (which includes writes not yet on disk), applies one store batch
//! and builds the next snapshot, then leaves the lock and waits for a flush
//! that covers its batch (group commit: writers that arrive during a flush
//! share the next one). Only then is the snapshot swapped in for readers and
//! its events broadcast, so a reader or watcher never sees a change that a
//! crash could still take back. Snapshots share everything they did not
//! change (components, contracts and schema texts are behind `Arc`s).

use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    sync::{Arc, Mutex, Weak},
};

use accord_compat::{Bump, Finding, Mode, Policy, Schema};
use arc_swap::ArcSwap;
use semver::{Version, VersionReq};
use tokio::sync::{broadcast, mpsc, watch};

use crate::{
    config::Limits,
    error::Error,
    model::{
        CompatConfig, ContractName, Deprecation, Event, EventKind, StoredVersion, VersionRecord, now_millis,
        parse_version, refuse_surrounding_whitespace, validate_name,
    },
    policy::{Decision, Verdict, decide, parse_stored},
    store::{Batch, Store, StoreError, Ticket},
};

/// Default number of items in a page.
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// Largest number of items in a page.
pub const MAX_PAGE_SIZE: usize = 1000;

/// Events replayed from the store per read while a watcher catches up.
const REPLAY_CHUNK: usize = 256;

/// Live events buffered for watchers; one that falls further behind goes
/// back to the store. Tiny in tests, so that falling behind is exercised.
const LIVE_CAPACITY: usize = if cfg!(test) { 4 } else { 1024 };

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
    schema: Schema,
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

/// Which page of a listing: how many items, after which one.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    /// Items per page; 0 for the default.
    pub size: i32,
    /// The `next_token` of the previous page, or empty for the first.
    pub token: String,
}

impl PageRequest {
    fn size(&self) -> Result<usize, Error> {
        match usize::try_from(self.size) {
            Err(_) => Err(Error::InvalidArgument {
                what: "page_size",
                reason: format!("page_size {} is negative", self.size),
            }),
            Ok(0) => Ok(DEFAULT_PAGE_SIZE),
            Ok(n) => Ok(n.min(MAX_PAGE_SIZE)),
        }
    }
}

/// One page of a listing.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The token of the next page; empty on the last one.
    pub next_token: String,
}

fn paginate<T>(items: impl Iterator<Item = T>, size: usize, key: impl Fn(&T) -> String) -> Page<T> {
    let mut items: Vec<T> = items.take(size + 1).collect();
    let next_token = if items.len() > size {
        items.truncate(size);
        items.last().map(&key).unwrap_or_default()
    } else {
        String::new()
    };
    Page { items, next_token }
}

/// A component in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentSummary {
    /// Its name.
    pub name: String,
    /// How many visible contracts it owns.
    pub contract_count: u32,
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

/// The settings in force for a contract (or globally).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigView {
    /// The settings.
    pub config: CompatConfig,
    /// True when the contract has none of its own.
    pub inherited: bool,
}

#[derive(Debug, Clone, Default)]
struct ContractIndex {
    /// Oldest first, soft-deleted ones included.
    versions: Vec<StoredVersion>,
    config: Option<CompatConfig>,
}

impl ContractIndex {
    fn visible(&self) -> impl DoubleEndedIterator<Item = &StoredVersion> {
        self.versions.iter().filter(|v| v.record.is_visible())
    }

    fn is_visible(&self) -> bool {
        self.visible().next().is_some()
    }
}

#[derive(Debug, Clone, Default)]
struct ComponentIndex {
    contracts: BTreeMap<String, Arc<ContractIndex>>,
}

/// The in-memory snapshot every read is served from.
#[derive(Debug, Clone, Default)]
struct Index {
    components: BTreeMap<String, Arc<ComponentIndex>>,
    global: CompatConfig,
    last_sequence: u64,
}

impl Index {
    fn contract(&self, name: &ContractName) -> Option<&ContractIndex> {
        self.components
            .get(&name.component)
            .and_then(|c| c.contracts.get(&name.contract))
            .map(|c| c.as_ref())
    }

    fn contract_mut(&mut self, name: &ContractName) -> &mut ContractIndex {
        let component = Arc::make_mut(self.components.entry(name.component.clone()).or_default());
        Arc::make_mut(component.contracts.entry(name.contract.clone()).or_default())
    }

    /// Drops a contract with neither versions nor settings, and an empty component.
    fn prune(&mut self, name: &ContractName) {
        let Some(component) = self.components.get_mut(&name.component) else {
            return;
        };
        let empty = component
            .contracts
            .get(&name.contract)
            .is_some_and(|c| c.versions.is_empty() && c.config.is_none());
        if empty {
            Arc::make_mut(component).contracts.remove(&name.contract);
        }
        if component.contracts.is_empty() {
            self.components.remove(&name.component);
        }
    }

    fn config_for(&self, name: &ContractName) -> ConfigView {
        match self.contract(name).and_then(|c| c.config) {
            Some(config) => ConfigView {
                config,
                inherited: false,
            },
            None => ConfigView {
                config: self.global,
                inherited: true,
            },
        }
    }
}

#[derive(Debug)]
struct SchemaRef {
    text: Arc<str>,
    /// How many stored versions (soft-deleted included) use it.
    refs: usize,
}

/// State only writers touch, under the write lock.
#[derive(Debug, Default)]
struct Writer {
    schemas: HashMap<String, SchemaRef>,
    /// The snapshot writers decide against: every applied batch, durable or
    /// not, so that of two writers the second sees the first's change.
    head: Arc<Index>,
    /// The store ticket of the last batch applied.
    ticket: Ticket,
}

/// An applied batch whose snapshot and events wait for its flush.
#[derive(Debug)]
struct Pending {
    ticket: Ticket,
    index: Arc<Index>,
    events: Vec<Event>,
}

#[derive(Debug)]
struct Inner {
    store: Box<dyn Store>,
    index: ArcSwap<Index>,
    writer: Mutex<Writer>,
    /// Applied batches in ticket order, not yet visible to readers.
    pending: Mutex<VecDeque<Pending>>,
    events: broadcast::Sender<Arc<Event>>,
    shutdown: watch::Sender<bool>,
    limits: Limits,
}

/// The registry: cheap to clone, every clone is the same registry.
#[derive(Debug, Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

/// Locks a mutex even when a thread panicked holding it: the queue it
/// guards is changed in single steps.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn event(kind: EventKind, name: Option<&ContractName>, version: String) -> Event {
    Event {
        sequence: 0,
        kind,
        time: 0,
        component: name.map(|n| n.component.clone()).unwrap_or_default(),
        contract: name.map(|n| n.contract.clone()).unwrap_or_default(),
        version,
        fingerprint: String::new(),
        message: String::new(),
        config: None,
        hard: false,
    }
}

/// Parses a component/contract pair where both empty means "global".
fn optional_name(component: &str, contract: &str) -> Result<Option<ContractName>, Error> {
    match (component.is_empty(), contract.is_empty()) {
        (true, true) => Ok(None),
        (false, false) => ContractName::new(component, contract).map(Some),
        _ => Err(Error::InvalidArgument {
            what: "contract",
            reason: "give both component and contract, or neither for the global settings".into(),
        }),
    }
}

fn find_exact<'a>(
    contract: &'a ContractIndex,
    name: &ContractName,
    version: &Version,
    include_deleted: bool,
) -> Result<&'a StoredVersion, Error> {
    match contract.versions.iter().find(|v| &v.record.version == version) {
        Some(v) if include_deleted || v.record.is_visible() => Ok(v),
        Some(_) => Err(Error::NotFound {
            entity: format!("version {name}@{version}"),
            hint: Some("it is soft-deleted; RestoreContract brings it back".into()),
        }),
        None => Err(Error::not_found(format!("version {name}@{version}"))),
    }
}

/// Resolves an exact version, a requirement, or "" (latest release).
fn resolve<'a>(
    contract: &'a ContractIndex,
    name: &ContractName,
    selector: &str,
) -> Result<&'a StoredVersion, Error> {
    refuse_surrounding_whitespace("version", selector)?;
    if selector.is_empty() {
        return contract
            .visible()
            .rev()
            .find(|v| v.record.version.pre.is_empty())
            .ok_or_else(|| Error::NotFound {
                entity: format!("release of contract {name}"),
                hint: Some("it has only pre-releases: ask for one by its exact version".into()),
            });
    }
    if let Ok(version) = Version::parse(selector) {
        return find_exact(contract, name, &version, false);
    }
    let req = VersionReq::parse(selector).map_err(|e| Error::InvalidArgument {
        what: "version",
        reason: format!(
            "{selector:?} is neither a version nor a semver requirement (e.g. 1.4.0, ^1.2, ~1.4, \">=1, <3\"): {e}"
        ),
    })?;
    contract
        .visible()
        .rev()
        .find(|v| req.matches(&v.record.version))
        .ok_or_else(|| Error::not_found(format!("version of contract {name} matching {selector:?}")))
}

impl Registry {
    /// Opens the registry over `store`: reads it whole and builds the index.
    pub fn open(store: Box<dyn Store>, limits: Limits) -> Result<Self, Error> {
        let contents = store.load()?;
        let mut writer = Writer::default();
        for (fingerprint, text) in contents.schemas {
            writer.schemas.insert(fingerprint, SchemaRef { text, refs: 0 });
        }
        let mut index = Index {
            last_sequence: contents.last_sequence,
            ..Index::default()
        };
        for (name, config) in contents.configs {
            match name {
                None => index.global = config,
                Some(name) => index.contract_mut(&name).config = Some(config),
            }
        }
        for record in contents.versions {
            let Some(schema) = writer.schemas.get_mut(&record.fingerprint) else {
                return Err(StoreError::Corrupt {
                    tree: "versions",
                    key: format!("{}@{}", record.name, record.version),
                    reason: format!("schema {} is missing", record.fingerprint),
                }
                .into());
            };
            schema.refs += 1;
            let stored = StoredVersion {
                schema: schema.text.clone(),
                record,
            };
            index
                .contract_mut(&stored.record.name.clone())
                .versions
                .push(stored);
        }
        for component in index.components.values_mut() {
            for contract in Arc::make_mut(component).contracts.values_mut() {
                Arc::make_mut(contract)
                    .versions
                    .sort_by(|a, b| a.record.version.cmp(&b.record.version));
            }
        }
        let (events, _) = broadcast::channel(LIVE_CAPACITY);
        let (shutdown, _) = watch::channel(false);
        let index = Arc::new(index);
        writer.head = index.clone();
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                index: ArcSwap::new(index),
                writer: Mutex::new(writer),
                pending: Mutex::default(),
                events,
                shutdown,
                limits,
            }),
        })
    }

    /// Ends every watch stream; called when the server begins to shut down.
    pub fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }

    /// Makes every write durable (they already are after each commit; this
    /// is the last word on shutdown).
    pub fn flush(&self) -> Result<(), Error> {
        Ok(self.inner.store.flush()?)
    }

    /// How many versions the registry holds, soft-deleted ones included.
    pub fn version_count(&self) -> usize {
        let index = self.inner.index.load();
        index
            .components
            .values()
            .flat_map(|c| c.contracts.values())
            .map(|c| c.versions.len())
            .sum()
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// Runs `f` under the write lock, off the async runtime, then waits
    /// (outside the lock) until everything `f` saw or wrote is durable and
    /// visible to readers.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner, &mut Writer) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let (outcome, ticket) = {
                // A writer that panicked did so before its batch was applied
                // or after the head moved past it (nothing in between can
                // panic), so the state is whole.
                let mut writer = inner
                    .writer
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let outcome = f(&inner, &mut writer);
                (outcome, writer.ticket)
            };
            // Even a refusal or an idempotent success waits: it may rest on a
            // batch of another writer that is not on disk yet, and must not
            // be answered before that batch is.
            inner.store.sync(ticket)?;
            inner.reveal(ticket);
            outcome
        })
        .await
        .map_err(|e| Error::Internal(format!("write task failed: {e}")))?
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
        let limits = self.inner.limits.schema();
        let parsed = text.clone();
        let (schema, fingerprint) = tokio::task::spawn_blocking(move || {
            let schema = Schema::parse_with(&parsed, &limits).map_err(|e| {
                if e.is_limit() {
                    Error::SchemaLimit(e)
                } else {
                    Error::InvalidArgument {
                        what: "schema",
                        reason: e.to_string(),
                    }
                }
            })?;
            let fingerprint = accord_compat::fingerprint(schema.value());
            Ok::<_, Error>((schema, fingerprint))
        })
        .await
        .map_err(|e| Error::Internal(format!("schema parse task failed: {e}")))??;
        Ok(Parsed {
            name,
            version,
            schema,
            fingerprint,
            text,
        })
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
        // The comparison is CPU work too; it reads a snapshot and waits on nobody.
        tokio::task::spawn_blocking(move || {
            let index = inner.index.load();
            let config = index.config_for(&name).config;
            let history = index
                .contract(&name)
                .map(|c| c.versions.as_slice())
                .unwrap_or(&[]);
            decide(
                &name,
                history,
                &schema,
                &fingerprint,
                version,
                config,
                inner.limits.default_draft,
            )
        })
        .await
        .map_err(|e| Error::Internal(format!("check task failed: {e}")))?
    }

    /// Publishes a version: the decision of [`Registry::check`], then one
    /// durable commit when it is accepted.
    pub async fn publish(&self, input: PublishInput<'_>) -> Result<Published, Error> {
        let Parsed {
            name,
            version,
            schema,
            fingerprint,
            text,
        } = self.parse_input(input).await?;
        self.write(move |inner, writer| {
            let index = writer.head.clone();
            let config = index.config_for(&name).config;
            let history = index
                .contract(&name)
                .map(|c| c.versions.as_slice())
                .unwrap_or(&[]);
            let decision = decide(
                &name,
                history,
                &schema,
                &fingerprint,
                version,
                config,
                inner.limits.default_draft,
            )?;
            match decision.verdict {
                Verdict::Accepted => {}
                Verdict::AlreadyPublished => {
                    let existing = index
                        .contract(&name)
                        .and_then(|c| c.versions.iter().find(|v| v.record.version == decision.version))
                        .cloned()
                        .ok_or_else(|| Error::Internal("an already published version vanished".into()))?;
                    return Ok(Published {
                        version: existing,
                        created: false,
                        decision,
                    });
                }
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
            };
            let mut published = event(EventKind::Published, Some(&name), decision.version.to_string());
            published.fingerprint = fingerprint.clone();
            let mut batch = Batch {
                versions: vec![record.clone()],
                events: vec![published],
                ..Batch::default()
            };
            if !writer.schemas.contains_key(&fingerprint) {
                batch.schemas.push((fingerprint.clone(), text));
            }
            inner.commit(writer, batch)?;
            let version = writer
                .head
                .contract(&name)
                .and_then(|c| c.versions.iter().find(|v| v.record.version == record.version))
                .cloned()
                .ok_or_else(|| Error::Internal("a committed version is missing from the index".into()))?;
            Ok(Published {
                version,
                created: true,
                decision,
            })
        })
        .await
    }

    /// One version: exact, by requirement, or the latest release (`""`).
    pub fn get(&self, component: &str, contract: &str, selector: &str) -> Result<StoredVersion, Error> {
        let name = ContractName::new(component, contract)?;
        let index = self.inner.index.load();
        let entry = index
            .contract(&name)
            .filter(|c| c.is_visible())
            .ok_or_else(|| Error::not_found(format!("contract {name}")))?;
        resolve(entry, &name, selector).cloned()
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
                let entry = index
                    .contract(&name)
                    .filter(|c| c.is_visible())
                    .ok_or_else(|| Error::not_found(format!("contract {name}")))?;
                resolve(entry, &name, selector).cloned()
            })
            .collect())
    }

    /// Components with at least one visible contract, by name.
    pub fn list_components(&self, page: &PageRequest) -> Result<Page<ComponentSummary>, Error> {
        let size = page.size()?;
        let index = self.inner.index.load();
        let items = index
            .components
            .iter()
            .filter(|(name, _)| page.token.is_empty() || name.as_str() > page.token.as_str())
            .filter_map(|(name, component)| {
                let count = component.contracts.values().filter(|c| c.is_visible()).count();
                (count > 0).then(|| ComponentSummary {
                    name: name.clone(),
                    contract_count: u32::try_from(count).unwrap_or(u32::MAX),
                })
            });
        Ok(paginate(items, size, |c| c.name.clone()))
    }

    /// Visible contracts of a component, by name.
    pub fn list_contracts(
        &self,
        component: &str,
        page: &PageRequest,
    ) -> Result<Page<ContractSummary>, Error> {
        validate_name("component", component)?;
        let size = page.size()?;
        let index = self.inner.index.load();
        let entry = index
            .components
            .get(component)
            .filter(|c| c.contracts.values().any(|c| c.is_visible()))
            .ok_or_else(|| Error::not_found(format!("component {component}")))?;
        let items = entry
            .contracts
            .iter()
            .filter(|(name, _)| page.token.is_empty() || name.as_str() > page.token.as_str())
            .filter(|(_, c)| c.is_visible())
            .map(|(name, c)| {
                let latest = c
                    .visible()
                    .rev()
                    .find(|v| v.record.version.pre.is_empty())
                    .or_else(|| c.visible().next_back())
                    .map(|v| v.record.version.clone());
                ContractSummary {
                    name: ContractName {
                        component: component.to_owned(),
                        contract: name.clone(),
                    },
                    latest,
                    version_count: u32::try_from(c.visible().count()).unwrap_or(u32::MAX),
                }
            });
        Ok(paginate(items, size, |c| c.name.contract.clone()))
    }

    /// Versions of a contract, oldest first, without soft-deleted ones unless asked.
    pub fn list_versions(
        &self,
        component: &str,
        contract: &str,
        include_deleted: bool,
        page: &PageRequest,
    ) -> Result<Page<VersionRecord>, Error> {
        let name = ContractName::new(component, contract)?;
        let size = page.size()?;
        let after = match page.token.as_str() {
            "" => None,
            token => Some(Version::parse(token).map_err(|e| Error::InvalidArgument {
                what: "page_token",
                reason: format!("page token {token:?} was not given by this listing: {e}"),
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
            .map(|v| v.record.clone());
        Ok(paginate(items, size, |v| v.version.to_string()))
    }

    /// Compares two stored versions under the given settings, or the contract's.
    pub fn diff(
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
        let index = self.inner.index.load();
        let entry = index
            .contract(&name)
            .filter(|c| c.is_visible())
            .ok_or_else(|| Error::not_found(format!("contract {name}")))?;
        let mut config = index.config_for(&name).config;
        config.mode = mode.unwrap_or(config.mode);
        config.policy = policy.unwrap_or(config.policy);
        let draft = self.inner.limits.default_draft;
        let old = parse_stored(&name, find_exact(entry, &name, &from, false)?, draft)?;
        let new = parse_stored(&name, find_exact(entry, &name, &to, false)?, draft)?;
        let report = accord_compat::check(&new, &[&old], config.mode, config.policy);
        Ok(DiffOutcome {
            compatible: report.compatible,
            findings: report.findings,
            required_bump: report.required_bump,
            config,
        })
    }

    /// The settings in force for a contract, or the global ones (both names empty).
    pub fn get_config(&self, component: &str, contract: &str) -> Result<ConfigView, Error> {
        let index = self.inner.index.load();
        Ok(match optional_name(component, contract)? {
            None => ConfigView {
                config: index.global,
                inherited: false,
            },
            Some(name) => index.config_for(&name),
        })
    }

    /// Changes settings; `None` fields keep their value, `clear` drops the
    /// contract's own settings (or resets the global ones to the defaults).
    pub async fn set_config(
        &self,
        component: &str,
        contract: &str,
        mode: Option<Mode>,
        policy: Option<Policy>,
        clear: bool,
    ) -> Result<ConfigView, Error> {
        let name = optional_name(component, contract)?;
        if clear && (mode.is_some() || policy.is_some()) {
            return Err(Error::InvalidArgument {
                what: "config",
                reason: "clear cannot be combined with a mode or a policy".into(),
            });
        }
        if !clear && mode.is_none() && policy.is_none() {
            return Err(Error::InvalidArgument {
                what: "config",
                reason: "nothing to change: give a mode, a policy, or clear".into(),
            });
        }
        self.write(move |inner, writer| {
            let index = writer.head.clone();
            let current = match &name {
                None => index.global,
                Some(n) => index.config_for(n).config,
            };
            let stored = if clear {
                name.is_none().then(CompatConfig::default)
            } else {
                Some(CompatConfig {
                    mode: mode.unwrap_or(current.mode),
                    policy: policy.unwrap_or(current.policy),
                })
            };
            let view = match (&name, stored) {
                (Some(_), None) => ConfigView {
                    config: index.global,
                    inherited: true,
                },
                (_, Some(config)) => ConfigView {
                    config,
                    inherited: false,
                },
                (None, None) => ConfigView {
                    config: CompatConfig::default(),
                    inherited: false,
                },
            };
            let mut changed = event(EventKind::ConfigChanged, name.as_ref(), String::new());
            changed.config = Some(view.config);
            changed.message = if view.inherited {
                "own settings cleared: inherits the global ones".into()
            } else {
                format!("mode {}, policy {}", view.config.mode, view.config.policy)
            };
            inner.commit(
                writer,
                Batch {
                    configs: vec![(name, stored)],
                    events: vec![changed],
                    ..Batch::default()
                },
            )?;
            Ok(view)
        })
        .await
    }

    /// Marks a visible version deprecated (again: replaces the message).
    pub async fn deprecate(
        &self,
        component: &str,
        contract: &str,
        version: &str,
        message: &str,
    ) -> Result<StoredVersion, Error> {
        let name = ContractName::new(component, contract)?;
        let version = parse_version(version)?;
        let message = message.to_owned();
        self.write(move |inner, writer| {
            let index = writer.head.clone();
            let entry = index
                .contract(&name)
                .ok_or_else(|| Error::not_found(format!("contract {name}")))?;
            let mut record = find_exact(entry, &name, &version, false)?.record.clone();
            record.deprecated = Some(Deprecation {
                message: message.clone(),
                at: now_millis(),
            });
            let mut deprecated = event(EventKind::Deprecated, Some(&name), version.to_string());
            deprecated.fingerprint = record.fingerprint.clone();
            deprecated.message = message;
            inner.commit(
                writer,
                Batch {
                    versions: vec![record],
                    events: vec![deprecated],
                    ..Batch::default()
                },
            )?;
            writer
                .head
                .contract(&name)
                .and_then(|c| c.versions.iter().find(|v| v.record.version == version))
                .cloned()
                .ok_or_else(|| Error::Internal("a deprecated version is missing from the index".into()))
        })
        .await
    }

    /// Deletes every version of a contract: hidden (restorable) unless `hard`.
    pub async fn delete_contract(
        &self,
        component: &str,
        contract: &str,
        hard: bool,
    ) -> Result<Vec<Version>, Error> {
        let name = ContractName::new(component, contract)?;
        self.write(move |inner, writer| inner.delete(writer, &name, None, hard))
            .await
    }

    /// Deletes one version: hidden (restorable) unless `hard`.
    pub async fn delete_version(
        &self,
        component: &str,
        contract: &str,
        version: &str,
        hard: bool,
    ) -> Result<Version, Error> {
        let name = ContractName::new(component, contract)?;
        let version = parse_version(version)?;
        self.write(move |inner, writer| {
            let mut deleted = inner.delete(writer, &name, Some(&version), hard)?;
            deleted
                .pop()
                .ok_or_else(|| Error::Internal("a delete removed nothing".into()))
        })
        .await
    }

    /// Brings back soft-deleted versions: one, or all of them (`version` empty).
    pub async fn restore(
        &self,
        component: &str,
        contract: &str,
        version: &str,
    ) -> Result<Vec<Version>, Error> {
        let name = ContractName::new(component, contract)?;
        let version = match version {
            "" => None,
            v => Some(parse_version(v)?),
        };
        self.write(move |inner, writer| {
            let index = writer.head.clone();
            let entry = index
                .contract(&name)
                .ok_or_else(|| Error::not_found(format!("contract {name}")))?;
            let mut batch = Batch::default();
            for stored in &entry.versions {
                let record = &stored.record;
                if record.is_visible() || version.as_ref().is_some_and(|v| *v != record.version) {
                    continue;
                }
                let mut restored = record.clone();
                restored.deleted_at = None;
                let mut restored_event = event(EventKind::Restored, Some(&name), record.version.to_string());
                restored_event.fingerprint = record.fingerprint.clone();
                batch.events.push(restored_event);
                batch.versions.push(restored);
            }
            if batch.versions.is_empty() {
                let entity = match &version {
                    Some(v) => format!("soft-deleted version {name}@{v}"),
                    None => format!("soft-deleted versions of contract {name}"),
                };
                return Err(Error::not_found(entity));
            }
            let versions = batch.versions.iter().map(|r| r.version.clone()).collect();
            inner.commit(writer, batch)?;
            Ok(versions)
        })
        .await
    }

    /// Streams events with a sequence above `after` (of one component, or
    /// all), first the stored ones, then live ones, until the receiver is
    /// dropped or the registry shuts down. Nothing is missed: the live feed
    /// is subscribed to before the replay, duplicates are dropped by
    /// sequence, and a watcher that falls behind the live feed goes back to
    /// the store.
    pub fn watch(&self, after: u64, component: &str) -> Result<mpsc::Receiver<Result<Event, Error>>, Error> {
        let component = match component {
            "" => None,
            c => {
                validate_name("component", c)?;
                Some(c.to_owned())
            }
        };
        let (tx, rx) = mpsc::channel(64);
        let live = self.inner.events.subscribe();
        let shutdown = self.inner.shutdown.subscribe();
        // A watcher must not keep the store open once the server is gone.
        let registry = Arc::downgrade(&self.inner);
        tokio::spawn(watch_loop(registry, live, shutdown, tx, after, component));
        Ok(rx)
    }
}

/// Sends one event to a watcher; false when it is gone or the registry is
/// stopping (a watcher that does not read must not hold up a shutdown).
async fn deliver(
    tx: &mpsc::Sender<Result<Event, Error>>,
    shutdown: &mut watch::Receiver<bool>,
    event: Event,
) -> bool {
    tokio::select! {
        sent = tx.send(Ok(event)) => sent.is_ok(),
        _ = shutdown.wait_for(|stopping| *stopping) => false,
    }
}

async fn watch_loop(
    registry: Weak<Inner>,
    mut live: broadcast::Receiver<Arc<Event>>,
    mut shutdown: watch::Receiver<bool>,
    tx: mpsc::Sender<Result<Event, Error>>,
    mut last: u64,
    component: Option<String>,
) {
    let wanted = |e: &Event| component.as_deref().is_none_or(|c| c == e.component);
    loop {
        // Catch up from the store.
        loop {
            if *shutdown.borrow() {
                return;
            }
            let Some(inner) = registry.upgrade() else {
                return;
            };
            let after = last;
            // Events applied but not yet durable stay in the store until
            // their writer reveals them: a watcher must not see them first.
            let visible = inner.index.load().last_sequence;
            let chunk = tokio::task::spawn_blocking(move || {
                inner.store.events_after(after, REPLAY_CHUNK).map(|mut chunk| {
                    chunk.retain(|e| e.sequence <= visible);
                    chunk
                })
            })
            .await;
            let chunk = match chunk {
                Ok(Ok(chunk)) => chunk,
                Ok(Err(e)) => {
                    let _ = tx.send(Err(e.into())).await;
                    return;
                }
                Err(e) => {
                    let _ = tx
                        .send(Err(Error::Internal(format!("event replay failed: {e}"))))
                        .await;
                    return;
                }
            };
            if chunk.is_empty() {
                break;
            }
            for e in chunk {
                last = e.sequence;
                if wanted(&e) && !deliver(&tx, &mut shutdown, e).await {
                    return;
                }
            }
        }
        // Follow the live feed until it skips ahead of us.
        loop {
            let received = tokio::select! {
                _ = shutdown.wait_for(|stopping| *stopping) => return,
                () = tx.closed() => return,
                received = live.recv() => received,
            };
            match received {
                Ok(e) if e.sequence <= last => {}
                Ok(e) if e.sequence == last + 1 => {
                    last = e.sequence;
                    if wanted(&e) && !deliver(&tx, &mut shutdown, (*e).clone()).await {
                        return;
                    }
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => break,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    }
}

impl Inner {
    /// Applies `batch` and moves the writers' head to the index that
    /// includes it; readers and watchers get both once it is durable
    /// ([`Inner::reveal`]). Event sequences and times are assigned here.
    fn commit(&self, writer: &mut Writer, mut batch: Batch) -> Result<(), Error> {
        let current = writer.head.clone();
        let mut sequence = current.last_sequence;
        let now = now_millis();
        for e in &mut batch.events {
            sequence += 1;
            e.sequence = sequence;
            e.time = now;
        }
        let ticket = self.store.apply(&batch)?;

        for (fingerprint, text) in &batch.schemas {
            writer
                .schemas
                .entry(fingerprint.clone())
                .or_insert_with(|| SchemaRef {
                    text: text.clone(),
                    refs: 0,
                });
        }
        let mut next = (*current).clone();
        for (name, version) in &batch.removed_versions {
            let entry = next.contract_mut(name);
            if let Ok(at) = entry.versions.binary_search_by(|v| v.record.version.cmp(version)) {
                let removed = entry.versions.remove(at);
                if let Some(schema) = writer.schemas.get_mut(&removed.record.fingerprint) {
                    schema.refs = schema.refs.saturating_sub(1);
                }
            }
            next.prune(name);
        }
        for record in &batch.versions {
            let entry = next.contract_mut(&record.name);
            match entry
                .versions
                .binary_search_by(|v| v.record.version.cmp(&record.version))
            {
                Ok(at) => entry.versions[at].record = record.clone(),
                Err(at) => {
                    let schema = match writer.schemas.get_mut(&record.fingerprint) {
                        Some(schema) => {
                            schema.refs += 1;
                            schema.text.clone()
                        }
                        None => {
                            tracing::error!(fingerprint = %record.fingerprint, "committed a version without its schema");
                            Arc::from("")
                        }
                    };
                    entry.versions.insert(
                        at,
                        StoredVersion {
                            record: record.clone(),
                            schema,
                        },
                    );
                }
            }
        }
        for fingerprint in &batch.removed_schemas {
            writer.schemas.remove(fingerprint);
        }
        for (name, config) in &batch.configs {
            match name {
                None => next.global = config.unwrap_or_default(),
                Some(name) => {
                    next.contract_mut(name).config = *config;
                    next.prune(name);
                }
            }
        }
        next.last_sequence = sequence;
        let next = Arc::new(next);
        writer.head = next.clone();
        writer.ticket = ticket;
        // Pushed under the write lock, so the queue is in ticket order.
        lock(&self.pending).push_back(Pending {
            ticket,
            index: next,
            events: batch.events,
        });
        Ok(())
    }

    /// Makes every applied batch up to `ticket` (which must be durable)
    /// visible: swaps in the newest of their snapshots and broadcasts their
    /// events, in order, whichever writer gets here first.
    fn reveal(&self, ticket: Ticket) {
        let mut pending = lock(&self.pending);
        let mut newest = None;
        let mut events = Vec::new();
        while pending.front().is_some_and(|p| p.ticket <= ticket) {
            let Some(done) = pending.pop_front() else {
                break;
            };
            newest = Some(done.index);
            events.extend(done.events);
        }
        // Under the queue's lock, so snapshots are swapped and events sent
        // in ticket order; the snapshot first, so that a watcher told of a
        // change can read it.
        if let Some(index) = newest {
            self.index.store(index);
        }
        self.announce(events);
    }

    fn announce(&self, events: Vec<Event>) {
        for e in events {
            tracing::info!(
                sequence = e.sequence,
                kind = ?e.kind,
                component = %e.component,
                contract = %e.contract,
                version = %e.version,
                hard = e.hard,
                "registry changed"
            );
            // No receiver is not an error: nobody is watching.
            let _ = self.events.send(Arc::new(e));
        }
    }

    /// Deletes one version or (`version` None) all of a contract's.
    fn delete(
        &self,
        writer: &mut Writer,
        name: &ContractName,
        version: Option<&Version>,
        hard: bool,
    ) -> Result<Vec<Version>, Error> {
        let index = writer.head.clone();
        let entry = index
            .contract(name)
            .filter(|c| !c.versions.is_empty())
            .ok_or_else(|| Error::not_found(format!("contract {name}")))?;
        let targets: Vec<&StoredVersion> = match version {
            Some(v) => vec![find_exact(entry, name, v, hard)?],
            // A soft delete hides what is visible; a hard one erases everything.
            None => entry
                .versions
                .iter()
                .filter(|v| hard || v.record.is_visible())
                .collect(),
        };
        if targets.is_empty() {
            return Err(Error::NotFound {
                entity: format!("contract {name}"),
                hint: Some("every version is already soft-deleted".into()),
            });
        }
        let mut batch = Batch::default();
        let now = now_millis();
        let mut released: HashMap<&str, usize> = HashMap::new();
        for stored in &targets {
            let record = &stored.record;
            let mut deleted = event(EventKind::Deleted, Some(name), record.version.to_string());
            deleted.fingerprint = record.fingerprint.clone();
            deleted.hard = hard;
            batch.events.push(deleted);
            if hard {
                batch
                    .removed_versions
                    .push((name.clone(), record.version.clone()));
                *released.entry(record.fingerprint.as_str()).or_default() += 1;
            } else {
                let mut hidden = record.clone();
                hidden.deleted_at = Some(now);
                batch.versions.push(hidden);
            }
        }
        // Erase a schema text when no version uses it any more.
        for (fingerprint, count) in released {
            if writer.schemas.get(fingerprint).is_some_and(|s| s.refs <= count) {
                batch.removed_schemas.push(fingerprint.to_owned());
            }
        }
        if hard && version.is_none() && entry.config.is_some() {
            batch.configs.push((Some(name.clone()), None));
        }
        let versions = targets.iter().map(|v| v.record.version.clone()).collect();
        self.commit(writer, batch)?;
        Ok(versions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SledStore;

    fn registry(dir: &std::path::Path) -> Registry {
        Registry::open(Box::new(SledStore::open(dir).unwrap()), Limits::default()).unwrap()
    }

    fn input<'a>(schema: &'a str, version: &'a str) -> PublishInput<'a> {
        PublishInput {
            component: "orders",
            contract: "placed",
            schema,
            version,
        }
    }

    /// A sled store whose flushes wait until the test opens them, and
    /// that reports each wait.
    #[derive(Debug)]
    struct HeldFlushes {
        store: SledStore,
        open: Arc<(Mutex<bool>, std::sync::Condvar)>,
        waiting: Mutex<std::sync::mpsc::Sender<Ticket>>,
    }

    impl Store for HeldFlushes {
        fn load(&self) -> Result<crate::store::Contents, StoreError> {
            self.store.load()
        }
        fn apply(&self, batch: &Batch) -> Result<Ticket, StoreError> {
            self.store.apply(batch)
        }
        fn sync(&self, ticket: Ticket) -> Result<(), StoreError> {
            let _ = lock(&self.waiting).send(ticket);
            let (open, opened) = &*self.open;
            let mut open = lock(open);
            while !*open {
                open = opened.wait(open).unwrap();
            }
            drop(open);
            self.store.sync(ticket)
        }
        fn events_after(&self, after: u64, limit: usize) -> Result<Vec<Event>, StoreError> {
            self.store.events_after(after, limit)
        }
        fn is_empty(&self) -> Result<bool, StoreError> {
            self.store.is_empty()
        }
        fn flush(&self) -> Result<(), StoreError> {
            self.store.flush()
        }
    }

    #[tokio::test]
    async fn a_publish_is_neither_answered_nor_visible_before_its_flush() {
        let dir = tempfile::tempdir().unwrap();
        let open = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
        let (waiting, waits) = std::sync::mpsc::channel();
        let store = HeldFlushes {
            store: SledStore::open(dir.path()).unwrap(),
            open: open.clone(),
            waiting: Mutex::new(waiting),
        };
        let r = Registry::open(Box::new(store), Limits::default()).unwrap();
        let publish = |r: &Registry| {
            let r = r.clone();
            tokio::spawn(async move { r.publish(input(r#"{"type":"object"}"#, "1.0.0")).await })
        };
        let first = publish(&r);
        let (waits, ticket) = tokio::task::spawn_blocking(move || {
            let ticket = waits.recv().unwrap();
            (waits, ticket)
        })
        .await
        .unwrap();
        assert_eq!(ticket, 1);
        // Applied, not flushed: readers do not see it yet.
        assert!(matches!(
            r.get("orders", "placed", "1.0.0"),
            Err(Error::NotFound { .. })
        ));
        // The same publish again is decided against the applied version,
        // and its answer waits for that version's flush too.
        let second = publish(&r);
        let again = tokio::task::spawn_blocking(move || waits.recv().unwrap())
            .await
            .unwrap();
        assert_eq!(again, 1);
        assert!(!first.is_finished() && !second.is_finished());
        assert!(r.get("orders", "placed", "").is_err());

        *lock(&open.0) = true;
        open.1.notify_all();
        let first = first.await.unwrap().unwrap();
        let second = second.await.unwrap().unwrap();
        assert!(first.created);
        assert!(!second.created);
        assert_eq!(second.version.record.version, Version::new(1, 0, 0));
        assert_eq!(
            r.get("orders", "placed", "").unwrap().record.version,
            Version::new(1, 0, 0)
        );
        assert_eq!(r.inner.index.load().last_sequence, 1);
    }

    #[tokio::test]
    async fn a_restart_rebuilds_the_same_index() {
        let dir = tempfile::tempdir().unwrap();
        {
            let r = registry(dir.path());
            r.publish(input(r#"{"type":"object"}"#, "1.0.0")).await.unwrap();
            r.publish(input(r#"{"type":"object"}"#, "1.0.1")).await.unwrap();
            r.deprecate("orders", "placed", "1.0.0", "use 1.0.1")
                .await
                .unwrap();
            r.delete_version("orders", "placed", "1.0.1", false)
                .await
                .unwrap();
            r.set_config("", "", Some(Mode::Full), None, false).await.unwrap();
        }
        let r = registry(dir.path());
        let got = r.get("orders", "placed", "").unwrap();
        assert_eq!(got.record.version, Version::new(1, 0, 0));
        assert_eq!(
            got.record.deprecated.map(|d| d.message).as_deref(),
            Some("use 1.0.1")
        );
        assert!(matches!(
            r.get("orders", "placed", "1.0.1"),
            Err(Error::NotFound { .. })
        ));
        assert_eq!(r.get_config("", "").unwrap().config.mode, Mode::Full);
        assert_eq!(r.inner.index.load().last_sequence, 5);
        // The two versions share one schema text.
        assert_eq!(r.inner.writer.lock().unwrap().schemas.len(), 1);
    }

    #[tokio::test]
    async fn a_hard_delete_erases_unused_schema_texts_only() {
        let dir = tempfile::tempdir().unwrap();
        let r = registry(dir.path());
        r.publish(input(r#"{"type":"object"}"#, "1.0.0")).await.unwrap();
        r.publish(input(r#"{"type":"object"}"#, "1.0.1")).await.unwrap();
        r.publish(input(r#"{"type":"object","title":"t"}"#, "1.0.2"))
            .await
            .unwrap();
        r.delete_version("orders", "placed", "1.0.0", true).await.unwrap();
        assert_eq!(r.inner.writer.lock().unwrap().schemas.len(), 2);
        r.delete_version("orders", "placed", "1.0.2", true).await.unwrap();
        assert_eq!(r.inner.writer.lock().unwrap().schemas.len(), 1);
        drop(r);
        let r = registry(dir.path());
        assert_eq!(r.inner.writer.lock().unwrap().schemas.len(), 1);
        assert_eq!(
            r.get("orders", "placed", "").unwrap().record.version,
            Version::new(1, 0, 1)
        );
    }

    #[tokio::test]
    async fn a_watcher_that_falls_behind_the_live_feed_misses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let r = registry(dir.path());
        r.publish(input(r#"{"type":"object"}"#, "1.0.0")).await.unwrap();
        let mut events = r.watch(0, "").unwrap();
        assert_eq!(events.recv().await.unwrap().unwrap().sequence, 1);
        // Far more events than the live buffer and the stream channel hold,
        // while nobody reads.
        for patch in 1..=100 {
            let schema = format!(r#"{{"type":"object","title":"{patch}"}}"#);
            r.publish(input(&schema, &format!("1.0.{patch}"))).await.unwrap();
        }
        for expected in 2..=101u64 {
            let event = events.recv().await.unwrap().unwrap();
            assert_eq!(event.sequence, expected);
            assert_eq!(event.version, format!("1.0.{}", expected - 1));
        }
        // And it is live again afterwards.
        r.deprecate("orders", "placed", "1.0.0", "old").await.unwrap();
        let event = events.recv().await.unwrap().unwrap();
        assert_eq!((event.sequence, event.kind), (102, EventKind::Deprecated));
        r.shutdown();
        assert!(events.recv().await.is_none(), "the stream ends on shutdown");
    }

    #[tokio::test]
    async fn a_watcher_that_does_not_read_does_not_hold_up_a_shutdown() {
        let dir = tempfile::tempdir().unwrap();
        let r = registry(dir.path());
        for patch in 0..200 {
            let schema = format!(r#"{{"type":"object","title":"{patch}"}}"#);
            r.publish(input(&schema, &format!("1.0.{patch}"))).await.unwrap();
        }
        // Its replay alone is more than the stream buffers.
        let mut events = r.watch(0, "").unwrap();
        assert_eq!(events.recv().await.unwrap().unwrap().sequence, 1);
        r.shutdown();
        let mut received = 1;
        while let Some(event) = events.recv().await {
            event.unwrap();
            received += 1;
        }
        // The stream ended with what was already buffered, not after all 200.
        assert!(received < 200, "{received}");
    }

    #[test]
    fn selectors_resolve_to_visible_versions() {
        let stored = |v: &str| StoredVersion {
            record: VersionRecord {
                name: ContractName::new("a", "b").unwrap(),
                version: Version::parse(v).unwrap(),
                fingerprint: String::new(),
                created_at: 0,
                bump: None,
                deprecated: None,
                deleted_at: None,
            },
            schema: Arc::from("{}"),
        };
        let mut entry = ContractIndex::default();
        for v in ["1.2.0", "1.4.0", "1.4.3", "1.9.0", "2.0.0", "3.0.0-rc.1"] {
            entry.versions.push(stored(v));
        }
        let name = ContractName::new("a", "b").unwrap();
        let pick = |e: &ContractIndex, s: &str| resolve(e, &name, s).map(|v| v.record.version.to_string());
        assert_eq!(pick(&entry, "").unwrap(), "2.0.0");
        assert_eq!(pick(&entry, "^1.2").unwrap(), "1.9.0");
        assert_eq!(pick(&entry, "~1.4").unwrap(), "1.4.3");
        assert_eq!(pick(&entry, ">=1, <2").unwrap(), "1.9.0");
        assert_eq!(pick(&entry, "1.4.0").unwrap(), "1.4.0");
        assert_eq!(pick(&entry, ">=3.0.0-rc.0").unwrap(), "3.0.0-rc.1");
        assert!(matches!(
            resolve(&entry, &name, "^4"),
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            resolve(&entry, &name, "one"),
            Err(Error::InvalidArgument { .. })
        ));
        entry.versions[4].record.deleted_at = Some(1);
        assert_eq!(pick(&entry, "").unwrap(), "1.9.0");
        assert!(matches!(
            resolve(&entry, &name, "2.0.0"),
            Err(Error::NotFound { hint: Some(_), .. })
        ));
    }
}
