//! The in-memory index every read is served from: an immutable snapshot of
//! the store, replaced whole after each change. [`Index::apply`] (a batch
//! this process wrote) and [`Index::apply_changes`] (what other replicas
//! wrote) are pure: they return the next snapshot, sharing with the current
//! one every component, contract and schema text they did not change.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, OnceLock},
};

use semver::Version;

use crate::{
    error::Error,
    model::{
        CompatConfig, Consumption, ContractName, Settings, StoredVersion, VersionRecord, VersionSelector,
        Waiver,
    },
    store::{Applied, Batch, Changes, Snapshot, StoreError},
};

/// A registered consumption, with its reader schema parsed once, on first
/// use, and shared by every snapshot that holds the same registration.
#[derive(Debug, Clone)]
pub struct ConsumerEntry {
    /// The registration.
    pub record: Consumption,
    reader: Arc<OnceLock<Result<Arc<accord_compat::Schema>, String>>>,
}

impl ConsumerEntry {
    /// An entry for `record`.
    pub fn new(record: Consumption) -> Self {
        Self {
            record,
            reader: Arc::default(),
        }
    }

    /// The parsed reader schema, if the consumer registered one. It passed
    /// the limits in force when it was registered, so it is read without
    /// any, in the draft recorded with it (`default_draft` for none).
    pub fn reader(
        &self,
        default_draft: accord_compat::Draft,
    ) -> Option<Result<Arc<accord_compat::Schema>, Error>> {
        let reader = self.record.reader.as_ref()?;
        let parsed = self.reader.get_or_init(|| {
            let limits = accord_compat::Limits {
                max_bytes: usize::MAX,
                max_depth: usize::MAX,
                max_ref_hops: usize::MAX,
                default_draft: reader.draft.unwrap_or(default_draft),
            };
            accord_compat::Schema::parse_with(&reader.text, &limits)
                .map(Arc::new)
                .map_err(|e| e.to_string())
        });
        Some(parsed.clone().map_err(|e| Error::FailedPrecondition {
            entity: format!(
                "reader schema of consumer {} of {}",
                self.record.consumer, self.record.contract
            ),
            reason: format!("it no longer parses ({e}); register it again"),
        }))
    }
}

/// One contract: its versions (oldest first, soft-deleted and erased ones
/// included), its own settings, its consumers and waivers, and its revision.
#[derive(Debug, Clone, Default)]
pub struct ContractIndex {
    /// Oldest first.
    pub versions: Vec<StoredVersion>,
    /// Its own settings, if any.
    pub settings: Option<Settings>,
    /// Its registered consumers, by consumer name.
    pub consumers: Vec<ConsumerEntry>,
    /// Its waivers (expired and revoked ones included), oldest first.
    pub waivers: Vec<Waiver>,
    /// The sequence of the last event about it (0: none yet).
    pub revision: u64,
}

impl ContractIndex {
    /// Versions that reads may see, oldest first.
    pub fn visible(&self) -> impl DoubleEndedIterator<Item = &StoredVersion> {
        self.versions.iter().filter(|v| v.record.is_visible())
    }

    /// Whether any version is visible.
    pub fn is_visible(&self) -> bool {
        self.visible().next().is_some()
    }

    /// The latest release, or the latest pre-release when there is none.
    pub fn latest(&self) -> Option<&StoredVersion> {
        self.visible()
            .rev()
            .find(|v| v.record.version.pre.is_empty())
            .or_else(|| self.visible().next_back())
    }

    /// The stored version with this number, whatever its state.
    pub fn find(&self, version: &Version) -> Option<&StoredVersion> {
        self.versions
            .binary_search_by(|v| v.record.version.cmp(version))
            .ok()
            .map(|at| &self.versions[at])
    }

    /// The registration of `consumer`, if any.
    pub fn consumer(&self, consumer: &str) -> Option<&ConsumerEntry> {
        self.consumers
            .binary_search_by(|c| c.record.consumer.as_str().cmp(consumer))
            .ok()
            .map(|at| &self.consumers[at])
    }

    /// Writes or removes the registration of `consumer`.
    fn set_consumer(&mut self, consumer: &str, record: Option<&Consumption>) {
        let at = self
            .consumers
            .binary_search_by(|c| c.record.consumer.as_str().cmp(consumer));
        match (at, record) {
            (Ok(i), Some(r)) => self.consumers[i] = ConsumerEntry::new(r.clone()),
            (Err(i), Some(r)) => self.consumers.insert(i, ConsumerEntry::new(r.clone())),
            (Ok(i), None) => {
                self.consumers.remove(i);
            }
            (Err(_), None) => {}
        }
    }

    /// Writes a waiver (new, or a new state of one held).
    fn set_waiver(&mut self, waiver: &Waiver) {
        match self.waivers.iter_mut().find(|w| w.id == waiver.id) {
            Some(held) => *held = waiver.clone(),
            None => {
                self.waivers.push(waiver.clone());
                self.waivers
                    .sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
            }
        }
    }

    /// A schema text already held for `fingerprint`, to share it.
    fn text_of(&self, fingerprint: &str) -> Option<Arc<str>> {
        self.versions
            .iter()
            .find(|v| v.record.fingerprint == fingerprint && v.record.erased.is_none())
            .map(|v| v.schema.clone())
    }
}

/// The contracts of one component, by name.
#[derive(Debug, Clone, Default)]
pub struct ComponentIndex {
    /// By contract name.
    pub contracts: BTreeMap<String, Arc<ContractIndex>>,
}

/// The in-memory snapshot every read is served from.
#[derive(Debug, Clone, Default)]
pub struct Index {
    /// By component name.
    pub components: BTreeMap<String, Arc<ComponentIndex>>,
    /// The global settings.
    pub global: CompatConfig,
    /// The sequence of the last event about the global settings.
    pub global_revision: u64,
    /// The sequence of the last event the snapshot includes.
    pub last_sequence: u64,
    /// The store's history id.
    pub epoch: Arc<str>,
}

/// The settings in force for a contract (or globally), and which of them
/// come from the global settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigView {
    /// The settings in force.
    pub config: CompatConfig,
    /// True when the contract has no settings of its own.
    pub inherited: bool,
    /// True when the mode is the global one.
    pub mode_inherited: bool,
    /// True when the policy is the global one.
    pub policy_inherited: bool,
    /// True when what a consumer's break does is the global setting.
    pub consumer_breaks_inherited: bool,
}

impl ConfigView {
    /// The view of the global settings: nothing is inherited.
    pub fn global(config: CompatConfig) -> Self {
        Self {
            config,
            inherited: false,
            mode_inherited: false,
            policy_inherited: false,
            consumer_breaks_inherited: false,
        }
    }
}

impl Index {
    /// Builds the index from a store's snapshot.
    pub fn from_snapshot(snapshot: Snapshot) -> Result<Self, StoreError> {
        let texts: HashMap<String, Arc<str>> = snapshot.schemas.into_iter().collect();
        let mut index = Index {
            global: snapshot.global.unwrap_or_default(),
            last_sequence: snapshot.last_sequence,
            epoch: Arc::from(snapshot.epoch),
            ..Index::default()
        };
        for (name, settings) in snapshot.settings {
            index.contract_mut(&name).settings = Some(settings);
        }
        for (name, revision) in snapshot.revisions {
            match name {
                None => index.global_revision = revision,
                Some(name) => index.contract_mut(&name).revision = revision,
            }
        }
        for consumption in snapshot.consumers {
            let name = consumption.contract.clone();
            let consumer = consumption.consumer.clone();
            index
                .contract_mut(&name)
                .set_consumer(&consumer, Some(&consumption));
        }
        for waiver in snapshot.waivers {
            let name = waiver.contract.clone();
            index.contract_mut(&name).set_waiver(&waiver);
        }
        for record in snapshot.versions {
            let schema = if record.erased.is_some() {
                Arc::from("")
            } else {
                texts.get(&record.fingerprint).cloned().ok_or_else(|| {
                    StoreError::corrupt(
                        "versions",
                        format!("{}@{}", record.name, record.version),
                        format!("its schema {} is missing", record.fingerprint),
                    )
                })?
            };
            let name = record.name.clone();
            index.contract_mut(&name).versions.push(StoredVersion {
                record: Arc::new(record),
                schema,
            });
        }
        for component in index.components.values_mut() {
            for contract in Arc::make_mut(component).contracts.values_mut() {
                Arc::make_mut(contract)
                    .versions
                    .sort_by(|a, b| a.record.version.cmp(&b.record.version));
            }
        }
        Ok(index)
    }

    /// The contract, if the registry has ever held it.
    pub fn contract(&self, name: &ContractName) -> Option<&ContractIndex> {
        self.components
            .get(name.component())
            .and_then(|c| c.contracts.get(name.contract()))
            .map(|c| c.as_ref())
    }

    fn contract_mut(&mut self, name: &ContractName) -> &mut ContractIndex {
        let component = Arc::make_mut(self.components.entry(name.component().to_owned()).or_default());
        Arc::make_mut(component.contracts.entry(name.contract().to_owned()).or_default())
    }

    /// The revision of a contract (`None`: the global settings).
    pub fn revision(&self, name: Option<&ContractName>) -> u64 {
        match name {
            None => self.global_revision,
            Some(name) => self.contract(name).map_or(0, |c| c.revision),
        }
    }

    /// The settings in force for a contract.
    pub fn config_for(&self, name: &ContractName) -> ConfigView {
        let own = self.contract(name).and_then(|c| c.settings);
        let settings = own.unwrap_or_default();
        ConfigView {
            config: settings.over(self.global),
            inherited: own.is_none(),
            mode_inherited: settings.mode.is_none(),
            policy_inherited: settings.policy.is_none(),
            consumer_breaks_inherited: settings.consumer_breaks.is_none(),
        }
    }

    /// How many versions the index holds, soft-deleted and erased ones included.
    pub fn version_count(&self) -> usize {
        self.components
            .values()
            .flat_map(|c| c.contracts.values())
            .map(|c| c.versions.len())
            .sum()
    }

    /// The next snapshot: this one with `batch` applied as the store
    /// applied it (`applied`: its numbered events and the schema texts it
    /// erased).
    pub fn apply(&self, batch: &Batch, applied: &Applied) -> Index {
        let mut next = self.clone();
        let texts: HashMap<&str, &Arc<str>> = batch.schemas.iter().map(|(f, t)| (f.as_str(), t)).collect();
        for record in &batch.versions {
            next.upsert(record.clone(), |contract| {
                texts
                    .get(record.fingerprint.as_str())
                    .map(|t| (*t).clone())
                    .or_else(|| contract.text_of(&record.fingerprint))
            });
        }
        for (name, settings) in &batch.settings {
            match name {
                None => next.global = settings.unwrap_or_default().over(CompatConfig::default()),
                Some(name) => next.contract_mut(name).settings = *settings,
            }
        }
        for (name, consumer, record) in &batch.consumers {
            next.contract_mut(name).set_consumer(consumer, record.as_ref());
        }
        for waiver in &batch.waivers {
            next.contract_mut(&waiver.contract).set_waiver(waiver);
        }
        for event in &applied.events {
            match event.contract_name() {
                None => next.global_revision = event.sequence,
                Some(name) => next.contract_mut(&name).revision = event.sequence,
            }
        }
        next.last_sequence = next.last_sequence.max(applied.last_sequence);
        next
    }

    /// Writes one version record, keeping the schema text it already has
    /// (a record update) or taking it from `text` (a new version).
    fn upsert(&mut self, record: VersionRecord, text: impl FnOnce(&ContractIndex) -> Option<Arc<str>>) {
        let name = record.name.clone();
        let entry = self.contract_mut(&name);
        let at = entry
            .versions
            .binary_search_by(|v| v.record.version.cmp(&record.version));
        let schema = if record.erased.is_some() {
            Arc::from("")
        } else {
            match at {
                Ok(i) if entry.versions[i].record.erased.is_none() => entry.versions[i].schema.clone(),
                _ => text(entry).unwrap_or_else(|| {
                    tracing::error!(version = %format!("{}@{}", record.name, record.version), "a version arrived without its schema text");
                    Arc::from("")
                }),
            }
        };
        let stored = StoredVersion {
            record: Arc::new(record),
            schema,
        };
        match at {
            Ok(i) => entry.versions[i] = stored,
            Err(i) => entry.versions.insert(i, stored),
        }
    }

    /// The next snapshot: this one with what other replicas changed.
    pub fn apply_changes(&self, changes: &Changes) -> Index {
        let mut next = self.clone();
        let texts: HashMap<&str, &Arc<str>> = changes.schemas.iter().map(|(f, t)| (f.as_str(), t)).collect();
        for state in &changes.contracts {
            let held = ContractIndex::default();
            let old = self.contract(&state.name).unwrap_or(&held);
            // Versions are never removed (a hard delete leaves a
            // tombstone): those not read are kept as they are, and those
            // read take their places in order (they are few: a copy of
            // the list and a search for each, not a pass over the list
            // for each).
            let mut versions: Vec<StoredVersion> = if state.all_versions {
                Vec::with_capacity(state.versions.len())
            } else {
                old.versions.clone()
            };
            for record in &state.versions {
                let schema = if record.erased.is_some() {
                    Arc::from("")
                } else {
                    old.find(&record.version)
                        .filter(|v| v.record.fingerprint == record.fingerprint && v.record.erased.is_none())
                        .map(|v| v.schema.clone())
                        .or_else(|| texts.get(record.fingerprint.as_str()).map(|t| (*t).clone()))
                        .unwrap_or_else(|| {
                            tracing::error!(version = %format!("{}@{}", record.name, record.version), "a replicated version arrived without its schema text");
                            Arc::from("")
                        })
                };
                let stored = StoredVersion {
                    record: Arc::new(record.clone()),
                    schema,
                };
                match versions.binary_search_by(|v| v.record.version.cmp(&record.version)) {
                    Ok(at) => versions[at] = stored,
                    Err(at) => versions.insert(at, stored),
                }
            }
            // A registration that did not change keeps its parsed reader.
            let mut consumers: Vec<ConsumerEntry> = state
                .consumers
                .iter()
                .map(|record| match old.consumer(&record.consumer) {
                    Some(held) if held.record == *record => held.clone(),
                    _ => ConsumerEntry::new(record.clone()),
                })
                .collect();
            consumers.sort_by(|a, b| a.record.consumer.cmp(&b.record.consumer));
            let mut waivers = state.waivers.clone();
            waivers.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
            let entry = next.contract_mut(&state.name);
            entry.versions = versions;
            entry.settings = state.settings;
            entry.consumers = consumers;
            entry.waivers = waivers;
            entry.revision = state.revision;
        }
        if let Some((global, revision)) = changes.global {
            next.global = global;
            next.global_revision = revision;
        }
        next.last_sequence = next.last_sequence.max(changes.last_sequence);
        next
    }
}

/// The version `selector` names among the visible versions of `contract`.
pub fn resolve<'a>(
    contract: &'a ContractIndex,
    name: &ContractName,
    selector: &VersionSelector,
) -> Result<&'a StoredVersion, Error> {
    match selector {
        VersionSelector::Latest => contract
            .visible()
            .rev()
            .find(|v| v.record.version.pre.is_empty())
            .ok_or_else(|| Error::NotFound {
                entity: format!("release of contract {name}"),
                hint: Some("it has only pre-releases: ask for one by its exact version".into()),
            }),
        VersionSelector::Exact(version) => find_exact(contract, name, version, false),
        VersionSelector::Requirement(req) => contract
            .visible()
            .rev()
            .find(|v| req.matches(&v.record.version))
            .ok_or_else(|| Error::not_found(format!("version of contract {name} matching {req}"))),
    }
}

/// One version by its number; soft-deleted ones only when asked for.
pub fn find_exact<'a>(
    contract: &'a ContractIndex,
    name: &ContractName,
    version: &Version,
    include_deleted: bool,
) -> Result<&'a StoredVersion, Error> {
    match contract.find(version) {
        Some(v) if v.record.erased.is_some() => Err(Error::NotFound {
            entity: format!("version {name}@{version}"),
            hint: Some("it was hard-deleted: its schema is erased and its number is never reused".into()),
        }),
        Some(v) if include_deleted || v.record.is_visible() => Ok(v),
        Some(_) => Err(Error::NotFound {
            entity: format!("version {name}@{version}"),
            hint: Some("it is soft-deleted; RestoreContract brings it back".into()),
        }),
        None => Err(Error::not_found(format!("version {name}@{version}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Event, EventKind, Tombstone};

    fn name() -> ContractName {
        ContractName::new("a", "b").unwrap()
    }

    fn record(v: &str, fp: &str) -> VersionRecord {
        VersionRecord {
            name: name(),
            version: Version::parse(v).unwrap(),
            fingerprint: fp.into(),
            created_at: 0,
            bump: None,
            deprecated: None,
            deleted_at: None,
            draft: None,
            published_by: String::new(),
            erased: None,
        }
    }

    fn publish(index: &Index, v: &str, fp: &str, text: &str) -> Index {
        let batch = Batch {
            versions: vec![record(v, fp)],
            schemas: vec![(fp.into(), Arc::from(text))],
            events: vec![Event::new(EventKind::Published, Some(&name()), v.into())],
            ..Batch::default()
        };
        let mut event = batch.events[0].clone();
        event.sequence = index.last_sequence + 1;
        let applied = Applied {
            ticket: 1,
            events: vec![event],
            last_sequence: index.last_sequence + 1,
            erased_schemas: vec![],
        };
        index.apply(&batch, &applied)
    }

    #[test]
    fn apply_is_pure_and_moves_the_revision() {
        let empty = Index::default();
        let one = publish(&empty, "1.0.0", "f1", "{}");
        assert!(empty.contract(&name()).is_none(), "the old snapshot is unchanged");
        let two = publish(&one, "1.1.0", "f2", r#"{"type":"object"}"#);
        assert_eq!(one.contract(&name()).unwrap().versions.len(), 1);
        let contract = two.contract(&name()).unwrap();
        assert_eq!(contract.versions.len(), 2);
        assert_eq!(contract.revision, 2);
        assert_eq!(two.last_sequence, 2);
        assert_eq!(&*contract.versions[1].schema, r#"{"type":"object"}"#);
    }

    #[test]
    fn an_erased_version_keeps_its_number_and_loses_its_text() {
        let index = publish(&Index::default(), "1.0.0", "f1", "{}");
        let mut erased = record("1.0.0", "f1");
        erased.erased = Some(Tombstone {
            at: 1,
            by: "ops".into(),
        });
        let next = index.apply(
            &Batch {
                versions: vec![erased],
                ..Batch::default()
            },
            &Applied::default(),
        );
        let contract = next.contract(&name()).unwrap();
        assert_eq!(contract.versions.len(), 1);
        assert!(!contract.is_visible());
        assert_eq!(&*contract.versions[0].schema, "");
        let err = find_exact(contract, &name(), &Version::new(1, 0, 0), true).unwrap_err();
        assert!(err.to_string().contains("never reused"), "{err}");
    }

    #[test]
    fn selectors_resolve_to_visible_versions() {
        let mut index = Index::default();
        for v in ["1.2.0", "1.4.0", "1.4.3", "1.9.0", "2.0.0", "3.0.0-rc.1"] {
            index = publish(&index, v, v, "{}");
        }
        let entry = index.contract(&name()).unwrap().clone();
        let pick = |e: &ContractIndex, s: &str| {
            resolve(e, &name(), &VersionSelector::from_wire(s).unwrap()).map(|v| v.record.version.to_string())
        };
        assert_eq!(pick(&entry, "").unwrap(), "2.0.0");
        assert_eq!(pick(&entry, "^1.2").unwrap(), "1.9.0");
        assert_eq!(pick(&entry, "~1.4").unwrap(), "1.4.3");
        assert_eq!(pick(&entry, ">=1, <2").unwrap(), "1.9.0");
        assert_eq!(pick(&entry, "1.4.0").unwrap(), "1.4.0");
        assert_eq!(pick(&entry, ">=3.0.0-rc.0").unwrap(), "3.0.0-rc.1");
        assert!(matches!(pick(&entry, "^4"), Err(Error::NotFound { .. })));
        let mut entry = entry;
        Arc::make_mut(&mut entry.versions[4].record).deleted_at = Some(1);
        assert_eq!(pick(&entry, "").unwrap(), "1.9.0");
        assert!(matches!(
            pick(&entry, "2.0.0"),
            Err(Error::NotFound { hint: Some(_), .. })
        ));
    }

    #[test]
    fn contract_settings_inherit_field_by_field() {
        let mut index = Index {
            global: CompatConfig {
                mode: accord_compat::Mode::Full,
                policy: accord_compat::Policy::Lenient,
                ..CompatConfig::default()
            },
            ..Index::default()
        };
        index.contract_mut(&name()).settings = Some(Settings {
            mode: Some(accord_compat::Mode::None),
            policy: None,
            consumer_breaks: None,
        });
        let view = index.config_for(&name());
        assert_eq!(view.config.mode, accord_compat::Mode::None);
        assert_eq!(view.config.policy, accord_compat::Policy::Lenient);
        assert!(!view.inherited && !view.mode_inherited && view.policy_inherited);
    }
}
