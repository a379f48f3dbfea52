//! Staying current: [`LiveContracts`] keeps an in-memory set of contracts
//! fresh by following `WatchEvents`, reconnecting with backoff and resuming
//! after the last event it handled.

use std::{
    sync::{Arc, Mutex, RwLock},
    time::{Duration, SystemTime},
};

use backon::{BackoffBuilder, ExponentialBuilder};
use futures::StreamExt;
use tokio::{sync::watch, task::JoinHandle};

use crate::{
    Client, ContractName, ContractVersion, Error, EventKind, VersionSelector,
    cache::ContractCache,
    fetch::{ContractSet, FetchedContract, store, verify},
    types::Event,
};

/// Where the follower stands, published after every change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LiveStatus {
    /// The sequence of the last event handled.
    pub last_sequence: u64,
    /// How many times the event stream was (re)opened.
    pub connections: u64,
    /// How many times a contract of the set was replaced.
    pub updates: u64,
    /// True once the registry refused the stream for good (the token was
    /// revoked or lacks the rights): the follower stopped, the contracts
    /// stay as they are, and [`LiveContracts::error`] says why.
    pub stopped: bool,
}

/// An in-memory set of contracts kept current through the registry's event
/// stream. Dropping it stops the follower.
///
/// Events are replayed from the start (or from the sequence given) so that
/// nothing published between the start-up fetch and the opening of the
/// stream is missed; only events that can change what a selector resolves
/// to cause a fetch. When the stream breaks it is reopened with backoff,
/// after the last event handled: an event is counted as handled only once
/// the fetch it called for succeeded. Cached (stale) copies are refreshed
/// each time the stream opens. A contract that the registry no longer
/// serves keeps its last copy, with a warning logged.
///
/// Only the components of the initial set are watched, so a token scoped to
/// them is enough. A resume point the registry no longer knows (a store
/// restored from a backup) makes the follower fetch every contract again and
/// follow from the registry's current history. A refusal that retrying
/// cannot cure (UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT) stops
/// the follower: [`LiveStatus::stopped`] and [`LiveContracts::error`] say so.
#[derive(Debug)]
pub struct LiveContracts {
    contracts: Arc<RwLock<Vec<FetchedContract>>>,
    status: watch::Receiver<LiveStatus>,
    error: Arc<Mutex<Option<String>>>,
    task: JoinHandle<()>,
}

impl LiveContracts {
    /// Follows every event of the registry, starting from the first.
    /// Must be called within a Tokio runtime: the follower is a task on it.
    pub fn start(client: Client, initial: ContractSet) -> Self {
        Self::start_after(client, initial, 0)
    }

    /// Follows the events with a sequence above `after_sequence`.
    pub fn start_after(client: Client, initial: ContractSet, after_sequence: u64) -> Self {
        let initial = initial.into_vec();
        let mut components: Vec<String> = initial
            .iter()
            .map(|c| c.contract.name.component().to_owned())
            .collect();
        components.sort();
        components.dedup();
        let contracts = Arc::new(RwLock::new(initial));
        let (tx, status) = watch::channel(LiveStatus {
            last_sequence: after_sequence,
            ..LiveStatus::default()
        });
        let error = Arc::new(Mutex::new(None));
        let follower = Follower {
            cache: client.cache_dir().map(ContractCache::new),
            client,
            contracts: contracts.clone(),
            status: tx,
            components,
            epoch: Mutex::new(String::new()),
            error: error.clone(),
        };
        let task = tokio::spawn(follower.run());
        Self {
            contracts,
            status,
            error,
            task,
        }
    }

    /// Why the follower stopped (see [`LiveStatus::stopped`]), or the last
    /// error it is retrying after; `None` while all is well.
    pub fn error(&self) -> Option<String> {
        self.error.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The current copy of the first contract held under `name`.
    pub fn get(&self, name: &ContractName) -> Option<FetchedContract> {
        self.read().iter().find(|c| &c.contract.name == name).cloned()
    }

    /// Every contract held, in the order of the initial set.
    pub fn snapshot(&self) -> Vec<FetchedContract> {
        self.read().clone()
    }

    /// Where the follower stands now.
    pub fn status(&self) -> LiveStatus {
        *self.status.borrow()
    }

    /// A receiver that is notified after each event handled, each
    /// connection and each update, to wait on (`wait_for`) rather than poll.
    pub fn subscribe(&self) -> watch::Receiver<LiveStatus> {
        self.status.clone()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<FetchedContract>> {
        // A writer never panics while holding the lock; recover the data
        // rather than propagate a poison that cannot mean corruption here.
        self.contracts.read().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for LiveContracts {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Follower {
    client: Client,
    cache: Option<ContractCache>,
    contracts: Arc<RwLock<Vec<FetchedContract>>>,
    status: watch::Sender<LiveStatus>,
    /// The components of the held contracts: the only ones watched.
    components: Vec<String>,
    /// The history the last event handled belongs to.
    epoch: Mutex<String>,
    error: Arc<Mutex<Option<String>>>,
}

/// Whether retrying cannot cure `e`: the follower stops.
fn is_permanent(e: &Error) -> bool {
    matches!(
        e,
        Error::Unauthenticated { .. } | Error::PermissionDenied { .. } | Error::InvalidArgument { .. }
    )
}

impl Follower {
    fn backoff(&self) -> impl Iterator<Item = Duration> {
        let policy = self.client.retry_policy();
        // A follower lives as long as the service: it never gives up.
        ExponentialBuilder::default()
            .with_min_delay(policy.initial_backoff)
            .with_max_delay(policy.max_backoff.max(policy.initial_backoff))
            .with_jitter()
            .without_max_times()
            .build()
    }

    fn set_error(&self, error: Option<String>) {
        *self.error.lock().unwrap_or_else(|p| p.into_inner()) = error;
    }

    async fn run(self) {
        let mut backoff = self.backoff();
        loop {
            match self.follow().await {
                Ok(()) => {
                    backoff = self.backoff();
                    self.set_error(None);
                    tracing::info!("the registry ended the event stream; reopening");
                }
                Err((e, _)) if is_permanent(&e) => {
                    tracing::error!(error = %e, "the registry refuses the contract event stream: no more updates");
                    self.set_error(Some(e.to_string()));
                    self.status.send_modify(|s| s.stopped = true);
                    return;
                }
                Err((e @ Error::FailedPrecondition { .. }, _)) => {
                    // The resume point is from another history: start over.
                    tracing::warn!(error = %e, "the registry's history changed: fetching every contract again");
                    self.set_error(Some(e.to_string()));
                    if self.refresh_all().await.is_ok() {
                        self.epoch.lock().unwrap_or_else(|p| p.into_inner()).clear();
                        self.status.send_modify(|s| s.last_sequence = 0);
                    }
                }
                Err((e, progressed)) => {
                    if progressed {
                        backoff = self.backoff();
                    }
                    self.set_error(Some(e.to_string()));
                    tracing::warn!(error = %e, "contract event stream broken; reopening");
                }
            }
            let delay = backoff.next().unwrap_or(Duration::from_secs(1));
            tokio::time::sleep(delay).await;
        }
    }

    /// One connection: refresh stale copies, then handle events until the
    /// stream ends. On error, says whether any progress was made.
    async fn follow(&self) -> Result<(), (Error, bool)> {
        let after = self.status.borrow().last_sequence;
        let epoch = self.epoch.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let epoch = if after == 0 { String::new() } else { epoch };
        let mut stream = self
            .client
            .watch_from(after, &epoch, &self.components)
            .await
            .map_err(|e| (e, false))?;
        self.status.send_modify(|s| s.connections += 1);
        self.set_error(None);
        self.refresh_stale().await;
        let mut progressed = false;
        while let Some(item) = stream.next().await {
            let event = match item {
                Ok(event) => event,
                // An event this client cannot read (e.g. a kind added by a
                // newer registry) may concern any contract: fetch them all
                // again rather than stall or miss it. The stream goes on.
                Err(e @ Error::InvalidResponse { .. }) => {
                    tracing::warn!(error = %e, "unreadable contract event; refreshing every contract");
                    self.refresh_all().await.map_err(|e| (e, progressed))?;
                    continue;
                }
                Err(e) => return Err((e, progressed)),
            };
            if event.sequence <= self.status.borrow().last_sequence {
                continue;
            }
            self.handle(&event).await.map_err(|e| (e, progressed))?;
            progressed = true;
            *self.epoch.lock().unwrap_or_else(|p| p.into_inner()) = event.epoch.clone();
            self.status.send_modify(|s| s.last_sequence = event.sequence);
        }
        Ok(())
    }

    async fn refresh_stale(&self) {
        let stale: Vec<(ContractName, VersionSelector)> = self
            .read()
            .iter()
            .filter(|c| c.stale)
            .map(|c| (c.contract.name.clone(), c.selector.clone()))
            .collect();
        for (name, selector) in stale {
            if let Err(e) = self.refetch(&name, &selector).await {
                tracing::warn!(contract = %name, %selector, error = %e, "cannot refresh a cached contract");
            }
        }
    }

    async fn refresh_all(&self) -> Result<(), Error> {
        self.refetch_where(|_| true).await
    }

    /// Fetches again every held contract whose resolution `event` may change.
    async fn handle(&self, event: &Event) -> Result<(), Error> {
        let Some(name) = &event.name else {
            return Ok(());
        };
        self.refetch_where(|c| &c.contract.name == name && affects(event, c))
            .await
    }

    /// Fetches again the held contracts that `wanted` picks. A transient
    /// failure stops and is returned, so that the event is handled again
    /// after reconnecting; any other keeps the last copy.
    async fn refetch_where(&self, wanted: impl Fn(&FetchedContract) -> bool) -> Result<(), Error> {
        let picked: Vec<(ContractName, VersionSelector)> = self
            .read()
            .iter()
            .filter(|c| wanted(c))
            .map(|c| (c.contract.name.clone(), c.selector.clone()))
            .collect();
        for (name, selector) in picked {
            match self.refetch(&name, &selector).await {
                Ok(()) => {}
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => {
                    tracing::warn!(contract = %name, %selector, error = %e, "keeping the last copy of a contract the registry no longer serves");
                }
            }
        }
        Ok(())
    }

    async fn refetch(&self, name: &ContractName, selector: &VersionSelector) -> Result<(), Error> {
        let contract = self.client.get(name, selector).await?;
        verify(&contract)?;
        if let Some(cache) = &self.cache {
            store(cache, selector, &contract).await;
        }
        self.replace(name, selector, contract);
        Ok(())
    }

    fn replace(&self, name: &ContractName, selector: &VersionSelector, contract: ContractVersion) {
        let mut changed = false;
        {
            let mut held = self.contracts.write().unwrap_or_else(|p| p.into_inner());
            for c in held.iter_mut() {
                if &c.contract.name == name && &c.selector == selector {
                    changed |= c.contract != contract || c.stale;
                    c.contract = contract.clone();
                    c.stale = false;
                    c.fetched_at = SystemTime::now();
                }
            }
        }
        if changed {
            tracing::info!(contract = %name, %selector, version = %contract.version, "contract updated");
            self.status.send_modify(|s| s.updates += 1);
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<FetchedContract>> {
        self.contracts.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// Whether `event` can change what `held`'s selector resolves to.
fn affects(event: &Event, held: &FetchedContract) -> bool {
    if held.stale {
        return true;
    }
    let current = &held.contract.version;
    match (event.kind, &event.version) {
        // Settings, consumers and waivers change no version's resolution.
        (
            EventKind::ConfigChanged
            | EventKind::ConsumerRegistered
            | EventKind::ConsumerUnregistered
            | EventKind::WaiverCreated
            | EventKind::WaiverRevoked
            | EventKind::WaiverUsed
            | EventKind::WaiverExpired,
            _,
        ) => false,
        // Whole-contract deletions and restorations.
        (_, None) => true,
        (EventKind::Published, Some(v)) => held.selector.matches(v) && v > current,
        (EventKind::Deprecated | EventKind::Deleted, Some(v)) => v == current,
        (EventKind::Restored, Some(v)) => held.selector.matches(v) && v >= current,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::VersionState;

    fn held(selector: &str, version: &str) -> FetchedContract {
        FetchedContract {
            selector: selector.parse().unwrap(),
            contract: ContractVersion {
                name: "o/c".parse().unwrap(),
                version: version.parse().unwrap(),
                fingerprint: String::new(),
                schema: String::new(),
                state: VersionState::Active,
                deprecation_message: None,
                created_at: None,
                deprecated_at: None,
                deleted_at: None,
                bump: None,
                draft: None,
                published_by: None,
            },
            stale: false,
            fetched_at: SystemTime::now(),
        }
    }

    fn event(kind: EventKind, version: Option<&str>) -> Event {
        Event {
            sequence: 1,
            kind,
            time: None,
            name: Some("o/c".parse().unwrap()),
            version: version.map(|v| v.parse().unwrap()),
            fingerprint: None,
            message: String::new(),
            config: None,
            hard: false,
            consumer: None,
            waiver_id: None,
            epoch: String::new(),
        }
    }

    #[test]
    fn only_events_that_change_the_resolution_cause_a_fetch() {
        let h = held("^1.2", "1.3.0");
        assert!(affects(&event(EventKind::Published, Some("1.4.0")), &h));
        assert!(!affects(&event(EventKind::Published, Some("2.0.0")), &h));
        assert!(!affects(&event(EventKind::Published, Some("1.2.5")), &h));
        assert!(affects(&event(EventKind::Deprecated, Some("1.3.0")), &h));
        assert!(!affects(&event(EventKind::Deleted, Some("1.2.0")), &h));
        assert!(affects(&event(EventKind::Deleted, None), &h));
        assert!(!affects(&event(EventKind::ConfigChanged, None), &h));
        // A waiver used by a publish names its version: still no refetch of
        // its own (the Published event of that version does it).
        assert!(!affects(&event(EventKind::WaiverUsed, Some("1.4.0")), &h));
        assert!(!affects(&event(EventKind::ConsumerRegistered, None), &h));
        let mut stale = h.clone();
        stale.stale = true;
        assert!(affects(&event(EventKind::Published, Some("1.0.0")), &stale));
    }
}
