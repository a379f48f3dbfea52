//! Durable storage behind the [`Store`] trait. The two backends differ only
//! inside this module:
//!
//! - [`sled`]: one embedded database in a directory, for one process (the
//!   default: nothing to install).
//! - [`postgres`]: a PostgreSQL database shared by any number of registry
//!   replicas.
//!
//! The contract between the registry and a store:
//!
//! - [`Store::apply`] writes a [`Batch`] atomically, or nothing. It first
//!   checks the batch's expectations (the revision of each contract the
//!   change was decided on, see [`Batch::expect`]) and refuses with
//!   [`StoreError::Conflict`] when one moved; it numbers the batch's events
//!   with the next sequences, gap-free and in commit order, and writes the
//!   batch's audit records in the same transaction.
//! - A batch is durable once [`Store::sync`] on its ticket has returned.
//!   When it fails, every write it names in [`StoreError::NotDurable`] has
//!   been rolled back and must never be shown.
//! - [`Store::follow`] tells a replica what other replicas changed since a
//!   sequence (shared stores only); [`Store::changed`] wakes it up.
//! - [`Store::observe`] hands the store an [`Observer`] of how long its
//!   write steps take (for the metrics).

pub mod group;
pub mod postgres;
pub mod sled;

use std::{
    fmt,
    sync::{Arc, PoisonError, RwLock},
    time::{Duration, Instant},
};

use crate::model::{
    AuditRecord, CompatConfig, Consumption, ContractName, Event, Settings, VersionRecord, Waiver,
};

impl StoreError {
    /// The same error again, for each of the writes of a group it failed.
    pub fn duplicate(&self) -> StoreError {
        match self {
            StoreError::Engine(e) => StoreError::Engine(e.clone()),
            StoreError::Unavailable(e) => StoreError::Unavailable(e.clone()),
            StoreError::Conflict {
                contract,
                expected,
                found,
            } => StoreError::Conflict {
                contract: contract.clone(),
                expected: *expected,
                found: *found,
            },
            other => StoreError::Engine(other.to_string()),
        }
    }
}

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed (I/O, connection, lock held by another process).
    #[error("database error: {0}")]
    Engine(String),
    /// Another process holds the embedded store's directory.
    #[error("another accord-registry is using {0}: stop it, or give this one another --data-dir")]
    InUse(String),
    /// The database cannot be reached right now; writes wait for it.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The store was written by another store format.
    #[error(
        "the store holds store format {found}, this build reads store formats 1 to {expected}; use a matching build"
    )]
    FormatMismatch {
        /// The format found.
        found: u8,
        /// The newest format this build reads.
        expected: u8,
    },
    /// A stored value could not be read back, or the store's invariants do
    /// not hold.
    #[error("corrupt store: {tree} at {key}: {reason}")]
    Corrupt {
        /// The tree or table.
        tree: &'static str,
        /// The key, printable.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A contract (or the global settings, `None`) changed since the
    /// revision the batch was decided on.
    #[error("{} changed since the decision (revision {expected}, now {found})", describe(.contract.as_ref()))]
    Conflict {
        /// What changed.
        contract: Option<ContractName>,
        /// The revision the batch expected.
        expected: u64,
        /// The revision found.
        found: u64,
    },
    /// The disk of the store has too little free space for this write.
    #[error(
        "the registry's disk is nearly full: {free} bytes free, and writes need {needed} (--min-free-disk); free some space and retry"
    )]
    DiskFull {
        /// Bytes free.
        free: u64,
        /// Bytes a write of this kind needs free.
        needed: u64,
    },
    /// A flush failed: the writes with tickets in `rolled_back` (inclusive)
    /// were undone and must never be shown.
    #[error("the store could not make writes durable: {reason}")]
    NotDurable {
        /// What the disk or database said.
        reason: String,
        /// The first and last ticket undone.
        rolled_back: (Ticket, Ticket),
    },
}

fn describe(contract: Option<&ContractName>) -> String {
    match contract {
        Some(name) => format!("contract {name}"),
        None => "the global settings".into(),
    }
}

impl StoreError {
    /// A corruption report.
    pub fn corrupt(tree: &'static str, key: impl Into<String>, reason: impl Into<String>) -> Self {
        StoreError::Corrupt {
            tree,
            key: key.into(),
            reason: reason.into(),
        }
    }
}

/// The whole state of a store but its event log and audit log, read at
/// start-up to build the in-memory index.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Every version: soft-deleted and erased ones included.
    pub versions: Vec<VersionRecord>,
    /// Schema texts by fingerprint.
    pub schemas: Vec<(String, Arc<str>)>,
    /// The global settings, when they were ever set.
    pub global: Option<CompatConfig>,
    /// Settings of contracts that have their own.
    pub settings: Vec<(ContractName, Settings)>,
    /// Every registered consumption.
    pub consumers: Vec<Consumption>,
    /// Every waiver, expired and revoked ones included.
    pub waivers: Vec<Waiver>,
    /// The revision of each contract (`None`: the global settings): the
    /// sequence of the last event about it.
    pub revisions: Vec<(Option<ContractName>, u64)>,
    /// The sequence of the last event (0 when there is none).
    pub last_sequence: u64,
    /// Identifies this store's history: a store restored from a backup or
    /// created anew has another one, and resume points of watchers from
    /// before mean nothing there.
    pub epoch: String,
}

/// One atomic change.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    /// The revisions the change was decided on: applying fails with
    /// [`StoreError::Conflict`] when one of them moved. `None` is the
    /// global settings.
    pub expect: Vec<(Option<ContractName>, u64)>,
    /// Versions to write (insert or replace). Versions are never removed:
    /// a hard delete writes a tombstone.
    pub versions: Vec<VersionRecord>,
    /// Schema texts the batch's versions need, by fingerprint; written when
    /// absent.
    pub schemas: Vec<(String, Arc<str>)>,
    /// Fingerprints whose text may be erased: it is, when no version that
    /// is not erased uses it once the batch is applied (checked by the
    /// store, against every replica's writes).
    pub released_schemas: Vec<String>,
    /// Settings to write (`Some`) or erase (`None`); the key `None` is the
    /// global settings, which are always written whole.
    pub settings: Vec<(Option<ContractName>, Option<Settings>)>,
    /// Consumptions to write (`Some`) or remove (`None`), by the contract
    /// read and the consuming component.
    pub consumers: Vec<(ContractName, String, Option<Consumption>)>,
    /// Waivers to write (insert or replace); a waiver is never removed.
    pub waivers: Vec<Waiver>,
    /// Events to append; the store numbers them, and times those without a
    /// time (an import keeps the times it carries).
    pub events: Vec<Event>,
    /// Audit records committed with the change.
    pub audit: Vec<AuditRecord>,
    /// What the registry adds to the audit record of the write's own actor
    /// (a guard forced past and why, a waiver used); stores ignore it.
    pub note: String,
}

impl Batch {
    /// A batch that only records audit entries.
    pub fn audit_only(records: Vec<AuditRecord>) -> Self {
        Self {
            audit: records,
            ..Self::default()
        }
    }

    /// Whether the batch changes nothing the index holds.
    pub fn is_audit_only(&self) -> bool {
        self.versions.is_empty()
            && self.settings.is_empty()
            && self.consumers.is_empty()
            && self.waivers.is_empty()
            && self.events.is_empty()
    }
}

/// The number of a write in the order it was applied; [`Store::sync`] on it
/// returns once it is durable.
pub type Ticket = u64;

/// What [`Store::apply`] did.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// Wait on this with [`Store::sync`].
    pub ticket: Ticket,
    /// The batch's events, numbered and timed.
    pub events: Vec<Event>,
    /// The sequence of the store's last event once the batch is applied.
    pub last_sequence: u64,
    /// Fingerprints whose text the store erased.
    pub erased_schemas: Vec<String>,
}

/// The state of one contract as a shared store holds it now.
#[derive(Debug, Clone)]
pub struct ContractState {
    /// Which contract.
    pub name: ContractName,
    /// Its versions, oldest first: every one when `all_versions`, else
    /// those written since the sequence the changes were read after (the
    /// others are as the replica holds them).
    pub versions: Vec<VersionRecord>,
    /// Whether `versions` holds every version of the contract.
    pub all_versions: bool,
    /// Its own settings.
    pub settings: Option<Settings>,
    /// Its registered consumers.
    pub consumers: Vec<Consumption>,
    /// Its waivers, expired and revoked ones included.
    pub waivers: Vec<Waiver>,
    /// The sequence of the last event about it.
    pub revision: u64,
}

/// What other replicas changed after a sequence, read in one snapshot of a
/// shared store.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    /// The events after the sequence asked for, in order.
    pub events: Vec<Event>,
    /// The current state of every contract those events are about.
    pub contracts: Vec<ContractState>,
    /// The global settings and their revision, when an event is about them.
    pub global: Option<(CompatConfig, u64)>,
    /// Schema texts of the versions in `contracts` (those not erased).
    pub schemas: Vec<(String, Arc<str>)>,
    /// The last sequence the changes cover.
    pub last_sequence: u64,
    /// The store's last sequence when the changes were read: beyond
    /// `last_sequence` while a replica catches up in several reads.
    pub head: u64,
}

/// Receives the time of a store's write steps: `(store, step, took)`, e.g.
/// `("sled", "flush", …)` or `("postgres", "commit", …)`.
pub type Observer = Arc<dyn Fn(&'static str, &'static str, Duration) + Send + Sync>;

/// The observer a store reports to, if any (the last one given wins).
#[derive(Default)]
pub(crate) struct Timings(RwLock<Option<Observer>>);

impl fmt::Debug for Timings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Timings")
    }
}

impl Timings {
    pub(crate) fn set(&self, observer: Observer) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Some(observer);
    }

    /// Runs `step` and reports how long it took.
    pub(crate) fn time<T>(&self, store: &'static str, step: &'static str, run: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let result = run();
        self.report(store, step, started.elapsed());
        result
    }

    pub(crate) fn report(&self, store: &'static str, step: &'static str, took: Duration) {
        if let Some(observer) = &*self.0.read().unwrap_or_else(PoisonError::into_inner) {
            observer(store, step, took);
        }
    }
}

/// A place in a store-wide queue of writers, given back when dropped.
pub struct QueueGuard(pub Box<dyn Send + Sync>);

impl fmt::Debug for QueueGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueGuard")
    }
}

/// Where a page of the audit log ends, to continue after it. Opaque to the
/// caller; each store writes its own.
pub type AuditCursor = Vec<u8>;

/// Durable storage of the registry.
#[async_trait::async_trait]
pub trait Store: Send + Sync + fmt::Debug + 'static {
    /// What the store is, for logs (never credentials).
    fn describe(&self) -> String;

    /// Reads everything but the event and audit logs, checking the store's
    /// invariants on the way.
    async fn load(&self) -> Result<Snapshot, StoreError>;

    /// Applies `batch` atomically, or refuses it whole (see the module docs).
    async fn apply(&self, batch: Batch) -> Result<Applied, StoreError>;

    /// Returns once the write `ticket` is durable.
    async fn sync(&self, ticket: Ticket) -> Result<(), StoreError>;

    /// Makes every write so far durable.
    async fn flush(&self) -> Result<(), StoreError>;

    /// Up to `limit` events with a sequence greater than `after`, in order.
    async fn events_after(&self, after: u64, limit: usize) -> Result<Vec<Event>, StoreError>;

    /// What changed after `after`, when other processes write to this store
    /// too; `None` for a store only this process writes.
    async fn follow(&self, after: u64) -> Result<Option<Changes>, StoreError> {
        let _ = after;
        Ok(None)
    }

    /// True when the store knows, without asking its database, that
    /// nothing was written after `after` (every write since it started
    /// listening was announced, none beyond). A follower then skips a round.
    async fn nothing_new_after(&self, after: u64) -> bool {
        let _ = after;
        false
    }

    /// Completes when another process may have changed the store (a
    /// notification), or never for a store only this process writes.
    async fn changed(&self) {
        std::future::pending::<()>().await;
    }

    /// Queues behind the other writers of `name` (`None`: the global
    /// settings) in every process sharing the store, until the guard is
    /// dropped; for a write that keeps losing to others. `None` for a store
    /// only this process writes (the registry queues its own writers).
    async fn queue(&self, name: Option<&ContractName>) -> Result<Option<QueueGuard>, StoreError> {
        let _ = name;
        Ok(None)
    }

    /// Up to `limit` audit records at or after `since_micros`, after
    /// `cursor` when continuing a page, oldest first, each with its cursor.
    async fn audit_page(
        &self,
        since_micros: u64,
        cursor: Option<AuditCursor>,
        limit: usize,
    ) -> Result<Vec<(AuditCursor, AuditRecord)>, StoreError>;

    /// Removes audit records older than `before_micros`, then the oldest
    /// beyond the newest `keep`; returns how many went.
    async fn prune_audit(&self, before_micros: u64, keep: u64) -> Result<u64, StoreError>;

    /// Whether the store can take writes now; the reason when it cannot
    /// (a disk nearly full, a database away).
    async fn writable(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Whether the store holds nothing at all.
    async fn is_empty(&self) -> Result<bool, StoreError>;

    /// Reports the time of each write step to `observer` from now on.
    fn observe(&self, observer: Observer) {
        let _ = observer;
    }
}
