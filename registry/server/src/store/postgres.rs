//! The shared store: a PostgreSQL database that any number of registry
//! replicas write and follow.
//!
//! Tables (created and migrated at start-up under an advisory lock):
//! - `accord_meta`: `format`, `epoch`.
//! - `accord_sequence`: one counter row, the last event's sequence. A write
//!   takes its sequences by updating it in its own transaction, as its last
//!   statement before commit: the row lock orders writers, so sequences are
//!   gap-free and commit in order (an identity column would not be: its
//!   values are taken at insert, and commit in any order).
//! - `accord_contracts`: one row per contract (and `('', '')` for the global
//!   settings) with its settings and revision. A write locks the rows of
//!   what it decided on (`FOR UPDATE` what it changes, `FOR SHARE` the rest)
//!   and refuses when a revision moved since its decision.
//! - `accord_schemas`: schema texts by fingerprint.
//! - `accord_versions`: version records; `live_fingerprint` references the
//!   schema text while the version is not erased, so a text still used by
//!   another replica's fresh write cannot be erased (the foreign key check
//!   waits for that write and refuses the delete); `written` is the
//!   sequence of the write that last wrote the row, so that a follower
//!   reads only the versions written since it last read.
//! - `accord_events`: the event log, by sequence.
//! - `accord_audit`: the audit log; ids are ordered across replicas.
//! - `accord_tokens`: bearer tokens (salted hashes), when the registry keeps
//!   them in the database.
//! - `accord_consumers`: registered consumptions, by the contract read and
//!   the consuming component.
//! - `accord_waivers`: waivers, by id, with the contract they cover.
//!
//! The last two tables came with consumers; they are created where they are
//! missing, and the tables of format 1 are unchanged.
//!
//! A replica's concurrent writes are applied in groups
//! ([`super::group`]): one transaction, one hold of the counter row and one
//! commit for all the batches that queued while the previous group
//! committed, each batch still checked and refused on its own.
//!
//! Every write sends `NOTIFY accord_changes` in its transaction; replicas
//! listen on a dedicated connection only to wake up, and always catch up by
//! sequence ([`Store::follow`]), so a notification lost while a listener was
//! disconnected costs nothing but a little delay.

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
    sync::Arc,
    time::Duration,
};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use futures::StreamExt;
use tokio::sync::Notify;
use tokio_postgres::{IsolationLevel, NoTls, error::SqlState};

use super::{
    Applied, AuditCursor, Batch, Changes, ContractState, Snapshot, Store, StoreError, Ticket,
    group::GroupCommit,
};
use crate::{
    auth::tokens::{TokenEntry, TokenFile},
    model::{AuditRecord, CompatConfig, ContractName, Event, Settings, VersionRecord, now_millis},
};

/// The schema version of the tables this code reads and writes.
pub const FORMAT: i64 = 1;

/// The advisory lock key under which replicas create or migrate tables.
const MIGRATION_LOCK: i64 = 0x6163_636f_7264; // "accord"

/// The notification channel of changes.
const CHANNEL: &str = "accord_changes";
/// The notification channel of token changes.
const TOKENS_CHANNEL: &str = "accord_tokens";

/// The store's name in the metrics.
const STORE: &str = "postgres";

/// Events read per round while following.
const FOLLOW_CHUNK: i64 = 1000;

/// Connections in the pool of one replica.
const POOL_SIZE: usize = 16;

const MIGRATION: &str = r"
CREATE TABLE IF NOT EXISTS accord_meta (
    key text PRIMARY KEY,
    value text NOT NULL
);
CREATE TABLE IF NOT EXISTS accord_sequence (
    id int PRIMARY KEY CHECK (id = 1),
    last bigint NOT NULL
);
INSERT INTO accord_sequence (id, last) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
CREATE TABLE IF NOT EXISTS accord_contracts (
    component text NOT NULL,
    contract text NOT NULL,
    revision bigint NOT NULL DEFAULT 0,
    settings text,
    PRIMARY KEY (component, contract)
);
INSERT INTO accord_contracts (component, contract) VALUES ('', '') ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS accord_schemas (
    fingerprint text PRIMARY KEY,
    text text NOT NULL
);
CREATE TABLE IF NOT EXISTS accord_versions (
    component text NOT NULL,
    contract text NOT NULL,
    version text NOT NULL,
    fingerprint text NOT NULL,
    live_fingerprint text REFERENCES accord_schemas (fingerprint) ON DELETE RESTRICT,
    record text NOT NULL,
    PRIMARY KEY (component, contract, version)
);
CREATE INDEX IF NOT EXISTS accord_versions_live ON accord_versions (live_fingerprint);
-- The sequence of the write that last wrote the row (NULL: written before
-- the column existed), so that a follower reads only what changed.
ALTER TABLE accord_versions ADD COLUMN IF NOT EXISTS written bigint;
-- A follower finds the versions written since it last read by these: the
-- marked ones by sequence, the unmarked ones (none, unless a replica of an
-- older build writes) by contract.
CREATE INDEX IF NOT EXISTS accord_versions_written ON accord_versions (written);
CREATE INDEX IF NOT EXISTS accord_versions_unmarked ON accord_versions (component, contract)
    WHERE written IS NULL;
CREATE TABLE IF NOT EXISTS accord_events (
    sequence bigint PRIMARY KEY,
    component text NOT NULL,
    contract text NOT NULL,
    fingerprint text NOT NULL,
    kind text NOT NULL,
    event text NOT NULL
);
CREATE TABLE IF NOT EXISTS accord_audit (
    id bigserial PRIMARY KEY,
    time_micros bigint NOT NULL,
    record text NOT NULL
);
CREATE INDEX IF NOT EXISTS accord_audit_time ON accord_audit (time_micros, id);
CREATE TABLE IF NOT EXISTS accord_tokens (
    name text PRIMARY KEY,
    id text NOT NULL UNIQUE,
    entry text NOT NULL
);
CREATE TABLE IF NOT EXISTS accord_consumers (
    component text NOT NULL,
    contract text NOT NULL,
    consumer text NOT NULL,
    record text NOT NULL,
    PRIMARY KEY (component, contract, consumer)
);
CREATE TABLE IF NOT EXISTS accord_waivers (
    id text PRIMARY KEY,
    component text NOT NULL,
    contract text NOT NULL,
    record text NOT NULL
);
CREATE INDEX IF NOT EXISTS accord_waivers_contract ON accord_waivers (component, contract);
";

/// The PostgreSQL implementation of [`Store`].
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// Where, for logs: host, port and database, never credentials.
    describe: String,
    pool: Pool,
    /// Woken by notifications (and by the listener reconnecting).
    changed: Arc<Notify>,
    /// What the listener knows of others' writes.
    announced: Arc<Announced>,
    /// Woken by token notifications.
    tokens_changed: Arc<Notify>,
    listener: tokio::task::JoinHandle<()>,
    timings: super::Timings,
    /// This replica's writes, applied in groups.
    group: GroupCommit<Batch, Result<Applied, StoreError>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("database", &self.inner.describe)
            .finish()
    }
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn engine(context: &str) -> impl Fn(tokio_postgres::Error) -> StoreError + '_ {
    move |e| classify(context, e)
}

/// Connection failures are [`StoreError::Unavailable`]: the database may
/// come back. Errors the database reports are [`StoreError::Engine`].
fn classify(context: &str, e: tokio_postgres::Error) -> StoreError {
    match e.as_db_error() {
        Some(db) => StoreError::Engine(format!("{context}: {} ({})", db.message(), db.code().code())),
        None => {
            let cause = std::error::Error::source(&e)
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            StoreError::Unavailable(format!("{context}: {e}{cause}"))
        }
    }
}

fn pool_error(e: deadpool_postgres::PoolError) -> StoreError {
    StoreError::Unavailable(format!("no connection to the database: {}", pool_cause(&e)))
}

/// What stopped the pool from giving a connection, in the server's words
/// when it answered (a database that does not exist, a refused role), not
/// only "db error".
fn pool_cause(e: &deadpool_postgres::PoolError) -> String {
    match e {
        deadpool_postgres::PoolError::Backend(e) => match e.as_db_error() {
            Some(db) => format!("{} ({})", db.message(), db.code().code()),
            None => match std::error::Error::source(e) {
                Some(cause) => format!("{e}: {cause}"),
                None => e.to_string(),
            },
        },
        other => other.to_string(),
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Engine(format!("cannot encode a value: {e}")))
}

fn parse<T: serde::de::DeserializeOwned>(
    table: &'static str,
    key: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::corrupt(table, key, e.to_string()))
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// The key columns of a contract (`('', '')` for the global settings).
fn key_of(name: Option<&ContractName>) -> (String, String) {
    match name {
        Some(n) => (n.component().to_owned(), n.contract().to_owned()),
        None => (String::new(), String::new()),
    }
}

fn name_of(component: &str, contract: &str) -> Result<Option<ContractName>, StoreError> {
    if component.is_empty() && contract.is_empty() {
        return Ok(None);
    }
    ContractName::new(component, contract).map(Some).map_err(|e| {
        StoreError::corrupt(
            "accord_contracts",
            format!("{component}/{contract}"),
            e.to_string(),
        )
    })
}

impl PostgresStore {
    /// Connects to the database at `url`, creates or migrates its tables
    /// under an advisory lock (so that replicas starting together take
    /// turns), and starts listening for other replicas' changes.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Engine(format!("invalid PostgreSQL URL: {e}")))?;
        let describe = describe(&config);
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(10)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Engine(format!("cannot build the connection pool: {e}")))?;
        migrate(&pool, &describe).await?;
        let changed = Arc::new(Notify::new());
        let tokens_changed = Arc::new(Notify::new());
        let announced = Arc::new(Announced::default());
        let listener = tokio::spawn(listen(
            config,
            changed.clone(),
            tokens_changed.clone(),
            announced.clone(),
        ));
        Ok(Self {
            inner: Arc::new(Inner {
                describe,
                pool,
                changed,
                announced,
                tokens_changed,
                listener,
                timings: super::Timings::default(),
                group: GroupCommit::default(),
            }),
        })
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.inner.pool.get().await.map_err(pool_error)
    }

    /// Removes every table of the registry from the database. For tests and
    /// for a clean re-import; never called by the server.
    pub async fn drop_all(&self) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .batch_execute(
                "DROP TABLE IF EXISTS accord_tokens, accord_audit, accord_events, accord_versions, \
                 accord_schemas, accord_contracts, accord_sequence, accord_meta, accord_consumers, \
                 accord_waivers CASCADE",
            )
            .await
            .map_err(engine("dropping the tables"))
    }

    /// Every token the database holds.
    pub async fn tokens(&self) -> Result<TokenFile, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query("SELECT name, entry FROM accord_tokens ORDER BY name", &[])
            .await
            .map_err(engine("reading the tokens"))?;
        let mut file = TokenFile {
            format: crate::auth::tokens::FILE_FORMAT,
            tokens: Vec::new(),
        };
        for row in rows {
            let name: String = row.get(0);
            let entry: String = row.get(1);
            file.tokens.push(parse("accord_tokens", &name, &entry)?);
        }
        file.tokens
            .sort_by(|a: &TokenEntry, b| a.created_at.cmp(&b.created_at));
        Ok(file)
    }

    /// Adds a token; refused when one with the same name exists.
    pub async fn add_token(&self, entry: &TokenEntry) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let added = client
            .execute(
                "INSERT INTO accord_tokens (name, id, entry) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&entry.name, &entry.id, &json(entry)?],
            )
            .await
            .map_err(engine("adding a token"))?;
        client
            .batch_execute(&format!("NOTIFY {TOKENS_CHANNEL}"))
            .await
            .map_err(engine("announcing a token"))?;
        Ok(added == 1)
    }

    /// Removes the token named `name`; false when there is none.
    pub async fn revoke_token(&self, name: &str) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let removed = client
            .execute("DELETE FROM accord_tokens WHERE name = $1", &[&name])
            .await
            .map_err(engine("revoking a token"))?;
        client
            .batch_execute(&format!("NOTIFY {TOKENS_CHANNEL}"))
            .await
            .map_err(engine("announcing a revocation"))?;
        Ok(removed == 1)
    }

    /// Completes when a token may have been added or revoked.
    pub async fn tokens_changed(&self) {
        self.inner.tokens_changed.notified().await;
    }

    /// Applies a group of batches (see [`GroupCommit`]) in one
    /// transaction; the answer of each, in order.
    async fn apply_group(&self, batches: &[Batch]) -> Vec<Result<Applied, StoreError>> {
        let answers = match self.apply_group_once(batches, false).await {
            Err(GroupFailure::Isolate) => self.apply_group_once(batches, true).await,
            answers => answers,
        };
        match answers {
            Ok(answers) => answers,
            Err(GroupFailure::All(e)) => batches.iter().map(|_| Err(e.duplicate())).collect(),
            Err(GroupFailure::Isolate) => batches
                .iter()
                .map(|_| Err(StoreError::Engine("a group of writes failed twice".into())))
                .collect(),
        }
    }

    /// Each batch is checked against what it was decided on, and written;
    /// the events of those written are numbered together, under one hold
    /// of the counter row, and committed at once. The rows of several
    /// batches go out together; when one of them fails (rare: a race with
    /// another replica's erasure), the group is tried again with
    /// `isolate`, each batch behind a savepoint of its own, so that one
    /// batch's failure refuses that batch alone.
    async fn apply_group_once(
        &self,
        batches: &[Batch],
        isolate: bool,
    ) -> Result<Vec<Result<Applied, StoreError>>, GroupFailure> {
        let started = std::time::Instant::now();
        let mut client = self.client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::ReadCommitted)
            .start()
            .await
            .map_err(engine("starting a transaction"))?;
        // Lock what the decisions rested on, FOR UPDATE what a batch
        // changes and FOR SHARE the rest, all in one order (global
        // settings first) so that two transactions cannot wait on each
        // other; then refuse the batches whose contracts moved.
        let mut keys: BTreeMap<(String, String), bool> = BTreeMap::new();
        for batch in batches {
            let changed = changed_keys(batch);
            for (name, _) in &batch.expect {
                let key = key_of(name.as_ref());
                let update = changed.contains(&key);
                *keys.entry(key).or_insert(false) |= update;
            }
        }
        let found = lock_contracts(Tx(&tx), &keys).await?;
        let mut answers: Vec<Option<Result<Applied, StoreError>>> = batches
            .iter()
            .map(|batch| {
                let mut expected: Vec<&(Option<ContractName>, u64)> = batch.expect.iter().collect();
                expected.sort_by_key(|(n, _)| key_of(n.as_ref()));
                expected.into_iter().find_map(|(name, revision)| {
                    let found = found.get(&key_of(name.as_ref())).copied().unwrap_or(0);
                    (found != *revision).then(|| {
                        Err(StoreError::Conflict {
                            contract: name.clone(),
                            expected: *revision,
                            found,
                        })
                    })
                })
            })
            .collect();
        let alone = batches.len() == 1;
        let mut erased: Vec<Vec<String>> = vec![Vec::new(); batches.len()];
        let writing: Vec<usize> = (0..batches.len()).filter(|&i| answers[i].is_none()).collect();
        // Without erasures (which use savepoints of their own), the rows of
        // every batch go out together.
        let together =
            !isolate && writing.len() > 1 && writing.iter().all(|&i| batches[i].released_schemas.is_empty());
        if together {
            let written =
                futures::future::join_all(writing.iter().map(|&i| write_rows(Tx(&tx), &batches[i]))).await;
            for (&i, written) in writing.iter().zip(written) {
                match written {
                    Ok(e) => erased[i] = e,
                    // The transaction is rolled back as it is dropped.
                    Err(_) => return Err(GroupFailure::Isolate),
                }
            }
        }
        for (i, batch) in batches.iter().enumerate() {
            if together || answers[i].is_some() {
                continue;
            }
            if !alone {
                tx.batch_execute("SAVEPOINT batch")
                    .await
                    .map_err(engine("a savepoint"))?;
            }
            match write_rows(Tx(&tx), batch).await {
                Ok(e) => erased[i] = e,
                Err(e) if alone => return Err(GroupFailure::All(e)),
                Err(e) => {
                    tx.batch_execute("ROLLBACK TO SAVEPOINT batch")
                        .await
                        .map_err(engine("a savepoint"))?;
                    answers[i] = Some(Err(e));
                }
            }
        }
        if answers.iter().all(Option::is_some) {
            // Nothing to write: the transaction is rolled back as it is dropped.
            return Ok(answers.into_iter().flatten().collect());
        }
        let mut events = Vec::new();
        let mut ranges = vec![0..0; batches.len()];
        let mut wrote_versions = false;
        for (i, batch) in batches.iter().enumerate() {
            if answers[i].is_none() {
                let start = events.len();
                events.extend(batch.events.iter().cloned());
                ranges[i] = start..events.len();
                wrote_versions |= !batch.versions.is_empty();
            }
        }
        if !events.is_empty() {
            number_events(Tx(&tx), &mut events).await?;
        } else if wrote_versions {
            // Without an event to number them by, they are read with
            // their contract, as a build that did not mark them left them.
            Tx(&tx)
                .execute(
                    "UPDATE accord_versions SET written = NULL WHERE written = -txid_current()",
                    &[],
                )
                .await
                .map_err(engine("marking versions"))?;
        }
        let statements = started.elapsed();
        tx.commit().await.map_err(engine("committing"))?;
        let timings = &self.inner.timings;
        timings.report(STORE, "transaction", statements);
        timings.report(STORE, "commit", started.elapsed().saturating_sub(statements));
        Ok(answers
            .into_iter()
            .zip(ranges)
            .zip(erased)
            .map(|((answer, range), erased)| {
                answer.unwrap_or_else(|| {
                    let events = events[range].to_vec();
                    let last = events.last().map_or(0, |e| e.sequence);
                    Ok(Applied {
                        // Committed is durable: a ticket has nothing left to wait for.
                        ticket: last,
                        events,
                        last_sequence: last,
                        erased_schemas: erased,
                    })
                })
            })
            .collect())
    }

    async fn read_snapshot(&self) -> Result<Snapshot, StoreError> {
        let mut client = self.client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(engine("starting a snapshot"))?;
        let mut snapshot = Snapshot::default();
        let epoch = tx
            .query_one("SELECT value FROM accord_meta WHERE key = 'epoch'", &[])
            .await
            .map_err(engine("reading the epoch"))?;
        snapshot.epoch = epoch.get(0);
        let last = tx
            .query_one("SELECT last FROM accord_sequence WHERE id = 1", &[])
            .await
            .map_err(engine("reading the sequence"))?;
        snapshot.last_sequence = to_u64(last.get(0));
        for row in tx
            .query(
                "SELECT component, contract, revision, settings FROM accord_contracts",
                &[],
            )
            .await
            .map_err(engine("reading contracts"))?
        {
            let (component, contract): (String, String) = (row.get(0), row.get(1));
            let name = name_of(&component, &contract)?;
            let revision = to_u64(row.get(2));
            let settings: Option<String> = row.get(3);
            if revision > 0 {
                snapshot.revisions.push((name.clone(), revision));
            }
            if let Some(text) = settings {
                let settings: Settings =
                    parse("accord_contracts", &format!("{component}/{contract}"), &text)?;
                match name {
                    None => snapshot.global = Some(settings.over(CompatConfig::default())),
                    Some(name) => snapshot.settings.push((name, settings)),
                }
            }
        }
        for row in tx
            .query("SELECT fingerprint, text FROM accord_schemas", &[])
            .await
            .map_err(engine("reading schemas"))?
        {
            let text: String = row.get(1);
            snapshot.schemas.push((row.get(0), Arc::from(text)));
        }
        for row in tx
            .query(
                "SELECT component, contract, version, record FROM accord_versions",
                &[],
            )
            .await
            .map_err(engine("reading versions"))?
        {
            let key = format!(
                "{}/{}@{}",
                row.get::<_, String>(0),
                row.get::<_, String>(1),
                row.get::<_, String>(2)
            );
            let record: VersionRecord = parse("accord_versions", &key, row.get(3))?;
            snapshot.versions.push(record);
        }
        for row in tx
            .query(
                "SELECT component, contract, consumer, record FROM accord_consumers",
                &[],
            )
            .await
            .map_err(engine("reading consumers"))?
        {
            let key = format!(
                "{}/{} by {}",
                row.get::<_, String>(0),
                row.get::<_, String>(1),
                row.get::<_, String>(2)
            );
            snapshot
                .consumers
                .push(parse("accord_consumers", &key, row.get(3))?);
        }
        for row in tx
            .query("SELECT id, record FROM accord_waivers", &[])
            .await
            .map_err(engine("reading waivers"))?
        {
            let id: String = row.get(0);
            snapshot.waivers.push(parse("accord_waivers", &id, row.get(1))?);
        }
        tx.commit().await.map_err(engine("ending a snapshot"))?;
        Ok(snapshot)
    }

    async fn read_changes(&self, after: u64) -> Result<Option<Changes>, StoreError> {
        let client = self.client().await?;
        // Anything written from now on is announced (when listening): this
        // read covers what came before.
        self.inner
            .announced
            .unread
            .store(false, std::sync::atomic::Ordering::Release);
        let statement = client
            .prepare_cached(FOLLOW)
            .await
            .map_err(engine("reading changes"))?;
        let rows = client
            .query(&statement, &[&to_i64(after), &FOLLOW_CHUNK])
            .await
            .map_err(engine("reading changes"))?;
        changes_of(rows).map(Some)
    }
}

/// What a follower reads: the events after `$1` (at most `$2`), the head,
/// and the state of every contract those events are about, with its
/// versions written after `$1` (and those of a build that did not mark
/// them), consumers, waivers and the schema texts the events name. One
/// statement, so one snapshot in one round trip, without a transaction.
/// Each part is written so that the server reads it by an index whatever
/// it knows of the tables (a generic plan, or tables not yet analysed): the
/// rows of each contract read one contract at a time (`OFFSET 0` keeps the
/// lateral subquery from becoming a join of whole tables), and the
/// versions by the range between `$1` and the head, which it takes as
/// narrow.
/// Each row is tagged with the part it belongs to (`part`):
/// - 0 an event (`n` its sequence, `body` its text);
/// - 1 the head (`n`);
/// - 2 a contract (`n` its revision, `body` its settings);
/// - 3 a version (`key`, `body` its record); a version of a contract the
///   events read are not about was written after the last of them, and is
///   left to the next read;
/// - 4 a consumer (`key`), 5 a waiver (`key` its id);
/// - 6 a schema text (`key` its fingerprint).
const FOLLOW: &str = "\
WITH ev AS (SELECT sequence, component, contract, fingerprint, event FROM accord_events \
            WHERE sequence > $1 ORDER BY sequence LIMIT $2), \
     keys AS (SELECT DISTINCT component, contract FROM ev), \
     texts AS (SELECT DISTINCT fingerprint FROM ev WHERE fingerprint <> '') \
SELECT 0 AS part, sequence AS n, component, contract, '' AS key, event AS body FROM ev \
UNION ALL SELECT 1, last, '', '', '', NULL FROM accord_sequence WHERE id = 1 \
UNION ALL SELECT 2, c.revision, k.component, k.contract, '', c.settings FROM keys k \
    CROSS JOIN LATERAL (SELECT revision, settings FROM accord_contracts \
        WHERE component = k.component AND contract = k.contract OFFSET 0) c \
UNION ALL SELECT 3, 0, v.component, v.contract, v.version, v.record \
    FROM accord_versions v \
    WHERE v.written > $1 AND v.written <= (SELECT last FROM accord_sequence WHERE id = 1) \
UNION ALL SELECT 3, 0, k.component, k.contract, v.version, v.record FROM keys k \
    CROSS JOIN LATERAL (SELECT version, record FROM accord_versions \
        WHERE component = k.component AND contract = k.contract AND written IS NULL OFFSET 0) v \
UNION ALL SELECT 4, 0, k.component, k.contract, c.consumer, c.record FROM keys k \
    CROSS JOIN LATERAL (SELECT consumer, record FROM accord_consumers \
        WHERE component = k.component AND contract = k.contract OFFSET 0) c \
UNION ALL SELECT 5, 0, k.component, k.contract, w.id, w.record FROM keys k \
    CROSS JOIN LATERAL (SELECT id, record FROM accord_waivers \
        WHERE component = k.component AND contract = k.contract OFFSET 0) w \
UNION ALL SELECT 6, 0, '', '', t.fingerprint, s.text FROM texts t \
    CROSS JOIN LATERAL (SELECT text FROM accord_schemas WHERE fingerprint = t.fingerprint OFFSET 0) s";

/// The changes in the rows of [`FOLLOW`].
fn changes_of(rows: Vec<tokio_postgres::Row>) -> Result<Changes, StoreError> {
    let mut changes = Changes::default();
    // (component, contract) → revision and settings, of each contract read.
    let mut contracts: BTreeMap<(String, String), (u64, Option<String>)> = BTreeMap::new();
    let mut versions = Vec::new();
    let mut consumers = Vec::new();
    let mut waivers = Vec::new();
    for row in rows {
        let part: i32 = row.get(0);
        let n: i64 = row.get(1);
        let key = || -> (String, String) { (row.get(2), row.get(3)) };
        match part {
            0 => {
                let body: String = row.get(5);
                let mut event: Event = parse("accord_events", &n.to_string(), &body)?;
                // The column is the event's sequence (its text was written first).
                event.sequence = to_u64(n);
                changes.events.push(event);
            }
            1 => changes.head = to_u64(n),
            2 => {
                contracts.insert(key(), (to_u64(n), row.get(5)));
            }
            3 => versions.push((key(), row.get::<_, String>(4), row.get::<_, String>(5))),
            4 => consumers.push((key(), row.get::<_, String>(4), row.get::<_, String>(5))),
            5 => waivers.push((key(), row.get::<_, String>(4), row.get::<_, String>(5))),
            6 => {
                let text: String = row.get(5);
                changes.schemas.push((row.get(4), Arc::from(text)));
            }
            other => {
                return Err(StoreError::corrupt(
                    "accord_events",
                    "a follow",
                    format!("a row of part {other}"),
                ));
            }
        }
    }
    changes.events.sort_by_key(|e| e.sequence);
    let Some(last) = changes.events.last() else {
        return Ok(changes);
    };
    changes.last_sequence = last.sequence;
    let touched: BTreeSet<(String, String)> = changes
        .events
        .iter()
        .map(|e| (e.component.clone(), e.contract.clone()))
        .collect();
    let mut states: BTreeMap<(String, String), ContractState> = BTreeMap::new();
    for (component, contract) in touched {
        let label = format!("{component}/{contract}");
        let (revision, settings) = match contracts.remove(&(component.clone(), contract.clone())) {
            Some((revision, settings)) => (
                revision,
                settings
                    .map(|t| parse::<Settings>("accord_contracts", &label, &t))
                    .transpose()?,
            ),
            None => (0, None),
        };
        match name_of(&component, &contract)? {
            None => {
                let settings = settings.unwrap_or_else(|| Settings::full(CompatConfig::default()));
                changes.global = Some((settings.over(CompatConfig::default()), revision));
            }
            Some(name) => {
                states.insert(
                    (component, contract),
                    ContractState {
                        name,
                        versions: Vec::new(),
                        all_versions: false,
                        settings,
                        consumers: Vec::new(),
                        waivers: Vec::new(),
                        revision,
                    },
                );
            }
        }
    }
    // What has no contract state here (the global key, a contract only
    // written after the last event read) is skipped.
    for (key, version, record) in versions {
        if let Some(state) = states.get_mut(&key) {
            let label = format!("{}@{version}", state.name);
            state.versions.push(parse("accord_versions", &label, &record)?);
        }
    }
    consumers.sort_by(|a, b| a.1.cmp(&b.1));
    for (key, consumer, record) in consumers {
        if let Some(state) = states.get_mut(&key) {
            let label = format!("{} by {consumer}", state.name);
            state.consumers.push(parse("accord_consumers", &label, &record)?);
        }
    }
    waivers.sort_by(|a, b| a.1.cmp(&b.1));
    for (key, id, record) in waivers {
        if let Some(state) = states.get_mut(&key) {
            state.waivers.push(parse("accord_waivers", &id, &record)?);
        }
    }
    changes.contracts = states.into_values().collect();
    for state in &mut changes.contracts {
        state.versions.sort_by(|a, b| a.version.cmp(&b.version));
    }
    Ok(changes)
}

/// A transaction whose statements are prepared once per pooled connection
/// and kept: each later use costs one round trip, and the server neither
/// parses nor plans it again (the write path runs the same few statements
/// thousands of times a second).
#[derive(Clone, Copy)]
struct Tx<'a, 'c>(&'a deadpool_postgres::Transaction<'c>);

impl Tx<'_, '_> {
    async fn query_opt(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Option<tokio_postgres::Row>, tokio_postgres::Error> {
        let statement = self.0.prepare_cached(sql).await?;
        self.0.query_opt(&statement, params).await
    }

    async fn query_one(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<tokio_postgres::Row, tokio_postgres::Error> {
        let statement = self.0.prepare_cached(sql).await?;
        self.0.query_one(&statement, params).await
    }

    async fn execute(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<u64, tokio_postgres::Error> {
        let statement = self.0.prepare_cached(sql).await?;
        self.0.execute(&statement, params).await
    }

    async fn batch_execute(&self, sql: &str) -> Result<(), tokio_postgres::Error> {
        self.0.batch_execute(sql).await
    }
}

/// Host, port and database of a connection, for logs.
fn describe(config: &tokio_postgres::Config) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config.get_dbname().unwrap_or("postgres");
    format!("postgres at {host}:{port}/{db}")
}

/// Creates the tables, or checks and migrates them, under an advisory lock.
async fn migrate(pool: &Pool, describe: &str) -> Result<(), StoreError> {
    let client = pool
        .get()
        .await
        .map_err(|e| StoreError::Unavailable(format!("cannot connect to {describe}: {}", pool_cause(&e))))?;
    client
        .query_one("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(engine("taking the migration lock"))?;
    let outcome = async {
        client
            .batch_execute(MIGRATION)
            .await
            .map_err(engine("creating the tables"))?;
        let format = client
            .query_opt("SELECT value FROM accord_meta WHERE key = 'format'", &[])
            .await
            .map_err(engine("reading the format"))?;
        match format {
            None => {
                let mut bytes = [0u8; 8];
                getrandom::fill(&mut bytes)
                    .map_err(|e| StoreError::Engine(format!("no random bytes: {e}")))?;
                client
                    .execute(
                        "INSERT INTO accord_meta (key, value) VALUES ('format', $1), ('epoch', $2)",
                        &[&FORMAT.to_string(), &hex::encode(bytes)],
                    )
                    .await
                    .map_err(engine("recording the format"))?;
                tracing::info!(database = describe, "registry tables created");
            }
            Some(row) => {
                let found: String = row.get(0);
                if found != FORMAT.to_string() {
                    let found = found.parse::<u8>().unwrap_or(u8::MAX);
                    return Err(StoreError::FormatMismatch {
                        found,
                        expected: FORMAT as u8,
                    });
                }
            }
        }
        Ok(())
    }
    .await;
    let unlocked = client
        .query_one("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(engine("releasing the migration lock"));
    outcome.and(unlocked.map(drop))
}

/// What the notification listener knows: while it listens, every write is
/// announced with its sequence, so a follower that has read the database
/// since the listener (re)connected need not ask again until a higher
/// sequence is announced.
#[derive(Debug, Default)]
struct Announced {
    /// Listening now.
    listening: std::sync::atomic::AtomicBool,
    /// No read of the database since the listener (re)connected.
    unread: std::sync::atomic::AtomicBool,
    /// The highest sequence announced.
    highest: std::sync::atomic::AtomicU64,
}

impl Announced {
    fn nothing_after(&self, after: u64) -> bool {
        use std::sync::atomic::Ordering::Acquire;
        self.listening.load(Acquire) && !self.unread.load(Acquire) && self.highest.load(Acquire) <= after
    }
}

/// Listens for notifications on a dedicated connection, reconnecting with
/// backoff; wakes `changed` on each, and once after every (re)connection,
/// since what was sent while it was away is lost.
async fn listen(
    config: tokio_postgres::Config,
    changed: Arc<Notify>,
    tokens: Arc<Notify>,
    announced: Arc<Announced>,
) {
    use std::sync::atomic::Ordering;
    let mut delay = Duration::from_millis(100);
    loop {
        // Not listening: what others write is not announced.
        announced.listening.store(false, Ordering::Release);
        match config.connect(NoTls).await {
            Ok((client, mut connection)) => {
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
                let driver = tokio::spawn(async move {
                    let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
                    while let Some(message) = messages.next().await {
                        match message {
                            Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                                let _ = tx.send((n.channel().to_owned(), n.payload().parse::<u64>().ok()));
                            }
                            Ok(_) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, "the notification connection failed");
                                break;
                            }
                        }
                    }
                });
                let listening = client
                    .batch_execute(&format!("LISTEN {CHANNEL}; LISTEN {TOKENS_CHANNEL}"))
                    .await;
                if listening.is_ok() {
                    delay = Duration::from_millis(100);
                    // From here on every write is announced; what came
                    // before is read by the follower's next round.
                    announced.unread.store(true, Ordering::Release);
                    announced.listening.store(true, Ordering::Release);
                    changed.notify_waiters();
                    tokens.notify_waiters();
                    while let Some((channel, sequence)) = rx.recv().await {
                        if channel == TOKENS_CHANNEL {
                            tokens.notify_waiters();
                        } else {
                            announced
                                .highest
                                .fetch_max(sequence.unwrap_or(u64::MAX), Ordering::AcqRel);
                            changed.notify_waiters();
                        }
                    }
                    announced.listening.store(false, Ordering::Release);
                }
                driver.abort();
            }
            Err(e) => {
                tracing::debug!(error = %e, "cannot connect the notification listener");
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

#[async_trait::async_trait]
impl Store for PostgresStore {
    fn describe(&self) -> String {
        self.inner.describe.clone()
    }

    async fn load(&self) -> Result<Snapshot, StoreError> {
        self.read_snapshot().await
    }

    async fn apply(&self, batch: Batch) -> Result<Applied, StoreError> {
        self.inner
            .group
            .submit(
                batch,
                fits_group,
                |batches| async move { self.apply_group(&batches).await },
                || {
                    Err(StoreError::Unavailable(
                        "the transaction of this write was abandoned before it answered".into(),
                    ))
                },
            )
            .await
    }

    async fn sync(&self, _ticket: Ticket) -> Result<(), StoreError> {
        Ok(())
    }

    async fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn events_after(&self, after: u64, limit: usize) -> Result<Vec<Event>, StoreError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT sequence, event FROM accord_events WHERE sequence > $1 ORDER BY sequence LIMIT $2",
                &[&to_i64(after), &to_i64(limit as u64)],
            )
            .await
            .map_err(engine("reading events"))?;
        rows.iter()
            .map(|row| {
                let sequence: i64 = row.get(0);
                let mut event: Event = parse("accord_events", &sequence.to_string(), row.get(1))?;
                // The column is the event's sequence (its text was written first).
                event.sequence = to_u64(sequence);
                Ok(event)
            })
            .collect()
    }

    async fn follow(&self, after: u64) -> Result<Option<Changes>, StoreError> {
        self.read_changes(after).await
    }

    async fn nothing_new_after(&self, after: u64) -> bool {
        self.inner.announced.nothing_after(after)
    }

    fn observe(&self, observer: super::Observer) {
        self.inner.timings.set(observer);
    }

    async fn changed(&self) {
        self.inner.changed.notified().await;
    }

    async fn queue(&self, name: Option<&ContractName>) -> Result<Option<super::QueueGuard>, StoreError> {
        let (component, contract) = key_of(name);
        let client = self.client().await?;
        // A session lock on a connection taken out of the pool: closing the
        // connection (when the guard is dropped) releases it, whatever
        // happens to this process.
        client
            .query_one(
                "SELECT pg_advisory_lock(hashtextextended($1, 0))",
                &[&format!("accord-queue/{component}/{contract}")],
            )
            .await
            .map_err(engine("queueing behind the writers of a contract"))?;
        let connection = deadpool_postgres::Object::take(client);
        Ok(Some(super::QueueGuard(Box::new(connection))))
    }

    async fn audit_page(
        &self,
        since_micros: u64,
        cursor: Option<AuditCursor>,
        limit: usize,
    ) -> Result<Vec<(AuditCursor, AuditRecord)>, StoreError> {
        let client = self.client().await?;
        let (time, id) = match cursor.as_deref() {
            Some(bytes) if bytes.len() == 16 => {
                let time = i64::from_be_bytes(bytes[..8].try_into().unwrap_or_default());
                let id = i64::from_be_bytes(bytes[8..].try_into().unwrap_or_default());
                (time, id)
            }
            Some(_) => return Err(StoreError::Engine("an audit cursor of another store".into())),
            None => (to_i64(since_micros), -1),
        };
        let time = time.max(to_i64(since_micros));
        let rows = client
            .query(
                "SELECT time_micros, id, record FROM accord_audit \
                 WHERE (time_micros, id) > ($1, $2) ORDER BY time_micros, id LIMIT $3",
                &[&time, &id, &to_i64(limit as u64)],
            )
            .await
            .map_err(engine("reading the audit log"))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let (time, id): (i64, i64) = (row.get(0), row.get(1));
            let mut cursor = Vec::with_capacity(16);
            cursor.extend_from_slice(&time.to_be_bytes());
            cursor.extend_from_slice(&id.to_be_bytes());
            out.push((cursor, parse("accord_audit", &id.to_string(), row.get(2))?));
        }
        Ok(out)
    }

    async fn prune_audit(&self, before_micros: u64, keep: u64) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let old = client
            .execute(
                "DELETE FROM accord_audit WHERE time_micros < $1",
                &[&to_i64(before_micros)],
            )
            .await
            .map_err(engine("pruning the audit log"))?;
        let over = client
            .execute(
                "DELETE FROM accord_audit WHERE id IN \
                 (SELECT id FROM accord_audit ORDER BY time_micros DESC, id DESC OFFSET $1)",
                &[&to_i64(keep)],
            )
            .await
            .map_err(engine("pruning the audit log"))?;
        Ok(old + over)
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT (SELECT count(*) FROM accord_versions) + (SELECT count(*) FROM accord_events) \
                 + (SELECT count(*) FROM accord_contracts WHERE settings IS NOT NULL) \
                 + (SELECT count(*) FROM accord_consumers) + (SELECT count(*) FROM accord_waivers)",
                &[],
            )
            .await
            .map_err(engine("counting"))?;
        Ok(row.get::<_, i64>(0) == 0)
    }
}

/// Why a group commit failed as a whole.
enum GroupFailure {
    /// Every batch of the group failed with this.
    All(StoreError),
    /// A batch failed: try again, each batch on its own savepoint.
    Isolate,
}

impl From<StoreError> for GroupFailure {
    fn from(e: StoreError) -> Self {
        GroupFailure::All(e)
    }
}

/// The most batches in one group commit: each writes behind a savepoint,
/// and a transaction with more subtransactions than PostgreSQL caches per
/// backend (64) slows every snapshot of the database.
const MAX_GROUP: usize = 32;
/// The most schema text in one group commit, in bytes (a first batch goes
/// alone whatever its size).
const MAX_GROUP_BYTES: usize = 8 << 20;

/// The contracts a batch changes (those its events are about).
fn changed_keys(batch: &Batch) -> BTreeSet<(String, String)> {
    batch
        .events
        .iter()
        .map(|e| (e.component.clone(), e.contract.clone()))
        .collect()
}

/// Whether `next` may be applied in the same transaction as `group`: not
/// past the group's bounds, and about no contract that one of them changes
/// and the other changes or decided on (their revision checks would not
/// see each other).
fn fits_group(group: &[Batch], next: &Batch) -> bool {
    let bytes = |b: &Batch| b.schemas.iter().map(|(_, t)| t.len()).sum::<usize>();
    if group.len() >= MAX_GROUP || group.iter().map(bytes).sum::<usize>() + bytes(next) > MAX_GROUP_BYTES {
        return false;
    }
    let touched = |b: &Batch| {
        let mut keys = changed_keys(b);
        keys.extend(b.expect.iter().map(|(n, _)| key_of(n.as_ref())));
        keys
    };
    let (next_changed, next_touched) = (changed_keys(next), touched(next));
    group
        .iter()
        .all(|b| changed_keys(b).is_disjoint(&next_touched) && touched(b).is_disjoint(&next_changed))
}

/// Locks the contract rows `keys` (`true`: FOR UPDATE, else FOR SHARE), in
/// their order, creating those seen for the first time; their revisions.
/// The statements go out together (tokio-postgres pipelines them, in order).
async fn lock_contracts(
    tx: Tx<'_, '_>,
    keys: &BTreeMap<(String, String), bool>,
) -> Result<BTreeMap<(String, String), u64>, StoreError> {
    let locks: Vec<String> = keys
        .values()
        .map(|update| {
            let lock = if *update { "FOR UPDATE" } else { "FOR SHARE" };
            format!("SELECT revision FROM accord_contracts WHERE component = $1 AND contract = $2 {lock}")
        })
        .collect();
    let params: Vec<[&(dyn tokio_postgres::types::ToSql + Sync); 2]> = keys
        .keys()
        .map(|(component, contract)| [component as &(dyn tokio_postgres::types::ToSql + Sync), contract])
        .collect();
    let mut found = futures::future::try_join_all(
        params
            .iter()
            .zip(&locks)
            .map(|(params, lock)| tx.query_opt(lock.as_str(), params)),
    )
    .await
    .map_err(engine("locking contracts"))?;
    for (((component, contract), lock), row) in keys.keys().zip(&locks).zip(found.iter_mut()) {
        if row.is_none() {
            tx.execute(
                "INSERT INTO accord_contracts (component, contract) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[component, contract],
            )
            .await
            .map_err(engine("registering a contract"))?;
            *row = tx
                .query_opt(lock.as_str(), &[component, contract])
                .await
                .map_err(engine("locking a contract"))?;
        }
    }
    Ok(keys
        .keys()
        .cloned()
        .zip(
            found
                .iter()
                .map(|row| row.as_ref().map_or(0, |r| to_u64(r.get(0)))),
        )
        .collect())
}

/// Writes a batch's rows (everything but its events); the fingerprints of
/// the texts it erased.
async fn write_rows(tx: Tx<'_, '_>, batch: &Batch) -> Result<Vec<String>, StoreError> {
    let mut texts = Vec::new();
    for (fingerprint, text) in &batch.schemas {
        texts.push((fingerprint.as_str(), text.as_ref()));
    }
    // component, contract, version, fingerprint, live fingerprint,
    // record, name.
    type VersionRow<'a> = (
        String,
        String,
        String,
        &'a str,
        Option<&'a str>,
        String,
        &'a ContractName,
    );
    let mut rows: Vec<VersionRow<'_>> = Vec::new();
    for record in &batch.versions {
        rows.push((
            record.name.component().to_owned(),
            record.name.contract().to_owned(),
            record.version.to_string(),
            record.fingerprint.as_str(),
            record.erased.is_none().then_some(record.fingerprint.as_str()),
            json(record)?,
            &record.name,
        ));
    }
    let mut settings = Vec::new();
    for (name, value) in &batch.settings {
        let (component, contract) = key_of(name.as_ref());
        let value = match value {
            Some(s) => Some(json(s)?),
            None => None,
        };
        settings.push((component, contract, value));
    }
    let mut audit = Vec::new();
    for record in &batch.audit {
        audit.push((to_i64(record.time_micros), json(record)?));
    }
    {
        type Pending<'a> =
            std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), StoreError>> + Send + 'a>>;
        let mut writes: Vec<Pending<'_>> = Vec::new();
        for (fingerprint, text) in &texts {
            let tx = &tx;
            writes.push(Box::pin(async move {
                    tx.execute(
                        "INSERT INTO accord_schemas (fingerprint, text) VALUES ($1, $2) ON CONFLICT (fingerprint) DO NOTHING",
                        &[fingerprint, text],
                    )
                    .await
                    .map(drop)
                    .map_err(engine("writing a schema"))
                }));
        }
        for (component, contract, version, fingerprint, live, record, name) in &rows {
            let tx = &tx;
            writes.push(Box::pin(async move {
                    tx.execute(
                        "INSERT INTO accord_versions (component, contract, version, fingerprint, live_fingerprint, record, written) \
                         VALUES ($1, $2, $3, $4, $5, $6, -txid_current()) \
                         ON CONFLICT (component, contract, version) DO UPDATE \
                         SET live_fingerprint = EXCLUDED.live_fingerprint, record = EXCLUDED.record, \
                         written = EXCLUDED.written",
                        &[component, contract, version, fingerprint, live, record],
                    )
                    .await
                    .map(drop)
                    .map_err(|e| {
                        if e.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) {
                            // Another replica erased the text between our
                            // insert and this reference: decide and write again.
                            StoreError::Conflict {
                                contract: Some((*name).clone()),
                                expected: 0,
                                found: 0,
                            }
                        } else {
                            classify("writing a version", e)
                        }
                    })
                }));
        }
        for (component, contract, value) in &settings {
            let tx = &tx;
            writes.push(Box::pin(async move {
                tx.execute(
                    "INSERT INTO accord_contracts (component, contract, settings) VALUES ($1, $2, $3) \
                         ON CONFLICT (component, contract) DO UPDATE SET settings = EXCLUDED.settings",
                    &[component, contract, value],
                )
                .await
                .map(drop)
                .map_err(engine("writing settings"))
            }));
        }
        for (time, record) in &audit {
            let tx = &tx;
            writes.push(Box::pin(async move {
                tx.execute(
                    "INSERT INTO accord_audit (time_micros, record) VALUES ($1, $2)",
                    &[time, record],
                )
                .await
                .map(drop)
                .map_err(engine("writing an audit record"))
            }));
        }
        // A failed statement fails those after it in the transaction:
        // the first failure in order is the one to report.
        let outcomes = futures::future::join_all(writes).await;
        if let Some(first) = outcomes.into_iter().find_map(Result::err) {
            return Err(first);
        }
    }
    let mut erased = Vec::new();
    for fingerprint in &batch.released_schemas {
        // A version of another replica may be taking the text right
        // now: the foreign key makes the delete wait for it and fail.
        tx.batch_execute("SAVEPOINT release")
            .await
            .map_err(engine("a savepoint"))?;
        let deleted = tx
            .execute(
                "DELETE FROM accord_schemas WHERE fingerprint = $1 \
                     AND NOT EXISTS (SELECT 1 FROM accord_versions WHERE live_fingerprint = $1)",
                &[fingerprint],
            )
            .await;
        match deleted {
            Ok(1) => erased.push(fingerprint.clone()),
            Ok(_) => {}
            Err(e) if e.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) => {
                tx.batch_execute("ROLLBACK TO SAVEPOINT release")
                    .await
                    .map_err(engine("a savepoint"))?;
            }
            Err(e) => return Err(classify("erasing a schema", e)),
        }
    }
    for (name, consumer, consumption) in &batch.consumers {
        let (component, contract) = key_of(Some(name));
        match consumption {
                Some(c) => {
                    tx.execute(
                        "INSERT INTO accord_consumers (component, contract, consumer, record) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (component, contract, consumer) DO UPDATE SET record = EXCLUDED.record",
                        &[&component, &contract, consumer, &json(c)?],
                    )
                    .await
                }
                None => {
                    tx.execute(
                        "DELETE FROM accord_consumers WHERE component = $1 AND contract = $2 AND consumer = $3",
                        &[&component, &contract, consumer],
                    )
                    .await
                }
            }
            .map_err(engine("writing a consumer"))?;
    }
    for waiver in &batch.waivers {
        let (component, contract) = key_of(Some(&waiver.contract));
        tx.execute(
            "INSERT INTO accord_waivers (id, component, contract, record) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record",
            &[&waiver.id, &component, &contract, &json(waiver)?],
        )
        .await
        .map_err(engine("writing a waiver"))?;
    }
    Ok(erased)
}

/// Numbers `events` with the next sequences and writes them, moving the
/// revisions of their contracts, and notifies the other replicas. The
/// version rows the transaction wrote (marked with its negated id, which
/// no sequence is) are marked with the last sequence, for followers: an
/// equality on an indexed column, which the server plans the same however
/// little it knows of the table.
async fn number_events(tx: Tx<'_, '_>, events: &mut [Event]) -> Result<(), StoreError> {
    // The counter row is the one every writer waits on: it is taken
    // by the last statement before the commit, which also writes
    // the events and moves the revisions, so that it is held for
    // one round trip and the commit.
    let n = to_i64(events.len() as u64);
    let now = now_millis();
    let mut revisions: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut columns: [Vec<String>; 5] = Default::default();
    for (i, event) in events.iter_mut().enumerate() {
        if event.time == 0 {
            event.time = now;
        }
        revisions.insert((event.component.clone(), event.contract.clone()), i as i64 + 1);
        // The sequence is the column's; the text holds 0.
        event.sequence = 0;
        columns[0].push(event.component.clone());
        columns[1].push(event.contract.clone());
        columns[2].push(event.fingerprint.clone());
        columns[3].push(json(&event.kind)?);
        columns[4].push(json(&*event)?);
    }
    let (rev_components, rev_contracts, rev_ords): (Vec<String>, Vec<String>, Vec<i64>) = revisions
        .into_iter()
        .map(|((component, contract), ord)| (component, contract, ord))
        .fold((Vec::new(), Vec::new(), Vec::new()), |mut acc, (a, b, c)| {
            acc.0.push(a);
            acc.1.push(b);
            acc.2.push(c);
            acc
        });
    let row = tx
            .query_one(
                "WITH seq AS (UPDATE accord_sequence SET last = last + $1 WHERE id = 1 RETURNING last), \
                 ev AS (INSERT INTO accord_events (sequence, component, contract, fingerprint, kind, event) \
                    SELECT (SELECT last FROM seq) - $1 + e.ord, e.component, e.contract, e.fingerprint, e.kind, e.event \
                    FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) \
                    WITH ORDINALITY AS e(component, contract, fingerprint, kind, event, ord)), \
                 rev AS (INSERT INTO accord_contracts (component, contract, revision) \
                    SELECT r.component, r.contract, (SELECT last FROM seq) - $1 + r.ord \
                    FROM unnest($7::text[], $8::text[], $9::bigint[]) AS r(component, contract, ord) \
                    ON CONFLICT (component, contract) DO UPDATE SET revision = EXCLUDED.revision), \
                 ver AS (UPDATE accord_versions SET written = (SELECT last FROM seq) \
                    WHERE written = -txid_current()), \
                 note AS (SELECT pg_notify('accord_changes', (SELECT last FROM seq)::text)) \
                 SELECT last FROM seq, note",
                &[
                    &n,
                    &columns[0],
                    &columns[1],
                    &columns[2],
                    &columns[3],
                    &columns[4],
                    &rev_components,
                    &rev_contracts,
                    &rev_ords,
                ],
            )
            .await
            .map_err(engine("writing events"))?;
    let last = to_u64(row.get(0));
    for (i, event) in events.iter_mut().enumerate() {
        event.sequence = last - (n as u64) + 1 + i as u64;
    }
    Ok(())
}
