//! The `Store` contract, one suite run against both backends: sled in a
//! temporary directory and PostgreSQL in a database of its own. Every
//! expectation here is the trait's documented promise, not either
//! implementation's behaviour.

use std::sync::Arc;

use accord_registry::{
    model::{
        AuditRecord, CompatConfig, Consumption, ContractName, Event, EventKind, ReaderSchema, Settings,
        Tombstone, VersionRecord, Waiver,
    },
    store::{Batch, Store, StoreError, postgres::PostgresStore, sled::SledStore},
};
use accord_tests::postgres::TestDatabase;

/// A store of one kind, with what keeps it alive (its directory or database).
type Backend = (&'static str, Arc<dyn Store>, Box<dyn std::any::Any + Send>);

/// A store of each kind.
async fn stores(test: &str) -> Vec<Backend> {
    let mut out: Vec<Backend> = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    let sled = SledStore::open(dir.path()).unwrap();
    out.push(("sled", Arc::new(sled), Box::new(dir)));
    if let Some(db) = TestDatabase::create(test).await {
        let pg = PostgresStore::open(&db.url).await.unwrap();
        out.push(("postgres", Arc::new(pg), Box::new(db)));
    }
    out
}

fn name(contract: &str) -> ContractName {
    ContractName::new("orders", contract).unwrap()
}

/// The fingerprint of `text`, as the registry computes it.
fn fp(text: &str) -> String {
    accord_compat::fingerprint(&serde_json::from_str(text).unwrap())
}

fn record(contract: &str, version: &str, text: &str) -> VersionRecord {
    VersionRecord {
        name: name(contract),
        version: version.parse().unwrap(),
        fingerprint: fp(text),
        created_at: 7,
        bump: None,
        deprecated: None,
        deleted_at: None,
        draft: Some(accord_compat::Draft::D2020),
        published_by: "ci".into(),
        erased: None,
    }
}

fn published(contract: &str, version: &str) -> Event {
    Event::new(EventKind::Published, Some(&name(contract)), version.into())
}

fn publish_batch(contract: &str, version: &str, text: &str, expect: u64) -> Batch {
    Batch {
        expect: vec![(Some(name(contract)), expect)],
        versions: vec![record(contract, version, text)],
        schemas: vec![(fp(text), Arc::from(text))],
        events: vec![published(contract, version)],
        audit: vec![audit("ci", 10)],
        ..Batch::default()
    }
}

fn audit(principal: &str, time: u64) -> AuditRecord {
    AuditRecord {
        time_micros: time,
        principal: principal.into(),
        action: "PublishContract".into(),
        target: "orders/placed".into(),
        allowed: true,
        outcome: "OK".into(),
        message: String::new(),
    }
}

async fn commit(store: &dyn Store, batch: Batch) -> Result<accord_registry::store::Applied, StoreError> {
    let applied = store.apply(batch).await?;
    store.sync(applied.ticket).await?;
    Ok(applied)
}

const A: &str = r#"{"type":"object"}"#;
const B: &str = r#"{"type":"object","title":"b"}"#;

#[tokio::test]
async fn what_is_applied_is_loaded_back_with_gap_free_sequences() {
    for (kind, store, _keep) in stores("loaded_back").await {
        assert!(store.is_empty().await.unwrap(), "{kind}");
        let first = commit(store.as_ref(), publish_batch("placed", "1.0.0", A, 0))
            .await
            .unwrap();
        assert_eq!(first.events[0].sequence, 1, "{kind}");
        let second = commit(
            store.as_ref(),
            Batch {
                settings: vec![
                    (None, Some(Settings::full(CompatConfig::default()))),
                    (
                        Some(name("placed")),
                        Some(Settings {
                            mode: Some(accord_compat::Mode::Full),
                            policy: None,
                            ..Default::default()
                        }),
                    ),
                ],
                events: vec![
                    Event::new(EventKind::ConfigChanged, None, String::new()),
                    Event::new(EventKind::ConfigChanged, Some(&name("placed")), String::new()),
                ],
                ..Batch::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            second.events.iter().map(|e| e.sequence).collect::<Vec<_>>(),
            [2, 3],
            "{kind}"
        );
        assert!(
            second.events.iter().all(|e| e.time > 0),
            "{kind}: events are timed"
        );
        let snapshot = store.load().await.unwrap();
        assert_eq!(snapshot.versions, vec![record("placed", "1.0.0", A)], "{kind}");
        assert_eq!(snapshot.schemas.len(), 1, "{kind}");
        assert_eq!(&*snapshot.schemas[0].1, A, "{kind}");
        assert_eq!(snapshot.global, Some(CompatConfig::default()), "{kind}");
        assert_eq!(snapshot.settings.len(), 1, "{kind}");
        assert_eq!(snapshot.last_sequence, 3, "{kind}");
        let mut revisions = snapshot.revisions.clone();
        revisions.sort();
        assert_eq!(revisions, vec![(None, 2), (Some(name("placed")), 3)], "{kind}");
        assert!(!snapshot.epoch.is_empty(), "{kind}");
        let events = store.events_after(1, 10).await.unwrap();
        assert_eq!(
            events.iter().map(|e| e.sequence).collect::<Vec<_>>(),
            [2, 3],
            "{kind}"
        );
        assert_eq!(store.events_after(0, 1).await.unwrap().len(), 1, "{kind}");
        assert!(!store.is_empty().await.unwrap(), "{kind}");
    }
}

#[tokio::test]
async fn a_batch_decided_on_a_moved_revision_is_refused_whole() {
    for (kind, store, _keep) in stores("moved_revision").await {
        commit(store.as_ref(), publish_batch("placed", "1.0.0", A, 0))
            .await
            .unwrap();
        let err = commit(store.as_ref(), publish_batch("placed", "1.1.0", B, 0))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Conflict { expected: 0, found: 1, contract: Some(c) } if *c == name("placed")),
            "{kind}: {err}"
        );
        // Nothing of it was written: no version, no schema, no event, no audit.
        let snapshot = store.load().await.unwrap();
        assert_eq!(snapshot.versions.len(), 1, "{kind}");
        assert_eq!(snapshot.schemas.len(), 1, "{kind}");
        assert_eq!(snapshot.last_sequence, 1, "{kind}");
        assert_eq!(store.audit_page(0, None, 10).await.unwrap().len(), 1, "{kind}");
        // Another contract is not held up by this one's revision.
        commit(store.as_ref(), publish_batch("other", "1.0.0", B, 0))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn concurrent_writers_of_one_contract_cannot_both_pass_on_the_same_revision() {
    for (kind, store, _keep) in stores("concurrent_writers").await {
        commit(store.as_ref(), publish_batch("placed", "1.0.0", A, 0))
            .await
            .unwrap();
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let text = format!(r#"{{"type":"object","title":"{i}"}}"#);
                    commit(store.as_ref(), publish_batch("placed", "1.1.0", &text, 1)).await
                })
            })
            .collect();
        let mut won = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => won += 1,
                Err(StoreError::Conflict { .. }) => {}
                Err(e) => panic!("{kind}: {e}"),
            }
        }
        assert_eq!(won, 1, "{kind}: exactly one write passes on revision 1");
        assert_eq!(store.load().await.unwrap().last_sequence, 2, "{kind}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_of_many_contracts_each_get_their_own_answer() {
    for (kind, store, _keep) in stores("many_writers").await {
        commit(store.as_ref(), publish_batch("c0", "1.0.0", A, 0))
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for i in 1..=40 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let text = format!(r#"{{"type":"object","title":"{i}"}}"#);
                (
                    i,
                    commit(store.as_ref(), publish_batch(&format!("c{i}"), "1.0.0", &text, 0)).await,
                )
            }));
        }
        // Decided before c0's first version: refused, whoever it is applied with.
        let stale = {
            let store = store.clone();
            tokio::spawn(async move { commit(store.as_ref(), publish_batch("c0", "1.1.0", B, 0)).await })
        };
        // A batch the database cannot store (a NUL in a text column) fails
        // alone on PostgreSQL; the embedded store keeps any text.
        let broken = (kind == "postgres").then(|| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut version = record("broken", "1.0.0", A);
                version.fingerprint = "nul".into();
                let batch = Batch {
                    expect: vec![(Some(name("broken")), 0)],
                    versions: vec![version],
                    schemas: vec![("nul".into(), Arc::from("{\"title\":\"\0\"}"))],
                    events: vec![published("broken", "1.0.0")],
                    ..Batch::default()
                };
                commit(store.as_ref(), batch).await
            })
        });
        let mut sequences = Vec::new();
        let mut revisions = Vec::new();
        for task in tasks {
            let (i, applied) = task.await.unwrap();
            let applied = applied.unwrap_or_else(|e| panic!("{kind}: c{i}: {e}"));
            assert_eq!(applied.events.len(), 1, "{kind}: c{i}");
            let sequence = applied.events[0].sequence;
            assert_eq!(applied.last_sequence, sequence, "{kind}: c{i}");
            assert_eq!(
                applied.events[0].contract,
                format!("c{i}"),
                "{kind}: its own event"
            );
            sequences.push(sequence);
            revisions.push((i, sequence));
        }
        match stale.await.unwrap() {
            Err(StoreError::Conflict {
                expected: 0,
                found: 1,
                ..
            }) => {}
            other => panic!("{kind}: the stale batch: {other:?}"),
        }
        if let Some(broken) = broken {
            let err = broken.await.unwrap().expect_err("a NUL cannot be stored");
            assert!(err.to_string().contains("writing a schema"), "{kind}: {err}");
        }
        sequences.sort_unstable();
        assert_eq!(
            sequences,
            (2..=41).collect::<Vec<u64>>(),
            "{kind}: gap-free, one each"
        );
        let snapshot = store.load().await.unwrap();
        assert_eq!(snapshot.last_sequence, 41, "{kind}");
        assert_eq!(snapshot.versions.len(), 41, "{kind}: c0 1.0.0 and one per writer");
        assert!(
            snapshot.versions.iter().all(|v| v.name.contract() != "broken"),
            "{kind}: nothing of the failed batch"
        );
        // Each contract's revision is its own event's sequence: a batch
        // decided on it passes.
        for (i, sequence) in revisions.into_iter().take(5) {
            commit(
                store.as_ref(),
                publish_batch(&format!("c{i}"), "1.1.0", B, sequence),
            )
            .await
            .unwrap_or_else(|e| panic!("{kind}: c{i} on revision {sequence}: {e}"));
        }
    }
}

#[tokio::test]
async fn a_released_text_is_erased_only_when_no_live_version_uses_it() {
    for (kind, store, _keep) in stores("released_text").await {
        commit(
            store.as_ref(),
            Batch {
                versions: vec![record("placed", "1.0.0", A), record("other", "1.0.0", A)],
                schemas: vec![(fp(A), Arc::from(A))],
                events: vec![published("placed", "1.0.0"), published("other", "1.0.0")],
                ..Batch::default()
            },
        )
        .await
        .unwrap();
        let mut erased = record("placed", "1.0.0", A);
        erased.erased = Some(Tombstone {
            at: 9,
            by: "ops".into(),
        });
        let applied = commit(
            store.as_ref(),
            Batch {
                versions: vec![erased],
                released_schemas: vec![fp(A)],
                events: vec![Event::new(
                    EventKind::Deleted,
                    Some(&name("placed")),
                    "1.0.0".into(),
                )],
                ..Batch::default()
            },
        )
        .await
        .unwrap();
        assert!(
            applied.erased_schemas.is_empty(),
            "{kind}: other@1.0.0 still uses it"
        );
        let mut erased_too = record("other", "1.0.0", A);
        erased_too.erased = Some(Tombstone {
            at: 9,
            by: "ops".into(),
        });
        let applied = commit(
            store.as_ref(),
            Batch {
                versions: vec![erased_too],
                released_schemas: vec![fp(A)],
                events: vec![Event::new(
                    EventKind::Deleted,
                    Some(&name("other")),
                    "1.0.0".into(),
                )],
                ..Batch::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(applied.erased_schemas, vec![fp(A)], "{kind}");
        let snapshot = store.load().await.unwrap();
        assert!(snapshot.schemas.is_empty(), "{kind}");
        assert_eq!(snapshot.versions.len(), 2, "{kind}: the tombstones stay");
        assert!(snapshot.versions.iter().all(|v| v.erased.is_some()), "{kind}");
        // The text may be written again by a new version.
        commit(store.as_ref(), publish_batch("third", "1.0.0", A, 0))
            .await
            .unwrap();
        assert_eq!(store.load().await.unwrap().schemas.len(), 1, "{kind}");
    }
}

#[tokio::test]
async fn the_audit_log_pages_in_time_order_whatever_the_write_order() {
    for (kind, store, _keep) in stores("audit_pages").await {
        commit(
            store.as_ref(),
            Batch::audit_only(vec![audit("a", 50), audit("b", 30)]),
        )
        .await
        .unwrap();
        commit(store.as_ref(), Batch::audit_only(vec![audit("c", 40)]))
            .await
            .unwrap();
        let page = store.audit_page(0, None, 2).await.unwrap();
        let names: Vec<_> = page.iter().map(|(_, r)| r.principal.as_str()).collect();
        assert_eq!(names, ["b", "c"], "{kind}");
        let rest = store.audit_page(0, Some(page[1].0.clone()), 10).await.unwrap();
        assert_eq!(
            rest.iter().map(|(_, r)| r.principal.as_str()).collect::<Vec<_>>(),
            ["a"],
            "{kind}"
        );
        let since = store.audit_page(41, None, 10).await.unwrap();
        assert_eq!(since.len(), 1, "{kind}");
        // An audit-only batch moves no sequence.
        assert_eq!(store.load().await.unwrap().last_sequence, 0, "{kind}");
        // Pruning: by age, then the oldest beyond the count kept.
        assert_eq!(
            store.prune_audit(31, 10).await.unwrap(),
            1,
            "{kind}: b (30) is older than 31"
        );
        assert_eq!(
            store.prune_audit(0, 1).await.unwrap(),
            1,
            "{kind}: c (40) is the oldest left"
        );
        let left = store.audit_page(0, None, 10).await.unwrap();
        assert_eq!(
            left.iter().map(|(_, r)| r.principal.as_str()).collect::<Vec<_>>(),
            ["a"],
            "{kind}"
        );
    }
}

#[tokio::test]
async fn an_export_imports_into_either_store_with_the_same_sequences() {
    let backends = stores("export_import").await;
    let (kind, source, _keep) = &backends[0];
    commit(source.as_ref(), publish_batch("placed", "1.0.0", A, 0))
        .await
        .unwrap();
    commit(source.as_ref(), publish_batch("placed", "1.1.0", B, 1))
        .await
        .unwrap();
    let mut dump = Vec::new();
    accord_registry::backup::export(source.as_ref(), &mut dump)
        .await
        .unwrap();
    for (target_kind, target, _keep) in stores("export_import_target").await {
        accord_registry::backup::import(target.as_ref(), &mut dump.as_slice())
            .await
            .unwrap();
        let snapshot = target.load().await.unwrap();
        assert_eq!(snapshot.last_sequence, 2, "{kind} → {target_kind}");
        assert_eq!(snapshot.versions.len(), 2, "{kind} → {target_kind}");
        let events = target.events_after(0, 10).await.unwrap();
        let original = source.events_after(0, 10).await.unwrap();
        assert_eq!(
            events, original,
            "{kind} → {target_kind}: events keep their numbers and times"
        );
        let mut again = Vec::new();
        accord_registry::backup::export(target.as_ref(), &mut again)
            .await
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&again),
            String::from_utf8_lossy(&dump),
            "{kind} → {target_kind}: the copy exports to the same lines"
        );
        let err = accord_registry::backup::import(target.as_ref(), &mut dump.as_slice())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not empty"), "{err}");
    }
}

fn consumption(consumer: &str, requirement: &str, reader: Option<&str>) -> Consumption {
    Consumption {
        consumer: consumer.into(),
        contract: name("placed"),
        requirement: requirement.parse().unwrap(),
        reader: reader.map(|text| ReaderSchema {
            text: text.into(),
            fingerprint: fp(text),
            draft: Some(accord_compat::Draft::D7),
        }),
        registered_by: "billing-ci".into(),
        registered_at: 11,
    }
}

fn waiver(id: &str) -> Waiver {
    Waiver {
        id: id.into(),
        contract: name("placed"),
        consumer: Some("billing".into()),
        rules: vec!["PROPERTY_ADDED_TO_CLOSED_CONTENT_MODEL".into()],
        reason: "billing ships its new reader first".into(),
        expires_at: 4_000_000_000_000,
        approver: "ops".into(),
        created_at: 12,
        revoked: None,
        expiry_recorded: false,
    }
}

fn consumer_event(kind: EventKind, consumer: &str) -> Event {
    let mut event = Event::new(kind, Some(&name("placed")), String::new());
    event.consumer = consumer.into();
    event
}

/// Registers billing (with a reader) and shipping, and creates a waiver,
/// in one batch decided on revision 1 of orders/placed.
fn consumers_batch() -> Batch {
    Batch {
        expect: vec![(Some(name("placed")), 1)],
        consumers: vec![
            (
                name("placed"),
                "billing".into(),
                Some(consumption("billing", "^1", Some(A))),
            ),
            (
                name("placed"),
                "shipping".into(),
                Some(consumption("shipping", "~1.0", None)),
            ),
        ],
        waivers: vec![waiver("w-000000000001")],
        events: vec![
            consumer_event(EventKind::ConsumerRegistered, "billing"),
            consumer_event(EventKind::ConsumerRegistered, "shipping"),
            consumer_event(EventKind::WaiverCreated, "billing"),
        ],
        ..Batch::default()
    }
}

#[tokio::test]
async fn consumers_and_waivers_are_stored_with_their_events_and_move_the_revision() {
    for (kind, store, _keep) in stores("consumers_stored").await {
        commit(store.as_ref(), publish_batch("placed", "1.0.0", A, 0))
            .await
            .unwrap();
        let applied = commit(store.as_ref(), consumers_batch()).await.unwrap();
        assert_eq!(applied.last_sequence, 4, "{kind}");
        let snapshot = store.load().await.unwrap();
        let mut consumers = snapshot.consumers.clone();
        consumers.sort_by(|a, b| a.consumer.cmp(&b.consumer));
        assert_eq!(
            consumers,
            vec![
                consumption("billing", "^1", Some(A)),
                consumption("shipping", "~1.0", None)
            ],
            "{kind}"
        );
        assert_eq!(snapshot.waivers, vec![waiver("w-000000000001")], "{kind}");
        assert!(
            snapshot.revisions.contains(&(Some(name("placed")), 4)),
            "{kind}: {:?}",
            snapshot.revisions
        );
        let events = store.events_after(1, 10).await.unwrap();
        assert_eq!(events[0].consumer, "billing", "{kind}");
        assert_eq!(events[2].kind, EventKind::WaiverCreated, "{kind}");
        // A registration decided on the old revision is refused whole.
        let err = commit(store.as_ref(), consumers_batch()).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict { found: 4, .. }),
            "{kind}: {err}"
        );
        // Removing one consumer and revoking the waiver.
        let mut revoked = waiver("w-000000000001");
        revoked.revoked = Some(Tombstone {
            at: 13,
            by: "ops".into(),
        });
        commit(
            store.as_ref(),
            Batch {
                expect: vec![(Some(name("placed")), 4)],
                consumers: vec![(name("placed"), "shipping".into(), None)],
                waivers: vec![revoked.clone()],
                events: vec![
                    consumer_event(EventKind::ConsumerUnregistered, "shipping"),
                    consumer_event(EventKind::WaiverRevoked, "billing"),
                ],
                ..Batch::default()
            },
        )
        .await
        .unwrap();
        let snapshot = store.load().await.unwrap();
        assert_eq!(
            snapshot.consumers,
            vec![consumption("billing", "^1", Some(A))],
            "{kind}"
        );
        assert_eq!(
            snapshot.waivers,
            vec![revoked],
            "{kind}: a waiver is kept, revoked"
        );
    }
}

#[tokio::test]
async fn a_follower_learns_of_the_consumers_and_waivers_another_process_wrote() {
    for (kind, store, _keep) in stores("consumers_followed").await {
        commit(store.as_ref(), publish_batch("placed", "1.0.0", A, 0))
            .await
            .unwrap();
        commit(store.as_ref(), consumers_batch()).await.unwrap();
        // Only a shared store has others to follow.
        let Some(changes) = store.follow(1).await.unwrap() else {
            assert_eq!(kind, "sled");
            continue;
        };
        assert_eq!(changes.last_sequence, 4, "{kind}");
        let placed = changes
            .contracts
            .iter()
            .find(|c| c.name == name("placed"))
            .expect("the contract the events are about");
        assert_eq!(placed.revision, 4, "{kind}");
        let readers: Vec<&str> = placed.consumers.iter().map(|c| c.consumer.as_str()).collect();
        assert_eq!(readers, ["billing", "shipping"], "{kind}");
        assert_eq!(
            placed.consumers[0],
            consumption("billing", "^1", Some(A)),
            "{kind}"
        );
        assert_eq!(placed.waivers, vec![waiver("w-000000000001")], "{kind}");
    }
}

#[tokio::test]
async fn consumers_and_waivers_survive_an_export_and_import_and_older_exports_still_import() {
    let backends = stores("consumers_export").await;
    let (kind, source, _keep) = &backends[0];
    commit(source.as_ref(), publish_batch("placed", "1.0.0", A, 0))
        .await
        .unwrap();
    commit(source.as_ref(), consumers_batch()).await.unwrap();
    let mut dump = Vec::new();
    let counts = accord_registry::backup::export(source.as_ref(), &mut dump)
        .await
        .unwrap();
    assert_eq!((counts.consumers, counts.waivers), (2, 1), "{kind}");
    let text = String::from_utf8(dump.clone()).unwrap();
    assert!(text.starts_with(r#"{"record":"header","format":3}"#), "{text}");
    for (target_kind, target, _keep) in stores("consumers_import").await {
        accord_registry::backup::import(target.as_ref(), &mut dump.as_slice())
            .await
            .unwrap();
        let (mut a, mut b) = (source.load().await.unwrap(), target.load().await.unwrap());
        for s in [&mut a, &mut b] {
            s.consumers.sort_by(|x, y| x.consumer.cmp(&y.consumer));
        }
        assert_eq!(a.consumers, b.consumers, "{kind} → {target_kind}");
        assert_eq!(a.waivers, b.waivers, "{kind} → {target_kind}");
        assert_eq!(b.last_sequence, 4, "{kind} → {target_kind}");
    }
    // An export of format 2, from before consumers, imports as it did.
    let old = format!(
        "{{\"record\":\"header\",\"format\":2}}\n\
         {{\"record\":\"schema\",\"fingerprint\":\"{fp}\",\"text\":\"{{\\\"type\\\":\\\"object\\\"}}\"}}\n\
         {{\"record\":\"version\",\"name\":\"orders/placed\",\"version\":\"1.0.0\",\"fingerprint\":\"{fp}\",\
         \"created_at\":7,\"bump\":null,\"deprecated\":null,\"deleted_at\":null,\"draft\":\"7\",\"published_by\":\"ci\"}}\n\
         {{\"record\":\"event\",\"sequence\":1,\"kind\":\"published\",\"time\":7,\"component\":\"orders\",\
         \"contract\":\"placed\",\"version\":\"1.0.0\",\"fingerprint\":\"{fp}\",\"message\":\"\",\"config\":null,\"hard\":false}}\n",
        fp = fp(A)
    );
    for (target_kind, target, _keep) in stores("consumers_old_export").await {
        let counts = accord_registry::backup::import(target.as_ref(), &mut old.as_bytes())
            .await
            .unwrap_or_else(|e| panic!("{target_kind}: {e}"));
        assert_eq!(
            (counts.versions, counts.events, counts.consumers),
            (1, 1, 0),
            "{target_kind}"
        );
        let snapshot = target.load().await.unwrap();
        assert!(
            snapshot.consumers.is_empty() && snapshot.waivers.is_empty(),
            "{target_kind}"
        );
    }
}
