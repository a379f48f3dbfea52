//! The audit log against a real registry: accepted and refused writes
//! (refused by policy, by role, for want of a token) are all recorded with
//! their principal, action, target and outcome; the log survives a restart,
//! pages, filters by time, and is for admins only.

use std::time::{Duration, SystemTime};

use accord_client::{AuditEntry, ClientBuilder, ContractName, Error, RetryPolicy};
use accord_proto::v1::ListAuditEntriesRequest;
use accord_registry::auth::{Role, tokens};
use accord_tests::TestServer;
use tonic::Request;

const V1: &str = r#"{"type":"object","properties":{"id":{"type":"string"}}}"#;
const BREAKING: &str = r#"{"type":"object","properties":{"id":{"type":"integer"}}}"#;

fn name() -> ContractName {
    "orders/placed".parse().unwrap()
}

fn summary(entries: &[AuditEntry]) -> Vec<(String, String, String, bool, String)> {
    entries
        .iter()
        .map(|e| {
            (
                e.principal.clone(),
                e.action.clone(),
                e.target.clone(),
                e.allowed,
                e.outcome.clone(),
            )
        })
        .collect()
}

fn row(
    principal: &str,
    action: &str,
    target: &str,
    allowed: bool,
    outcome: &str,
) -> (String, String, String, bool, String) {
    (
        principal.into(),
        action.into(),
        target.into(),
        allowed,
        outcome.into(),
    )
}

#[tokio::test]
async fn accepted_and_refused_writes_are_recorded_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokens.json");
    let reader = tokens::create(&file, "dashboard", Role::Reader, &[]).unwrap();
    let publisher = tokens::create(&file, "ci", Role::Publisher, &[]).unwrap();
    let admin = tokens::create(&file, "ops", Role::Admin, &[]).unwrap();
    let auth_file = file.clone();
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), move |c| {
        c.security.auth_file = Some(auth_file);
    })
    .await;
    let client = |token: Option<&str>| {
        let b = ClientBuilder::new(server.url()).retry(RetryPolicy::none());
        match token {
            Some(t) => b.token(t).build().unwrap(),
            None => b.build().unwrap(),
        }
    };
    let before = SystemTime::now();
    let v1: accord_client::Version = "1.0.0".parse().unwrap();
    let v11: accord_client::Version = "1.1.0".parse().unwrap();
    client(Some(&publisher))
        .publish(&name(), V1, Some(&v1))
        .await
        .unwrap();
    let refused = client(Some(&publisher))
        .publish(&name(), BREAKING, Some(&v11))
        .await;
    assert!(matches!(refused, Err(Error::Incompatible { .. })), "{refused:?}");
    let denied = client(Some(&reader)).deprecate(&name(), &v1, "old").await;
    assert!(
        matches!(denied, Err(Error::PermissionDenied { .. })),
        "{denied:?}"
    );
    let anonymous = client(None).delete_contract(&name(), true).await;
    assert!(
        matches!(anonymous, Err(Error::Unauthenticated { .. })),
        "{anonymous:?}"
    );
    client(Some(&admin))
        .set_config(
            None,
            accord_client::ConfigChange {
                mode: Some(accord_client::Mode::Full),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // Reads are not audited.
    client(Some(&reader))
        .get(&name(), &"1.0.0".parse().unwrap())
        .await
        .unwrap();

    let entries = client(Some(&admin)).list_audit_entries(None).await.unwrap();
    assert_eq!(
        summary(&entries),
        vec![
            row("ci", "PublishContract", "orders/placed@1.0.0", true, "OK"),
            row(
                "ci",
                "PublishContract",
                "orders/placed@1.1.0",
                false,
                "FAILED_PRECONDITION"
            ),
            row(
                "dashboard",
                "DeprecateVersion",
                "orders/placed@1.0.0",
                false,
                "PERMISSION_DENIED"
            ),
            row("ops", "SetCompatibilityConfig", "global", true, "OK"),
        ]
    );
    assert!(entries[0].message.is_empty());
    assert!(
        entries[2].message.contains("publisher role"),
        "{}",
        entries[2].message
    );
    let after = SystemTime::now();
    for e in &entries {
        let t = e.time.expect("every entry has a time");
        assert!(t >= before - Duration::from_secs(1) && t <= after, "{e:?}");
    }

    // Only admins read the log.
    let err = client(Some(&publisher))
        .list_audit_entries(None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PermissionDenied { .. }), "{err}");

    // Nothing after now; and the log is on disk, not in memory.
    let later = client(Some(&admin))
        .list_audit_entries(Some(after + Duration::from_secs(3600)))
        .await
        .unwrap();
    assert!(later.is_empty(), "{later:?}");
    let data = server.stop().await;
    let auth_file = file.clone();
    let restarted = TestServer::start_with(data, move |c| c.security.auth_file = Some(auth_file)).await;
    let again = ClientBuilder::new(restarted.url())
        .token(&admin)
        .build()
        .unwrap()
        .list_audit_entries(Some(before - Duration::from_secs(1)))
        .await
        .unwrap();
    // The attempt without a token is counted, and written with the count
    // when its interval ends (here: at the graceful stop).
    assert_eq!(&again[..entries.len()], &entries[..]);
    assert_eq!(
        summary(&again[entries.len()..]),
        vec![row(
            "unauthenticated",
            "UnauthenticatedWrites",
            "127.0.0.1",
            false,
            "UNAUTHENTICATED"
        )]
    );
    let counted = &again[entries.len()].message;
    assert!(
        counted.starts_with("1 write attempt(s)") && counted.contains("DeleteContract"),
        "{counted}"
    );
}

#[tokio::test]
async fn a_flood_of_unauthenticated_writes_costs_one_bounded_entry_per_peer() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokens.json");
    let admin = tokens::create(&file, "ops", Role::Admin, &[]).unwrap();
    let auth_file = file.clone();
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), move |c| {
        c.security.auth_file = Some(auth_file);
    })
    .await;
    let mut raw = server.client().await;
    let huge = "x".repeat(3 << 20);
    for _ in 0..12 {
        let err = raw
            .publish_contract(accord_proto::v1::PublishContractRequest {
                component: huge.clone(),
                contract: "placed".into(),
                schema: "{}".into(),
                version: huge[..1000].to_owned(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::Unauthenticated);
        assert!(err.message().len() < 200, "the refusal does not echo the request");
    }
    let data = server.stop().await;
    let auth_file = file.clone();
    let restarted = TestServer::start_with(data, move |c| c.security.auth_file = Some(auth_file)).await;
    let entries = ClientBuilder::new(restarted.url())
        .token(&admin)
        .build()
        .unwrap()
        .list_audit_entries(None)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert!(
        entries[0].message.starts_with("12 write attempt(s)"),
        "{}",
        entries[0].message
    );
    for e in &entries {
        let size = e.target.len() + e.message.len() + e.principal.len() + e.action.len();
        assert!(size < 2048, "an audit entry of {size} bytes");
    }
}

#[tokio::test]
async fn a_refused_write_keeps_a_bounded_target_and_message() {
    let server = TestServer::start().await;
    let mut raw = server.client().await;
    let long = "y".repeat(100_000);
    let err = raw
        .publish_contract(accord_proto::v1::PublishContractRequest {
            component: long.clone(),
            contract: long.clone(),
            schema: "{}".into(),
            version: long.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
    let entries = ClientBuilder::new(server.url())
        .build()
        .unwrap()
        .list_audit_entries(None)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert!(entries[0].target.len() < 400, "{}", entries[0].target.len());
    assert!(entries[0].message.len() < 1024, "{}", entries[0].message.len());
    assert!(
        entries[0].target.contains("100000 bytes"),
        "{}",
        entries[0].target
    );
}

#[tokio::test]
async fn an_open_registry_records_anonymous_writes_and_pages_its_log() {
    let server = TestServer::start().await;
    let client = ClientBuilder::new(server.url()).build().unwrap();
    for minor in 0..5 {
        let version = accord_client::Version::new(1, minor, 0);
        let schema = format!(r#"{{"type":"object","title":"t{minor}"}}"#);
        client.publish(&name(), &schema, Some(&version)).await.unwrap();
    }
    let all = client.list_audit_entries(None).await.unwrap();
    assert_eq!(all.len(), 5);
    assert!(all.iter().all(|e| e.principal == "anonymous" && e.allowed));

    // Pages of two follow each other without gaps or repeats.
    let mut raw = server.client().await;
    let mut token = String::new();
    let mut targets = Vec::new();
    loop {
        let page = raw
            .list_audit_entries(Request::new(ListAuditEntriesRequest {
                since: None,
                page_size: 2,
                page_token: token.clone(),
            }))
            .await
            .unwrap()
            .into_inner();
        assert!(page.entries.len() <= 2);
        targets.extend(page.entries.into_iter().map(|e| e.target));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    let expected: Vec<String> = (0..5).map(|m| format!("orders/placed@1.{m}.0")).collect();
    assert_eq!(targets, expected);

    let bad = raw
        .list_audit_entries(Request::new(ListAuditEntriesRequest {
            page_token: "zz".into(),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), tonic::Code::InvalidArgument, "{bad:?}");
}

#[tokio::test]
async fn the_audit_log_keeps_what_its_retention_allows() {
    let server = TestServer::start().await;
    let client = ClientBuilder::new(server.url()).build().unwrap();
    for minor in 0..5 {
        let version = accord_client::Version::new(1, minor, 0);
        let schema = format!(r#"{{"type":"object","title":"t{minor}"}}"#);
        client.publish(&name(), &schema, Some(&version)).await.unwrap();
    }
    let data = server.stop().await;
    // Restarted with room for two entries: the three oldest go at start-up.
    let restarted = TestServer::start_with(data, |c| c.limits.audit_max_entries = 2).await;
    let left = ClientBuilder::new(restarted.url())
        .build()
        .unwrap()
        .list_audit_entries(None)
        .await
        .unwrap();
    let targets: Vec<_> = left.iter().map(|e| e.target.as_str()).collect();
    assert_eq!(targets, ["orders/placed@1.3.0", "orders/placed@1.4.0"]);
    let data = restarted.stop().await;
    // And with a retention shorter than their age, none is left.
    let restarted =
        TestServer::start_with(data, |c| c.limits.audit_retention = Duration::from_nanos(1)).await;
    let left = ClientBuilder::new(restarted.url())
        .build()
        .unwrap()
        .list_audit_entries(None)
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
}
