//! Retries: an idempotent call made while the registry is down succeeds once
//! a registry is back at the same address; a publish without a version is
//! never repeated; an unreachable registry is named in the error.

use std::time::Duration;

use accord_client::{ClientBuilder, ContractName, Error, RetryPolicy, VersionSelector};
use accord_tests::TestServer;
use tokio::sync::mpsc;

fn patient() -> RetryPolicy {
    RetryPolicy {
        max_retries: 200,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        max_elapsed: Duration::from_secs(120),
        jitter: true,
    }
}

/// A local address with nothing listening on it.
async fn closed_addr() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("addr")
}

#[tokio::test]
async fn a_read_is_retried_until_the_registry_comes_back() {
    let server = TestServer::start().await;
    let addr = server.addr();
    let (retried_tx, mut retried) = mpsc::unbounded_channel();
    let client = ClientBuilder::new(server.url())
        .retry(patient())
        .on_retry(move |rpc, error, _delay| {
            let _ = retried_tx.send((rpc.to_owned(), error.is_transient()));
        })
        .build()
        .expect("client");
    let placed: ContractName = "orders/order-placed".parse().expect("name");
    client
        .publish(
            &placed,
            r#"{"type": "object"}"#,
            Some(&"1.0.0".parse().expect("v")),
        )
        .await
        .expect("publish");
    let data_dir = server.stop().await;

    let call = tokio::spawn({
        let client = client.clone();
        let placed = placed.clone();
        async move { client.get(&placed, &VersionSelector::Latest).await }
    });
    // The call has failed at least once against the stopped registry…
    let (rpc, transient) = retried.recv().await.expect("a retry is reported");
    assert_eq!(rpc, "GetContract");
    assert!(transient);
    // …and succeeds against the registry restarted on the same data.
    let _server = TestServer::start_on(addr, data_dir).await;
    let got = call.await.expect("task").expect("the retried call succeeds");
    assert_eq!(got.version.to_string(), "1.0.0");
}

#[tokio::test]
async fn retries_stop_at_the_bound_and_the_error_names_the_address() {
    let addr = closed_addr().await;
    let (retried_tx, mut retried) = mpsc::unbounded_channel();
    let client = ClientBuilder::new(format!("http://{addr}"))
        .retry(RetryPolicy {
            max_retries: 3,
            initial_backoff: Duration::from_millis(5),
            ..RetryPolicy::default()
        })
        .on_retry(move |rpc, _, _| {
            let _ = retried_tx.send(rpc.to_owned());
        })
        .build()
        .expect("a lazy client builds without a registry");
    let placed: ContractName = "orders/order-placed".parse().expect("name");
    let err = client.get(&placed, &VersionSelector::Latest).await.unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
    let mut count = 0;
    while retried.try_recv().is_ok() {
        count += 1;
    }
    assert_eq!(count, 3, "bounded by max_retries");

    // A publish that lets the registry pick the version could store two
    // versions if repeated: it is tried once.
    let err = client.publish(&placed, "{}", None).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert!(
        retried.try_recv().is_err(),
        "publish without a version was retried"
    );

    // Eager connection fails at once, naming the address.
    let err = ClientBuilder::new(addr.to_string()).connect().await.unwrap_err();
    assert!(
        matches!(err, Error::Unreachable { ref url, .. } if url.contains(&addr.to_string())),
        "{err}"
    );
    let err = ClientBuilder::new("http://bad host").build().unwrap_err();
    assert!(matches!(err, Error::InvalidUrl { .. }), "{err}");
}

#[tokio::test]
async fn a_registry_that_never_answers_times_out_per_call_and_is_retried_within_bounds() {
    // A socket that accepts connections and never says a word.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let _silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let (retried_tx, mut retried) = mpsc::unbounded_channel();
    let client = ClientBuilder::new(format!("http://{addr}"))
        .call_timeout(Duration::from_millis(200))
        .retry(RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(5),
            ..RetryPolicy::default()
        })
        .on_retry(move |_, error, _| {
            let _ = retried_tx.send(matches!(error, Error::Timeout { .. }));
        })
        .build()
        .expect("client");
    let placed: ContractName = "orders/order-placed".parse().expect("name");
    let err = client.get(&placed, &VersionSelector::Latest).await.unwrap_err();
    let Error::Timeout { url, after } = &err else {
        panic!("expected a timeout, got {err}");
    };
    assert!(url.contains(&addr.to_string()));
    assert_eq!(*after, Duration::from_millis(200));
    let mut timeouts = Vec::new();
    while let Ok(was_timeout) = retried.try_recv() {
        timeouts.push(was_timeout);
    }
    assert_eq!(timeouts, vec![true, true], "two retries, each after a timeout");
}
