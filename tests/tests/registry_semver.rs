//! Semver is the policy, end to end with the real engine: compatible changes
//! within a line, breaking changes refused unless they open a new line,
//! transitive modes, 0.x lines, and CheckCompatibility answering exactly as
//! PublishContract does.

use accord_proto::{
    details::violation_of,
    v1::{
        Bump, CheckCompatibilityRequest, CheckCompatibilityResponse, CompatibilityMode, CompatibilityPolicy,
        DiffVersionsRequest, PublishContractRequest, PublishContractResponse, SetCompatibilityConfigRequest,
        Verdict, registry_service_client::RegistryServiceClient,
    },
};
use accord_tests::TestServer;
use tonic::{Code, transport::Channel};

type Client = RegistryServiceClient<Channel>;

/// A closed object whose `id` has type `id_type`, with optional extras.
fn closed(id_type: &str, extra: &str) -> String {
    format!(
        r#"{{"type":"object","additionalProperties":false,"properties":{{"id":{{"type":"{id_type}"}}{extra}}}}}"#
    )
}

const BASE: &str = r#"{"type":"object","additionalProperties":false,"properties":{"id":{"type":"string"}}}"#;
const WITH_NOTE: &str = r#"{"type":"object","additionalProperties":false,"properties":{"id":{"type":"string"},"note":{"type":"string"}}}"#;
const DESCRIBED: &str = r#"{"type":"object","description":"An order.","additionalProperties":false,"properties":{"id":{"type":"string"}}}"#;

async fn publish(
    client: &mut Client,
    schema: &str,
    version: &str,
) -> Result<PublishContractResponse, tonic::Status> {
    publish_to(client, "placed", schema, version).await
}

async fn check(client: &mut Client, schema: &str, version: &str) -> CheckCompatibilityResponse {
    check_in(client, "placed", schema, version).await
}

async fn set_mode(client: &mut Client, mode: CompatibilityMode) {
    set_mode_of(client, "placed", mode).await;
}

#[tokio::test]
async fn a_compatible_minor_is_accepted() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    publish(&mut client, BASE, "1.0.0").await.unwrap();
    let reply = publish(&mut client, WITH_NOTE, "1.1.0").await.unwrap();
    assert!(reply.created);
    assert_eq!(reply.predecessor_version, "1.0.0");
    assert_eq!(reply.required_bump, Bump::Minor as i32);
    assert!(!reply.findings.is_empty(), "adding a property is a difference");
    assert!(
        reply.findings.iter().all(|f| f.compatible),
        "{:?}",
        reply.findings
    );
    assert_eq!(reply.contract.unwrap().bump, Bump::Minor as i32);
}

#[tokio::test]
async fn a_breaking_minor_is_refused_with_findings_and_the_next_major() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    publish(&mut client, BASE, "1.0.0").await.unwrap();
    let breaking = closed("integer", "");
    let err = publish(&mut client, &breaking, "1.1.0").await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("2.0.0"), "{}", err.message());
    let violation = violation_of(&err).expect("CompatibilityViolation details");
    assert_eq!(violation.verdict, Verdict::Incompatible as i32);
    assert_eq!(violation.required_bump, Bump::Major as i32);
    assert_eq!(violation.smallest_acceptable_version, "2.0.0");
    assert_eq!(violation.predecessor_version, "1.0.0");
    let broken: Vec<_> = violation.findings.iter().filter(|f| !f.compatible).collect();
    assert!(!broken.is_empty(), "{:?}", violation.findings);
    assert!(broken.iter().any(|f| f.old_path.contains("id")), "{broken:?}");
    assert!(broken.iter().all(|f| f.against_version == "1.0.0"), "{broken:?}");
    assert_eq!(violation.config.unwrap().mode, CompatibilityMode::Backward as i32);

    // The same change as a new major line is accepted, and says what broke.
    let reply = publish(&mut client, &breaking, "2.0.0").await.unwrap();
    assert!(reply.created);
    assert_eq!(reply.predecessor_version, "1.0.0");
    assert_eq!(reply.required_bump, Bump::Major as i32);
    assert!(
        reply.findings.iter().any(|f| !f.compatible),
        "{:?}",
        reply.findings
    );
}

#[tokio::test]
async fn an_annotation_is_a_patch_and_a_too_small_bump_names_the_smallest_version() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    publish(&mut client, BASE, "1.0.0").await.unwrap();
    let reply = publish(&mut client, DESCRIBED, "1.0.1").await.unwrap();
    assert_eq!(reply.required_bump, Bump::Patch as i32);

    let err = publish(&mut client, WITH_NOTE, "1.0.2").await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let violation = violation_of(&err).unwrap();
    assert_eq!(violation.verdict, Verdict::VersionTooLow as i32);
    assert_eq!(violation.required_bump, Bump::Minor as i32);
    assert_eq!(violation.smallest_acceptable_version, "1.1.0");
    // The version it names is accepted.
    publish(&mut client, WITH_NOTE, "1.1.0").await.unwrap();
}

#[tokio::test]
async fn an_assigned_version_follows_the_required_bump() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let v = |r: PublishContractResponse| r.contract.unwrap().version;
    assert_eq!(v(publish(&mut client, BASE, "").await.unwrap()), "1.0.0");
    assert_eq!(v(publish(&mut client, DESCRIBED, "").await.unwrap()), "1.0.1");
    assert_eq!(v(publish(&mut client, WITH_NOTE, "").await.unwrap()), "1.1.0");
}

#[tokio::test]
async fn without_a_version_a_break_is_refused_and_names_the_major_to_announce() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    publish(&mut client, BASE, "1.0.0").await.unwrap();
    publish(&mut client, WITH_NOTE, "1.1.0").await.unwrap();
    let breaking = closed("integer", "");

    let answer = check(&mut client, &breaking, "").await;
    assert!(!answer.accepted, "{}", answer.message);
    assert_eq!(answer.verdict, Verdict::Incompatible as i32);
    assert_eq!(answer.version, "", "a break is never assigned a version");
    assert_eq!(answer.smallest_acceptable_version, "2.0.0");
    assert_eq!(answer.predecessor_version, "1.1.0");
    assert_eq!(answer.required_bump, Bump::Major as i32);
    assert!(
        answer.findings.iter().any(|f| !f.compatible),
        "{:?}",
        answer.findings
    );

    let err = publish(&mut client, &breaking, "").await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert!(err.message().contains("2.0.0"), "{}", err.message());
    assert_eq!(err.message(), answer.message);
    let violation = violation_of(&err).expect("CompatibilityViolation details");
    assert_eq!(violation.verdict, Verdict::Incompatible as i32);
    assert_eq!(violation.smallest_acceptable_version, "2.0.0");
    assert_eq!(violation.predecessor_version, "1.1.0");
    assert_eq!(violation.checked_against, ["1.1.0"]);
    assert_eq!(violation.findings, answer.findings);
    let latest = client
        .get_contract(accord_proto::v1::GetContractRequest {
            component: "orders".into(),
            contract: "placed".into(),
            version: String::new(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(latest.contract.unwrap().version, "1.1.0", "nothing was stored");

    // Announced, the same change is accepted.
    let reply = publish(&mut client, &breaking, "2.0.0").await.unwrap();
    assert!(reply.created);
    // Under mode NONE nothing can require a new line: still assigned.
    set_mode(&mut client, CompatibilityMode::None).await;
    let reply = publish(&mut client, &closed("boolean", ""), "").await.unwrap();
    assert_eq!(reply.contract.unwrap().version, "2.1.0");
}

#[tokio::test]
async fn a_taken_version_is_already_exists_and_still_says_what_the_change_needs() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    publish(&mut client, BASE, "1.0.0").await.unwrap();
    publish(&mut client, WITH_NOTE, "1.1.0").await.unwrap();
    let breaking = closed("integer", "");

    let answer = check(&mut client, &breaking, "1.1.0").await;
    assert_eq!(answer.verdict, Verdict::VersionExists as i32);
    let err = publish(&mut client, &breaking, "1.1.0").await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    assert!(err.message().contains("other content"), "{}", err.message());
    let violation = violation_of(&err).expect("the change travels with ALREADY_EXISTS");
    assert_eq!(violation.verdict, Verdict::VersionExists as i32);
    // The next free version, 1.1.1, would be refused for the break: the
    // answer names the version that will be accepted.
    assert_eq!(violation.required_bump, Bump::Major as i32);
    assert_eq!(violation.smallest_acceptable_version, "2.0.0");
    assert_eq!(violation.predecessor_version, "1.1.0");
    assert_eq!(violation.checked_against, ["1.1.0"]);
    assert!(violation.findings.iter().any(|f| !f.compatible), "{violation:?}");
    assert_eq!(violation.findings, answer.findings);
    assert_eq!(
        violation.smallest_acceptable_version,
        answer.smallest_acceptable_version
    );
    publish(&mut client, &breaking, "2.0.0").await.unwrap();
}

#[tokio::test]
async fn the_suggested_version_is_accepted_even_past_a_later_line() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    publish(&mut client, BASE, "1.4.0").await.unwrap();
    publish(&mut client, BASE, "2.3.0").await.unwrap();
    let breaking = closed("integer", "");
    let err = publish(&mut client, &breaking, "1.5.0").await.unwrap_err();
    let violation = violation_of(&err).unwrap();
    assert_eq!(violation.verdict, Verdict::Incompatible as i32);
    // 2.3.1 would be compared with 2.3.0 and refused for the same break.
    assert_eq!(violation.smallest_acceptable_version, "3.0.0");
    assert!(!check(&mut client, &breaking, "2.3.1").await.accepted);
    let reply = publish(&mut client, &breaking, "3.0.0").await.unwrap();
    assert!(reply.created);
}

/// Publishes `schema` to `orders/<contract>` as `version`.
async fn publish_to(
    client: &mut Client,
    contract: &str,
    schema: &str,
    version: &str,
) -> Result<PublishContractResponse, tonic::Status> {
    client
        .publish_contract(PublishContractRequest {
            component: "orders".into(),
            contract: contract.into(),
            schema: schema.into(),
            version: version.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn check_in(
    client: &mut Client,
    contract: &str,
    schema: &str,
    version: &str,
) -> CheckCompatibilityResponse {
    client
        .check_compatibility(CheckCompatibilityRequest {
            component: "orders".into(),
            contract: contract.into(),
            schema: schema.into(),
            version: version.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
}

/// For random histories, modes, versions and changes, through the real
/// server: whenever a check is refused, the smallest acceptable version it
/// names is accepted by CheckCompatibility and then by PublishContract.
/// `ACCORD_SEMVER_SEED` replays a run.
#[tokio::test]
async fn a_suggested_version_is_always_accepted() {
    use rand::{Rng, SeedableRng, seq::IndexedRandom};
    let seed = std::env::var("ACCORD_SEMVER_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    eprintln!("ACCORD_SEMVER_SEED={seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let schemas = [
        BASE.to_owned(),
        WITH_NOTE.to_owned(),
        DESCRIBED.to_owned(),
        closed("integer", ""),
        r#"{"type":"object"}"#.to_owned(),
        r#"{"type":"string","maxLength":10}"#.to_owned(),
        r#"{"type":"string","maxLength":5}"#.to_owned(),
    ];
    let modes = [
        CompatibilityMode::None,
        CompatibilityMode::Backward,
        CompatibilityMode::BackwardTransitive,
        CompatibilityMode::Forward,
        CompatibilityMode::Full,
        CompatibilityMode::FullTransitive,
    ];
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let mut refused = 0;
    for case in 0..100 {
        let contract = format!("case-{case}");
        // A history of breaks and soft deletes: written under NONE, in
        // version order; a version whose bump is too small for its change
        // is refused even so, and left out.
        set_mode_of(&mut client, &contract, CompatibilityMode::None).await;
        let mut candidates: Vec<semver::Version> = (0..rng.random_range(0..6))
            .map(|_| {
                semver::Version::new(
                    rng.random_range(0..3),
                    rng.random_range(0..3),
                    rng.random_range(0..2),
                )
            })
            .collect();
        candidates.sort();
        candidates.dedup();
        let mut versions = Vec::new();
        for version in candidates {
            let schema = schemas.choose(&mut rng).unwrap();
            let written = publish_to(&mut client, &contract, schema, &version.to_string()).await;
            if written.is_err() {
                continue;
            }
            if rng.random_bool(0.2) {
                client
                    .delete_version(accord_proto::v1::DeleteVersionRequest {
                        component: "orders".into(),
                        contract: contract.clone(),
                        version: version.to_string(),
                        hard: false,
                        ..Default::default()
                    })
                    .await
                    .unwrap();
            }
            versions.push(version);
        }
        let mode = *modes.choose(&mut rng).unwrap();
        set_mode_of(&mut client, &contract, mode).await;
        let schema = schemas.choose(&mut rng).unwrap();
        let asked = if rng.random_bool(0.3) {
            String::new()
        } else {
            semver::Version::new(
                rng.random_range(0..3),
                rng.random_range(0..3),
                rng.random_range(0..2),
            )
            .to_string()
        };
        let answer = check_in(&mut client, &contract, schema, &asked).await;
        if answer.accepted {
            continue;
        }
        refused += 1;
        let smallest = answer.smallest_acceptable_version.clone();
        let context = format!(
            "seed {seed}, case {case}: history {versions:?}, mode {mode:?}, asked {asked:?}, schema {schema}: {}",
            answer.message
        );
        let again = check_in(&mut client, &contract, schema, &smallest).await;
        assert!(
            again.accepted,
            "{smallest} was suggested, then refused: {}; {context}",
            again.message
        );
        let reply = publish_to(&mut client, &contract, schema, &smallest)
            .await
            .unwrap_or_else(|e| panic!("{smallest} refused on publish: {}; {context}", e.message()));
        assert!(reply.created, "{context}");
    }
    eprintln!("{refused} of 100 cases were refusals");
}

async fn set_mode_of(client: &mut Client, contract: &str, mode: CompatibilityMode) {
    client
        .set_compatibility_config(SetCompatibilityConfigRequest {
            component: "orders".into(),
            contract: contract.into(),
            mode: mode as i32,
            policy: CompatibilityPolicy::Unspecified as i32,
            clear: false,
            ..Default::default()
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn zero_major_lines_break_on_the_minor() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    publish(&mut client, BASE, "0.1.0").await.unwrap();
    // Within 0.1, a patch bump may carry a compatible change.
    publish(&mut client, WITH_NOTE, "0.1.1").await.unwrap();
    let err = publish(&mut client, &closed("integer", ""), "0.1.2")
        .await
        .unwrap_err();
    let violation = violation_of(&err).unwrap();
    assert_eq!(violation.verdict, Verdict::Incompatible as i32);
    assert_eq!(violation.smallest_acceptable_version, "0.2.0");
    publish(&mut client, &closed("integer", ""), "0.2.0")
        .await
        .unwrap();
}

#[tokio::test]
async fn transitive_modes_check_every_earlier_version_of_the_line() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    // History written without checks: 1.1.0 breaks 1.0.0.
    set_mode(&mut client, CompatibilityMode::None).await;
    publish(&mut client, BASE, "1.0.0").await.unwrap();
    publish(&mut client, &closed("integer", ""), "1.1.0")
        .await
        .unwrap();
    let next = closed("integer", r#","note":{"type":"string"}"#);

    set_mode(&mut client, CompatibilityMode::Backward).await;
    let latest_only = check(&mut client, &next, "1.2.0").await;
    assert!(latest_only.accepted, "{}", latest_only.message);
    assert_eq!(latest_only.checked_against, ["1.1.0"]);

    set_mode(&mut client, CompatibilityMode::BackwardTransitive).await;
    let transitive = check(&mut client, &next, "1.2.0").await;
    assert!(!transitive.accepted);
    assert_eq!(transitive.verdict, Verdict::Incompatible as i32);
    assert_eq!(transitive.checked_against, ["1.0.0", "1.1.0"]);
    assert!(
        transitive
            .findings
            .iter()
            .any(|f| !f.compatible && f.against_version == "1.0.0"),
        "{:?}",
        transitive.findings
    );
    let err = publish(&mut client, &next, "1.2.0").await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn forward_mode_refuses_what_old_readers_would_reject() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    set_mode(&mut client, CompatibilityMode::Forward).await;
    publish(&mut client, WITH_NOTE, "1.0.0").await.unwrap();
    // Dropping a property from a closed object: new documents are fine for
    // old readers, so FORWARD accepts what BACKWARD would refuse.
    let forward = check(&mut client, BASE, "1.1.0").await;
    assert!(forward.accepted, "{}", forward.message);
    set_mode(&mut client, CompatibilityMode::Backward).await;
    let backward = check(&mut client, BASE, "1.1.0").await;
    assert!(!backward.accepted, "{}", backward.message);
}

#[tokio::test]
async fn full_mode_needs_both_directions() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    publish(&mut client, BASE, "1.0.0").await.unwrap();
    // Adding a property to a closed object: new readers accept old
    // documents, old readers reject new ones.
    let backward = check(&mut client, WITH_NOTE, "1.1.0").await;
    assert!(backward.accepted, "{}", backward.message);
    set_mode(&mut client, CompatibilityMode::Full).await;
    let full = check(&mut client, WITH_NOTE, "1.1.0").await;
    assert!(!full.accepted, "{}", full.message);
    assert_eq!(full.verdict, Verdict::Incompatible as i32);
    assert_eq!(full.smallest_acceptable_version, "2.0.0");
    // An annotation is fine both ways.
    let annotated = check(&mut client, DESCRIBED, "1.0.1").await;
    assert!(annotated.accepted, "{}", annotated.message);
}

#[tokio::test]
async fn check_answers_exactly_as_publish_and_stores_nothing() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let first = check(&mut client, BASE, "").await;
    assert!(first.accepted);
    assert_eq!(first.verdict, Verdict::Accepted as i32);
    assert_eq!(first.version, "1.0.0");
    assert_eq!(first.fingerprint.len(), 64);
    let nothing = client
        .get_contract(accord_proto::v1::GetContractRequest {
            component: "orders".into(),
            contract: "placed".into(),
            version: String::new(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(nothing.code(), Code::NotFound, "a check stores nothing");
    publish(&mut client, BASE, "1.0.0").await.unwrap();

    for (schema, version) in [
        (WITH_NOTE, "1.1.0"),
        (WITH_NOTE, "1.0.1"),
        (closed("integer", "").as_str(), "1.1.0"),
        (closed("integer", "").as_str(), "2.0.0"),
        (BASE, "1.0.0"),
        (DESCRIBED, "1.0.0"),
        (DESCRIBED, ""),
        (closed("integer", "").as_str(), ""),
    ] {
        let answer = check(&mut client, schema, version).await;
        let published = publish(&mut client, schema, version).await;
        match &published {
            Ok(reply) => {
                assert!(answer.accepted, "{version}: {}", answer.message);
                let stored = reply.contract.as_ref().unwrap();
                assert_eq!(answer.version, stored.version);
                assert_eq!(answer.fingerprint, stored.fingerprint);
                assert_eq!(answer.required_bump, reply.required_bump);
                assert_eq!(answer.findings, reply.findings);
                assert_eq!(answer.checked_against, reply.checked_against);
                assert_eq!(answer.message, reply.message);
                assert_eq!(answer.config, reply.config);
                assert_eq!(
                    answer.verdict == Verdict::AlreadyPublished as i32,
                    !reply.created,
                    "{version}"
                );
            }
            Err(status) => {
                assert!(!answer.accepted, "{version}: {}", answer.message);
                if let Some(violation) = violation_of(status) {
                    assert_eq!(answer.verdict, violation.verdict);
                    assert_eq!(
                        answer.smallest_acceptable_version,
                        violation.smallest_acceptable_version
                    );
                    assert_eq!(answer.findings, violation.findings);
                    assert_eq!(answer.checked_against, violation.checked_against);
                    assert_eq!(answer.predecessor_version, violation.predecessor_version);
                    assert_eq!(answer.message, status.message());
                } else {
                    assert_eq!(status.code(), Code::AlreadyExists);
                    assert_eq!(answer.verdict, Verdict::VersionExists as i32);
                }
            }
        }
        // Undo a successful publish so the next case starts from the same
        // history as its check did.
        if let Ok(reply) = published
            && reply.created
        {
            client
                .delete_version(accord_proto::v1::DeleteVersionRequest {
                    component: "orders".into(),
                    contract: "placed".into(),
                    version: reply.contract.unwrap().version,
                    hard: true,
                    ..Default::default()
                })
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn diff_compares_two_stored_versions() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    publish(&mut client, BASE, "1.0.0").await.unwrap();
    publish(&mut client, WITH_NOTE, "1.1.0").await.unwrap();
    publish(&mut client, &closed("integer", ""), "2.0.0")
        .await
        .unwrap();
    let diff = |from: &str, to: &str, mode: CompatibilityMode| DiffVersionsRequest {
        component: "orders".into(),
        contract: "placed".into(),
        from_version: from.into(),
        to_version: to.into(),
        mode: mode as i32,
        policy: CompatibilityPolicy::Unspecified as i32,
        ..Default::default()
    };
    let minor = client
        .diff_versions(diff("1.0.0", "1.1.0", CompatibilityMode::Unspecified))
        .await
        .unwrap()
        .into_inner();
    assert!(minor.compatible);
    assert_eq!(minor.required_bump, Bump::Minor as i32);
    let major = client
        .diff_versions(diff("1.1.0", "2.0.0", CompatibilityMode::Unspecified))
        .await
        .unwrap()
        .into_inner();
    assert!(!major.compatible);
    assert_eq!(major.required_bump, Bump::Major as i32);
    assert!(
        major
            .findings
            .iter()
            .any(|f| !f.compatible && f.against_version == "1.1.0")
    );
    let same = client
        .diff_versions(diff("1.1.0", "1.1.0", CompatibilityMode::Unspecified))
        .await
        .unwrap()
        .into_inner();
    assert!(same.findings.is_empty());
    assert_eq!(same.required_bump, Bump::None as i32);
    let forward = client
        .diff_versions(diff("1.1.0", "1.0.0", CompatibilityMode::Forward))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(forward.config.unwrap().mode, CompatibilityMode::Forward as i32);
    assert!(forward.compatible, "{:?}", forward.findings);

    let err = client
        .diff_versions(diff("1.0.0", "9.0.0", CompatibilityMode::Unspecified))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = client
        .diff_versions(diff("1.0", "1.1.0", CompatibilityMode::Unspecified))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
}
