//! The embedded store: one sled database in a directory, for one process.
//! The only code that touches sled.
//!
//! Layout (store format 2):
//! - `meta`: `format` → the format byte; `sequence` → the last event's
//!   sequence; `epoch` → this store's history id.
//! - `versions`: `component \0 contract \0 version` → [`VersionRecord`].
//! - `schemas`: fingerprint → schema text, stored once per fingerprint.
//! - `settings`: empty key (global) or `component \0 contract` → [`Settings`].
//! - `revisions`: the same keys → the sequence of the last event about it.
//! - `events`: big-endian sequence → [`Event`].
//! - `audit`: big-endian time in µs, then a big-endian unique id →
//!   [`AuditRecord`].
//! - `consumers`: `component \0 contract \0 consumer` → [`Consumption`].
//! - `waivers`: `component \0 contract \0 id` → [`Waiver`].
//!
//! The last two trees came with consumers; a store of format 2 without
//! them simply has none (sled creates a tree when it is first opened).
//!
//! Every value is the format byte, a CRC-32 of the rest, then JSON (UTF-8
//! text for schemas), so that a flipped bit is reported, not read. A store
//! of format 1 (values without checksums, settings in a `configs` tree) is
//! rewritten to format 2 when first opened.
//!
//! Durability is by group commit (`Durability`): a batch is applied and
//! numbered under a turn, and its caller then waits until a flush that
//! started after it has completed. Writers that arrive while a flush runs
//! share the next one, so one `fsync` serves many writes. Each write keeps
//! the values it replaced until it is durable: when a flush fails, every
//! write it was to cover is undone, and its callers are told.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    fmt,
    path::{Path, PathBuf},
    sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError},
};

use serde::{Serialize, de::DeserializeOwned};
use sled::{
    Transactional,
    transaction::{ConflictableTransactionError, TransactionError},
};

use super::{Applied, AuditCursor, Batch, Snapshot, Store, StoreError, Ticket};
use crate::model::{
    AuditRecord, CompatConfig, Consumption, ContractName, Event, Settings, VersionRecord, Waiver, now_millis,
};

/// The format this code writes.
pub const FORMAT_VERSION: u8 = 2;
/// The first format, without checksums; read and rewritten at open.
const FORMAT_1: u8 = 1;

const FORMAT_KEY: &[u8] = b"format";
const SEQUENCE_KEY: &[u8] = b"sequence";
const EPOCH_KEY: &[u8] = b"epoch";

/// sled's page cache; small, since reads do not go to the store.
const SLED_CACHE_BYTES: u64 = 32 * 1024 * 1024;
/// How long opening waits for the directory's lock before saying that
/// another process holds it.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Engine(e.to_string())
    }
}

/// The trees, in the order of [`TreeId`].
const TREES: [&str; 9] = [
    "meta",
    "versions",
    "schemas",
    "settings",
    "revisions",
    "events",
    "audit",
    "consumers",
    "waivers",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TreeId {
    Meta = 0,
    Versions = 1,
    Schemas = 2,
    Settings = 3,
    Revisions = 4,
    Events = 5,
    Audit = 6,
    Consumers = 7,
    Waivers = 8,
}

/// One key written by a batch: the new value (`None`: removed).
type Op = (TreeId, Vec<u8>, Option<Vec<u8>>);
/// What a batch replaced: the old values of the keys it wrote.
type Undo = Vec<(TreeId, Vec<u8>, Option<sled::IVec>)>;

/// The sled implementation of [`Store`].
#[derive(Clone)]
pub struct SledStore {
    inner: Arc<Inner>,
}

impl fmt::Debug for SledStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledStore").field("dir", &self.inner.dir).finish()
    }
}

struct Inner {
    dir: PathBuf,
    db: sled::Db,
    trees: Vec<sled::Tree>,
    durability: Durability,
    timings: super::Timings,
    /// Free bytes a change needs on the disk before it is written (audit
    /// records alone need a quarter of it): the store refuses writes
    /// before the disk is full, since sled cannot recover from a full disk
    /// without a restart.
    min_free: std::sync::atomic::AtomicU64,
    /// Set when sled failed to write: it refuses every write after that,
    /// until the process restarts.
    failed: Mutex<Option<String>>,
}

/// The file beside the database that records the last durable sequence.
const SEAL_FILE: &str = "accord.seal";
/// How often, at most, the seal is rewritten while writes flow.
const SEAL_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// Default of `--min-free-disk`: 64 MiB.
pub const DEFAULT_MIN_FREE_DISK: u64 = 64 << 20;

/// Bytes free for unprivileged writers on the file system of `dir`.
fn free_space(dir: &Path) -> Option<u64> {
    let stat = rustix::fs::statvfs(dir).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

impl Inner {
    fn tree(&self, id: TreeId) -> &sled::Tree {
        &self.trees[id as usize]
    }
}

/// Locks a mutex even when a thread panicked holding it: every state it
/// guards is updated in single steps that a panic cannot leave half done.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The store's name in the metrics.
const STORE: &str = "sled";

/// How many writes may go ahead of a flush that is waiting for its turn, so
/// that a steady stream of writes cannot hold durability back for ever.
const WRITES_BEFORE_FLUSH: usize = 256;

/// Group commit over one sled database.
///
/// Every batch and flush of the database takes a turn (`turn`): sled 0.34
/// deadlocks when a transaction runs while another thread flushes (seen
/// under 16 concurrent publishers); one at a time, it cannot. Writes
/// waiting for a turn go before a flush that waits (up to
/// [`WRITES_BEFORE_FLUSH`] of them), so that the flush covers them all. One
/// flusher at a time (the first waiter that finds none running) flushes
/// for everyone; the others wait on `flushed`.
#[derive(Debug, Default)]
struct Durability {
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

#[derive(Default)]
struct Flushes {
    /// The ticket of the last write applied.
    applied: Ticket,
    /// Every write up to this ticket is on disk (or was rolled back).
    durable: Ticket,
    running: bool,
    /// What each write not yet durable replaced, to undo it if its flush fails.
    undo: BTreeMap<Ticket, Undo>,
    /// Writes undone after failed flushes: (first, last, why).
    lost: Vec<(Ticket, Ticket, String)>,
    /// The event sequence of the last write applied.
    applied_sequence: u64,
    /// The sequence last written to the seal, and when.
    sealed: (u64, Option<std::time::Instant>),
}

impl fmt::Debug for Flushes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Flushes")
            .field("applied", &self.applied)
            .field("durable", &self.durable)
            .field("running", &self.running)
            .finish_non_exhaustive()
    }
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
}

fn checksum(payload: &[u8]) -> [u8; 4] {
    crc32fast::hash(payload).to_be_bytes()
}

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(payload.len() + 5);
    bytes.push(FORMAT_VERSION);
    bytes.extend_from_slice(&checksum(payload));
    bytes.extend_from_slice(payload);
    bytes
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    let payload =
        serde_json::to_vec(value).map_err(|e| StoreError::Engine(format!("cannot encode a value: {e}")))?;
    Ok(frame(&payload))
}

fn printable(key: &[u8]) -> String {
    String::from_utf8_lossy(key).replace('\0', "/")
}

/// The payload of a stored value, its checksum verified.
fn payload<'a>(tree: &'static str, key: &[u8], value: &'a [u8]) -> Result<&'a [u8], StoreError> {
    let corrupt = |reason: String| StoreError::corrupt(tree, printable(key), reason);
    match value.split_first() {
        Some((&FORMAT_VERSION, rest)) if rest.len() >= 4 => {
            let (sum, payload) = rest.split_at(4);
            if sum != checksum(payload) {
                return Err(corrupt("checksum mismatch: the value was changed on disk".into()));
            }
            Ok(payload)
        }
        Some((&found, _)) => Err(corrupt(format!(
            "value format {found}, expected {FORMAT_VERSION}"
        ))),
        None => Err(corrupt("empty value".into())),
    }
}

fn decode<T: DeserializeOwned>(tree: &'static str, key: &[u8], value: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(payload(tree, key, value)?)
        .map_err(|e| StoreError::corrupt(tree, printable(key), e.to_string()))
}

fn decode_text(tree: &'static str, key: &[u8], value: &[u8]) -> Result<Arc<str>, StoreError> {
    let text = std::str::from_utf8(payload(tree, key, value)?)
        .map_err(|e| StoreError::corrupt(tree, printable(key), e.to_string()))?;
    Ok(Arc::from(text))
}

fn version_key(name: &ContractName, version: &semver::Version) -> Vec<u8> {
    format!("{}\0{}\0{}", name.component(), name.contract(), version).into_bytes()
}

/// The key of something of a contract named `item` (a consumer, a waiver).
fn item_key(name: &ContractName, item: &str) -> Vec<u8> {
    format!("{}\0{}\0{}", name.component(), name.contract(), item).into_bytes()
}

fn contract_key(name: Option<&ContractName>) -> Vec<u8> {
    match name {
        None => Vec::new(),
        Some(n) => format!("{}\0{}", n.component(), n.contract()).into_bytes(),
    }
}

fn contract_of_key(tree: &'static str, key: &[u8]) -> Result<Option<ContractName>, StoreError> {
    if key.is_empty() {
        return Ok(None);
    }
    let text = String::from_utf8_lossy(key);
    let Some((component, contract)) = text.split_once('\0') else {
        return Err(StoreError::corrupt(
            tree,
            printable(key),
            "key is not component\\0contract",
        ));
    };
    ContractName::new(component, contract)
        .map(Some)
        .map_err(|e| StoreError::corrupt(tree, printable(key), e.to_string()))
}

fn u64_value(tree: &'static str, key: &[u8], value: &[u8]) -> Result<u64, StoreError> {
    decode(tree, key, value)
}

fn sequence_of(key: &[u8]) -> Result<u64, StoreError> {
    let bytes: [u8; 8] = key
        .try_into()
        .map_err(|_| StoreError::corrupt("events", printable(key), "key is not an 8-byte sequence"))?;
    Ok(u64::from_be_bytes(bytes))
}

impl SledStore {
    /// Opens (or creates) the store in `dir`, checking its format, and
    /// rewriting a store of the first format to the current one.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_waiting(dir, LOCK_WAIT)
    }

    /// [`Self::open`], waiting up to `wait` for the directory's lock.
    fn open_waiting(dir: &Path, wait: std::time::Duration) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Engine(format!("cannot create data directory {}: {e}", dir.display()))
        })?;
        // Reads are served from the registry's own index, so sled's page
        // cache (1 GiB by default) would only duplicate it in memory; and
        // every write is flushed by the group commit, so sled's own
        // background flusher would only race with it.
        let config = sled::Config::new()
            .path(dir.join("db"))
            .cache_capacity(SLED_CACHE_BYTES)
            .flush_every_ms(None);
        // sled panics on some damage it finds while recovering its log:
        // that is a damaged data directory, said as such, not a crash.
        // The lock of a store just closed may be held a moment longer, by
        // sled ending its last log writes on its own threads or by a
        // registry that is exiting: it is waited for, a little.
        let deadline = std::time::Instant::now() + wait;
        let db = loop {
            let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| config.open()))
                .map_err(|panic| damaged(dir, panic))?;
            match opened.map_err(|e| open_error(dir, e)) {
                Ok(db) => break db,
                Err(StoreError::InUse(_)) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(e) => return Err(e),
            }
        };
        let trees = TREES
            .iter()
            .map(|name| db.open_tree(name))
            .collect::<Result<Vec<_>, _>>()?;
        let store = Self {
            inner: Arc::new(Inner {
                dir: dir.to_owned(),
                db,
                trees,
                durability: Durability::default(),
                timings: super::Timings::default(),
                min_free: std::sync::atomic::AtomicU64::new(DEFAULT_MIN_FREE_DISK),
                failed: Mutex::new(None),
            }),
        };
        let meta = store.inner.tree(TreeId::Meta);
        match meta.get(FORMAT_KEY)? {
            Some(found) => match found.first().copied().unwrap_or(0) {
                FORMAT_VERSION => {}
                FORMAT_1 => store.upgrade_from_format_1()?,
                found => {
                    return Err(StoreError::FormatMismatch {
                        found,
                        expected: FORMAT_VERSION,
                    });
                }
            },
            None => {
                if let Some((_, sealed)) = store.read_seal()
                    && sealed > 0
                {
                    return Err(StoreError::corrupt(
                        "meta",
                        "format",
                        format!(
                            "the database is empty but {SEAL_FILE} says event {sealed} was on disk: the data \
                             directory was damaged or its database replaced. Restore it from an export, or get out \
                             what is left with `accord-registry export --salvage`"
                        ),
                    ));
                }
                if !store.is_empty_now()?
                    || store
                        .inner
                        .db
                        .tree_names()
                        .iter()
                        .any(|n| n.as_ref() == b"configs")
                {
                    return Err(StoreError::corrupt(
                        "meta",
                        "format",
                        "data without a format version",
                    ));
                }
                meta.insert(EPOCH_KEY, encode(&new_epoch()?)?)?;
                meta.insert(SEQUENCE_KEY, encode(&0u64)?)?;
                meta.insert(FORMAT_KEY, &[FORMAT_VERSION])?;
                store.inner.db.flush()?;
            }
        }
        Ok(store)
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Sets the free space a change needs on the disk (`--min-free-disk`).
    pub fn set_min_free_disk(&self, bytes: u64) {
        self.inner
            .min_free
            .store(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    /// Refuses a write that the disk or an earlier failure cannot take.
    fn check_writable(&self, audit_only: bool) -> Result<(), StoreError> {
        if let Some(reason) = lock(&self.inner.failed).clone() {
            return Err(StoreError::Unavailable(format!(
                "the embedded store failed to write ({reason}); restart the registry once the disk is fixed"
            )));
        }
        let min = self.inner.min_free.load(std::sync::atomic::Ordering::Relaxed);
        let needed = if audit_only { min / 4 } else { min };
        match free_space(&self.inner.dir) {
            Some(free) if free < needed => Err(StoreError::DiskFull { free, needed }),
            _ => Ok(()),
        }
    }

    /// Records, outside the database, the sequence of the last event on
    /// disk (at most every [`SEAL_EVERY`], and always when `now`), so that
    /// a store that comes back from damage with fewer events than it had
    /// acknowledged is refused at start-up instead of silently serving less.
    fn seal(&self, sequence: u64, now: bool) {
        let due = {
            let mut flushes = lock(&self.inner.durability.flush);
            let (sealed, at) = flushes.sealed;
            let due = sequence > sealed && (now || at.is_none_or(|t| t.elapsed() >= SEAL_EVERY));
            if due {
                flushes.sealed = (sequence, Some(std::time::Instant::now()));
            }
            due
        };
        if !due {
            return;
        }
        let epoch = match self.get(TreeId::Meta, EPOCH_KEY).ok().flatten() {
            Some(v) => decode::<String>("meta", EPOCH_KEY, &v).unwrap_or_default(),
            None => String::new(),
        };
        let path = self.inner.dir.join(SEAL_FILE);
        let tmp = self.inner.dir.join(format!(".{SEAL_FILE}.tmp"));
        let written = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            std::io::Write::write_all(&mut f, format!("{epoch} {sequence}\n").as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        })();
        if let Err(e) = written {
            tracing::warn!(error = %e, path = %path.display(), "cannot write the seal file");
        }
    }

    /// The epoch and sequence the seal file records, if any.
    fn read_seal(&self) -> Option<(String, u64)> {
        let text = std::fs::read_to_string(self.inner.dir.join(SEAL_FILE)).ok()?;
        let (epoch, sequence) = text.trim().split_once(' ')?;
        Some((epoch.to_owned(), sequence.parse().ok()?))
    }

    /// Remembers that sled failed to write: it will refuse every write
    /// from now on.
    fn mark_failed(&self, error: &str) {
        let mut failed = lock(&self.inner.failed);
        if failed.is_none() {
            tracing::error!(
                error,
                "the embedded store failed to write: writes are refused until a restart"
            );
            *failed = Some(error.to_owned());
        }
    }

    fn is_empty_now(&self) -> Result<bool, StoreError> {
        Ok(TREES[1..]
            .iter()
            .enumerate()
            .all(|(i, _)| self.inner.trees[i + 1].is_empty()))
    }

    /// Rewrites a store of format 1 (values without checksums, settings in
    /// `configs`, no sequence counter, revisions or epoch) to format 2, in
    /// one transaction.
    fn upgrade_from_format_1(&self) -> Result<(), StoreError> {
        let old = |tree: &'static str, key: &[u8], value: &[u8]| -> Result<Vec<u8>, StoreError> {
            match value.split_first() {
                Some((&FORMAT_1, rest)) => Ok(rest.to_vec()),
                _ => Err(StoreError::corrupt(tree, printable(key), "not a format-1 value")),
            }
        };
        let mut ops: Vec<Op> = Vec::new();
        for (id, name) in [
            (TreeId::Versions, "versions"),
            (TreeId::Schemas, "schemas"),
            (TreeId::Events, "events"),
            (TreeId::Audit, "audit"),
        ] {
            for item in self.inner.tree(id).iter() {
                let (key, value) = item?;
                ops.push((id, key.to_vec(), Some(frame(&old(name, &key, &value)?))));
            }
        }
        let configs = self.inner.db.open_tree("configs")?;
        for item in configs.iter() {
            let (key, value) = item?;
            let config: CompatConfig = serde_json::from_slice(&old("configs", &key, &value)?)
                .map_err(|e| StoreError::corrupt("configs", printable(&key), e.to_string()))?;
            ops.push((
                TreeId::Settings,
                key.to_vec(),
                Some(encode(&Settings::mode_and_policy(config))?),
            ));
        }
        let mut last = 0;
        let mut revisions: HashMap<Vec<u8>, u64> = HashMap::new();
        for item in self.inner.tree(TreeId::Events).iter() {
            let (key, value) = item?;
            let event: Event = serde_json::from_slice(&old("events", &key, &value)?)
                .map_err(|e| StoreError::corrupt("events", printable(&key), e.to_string()))?;
            last = event.sequence;
            revisions.insert(contract_key(event.contract_name().as_ref()), event.sequence);
        }
        for (key, revision) in revisions {
            ops.push((TreeId::Revisions, key, Some(encode(&revision)?)));
        }
        ops.push((TreeId::Meta, SEQUENCE_KEY.to_vec(), Some(encode(&last)?)));
        ops.push((TreeId::Meta, EPOCH_KEY.to_vec(), Some(encode(&new_epoch()?)?)));
        ops.push((TreeId::Meta, FORMAT_KEY.to_vec(), Some(vec![FORMAT_VERSION])));
        self.transact(&ops)?;
        self.inner.db.drop_tree("configs")?;
        self.inner.db.flush()?;
        tracing::info!(dir = %self.inner.dir.display(), "store rewritten from format 1 to format 2");
        Ok(())
    }

    /// Writes `ops` in one sled transaction.
    fn transact(&self, ops: &[Op]) -> Result<(), StoreError> {
        let trees: Vec<&sled::Tree> = self.inner.trees.iter().collect();
        let result: Result<(), TransactionError<()>> = trees.as_slice().transaction(|views| {
            for (tree, key, value) in ops {
                let view = &views[*tree as usize];
                match value {
                    Some(v) => view.insert(key.as_slice(), v.as_slice())?,
                    None => view.remove(key.as_slice())?,
                };
            }
            Ok::<(), ConflictableTransactionError<()>>(())
        });
        match result {
            Ok(()) => Ok(()),
            Err(TransactionError::Storage(e)) => Err(e.into()),
            Err(TransactionError::Abort(())) => Err(StoreError::Engine("transaction aborted".into())),
        }
    }

    fn get(&self, tree: TreeId, key: &[u8]) -> Result<Option<sled::IVec>, StoreError> {
        Ok(self.inner.tree(tree).get(key)?)
    }

    fn revision(&self, name: Option<&ContractName>) -> Result<u64, StoreError> {
        let key = contract_key(name);
        match self.get(TreeId::Revisions, &key)? {
            Some(v) => u64_value("revisions", &key, &v),
            None => Ok(0),
        }
    }

    fn last_sequence(&self) -> Result<u64, StoreError> {
        match self.get(TreeId::Meta, SEQUENCE_KEY)? {
            Some(v) => u64_value("meta", SEQUENCE_KEY, &v),
            None => Ok(0),
        }
    }

    /// Whether a version that is not erased, other than those `batch`
    /// rewrites, uses `fingerprint`. Scans every version: only hard deletes
    /// ask, and they are rare.
    fn schema_in_use(&self, fingerprint: &str, batch: &Batch) -> Result<bool, StoreError> {
        let rewritten: HashSet<Vec<u8>> = batch
            .versions
            .iter()
            .map(|r| version_key(&r.name, &r.version))
            .collect();
        if batch
            .versions
            .iter()
            .any(|r| r.fingerprint == fingerprint && r.erased.is_none())
        {
            return Ok(true);
        }
        for item in self.inner.tree(TreeId::Versions).iter() {
            let (key, value) = item?;
            if rewritten.contains(key.as_ref()) {
                continue;
            }
            let record: VersionRecord = decode("versions", &key, &value)?;
            if record.fingerprint == fingerprint && record.erased.is_none() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Checks, numbers and applies `batch` in the caller's turn; returns
    /// what it did and what it replaced.
    fn apply_in_turn(&self, mut batch: Batch) -> Result<(Applied, Undo), StoreError> {
        for (name, expected) in &batch.expect {
            let found = self.revision(name.as_ref())?;
            if found != *expected {
                return Err(StoreError::Conflict {
                    contract: name.clone(),
                    expected: *expected,
                    found,
                });
            }
        }
        let mut sequence = self.last_sequence()?;
        let now = now_millis();
        let mut revisions: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        for event in &mut batch.events {
            sequence += 1;
            event.sequence = sequence;
            // An import keeps the times of the events it carries.
            if event.time == 0 {
                event.time = now;
            }
            revisions.insert(contract_key(event.contract_name().as_ref()), sequence);
        }
        let mut ops: Vec<Op> = Vec::new();
        for (fingerprint, text) in &batch.schemas {
            if self.get(TreeId::Schemas, fingerprint.as_bytes())?.is_none() {
                ops.push((
                    TreeId::Schemas,
                    fingerprint.as_bytes().to_vec(),
                    Some(frame(text.as_bytes())),
                ));
            }
        }
        for record in &batch.versions {
            ops.push((
                TreeId::Versions,
                version_key(&record.name, &record.version),
                Some(encode(record)?),
            ));
        }
        let mut erased = Vec::new();
        for fingerprint in &batch.released_schemas {
            if !self.schema_in_use(fingerprint, &batch)? {
                ops.push((TreeId::Schemas, fingerprint.as_bytes().to_vec(), None));
                erased.push(fingerprint.clone());
            }
        }
        for (name, settings) in &batch.settings {
            let value = match settings {
                Some(s) => Some(encode(s)?),
                None => None,
            };
            ops.push((TreeId::Settings, contract_key(name.as_ref()), value));
        }
        for (name, consumer, consumption) in &batch.consumers {
            let value = match consumption {
                Some(c) => Some(encode(c)?),
                None => None,
            };
            ops.push((TreeId::Consumers, item_key(name, consumer), value));
        }
        for waiver in &batch.waivers {
            ops.push((
                TreeId::Waivers,
                item_key(&waiver.contract, &waiver.id),
                Some(encode(waiver)?),
            ));
        }
        for (key, revision) in revisions {
            ops.push((TreeId::Revisions, key, Some(encode(&revision)?)));
        }
        for event in &batch.events {
            ops.push((
                TreeId::Events,
                event.sequence.to_be_bytes().to_vec(),
                Some(encode(event)?),
            ));
        }
        for record in &batch.audit {
            // The id breaks ties between entries of the same microsecond.
            let id = self.inner.db.generate_id()?;
            let mut key = Vec::with_capacity(16);
            key.extend_from_slice(&record.time_micros.to_be_bytes());
            key.extend_from_slice(&id.to_be_bytes());
            ops.push((TreeId::Audit, key, Some(encode(record)?)));
        }
        if !batch.events.is_empty() {
            ops.push((TreeId::Meta, SEQUENCE_KEY.to_vec(), Some(encode(&sequence)?)));
        }
        let mut undo = Vec::with_capacity(ops.len());
        for (tree, key, _) in &ops {
            undo.push((*tree, key.clone(), self.get(*tree, key)?));
        }
        self.transact(&ops)?;
        Ok((
            Applied {
                ticket: 0,
                events: batch.events,
                last_sequence: sequence,
                erased_schemas: erased,
            },
            undo,
        ))
    }

    fn apply_blocking(&self, batch: Batch) -> Result<Applied, StoreError> {
        self.check_writable(batch.is_audit_only())?;
        let durability = &self.inner.durability;
        let _turn = durability.write_turn();
        let (mut applied, undo) = self
            .inner
            .timings
            .time(STORE, "transaction", || self.apply_in_turn(batch))
            .inspect_err(|e| {
                if let StoreError::Engine(text) = e {
                    self.mark_failed(text);
                }
            })?;
        // Numbered inside the turn, so tickets follow the order of writes
        // and a flush (which has the turn) covers every ticket it reads.
        let mut flushes = lock(&durability.flush);
        flushes.applied += 1;
        applied.ticket = flushes.applied;
        flushes.applied_sequence = flushes.applied_sequence.max(applied.last_sequence);
        flushes.undo.insert(applied.ticket, undo);
        Ok(applied)
    }

    /// Returns once every write up to `ticket` is on disk, flushing when no
    /// flush that covers it is running.
    fn sync_blocking(&self, ticket: Ticket) -> Result<(), StoreError> {
        let durability = &self.inner.durability;
        let mut flushes = lock(&durability.flush);
        loop {
            if let Some((first, last, reason)) = flushes
                .lost
                .iter()
                .find(|(first, last, _)| (*first..=*last).contains(&ticket))
            {
                return Err(StoreError::NotDurable {
                    reason: reason.clone(),
                    rolled_back: (*first, *last),
                });
            }
            if flushes.durable >= ticket {
                return Ok(());
            }
            if !flushes.running {
                flushes.running = true;
                drop(flushes);
                let outcome = {
                    let _turn = durability.flush_turn();
                    // No write runs during the turn: this flush covers
                    // every ticket up to `target`.
                    let (target, sequence) = {
                        let flushes = lock(&durability.flush);
                        (flushes.applied, flushes.applied_sequence)
                    };
                    match self.inner.timings.time(STORE, "flush", || self.inner.db.flush()) {
                        Ok(_) => {
                            self.seal(sequence, false);
                            Ok(target)
                        }
                        Err(e) => {
                            self.mark_failed(&e.to_string());
                            Err((target, self.roll_back(target, &e.to_string())))
                        }
                    }
                };
                flushes = lock(&durability.flush);
                flushes.running = false;
                match outcome {
                    Ok(target) => {
                        flushes.durable = flushes.durable.max(target);
                        let durable = flushes.durable;
                        flushes.undo.retain(|t, _| *t > durable);
                    }
                    Err((target, reason)) => {
                        let first = flushes.durable + 1;
                        flushes.undo.retain(|t, _| *t > target);
                        flushes.durable = flushes.durable.max(target);
                        flushes.lost.push((first, target, reason));
                        // Only the recent ones matter to a waiter.
                        if flushes.lost.len() > 64 {
                            flushes.lost.remove(0);
                        }
                    }
                }
                durability.flushed.notify_all();
                continue;
            }
            flushes = durability
                .flushed
                .wait(flushes)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Undoes every write not yet durable, up to `target`, newest first;
    /// called in the flush turn after a flush failed. Returns the reason to
    /// give their callers.
    fn roll_back(&self, target: Ticket, failure: &str) -> String {
        let undo: Vec<(Ticket, Undo)> = {
            let mut flushes = lock(&self.inner.durability.flush);
            let durable = flushes.durable;
            let tickets: Vec<Ticket> = flushes
                .undo
                .range(durable + 1..=target)
                .map(|(t, _)| *t)
                .collect();
            tickets
                .into_iter()
                .rev()
                .filter_map(|t| flushes.undo.remove(&t).map(|u| (t, u)))
                .collect()
        };
        let mut ops: Vec<Op> = Vec::new();
        for (_, entries) in &undo {
            for (tree, key, old) in entries.iter().rev() {
                ops.push((*tree, key.clone(), old.as_ref().map(|v| v.to_vec())));
            }
        }
        let undone = self.transact(&ops).and_then(|()| Ok(self.inner.db.flush()?));
        match undone {
            Ok(_) => tracing::error!(
                error = failure,
                writes = undo.len(),
                "a flush failed: its writes were undone"
            ),
            Err(e) => tracing::error!(
                error = failure,
                undo_error = %e,
                writes = undo.len(),
                "a flush failed and undoing its writes failed too"
            ),
        }
        format!("the data directory could not be written ({failure}); the change was not stored")
    }

    fn load_blocking(&self) -> Result<Snapshot, StoreError> {
        let mut snapshot = Snapshot::default();
        for item in self.inner.tree(TreeId::Versions).iter() {
            let (key, value) = item?;
            let record: VersionRecord = decode("versions", &key, &value)?;
            if version_key(&record.name, &record.version) != key.as_ref() {
                return Err(StoreError::corrupt(
                    "versions",
                    printable(&key),
                    format!("holds {}@{}", record.name, record.version),
                ));
            }
            snapshot.versions.push(record);
        }
        for item in self.inner.tree(TreeId::Schemas).iter() {
            let (key, value) = item?;
            let text = decode_text("schemas", &key, &value)?;
            snapshot
                .schemas
                .push((String::from_utf8_lossy(&key).into_owned(), text));
        }
        for item in self.inner.tree(TreeId::Settings).iter() {
            let (key, value) = item?;
            let settings: Settings = decode("settings", &key, &value)?;
            match contract_of_key("settings", &key)? {
                None => snapshot.global = Some(settings.over(CompatConfig::default())),
                Some(name) => snapshot.settings.push((name, settings)),
            }
        }
        for item in self.inner.tree(TreeId::Consumers).iter() {
            let (key, value) = item?;
            let consumption: Consumption = decode("consumers", &key, &value)?;
            if item_key(&consumption.contract, &consumption.consumer) != key.as_ref() {
                return Err(StoreError::corrupt(
                    "consumers",
                    printable(&key),
                    format!("holds {} of {}", consumption.consumer, consumption.contract),
                ));
            }
            snapshot.consumers.push(consumption);
        }
        for item in self.inner.tree(TreeId::Waivers).iter() {
            let (key, value) = item?;
            let waiver: Waiver = decode("waivers", &key, &value)?;
            if item_key(&waiver.contract, &waiver.id) != key.as_ref() {
                return Err(StoreError::corrupt(
                    "waivers",
                    printable(&key),
                    format!("holds waiver {} of {}", waiver.id, waiver.contract),
                ));
            }
            snapshot.waivers.push(waiver);
        }
        for item in self.inner.tree(TreeId::Revisions).iter() {
            let (key, value) = item?;
            snapshot.revisions.push((
                contract_of_key("revisions", &key)?,
                u64_value("revisions", &key, &value)?,
            ));
        }
        snapshot.last_sequence = self.last_sequence()?;
        snapshot.epoch = match self.get(TreeId::Meta, EPOCH_KEY)? {
            Some(v) => decode("meta", EPOCH_KEY, &v)?,
            None => return Err(StoreError::corrupt("meta", "epoch", "missing")),
        };
        self.check_invariants(&snapshot)?;
        if let Some((epoch, sealed)) = self.read_seal()
            && epoch != snapshot.epoch
            && sealed > 0
        {
            return Err(StoreError::corrupt(
                "meta",
                "epoch",
                format!(
                    "the database's history ({}) is not the one {SEAL_FILE} recorded ({epoch}): the database was \
                     replaced or damaged. Restore it from an export, or remove {SEAL_FILE} if the replacement is \
                     intended",
                    snapshot.epoch
                ),
            ));
        }
        if let Some((epoch, sealed)) = self.read_seal()
            && epoch == snapshot.epoch
            && sealed > snapshot.last_sequence
        {
            return Err(StoreError::corrupt(
                "events",
                snapshot.last_sequence.to_string(),
                format!(
                    "acknowledged writes are missing: the store ends at event {} but event {sealed} was on disk \
                     ({SEAL_FILE}); the data directory was damaged. Restore it from an export, or get out what is \
                     left with `accord-registry export --salvage`",
                    snapshot.last_sequence
                ),
            ));
        }
        {
            let mut flushes = lock(&self.inner.durability.flush);
            flushes.applied_sequence = snapshot.last_sequence;
            flushes.sealed.0 = flushes
                .sealed
                .0
                .max(snapshot.last_sequence.min(self.read_seal().map_or(0, |s| s.1)));
        }
        Ok(snapshot)
    }

    /// The store's own invariants: the event log runs from 1 to the last
    /// sequence without a gap and each event decodes; every version that is
    /// not erased has its schema text, and the text has its fingerprint.
    fn check_invariants(&self, snapshot: &Snapshot) -> Result<(), StoreError> {
        let mut expected = 1;
        for item in self.inner.tree(TreeId::Events).iter() {
            let (key, value) = item?;
            let sequence = sequence_of(&key)?;
            let event: Event = decode("events", &key, &value)?;
            if sequence != expected || event.sequence != sequence {
                return Err(StoreError::corrupt(
                    "events",
                    sequence.to_string(),
                    format!("the event log has a gap or a misplaced event: expected sequence {expected}"),
                ));
            }
            expected += 1;
        }
        if expected - 1 != snapshot.last_sequence {
            return Err(StoreError::corrupt(
                "meta",
                "sequence",
                format!(
                    "the last event is {} but the sequence counter says {}",
                    expected - 1,
                    snapshot.last_sequence
                ),
            ));
        }
        let schemas: HashMap<&str, &Arc<str>> =
            snapshot.schemas.iter().map(|(f, t)| (f.as_str(), t)).collect();
        for record in snapshot.versions.iter().filter(|r| r.erased.is_none()) {
            if !schemas.contains_key(record.fingerprint.as_str()) {
                return Err(StoreError::corrupt(
                    "versions",
                    format!("{}@{}", record.name, record.version),
                    format!("its schema {} is missing", record.fingerprint),
                ));
            }
        }
        for (fingerprint, text) in &snapshot.schemas {
            let actual = serde_json::from_str::<serde_json::Value>(text)
                .map(|v| accord_compat::fingerprint(&v))
                .map_err(|e| StoreError::corrupt("schemas", fingerprint.clone(), e.to_string()))?;
            if &actual != fingerprint {
                return Err(StoreError::corrupt(
                    "schemas",
                    fingerprint.clone(),
                    format!("the text has fingerprint {actual}"),
                ));
            }
        }
        Ok(())
    }

    fn events_after_blocking(&self, after: u64, limit: usize) -> Result<Vec<Event>, StoreError> {
        let mut out = Vec::new();
        if after == u64::MAX {
            return Ok(out);
        }
        let start = (after + 1).to_be_bytes();
        for item in self.inner.tree(TreeId::Events).range(start..).take(limit) {
            let (key, value) = item?;
            out.push(decode("events", &key, &value)?);
        }
        Ok(out)
    }

    fn audit_page_blocking(
        &self,
        since_micros: u64,
        cursor: Option<AuditCursor>,
        limit: usize,
    ) -> Result<Vec<(AuditCursor, AuditRecord)>, StoreError> {
        use std::ops::Bound;
        let since = since_micros.to_be_bytes().to_vec();
        let start = match cursor {
            Some(key) if key > since => Bound::Excluded(key),
            _ => Bound::Included(since),
        };
        let mut out = Vec::new();
        for item in self
            .inner
            .tree(TreeId::Audit)
            .range::<Vec<u8>, _>((start, Bound::Unbounded))
            .take(limit)
        {
            let (key, value) = item?;
            out.push((key.to_vec(), decode("audit", &key, &value)?));
        }
        Ok(out)
    }

    /// Removes audit records older than `before_micros`, then the oldest
    /// beyond `keep`, in turns of at most a thousand keys.
    fn prune_audit_blocking(&self, before_micros: u64, keep: u64) -> Result<u64, StoreError> {
        const CHUNK: usize = 1000;
        let tree = self.inner.tree(TreeId::Audit);
        let cutoff = before_micros.to_be_bytes();
        let mut removed = 0u64;
        loop {
            let total = tree.len() as u64;
            let over = total.saturating_sub(keep);
            let keys: Vec<sled::IVec> = tree
                .iter()
                .keys()
                .take(CHUNK)
                .enumerate()
                .take_while(|(i, key)| {
                    (*i as u64) < over || key.as_ref().map(|k| k[..8] < cutoff[..]).unwrap_or(false)
                })
                .filter_map(|(_, key)| key.ok())
                .collect();
            if keys.is_empty() {
                return Ok(removed);
            }
            let ops: Vec<Op> = keys.iter().map(|k| (TreeId::Audit, k.to_vec(), None)).collect();
            {
                let _turn = self.inner.durability.write_turn();
                self.transact(&ops)?;
            }
            removed += keys.len() as u64;
        }
    }

    /// Runs blocking sled work off the async runtime.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&SledStore) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let store = self.clone();
        tokio::task::spawn_blocking(move || work(&store))
            .await
            .map_err(|e| StoreError::Engine(format!("a store task failed: {e}")))?
    }
}

/// A new random epoch: 16 hex digits.
fn new_epoch() -> Result<String, StoreError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Engine(format!("no random bytes: {e}")))?;
    Ok(hex::encode(bytes))
}

/// The error of an open that sled gave up on with a panic.
fn damaged(dir: &Path, panic: Box<dyn std::any::Any + Send>) -> StoreError {
    let what = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "no detail".into());
    StoreError::corrupt(
        "db",
        dir.display().to_string(),
        format!(
            "the data directory is damaged beyond what the embedded database can read ({what}); \
             restore it from an export, or try `accord-registry export --salvage`"
        ),
    )
}

/// What `verify` found: how much the store holds and every problem.
#[derive(Debug, Default)]
pub struct VerifyReport {
    /// Versions that read back.
    pub versions: usize,
    /// Schema texts that read back.
    pub schemas: usize,
    /// Events that read back.
    pub events: usize,
    /// Audit records that read back.
    pub audit: usize,
    /// Each problem, in words: the tree, the key, what is wrong.
    pub problems: Vec<String>,
}

/// What `export --salvage` could read: the intact records, the events in
/// their order (renumbered from 1 when some were lost), and each problem.
#[derive(Debug, Default)]
pub struct Salvage {
    /// The intact state.
    pub snapshot: Snapshot,
    /// The intact events, numbered from 1 without a gap.
    pub events: Vec<Event>,
    /// What was left out, and why.
    pub problems: Vec<String>,
}

impl SledStore {
    /// Reads every record of every tree, checking each checksum, then the
    /// store's invariants; collects every problem instead of stopping at
    /// the first.
    pub fn verify(&self) -> VerifyReport {
        let salvage = self.salvage();
        let mut report = VerifyReport {
            versions: salvage.snapshot.versions.len(),
            schemas: salvage.snapshot.schemas.len(),
            events: salvage.events.len(),
            problems: salvage.problems,
            ..VerifyReport::default()
        };
        for item in self.inner.tree(TreeId::Audit).iter() {
            match item {
                Ok((key, value)) => match decode::<AuditRecord>("audit", &key, &value) {
                    Ok(_) => report.audit += 1,
                    Err(e) => report.problems.push(e.to_string()),
                },
                Err(e) => report.problems.push(format!("audit: {e}")),
            }
        }
        if report.problems.is_empty() {
            // The whole load, invariants included, as a start-up would.
            if let Err(e) = self.load_blocking() {
                report.problems.push(e.to_string());
            }
        }
        report
    }

    /// Everything that reads back intact, for `export --salvage`.
    pub fn salvage(&self) -> Salvage {
        let mut out = Salvage::default();
        let mut note = |problem: String| out.problems.push(problem);
        let mut texts: HashMap<String, Arc<str>> = HashMap::new();
        for item in self.inner.tree(TreeId::Schemas).iter() {
            let Ok((key, value)) = item.map_err(|e| note(format!("schemas: {e}"))) else {
                continue;
            };
            let fingerprint = String::from_utf8_lossy(&key).into_owned();
            match decode_text("schemas", &key, &value) {
                Ok(text) => {
                    let actual = serde_json::from_str::<serde_json::Value>(&text)
                        .map(|v| accord_compat::fingerprint(&v));
                    if actual.as_deref().ok() == Some(fingerprint.as_str()) {
                        texts.insert(fingerprint, text);
                    } else {
                        note(format!(
                            "schemas at {fingerprint}: the text does not have this fingerprint"
                        ));
                    }
                }
                Err(e) => note(e.to_string()),
            }
        }
        for item in self.inner.tree(TreeId::Versions).iter() {
            let Ok((key, value)) = item.map_err(|e| note(format!("versions: {e}"))) else {
                continue;
            };
            match decode::<VersionRecord>("versions", &key, &value) {
                Ok(record) if version_key(&record.name, &record.version) != key.as_ref() => {
                    note(format!(
                        "versions at {}: holds {}@{}",
                        printable(&key),
                        record.name,
                        record.version
                    ));
                }
                Ok(record) if record.erased.is_none() && !texts.contains_key(&record.fingerprint) => {
                    note(format!(
                        "versions at {}: its schema {} is missing or damaged; left out",
                        printable(&key),
                        record.fingerprint
                    ));
                }
                Ok(record) => out.snapshot.versions.push(record),
                Err(e) => note(e.to_string()),
            }
        }
        for item in self.inner.tree(TreeId::Settings).iter() {
            let Ok((key, value)) = item.map_err(|e| note(format!("settings: {e}"))) else {
                continue;
            };
            match (
                decode::<Settings>("settings", &key, &value),
                contract_of_key("settings", &key),
            ) {
                (Ok(settings), Ok(None)) => {
                    out.snapshot.global = Some(settings.over(CompatConfig::default()))
                }
                (Ok(settings), Ok(Some(name))) => out.snapshot.settings.push((name, settings)),
                (Err(e), _) | (_, Err(e)) => note(e.to_string()),
            }
        }
        let mut expected = 1;
        for item in self.inner.tree(TreeId::Events).iter() {
            let Ok((key, value)) = item.map_err(|e| note(format!("events: {e}"))) else {
                continue;
            };
            match decode::<Event>("events", &key, &value) {
                Ok(event) => {
                    if event.sequence != expected {
                        note(format!(
                            "events: sequence {} follows {}; the salvaged log is renumbered",
                            event.sequence,
                            expected - 1
                        ));
                        expected = event.sequence;
                    }
                    expected += 1;
                    out.events.push(event);
                }
                Err(e) => note(e.to_string()),
            }
        }
        for (i, event) in out.events.iter_mut().enumerate() {
            event.sequence = i as u64 + 1;
        }
        out.snapshot.last_sequence = out.events.len() as u64;
        let used: HashSet<&str> = out
            .snapshot
            .versions
            .iter()
            .map(|v| v.fingerprint.as_str())
            .collect();
        out.snapshot.schemas = texts
            .into_iter()
            .filter(|(f, _)| used.contains(f.as_str()))
            .collect();
        out
    }
}

/// The error of a failed open, saying plainly when another process holds
/// the directory.
fn open_error(dir: &Path, e: sled::Error) -> StoreError {
    let text = e.to_string();
    if text.contains("WouldBlock")
        || text.contains("could not acquire lock")
        || text.contains("Resource temporarily unavailable")
    {
        StoreError::InUse(dir.display().to_string())
    } else {
        StoreError::Engine(format!("cannot open the store in {}: {text}", dir.display()))
    }
}

#[async_trait::async_trait]
impl Store for SledStore {
    fn describe(&self) -> String {
        format!("sled in {}", self.inner.dir.display())
    }

    async fn load(&self) -> Result<Snapshot, StoreError> {
        self.blocking(SledStore::load_blocking).await
    }

    async fn apply(&self, batch: Batch) -> Result<Applied, StoreError> {
        self.blocking(move |s| s.apply_blocking(batch)).await
    }

    async fn sync(&self, ticket: Ticket) -> Result<(), StoreError> {
        self.blocking(move |s| s.sync_blocking(ticket)).await
    }

    async fn flush(&self) -> Result<(), StoreError> {
        self.blocking(|s| {
            let (applied, sequence) = {
                let flushes = lock(&s.inner.durability.flush);
                (flushes.applied, flushes.applied_sequence)
            };
            s.sync_blocking(applied)?;
            s.seal(sequence, true);
            Ok(())
        })
        .await
    }

    async fn events_after(&self, after: u64, limit: usize) -> Result<Vec<Event>, StoreError> {
        self.blocking(move |s| s.events_after_blocking(after, limit))
            .await
    }

    async fn audit_page(
        &self,
        since_micros: u64,
        cursor: Option<AuditCursor>,
        limit: usize,
    ) -> Result<Vec<(AuditCursor, AuditRecord)>, StoreError> {
        self.blocking(move |s| s.audit_page_blocking(since_micros, cursor, limit))
            .await
    }

    async fn prune_audit(&self, before_micros: u64, keep: u64) -> Result<u64, StoreError> {
        self.blocking(move |s| s.prune_audit_blocking(before_micros, keep))
            .await
    }

    async fn writable(&self) -> Result<(), StoreError> {
        self.check_writable(false)
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        self.blocking(SledStore::is_empty_now).await
    }

    fn observe(&self, observer: super::Observer) {
        self.inner.timings.set(observer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EventKind;

    /// Opens the store in `dir`, waiting longer than a registry does for
    /// the lock that a handle this test dropped may still hold: sled ends
    /// its last log writes on its own threads after the handle is gone.
    fn open_when_free(dir: &Path) -> Result<SledStore, StoreError> {
        SledStore::open_waiting(dir, std::time::Duration::from_secs(10))
    }

    fn name() -> ContractName {
        ContractName::new("orders", "placed").unwrap()
    }

    fn record(version: &str, fp: &str) -> VersionRecord {
        VersionRecord {
            name: name(),
            version: semver::Version::parse(version).unwrap(),
            fingerprint: fp.into(),
            created_at: 1,
            bump: None,
            deprecated: None,
            deleted_at: None,
            draft: None,
            published_by: String::new(),
            erased: None,
        }
    }

    fn published(version: &str) -> Event {
        Event::new(EventKind::Published, Some(&name()), version.into())
    }

    const EMPTY_FP: &str = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    fn schema() -> (String, Arc<str>) {
        (EMPTY_FP.into(), Arc::from("{}"))
    }

    fn commit(store: &SledStore, batch: Batch) -> Result<Applied, StoreError> {
        let applied = store.apply_blocking(batch)?;
        store.sync_blocking(applied.ticket)?;
        Ok(applied)
    }

    #[test]
    fn the_empty_schema_fingerprint_is_right() {
        assert_eq!(accord_compat::fingerprint(&serde_json::json!({})), EMPTY_FP);
    }

    #[test]
    fn a_commit_survives_reopening_with_sequences_and_revisions() {
        let dir = tempfile::tempdir().unwrap();
        let epoch = {
            let store = open_when_free(dir.path()).unwrap();
            assert!(store.is_empty_now().unwrap());
            let applied = commit(
                &store,
                Batch {
                    versions: vec![record("1.0.0", EMPTY_FP), record("1.1.0", EMPTY_FP)],
                    schemas: vec![schema()],
                    settings: vec![(None, Some(Settings::full(CompatConfig::default())))],
                    events: vec![published("1.0.0"), published("1.1.0")],
                    ..Batch::default()
                },
            )
            .unwrap();
            assert_eq!(
                applied.events.iter().map(|e| e.sequence).collect::<Vec<_>>(),
                [1, 2]
            );
            assert_eq!(applied.last_sequence, 2);
            store.load_blocking().unwrap().epoch
        };
        let store = open_when_free(dir.path()).unwrap();
        let snapshot = store.load_blocking().unwrap();
        assert_eq!(snapshot.epoch, epoch);
        assert_eq!(
            snapshot.versions,
            vec![record("1.0.0", EMPTY_FP), record("1.1.0", EMPTY_FP)]
        );
        assert_eq!(&*snapshot.schemas[0].1, "{}");
        assert_eq!(snapshot.global, Some(CompatConfig::default()));
        assert_eq!(snapshot.last_sequence, 2);
        assert_eq!(snapshot.revisions, vec![(Some(name()), 2)]);
        assert_eq!(store.events_after_blocking(1, 10).unwrap()[0].version, "1.1.0");
    }

    #[test]
    fn a_batch_decided_on_an_old_revision_is_refused_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = open_when_free(dir.path()).unwrap();
        commit(
            &store,
            Batch {
                expect: vec![(Some(name()), 0)],
                versions: vec![record("1.0.0", EMPTY_FP)],
                schemas: vec![schema()],
                events: vec![published("1.0.0")],
                ..Batch::default()
            },
        )
        .unwrap();
        let err = commit(
            &store,
            Batch {
                expect: vec![(Some(name()), 0)],
                versions: vec![record("1.1.0", EMPTY_FP)],
                events: vec![published("1.1.0")],
                ..Batch::default()
            },
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Conflict {
                    expected: 0,
                    found: 1,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(store.load_blocking().unwrap().versions.len(), 1);
        assert_eq!(store.last_sequence().unwrap(), 1);
    }

    #[test]
    fn a_released_schema_is_erased_only_when_no_live_version_uses_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = open_when_free(dir.path()).unwrap();
        commit(
            &store,
            Batch {
                versions: vec![record("1.0.0", EMPTY_FP), record("1.1.0", EMPTY_FP)],
                schemas: vec![schema()],
                events: vec![published("1.0.0")],
                ..Batch::default()
            },
        )
        .unwrap();
        let mut erased = record("1.0.0", EMPTY_FP);
        erased.erased = Some(crate::model::Tombstone {
            at: 2,
            by: "ops".into(),
        });
        let applied = commit(
            &store,
            Batch {
                versions: vec![erased.clone()],
                released_schemas: vec![EMPTY_FP.into()],
                ..Batch::default()
            },
        )
        .unwrap();
        assert!(applied.erased_schemas.is_empty(), "1.1.0 still uses it");
        let mut erased_too = record("1.1.0", EMPTY_FP);
        erased_too.erased = erased.erased.clone();
        let applied = commit(
            &store,
            Batch {
                versions: vec![erased_too],
                released_schemas: vec![EMPTY_FP.into()],
                ..Batch::default()
            },
        )
        .unwrap();
        assert_eq!(applied.erased_schemas, vec![EMPTY_FP.to_owned()]);
        let snapshot = store.load_blocking().unwrap();
        assert!(snapshot.schemas.is_empty());
        assert_eq!(snapshot.versions.len(), 2, "the tombstones stay");
    }

    #[test]
    fn audit_records_are_written_with_the_change_and_paged_in_time_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = open_when_free(dir.path()).unwrap();
        let audit = |t: u64| AuditRecord {
            time_micros: t,
            principal: "ci".into(),
            action: "PublishContract".into(),
            target: "orders/placed".into(),
            allowed: true,
            outcome: "OK".into(),
            message: String::new(),
        };
        commit(&store, Batch::audit_only(vec![audit(5), audit(3)])).unwrap();
        commit(
            &store,
            Batch {
                versions: vec![record("1.0.0", EMPTY_FP)],
                schemas: vec![schema()],
                events: vec![published("1.0.0")],
                audit: vec![audit(9)],
                ..Batch::default()
            },
        )
        .unwrap();
        let page = store.audit_page_blocking(0, None, 2).unwrap();
        assert_eq!(
            page.iter().map(|(_, r)| r.time_micros).collect::<Vec<_>>(),
            [3, 5]
        );
        let rest = store.audit_page_blocking(0, Some(page[1].0.clone()), 10).unwrap();
        assert_eq!(rest.iter().map(|(_, r)| r.time_micros).collect::<Vec<_>>(), [9]);
        assert_eq!(store.audit_page_blocking(6, None, 10).unwrap().len(), 1);
    }

    #[test]
    fn the_audit_log_is_pruned_by_age_then_by_count() {
        let dir = tempfile::tempdir().unwrap();
        let store = open_when_free(dir.path()).unwrap();
        let audit = |t: u64| AuditRecord {
            time_micros: t,
            principal: "ci".into(),
            action: "PublishContract".into(),
            target: "orders/placed".into(),
            allowed: true,
            outcome: "OK".into(),
            message: String::new(),
        };
        commit(&store, Batch::audit_only((1..=2500).map(audit).collect())).unwrap();
        // Older than 1001: 1000 records go; then all but the newest 1200.
        assert_eq!(store.prune_audit_blocking(1001, 1200).unwrap(), 1000 + 300);
        let left = store.audit_page_blocking(0, None, 5000).unwrap();
        assert_eq!(left.len(), 1200);
        assert_eq!(left[0].1.time_micros, 1301);
        assert_eq!(store.prune_audit_blocking(0, u64::MAX).unwrap(), 0);
    }

    #[test]
    fn concurrent_batches_are_all_durable_and_numbered_without_gaps() {
        let dir = tempfile::tempdir().unwrap();
        let writers = 8;
        let each = 25;
        {
            let store = open_when_free(dir.path()).unwrap();
            let threads: Vec<_> = (0..writers)
                .map(|w| {
                    let store = store.clone();
                    std::thread::spawn(move || {
                        for i in 0..each {
                            let version = format!("{w}.{i}.0");
                            commit(
                                &store,
                                Batch {
                                    versions: vec![record(&version, EMPTY_FP)],
                                    schemas: vec![schema()],
                                    events: vec![published(&version)],
                                    ..Batch::default()
                                },
                            )
                            .unwrap();
                        }
                    })
                })
                .collect();
            for t in threads {
                t.join().unwrap();
            }
            let flushes = lock(&store.inner.durability.flush);
            assert_eq!(flushes.applied, (writers * each) as Ticket);
            assert_eq!(flushes.durable, flushes.applied);
            assert!(flushes.undo.is_empty());
        }
        let store = open_when_free(dir.path()).unwrap();
        let snapshot = store.load_blocking().unwrap();
        assert_eq!(snapshot.versions.len(), writers * each);
        assert_eq!(snapshot.last_sequence, (writers * each) as u64);
    }

    #[test]
    fn a_directory_held_by_an_open_store_is_refused_then_free_once_closed() {
        let dir = tempfile::tempdir().unwrap();
        let first = open_when_free(dir.path()).unwrap();
        let Err(err) = SledStore::open(dir.path()) else {
            panic!("a second store opened the directory the first one holds");
        };
        assert!(matches!(err, StoreError::InUse(_)), "{err}");
        assert!(
            err.to_string().contains("another accord-registry is using"),
            "{err}"
        );
        drop(first);
        open_when_free(dir.path()).expect("the directory is free once the first store is closed");
    }

    #[test]
    fn another_format_is_refused_at_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = sled::open(dir.path().join("db")).unwrap();
            db.open_tree("meta").unwrap().insert(FORMAT_KEY, &[9u8]).unwrap();
            db.flush().unwrap();
        }
        let err = open_when_free(dir.path()).unwrap_err();
        assert!(
            matches!(err, StoreError::FormatMismatch { found: 9, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("format 9"), "{err}");
    }

    #[test]
    fn a_flipped_byte_in_a_value_is_reported_not_read() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = open_when_free(dir.path()).unwrap();
            commit(
                &store,
                Batch {
                    versions: vec![record("1.0.0", EMPTY_FP)],
                    schemas: vec![schema()],
                    events: vec![published("1.0.0")],
                    ..Batch::default()
                },
            )
            .unwrap();
            let tree = store.inner.tree(TreeId::Versions);
            let (key, value) = tree.iter().next().unwrap().unwrap();
            let mut bad = value.to_vec();
            let last = bad.len() - 2;
            bad[last] ^= 0x01;
            tree.insert(key, bad).unwrap();
            store.inner.db.flush().unwrap();
        }
        let err = open_when_free(dir.path()).unwrap().load_blocking().unwrap_err();
        assert!(err.to_string().contains("checksum mismatch"), "{err}");
        assert!(err.to_string().contains("orders/placed/1.0.0"), "{err}");
    }

    #[test]
    fn a_store_of_the_first_format_is_rewritten_and_reads_the_same() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = sled::open(dir.path().join("db")).unwrap();
            let put = |tree: &str, key: &[u8], json: &str| {
                let mut value = vec![FORMAT_1];
                value.extend_from_slice(json.as_bytes());
                db.open_tree(tree).unwrap().insert(key, value).unwrap();
            };
            db.open_tree("meta")
                .unwrap()
                .insert(FORMAT_KEY, &[FORMAT_1])
                .unwrap();
            put(
                "versions",
                b"orders\x00placed\x001.0.0",
                &format!(
                    r#"{{"name":{{"component":"orders","contract":"placed"}},"version":"1.0.0","fingerprint":"{EMPTY_FP}","created_at":1,"bump":null,"deprecated":null,"deleted_at":null}}"#
                ),
            );
            put("schemas", EMPTY_FP.as_bytes(), "{}");
            put(
                "configs",
                b"orders\0placed",
                r#"{"mode":"FULL","policy":"LENIENT"}"#,
            );
            put(
                "events",
                &1u64.to_be_bytes(),
                r#"{"sequence":1,"kind":"published","time":1,"component":"orders","contract":"placed","version":"1.0.0","fingerprint":"f","message":"","config":null,"hard":false}"#,
            );
            db.flush().unwrap();
        }
        let store = open_when_free(dir.path()).unwrap();
        let snapshot = store.load_blocking().unwrap();
        assert_eq!(snapshot.versions, vec![record("1.0.0", EMPTY_FP)]);
        assert_eq!(snapshot.last_sequence, 1);
        assert_eq!(snapshot.revisions, vec![(Some(name()), 1)]);
        assert_eq!(
            snapshot.settings,
            vec![(
                name(),
                Settings {
                    mode: Some(accord_compat::Mode::Full),
                    policy: Some(accord_compat::Policy::Lenient),
                    consumer_breaks: None,
                }
            )]
        );
        drop(store);
        // And opens again as format 2.
        assert_eq!(
            open_when_free(dir.path())
                .unwrap()
                .load_blocking()
                .unwrap()
                .last_sequence,
            1
        );
    }
}
