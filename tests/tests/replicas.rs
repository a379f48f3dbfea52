//! Registry replicas sharing one PostgreSQL database: in-process servers on
//! `127.0.0.1:0`, each with the store URL of a database of the test's own.

use std::{collections::BTreeMap, time::Duration};

use accord_proto::v1::{
    CompatibilityViolation, DeleteVersionRequest, DeprecateVersionRequest, GetContractRequest,
    ListVersionsRequest, PublishContractRequest, RestoreContractRequest, VersionState, WatchEventsRequest,
    registry_service_client::RegistryServiceClient,
};
use accord_tests::{TestServer, postgres::TestDatabase, proxy::Proxy};
use tonic::{Code, transport::Channel};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

type Client = RegistryServiceClient<Channel>;

async fn replica(url: &str) -> TestServer {
    let url = url.to_owned();
    TestServer::start_with(tempfile::tempdir().unwrap(), move |c| c.store = Some(url)).await
}

fn schema(title: &str) -> String {
    format!(r#"{{"type":"object","title":"{title}"}}"#)
}

async fn publish(
    client: &mut Client,
    contract: &str,
    schema: String,
    version: &str,
) -> Result<u64, tonic::Status> {
    Ok(client
        .publish_contract(PublishContractRequest {
            component: "orders".into(),
            contract: contract.into(),
            schema,
            version: version.into(),
        })
        .await?
        .into_inner()
        .sequence)
}

async fn get(
    client: &mut Client,
    contract: &str,
    version: &str,
    min_sequence: u64,
) -> Result<String, tonic::Status> {
    let mut request = tonic::Request::new(GetContractRequest {
        component: "orders".into(),
        contract: contract.into(),
        version: version.into(),
        min_sequence,
    });
    request.set_timeout(Duration::from_millis(500));
    Ok(client
        .get_contract(request)
        .await?
        .into_inner()
        .contract
        .unwrap_or_default()
        .schema)
}

/// Polls `probe` until it holds, for at most `seconds`.
async fn eventually(seconds: u64, mut probe: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    while tokio::time::Instant::now() < deadline {
        if probe().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn a_write_on_one_replica_is_read_on_another() {
    let Some(db) = TestDatabase::create("write_read").await else {
        return;
    };
    let (a, b) = (replica(&db.url).await, replica(&db.url).await);
    let (mut on_a, mut on_b) = (a.client().await, b.client().await);
    let sequence = publish(&mut on_a, "placed", schema("a"), "1.0.0").await.unwrap();
    assert_eq!(sequence, 1);
    // With the write's sequence, the other replica answers only once it has it.
    assert_eq!(
        get(&mut on_b, "placed", "1.0.0", sequence).await.unwrap(),
        schema("a")
    );
    // Without it, the other replica learns of the write by itself.
    publish(&mut on_a, "placed", schema("b"), "1.1.0").await.unwrap();
    assert!(
        eventually(10, async || get(&mut on_b, "placed", "1.1.0", 0).await.is_ok()).await,
        "replica b never saw 1.1.0"
    );
    // A sequence no replica has is UNAVAILABLE once the deadline passed, saying why.
    let err = get(&mut on_b, "placed", "1.0.0", 1_000).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    assert!(err.message().contains("not yet 1000"), "{}", err.message());
}

#[tokio::test]
async fn concurrent_publishes_on_several_replicas_never_share_a_version_and_each_rests_on_the_last() {
    let Some(db) = TestDatabase::create("concurrent_replicas").await else {
        return;
    };
    let replicas = vec![
        replica(&db.url).await,
        replica(&db.url).await,
        replica(&db.url).await,
    ];
    let mut first = replicas[0].client().await;
    publish(&mut first, "placed", schema("start"), "1.0.0")
        .await
        .unwrap();
    // Every publisher changes only the title: content of its own that needs
    // a patch, published without a version so that the registry picks the
    // next one from the latest it sees.
    let mut tasks = Vec::new();
    for p in 0..12 {
        let url = replicas[p % replicas.len()].url();
        tasks.push(tokio::spawn(async move {
            let mut client = RegistryServiceClient::connect(url).await.unwrap();
            let mut done = Vec::new();
            for i in 0..4 {
                let text = schema(&format!("{p}-{i}"));
                match publish(&mut client, "placed", text.clone(), "").await {
                    Ok(_) => done.push(text),
                    Err(e) => panic!("publisher {p}: {e:?}"),
                }
            }
            done
        }));
    }
    let mut published = Vec::new();
    for t in tasks {
        published.extend(t.await.unwrap());
    }
    // Read back from each replica: the same versions, each with one content.
    let mut seen: Option<Vec<(String, String)>> = None;
    for r in &replicas {
        let mut client = r.client().await;
        let listed = client
            .list_versions(ListVersionsRequest {
                component: "orders".into(),
                contract: "placed".into(),
                page_size: 1000,
                min_sequence: 49,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let mut versions = Vec::new();
        for v in &listed.versions {
            let content = get(&mut client, "placed", &v.version, 49).await.unwrap();
            versions.push((v.version.clone(), content));
        }
        assert_eq!(versions.len(), 49, "1.0.0 and the 48 publishes");
        match &seen {
            None => seen = Some(versions),
            Some(first) => assert_eq!(first, &versions, "replicas disagree"),
        }
    }
    let versions = seen.unwrap();
    // Each was decided against the one before it: patches 1..=48, none
    // skipped, none twice.
    let numbers: Vec<String> = versions.iter().map(|(v, _)| v.clone()).collect();
    let mut expected: Vec<String> = (0..=48).map(|p| format!("1.0.{p}")).collect();
    expected.sort();
    let mut sorted = numbers.clone();
    sorted.sort();
    assert_eq!(sorted, expected);
    let contents: std::collections::BTreeSet<_> = versions.iter().map(|(_, c)| c.clone()).collect();
    assert_eq!(contents.len(), versions.len(), "a content under two versions");
    for text in &published {
        assert!(
            contents.contains(text),
            "an acknowledged publish is missing: {text}"
        );
    }
}

#[tokio::test]
async fn watchers_on_every_replica_see_the_same_gap_free_events() {
    let Some(db) = TestDatabase::create("watchers").await else {
        return;
    };
    let (a, b) = (replica(&db.url).await, replica(&db.url).await);
    let mut streams = Vec::new();
    for r in [&a, &b] {
        let mut client = r.client().await;
        streams.push(
            client
                .watch_events(WatchEventsRequest::default())
                .await
                .unwrap()
                .into_inner(),
        );
    }
    let mut writers = Vec::new();
    for (i, r) in [&a, &b, &a, &b].into_iter().enumerate() {
        let mut client = r.client().await;
        writers.push(tokio::spawn(async move {
            for n in 0..5 {
                publish(
                    &mut client,
                    &format!("c{i}"),
                    schema(&n.to_string()),
                    &format!("1.{n}.0"),
                )
                .await
                .unwrap();
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    let mut logs = Vec::new();
    for stream in &mut streams {
        let mut log = Vec::new();
        while log.len() < 20 {
            let message = tokio::time::timeout(Duration::from_secs(10), stream.message())
                .await
                .expect("an event within 10 s")
                .unwrap()
                .unwrap();
            let e = message.event.unwrap();
            log.push((e.sequence, e.contract, e.version, message.epoch));
        }
        logs.push(log);
    }
    assert_eq!(logs[0], logs[1], "the replicas' streams differ");
    let sequences: Vec<u64> = logs[0].iter().map(|e| e.0).collect();
    assert_eq!(sequences, (1..=20).collect::<Vec<_>>(), "gaps or disorder");
    // A watcher that resumes on the other replica with the epoch continues.
    let epoch = logs[0][9].3.clone();
    let mut client = b.client().await;
    let mut resumed = client
        .watch_events(WatchEventsRequest {
            after_sequence: 10,
            epoch,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let next = resumed.message().await.unwrap().unwrap().event.unwrap();
    assert_eq!(next.sequence, 11);
}

#[tokio::test]
async fn a_restored_database_refuses_resume_points_of_its_old_history() {
    let Some(db) = TestDatabase::create("restored_old").await else {
        return;
    };
    let Some(restored) = TestDatabase::create("restored_new").await else {
        return;
    };
    let original = replica(&db.url).await;
    let mut client = original.client().await;
    publish(&mut client, "placed", schema("a"), "1.0.0")
        .await
        .unwrap();
    let mut stream = client
        .watch_events(WatchEventsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let epoch = stream.message().await.unwrap().unwrap().epoch;
    drop(original);
    // A backup of it, restored into another database.
    let source = accord_registry::store::postgres::PostgresStore::open(&db.url)
        .await
        .unwrap();
    let mut dump = Vec::new();
    accord_registry::backup::export(&source, &mut dump).await.unwrap();
    let target = accord_registry::store::postgres::PostgresStore::open(&restored.url)
        .await
        .unwrap();
    accord_registry::backup::import(&target, &mut dump.as_slice())
        .await
        .unwrap();
    let copy = replica(&restored.url).await;
    let mut client = copy.client().await;
    let err = client
        .watch_events(WatchEventsRequest {
            after_sequence: 1,
            epoch,
            ..Default::default()
        })
        .await
        .map(drop)
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    assert!(err.message().contains("another history"), "{}", err.message());
    // The data itself came through.
    assert_eq!(get(&mut client, "placed", "1.0.0", 0).await.unwrap(), schema("a"));
}

#[tokio::test]
async fn a_replica_rides_out_a_database_outage_and_catches_up() {
    let Some(db) = TestDatabase::create("outage").await else {
        return;
    };
    let target: std::net::SocketAddr = "127.0.0.1:5432".parse().unwrap();
    let proxy = Proxy::start(target).await;
    let through_proxy = db.url.replace("127.0.0.1:5432", &proxy.addr().to_string());
    assert_ne!(through_proxy, db.url, "the test database is on 127.0.0.1:5432");
    let a = replica(&through_proxy).await;
    let b = replica(&db.url).await;
    let (mut on_a, mut on_b) = (a.client().await, b.client().await);
    publish(&mut on_a, "placed", schema("a"), "1.0.0").await.unwrap();

    proxy.cut();
    // Reads go on from memory; writes are refused as unavailable; health
    // says so.
    assert_eq!(get(&mut on_a, "placed", "1.0.0", 0).await.unwrap(), schema("a"));
    let err = publish(&mut on_a, "placed", schema("b"), "1.1.0")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    let mut health = HealthClient::new(a.channel().await);
    let status = async |health: &mut HealthClient<Channel>| {
        health
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .status
    };
    assert!(
        eventually(10, async || status(&mut health).await
            == ServingStatus::NotServing as i32)
        .await,
        "health stayed SERVING without the database"
    );
    // The other replica keeps writing meanwhile.
    let sequence = publish(&mut on_b, "placed", schema("b"), "1.1.0").await.unwrap();

    proxy.restore();
    assert!(
        eventually(20, async || status(&mut health).await
            == ServingStatus::Serving as i32)
        .await,
        "health never came back"
    );
    assert_eq!(
        get(&mut on_a, "placed", "1.1.0", sequence).await.unwrap(),
        schema("b")
    );
    publish(&mut on_a, "placed", schema("c"), "1.2.0").await.unwrap();
}

#[tokio::test]
async fn a_refused_publish_names_the_version_and_carries_the_findings_on_any_replica() {
    let Some(db) = TestDatabase::create("refusal").await else {
        return;
    };
    let (a, b) = (replica(&db.url).await, replica(&db.url).await);
    let (mut on_a, mut on_b) = (a.client().await, b.client().await);
    let s = publish(&mut on_a, "placed", r#"{"type":"object"}"#.into(), "1.0.0")
        .await
        .unwrap();
    let _ = get(&mut on_b, "placed", "1.0.0", s).await.unwrap();
    let err = publish(&mut on_b, "placed", r#"{"type":"string"}"#.into(), "1.1.0")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let violation: CompatibilityViolation = accord_proto::details::violation_of(&err).expect("details");
    assert!(!violation.findings.is_empty());
    let by_rule: BTreeMap<_, _> = violation
        .findings
        .iter()
        .map(|f| (f.rule_id.clone(), f.compatible))
        .collect();
    assert!(by_rule.values().any(|compatible| !compatible), "{by_rule:?}");
}

/// The state of every version of `orders/<contract>` on a replica, deleted
/// ones included.
async fn states(client: &mut Client, contract: &str) -> Vec<(String, VersionState)> {
    client
        .list_versions(ListVersionsRequest {
            component: "orders".into(),
            contract: contract.into(),
            include_deleted: true,
            ..Default::default()
        })
        .await
        .map(|r| {
            r.into_inner()
                .versions
                .into_iter()
                .map(|v| (v.state(), v.version))
                .map(|(state, version)| (version, state))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn changes_to_old_versions_reach_the_other_replicas_and_untouched_versions_stay() {
    let Some(db) = TestDatabase::create("old_versions").await else {
        return;
    };
    let (a, b) = (replica(&db.url).await, replica(&db.url).await);
    let (mut on_a, mut on_b) = (a.client().await, b.client().await);
    for (i, version) in ["1.0.0", "1.0.1", "1.0.2", "1.0.3"].iter().enumerate() {
        publish(&mut on_a, "placed", schema(&format!("v{i}")), version)
            .await
            .unwrap();
    }
    let active = |v: &str| (v.to_owned(), VersionState::Active);
    let all_active = vec![active("1.0.0"), active("1.0.1"), active("1.0.2"), active("1.0.3")];
    assert!(
        eventually(10, async || states(&mut on_b, "placed").await == all_active).await,
        "b: {:?}",
        states(&mut on_b, "placed").await
    );
    // Each write below changes one old version on a; b must show exactly
    // that change and keep every other version as it was.
    on_a.deprecate_version(DeprecateVersionRequest {
        component: "orders".into(),
        contract: "placed".into(),
        version: "1.0.0".into(),
        message: "use 1.0.3".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    on_a.delete_version(DeleteVersionRequest {
        component: "orders".into(),
        contract: "placed".into(),
        version: "1.0.1".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    on_a.delete_version(DeleteVersionRequest {
        component: "orders".into(),
        contract: "placed".into(),
        version: "1.0.2".into(),
        hard: true,
        ..Default::default()
    })
    .await
    .unwrap();
    // And b writes one of its own meanwhile.
    publish(&mut on_b, "placed", schema("v4"), "1.0.4").await.unwrap();
    let expected = vec![
        ("1.0.0".to_owned(), VersionState::Deprecated),
        ("1.0.1".to_owned(), VersionState::Deleted),
        ("1.0.2".to_owned(), VersionState::Erased),
        active("1.0.3"),
        active("1.0.4"),
    ];
    for (name, client) in [("a", &mut on_a), ("b", &mut on_b)] {
        assert!(
            eventually(10, async || states(client, "placed").await == expected).await,
            "{name}: {:?}",
            states(client, "placed").await
        );
    }
    on_a.restore_contract(RestoreContractRequest {
        component: "orders".into(),
        contract: "placed".into(),
        version: "1.0.1".into(),
    })
    .await
    .unwrap();
    let mut restored = expected.clone();
    restored[1] = active("1.0.1");
    assert!(
        eventually(10, async || states(&mut on_b, "placed").await == restored).await,
        "b: {:?}",
        states(&mut on_b, "placed").await
    );
    // The texts are those published, the erased one gone.
    for (version, text) in [
        ("1.0.0", schema("v0")),
        ("1.0.1", schema("v1")),
        ("1.0.3", schema("v3")),
    ] {
        assert_eq!(
            get(&mut on_b, "placed", version, 0).await.unwrap(),
            text,
            "b: {version}"
        );
    }
    let erased = get(&mut on_b, "placed", "1.0.2", 0).await.unwrap_err();
    assert_eq!(erased.code(), Code::NotFound, "{erased:?}");
}
