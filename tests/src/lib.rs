//! Test harness: a real registry server on `127.0.0.1:0` with a temporary
//! data directory.
//!
//! - [`TestServer::start`]: binds, spawns the server, waits until health says
//!   SERVING (no sleeps: the listener is bound before the server runs).
//! - [`TestServer::start_on`]: the same on a given address, to restart a
//!   stopped server where its clients expect it.
//! - [`TestServer::start_with`]: the same with adjusted settings (limits).
//! - [`TestServer::start_tls`]: the same over TLS; the harness reaches it
//!   with the given client TLS settings.
//! - [`TestServer::start_web`]: the same with the HTTP port (`/metrics`,
//!   the web view) on a second `127.0.0.1:0` listener; [`TestServer::http_addr`]
//!   tells where.
//! - [`TestServer::url`]: the `http://` (or `https://`) address to give to
//!   clients.
//! - [`TestServer::client`]: a generated `RegistryService` client.
//! - [`pki`]: a certificate authority generated in the test, for TLS.
//! - [`postgres`]: a database of its own for each test, on the PostgreSQL
//!   server that `ACCORD_TEST_POSTGRES_URL` names.
//! - [`process`]: the real `accord-registry` binary as a child process.
//! - [`proxy`]: a TCP proxy a test can cut, to take a database away.
//! - [`http`]: a small HTTP client for the HTTP port.
//! - [`browser`]: headless Chromium, for the web view.
//! - [`seed`]: known contracts and tokens for the HTTP port's tests.

pub mod browser;
pub mod http;
pub mod pki;
pub mod postgres;
pub mod process;
pub mod proxy;
pub mod seed;

use std::net::SocketAddr;

use accord_proto::v1::registry_service_client::RegistryServiceClient;
use accord_registry::{Config, Listeners};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// A running registry, stopped when dropped.
#[derive(Debug)]
pub struct TestServer {
    addr: SocketAddr,
    data_dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    tls: Option<tonic::transport::ClientTlsConfig>,
    http: Option<SocketAddr>,
}

impl TestServer {
    /// Starts a server on a fresh temporary data directory.
    pub async fn start() -> Self {
        let data_dir = tempfile::tempdir().expect("create a temporary data dir");
        Self::start_in(data_dir).await
    }

    /// Starts a server on the given data directory.
    pub async fn start_in(data_dir: tempfile::TempDir) -> Self {
        Self::start_with(data_dir, |_| {}).await
    }

    /// Starts a server on the given data directory, with settings adjusted
    /// by `adjust` (e.g. smaller limits).
    pub async fn start_with(data_dir: tempfile::TempDir, adjust: impl FnOnce(&mut Config)) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        Self::serve(listener.into(), data_dir, adjust, None).await
    }

    /// Starts a server with settings adjusted by `adjust` that also serves
    /// the HTTP port (`/metrics` and the web view) on its own `127.0.0.1:0`.
    pub async fn start_web(data_dir: tempfile::TempDir, adjust: impl FnOnce(&mut Config)) -> Self {
        let grpc = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let http = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        Self::serve(
            Listeners {
                grpc,
                http: Some(http),
            },
            data_dir,
            adjust,
            None,
        )
        .await
    }

    /// Starts a server whose settings (`adjust`) make it serve TLS; the
    /// harness's own channels (health, [`TestServer::client`]) use `tls`.
    pub async fn start_tls(
        data_dir: tempfile::TempDir,
        adjust: impl FnOnce(&mut Config),
        tls: tonic::transport::ClientTlsConfig,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        Self::serve(listener.into(), data_dir, adjust, Some(tls)).await
    }

    /// Starts a server on a given address and data directory: a restart of a
    /// stopped server at the URL its clients already use.
    pub async fn start_on(addr: SocketAddr, data_dir: tempfile::TempDir) -> Self {
        let listener = TcpListener::bind(addr)
            .await
            .unwrap_or_else(|e| panic!("bind {addr} again: {e}"));
        Self::serve(listener.into(), data_dir, |_| {}, None).await
    }

    async fn serve(
        listeners: Listeners,
        data_dir: tempfile::TempDir,
        adjust: impl FnOnce(&mut Config),
        tls: Option<tonic::transport::ClientTlsConfig>,
    ) -> Self {
        let addr = listeners.grpc.local_addr().expect("local address");
        let http = listeners
            .http
            .as_ref()
            .map(|l| l.local_addr().expect("local address"));
        let mut config = Config::new(addr, data_dir.path());
        config.http_listen = http;
        adjust(&mut config);
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            accord_registry::run(listeners, config, async {
                let _ = rx.await;
            })
            .await
            .expect("server runs");
        });
        let server = Self {
            addr,
            data_dir,
            shutdown: Some(tx),
            task: Some(task),
            tls,
            http,
        };
        server.wait_serving().await;
        server
    }

    async fn wait_serving(&self) {
        let mut health = HealthClient::new(self.channel().await);
        let status = health
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .expect("health check")
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "server is not SERVING");
    }

    /// The server's address as an `http://` URL, `https://` over TLS.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// A gRPC channel to the server.
    pub async fn channel(&self) -> tonic::transport::Channel {
        let mut endpoint = tonic::transport::Endpoint::from_shared(self.url()).expect("valid url");
        if let Some(tls) = &self.tls {
            endpoint = endpoint
                .tls_config(tls.clone())
                .expect("valid client TLS settings");
        }
        endpoint.connect().await.expect("connect to the test server")
    }

    /// A client of the registry service.
    pub async fn client(&self) -> RegistryServiceClient<tonic::transport::Channel> {
        RegistryServiceClient::new(self.channel().await)
    }

    /// The server's socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address of the HTTP port, when started with [`TestServer::start_web`].
    pub fn http_addr(&self) -> SocketAddr {
        self.http
            .expect("the server was started without the HTTP port: use TestServer::start_web")
    }

    /// The base URL of the HTTP port (`http://127.0.0.1:PORT`).
    pub fn http_url(&self) -> String {
        format!("http://{}", self.http_addr())
    }

    /// The data directory.
    pub fn data_dir(&self) -> &std::path::Path {
        self.data_dir.path()
    }

    /// Stops the server gracefully and returns its data directory, so a new
    /// server can be started on it.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task ends cleanly");
        }
        let dir = tempfile::tempdir().expect("placeholder temp dir");
        std::mem::replace(&mut self.data_dir, dir)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
