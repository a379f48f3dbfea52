//! A breaking change refused by a real registry decodes into typed
//! findings; a new major line may break and still lists what broke.

use accord_client::{Bump, Client, ContractName, Error, Verdict, Version};
use accord_tests::TestServer;

fn name(s: &str) -> ContractName {
    s.parse().expect("valid contract name")
}

fn v(s: &str) -> Version {
    s.parse().expect("valid version")
}

#[tokio::test]
async fn a_breaking_change_is_refused_with_typed_findings() {
    let server = TestServer::start().await;
    let client = Client::connect(&server.url()).await.expect("connect");
    let placed = name("orders/order-placed");
    let v1 = r#"{"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}"#;
    let broken = r#"{"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}"#;
    let first = client
        .publish(&placed, v1, Some(&v("1.0.0")))
        .await
        .expect("first version");
    assert!(first.created);
    assert_eq!(first.predecessor_version, None);

    let err = client
        .publish(&placed, broken, Some(&v("1.1.0")))
        .await
        .unwrap_err();
    let Error::Incompatible {
        findings,
        required_bump,
        smallest_acceptable_version,
        predecessor_version,
        ..
    } = &err
    else {
        panic!("expected Incompatible, got {err}");
    };
    assert_eq!(*required_bump, Bump::Major);
    assert_eq!(smallest_acceptable_version, &Some(v("2.0.0")));
    assert_eq!(predecessor_version, &Some(v("1.0.0")));
    let breaking: Vec<_> = findings.iter().filter(|f| !f.compatible).collect();
    assert!(!breaking.is_empty(), "{findings:?}");
    assert!(
        breaking
            .iter()
            .any(|f| f.old_path.contains("id") || f.new_path.contains("id")),
        "{breaking:?}"
    );
    assert!(err.to_string().contains("2.0.0"), "{err}");
    // The earlier version each finding is against travels with it.
    assert!(
        breaking.iter().all(|f| f.against_version == Some(v("1.0.0"))),
        "{breaking:?}"
    );
    assert!(
        breaking.iter().any(|f| f.rule_id == "TYPE_CHANGED"),
        "{breaking:?}"
    );

    // The dry run answers the same, without storing.
    let check = client
        .check(&placed, broken, Some(&v("1.1.0")))
        .await
        .expect("check");
    assert!(!check.accepted);
    assert_eq!(check.verdict, Verdict::Incompatible);
    assert_eq!(check.required_bump, Bump::Major);
    assert_eq!(check.smallest_acceptable_version, Some(v("2.0.0")));
    let versions = client.list_versions(&placed, false).await.expect("list");
    assert_eq!(
        versions.iter().map(|c| c.version.clone()).collect::<Vec<_>>(),
        vec![v("1.0.0")]
    );

    // A new major line may break, and still says what broke.
    let major = client
        .publish(&placed, broken, Some(&v("2.0.0")))
        .await
        .expect("major");
    assert!(major.created);
    assert_eq!(major.required_bump, Bump::Major);
    assert!(
        major.findings.iter().any(|f| !f.compatible),
        "{:?}",
        major.findings
    );

    // Publishing the same version again with the same content is idempotent;
    // with other content it is refused.
    let again = client
        .publish(&placed, broken, Some(&v("2.0.0")))
        .await
        .expect("re-publish");
    assert!(!again.created);
    let other = client.publish(&placed, v1, Some(&v("2.0.0"))).await.unwrap_err();
    assert!(matches!(other, Error::AlreadyExists { .. }), "{other}");
}
