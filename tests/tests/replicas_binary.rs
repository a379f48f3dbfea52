//! The real `accord-registry` binary as replicas of one PostgreSQL database:
//! many publishers over three replicas, one of them SIGKILLed and restarted
//! mid-run; tokens kept in the database; `migrate`.

use std::{
    collections::{BTreeMap, BTreeSet},
    process::Command,
    sync::{Arc, RwLock},
    time::Duration,
};

use accord_proto::v1::{
    GetContractRequest, ListComponentsRequest, ListVersionsRequest, PublishContractRequest,
    WatchEventsRequest, registry_service_client::RegistryServiceClient,
};
use accord_tests::{
    postgres::TestDatabase,
    process::{RegistryProcess, registry_binary},
};
use tonic::{Code, transport::Channel};

const PUBLISHERS: usize = 16;
const CONTRACTS: [&str; 3] = ["alpha", "beta", "gamma"];
const ROUNDS: usize = 12;

fn schema(kind: &str, title: &str) -> String {
    format!(r#"{{"type":"object","properties":{{"n":{{"type":"{kind}"}}}},"title":"{title}"}}"#)
}

async fn connect(url: &str) -> Option<RegistryServiceClient<Channel>> {
    RegistryServiceClient::connect(url.to_owned()).await.ok()
}

#[tokio::test]
async fn replicas_keep_one_history_while_one_is_killed_and_restarted() {
    let Some(db) = TestDatabase::create("replicas_binary").await else {
        return;
    };
    let args = ["--store", db.url.as_str()];
    let mut replicas = vec![
        RegistryProcess::start(&args).await,
        RegistryProcess::start(&args).await,
        RegistryProcess::start(&args).await,
    ];
    let urls: Arc<Vec<RwLock<String>>> =
        Arc::new(replicas.iter().map(|r| RwLock::new(r.url.clone())).collect());
    {
        let mut client = connect(&replicas[0].url).await.unwrap();
        for contract in CONTRACTS {
            client
                .publish_contract(PublishContractRequest {
                    component: "orders".into(),
                    contract: contract.into(),
                    schema: schema("string", "start"),
                    version: "1.0.0".into(),
                })
                .await
                .unwrap();
        }
    }
    // Every publisher reads the latest version of a contract from its
    // replica and publishes the next patch on it: a title change (accepted
    // unless someone got there first), or one time in four a type change
    // that breaks readers (which must always be refused).
    let mut tasks = Vec::new();
    for p in 0..PUBLISHERS {
        let urls = urls.clone();
        tasks.push(tokio::spawn(async move {
            let mut acknowledged: Vec<(String, String, String)> = Vec::new();
            let mut breaking_accepted = Vec::new();
            for round in 0..ROUNDS {
                let url = urls[p % 3].read().unwrap().clone();
                let Some(mut client) = connect(&url).await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let contract = CONTRACTS[(p + round) % CONTRACTS.len()];
                let Ok(latest) = client
                    .get_contract(GetContractRequest {
                        component: "orders".into(),
                        contract: contract.into(),
                        ..Default::default()
                    })
                    .await
                else {
                    continue;
                };
                let latest = latest.into_inner().contract.unwrap();
                let v: semver::Version = latest.version.parse().unwrap();
                let next = semver::Version::new(v.major, v.minor, v.patch + 1).to_string();
                let breaking = (p + round) % 4 == 0;
                let text = schema(
                    if breaking { "integer" } else { "string" },
                    &format!("{p}-{round}"),
                );
                let outcome = client
                    .publish_contract(PublishContractRequest {
                        component: "orders".into(),
                        contract: contract.into(),
                        schema: text.clone(),
                        version: next.clone(),
                    })
                    .await;
                match outcome {
                    Ok(reply) => {
                        if breaking {
                            breaking_accepted.push(format!("{contract}@{next}"));
                        }
                        let stored = reply.into_inner().contract.unwrap();
                        acknowledged.push((contract.to_owned(), stored.version, text));
                    }
                    Err(status) => assert!(
                        matches!(
                            status.code(),
                            Code::AlreadyExists
                                | Code::FailedPrecondition
                                | Code::Unavailable
                                | Code::Unknown
                                | Code::Cancelled
                        ),
                        "publisher {p}: {status:?}"
                    ),
                }
            }
            (acknowledged, breaking_accepted)
        }));
    }
    // Meanwhile one replica dies without warning and comes back.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let killed = replicas.remove(1);
    killed.kill();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let restarted = RegistryProcess::start(&args).await;
    *urls[1].write().unwrap() = restarted.url.clone();
    replicas.insert(1, restarted);

    let mut acknowledged = Vec::new();
    for t in tasks {
        let (acks, breaking) = t.await.unwrap();
        assert!(
            breaking.is_empty(),
            "breaking changes were accepted as patches: {breaking:?}"
        );
        acknowledged.extend(acks);
    }
    // A last write, after every other: its sequence is what each replica
    // must have applied before it is read.
    let last_write = connect(&replicas[0].url)
        .await
        .unwrap()
        .publish_contract(PublishContractRequest {
            component: "orders".into(),
            contract: "sentinel".into(),
            schema: schema("string", "end"),
            version: "1.0.0".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .sequence;
    assert!(
        acknowledged.len() > 10,
        "too few publishes got through: {}",
        acknowledged.len()
    );

    // Every replica holds the same versions, each with one content, every
    // acknowledged publish among them, and each version compatible with its
    // predecessor (the engine says so, independently of the registry).
    let mut histories = Vec::new();
    let mut last_sequence = 0;
    for r in &replicas {
        let mut client = connect(&r.url).await.unwrap();
        let mut history: BTreeMap<(String, String), String> = BTreeMap::new();
        for contract in CONTRACTS {
            let listed = client
                .list_versions(ListVersionsRequest {
                    component: "orders".into(),
                    contract: contract.into(),
                    page_size: 1000,
                    min_sequence: last_write,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            for v in listed.versions {
                let got = client
                    .get_contract(GetContractRequest {
                        component: "orders".into(),
                        contract: contract.into(),
                        version: v.version.clone(),
                        ..Default::default()
                    })
                    .await
                    .unwrap()
                    .into_inner()
                    .contract
                    .unwrap();
                history.insert((contract.to_owned(), v.version), got.schema);
            }
        }
        let mut stream = client
            .watch_events(WatchEventsRequest::default())
            .await
            .unwrap()
            .into_inner();
        let mut sequences = Vec::new();
        // Every version's publish is an event, and so is the sentinel's.
        let expected_events = history.len() as u64 + 1;
        while (sequences.len() as u64) < expected_events {
            let message = tokio::time::timeout(Duration::from_secs(10), stream.message())
                .await
                .expect("events keep coming")
                .unwrap()
                .unwrap();
            sequences.push(message.event.unwrap().sequence);
        }
        assert_eq!(
            sequences,
            (1..=expected_events).collect::<Vec<_>>(),
            "{}: gaps in the event log",
            r.url
        );
        last_sequence = expected_events;
        histories.push(history);
    }
    assert!(
        histories.windows(2).all(|w| w[0] == w[1]),
        "the replicas disagree"
    );
    let history = &histories[0];
    assert_eq!(history.len() as u64 + 1, last_sequence);
    assert_eq!(last_sequence, last_write);
    for (contract, version, text) in &acknowledged {
        assert_eq!(
            history.get(&(contract.clone(), version.clone())),
            Some(text),
            "{contract}@{version} was acknowledged with other content"
        );
    }
    for contract in CONTRACTS {
        let mut versions: Vec<(semver::Version, &String)> = history
            .iter()
            .filter(|((c, _), _)| c == contract)
            .map(|((_, v), text)| (v.parse().unwrap(), text))
            .collect();
        versions.sort();
        for pair in versions.windows(2) {
            let old = accord_compat::Schema::parse(pair[0].1).unwrap();
            let new = accord_compat::Schema::parse(pair[1].1).unwrap();
            let report = accord_compat::check(
                &new,
                &[&old],
                accord_compat::Mode::Backward,
                accord_compat::Policy::Strict,
            );
            assert!(report.compatible, "{contract}@{} breaks {}", pair[1].0, pair[0].0);
        }
    }
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(registry_binary())
        .args(args)
        .env_remove("ACCORD_AUTH_FILE")
        .env_remove("ACCORD_STORE")
        .output()
        .expect("run accord-registry")
}

#[tokio::test]
async fn tokens_kept_in_the_database_authenticate_on_every_replica() {
    let Some(db) = TestDatabase::create("db_tokens").await else {
        return;
    };
    let created = run(&[
        "token", "create", "--store", &db.url, "--name", "ops", "--role", "admin",
    ]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let token = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    let listed = run(&["token", "list", "--store", &db.url]);
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(listed.contains("ops\tadmin"), "{listed}");
    assert!(!listed.contains(&token), "the token itself is never shown again");

    let args = ["--store", db.url.as_str(), "--auth-db"];
    let replicas = [
        RegistryProcess::start(&args).await,
        RegistryProcess::start(&args).await,
    ];
    let call = async |url: &str, token: Option<&str>| {
        let mut client = connect(url).await.unwrap();
        let mut request = tonic::Request::new(ListComponentsRequest::default());
        if let Some(token) = token {
            request
                .metadata_mut()
                .insert("authorization", format!("Bearer {token}").parse().unwrap());
        }
        client.list_components(request).await.map(drop)
    };
    for r in &replicas {
        call(&r.url, Some(&token))
            .await
            .expect("the token works on every replica");
        let err = call(&r.url, None).await.unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated);
    }
    let revoked = run(&["token", "revoke", "--store", &db.url, "--name", "ops"]);
    assert!(
        revoked.status.success(),
        "{}",
        String::from_utf8_lossy(&revoked.stderr)
    );
    for r in &replicas {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            match call(&r.url, Some(&token)).await {
                Err(e) if e.code() == Code::Unauthenticated => break,
                _ if tokio::time::Instant::now() > deadline => {
                    panic!("{}: the revoked token still works", r.url)
                }
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }
}

#[tokio::test]
async fn migrate_creates_the_tables_once_and_bad_store_urls_are_one_clear_line() {
    let Some(db) = TestDatabase::create("migrate").await else {
        return;
    };
    for _ in 0..2 {
        let out = run(&["migrate", "--store", &db.url]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stderr).contains("is ready"));
    }
    let out = run(&["migrate", "--store", "mysql://x@127.0.0.1/db"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<_> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("postgres://"), "{stderr}");
    // Unreachable: one line naming the database, exit 2, no panic.
    let out = run(&["migrate", "--store", "postgres://nobody@127.0.0.1:1/nothing"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("127.0.0.1:1"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let names: BTreeSet<_> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(names.len(), 1, "{stderr}");
    // A server that answers but has no such database: its own words.
    let missing = accord_tests::postgres::with_database(&db.url, "accord_no_such_database");
    let out = run(&["migrate", "--store", &missing]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("does not exist"), "{stderr}");
}
