//! Staying current: the event stream resumes after a given sequence, and a
//! live set follows new versions across a broken connection, resuming from
//! the last event it handled.

use std::{net::SocketAddr, time::Duration};

use accord_client::{
    Client, ClientBuilder, ContractName, EventKind, LiveContracts, LiveStatus, RetryPolicy, VersionSelector,
};
use accord_tests::TestServer;
use futures::StreamExt;
use tokio::{
    net::{TcpListener, TcpStream},
    sync::watch,
};

/// A TCP relay between the client and the registry that can cut every
/// connection it carries, as a network failure would, while the registry
/// itself keeps running.
struct Relay {
    addr: SocketAddr,
    generation: watch::Sender<u64>,
}

impl Relay {
    async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind relay");
        let addr = listener.local_addr().expect("relay addr");
        let (generation, _) = watch::channel(0u64);
        let cuts = generation.subscribe();
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut cuts = cuts.clone();
                let born = *cuts.borrow_and_update();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cuts.wait_for(|g| *g != born) => {}
                    }
                });
            }
        });
        Self { addr, generation }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Drops every connection open now.
    fn cut(&self) {
        self.generation.send_modify(|g| *g += 1);
    }
}

/// Guards a wait that must end, so that a regression fails instead of hanging.
async fn until(live: &LiveContracts, what: &str, done: impl FnMut(&LiveStatus) -> bool) {
    let mut rx = live.subscribe();
    tokio::time::timeout(Duration::from_secs(60), rx.wait_for(done))
        .await
        .unwrap_or_else(|_| panic!("never happened: {what}; status {:?}", live.status()))
        .expect("follower alive");
}

fn schema(title: &str) -> String {
    format!(r#"{{"title": "{title}", "type": "object"}}"#)
}

#[tokio::test]
async fn watch_resumes_after_the_sequence_given() {
    let server = TestServer::start().await;
    let client = Client::connect(&server.url()).await.expect("connect");
    let placed: ContractName = "orders/order-placed".parse().expect("name");
    for version in ["1.0.0", "1.1.0", "1.2.0"] {
        client
            .publish(&placed, &schema(version), Some(&version.parse().expect("v")))
            .await
            .expect("publish");
    }
    let mut all = client.watch(0, None).await.expect("watch from the start");
    let mut sequences = Vec::new();
    for _ in 0..3 {
        let event = all.next().await.expect("an event").expect("a good event");
        assert_eq!(event.kind, EventKind::Published);
        assert_eq!(event.name.as_ref(), Some(&placed));
        sequences.push(event.sequence);
    }
    assert!(sequences.windows(2).all(|w| w[1] == w[0] + 1), "{sequences:?}");

    let mut resumed = client
        .watch(sequences[1], None)
        .await
        .expect("watch after the second");
    let next = resumed.next().await.expect("an event").expect("a good event");
    assert_eq!(next.sequence, sequences[2]);
    assert_eq!(next.version.map(|v| v.to_string()).as_deref(), Some("1.2.0"));

    // A live stream delivers what is published after it opened.
    client
        .publish(&placed, &schema("1.3.0"), Some(&"1.3.0".parse().expect("v")))
        .await
        .expect("publish");
    let live = resumed.next().await.expect("an event").expect("a good event");
    assert_eq!(live.sequence, sequences[2] + 1);
    assert_eq!(live.version.map(|v| v.to_string()).as_deref(), Some("1.3.0"));
}

#[tokio::test]
async fn a_live_set_follows_new_versions_across_a_broken_connection() {
    let server = TestServer::start().await;
    let direct = Client::connect(&server.url()).await.expect("connect");
    let relay = Relay::start(server.addr()).await;
    let client = ClientBuilder::new(relay.url())
        .retry(RetryPolicy {
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(100),
            ..RetryPolicy::default()
        })
        .build()
        .expect("client");
    let placed: ContractName = "orders/order-placed".parse().expect("name");
    let other: ContractName = "orders/other".parse().expect("name");
    let publish = |name: &ContractName, version: &str| {
        let (direct, name, version) = (direct.clone(), name.clone(), version.to_owned());
        async move {
            direct
                .publish(&name, &schema(&version), Some(&version.parse().expect("v")))
                .await
                .expect("publish")
        }
    };
    publish(&placed, "1.0.0").await;
    let set = client
        .fetch_contracts(&[(placed.clone(), "^1".parse().expect("req"))])
        .await
        .expect("fetch");
    let live = LiveContracts::start(client, set);
    until(&live, "connected", |s| s.connections >= 1 && s.last_sequence >= 1).await;

    publish(&placed, "1.1.0").await;
    publish(&placed, "2.0.0").await; // outside "^1": seen, not fetched
    until(&live, "1.1.0 picked up", |s| s.updates >= 1).await;
    let held = live.get(&placed).expect("held");
    assert_eq!(held.contract.version.to_string(), "1.1.0");
    assert!(!held.stale);
    until(&live, "2.0.0 seen", |s| s.last_sequence >= 3).await;
    let before_cut = live.status();
    assert_eq!(
        before_cut.updates, 1,
        "a version outside the requirement is not taken"
    );

    relay.cut();
    publish(&other, "1.0.0").await;
    publish(&placed, "1.2.0").await;
    until(&live, "1.2.0 picked up after reconnecting", |s| s.updates >= 2).await;
    let after = live.status();
    assert!(after.connections >= 2, "the stream was reopened: {after:?}");
    assert_eq!(
        after.last_sequence,
        before_cut.last_sequence + 2,
        "resumed without a gap"
    );
    assert_eq!(
        live.get(&placed).expect("held").contract.version.to_string(),
        "1.2.0"
    );
    assert_eq!(live.get(&placed).expect("held").contract.schema, schema("1.2.0"));
    // The registry's latest is 2.0.0; the set still holds what "^1" picks.
    let latest = direct
        .get(&placed, &VersionSelector::Latest)
        .await
        .expect("latest");
    assert_eq!(latest.version.to_string(), "2.0.0");
}

#[tokio::test]
async fn stale_copies_are_refreshed_once_the_registry_is_back() {
    let cache_dir = tempfile::tempdir().expect("cache dir");
    let server = TestServer::start().await;
    let (addr, url) = (server.addr(), server.url());
    let client = ClientBuilder::new(&url)
        .retry(RetryPolicy {
            max_retries: 1,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(100),
            ..RetryPolicy::default()
        })
        .cache_dir(cache_dir.path())
        .build()
        .expect("client");
    let placed: ContractName = "orders/order-placed".parse().expect("name");
    let wanted = vec![(placed.clone(), VersionSelector::Latest)];
    client
        .publish(&placed, &schema("1.0.0"), Some(&"1.0.0".parse().expect("v")))
        .await
        .expect("publish");
    client.fetch_contracts(&wanted).await.expect("fetch and cache");
    let data_dir = server.stop().await;

    let set = client.fetch_contracts(&wanted).await.expect("from the cache");
    assert!(set.any_stale());
    let live = LiveContracts::start(client, set);
    assert!(live.get(&placed).expect("held").stale);

    let server = TestServer::start_on(addr, data_dir).await;
    let direct = Client::connect(&server.url()).await.expect("connect");
    direct
        .publish(&placed, &schema("1.1.0"), Some(&"1.1.0".parse().expect("v")))
        .await
        .expect("publish");
    until(&live, "refreshed from the registry", |s| s.updates >= 1).await;
    until(&live, "1.1.0 seen", |s| s.last_sequence >= 2).await;
    let held = live.get(&placed).expect("held");
    assert!(!held.stale, "the copy is fresh again");
    assert_eq!(held.contract.version.to_string(), "1.1.0");
}
