//! The real `accord-registry` binary as a child process.
//!
//! The binary is not built by the `accord-tests` package, so
//! `CARGO_BIN_EXE_` cannot name it: it is `ACCORD_REGISTRY_BIN` when set,
//! otherwise `accord-registry` in the target directory the test runs from,
//! which `cargo test --workspace` (and `cargo build -p accord-registry`)
//! builds.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

use tonic::transport::Channel;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// The path of the `accord-registry` binary.
pub fn registry_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("ACCORD_REGISTRY_BIN") {
        return PathBuf::from(path);
    }
    // A test runs as <target>/<profile>/deps/<name>-<hash>.
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
#[derive(Debug)]
pub struct RegistryProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Drop for RegistryProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RegistryProcess {
    /// Starts `accord-registry serve --listen 127.0.0.1:0 --log-format json`
    /// with `args`, and waits until health says SERVING.
    pub async fn start(args: &[&str]) -> Self {
        let binary = registry_binary();
        let mut child = Command::new(&binary)
            .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
            .args(args)
            .env_remove("ACCORD_AUTH_FILE")
            .env_remove("ACCORD_STORE")
            .env_remove("ACCORD_AUTH_DB")
            .env("RUST_LOG", "warn,accord_registry=info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", binary.display()));
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        // The server logs every change: the pipe is drained for the whole
        // run, or a full pipe would stall the server.
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
        let server = Self {
            child,
            url: format!("http://{addr}"),
        };
        assert_eq!(server.health().await, ServingStatus::Serving);
        server
    }

    /// A channel to the server.
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.url.clone())
            .expect("valid url")
            .connect()
            .await
            .expect("connect to the server")
    }

    /// What health says now.
    pub async fn health(&self) -> ServingStatus {
        let status = HealthClient::new(self.channel().await)
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .expect("health check")
            .into_inner()
            .status;
        ServingStatus::try_from(status).expect("a known status")
    }

    /// SIGKILLs the process: no graceful shutdown, no final flush.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }
}
