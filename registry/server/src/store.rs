//! Durable storage behind the [`Store`] trait, and its sled implementation
//! ([`SledStore`]), the only code that touches sled.
//!
//! Layout of the sled database (one per data directory):
//! - `meta`: `format` → the store format version (checked at open).
//! - `versions`: `component \0 contract \0 version` → [`VersionRecord`].
//! - `schemas`: fingerprint → schema text, stored once per fingerprint.
//! - `configs`: empty key (global) or `component \0 contract` → [`CompatConfig`].
//! - `events`: big-endian sequence → [`Event`].
//! - `audit`: big-endian time in µs, then a big-endian unique id →
//!   [`AuditRecord`] ([`AuditLog`]; not part of exports).
//!
//! Every value starts with the format-version byte, then JSON (or UTF-8 text
//! for schemas), so a future format can be told apart value by value.
//!
//! Durability is by group commit ([`Durability`]): a write (a transaction or
//! an audit append) is applied and numbered, and its caller then waits until
//! a flush that started after it has completed. Writers that arrive while a
//! flush runs share the next one, so one `fsync` serves many writes.

use std::{
    fmt,
    path::Path,
    sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError},
};

use serde::{Serialize, de::DeserializeOwned};
use sled::{
    Transactional,
    transaction::{ConflictableTransactionError, TransactionError},
};

use crate::{
    auth::audit::AuditRecord,
    model::{CompatConfig, ContractName, Event, VersionRecord},
};

/// The format this code reads and writes.
pub const FORMAT_VERSION: u8 = 1;

const FORMAT_KEY: &[u8] = b"format";

/// sled's page cache; small, since reads do not go to the store.
const SLED_CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database engine failed (I/O, corruption, lock held by another process).
    #[error("database error: {0}")]
    Engine(String),
    /// The data directory was written by another store format.
    #[error(
        "the data directory holds store format {found}, this build reads format {expected}; export it with the matching build and import it here"
    )]
    FormatMismatch {
        /// The format on disk.
        found: u8,
        /// The format of this build.
        expected: u8,
    },
    /// A stored value could not be read back.
    #[error("unreadable value in {tree} at {key}: {reason}")]
    Corrupt {
        /// The tree.
        tree: &'static str,
        /// The key, printable.
        key: String,
        /// What is wrong.
        reason: String,
    },
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Engine(e.to_string())
    }
}

/// Everything a store holds except the event log, read at start-up to build
/// the in-memory index.
#[derive(Debug, Default)]
pub struct Contents {
    /// Every version, soft-deleted ones included.
    pub versions: Vec<VersionRecord>,
    /// Schema texts by fingerprint.
    pub schemas: Vec<(String, Arc<str>)>,
    /// Settings: `None` is the global one.
    pub configs: Vec<(Option<ContractName>, CompatConfig)>,
    /// The sequence of the last event (0 when there is none).
    pub last_sequence: u64,
}

/// One atomic, durable change.
#[derive(Debug, Default)]
pub struct Batch {
    /// Versions to write (insert or replace).
    pub versions: Vec<VersionRecord>,
    /// Versions to erase.
    pub removed_versions: Vec<(ContractName, semver::Version)>,
    /// Schema texts to write, by fingerprint.
    pub schemas: Vec<(String, Arc<str>)>,
    /// Schema texts to erase.
    pub removed_schemas: Vec<String>,
    /// Settings to write (`Some`) or erase (`None`); the key `None` is global.
    pub configs: Vec<(Option<ContractName>, Option<CompatConfig>)>,
    /// Events to append.
    pub events: Vec<Event>,
}

/// The number of a write in the order it was applied; [`Store::sync`] on it
/// returns once it is on disk.
pub type Ticket = u64;

/// Durable storage of the registry. [`Store::apply`] is atomic; a batch is
/// durable once [`Store::sync`] on its ticket has returned.
pub trait Store: Send + Sync + fmt::Debug + 'static {
    /// Reads everything but the event log.
    fn load(&self) -> Result<Contents, StoreError>;
    /// Applies `batch` atomically; it is durable after [`Store::sync`] on
    /// the ticket returned, not before.
    fn apply(&self, batch: &Batch) -> Result<Ticket, StoreError>;
    /// Returns once a flush that started after the write `ticket` was
    /// applied has completed (at once when one already has).
    fn sync(&self, ticket: Ticket) -> Result<(), StoreError>;
    /// Applies `batch` atomically and durably.
    fn commit(&self, batch: &Batch) -> Result<(), StoreError> {
        let ticket = self.apply(batch)?;
        self.sync(ticket)
    }
    /// Up to `limit` events with a sequence greater than `after`, in order.
    fn events_after(&self, after: u64, limit: usize) -> Result<Vec<Event>, StoreError>;
    /// Whether the store holds nothing at all.
    fn is_empty(&self) -> Result<bool, StoreError>;
    /// Makes every write so far durable.
    fn flush(&self) -> Result<(), StoreError>;
}

/// The sled implementation of [`Store`].
#[derive(Debug)]
pub struct SledStore {
    db: sled::Db,
    meta: sled::Tree,
    versions: sled::Tree,
    schemas: sled::Tree,
    configs: sled::Tree,
    events: sled::Tree,
    /// Shared with the audit log: its writes and flushes take the same turns.
    durability: Arc<Durability>,
}

/// Locks a mutex even when a thread panicked holding it: every state it
/// guards is updated in single steps that a panic cannot leave half done.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How many writes may go ahead of a flush that is waiting for its turn, so
/// that a steady stream of writes cannot hold durability back for ever.
const WRITES_BEFORE_FLUSH: usize = 256;

/// Group commit over one sled database.
///
/// Every transaction, audit insert and flush of the database takes a turn
/// (`turn`): sled 0.34 deadlocks when a transaction runs while another
/// thread flushes (seen under 16 concurrent publishers: the transaction
/// waits for the flushing threads' shared lock, and they for a buffer the
/// blocked writer holds); one at a time, it cannot. Writes waiting for a
/// turn go before a flush that waits (up to [`WRITES_BEFORE_FLUSH`] of
/// them), so that the flush covers them all. One flusher at a time (the
/// first waiter that finds none running) flushes for everyone; the others
/// wait on `flushed`.
#[derive(Debug, Default)]
pub struct Durability {
    turn: Mutex<Turns>,
    turn_free: Condvar,
    flush: Mutex<Flushes>,
    flushed: Condvar,
}

#[derive(Debug, Default)]
struct Turns {
    busy: bool,
    writes_waiting: usize,
    flush_waiting: bool,
    /// Writes that went ahead of the flush now waiting.
    passed: usize,
}

#[derive(Debug, Default)]
struct Flushes {
    /// The ticket of the last write applied.
    applied: Ticket,
    /// Every write up to this ticket is on disk.
    durable: Ticket,
    running: bool,
}

/// A turn on the database, given back when dropped.
struct Turn<'a>(&'a Durability);

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        lock(&self.0.turn).busy = false;
        self.0.turn_free.notify_all();
    }
}

impl Durability {
    fn write_turn(&self) -> Turn<'_> {
        let mut turns = lock(&self.turn);
        turns.writes_waiting += 1;
        while turns.busy || (turns.flush_waiting && turns.passed >= WRITES_BEFORE_FLUSH) {
            turns = self.turn_free.wait(turns).unwrap_or_else(PoisonError::into_inner);
        }
        turns.writes_waiting -= 1;
        if turns.flush_waiting {
            turns.passed += 1;
        }
        turns.busy = true;
        Turn(self)
    }

    fn flush_turn(&self) -> Turn<'_> {
        let mut turns = lock(&self.turn);
        turns.flush_waiting = true;
        turns.passed = 0;
        while turns.busy || (turns.writes_waiting > 0 && turns.passed < WRITES_BEFORE_FLUSH) {
            turns = self.turn_free.wait(turns).unwrap_or_else(PoisonError::into_inner);
        }
        turns.flush_waiting = false;
        turns.busy = true;
        Turn(self)
    }

    /// Runs `write` in a turn and numbers it.
    fn write<T>(&self, write: impl FnOnce() -> Result<T, StoreError>) -> Result<(T, Ticket), StoreError> {
        let _turn = self.write_turn();
        let out = write()?;
        // Numbered inside the turn, so tickets follow the order of writes
        // and a flush (which has the turn) covers every ticket it reads.
        let mut flushes = lock(&self.flush);
        flushes.applied += 1;
        Ok((out, flushes.applied))
    }

    /// Returns once every write up to `ticket` is on disk, flushing
    /// `db` when no flush that covers it is running.
    fn sync(&self, db: &sled::Db, ticket: Ticket) -> Result<(), StoreError> {
        let mut flushes = lock(&self.flush);
        loop {
            if flushes.durable >= ticket {
                return Ok(());
            }
            if !flushes.running {
                flushes.running = true;
                drop(flushes);
                let outcome = {
                    let _turn = self.flush_turn();
                    // No write runs during the turn: this flush covers
                    // every ticket up to `target`.
                    let target = lock(&self.flush).applied;
                    db.flush().map(|_| target)
                };
                flushes = lock(&self.flush);
                flushes.running = false;
                if let Ok(target) = outcome {
                    flushes.durable = flushes.durable.max(target);
                }
                self.flushed.notify_all();
                // A failed flush is this caller's error; the others try
                // again themselves.
                outcome?;
                continue;
            }
            flushes = self.flushed.wait(flushes).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// The ticket of the last write applied.
    fn applied(&self) -> Ticket {
        lock(&self.flush).applied
    }
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    let mut bytes = vec![FORMAT_VERSION];
    serde_json::to_writer(&mut bytes, value)
        .map_err(|e| StoreError::Engine(format!("cannot encode a value: {e}")))?;
    Ok(bytes)
}

fn payload<'a>(tree: &'static str, key: &[u8], value: &'a [u8]) -> Result<&'a [u8], StoreError> {
    match value.split_first() {
        Some((&FORMAT_VERSION, rest)) => Ok(rest),
        Some((&found, _)) => Err(StoreError::Corrupt {
            tree,
            key: String::from_utf8_lossy(key).into_owned(),
            reason: format!("value format {found}, expected {FORMAT_VERSION}"),
        }),
        None => Err(StoreError::Corrupt {
            tree,
            key: String::from_utf8_lossy(key).into_owned(),
            reason: "empty value".into(),
        }),
    }
}

fn decode<T: DeserializeOwned>(tree: &'static str, key: &[u8], value: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(payload(tree, key, value)?).map_err(|e| StoreError::Corrupt {
        tree,
        key: String::from_utf8_lossy(key).into_owned(),
        reason: e.to_string(),
    })
}

fn version_key(name: &ContractName, version: &semver::Version) -> Vec<u8> {
    format!("{}\0{}\0{}", name.component, name.contract, version).into_bytes()
}

fn config_key(name: Option<&ContractName>) -> Vec<u8> {
    match name {
        None => Vec::new(),
        Some(n) => format!("{}\0{}", n.component, n.contract).into_bytes(),
    }
}

impl SledStore {
    /// Opens (or creates) the store in `dir`, checking its format version.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Engine(format!("cannot create data directory {}: {e}", dir.display()))
        })?;
        // Reads are served from the registry's own index, so sled's page
        // cache (1 GiB by default) would only duplicate it in memory.
        let db = sled::Config::new()
            .path(dir.join("db"))
            .cache_capacity(SLED_CACHE_BYTES)
            .open()?;
        let store = Self {
            meta: db.open_tree("meta")?,
            versions: db.open_tree("versions")?,
            schemas: db.open_tree("schemas")?,
            configs: db.open_tree("configs")?,
            events: db.open_tree("events")?,
            db,
            durability: Arc::default(),
        };
        match store.meta.get(FORMAT_KEY)? {
            Some(found) => {
                let found = found.first().copied().unwrap_or(0);
                if found != FORMAT_VERSION {
                    return Err(StoreError::FormatMismatch {
                        found,
                        expected: FORMAT_VERSION,
                    });
                }
            }
            None => {
                if !store.is_empty()? {
                    return Err(StoreError::Corrupt {
                        tree: "meta",
                        key: "format".into(),
                        reason: "data without a format version".into(),
                    });
                }
                store.meta.insert(FORMAT_KEY, &[FORMAT_VERSION])?;
                store.db.flush()?;
            }
        }
        Ok(store)
    }
}

impl Store for SledStore {
    fn load(&self) -> Result<Contents, StoreError> {
        let mut contents = Contents::default();
        for item in self.versions.iter() {
            let (key, value) = item?;
            contents.versions.push(decode("versions", &key, &value)?);
        }
        for item in self.schemas.iter() {
            let (key, value) = item?;
            let text =
                std::str::from_utf8(payload("schemas", &key, &value)?).map_err(|e| StoreError::Corrupt {
                    tree: "schemas",
                    key: String::from_utf8_lossy(&key).into_owned(),
                    reason: e.to_string(),
                })?;
            contents
                .schemas
                .push((String::from_utf8_lossy(&key).into_owned(), Arc::from(text)));
        }
        for item in self.configs.iter() {
            let (key, value) = item?;
            let config: CompatConfig = decode("configs", &key, &value)?;
            let name = if key.is_empty() {
                None
            } else {
                let text = String::from_utf8_lossy(&key).into_owned();
                let Some((component, contract)) = text.split_once('\0') else {
                    return Err(StoreError::Corrupt {
                        tree: "configs",
                        key: text,
                        reason: "key is not component\\0contract".into(),
                    });
                };
                Some(ContractName {
                    component: component.to_owned(),
                    contract: contract.to_owned(),
                })
            };
            contents.configs.push((name, config));
        }
        if let Some((key, _)) = self.events.last()? {
            contents.last_sequence = sequence_of(&key)?;
        }
        Ok(contents)
    }

    fn apply(&self, batch: &Batch) -> Result<Ticket, StoreError> {
        // Encode before the transaction: its closure may run more than once
        // and must not fail for reasons other than conflicts.
        let mut versions = Vec::new();
        for record in &batch.versions {
            versions.push((version_key(&record.name, &record.version), encode(record)?));
        }
        let removed_versions: Vec<_> = batch
            .removed_versions
            .iter()
            .map(|(name, version)| version_key(name, version))
            .collect();
        let schemas: Vec<_> = batch
            .schemas
            .iter()
            .map(|(fp, text)| {
                let mut bytes = Vec::with_capacity(text.len() + 1);
                bytes.push(FORMAT_VERSION);
                bytes.extend_from_slice(text.as_bytes());
                (fp.as_bytes().to_vec(), bytes)
            })
            .collect();
        let mut configs = Vec::new();
        for (name, config) in &batch.configs {
            let value = match config {
                Some(c) => Some(encode(c)?),
                None => None,
            };
            configs.push((config_key(name.as_ref()), value));
        }
        let mut events = Vec::new();
        for event in &batch.events {
            events.push((event.sequence.to_be_bytes(), encode(event)?));
        }

        let ((), ticket) = self.durability.write(|| {
            let result: Result<(), TransactionError<()>> =
                (&self.versions, &self.schemas, &self.configs, &self.events).transaction(
                    |(tv, ts, tc, te)| {
                        for (key, value) in &schemas {
                            ts.insert(key.as_slice(), value.as_slice())?;
                        }
                        for fp in &batch.removed_schemas {
                            ts.remove(fp.as_bytes())?;
                        }
                        for key in &removed_versions {
                            tv.remove(key.as_slice())?;
                        }
                        for (key, value) in &versions {
                            tv.insert(key.as_slice(), value.as_slice())?;
                        }
                        for (key, value) in &configs {
                            match value {
                                Some(v) => tc.insert(key.as_slice(), v.as_slice())?,
                                None => tc.remove(key.as_slice())?,
                            };
                        }
                        for (key, value) in &events {
                            te.insert(&key[..], value.as_slice())?;
                        }
                        Ok::<(), ConflictableTransactionError<()>>(())
                    },
                );
            match result {
                Ok(()) => Ok(()),
                Err(TransactionError::Storage(e)) => Err(e.into()),
                Err(TransactionError::Abort(())) => Err(StoreError::Engine("transaction aborted".into())),
            }
        })?;
        Ok(ticket)
    }

    fn sync(&self, ticket: Ticket) -> Result<(), StoreError> {
        // sled acknowledges a transaction before it is on disk.
        self.durability.sync(&self.db, ticket)
    }

    fn events_after(&self, after: u64, limit: usize) -> Result<Vec<Event>, StoreError> {
        let start = after.saturating_add(1).to_be_bytes();
        let mut out = Vec::new();
        if after == u64::MAX {
            return Ok(out);
        }
        for item in self.events.range(start..).take(limit) {
            let (key, value) = item?;
            out.push(decode("events", &key, &value)?);
        }
        Ok(out)
    }

    fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.versions.is_empty()
            && self.schemas.is_empty()
            && self.configs.is_empty()
            && self.events.is_empty())
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.durability.sync(&self.db, self.durability.applied())
    }
}

impl SledStore {
    /// The audit log kept in this store's database.
    pub fn audit_log(&self) -> Result<AuditLog, StoreError> {
        Ok(AuditLog {
            tree: self.db.open_tree("audit")?,
            db: self.db.clone(),
            durability: self.durability.clone(),
        })
    }
}

/// The audit log: write attempts in time order, durable once appended.
#[derive(Debug, Clone)]
pub struct AuditLog {
    db: sled::Db,
    tree: sled::Tree,
    durability: Arc<Durability>,
}

/// The key after which a page of the audit log continues.
pub type AuditKey = [u8; 16];

impl AuditLog {
    /// Appends `record` and flushes it to disk before returning.
    pub async fn append(&self, record: &AuditRecord) -> Result<(), StoreError> {
        let value = encode(record)?;
        let time = record.time_micros;
        let log = self.clone();
        // Waiting for a turn and for a flush blocks: off the runtime.
        tokio::task::spawn_blocking(move || {
            let ((), ticket) = log.durability.write(|| {
                // The id breaks ties between entries of the same microsecond.
                let id = log.db.generate_id()?;
                let mut key = [0u8; 16];
                key[..8].copy_from_slice(&time.to_be_bytes());
                key[8..].copy_from_slice(&id.to_be_bytes());
                log.tree.insert(key, value)?;
                Ok(())
            })?;
            log.durability.sync(&log.db, ticket)
        })
        .await
        .map_err(|e| StoreError::Engine(format!("audit append task failed: {e}")))?
    }

    /// Up to `limit` entries at or after `since_micros`, after the key
    /// `after` when continuing a page, in time order, with their keys.
    pub fn page(
        &self,
        since_micros: u64,
        after: Option<AuditKey>,
        limit: usize,
    ) -> Result<Vec<(AuditKey, AuditRecord)>, StoreError> {
        use std::ops::Bound;
        let mut since = [0u8; 16];
        since[..8].copy_from_slice(&since_micros.to_be_bytes());
        let start = match after {
            Some(key) if key > since => Bound::Excluded(key),
            _ => Bound::Included(since),
        };
        let mut out = Vec::new();
        for item in self
            .tree
            .range::<AuditKey, _>((start, Bound::Unbounded))
            .take(limit)
        {
            let (key, value) = item?;
            let key: AuditKey = key.as_ref().try_into().map_err(|_| StoreError::Corrupt {
                tree: "audit",
                key: format!("{key:?}"),
                reason: "key is not 16 bytes".into(),
            })?;
            out.push((key, decode("audit", &key, &value)?));
        }
        Ok(out)
    }
}

fn sequence_of(key: &[u8]) -> Result<u64, StoreError> {
    let bytes: [u8; 8] = key.try_into().map_err(|_| StoreError::Corrupt {
        tree: "events",
        key: format!("{key:?}"),
        reason: "key is not an 8-byte sequence".into(),
    })?;
    Ok(u64::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EventKind;

    fn record(version: &str, fp: &str) -> VersionRecord {
        VersionRecord {
            name: ContractName::new("orders", "placed").unwrap(),
            version: semver::Version::parse(version).unwrap(),
            fingerprint: fp.into(),
            created_at: 1,
            bump: None,
            deprecated: None,
            deleted_at: None,
        }
    }

    fn event(sequence: u64) -> Event {
        Event {
            sequence,
            kind: EventKind::Published,
            time: 2,
            component: "orders".into(),
            contract: "placed".into(),
            version: "1.0.0".into(),
            fingerprint: "f".into(),
            message: String::new(),
            config: None,
            hard: false,
        }
    }

    #[test]
    fn a_commit_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledStore::open(dir.path()).unwrap();
            assert!(store.is_empty().unwrap());
            store
                .commit(&Batch {
                    versions: vec![record("1.0.0", "f1"), record("1.1.0", "f1")],
                    schemas: vec![("f1".into(), Arc::from("{}"))],
                    configs: vec![(None, Some(CompatConfig::default()))],
                    events: vec![event(1), event(2)],
                    ..Batch::default()
                })
                .unwrap();
        }
        let store = SledStore::open(dir.path()).unwrap();
        let contents = store.load().unwrap();
        assert_eq!(
            contents.versions,
            vec![record("1.0.0", "f1"), record("1.1.0", "f1")]
        );
        assert_eq!(contents.schemas.len(), 1);
        assert_eq!(&*contents.schemas[0].1, "{}");
        assert_eq!(contents.configs, vec![(None, CompatConfig::default())]);
        assert_eq!(contents.last_sequence, 2);
        assert_eq!(store.events_after(1, 10).unwrap(), vec![event(2)]);
        assert_eq!(store.events_after(0, 1).unwrap(), vec![event(1)]);
        assert!(!store.is_empty().unwrap());
    }

    #[test]
    fn removals_erase_versions_schemas_and_configs() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let name = ContractName::new("orders", "placed").unwrap();
        store
            .commit(&Batch {
                versions: vec![record("1.0.0", "f1")],
                schemas: vec![("f1".into(), Arc::from("{}"))],
                configs: vec![(Some(name.clone()), Some(CompatConfig::default()))],
                ..Batch::default()
            })
            .unwrap();
        store
            .commit(&Batch {
                removed_versions: vec![(name.clone(), semver::Version::new(1, 0, 0))],
                removed_schemas: vec!["f1".into()],
                configs: vec![(Some(name), None)],
                ..Batch::default()
            })
            .unwrap();
        let contents = store.load().unwrap();
        assert!(contents.versions.is_empty());
        assert!(contents.schemas.is_empty());
        assert!(contents.configs.is_empty());
    }

    #[test]
    fn concurrent_transactions_and_audit_appends_are_all_durable_once_synced() {
        let dir = tempfile::tempdir().unwrap();
        let writers = 8;
        let each = 25;
        {
            let store = Arc::new(SledStore::open(dir.path()).unwrap());
            let log = store.audit_log().unwrap();
            let threads: Vec<_> = (0..writers)
                .map(|w| {
                    let store = store.clone();
                    let log = log.clone();
                    std::thread::spawn(move || {
                        for i in 0..each {
                            let version = format!("{w}.{i}.0");
                            store
                                .commit(&Batch {
                                    versions: vec![record(&version, "f1")],
                                    ..Batch::default()
                                })
                                .unwrap();
                            // An audit insert between transactions, as a
                            // served publish does, takes the same turns.
                            let ((), ticket) = log
                                .durability
                                .write(|| {
                                    log.tree.insert(version.as_bytes(), &b"\x01{}"[..])?;
                                    Ok(())
                                })
                                .unwrap();
                            log.durability.sync(&log.db, ticket).unwrap();
                        }
                    })
                })
                .collect();
            for t in threads {
                t.join().unwrap();
            }
            let flushes = lock(&store.durability.flush);
            assert_eq!(flushes.applied, (2 * writers * each) as Ticket);
            assert_eq!(flushes.durable, flushes.applied);
            assert!(!flushes.running);
        }
        let store = SledStore::open(dir.path()).unwrap();
        assert_eq!(store.load().unwrap().versions.len(), writers * each);
        assert_eq!(store.audit_log().unwrap().tree.len(), writers * each);
    }

    #[test]
    fn a_sync_returns_at_once_for_a_durable_ticket_and_flushes_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let ticket = store
            .apply(&Batch {
                versions: vec![record("1.0.0", "f1")],
                ..Batch::default()
            })
            .unwrap();
        assert_eq!(lock(&store.durability.flush).durable, 0);
        store.sync(ticket).unwrap();
        assert_eq!(lock(&store.durability.flush).durable, ticket);
        store.sync(ticket).unwrap();
        store.sync(0).unwrap();
        assert_eq!(lock(&store.durability.flush).applied, ticket);
    }

    #[test]
    fn another_format_is_refused_at_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = sled::open(dir.path().join("db")).unwrap();
            db.open_tree("meta").unwrap().insert(FORMAT_KEY, &[9u8]).unwrap();
            db.flush().unwrap();
        }
        let err = SledStore::open(dir.path()).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::FormatMismatch {
                    found: 9,
                    expected: FORMAT_VERSION
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("format 9"), "{err}");
    }

    #[test]
    fn a_value_with_another_format_byte_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledStore::open(dir.path()).unwrap();
            store
                .versions
                .insert(b"orders\x00placed\x001.0.0", &b"\x07{}"[..])
                .unwrap();
            store.flush().unwrap();
        }
        let store = SledStore::open(dir.path()).unwrap();
        let err = store.load().unwrap_err();
        assert!(err.to_string().contains("value format 7"), "{err}");
    }
}
