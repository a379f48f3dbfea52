//! Crash safety of the real `accord-registry` binary: several clients
//! publish, the server is killed with SIGKILL after a random number of
//! acknowledged publishes, restarted on the same data directory, and every
//! acknowledged publish must be there byte for byte, with nothing visible
//! that was not sent.
//!
//! Rounds: `ACCORD_CRASH_ROUNDS` (default 3, for CI); the benchmark mode
//! runs 20 or more, see BENCHMARKS.md.
//!
//! The binary is not built by this package, so `CARGO_BIN_EXE_` cannot name
//! it: it is `ACCORD_REGISTRY_BIN` when set, otherwise `accord-registry` in
//! the target directory this test runs from, which `cargo test --workspace`
//! (and `cargo build -p accord-registry`) builds.

use std::{
    collections::{BTreeMap, BTreeSet},
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

use accord_proto::v1::{
    GetContractRequest, ListVersionsRequest, PublishContractRequest,
    registry_service_client::RegistryServiceClient,
};
use rand::Rng;
use tonic::transport::Channel;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

const WRITERS: usize = 4;
/// Publishes one writer may attempt in a round: bounds the round even if the
/// kill never came.
const MAX_PER_ROUND: u64 = 2_000;

fn registry_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("ACCORD_REGISTRY_BIN") {
        return PathBuf::from(path);
    }
    // This test runs as <target>/<profile>/deps/durability_crash-<hash>.
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from <target>/<profile>/deps");
    let binary = profile_dir.join(format!("accord-registry{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.is_file(),
        "{} is missing: build it with `cargo build -p accord-registry` (cargo test --workspace does), \
         or set ACCORD_REGISTRY_BIN",
        binary.display()
    );
    binary
}

/// A running server process; SIGKILLed when dropped, so a failing test
/// leaves no process behind.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary on an ephemeral port and waits until health says
/// SERVING.
async fn start(binary: &Path, data_dir: &Path) -> Server {
    let mut child = Command::new(binary)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--data-dir",
        ])
        .arg(data_dir)
        .env_remove("ACCORD_AUTH_FILE")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {}: {e}", binary.display()));
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    // The server logs every publish: the pipe is drained for the whole run,
    // or a full pipe would stall the server.
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(sender) = &tx
                && let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line)
                && entry["fields"]["message"] == "accord-registry listening"
            {
                let _ = sender.send(entry["fields"]["addr"].as_str().unwrap_or_default().to_owned());
                tx = None;
            }
        }
    });
    let addr = match tokio::task::spawn_blocking(move || rx.recv())
        .await
        .expect("join")
    {
        Ok(addr) => addr,
        Err(_) => {
            let status = child.wait();
            panic!("the server exited before listening: {status:?}");
        }
    };
    let server = Server {
        child,
        url: format!("http://{addr}"),
    };
    let status = HealthClient::new(server.channel().await)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health check")
        .into_inner()
        .status;
    assert_eq!(status, ServingStatus::Serving as i32);
    server
}

impl Server {
    async fn channel(&self) -> Channel {
        Channel::from_shared(self.url.clone())
            .expect("valid url")
            .connect()
            .await
            .expect("connect to the server")
    }
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
    server: &Server,
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
    let binary = registry_binary();
    let dir = tempfile::tempdir().expect("temporary data dir");
    let mut acknowledged = BTreeSet::new();
    let mut attempted = BTreeSet::new();
    let mut next: BTreeMap<usize, u64> = (0..WRITERS).map(|w| (w, 0)).collect();

    for round in 0..rounds {
        let mut server = start(&binary, dir.path()).await;
        verify(&server, &acknowledged, &attempted, round).await;

        // Kill after a random number of acknowledgements, while the other
        // writers have publishes in flight.
        let kill_after = rand::rng().random_range(1..=60usize);
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
        server.child.kill().expect("SIGKILL the server");
        let _ = server.child.wait();
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
    let server = start(&binary, dir.path()).await;
    verify(&server, &acknowledged, &attempted, rounds).await;
    assert!(
        acknowledged.len() >= rounds,
        "every round acknowledged at least one publish"
    );
}
