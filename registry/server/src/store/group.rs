//! Group commit: writes that arrive while a transaction is under way are
//! applied together in the next one.
//!
//! A shared store numbers events under one counter row, held from the
//! statement that takes the sequences to the commit: one transaction at a
//! time gets through, and each pays a commit (a WAL flush). A
//! [`GroupCommit`] queues the batches of concurrent writers; whichever
//! writer holds the leadership takes the oldest queued batches that fit
//! together (its own first) and applies them in one transaction, then
//! answers each. A writer whose batch another leader took waits for that
//! answer. One leader at a time per process: the next group forms while
//! the current one commits.

use std::{
    collections::VecDeque,
    future::Future,
    sync::{
        Mutex, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
};

use tokio::sync::oneshot;

/// A queue of items (batches) applied in groups; `R` is each one's answer.
#[derive(Debug)]
pub struct GroupCommit<B, R> {
    queue: Mutex<VecDeque<Queued<B, R>>>,
    leader: tokio::sync::Mutex<()>,
    next_id: AtomicU64,
}

#[derive(Debug)]
struct Queued<B, R> {
    id: u64,
    item: B,
    reply: oneshot::Sender<R>,
}

impl<B, R> Default for GroupCommit<B, R> {
    fn default() -> Self {
        Self {
            queue: Mutex::new(VecDeque::new()),
            leader: tokio::sync::Mutex::new(()),
            next_id: AtomicU64::new(0),
        }
    }
}

impl<B, R> GroupCommit<B, R> {
    /// Applies `item` in a group and returns its answer.
    ///
    /// `fits(group, next)` says whether `next` may join the items already
    /// in `group` (the first is always taken); `run` applies a group and
    /// returns one answer per item, in order. `abandoned` answers an item
    /// whose leader went away before answering it.
    pub async fn submit<F, Fut>(
        &self,
        item: B,
        fits: impl Fn(&[B], &B) -> bool,
        run: F,
        abandoned: impl FnOnce() -> R,
    ) -> R
    where
        F: FnOnce(Vec<B>) -> Fut,
        Fut: Future<Output = Vec<R>>,
    {
        let (reply, mut answer) = oneshot::channel();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock_queue().push_back(Queued { id, item, reply });
        let mut run = Some(run);
        loop {
            tokio::select! {
                biased;
                got = &mut answer => return got.unwrap_or_else(|_| abandoned()),
                lead = self.leader.lock() => {
                    let Some((items, replies)) = self.take(id, &fits) else {
                        // Another leader took this item: its answer comes.
                        drop(lead);
                        return answer.await.unwrap_or_else(|_| abandoned());
                    };
                    let Some(run) = run.take() else {
                        unreachable!("an item is taken once, with its writer as the leader");
                    };
                    let answers = run(items).await;
                    drop(lead);
                    for (reply, answer) in replies.into_iter().zip(answers) {
                        // A writer that went away does not need its answer.
                        let _ = reply.send(answer);
                    }
                }
            }
        }
    }

    fn lock_queue(&self) -> std::sync::MutexGuard<'_, VecDeque<Queued<B, R>>> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the item `own` and the oldest queued items that fit with it;
    /// `None` when `own` is not queued any more.
    #[allow(clippy::type_complexity)]
    fn take(&self, own: u64, fits: &impl Fn(&[B], &B) -> bool) -> Option<(Vec<B>, Vec<oneshot::Sender<R>>)> {
        let mut queue = self.lock_queue();
        let at = queue.iter().position(|q| q.id == own)?;
        let first = queue.remove(at)?;
        let mut items = vec![first.item];
        let mut replies = vec![first.reply];
        let mut left = VecDeque::with_capacity(queue.len());
        while let Some(q) = queue.pop_front() {
            if fits(&items, &q.item) {
                items.push(q.item);
                replies.push(q.reply);
            } else {
                left.push_back(q);
            }
        }
        *queue = left;
        Some((items, replies))
    }
}

#[cfg(test)]
mod tests {
    use std::{sync::Arc, time::Duration};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_items_are_grouped_and_each_gets_its_own_answer() {
        let group: Arc<GroupCommit<u32, u32>> = Arc::default();
        let runs = Arc::new(Mutex::new(Vec::<Vec<u32>>::new()));
        let mut tasks = Vec::new();
        for n in 0..40u32 {
            let (group, runs) = (group.clone(), runs.clone());
            tasks.push(tokio::spawn(async move {
                group
                    .submit(
                        n,
                        |items, _| items.len() < 8,
                        |items| async move {
                            // A slow transaction, so that others queue behind it.
                            tokio::time::sleep(Duration::from_millis(5)).await;
                            runs.lock().unwrap().push(items.clone());
                            items.iter().map(|i| i * 10).collect()
                        },
                        || u32::MAX,
                    )
                    .await
            }));
        }
        for (n, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.unwrap(), n as u32 * 10, "the answer of item {n}");
        }
        let runs = runs.lock().unwrap();
        let mut seen: Vec<u32> = runs.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(
            seen,
            (0..40).collect::<Vec<_>>(),
            "every item applied exactly once"
        );
        assert!(runs.iter().all(|r| r.len() <= 8), "{runs:?}");
        assert!(runs.len() < 40, "some items shared a transaction: {runs:?}");
    }

    #[tokio::test]
    async fn items_that_do_not_fit_wait_for_a_group_of_their_own() {
        let group: GroupCommit<u32, u32> = GroupCommit::default();
        // Queue three items by hand, then lead for the second.
        let mut answers = Vec::new();
        for n in [1, 2, 3] {
            let (reply, answer) = oneshot::channel();
            group.lock_queue().push_back(Queued {
                id: n.into(),
                item: n,
                reply,
            });
            answers.push(answer);
        }
        // Odd items never share a group with even ones.
        let (items, _) = group
            .take(2, &|items: &[u32], next: &u32| items[0] % 2 == next % 2)
            .unwrap();
        assert_eq!(items, vec![2]);
        let (items, _) = group
            .take(1, &|items: &[u32], next: &u32| items[0] % 2 == next % 2)
            .unwrap();
        assert_eq!(
            items,
            vec![1, 3],
            "the leader's own item first, then the oldest that fit"
        );
        assert!(group.take(3, &|_: &[u32], _: &u32| true).is_none(), "3 was taken");
    }

    #[tokio::test]
    async fn a_leader_that_goes_away_does_not_block_the_next_writer() {
        let group: Arc<GroupCommit<u32, u32>> = Arc::default();
        let (started_tx, started) = oneshot::channel::<()>();
        let leader = {
            let group = group.clone();
            tokio::spawn(async move {
                group
                    .submit(
                        1,
                        |_, _| true,
                        |_| async move {
                            let _ = started_tx.send(());
                            std::future::pending::<Vec<u32>>().await
                        },
                        || 0,
                    )
                    .await
            })
        };
        started.await.unwrap();
        let follower = {
            let group = group.clone();
            tokio::spawn(async move {
                group
                    .submit(2, |_, _| true, |items| async move { items }, || 99)
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        leader.abort();
        // The follower's item was queued after the leader took its group:
        // it leads its own once the leadership is free.
        assert_eq!(follower.await.unwrap(), 2);
    }
}
