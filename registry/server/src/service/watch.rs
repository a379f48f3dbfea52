//! Event streams: the stored events after a resume point, then live ones,
//! filtered by what the watcher asked for and may see.

use std::sync::{Arc, Weak};

use tokio::sync::{broadcast, mpsc, watch};

use super::write::Inner;
use crate::{error::Error, model::Event};

/// Events replayed from the store per read while a watcher catches up.
const REPLAY_CHUNK: usize = 256;

/// Which events a watcher gets.
pub type EventFilter = Arc<dyn Fn(&Event) -> bool + Send + Sync>;

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

/// Streams the events after `last` that `wanted` lets through, until the
/// receiver is dropped or the registry shuts down. Nothing is missed: the
/// live feed is subscribed to before the replay, duplicates are dropped by
/// sequence, and a watcher that falls behind the live feed goes back to the
/// store. Events not yet visible (applied, not durable) are never replayed.
pub(crate) async fn watch_loop(
    registry: Weak<Inner>,
    mut live: broadcast::Receiver<Arc<Event>>,
    mut shutdown: watch::Receiver<bool>,
    tx: mpsc::Sender<Result<Event, Error>>,
    mut last: u64,
    wanted: EventFilter,
) {
    loop {
        // Catch up from the store.
        loop {
            if *shutdown.borrow() {
                return;
            }
            let Some(inner) = registry.upgrade() else {
                return;
            };
            let visible = inner.index.load().last_sequence;
            if last >= visible {
                break;
            }
            let chunk = inner.store.events_after(last, REPLAY_CHUNK).await;
            drop(inner);
            let chunk = match chunk {
                Ok(mut chunk) => {
                    chunk.retain(|e| e.sequence <= visible);
                    chunk
                }
                Err(e) => {
                    let _ = tx.send(Err(e.into())).await;
                    return;
                }
            };
            if chunk.is_empty() {
                break;
            }
            for e in chunk {
                if e.sequence != last + 1 {
                    let _ = tx
                        .send(Err(Error::Internal(format!(
                            "the event log skips from {last} to {}",
                            e.sequence
                        ))))
                        .await;
                    return;
                }
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
