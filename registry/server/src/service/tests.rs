//! Tests of the write path against a real sled store in a temporary
//! directory, some of them with a store whose flushes the test holds open.

use std::sync::{Arc, Condvar, Mutex};

use super::*;
use crate::{
    model::{EventKind, Verdict},
    store::{Applied, Snapshot, StoreError, Ticket, sled::SledStore},
};

async fn registry(dir: &std::path::Path) -> Registry {
    Registry::open(Arc::new(SledStore::open(dir).unwrap()), Limits::default())
        .await
        .unwrap()
}

/// The registry of `dir` opened again after the last one was dropped: the
/// store is released once the tasks that still held it (a flush that
/// answered its waiters before it ended, say) are done, which the runtime
/// gets to while this waits.
async fn reopened(dir: &std::path::Path) -> Registry {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match SledStore::open(dir) {
            Ok(store) => return Registry::open(Arc::new(store), Limits::default()).await.unwrap(),
            Err(StoreError::InUse(_)) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(e) => panic!("cannot open the store again: {e}"),
        }
    }
}

fn input<'a>(schema: &'a str, version: &'a str) -> PublishInput<'a> {
    PublishInput {
        component: "orders",
        contract: "placed",
        schema,
        version,
    }
}

fn actor() -> Actor {
    Actor {
        principal: "tester".into(),
        action: "PublishContract",
        target: "orders/placed".into(),
    }
}

/// A sled store whose flushes wait until the test opens them, and that
/// reports each wait; `fail` makes the next flush fail (as a full disk would).
#[derive(Debug)]
struct HeldFlushes {
    store: SledStore,
    open: Arc<(Mutex<bool>, Condvar)>,
    waiting: Mutex<std::sync::mpsc::Sender<Ticket>>,
    fail: Mutex<bool>,
}

#[async_trait::async_trait]
impl Store for HeldFlushes {
    fn describe(&self) -> String {
        "held".into()
    }
    async fn load(&self) -> Result<Snapshot, StoreError> {
        self.store.load().await
    }
    async fn apply(&self, batch: Batch) -> Result<Applied, StoreError> {
        self.store.apply(batch).await
    }
    async fn sync(&self, ticket: Ticket) -> Result<(), StoreError> {
        let _ = self.waiting.lock().unwrap().send(ticket);
        let open = self.open.clone();
        tokio::task::spawn_blocking(move || {
            let (open, opened) = &*open;
            let mut open = open.lock().unwrap();
            while !*open {
                open = opened.wait(open).unwrap();
            }
        })
        .await
        .unwrap();
        if std::mem::take(&mut *self.fail.lock().unwrap()) {
            return Err(StoreError::NotDurable {
                reason: "disk full (simulated)".into(),
                rolled_back: (ticket, ticket),
            });
        }
        self.store.sync(ticket).await
    }
    async fn flush(&self) -> Result<(), StoreError> {
        self.store.flush().await
    }
    async fn events_after(&self, after: u64, limit: usize) -> Result<Vec<Event>, StoreError> {
        self.store.events_after(after, limit).await
    }
    async fn audit_page(
        &self,
        since: u64,
        cursor: Option<AuditCursor>,
        limit: usize,
    ) -> Result<Vec<(AuditCursor, AuditRecord)>, StoreError> {
        self.store.audit_page(since, cursor, limit).await
    }
    async fn prune_audit(&self, before: u64, keep: u64) -> Result<u64, StoreError> {
        self.store.prune_audit(before, keep).await
    }
    async fn is_empty(&self) -> Result<bool, StoreError> {
        self.store.is_empty().await
    }
}

type Gate = Arc<(Mutex<bool>, Condvar)>;

fn held(dir: &std::path::Path) -> (HeldFlushes, Gate, std::sync::mpsc::Receiver<Ticket>) {
    let open = Arc::new((Mutex::new(false), Condvar::new()));
    let (waiting, waits) = std::sync::mpsc::channel();
    (
        HeldFlushes {
            store: SledStore::open(dir).unwrap(),
            open: open.clone(),
            waiting: Mutex::new(waiting),
            fail: Mutex::new(false),
        },
        open,
        waits,
    )
}

fn release(open: &(Mutex<bool>, Condvar)) {
    *open.0.lock().unwrap() = true;
    open.1.notify_all();
}

#[tokio::test]
async fn a_publish_is_neither_answered_nor_visible_before_its_flush() {
    let dir = tempfile::tempdir().unwrap();
    let (store, open, waits) = held(dir.path());
    let r = Registry::open(Arc::new(store), Limits::default()).await.unwrap();
    let first = {
        let r = r.clone();
        tokio::spawn(async move { r.publish(input(r#"{"type":"object"}"#, "1.0.0"), actor()).await })
    };
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
    assert_eq!(r.last_sequence(), 0);
    assert!(!first.is_finished());
    release(&open);
    drop(waits);
    let first = first.await.unwrap().unwrap();
    assert!(first.value.created);
    assert_eq!(first.sequence, 1);
    assert_eq!(
        r.get("orders", "placed", "").unwrap().record.version,
        Version::new(1, 0, 0)
    );
    assert_eq!(r.last_sequence(), 1);
}

#[tokio::test]
async fn a_write_whose_flush_fails_is_never_revealed() {
    let dir = tempfile::tempdir().unwrap();
    let (store, open, _waits) = held(dir.path());
    *store.fail.lock().unwrap() = true;
    release(&open);
    let r = Registry::open(Arc::new(store), Limits::default()).await.unwrap();
    let err = r
        .publish(input(r#"{"type":"object"}"#, "1.0.0"), actor())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unavailable(_)), "{err}");
    assert!(err.to_string().contains("disk full"), "{err}");
    assert!(r.get("orders", "placed", "").is_err());
    assert_eq!(r.last_sequence(), 0);
}

#[tokio::test]
async fn a_restart_rebuilds_the_same_index() {
    let dir = tempfile::tempdir().unwrap();
    {
        let r = registry(dir.path()).await;
        r.publish(input(r#"{"type":"object"}"#, "1.0.0"), actor())
            .await
            .unwrap();
        r.publish(input(r#"{"type":"object"}"#, "1.0.1"), actor())
            .await
            .unwrap();
        r.deprecate("orders", "placed", "1.0.0", "use 1.0.1", None, actor())
            .await
            .unwrap();
        r.delete_version("orders", "placed", "1.0.1", false, None, actor())
            .await
            .unwrap();
        r.set_config(
            "",
            "",
            SettingsChange {
                mode: Some(Mode::Full),
                ..SettingsChange::default()
            },
            actor(),
        )
        .await
        .unwrap();
    }
    let r = registry(dir.path()).await;
    let got = r.get("orders", "placed", "").unwrap();
    assert_eq!(got.record.version, Version::new(1, 0, 0));
    assert_eq!(
        got.record.deprecated.as_ref().map(|d| d.message.as_str()),
        Some("use 1.0.1")
    );
    assert_eq!(got.record.published_by, "tester");
    assert!(matches!(
        r.get("orders", "placed", "1.0.1"),
        Err(Error::NotFound { .. })
    ));
    assert_eq!(r.get_config("", "").unwrap().config.mode, Mode::Full);
    assert_eq!(r.last_sequence(), 5);
}

#[tokio::test]
async fn a_hard_deleted_version_number_is_never_reused() {
    let dir = tempfile::tempdir().unwrap();
    let r = registry(dir.path()).await;
    r.publish(input(r#"{"type":"object"}"#, "1.0.0"), actor())
        .await
        .unwrap();
    r.publish(input(r#"{"type":"object","title":"t"}"#, "1.1.0"), actor())
        .await
        .unwrap();
    r.delete_version("orders", "placed", "1.1.0", true, None, actor())
        .await
        .unwrap();
    for schema in [
        r#"{"type":"object","title":"t"}"#,
        r#"{"type":"object","title":"other"}"#,
    ] {
        let err = r.publish(input(schema, "1.1.0"), actor()).await.unwrap_err();
        let Error::Refused(decision) = &err else {
            panic!("{err}")
        };
        assert_eq!(decision.verdict, Verdict::VersionExists);
        assert!(err.to_string().contains("hard-deleted by tester"), "{err}");
    }
    // Without a version, the next one skips it.
    let next = r
        .publish(input(r#"{"type":"object","title":"other"}"#, ""), actor())
        .await
        .unwrap();
    assert_eq!(next.value.version.record.version, Version::new(1, 0, 1));
    drop(r);
    // The tombstone survives a restart.
    let r = reopened(dir.path()).await;
    assert!(
        r.publish(input(r#"{"type":"object"}"#, "1.1.0"), actor())
            .await
            .is_err()
    );
    let listed = r
        .list_versions("orders", "placed", true, &PageRequest::default())
        .unwrap();
    let erased = listed
        .items
        .iter()
        .find(|v| v.version == Version::new(1, 1, 0))
        .unwrap();
    assert_eq!(erased.erased.as_ref().map(|t| t.by.as_str()), Some("tester"));
}

#[tokio::test]
async fn a_successful_write_is_audited_in_its_own_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let r = registry(dir.path()).await;
    r.publish(input(r#"{"type":"object"}"#, "1.0.0"), actor())
        .await
        .unwrap();
    // An idempotent re-publish changes nothing and is audited too.
    r.publish(input(r#"{"type":"object"}"#, "1.0.0"), actor())
        .await
        .unwrap();
    let page = r.audit_page(0, None, 10).await.unwrap();
    assert_eq!(page.len(), 2);
    assert!(
        page.iter()
            .all(|(_, a)| a.allowed && a.principal == "tester" && a.outcome == "OK")
    );
}

#[tokio::test]
async fn concurrent_publishes_to_one_contract_never_share_a_version_and_each_rests_on_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let r = registry(dir.path()).await;
    r.publish(input(r#"{"type":"object"}"#, "1.0.0"), actor())
        .await
        .unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let r = r.clone();
            tokio::spawn(async move {
                let schema = format!(r#"{{"type":"object","title":"{i}"}}"#);
                r.publish(
                    PublishInput {
                        component: "orders",
                        contract: "placed",
                        schema: &schema,
                        version: "",
                    },
                    actor(),
                )
                .await
            })
        })
        .collect();
    let mut versions = Vec::new();
    for t in tasks {
        versions.push(t.await.unwrap().unwrap().value.version.record.version.clone());
    }
    versions.sort();
    versions.dedup();
    assert_eq!(versions.len(), 16, "every publish got its own version");
    // Each was decided against the one before it: patches 1..=16.
    assert_eq!(versions.last(), Some(&Version::new(1, 0, 16)));
    assert_eq!(r.last_sequence(), 17);
}

#[tokio::test]
async fn a_watcher_that_falls_behind_the_live_feed_misses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let r = registry(dir.path()).await;
    r.publish(input(r#"{"type":"object"}"#, "1.0.0"), actor())
        .await
        .unwrap();
    let mut events = r.watch(0, "", Arc::new(|_: &Event| true)).await.unwrap();
    assert_eq!(events.recv().await.unwrap().unwrap().sequence, 1);
    // Far more events than the live buffer and the stream channel hold,
    // while nobody reads.
    for patch in 1..=100 {
        let schema = format!(r#"{{"type":"object","title":"{patch}"}}"#);
        r.publish(input(&schema, &format!("1.0.{patch}")), actor())
            .await
            .unwrap();
    }
    for expected in 2..=101u64 {
        let event = events.recv().await.unwrap().unwrap();
        assert_eq!(event.sequence, expected);
        assert_eq!(event.version, format!("1.0.{}", expected - 1));
    }
    // And it is live again afterwards.
    r.deprecate("orders", "placed", "1.0.0", "old", None, actor())
        .await
        .unwrap();
    let event = events.recv().await.unwrap().unwrap();
    assert_eq!((event.sequence, event.kind), (102, EventKind::Deprecated));
    r.shutdown();
    assert!(events.recv().await.is_none(), "the stream ends on shutdown");
}

#[tokio::test]
async fn a_resume_point_from_another_history_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let r = registry(dir.path()).await;
    r.publish(input(r#"{"type":"object"}"#, "1.0.0"), actor())
        .await
        .unwrap();
    let all = Arc::new(|_: &Event| true);
    assert!(r.watch(1, &r.epoch(), all.clone()).await.is_ok());
    let err = r.watch(1, "0123456789abcdef", all.clone()).await.unwrap_err();
    assert!(matches!(err, Error::FailedPrecondition { .. }), "{err}");
    assert!(err.to_string().contains("watch from sequence 0"), "{err}");
    let err = r.watch(7, "", all).await.unwrap_err();
    assert!(err.to_string().contains("beyond the last event"), "{err}");
}

#[tokio::test]
async fn a_watcher_that_does_not_read_does_not_hold_up_a_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let r = registry(dir.path()).await;
    for patch in 0..200 {
        let schema = format!(r#"{{"type":"object","title":"{patch}"}}"#);
        r.publish(input(&schema, &format!("1.0.{patch}")), actor())
            .await
            .unwrap();
    }
    // Its replay alone is more than the stream buffers.
    let mut events = r.watch(0, "", Arc::new(|_: &Event| true)).await.unwrap();
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

#[tokio::test]
async fn setting_one_field_of_a_contract_leaves_the_other_following_the_global_one() {
    let dir = tempfile::tempdir().unwrap();
    let r = registry(dir.path()).await;
    r.set_config(
        "orders",
        "placed",
        SettingsChange {
            mode: Some(Mode::Forward),
            ..SettingsChange::default()
        },
        actor(),
    )
    .await
    .unwrap();
    // The global policy changes afterwards: the contract follows it.
    r.set_config(
        "",
        "",
        SettingsChange {
            policy: Some(Policy::Lenient),
            ..SettingsChange::default()
        },
        actor(),
    )
    .await
    .unwrap();
    let view = r.get_config("orders", "placed").unwrap();
    assert_eq!(view.config.mode, Mode::Forward);
    assert_eq!(view.config.policy, Policy::Lenient);
    assert!(!view.mode_inherited && view.policy_inherited);
    // And the other way round.
    r.set_config(
        "",
        "",
        SettingsChange {
            mode: Some(Mode::Full),
            ..SettingsChange::default()
        },
        actor(),
    )
    .await
    .unwrap();
    assert_eq!(
        r.get_config("orders", "placed").unwrap().config.mode,
        Mode::Forward
    );
}

#[tokio::test]
async fn a_malformed_selector_is_invalid_even_for_a_missing_contract() {
    let dir = tempfile::tempdir().unwrap();
    let r = registry(dir.path()).await;
    assert!(matches!(
        r.get("nope", "missing", "^^1"),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        r.get("nope", "missing", "^1"),
        Err(Error::NotFound { .. })
    ));
}
