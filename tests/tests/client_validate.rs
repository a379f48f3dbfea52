//! Payload validation against a contract fetched from a real registry.

use accord_client::{Client, Error, Validator, VersionSelector};
use accord_tests::TestServer;
use serde_json::json;

#[tokio::test]
async fn a_fetched_contract_validates_payloads_and_reports_every_error_with_its_path() {
    let server = TestServer::start().await;
    let client = Client::connect(&server.url()).await.expect("connect");
    let placed = "orders/order-placed".parse().expect("name");
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["id", "lines"],
        "properties": {
            "id": {"type": "string", "minLength": 3},
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["sku"],
                    "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}}
                }
            }
        }
    });
    client
        .publish(
            &placed,
            &schema.to_string(),
            Some(&"1.0.0".parse().expect("version")),
        )
        .await
        .expect("publish");
    let set = client
        .fetch_contracts(&[(placed, VersionSelector::Latest)])
        .await
        .expect("fetch");
    let contract = &set.iter().next().expect("one contract").contract;
    let validator = Validator::compile(contract).expect("compile");
    assert_eq!(validator.label(), "orders/order-placed@1.0.0");

    let good = json!({"id": "o-1", "lines": [{"sku": "a", "qty": 2}]});
    assert!(validator.is_valid(&good));
    validator.validate(&good).expect("valid");

    let bad = json!({"id": "x", "lines": [{"sku": "a", "qty": 0}, {"qty": 1}, {"sku": 7}]});
    let issues = validator.errors(&bad);
    let mut paths: Vec<&str> = issues.iter().map(|i| i.instance_path.as_str()).collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        vec!["/id", "/lines/0/qty", "/lines/1", "/lines/2/sku"],
        "{issues:?}"
    );
    let err = validator.validate(&bad).unwrap_err();
    let Error::InvalidPayload {
        contract,
        issues: reported,
    } = &err
    else {
        panic!("expected InvalidPayload, got {err}");
    };
    assert_eq!(contract, "orders/order-placed@1.0.0");
    assert_eq!(reported.len(), 4);
    assert!(err.to_string().contains("/lines/2/sku"), "{err}");

    // One validator serves many documents.
    for qty in 1..50 {
        assert!(validator.is_valid(&json!({"id": "o-1", "lines": [{"sku": "a", "qty": qty}]})));
    }
}
