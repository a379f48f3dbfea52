//! The client against a real registry: fetching by requirement, batch
//! fetches, and refusals decoded into typed findings.

use accord_client::{Client, ContractName, Error, Verdict, Version, VersionSelector};
use accord_tests::TestServer;

fn name(s: &str) -> ContractName {
    s.parse().expect("valid contract name")
}

fn sel(s: &str) -> VersionSelector {
    s.parse().expect("valid selector")
}

fn v(s: &str) -> Version {
    s.parse().expect("valid version")
}

/// A schema that differs by its title only, so every version is compatible.
fn titled(title: &str) -> String {
    format!(r#"{{"title": "{title}", "type": "object", "properties": {{"id": {{"type": "string"}}}}}}"#)
}

async fn publish_all(client: &Client, contract: &ContractName, versions: &[&str]) {
    for version in versions {
        client
            .publish(contract, &titled(version), Some(&v(version)))
            .await
            .unwrap_or_else(|e| panic!("publish {contract}@{version}: {e}"));
    }
}

#[tokio::test]
async fn get_resolves_exact_versions_requirements_and_latest() {
    let server = TestServer::start().await;
    let client = Client::connect(&server.url()).await.expect("connect");
    let placed = name("orders/order-placed");
    publish_all(
        &client,
        &placed,
        &["1.0.0", "1.1.0", "1.2.0", "2.0.0", "3.0.0-rc.1"],
    )
    .await;

    let cases = [
        ("1.1.0", "1.1.0"),
        ("^1", "1.2.0"),
        ("~1.1", "1.1.0"),
        (">=1.1, <2", "1.2.0"),
        ("latest", "2.0.0"),
        ("3.0.0-rc.1", "3.0.0-rc.1"),
    ];
    for (selector, expected) in cases {
        let got = client
            .get(&placed, &sel(selector))
            .await
            .unwrap_or_else(|e| panic!("{selector}: {e}"));
        assert_eq!(got.version, v(expected), "selector {selector}");
        assert_eq!(got.name, placed);
        assert_eq!(got.schema_json().expect("schema is JSON")["title"], expected);
        assert_eq!(got.fingerprint.len(), 64);
    }

    let missing = client.get(&placed, &sel("^4")).await.unwrap_err();
    assert!(matches!(missing, Error::NotFound { .. }), "{missing}");
    let unknown = client
        .get(&name("orders/nope"), &VersionSelector::Latest)
        .await
        .unwrap_err();
    assert!(matches!(unknown, Error::NotFound { .. }), "{unknown}");
}

#[tokio::test]
async fn batch_get_answers_each_selector_in_order() {
    let server = TestServer::start().await;
    let client = Client::connect(&server.url()).await.expect("connect");
    let placed = name("orders/order-placed");
    let invoice = name("billing/invoice");
    publish_all(&client, &placed, &["1.0.0", "1.5.0", "2.0.0"]).await;
    publish_all(&client, &invoice, &["0.1.0"]).await;

    let wanted = vec![
        (placed.clone(), sel("^1")),
        (invoice.clone(), VersionSelector::Latest),
        (name("billing/refund"), VersionSelector::Latest),
        (placed.clone(), sel("2.0.0")),
    ];
    let results = client.batch_get(&wanted).await.expect("batch call");
    assert_eq!(results.len(), 4);
    assert_eq!(results[0].as_ref().expect("^1").version, v("1.5.0"));
    assert_eq!(results[1].as_ref().expect("invoice").version, v("0.1.0"));
    assert!(
        matches!(results[2], Err(Error::NotFound { .. })),
        "{:?}",
        results[2]
    );
    assert_eq!(results[3].as_ref().expect("exact").version, v("2.0.0"));

    // The start-up fetch fails as a whole, naming what it could not get.
    let err = client.fetch_contracts(&wanted).await.unwrap_err();
    let Error::ContractsUnavailable { contracts, .. } = &err else {
        panic!("expected ContractsUnavailable, got {err}");
    };
    assert_eq!(contracts, &vec!["billing/refund@latest".to_owned()]);

    let set = client
        .fetch_contracts(&[wanted[0].clone(), wanted[1].clone()])
        .await
        .expect("fetch");
    assert!(!set.any_stale());
    assert_eq!(set.get(&invoice).expect("invoice").contract.version, v("0.1.0"));
}

#[tokio::test]
async fn a_version_below_its_line_is_refused_with_decoded_details() {
    let server = TestServer::start().await;
    let client = Client::connect(&server.url()).await.expect("connect");
    let placed = name("orders/order-placed");
    publish_all(&client, &placed, &["1.0.0", "1.2.0"]).await;
    let err = client
        .publish(&placed, &titled("late"), Some(&v("1.1.0")))
        .await
        .unwrap_err();
    let Error::Incompatible {
        verdict,
        smallest_acceptable_version,
        config,
        ..
    } = &err
    else {
        panic!("expected a refusal with details, got {err}");
    };
    assert_eq!(*verdict, Verdict::VersionTooLow);
    let smallest = smallest_acceptable_version
        .clone()
        .expect("a smallest acceptable version");
    assert!(smallest > v("1.2.0"), "{smallest}");
    assert!(config.is_some());
    assert!(err.to_string().contains(&smallest.to_string()), "{err}");

    // The dry run answers the same, without storing.
    let check = client
        .check(&placed, &titled("late"), Some(&v("1.1.0")))
        .await
        .expect("check");
    assert!(!check.accepted);
    assert_eq!(check.verdict, Verdict::VersionTooLow);
    assert_eq!(check.smallest_acceptable_version, Some(smallest.clone()));
    let versions = client.list_versions(&placed, false).await.expect("list");
    let listed: Vec<_> = versions.iter().map(|c| c.version.to_string()).collect();
    assert_eq!(listed, vec!["1.0.0", "1.2.0"]);

    // The version it names is accepted.
    let ok = client
        .publish(&placed, &titled("late"), Some(&smallest))
        .await
        .expect("the smallest acceptable version");
    assert!(ok.created);
    assert_eq!(ok.predecessor_version, Some(v("1.2.0")));
}

#[tokio::test]
async fn bad_input_is_refused_before_or_by_the_registry_with_a_reason() {
    let server = TestServer::start().await;
    let client = Client::connect(&server.url()).await.expect("connect");
    let err = "Orders/x".parse::<ContractName>().unwrap_err();
    assert!(err.to_string().contains("Orders/x"), "{err}");
    let err = client
        .publish(&name("orders/x"), "{not json", Some(&v("1.0.0")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { .. }), "{err}");
}
