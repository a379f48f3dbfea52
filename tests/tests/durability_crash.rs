//! Crash safety of the real `accord-registry` binary: several clients
//! publish, the server is killed with SIGKILL after a random number of
//! acknowledged publishes, restarted on the same data directory, and every
//! acknowledged publish must be there byte for byte, with nothing visible
//! that was not sent.
//!
//! Rounds: `ACCORD_CRASH_ROUNDS` (default 3, for CI); the benchmark mode
//! runs 20 or more, see BENCHMARKS.md. The kill points come from a seed the
//! test prints; `ACCORD_CRASH_SEED` replays a failing run's.
//!
//! The binary is found as [`accord_tests::process`] says.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
};

use accord_proto::v1::{
    GetContractRequest, ListVersionsRequest, PublishContractRequest,
    registry_service_client::RegistryServiceClient,
};
use accord_tests::process::RegistryProcess;
use rand::{Rng, SeedableRng};

const WRITERS: usize = 4;
/// Publishes one writer may attempt in a round: bounds the round even if the
/// kill never came.
const MAX_PER_ROUND: u64 = 2_000;

/// Starts the binary on `data_dir` and waits until health says SERVING.
async fn start(data_dir: &Path) -> RegistryProcess {
    RegistryProcess::start(&["--data-dir", data_dir.to_str().expect("a UTF-8 path")]).await
}

/// The seed of the kill points: `ACCORD_CRASH_SEED` to replay a run, else
/// a fresh one, printed either way.
fn seed() -> u64 {
    let seed = std::env::var("ACCORD_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    eprintln!("crash test seed: {seed} (replay with ACCORD_CRASH_SEED={seed})");
    seed
}

fn contract(writer: usize) -> String {
    format!("writer-{writer}")
}

fn version(n: u64) -> String {
    format!("1.0.{n}")
}

/// The schema of attempt `n` of `writer`: distinct for each, a few KB so a
/// write is not trivially small.
fn schema(writer: usize, n: u64) -> String {
    let fields: String = (0..40)
        .map(|i| format!(r#", "field_{i}": {{"type": "string", "maxLength": {}}}"#, 64 + i))
        .collect();
    format!(
        r#"{{"type": "object", "title": "writer {writer} attempt {n}", "properties": {{"id": {{"type": "string"}}{fields}}}}}"#
    )
}

/// Every version the registry shows must have been sent, with the schema
/// sent for it; every acknowledged one must be there, byte for byte.
async fn verify(
    server: &RegistryProcess,
    acknowledged: &BTreeSet<(usize, u64)>,
    attempted: &BTreeSet<(usize, u64)>,
    round: usize,
) {
    let mut client = RegistryServiceClient::new(server.channel().await);
    let mut visible = BTreeSet::new();
    for writer in 0..WRITERS {
        let mut page_token = String::new();
        loop {
            let page = match client
                .list_versions(ListVersionsRequest {
                    component: "crash".into(),
                    contract: contract(writer),
                    page_size: 1000,
                    page_token: page_token.clone(),
                    include_deleted: true,
                    ..Default::default()
                })
                .await
            {
                Ok(reply) => reply.into_inner(),
                Err(status) if status.code() == tonic::Code::NotFound => break,
                Err(status) => panic!("round {round}: list versions of writer {writer}: {status}"),
            };
            for v in page.versions {
                let n: u64 = v
                    .version
                    .strip_prefix("1.0.")
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("round {round}: a version never sent: {}", v.version));
                visible.insert((writer, n));
            }
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
    }
    let missing: Vec<_> = acknowledged.difference(&visible).collect();
    assert!(
        missing.is_empty(),
        "round {round}: acknowledged but lost: {missing:?}"
    );
    let unsent: Vec<_> = visible.difference(attempted).collect();
    assert!(
        unsent.is_empty(),
        "round {round}: visible but never sent: {unsent:?}"
    );
    for &(writer, n) in &visible {
        let got = client
            .get_contract(GetContractRequest {
                component: "crash".into(),
                contract: contract(writer),
                version: version(n),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("round {round}: listed {writer}@{n} cannot be read: {e}"))
            .into_inner()
            .contract
            .expect("a contract");
        assert_eq!(
            got.schema,
            schema(writer, n),
            "round {round}: writer {writer} version {n} differs"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_publish_survives_sigkill() {
    let rounds: usize = std::env::var("ACCORD_CRASH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let mut kills = rand::rngs::StdRng::seed_from_u64(seed());
    let dir = tempfile::tempdir().expect("temporary data dir");
    let mut acknowledged = BTreeSet::new();
    let mut attempted = BTreeSet::new();
    let mut next: BTreeMap<usize, u64> = (0..WRITERS).map(|w| (w, 0)).collect();

    for round in 0..rounds {
        let server = start(dir.path()).await;
        verify(&server, &acknowledged, &attempted, round).await;

        // Kill after a random number of acknowledgements, while the other
        // writers have publishes in flight.
        let kill_after = kills.random_range(1..=60usize);
        let (ack_tx, mut ack_rx) = tokio::sync::mpsc::unbounded_channel();
        let mut writers = Vec::new();
        for writer in 0..WRITERS {
            let channel = server.channel().await;
            let first = next[&writer];
            let ack_tx = ack_tx.clone();
            writers.push(tokio::spawn(async move {
                let mut client = RegistryServiceClient::new(channel);
                let mut sent = Vec::new();
                for n in first..first + MAX_PER_ROUND {
                    sent.push((writer, n));
                    let reply = client
                        .publish_contract(PublishContractRequest {
                            component: "crash".into(),
                            contract: contract(writer),
                            schema: schema(writer, n),
                            version: version(n),
                        })
                        .await;
                    match reply {
                        Ok(_) => {
                            let _ = ack_tx.send((writer, n));
                        }
                        // The server is gone: this attempt may or may not
                        // have been stored.
                        Err(_) => break,
                    }
                }
                sent
            }));
        }
        drop(ack_tx);
        let mut acks = 0;
        while acks < kill_after {
            match ack_rx.recv().await {
                Some(ack) => {
                    acknowledged.insert(ack);
                    acks += 1;
                }
                None => panic!("round {round}: every writer stopped before the kill"),
            }
        }
        server.kill();
        for w in writers {
            let sent = w.await.expect("writer task");
            if let Some(&(writer, n)) = sent.last() {
                next.insert(writer, n + 1);
            }
            attempted.extend(sent);
        }
        while let Some(ack) = ack_rx.recv().await {
            acknowledged.insert(ack);
        }
        eprintln!(
            "round {round}: killed after {kill_after} acknowledgements; {} acknowledged, {} sent in all",
            acknowledged.len(),
            attempted.len()
        );
    }
    let server = start(dir.path()).await;
    verify(&server, &acknowledged, &attempted, rounds).await;
    assert!(
        acknowledged.len() >= rounds,
        "every round acknowledged at least one publish"
    );
}
