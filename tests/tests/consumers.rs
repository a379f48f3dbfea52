//! Consumers and waivers through a real registry on `127.0.0.1:0` and the
//! client library: what a publish does to registered consumers, waivers and
//! their expiry, readings checked before a deploy, the guard of deprecations
//! and hard deletes, scopes and roles, events, and replicas of a shared
//! store. Expectations are worked out from the documents the schemas
//! accept, and witnesses are checked with the `jsonschema` validator.

use std::time::{Duration, SystemTime};

use accord_client::{
    Client, ClientBuilder, ConsumerBreaks, ContractName, Error, EventKind, ImpactOutcome, Verdict,
    VersionReq, WaiverRequest, parse_requirement,
};
use accord_proto::v1::WatchEventsRequest;
use accord_registry::auth::{Role, tokens};
use accord_tests::{TestServer, postgres::TestDatabase};
use futures::StreamExt;

/// Closed: only `id`.
const CLOSED: &str = r#"{"type":"object","additionalProperties":false,"properties":{"id":{"type":"string"}},"required":["id"]}"#;
/// The same with an optional `note`: version to version, a minor change.
const WITH_NOTE: &str = r#"{"type":"object","additionalProperties":false,"properties":{"id":{"type":"string"},"note":{"type":"string"}},"required":["id"]}"#;
/// WITH_NOTE with a title: an annotation more.
const WITH_NOTE_TITLED: &str = r#"{"type":"object","title":"placed","additionalProperties":false,"properties":{"id":{"type":"string"},"note":{"type":"string"}},"required":["id"]}"#;

fn placed() -> ContractName {
    "orders/placed".parse().unwrap()
}

fn req(text: &str) -> VersionReq {
    parse_requirement(text).unwrap()
}

fn v(text: &str) -> accord_client::Version {
    text.parse().unwrap()
}

/// A waiver of orders/placed for `consumer` (`None`: every consumer)
/// and `rules` (none: every rule), expiring `seconds` from now.
fn waiver_request(consumer: Option<&str>, rules: &[String], reason: &str, seconds: u64) -> WaiverRequest {
    WaiverRequest {
        contract: placed(),
        consumer: consumer.map(str::to_owned),
        rules: rules.to_vec(),
        reason: reason.into(),
        expires_at: SystemTime::now() + Duration::from_secs(seconds),
    }
}

async fn client(server: &TestServer) -> Client {
    Client::connect(&server.url()).await.unwrap()
}

/// A registry with orders/placed 1.0.0 (CLOSED).
async fn with_closed() -> (TestServer, Client) {
    let server = TestServer::start().await;
    let client = client(&server).await;
    client
        .publish(&placed(), CLOSED, Some(&v("1.0.0")))
        .await
        .unwrap();
    (server, client)
}

/// A registry with orders/placed 1.0.0 (CLOSED) and billing registered as
/// reading ^1 with CLOSED as its reader.
async fn with_billing() -> (TestServer, Client) {
    let (server, client) = with_closed().await;
    let registered = client
        .register_consumer("billing", &placed(), &req("^1"), Some(CLOSED))
        .await
        .unwrap();
    assert!(registered.created);
    assert_eq!(registered.consumer.resolves_to, Some(v("1.0.0")));
    assert!(registered.checks.iter().all(|c| c.outcome == ImpactOutcome::Ok));
    (server, client)
}

/// Asserts that `witness` is accepted by `accepting` and rejected by
/// `rejecting`, with a real validator.
fn shows_the_break(witness: &serde_json::Value, accepting: &str, rejecting: &str) {
    let compile = |text: &str| jsonschema::validator_for(&serde_json::from_str(text).unwrap()).unwrap();
    assert!(
        compile(accepting).is_valid(witness),
        "{witness} is not accepted by {accepting}"
    );
    assert!(
        !compile(rejecting).is_valid(witness),
        "{witness} is not rejected by {rejecting}"
    );
}

#[tokio::test]
async fn a_compatible_change_that_breaks_a_closed_reader_is_refused_naming_the_consumer() {
    let (_server, client) = with_billing().await;
    // Version to version the change is compatible: without consumers it
    // would be 1.1.0.
    let checked = client.check(&placed(), WITH_NOTE, None).await.unwrap();
    assert!(!checked.accepted);
    assert_eq!(checked.verdict, Verdict::Incompatible);
    assert!(checked.message.contains("billing"), "{}", checked.message);
    assert_eq!(checked.smallest_acceptable_version, Some(v("2.0.0")));
    let impact = &checked.consumer_impacts[0];
    assert_eq!(
        (impact.consumer.as_str(), impact.outcome),
        ("billing", ImpactOutcome::Breaks)
    );
    assert!(impact.refuses && impact.reader);
    let witness = impact
        .findings
        .iter()
        .find_map(|f| f.witness.clone())
        .expect("a witness");
    shows_the_break(&witness, WITH_NOTE, CLOSED);

    // The publish refuses exactly as the check said, and stores nothing.
    let err = client.publish(&placed(), WITH_NOTE, None).await.unwrap_err();
    let refusal = err.refusal().expect("a refusal with its details");
    assert!(matches!(err, Error::Incompatible { .. }), "{err}");
    assert_eq!(refusal.verdict, Verdict::Incompatible);
    assert!(refusal.message.contains("billing"), "{}", refusal.message);
    assert_eq!(refusal.consumer_impacts, checked.consumer_impacts);
    assert_eq!(refusal.smallest_acceptable_version, Some(v("2.0.0")));
    assert_eq!(client.list_versions(&placed(), false).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_major_version_is_not_affected_for_caret_one_consumers() {
    let (_server, client) = with_billing().await;
    let published = client
        .publish(&placed(), WITH_NOTE, Some(&v("2.0.0")))
        .await
        .unwrap();
    assert!(published.created);
    assert_eq!(published.consumer_impacts.len(), 1);
    assert_eq!(published.consumer_impacts[0].outcome, ImpactOutcome::NotAffected);
    assert!(published.consumer_impacts[0].findings.is_empty());
}

#[tokio::test]
async fn a_waiver_lets_the_break_through_reported_waived_and_after_its_expiry_it_counts_again() {
    let (server, client) = with_billing().await;
    let mut events = client.watch(0, None).await.unwrap();
    // An expiry a few seconds ahead: long enough for the publish, short
    // enough to wait for.
    let expires_at = SystemTime::now() + Duration::from_secs(3);
    let waiver = client
        .create_waiver(&WaiverRequest {
            contract: placed(),
            consumer: Some("billing".into()),
            rules: Vec::new(),
            reason: "billing deploys the reader that reads notes first".into(),
            expires_at,
        })
        .await
        .unwrap();
    assert!(waiver.id.starts_with("w-"), "{}", waiver.id);
    assert_eq!(waiver.approver, "anonymous");

    let published = client.publish(&placed(), WITH_NOTE, None).await.unwrap();
    assert_eq!(published.contract.version, v("1.1.0"));
    let impact = &published.consumer_impacts[0];
    assert_eq!(impact.outcome, ImpactOutcome::Waived);
    assert_eq!(impact.waivers[0].id, waiver.id);
    assert_eq!(impact.waivers[0].expires_at, waiver.expires_at);
    assert!(!impact.findings.is_empty());

    // While it is active, the next break of billing is waived too; once it
    // has expired, the same change is refused again. The check is polled
    // (bounded) past the expiry: no assertion on time itself.
    let next = client.check(&placed(), WITH_NOTE_TITLED, None).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut refused = next.accepted.then_some(false);
    while refused == Some(false) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let again = client.check(&placed(), WITH_NOTE_TITLED, None).await.unwrap();
        if !again.accepted {
            assert_eq!(again.consumer_impacts[0].outcome, ImpactOutcome::Breaks);
            refused = Some(true);
        }
    }
    assert_eq!(refused, Some(true), "the break never counted again");
    assert!(SystemTime::now() >= expires_at);
    let err = client
        .publish(&placed(), WITH_NOTE_TITLED, None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("2.0.0"), "{err}");

    // Created, used and expired: events, in order, and audit entries.
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !seen.contains(&EventKind::WaiverExpired) {
        let event = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("the expiry is recorded")
            .unwrap()
            .unwrap();
        if event.waiver_id.as_deref() == Some(waiver.id.as_str()) {
            seen.push(event.kind);
        }
    }
    assert_eq!(
        seen,
        [
            EventKind::WaiverCreated,
            EventKind::WaiverUsed,
            EventKind::WaiverExpired
        ]
    );
    let audit = client.list_audit_entries(None).await.unwrap();
    for action in ["CreateWaiver", "UseWaiver", "ExpireWaiver"] {
        assert!(
            audit.iter().any(|e| e.action == action && e.allowed),
            "{action} is not audited: {audit:?}"
        );
    }
    let listed = client.list_waivers(Some(&placed()), true).await.unwrap();
    assert_eq!(listed[0].state, accord_client::WaiverState::Expired);
    assert!(
        client
            .list_waivers(Some(&placed()), false)
            .await
            .unwrap()
            .is_empty()
    );
    drop(server);
}

#[tokio::test]
async fn a_revoked_waiver_covers_nothing_and_a_contract_set_to_warn_accepts_the_break() {
    let (_server, client) = with_billing().await;
    // The rules that fire, as the check reports them.
    let rules: Vec<String> = client
        .check(&placed(), WITH_NOTE, None)
        .await
        .unwrap()
        .consumer_impacts[0]
        .findings
        .iter()
        .map(|f| f.rule_id.clone())
        .collect();
    assert!(!rules.is_empty());
    let waiver = client
        .create_waiver(&waiver_request(
            None,
            &rules,
            "every consumer, the rules that fire",
            3600,
        ))
        .await
        .unwrap();
    assert!(client.check(&placed(), WITH_NOTE, None).await.unwrap().accepted);
    let revoked = client.revoke_waiver(&waiver.id).await.unwrap();
    assert_eq!(revoked.state, accord_client::WaiverState::Revoked);
    assert_eq!(revoked.revoked_by.as_deref(), Some("anonymous"));
    assert!(!client.check(&placed(), WITH_NOTE, None).await.unwrap().accepted);
    let err = client
        .create_waiver(&waiver_request(None, &["NO_SUCH_RULE".into()], "r", 60))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("NO_SUCH_RULE"), "{err}");
    let err = client
        .create_waiver(&waiver_request(Some("billing"), &[], "  ", 60))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("reason"), "{err}");
    let long = "x".repeat(3000);
    let err = client
        .create_waiver(&waiver_request(Some("billing"), &[], &long, 60))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at most 2000"), "{err}");

    // Warn instead of refuse: accepted, the break reported.
    let setting = client
        .set_config(
            Some(&placed()),
            accord_client::ConfigChange {
                consumer_breaks: Some(ConsumerBreaks::Warn),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(setting.consumer_breaks, ConsumerBreaks::Warn);
    assert!(!setting.consumer_breaks_inherited && setting.mode_inherited);
    let published = client.publish(&placed(), WITH_NOTE, None).await.unwrap();
    assert_eq!(published.contract.version, v("1.1.0"));
    assert_eq!(published.consumer_impacts[0].outcome, ImpactOutcome::Breaks);
    assert!(!published.consumer_impacts[0].refuses);
}

#[tokio::test]
async fn a_reading_is_checked_against_every_live_version_before_a_deploy() {
    let (_server, client) = with_closed().await;
    client
        .publish(&placed(), WITH_NOTE, Some(&v("1.1.0")))
        .await
        .unwrap();
    // A closed reader rejects documents 1.1.0 accepts.
    let check = client
        .check_consumer(&placed(), &req("^1"), Some(CLOSED))
        .await
        .unwrap();
    assert!(!check.ok, "{}", check.message);
    let versions: Vec<(String, ImpactOutcome)> = check
        .checks
        .iter()
        .map(|c| (c.version.to_string(), c.outcome))
        .collect();
    assert_eq!(
        versions,
        [
            ("1.0.0".to_owned(), ImpactOutcome::Ok),
            ("1.1.0".to_owned(), ImpactOutcome::Breaks)
        ]
    );
    let witness = check.checks[1]
        .findings
        .iter()
        .find_map(|f| f.witness.clone())
        .unwrap();
    shows_the_break(&witness, WITH_NOTE, CLOSED);
    assert!(check.message.contains("1.1.0"), "{}", check.message);
    // The reader that reads notes can deploy; so can one of ~1.0.
    assert!(
        client
            .check_consumer(&placed(), &req("^1"), Some(WITH_NOTE))
            .await
            .unwrap()
            .ok
    );
    assert!(
        client
            .check_consumer(&placed(), &req("~1.0"), Some(CLOSED))
            .await
            .unwrap()
            .ok
    );
    // Without a reader, ^1 resolves to 1.1.0, which reads 1.0.0's documents.
    let check = client.check_consumer(&placed(), &req("^1"), None).await.unwrap();
    assert!(check.ok && check.resolves_to == Some(v("1.1.0")), "{check:?}");
    // Nothing resolves: nothing to deploy against.
    assert!(
        !client
            .check_consumer(&placed(), &req("^3"), None)
            .await
            .unwrap()
            .ok
    );
    // A reader that is not a schema is refused naming the field.
    let err = client
        .check_consumer(&placed(), &req("^1"), Some(r#"{"type": 5}"#))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
    assert!(err.to_string().contains("reader"), "{err}");
}

#[tokio::test]
async fn erasing_or_deprecating_the_last_version_a_consumer_can_use_needs_a_reason_soft_deleted_or_not() {
    let (_server, client) = with_billing().await;
    let err = client
        .deprecate(&placed(), &v("1.0.0"), "use 2.x")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::FailedPrecondition { .. }), "{err}");
    assert!(err.to_string().contains("billing (^1)"), "{err}");
    let err = client
        .delete_version(&placed(), &v("1.0.0"), true)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("billing"), "{err}");
    assert!(
        err.to_string().contains(
            "without a version that satisfies their requirement; publish one first, or force it with a reason"
        ),
        "{err}"
    );
    // A soft delete is restorable: not guarded. Erasing the soft-deleted
    // version is: it is the one a restore would give billing back.
    client
        .delete_version(&placed(), &v("1.0.0"), false)
        .await
        .unwrap();
    let err = client
        .delete_version(&placed(), &v("1.0.0"), true)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::FailedPrecondition { .. }), "{err}");
    assert!(err.to_string().contains("billing (^1)"), "{err}");
    let err = client.delete_contract(&placed(), true).await.unwrap_err();
    assert!(matches!(err, Error::FailedPrecondition { .. }), "{err}");
    client.restore(&placed(), None).await.unwrap();
    let err = client
        .deprecate_forced(&placed(), &v("1.0.0"), "use 2.x", " ")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
    client
        .deprecate_forced(
            &placed(),
            &v("1.0.0"),
            "use 2.x",
            "billing moves to 2.x this week",
        )
        .await
        .unwrap();
    let audit = client.list_audit_entries(None).await.unwrap();
    let forced = audit
        .iter()
        .find(|e| e.action == "DeprecateVersion" && e.allowed)
        .expect("the forced deprecation is audited");
    assert!(
        forced.message.contains("billing moves to 2.x this week"),
        "{forced:?}"
    );
    assert!(forced.message.contains("billing (^1)"), "{forced:?}");
    let refused = audit
        .iter()
        .find(|e| e.action == "DeprecateVersion" && !e.allowed)
        .expect("the refusal is audited");
    assert_eq!(refused.outcome, "FAILED_PRECONDITION");
    // With another version to read, erasing 1.0.0 strands nobody.
    let described = CLOSED.replacen('{', r#"{"description":"an order","#, 1);
    let patch = client.publish(&placed(), &described, None).await.unwrap();
    assert_eq!(patch.contract.version, v("1.0.1"));
    client.delete_version(&placed(), &v("1.0.0"), true).await.unwrap();
}

#[tokio::test]
async fn registrations_are_listed_by_contract_and_by_consumer_and_are_idempotent() {
    let (_server, client) = with_billing().await;
    let again = client
        .register_consumer("billing", &placed(), &req("^1"), Some(CLOSED))
        .await
        .unwrap();
    assert!(!again.created);
    client
        .register_consumer("shipping", &placed(), &req("~1.0"), None)
        .await
        .unwrap();
    let listed = client.list_consumers(&placed()).await.unwrap();
    let names: Vec<&str> = listed.iter().map(|c| c.consumer.as_str()).collect();
    assert_eq!(names, ["billing", "shipping"]);
    assert!(listed[0].has_reader && !listed[1].has_reader);
    assert_eq!(listed[0].reader_draft, Some(accord_compat::Draft::D7));
    assert_eq!(listed[1].resolves_to, Some(v("1.0.0")));
    let readings = client.list_readings("billing").await.unwrap();
    assert_eq!(readings.len(), 1);
    assert_eq!(readings[0].contract, placed());
    // A change of requirement replaces the registration.
    let changed = client
        .register_consumer("billing", &placed(), &req(">=1, <3"), Some(CLOSED))
        .await
        .unwrap();
    assert!(changed.created);
    client.unregister_consumer("shipping", &placed()).await.unwrap();
    let err = client
        .unregister_consumer("shipping", &placed())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    assert_eq!(client.list_consumers(&placed()).await.unwrap().len(), 1);
    // A contract that does not exist cannot be read.
    let err = client
        .register_consumer("billing", &"orders/nothing".parse().unwrap(), &req("^1"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
}

#[tokio::test]
async fn scoped_publishers_register_their_own_consumptions_and_waivers_need_an_admin() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokens.json");
    let billing = tokens::create(&file, "billing-ci", Role::Publisher, &["billing*".into()]).unwrap();
    let orders = tokens::create(&file, "orders-ci", Role::Publisher, &["orders".into()]).unwrap();
    let ops = tokens::create(&file, "ops", Role::Admin, &[]).unwrap();
    let path = file.clone();
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), move |c| {
        c.security.auth_file = Some(path);
    })
    .await;
    let as_ = |token: &str| ClientBuilder::new(server.url()).token(token).build().unwrap();
    as_(&orders)
        .publish(&placed(), CLOSED, Some(&v("1.0.0")))
        .await
        .unwrap();
    as_(&billing)
        .register_consumer("billing-eu", &placed(), &req("^1"), Some(CLOSED))
        .await
        .unwrap();
    let err = as_(&billing)
        .register_consumer("shipping", &placed(), &req("^1"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PermissionDenied { .. }), "{err}");
    assert!(err.to_string().contains("shipping"), "{err}");
    let waiver = waiver_request(Some("billing-eu"), &[], "r", 600);
    let err = as_(&orders).create_waiver(&waiver).await.unwrap_err();
    assert!(matches!(err, Error::PermissionDenied { .. }), "{err}");
    assert!(err.to_string().contains("admin"), "{err}");
    let created = as_(&ops).create_waiver(&waiver).await.unwrap();
    assert_eq!(created.approver, "ops");
    let audit = as_(&ops).list_audit_entries(None).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "RegisterConsumer" && !e.allowed && e.principal == "billing-ci"),
        "{audit:?}"
    );
    assert!(
        audit
            .iter()
            .any(|e| e.action == "CreateWaiver" && !e.allowed && e.principal == "orders-ci"),
        "{audit:?}"
    );
}

#[tokio::test]
async fn watchers_get_consumer_events_only_when_they_ask_for_them() {
    let (server, client) = with_billing().await;
    // The client library asks for them.
    let mut events = client.watch(0, None).await.unwrap();
    let mut kinds = Vec::new();
    for _ in 0..2 {
        kinds.push(events.next().await.unwrap().unwrap().kind);
    }
    assert_eq!(kinds, [EventKind::Published, EventKind::ConsumerRegistered]);
    // A client that predates consumers does not ask, and never gets a kind
    // it cannot read: the next event it sees is the next publish.
    let mut raw = server.client().await;
    let mut stream = raw
        .watch_events(WatchEventsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let first = stream.next().await.unwrap().unwrap().event.unwrap();
    assert_eq!(first.sequence, 1);
    client
        .publish(&placed(), CLOSED, Some(&v("2.0.0")))
        .await
        .unwrap();
    let next = stream.next().await.unwrap().unwrap().event.unwrap();
    assert_eq!(next.sequence, 3, "the registration (2) is skipped");
    assert_eq!(next.version, "2.0.0");
}

#[tokio::test]
async fn a_service_that_fetches_its_contracts_can_register_as_their_consumer() {
    let (server, producer) = with_closed().await;
    let service = ClientBuilder::new(server.url())
        .register_as("billing")
        .build()
        .unwrap();
    let wanted = vec![(placed(), "^1".parse().unwrap())];
    let fetched = service.fetch_contracts(&wanted).await.unwrap();
    assert_eq!(fetched.get(&placed()).unwrap().contract.version, v("1.0.0"));
    let consumers = producer.list_consumers(&placed()).await.unwrap();
    assert_eq!(consumers.len(), 1);
    assert_eq!(consumers[0].consumer, "billing");
    assert_eq!(consumers[0].requirement, req("^1"));
    assert!(!consumers[0].has_reader);
    // Without a reader it reads with 1.0.0: a version that adds `note` to
    // the closed object breaks it.
    let checked = producer.check(&placed(), WITH_NOTE, None).await.unwrap();
    assert_eq!(checked.consumer_impacts[0].outcome, ImpactOutcome::Breaks);
    assert_eq!(checked.consumer_impacts[0].against_version, Some(v("1.0.0")));
    // Not opted in: nothing registered.
    let other = ClientBuilder::new(server.url()).build().unwrap();
    other.fetch_contracts(&wanted).await.unwrap();
    assert_eq!(producer.list_consumers(&placed()).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_consumer_registered_through_one_replica_is_honoured_by_a_publish_through_another() {
    let Some(db) = TestDatabase::create("consumer_replicas").await else {
        return;
    };
    let replica =
        |url: String| TestServer::start_with(tempfile::tempdir().unwrap(), move |c| c.store = Some(url));
    let (a, b) = (replica(db.url.clone()).await, replica(db.url.clone()).await);
    let (on_a, on_b) = (client(&a).await, client(&b).await);
    on_a.publish(&placed(), CLOSED, Some(&v("1.0.0"))).await.unwrap();
    // b has seen 1.0.0 (a read with the write's sequence waits for it) but
    // not the registration that follows on a.
    on_b.observe_sequence(on_a.last_sequence());
    on_b.get(&placed(), &"1.0.0".parse().unwrap()).await.unwrap();
    on_a.register_consumer("billing", &placed(), &req("^1"), Some(CLOSED))
        .await
        .unwrap();
    // Straight away, without b being told of the sequence: its publish is
    // decided on what it holds, conflicts with the registration in the
    // store, and is decided again with it.
    let err = on_b.publish(&placed(), WITH_NOTE, None).await.unwrap_err();
    let refusal = err.refusal().expect("refused for billing");
    assert_eq!(refusal.consumer_impacts[0].consumer, "billing");
    assert_eq!(refusal.consumer_impacts[0].outcome, ImpactOutcome::Breaks);
    // A waiver created through b covers a publish through a.
    on_b.create_waiver(&waiver_request(Some("billing"), &[], "r", 600))
        .await
        .unwrap();
    let published = on_a.publish(&placed(), WITH_NOTE, None).await.unwrap();
    assert_eq!(published.consumer_impacts[0].outcome, ImpactOutcome::Waived);
}
