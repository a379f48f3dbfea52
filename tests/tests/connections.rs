//! Connections and streams a peer may hold: a cap on connections, an idle
//! timeout for silent sockets, and a cap on watch streams.

use std::time::Duration;

use accord_proto::v1::{ListComponentsRequest, WatchEventsRequest};
use accord_tests::TestServer;
use tokio::{io::AsyncReadExt, net::TcpStream};
use tonic::Code;

/// Whether the server closes `socket` within `seconds` (EOF or reset).
async fn closed_within(socket: &mut TcpStream, seconds: u64) -> bool {
    let mut buf = [0u8; 64];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    loop {
        match tokio::time::timeout_at(deadline, socket.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            // The server's HTTP/2 settings: not a close.
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test]
async fn connections_over_the_cap_are_closed_and_a_freed_place_serves_again() {
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.connections.max_connections = 2;
    })
    .await;
    // The harness's own health check connection has come and gone; two
    // silent sockets take both places.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let first = TcpStream::connect(server.addr()).await.unwrap();
    let second = TcpStream::connect(server.addr()).await.unwrap();
    let mut third = TcpStream::connect(server.addr()).await.unwrap();
    assert!(
        closed_within(&mut third, 10).await,
        "a third connection is refused"
    );
    drop(first);
    // Once the server sees the first one close, its place serves a client.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let served = match tonic::transport::Endpoint::from_shared(server.url())
            .unwrap()
            .connect()
            .await
        {
            Ok(channel) => accord_proto::v1::registry_service_client::RegistryServiceClient::new(channel)
                .list_components(ListComponentsRequest::default())
                .await
                .is_ok(),
            Err(_) => false,
        };
        if served {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the freed place never served"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(second);
}

#[tokio::test]
async fn a_silent_socket_is_closed_after_the_idle_timeout_while_a_watcher_stays() {
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.connections.idle_timeout = Duration::from_millis(600);
    })
    .await;
    let mut client = server.client().await;
    let mut stream = client
        .watch_events(WatchEventsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let mut silent = TcpStream::connect(server.addr()).await.unwrap();
    assert!(
        closed_within(&mut silent, 20).await,
        "the silent socket stays open"
    );
    // The watcher answered the server's pings: its stream is still live.
    let mut writer = server.client().await;
    writer
        .publish_contract(accord_proto::v1::PublishContractRequest {
            component: "orders".into(),
            contract: "placed".into(),
            schema: r#"{"type":"object"}"#.into(),
            version: "1.0.0".into(),
        })
        .await
        .unwrap();
    let event = tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("the event arrives")
        .unwrap()
        .unwrap();
    assert_eq!(event.event.unwrap().sequence, 1);
}

#[tokio::test]
async fn watch_streams_over_the_cap_are_resource_exhausted() {
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), |c| {
        c.connections.max_watch_streams = 1;
    })
    .await;
    let mut client = server.client().await;
    let first = client.watch_events(WatchEventsRequest::default()).await.unwrap();
    let err = client
        .watch_events(WatchEventsRequest::default())
        .await
        .map(drop)
        .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert!(err.message().contains("--max-watch-streams"), "{}", err.message());
    drop(first);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while client.watch_events(WatchEventsRequest::default()).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the place was never given back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
