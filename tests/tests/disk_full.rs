//! A disk that fills up: writes are refused before it is full (saying why),
//! health reports the write path NOT_SERVING, reads and the audit of the
//! refusals go on, and writes resume by themselves once space is freed.
//! The disk is a small tmpfs mounted for the test (root only).

use std::{path::Path, process::Command, time::Duration};

use accord_proto::v1::{GetContractRequest, PublishContractRequest};
use accord_tests::TestServer;
use tonic::Code;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// A tmpfs of `mib` MiB mounted on a temporary directory, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(mib: u64) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if mounted {
            Some(Self { dir })
        } else if std::env::var_os("ACCORD_REQUIRE_TOOLS").is_some() {
            panic!("cannot mount a tmpfs (this test needs root), and ACCORD_REQUIRE_TOOLS is set");
        } else {
            eprintln!("SKIPPED disk_full: cannot mount a tmpfs (this test needs root)");
            None
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn free(&self) -> u64 {
        let stat = rustix::fs::statvfs(self.path()).unwrap();
        stat.f_bavail * stat.f_frsize
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

fn publish(version: &str, title: &str) -> PublishContractRequest {
    PublishContractRequest {
        component: "orders".into(),
        contract: "placed".into(),
        schema: format!(r#"{{"type":"object","title":"{title}"}}"#),
        version: version.into(),
    }
}

async fn writes_health(server: &TestServer) -> i32 {
    HealthClient::new(server.channel().await)
        .check(HealthCheckRequest {
            service: "accord.writes".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .status
}

async fn eventually(seconds: u64, mut probe: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    while tokio::time::Instant::now() < deadline {
        if probe().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn a_full_disk_refuses_writes_with_a_reason_and_they_resume_when_space_is_freed() {
    let Some(disk) = SmallDisk::mount(48) else { return };
    let data = tempfile::tempdir_in(disk.path()).unwrap();
    let server = TestServer::start_with(data, |c| c.min_free_disk = 8 << 20).await;
    let mut client = server.client().await;
    client.publish_contract(publish("1.0.0", "a")).await.unwrap();

    // Fill the disk until less than the minimum, but more than the audit's
    // reserve (a quarter of it), is free.
    let filler = disk.path().join("filler");
    let target = 4 << 20;
    let size = disk.free().saturating_sub(target);
    std::fs::write(&filler, vec![0u8; usize::try_from(size).unwrap()]).unwrap();
    assert!(
        disk.free() < 8 << 20 && disk.free() > 2 << 20,
        "{} bytes free",
        disk.free()
    );

    let err = client.publish_contract(publish("1.1.0", "b")).await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert!(err.message().contains("--min-free-disk"), "{}", err.message());
    assert!(
        eventually(10, async || writes_health(&server).await
            == ServingStatus::NotServing as i32)
        .await,
        "the write path stayed SERVING"
    );
    // Reads go on.
    let got = client
        .get_contract(GetContractRequest {
            component: "orders".into(),
            contract: "placed".into(),
            version: "1.0.0".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(got.into_inner().contract.is_some());

    std::fs::remove_file(&filler).unwrap();
    client
        .publish_contract(publish("1.1.0", "b"))
        .await
        .expect("writes resume once space is freed");
    assert!(
        eventually(10, async || writes_health(&server).await
            == ServingStatus::Serving as i32)
        .await,
        "the write path never came back"
    );
    // The refusal was audited with the rest.
    let entries = client
        .list_audit_entries(accord_proto::v1::ListAuditEntriesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .entries;
    let outcomes: Vec<_> = entries
        .iter()
        .map(|e| (e.target.as_str(), e.outcome.as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("orders/placed@1.0.0", "OK"),
            ("orders/placed@1.1.0", "RESOURCE_EXHAUSTED"),
            ("orders/placed@1.1.0", "OK")
        ]
    );
    // And the server stops cleanly.
    server.stop().await;
}
