//! What a refusal carries across gRPC: the witness of a breaking finding is a
//! document the old schema accepts and the new one rejects, checked here by
//! an independent validator; and the server's `--default-draft` decides how
//! a schema without `$schema` is read, witnesses included.

use accord_proto::{
    details::violation_of,
    v1::{
        PublishContractRequest, PublishContractResponse, Verdict,
        registry_service_client::RegistryServiceClient,
    },
};
use accord_registry::config::Config;
use accord_tests::TestServer;
use serde_json::Value;
use tonic::{Code, transport::Channel};

type Client = RegistryServiceClient<Channel>;

async fn publish(
    client: &mut Client,
    schema: &str,
    version: &str,
) -> Result<PublishContractResponse, tonic::Status> {
    client
        .publish_contract(PublishContractRequest {
            component: "orders".into(),
            contract: "placed".into(),
            schema: schema.into(),
            version: version.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// The breaking findings of a refused publish, each with its witness parsed.
fn broken_witnesses(err: &tonic::Status) -> Vec<(String, Value)> {
    assert_eq!(err.code(), Code::FailedPrecondition, "{}", err.message());
    let violation = violation_of(err).expect("CompatibilityViolation details");
    assert_eq!(violation.verdict, Verdict::Incompatible as i32);
    let broken: Vec<_> = violation.findings.iter().filter(|f| !f.compatible).collect();
    assert!(!broken.is_empty(), "{:?}", violation.findings);
    broken
        .iter()
        .map(|f| {
            assert!(!f.witness.is_empty(), "finding {} has no witness", f.rule_id);
            let witness = serde_json::from_str(&f.witness)
                .unwrap_or_else(|e| panic!("witness {:?} of {} is not JSON: {e}", f.witness, f.rule_id));
            (f.rule_id.clone(), witness)
        })
        .collect()
}

fn validator(schema: &str, draft: jsonschema::Draft) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(schema).expect("test schema is JSON");
    jsonschema::options()
        .with_draft(draft)
        .build(&schema)
        .expect("test schema compiles")
}

const OLD: &str = r#"{
  "type": "object",
  "properties": {
    "id": {"type": "string"},
    "amount": {"type": "number", "maximum": 1000},
    "items": {"type": "array", "items": {"type": "string"}}
  },
  "required": ["id"],
  "additionalProperties": false
}"#;

const NEW: &str = r#"{
  "type": "object",
  "properties": {
    "id": {"type": "string", "maxLength": 8},
    "amount": {"type": "integer", "maximum": 100},
    "items": {"type": "array", "items": {"type": "string"}, "maxItems": 2}
  },
  "required": ["id", "amount"],
  "additionalProperties": false
}"#;

#[tokio::test]
async fn every_breaking_finding_carries_a_witness_the_old_schema_accepts_and_the_new_rejects() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    publish(&mut client, OLD, "1.0.0")
        .await
        .expect("1.0.0 is published");
    let err = publish(&mut client, NEW, "1.1.0")
        .await
        .expect_err("a breaking minor is refused");
    let witnesses = broken_witnesses(&err);
    let (old, new) = (
        validator(OLD, jsonschema::Draft::Draft7),
        validator(NEW, jsonschema::Draft::Draft7),
    );
    for (rule, witness) in &witnesses {
        assert!(
            old.is_valid(witness),
            "{rule}: the old schema rejects its witness {witness}"
        );
        assert!(
            !new.is_valid(witness),
            "{rule}: the new schema accepts its witness {witness}"
        );
    }
    // Several kinds of break travel, not just one.
    let rules: std::collections::BTreeSet<_> = witnesses.iter().map(|(r, _)| r.as_str()).collect();
    assert!(rules.len() >= 3, "{rules:?}");
}

/// Under draft-4, `exclusiveMaximum` is a boolean beside `maximum`; draft-07
/// makes it a number, so its meta-schema refuses the boolean.
const MAX_10: &str = r#"{"type": "number", "maximum": 10}"#;
const BELOW_10: &str = r#"{"type": "number", "maximum": 10, "exclusiveMaximum": true}"#;

#[tokio::test]
async fn a_registry_set_to_draft_4_reads_schemas_without_schema_in_draft_4() {
    let server = TestServer::start_with(tempfile::tempdir().expect("temp dir"), |config: &mut Config| {
        config.limits.default_draft = "4".parse().expect("draft 4 is known");
    })
    .await;
    let mut client = server.client().await;
    publish(&mut client, MAX_10, "1.0.0")
        .await
        .expect("1.0.0 is published");
    let err = publish(&mut client, BELOW_10, "1.1.0")
        .await
        .expect_err("excluding the maximum breaks backward compatibility");
    let witnesses = broken_witnesses(&err);
    let (old, new) = (
        validator(MAX_10, jsonschema::Draft::Draft4),
        validator(BELOW_10, jsonschema::Draft::Draft4),
    );
    for (rule, witness) in &witnesses {
        assert!(old.is_valid(witness), "{rule}: the old schema rejects {witness}");
        assert!(!new.is_valid(witness), "{rule}: the new schema accepts {witness}");
    }
    let reply = publish(&mut client, BELOW_10, "2.0.0")
        .await
        .expect("a new major line may break");
    assert!(reply.created);

    // The same schema on a registry left at draft-07 is not a valid schema.
    let default = TestServer::start().await;
    let mut client = default.client().await;
    let err = publish(&mut client, BELOW_10, "1.0.0")
        .await
        .expect_err("a boolean exclusiveMaximum is not draft-07");
    assert_eq!(err.code(), Code::InvalidArgument, "{}", err.message());
    assert!(err.message().contains("exclusiveMaximum"), "{}", err.message());
}
