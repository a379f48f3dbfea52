//! The write path and what makes a change visible.
//!
//! A write decides against the visible snapshot, outside any lock (the
//! engine may take a while), then asks the store to apply its batch on the
//! condition that nothing it decided on changed since: the revision of each
//! contract it is about (and of the global settings). When one moved, it
//! waits until this replica sees the newer state and decides again; after a
//! few such rounds it also queues behind the other writers of the same
//! contract in this process, so that it is not starved. A refusal is
//! answered only once the replica has caught up with the store: when that
//! taught it anything, it decides again.
//!
//! A change becomes visible to readers and watchers only once it is durable,
//! and always in sequence order: a batch this process wrote is applied to
//! the index when the one before it is in; a gap (another replica's write)
//! is filled by following the store. The audit record of a successful write
//! is part of its batch; a write that succeeds without changing anything is
//! audited on its own.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use arc_swap::ArcSwap;
use tokio::sync::{broadcast, watch};

use crate::{
    config::Limits,
    error::Error,
    index::Index,
    metrics::Metrics,
    model::{Actor, ContractName, Event, EventKind},
    store::{Applied, Batch, Store, StoreError, Ticket},
};

/// Rounds of decide-and-apply before a write gives up on a contract that
/// keeps changing under it.
const MAX_ATTEMPTS: usize = 32;
/// After this many conflicts, a write queues behind the other writers of
/// the same contract: this process's, and other replicas' of a shared store.
const QUEUE_AFTER: usize = 2;
/// How long a write waits for this replica to see a change it conflicted
/// with before it decides again anyway.
const CATCH_UP_WAIT: Duration = Duration::from_secs(5);

/// What a write's decision came to. One is made per decision and moved
/// once: the size of a batch held inline does not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Outcome<T> {
    /// Nothing to write: answer with this (audited as a success).
    Done(T),
    /// Write this batch, then build the answer from the index that includes it.
    Write(Batch, Finish<T>),
}

/// Builds a write's answer from the index that includes its batch.
pub(crate) type Finish<T> = Box<dyn FnOnce(&Index, &Applied) -> Result<T, Error> + Send>;

/// A write's decision, made against a snapshot (perhaps several times).
type Decide<T> = Arc<dyn Fn(&Index) -> Result<Outcome<T>, Error> + Send + Sync>;

/// A write's answer and the sequence a reader must have seen to read it.
#[derive(Debug, Clone)]
pub struct Written<T> {
    /// The answer.
    pub value: T,
    /// The sequence of the write's last event, or of the state it rested
    /// on when it changed nothing.
    pub sequence: u64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A batch applied by this process, waiting to be made visible.
#[derive(Debug)]
struct Pending {
    ticket: Ticket,
    batch: Batch,
    applied: Applied,
    durable: bool,
}

/// The shared state of a registry.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) index: ArcSwap<Index>,
    /// Batches of this process not yet visible, by first event sequence.
    /// Its lock also serialises every replacement of the index.
    pending: Mutex<BTreeMap<u64, Pending>>,
    pub(crate) events: broadcast::Sender<Arc<Event>>,
    /// The last sequence visible to readers.
    pub(crate) visible: watch::Sender<u64>,
    /// Whether the store answers: false while a shared store is out of
    /// reach (reads go on from memory, writes fail).
    pub(crate) serving: watch::Sender<bool>,
    pub(crate) shutdown: watch::Sender<bool>,
    /// Counts the waivers created (here or on another replica) that this
    /// replica has seen, to wake the recording of their expiry.
    pub(crate) waivers_created: watch::Sender<u64>,
    pub(crate) limits: Limits,
    pub(crate) metrics: Arc<Metrics>,
    /// The work of the requests under way, cancelled at shutdown.
    pub(crate) in_flight: crate::engine::InFlight,
    /// One follower of a shared store at a time.
    follow_lock: tokio::sync::Mutex<()>,
    /// Queues of writers of one contract, for writers that conflicted.
    contract_queues: Mutex<HashMap<Option<ContractName>, Arc<tokio::sync::Mutex<()>>>>,
}

impl Inner {
    pub(crate) fn new(store: Arc<dyn Store>, index: Index, limits: Limits, live_capacity: usize) -> Self {
        let (events, _) = broadcast::channel(live_capacity);
        let (shutdown, _) = watch::channel(false);
        let (visible, _) = watch::channel(index.last_sequence);
        let (serving, _) = watch::channel(true);
        let metrics = Arc::new(Metrics::new());
        store.observe(metrics.store_observer());
        let (waivers_created, _) = watch::channel(0);
        Self {
            metrics,
            in_flight: crate::engine::InFlight::default(),
            serving,
            waivers_created,
            store,
            index: ArcSwap::from_pointee(index),
            pending: Mutex::default(),
            events,
            visible,
            shutdown,
            limits,
            follow_lock: tokio::sync::Mutex::new(()),
            contract_queues: Mutex::default(),
        }
    }

    /// Runs a write (see the module docs) to completion even if its caller
    /// goes away: once started, a write is applied and audited or refused.
    pub(crate) async fn write<T: Send + 'static>(
        self: &Arc<Self>,
        actor: Actor,
        touched: Vec<Option<ContractName>>,
        decide: impl Fn(&Index) -> Result<Outcome<T>, Error> + Send + Sync + 'static,
    ) -> Result<Written<T>, Error> {
        let inner = self.clone();
        tokio::spawn(async move { inner.write_to_end(actor, touched, Arc::new(decide)).await })
            .await
            .map_err(|e| Error::Internal(format!("write task failed: {e}")))?
    }

    async fn write_to_end<T: Send + 'static>(
        self: Arc<Self>,
        actor: Actor,
        touched: Vec<Option<ContractName>>,
        decide: Decide<T>,
    ) -> Result<Written<T>, Error> {
        let mut queued = None;
        for attempt in 1..=MAX_ATTEMPTS {
            let snapshot = self.index.load_full();
            let decision = {
                let decide = decide.clone();
                let snapshot = snapshot.clone();
                // The decision is CPU work (the engine): off the async runtime.
                tokio::task::spawn_blocking(move || decide(&snapshot))
                    .await
                    .map_err(|e| Error::Internal(format!("decision task failed: {e}")))?
            };
            let decision = match decision {
                Ok(decision) => decision,
                // A refusal is final only if nothing it rested on moved: a
                // replica of a shared store may not have seen another's
                // latest writes (a waiver, a version), which a write that
                // goes through would learn from its conflict. Catch up, and
                // decide again when there was something to catch up with.
                // (A store out of reach leaves the refusal as it is.)
                Err(e) => {
                    // Read the store itself: the other replica's
                    // notification may not have arrived yet.
                    let caught_up = self.follow_fresh().await.is_ok();
                    if caught_up
                        && self.index.load().last_sequence != snapshot.last_sequence
                        && attempt < MAX_ATTEMPTS
                    {
                        continue;
                    }
                    return Err(e);
                }
            };
            let (mut batch, finish) = match decision {
                Outcome::Done(value) => {
                    self.audit(vec![actor.record("OK", String::new())]).await?;
                    return Ok(Written {
                        value,
                        sequence: snapshot.last_sequence,
                    });
                }
                Outcome::Write(batch, finish) => (batch, finish),
            };
            batch.expect = touched
                .iter()
                .map(|name| (name.clone(), snapshot.revision(name.as_ref())))
                .collect();
            batch.audit.push(actor.record("OK", batch.note.clone()));
            match self.store.apply(batch.clone()).await {
                Ok(applied) => return self.complete(batch, applied, finish).await,
                Err(StoreError::Conflict { contract, found, .. }) => {
                    tracing::debug!(attempt, contract = ?contract, found, "write conflicted: deciding again");
                    self.catch_up(found).await;
                    if attempt >= QUEUE_AFTER && queued.is_none() {
                        let name = touched.first().cloned().flatten();
                        let local = self.queue_of(name.clone()).lock_owned().await;
                        let shared = self.store.queue(name.as_ref()).await?;
                        queued = Some((local, shared));
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        let what = match touched.first().cloned().flatten() {
            Some(name) => format!("contract {name}"),
            None => "the global settings".into(),
        };
        Err(Error::Unavailable(format!(
            "{what} changed {MAX_ATTEMPTS} times while this write was being decided; try again"
        )))
    }

    fn queue_of(&self, name: Option<ContractName>) -> Arc<tokio::sync::Mutex<()>> {
        lock(&self.contract_queues).entry(name).or_default().clone()
    }

    /// Waits until `batch` is durable and visible, then builds the answer.
    async fn complete<T>(
        &self,
        batch: Batch,
        applied: Applied,
        finish: Finish<T>,
    ) -> Result<Written<T>, Error> {
        let sequence = applied.last_sequence;
        let ticket = applied.ticket;
        let has_events = !applied.events.is_empty();
        if has_events {
            let first = applied.events[0].sequence;
            lock(&self.pending).insert(
                first,
                Pending {
                    ticket,
                    batch,
                    applied: applied.clone(),
                    durable: false,
                },
            );
        }
        match self.store.sync(ticket).await {
            Ok(()) => {}
            Err(StoreError::NotDurable { reason, rolled_back }) => {
                lock(&self.pending).retain(|_, p| !(rolled_back.0..=rolled_back.1).contains(&p.ticket));
                return Err(Error::Unavailable(reason));
            }
            Err(e) => return Err(e.into()),
        }
        if has_events {
            self.reveal_durable(ticket);
            self.ensure_visible(sequence).await?;
        }
        let index = self.index.load_full();
        Ok(Written {
            value: finish(&index, &applied)?,
            sequence,
        })
    }

    /// Records audit entries on their own (a refusal, or a write that
    /// changed nothing), durably.
    pub(crate) async fn audit(&self, records: Vec<crate::model::AuditRecord>) -> Result<(), Error> {
        let applied = self.store.apply(Batch::audit_only(records)).await?;
        match self.store.sync(applied.ticket).await {
            Ok(()) => Ok(()),
            Err(StoreError::NotDurable { reason, .. }) => Err(Error::Unavailable(reason)),
            Err(e) => Err(e.into()),
        }
    }

    /// Marks every batch up to `ticket` durable (a sync on `ticket` covers
    /// every earlier write) and makes visible what can be.
    fn reveal_durable(&self, ticket: Ticket) {
        let mut pending = lock(&self.pending);
        for p in pending.values_mut() {
            if p.ticket <= ticket {
                p.durable = true;
            }
        }
        self.reveal(&mut pending);
    }

    /// Applies pending batches to the index while the next one in sequence
    /// is durable; stops at a gap (another replica's write, filled by
    /// [`Inner::follow`]). Called with the pending lock held, which
    /// serialises index replacements.
    fn reveal(&self, pending: &mut BTreeMap<u64, Pending>) {
        loop {
            let current = self.index.load();
            let Some((&first, p)) = pending.first_key_value() else {
                return;
            };
            if first <= current.last_sequence {
                // Already applied by following the store.
                pending.pop_first();
                continue;
            }
            if first != current.last_sequence + 1 || !p.durable {
                return;
            }
            let Some((_, p)) = pending.pop_first() else {
                return;
            };
            let next = Arc::new(current.apply(&p.batch, &p.applied));
            self.publish(next, p.applied.events);
        }
    }

    /// Swaps in `next` and announces `events`, in order. Called with the
    /// pending lock held.
    fn publish(&self, next: Arc<Index>, events: Vec<Event>) {
        let last = next.last_sequence;
        // The snapshot first, so that a watcher told of a change can read it.
        self.index.store(next);
        let created = events
            .iter()
            .filter(|e| e.kind == EventKind::WaiverCreated)
            .count();
        if created > 0 {
            self.waivers_created.send_modify(|n| *n += created as u64);
        }
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
        self.visible.send_replace(last);
    }

    /// Returns once the index includes `sequence`, following the store when
    /// another replica's write stands in between.
    pub(crate) async fn ensure_visible(&self, sequence: u64) -> Result<(), Error> {
        let mut visible = self.visible.subscribe();
        loop {
            if *visible.borrow_and_update() >= sequence {
                return Ok(());
            }
            // When another task is following the store, what it reveals
            // is awaited below rather than its whole round.
            // `sequence` is committed, so the store has something new:
            // its notification may not have arrived yet.
            if let Ok(following) = self.follow_lock.try_lock() {
                self.follow_locked(following, true).await?;
            }
            if *visible.borrow_and_update() >= sequence {
                return Ok(());
            }
            // Another writer of this process may hold the batch before ours.
            let _ = tokio::time::timeout(Duration::from_millis(50), visible.changed()).await;
        }
    }

    /// Waits (a bounded time) until this replica has seen `sequence`.
    async fn catch_up(&self, sequence: u64) {
        let _ = tokio::time::timeout(CATCH_UP_WAIT, self.ensure_visible(sequence)).await;
    }

    /// Brings the index up to date with what other replicas wrote (a store
    /// that only this process writes has nothing to follow).
    pub(crate) async fn follow(&self) -> Result<(), Error> {
        let one_at_a_time = self.follow_lock.lock().await;
        self.follow_locked(one_at_a_time, false).await
    }

    /// [`Inner::follow`], reading the store at least once even when no
    /// notification says there is something new: for an answer that must
    /// rest on the store's latest state (a refusal), since another
    /// replica's notification may still be on its way.
    async fn follow_fresh(&self) -> Result<(), Error> {
        let one_at_a_time = self.follow_lock.lock().await;
        self.follow_locked(one_at_a_time, true).await
    }

    /// [`Inner::follow`], holding its lock: reads until the index includes
    /// the store's head as the first read found it (what is written after
    /// is left to the next call, so that a call ends under constant writes).
    /// Unless `fresh`, it trusts the store's notifications to say there is
    /// nothing to read.
    async fn follow_locked(
        &self,
        _one_at_a_time: tokio::sync::MutexGuard<'_, ()>,
        fresh: bool,
    ) -> Result<(), Error> {
        let mut head = None;
        loop {
            let after = self.index.load().last_sequence;
            if head.is_some_and(|head| after >= head)
                || (head.is_none() && !fresh && self.store.nothing_new_after(after).await)
            {
                return Ok(());
            }
            let Some(changes) = self.store.follow(after).await? else {
                return Ok(());
            };
            self.metrics
                .store_sequence_seen(changes.head.max(changes.last_sequence));
            head.get_or_insert(changes.head.max(changes.last_sequence));
            if changes.events.is_empty() {
                return Ok(());
            }
            let mut pending = lock(&self.pending);
            let current = self.index.load();
            if current.last_sequence >= changes.last_sequence {
                // This process revealed its own writes up to there meanwhile.
                continue;
            }
            // The read is one snapshot of every event up to its last (they
            // commit in sequence order), so it includes whatever this
            // process revealed meanwhile: the writes after `after` and up
            // to the index, about contracts it read whole. Its states are
            // newer than the index's: apply them, and announce only the
            // events the index did not have. (Reading again instead would
            // chase a replica that keeps revealing its own writes.)
            let seen = current.last_sequence;
            let next = Arc::new(current.apply_changes(&changes));
            let events = changes.events.into_iter().filter(|e| e.sequence > seen).collect();
            self.publish(next, events);
            self.reveal(&mut pending);
        }
    }
}
