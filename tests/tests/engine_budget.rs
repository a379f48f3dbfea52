//! The engine's work as a running registry bounds it: a comparison over
//! `--check-time` is RESOURCE_EXHAUSTED naming the bound (and the server
//! goes on serving); witness search stops at `--witness-time` and says so;
//! an unknown `$schema` is read with a warning, or refused under
//! `--strict-schema`.

use std::time::Duration;

use accord_proto::v1::{
    CheckCompatibilityRequest, CheckCompatibilityResponse, GetContractRequest, PublishContractResponse,
    Verdict, registry_service_client::RegistryServiceClient,
};
use accord_registry::config::Config;
use accord_tests::TestServer;
use tonic::{Code, transport::Channel};

type Client = RegistryServiceClient<Channel>;

async fn server(adjust: impl FnOnce(&mut Config)) -> (TestServer, Client) {
    let server = TestServer::start_web(tempfile::tempdir().expect("temp dir"), adjust).await;
    let client = server.client().await;
    (server, client)
}

async fn publish(
    client: &mut Client,
    schema: &str,
    version: &str,
) -> Result<PublishContractResponse, tonic::Status> {
    accord_tests::seed::publish(client, None, ("orders", "placed"), schema, version).await
}

async fn check(
    client: &mut Client,
    schema: &str,
    version: &str,
) -> Result<CheckCompatibilityResponse, tonic::Status> {
    client
        .check_compatibility(CheckCompatibilityRequest {
            component: "orders".into(),
            contract: "placed".into(),
            schema: schema.into(),
            version: version.into(),
            ..Default::default()
        })
        .await
        .map(tonic::Response::into_inner)
}

/// An object of 2,000 properties, each one of three shapes; `max` is the
/// `maxLength` of every string shape. Lowering it breaks every property.
fn wide(max: usize) -> String {
    let properties: Vec<String> = (0..2000)
        .map(|i| {
            format!(
                r#""p{i}":{{"anyOf":[{{"type":"string","maxLength":{max}}},{{"type":"integer","minimum":{i}}},{{"type":"object","properties":{{"x":{{"type":"string"}}}}}}]}}"#
            )
        })
        .collect();
    format!(r#"{{"type":"object","properties":{{{}}}}}"#, properties.join(","))
}

#[tokio::test]
async fn a_comparison_over_the_check_time_is_resource_exhausted_naming_the_bound() {
    // The request's deadline starts with the call; parsing a 2,000-property
    // schema alone outlasts a millisecond, so the comparison that follows
    // cannot start within it.
    let (server, mut client) = server(|c| c.limits.check_time = Duration::from_millis(1)).await;
    // A first version is compared with nothing: it is published.
    publish(&mut client, &wide(10), "1.0.0")
        .await
        .expect("the first version");
    let status = check(&mut client, &wide(9), "2.0.0")
        .await
        .expect_err("the comparison cannot finish in 1 ms");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("deadline"), "{}", status.message());
    assert!(status.message().contains("--check-time"), "{}", status.message());
    let status = publish(&mut client, &wide(9), "2.0.0")
        .await
        .expect_err("a publish is bounded the same way");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    // The metrics count it as a publish over its budget.
    let metrics = accord_tests::http::get(server.http_addr(), "/metrics", &[]).await;
    assert!(
        metrics
            .body
            .lines()
            .any(|l| l == r#"accord_publishes_total{outcome="too_costly"} 1"#),
        "{}",
        metrics.body
    );
    // Nothing was stored by the refused publish, and the server serves on.
    let missing = client
        .get_contract(GetContractRequest {
            component: "orders".into(),
            contract: "placed".into(),
            version: "2.0.0".into(),
            ..Default::default()
        })
        .await
        .expect_err("2.0.0 was refused");
    assert_eq!(missing.code(), Code::NotFound, "{missing:?}");
    let first = accord_tests::seed::publish(&mut client, None, ("orders", "shipped"), OLD, "1.0.0").await;
    assert!(first.is_ok(), "{first:?}");
}

#[tokio::test]
async fn the_same_comparison_within_the_default_time_finds_every_break() {
    let (_server, mut client) = server(|_| {}).await;
    publish(&mut client, &wide(10), "1.0.0")
        .await
        .expect("the first version");
    let reply = check(&mut client, &wide(9), "2.0.0").await.expect("checked");
    assert!(reply.accepted, "a new major line may break: {reply:?}");
    let breaking: Vec<_> = reply.findings.iter().filter(|f| !f.compatible).collect();
    // Every property's string shape got shorter: 2,000 breaks, each shown
    // by a string of 10 characters somewhere.
    assert_eq!(breaking.len(), 2000, "{:?}", &reply.findings[..3]);
    let refused = publish(&mut client, &wide(9), "1.1.0")
        .await
        .expect_err("a minor break");
    // The refusal reaches its caller (its details are bounded to travel in
    // a header) and says where the rest of the findings are.
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    let details = accord_proto::details::violation_of(&refused).expect("the refusal's details");
    assert!(!details.findings.is_empty());
    assert!(details.findings.len() < 2000);
    assert!(details.findings.iter().all(|f| !f.compatible));
    assert_eq!(details.smallest_acceptable_version, "2.0.0");
    let said = format!("lists {} of its", details.findings.len());
    assert!(
        details
            .warnings
            .iter()
            .any(|w| w.contains(&said) && w.contains("CheckCompatibility")),
        "{:?}",
        details.warnings
    );
    // The connection survived it.
    check(&mut client, &wide(10), "1.0.0")
        .await
        .expect("the same connection answers");
}

const OLD: &str = r#"{"type":"object","properties":{"a":{"type":"string"}}}"#;
const NEW: &str = r#"{"type":"object","properties":{"a":{"type":"integer"}}}"#;

#[tokio::test]
async fn witness_search_stops_at_its_time_and_the_reply_says_so() {
    let (_server, mut client) = server(|c| c.limits.witness_time = Duration::ZERO).await;
    publish(&mut client, OLD, "1.0.0")
        .await
        .expect("the first version");
    let reply = check(&mut client, NEW, "1.1.0").await.expect("checked");
    assert_eq!(reply.verdict, Verdict::Incompatible as i32, "{reply:?}");
    let breaking: Vec<_> = reply.findings.iter().filter(|f| !f.compatible).collect();
    assert!(!breaking.is_empty(), "{reply:?}");
    for f in &breaking {
        assert!(f.witness.is_empty(), "no time, no witness: {f:?}");
        assert!(
            !f.witness_note.is_empty(),
            "the finding says why it has none: {f:?}"
        );
    }
    assert!(
        reply.warnings.iter().any(|w| w.contains("--witness-time")),
        "{:?}",
        reply.warnings
    );
}

#[tokio::test]
async fn with_time_for_witnesses_a_break_is_shown_by_a_document() {
    let (_server, mut client) = server(|_| {}).await;
    publish(&mut client, OLD, "1.0.0")
        .await
        .expect("the first version");
    let reply = check(&mut client, NEW, "1.1.0").await.expect("checked");
    let f = reply
        .findings
        .iter()
        .find(|f| !f.compatible)
        .expect("a breaking finding");
    // OLD accepts {"a": <string>}, NEW rejects it.
    let witness: serde_json::Value = serde_json::from_str(&f.witness).expect("a JSON witness");
    assert!(witness["a"].is_string(), "{witness}");
    assert!(f.witness_note.is_empty(), "{f:?}");
    assert!(reply.warnings.is_empty(), "{:?}", reply.warnings);
}

const DIALECT: &str = r#"{"$schema":"https://example.com/my-dialect","type":"object"}"#;

#[tokio::test]
async fn an_unknown_dollar_schema_is_read_in_the_default_draft_with_a_warning() {
    let (_server, mut client) = server(|_| {}).await;
    let checked = check(&mut client, DIALECT, "1.0.0").await.expect("checked");
    assert!(checked.accepted, "{checked:?}");
    assert!(
        checked.warnings.iter().any(|w| w.starts_with("#/$schema")),
        "{:?}",
        checked.warnings
    );
    let published = publish(&mut client, DIALECT, "1.0.0").await.expect("published");
    assert_eq!(
        published.warnings, checked.warnings,
        "a check answers as the publish"
    );
}

#[tokio::test]
async fn strict_schema_refuses_an_unknown_dollar_schema_naming_it() {
    let (_server, mut client) = server(|c| c.limits.strict_schema = true).await;
    let status = publish(&mut client, DIALECT, "1.0.0").await.expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("$schema"), "{}", status.message());
    // A known draft is still read.
    let known = r#"{"$schema":"http://json-schema.org/draft-07/schema#","type":"object"}"#;
    let published = publish(&mut client, known, "1.0.0").await.expect("published");
    assert!(published.warnings.is_empty(), "{:?}", published.warnings);
}
