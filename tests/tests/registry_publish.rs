//! Publishing, fetching and listing against a real registry: success paths,
//! idempotence, conflicts, bad input, limits, concurrency and restarts.

use accord_proto::v1::{
    BatchGetContractsRequest, CheckCompatibilityRequest, ContractSelector, GetContractRequest,
    ListComponentsRequest, ListContractsRequest, ListVersionsRequest, PublishContractRequest,
    PublishContractResponse, VersionState, registry_service_client::RegistryServiceClient,
};
use accord_tests::TestServer;
use tonic::{Code, transport::Channel};

type Client = RegistryServiceClient<Channel>;

const OBJECT: &str = r#"{"type":"object","properties":{"id":{"type":"string"}}}"#;

/// The same document as [`OBJECT`] but for one annotation.
fn titled(title: &str) -> String {
    format!(r#"{{"type":"object","title":"{title}","properties":{{"id":{{"type":"string"}}}}}}"#)
}

async fn publish(
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

async fn get(client: &mut Client, contract: &str, version: &str) -> Result<String, tonic::Status> {
    let reply = client
        .get_contract(GetContractRequest {
            component: "orders".into(),
            contract: contract.into(),
            version: version.into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    Ok(reply.contract.map(|c| c.version).unwrap_or_default())
}

#[tokio::test]
async fn publish_then_get_returns_the_schema_as_published() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let reply = publish(&mut client, "placed", OBJECT, "1.0.0").await.unwrap();
    assert!(reply.created);
    assert_eq!(reply.predecessor_version, "");
    let stored = reply.contract.unwrap();
    assert_eq!(stored.version, "1.0.0");
    assert_eq!(stored.fingerprint.len(), 64);
    assert_eq!(stored.state, VersionState::Active as i32);
    assert!(stored.created_at.is_some());

    let got = client
        .get_contract(GetContractRequest {
            component: "orders".into(),
            contract: "placed".into(),
            version: "1.0.0".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .contract
        .unwrap();
    assert_eq!(got.schema, OBJECT);
    assert_eq!(got.fingerprint, stored.fingerprint);
}

#[tokio::test]
async fn get_resolves_exact_versions_requirements_and_latest_release() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    for (i, v) in ["1.2.0", "1.4.0", "1.4.3", "1.9.0", "2.0.0", "3.0.0-rc.1"]
        .iter()
        .enumerate()
    {
        publish(&mut client, "placed", &titled(&format!("t{i}")), v)
            .await
            .unwrap();
    }
    assert_eq!(get(&mut client, "placed", "").await.unwrap(), "2.0.0");
    assert_eq!(get(&mut client, "placed", "1.4.0").await.unwrap(), "1.4.0");
    assert_eq!(get(&mut client, "placed", "^1.2").await.unwrap(), "1.9.0");
    assert_eq!(get(&mut client, "placed", "~1.4").await.unwrap(), "1.4.3");
    assert_eq!(get(&mut client, "placed", ">=1, <3").await.unwrap(), "2.0.0");
    assert_eq!(
        get(&mut client, "placed", "3.0.0-rc.1").await.unwrap(),
        "3.0.0-rc.1"
    );

    let missing = get(&mut client, "placed", "^4").await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert!(missing.message().contains("^4"), "{}", missing.message());
    let missing = get(&mut client, "shipped", "").await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert!(
        missing.message().contains("orders/shipped"),
        "{}",
        missing.message()
    );
    let bad = get(&mut client, "placed", "latest-please").await.unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn only_pre_releases_means_no_latest_release() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    publish(&mut client, "placed", OBJECT, "1.0.0-rc.1")
        .await
        .unwrap();
    let err = get(&mut client, "placed", "").await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(err.message().contains("pre-release"), "{}", err.message());
    assert_eq!(
        get(&mut client, "placed", "1.0.0-rc.1").await.unwrap(),
        "1.0.0-rc.1"
    );
}

#[tokio::test]
async fn republishing_the_same_content_is_idempotent_and_other_content_conflicts() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let first = publish(&mut client, "placed", OBJECT, "1.0.0").await.unwrap();
    // Same content, other formatting: same fingerprint.
    let pretty = "{\n  \"properties\": {\"id\": {\"type\": \"string\"}},\n  \"type\": \"object\"\n}";
    let again = publish(&mut client, "placed", pretty, "1.0.0").await.unwrap();
    assert!(!again.created);
    assert_eq!(
        again.contract.unwrap().fingerprint,
        first.contract.unwrap().fingerprint
    );

    let err = publish(&mut client, "placed", &titled("other"), "1.0.0")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    assert!(err.message().contains("orders/placed@1.0.0"), "{}", err.message());
    // The stored version did not change.
    let got = client
        .get_contract(GetContractRequest {
            component: "orders".into(),
            contract: "placed".into(),
            version: "1.0.0".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.contract.unwrap().schema, OBJECT);
}

#[tokio::test]
async fn a_version_is_assigned_when_none_is_given() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let first = publish(&mut client, "placed", OBJECT, "").await.unwrap();
    assert_eq!(first.contract.unwrap().version, "1.0.0");
    // Nothing changed: the latest release again, not a new version.
    let same = publish(&mut client, "placed", OBJECT, "").await.unwrap();
    assert!(!same.created);
    assert_eq!(same.contract.unwrap().version, "1.0.0");
    let changed = publish(&mut client, "placed", &titled("x"), "").await.unwrap();
    assert!(changed.created);
    let version = semver::Version::parse(&changed.contract.unwrap().version).unwrap();
    assert!(version > semver::Version::new(1, 0, 0), "{version}");
    assert_eq!(version.major, 1, "an annotation needs no new line: {version}");
}

#[tokio::test]
async fn a_version_below_its_line_is_refused_with_the_smallest_acceptable_one() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    publish(&mut client, "placed", OBJECT, "1.2.0").await.unwrap();
    let err = publish(&mut client, "placed", OBJECT, "1.1.0").await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    let violation = accord_proto::details::violation_of(&err).expect("violation details");
    assert_eq!(violation.verdict, accord_proto::v1::Verdict::VersionTooLow as i32);
    assert_eq!(violation.smallest_acceptable_version, "1.2.1");
}

#[tokio::test]
async fn bad_names_versions_and_json_are_invalid_arguments_naming_the_field() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let cases = [
        ("Orders", "placed", OBJECT, "1.0.0", "component"),
        ("orders", "", OBJECT, "1.0.0", "contract"),
        ("orders", "pla ced", OBJECT, "1.0.0", "contract"),
        ("orders", &"x".repeat(65), OBJECT, "1.0.0", "64"),
        ("orders", "placed", OBJECT, "1.0", "version"),
        ("orders", "placed", OBJECT, "v1.0.0", "version"),
        ("orders", "placed", "{\"type\": ", "1.0.0", "line 1"),
        ("orders", "placed", "[1, 2]", "1.0.0", "schema"),
        ("orders", "placed", r#"{"type": 5}"#, "1.0.0", "schema"),
        (
            "orders",
            "placed",
            r#"{"$ref": "https://example.com/other.json"}"#,
            "1.0.0",
            "$ref",
        ),
    ];
    for (component, contract, schema, version, needle) in cases {
        let err = client
            .publish_contract(PublishContractRequest {
                component: component.into(),
                contract: contract.into(),
                schema: schema.into(),
                version: version.into(),
            })
            .await
            .expect_err(needle);
        assert_eq!(err.code(), Code::InvalidArgument, "{needle}: {}", err.message());
        assert!(err.message().contains(needle), "{needle}: {}", err.message());
    }
    // Nothing was stored.
    let list = client
        .list_components(ListComponentsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(list.components.is_empty());
}

#[tokio::test]
async fn limits_answer_resource_exhausted() {
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), |config| {
        config.limits.max_schema_bytes = 200;
        config.limits.max_schema_depth = 8;
        config.limits.max_batch_size = 2;
    })
    .await;
    let mut client = server.client().await;
    let big = format!(r#"{{"description":"{}"}}"#, "x".repeat(300));
    let err = publish(&mut client, "placed", &big, "1.0.0").await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted);
    assert!(err.message().contains("schema size"), "{}", err.message());

    let deep = format!("{}{{}}{}", r#"{"a":"#.repeat(20), "}".repeat(20));
    let err = publish(&mut client, "placed", &deep, "1.0.0").await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted);
    assert!(err.message().contains("deeper than 8"), "{}", err.message());

    let selector = ContractSelector {
        component: "orders".into(),
        contract: "placed".into(),
        version: String::new(),
    };
    let err = client
        .batch_get_contracts(BatchGetContractsRequest {
            selectors: vec![selector.clone(), selector.clone(), selector.clone()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted);
}

#[tokio::test]
async fn an_oversized_request_is_resource_exhausted_and_the_server_goes_on() {
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), |config| {
        config.limits.max_request_bytes = 1024;
    })
    .await;
    let mut client = server.client().await;
    let big = format!(r#"{{"description":"{}"}}"#, "x".repeat(4000));
    let err = publish(&mut client, "placed", &big, "1.0.0").await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{}", err.message());
    assert!(err.message().contains("1024"), "{}", err.message());
    publish(&mut client, "placed", OBJECT, "1.0.0").await.unwrap();
}

#[tokio::test]
async fn batch_get_answers_each_selector_on_its_own() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    publish(&mut client, "placed", OBJECT, "1.0.0").await.unwrap();
    publish(&mut client, "placed", &titled("b"), "1.0.1")
        .await
        .unwrap();
    let selector = |contract: &str, version: &str| ContractSelector {
        component: "orders".into(),
        contract: contract.into(),
        version: version.into(),
    };
    let reply = client
        .batch_get_contracts(BatchGetContractsRequest {
            selectors: vec![
                selector("placed", ""),
                selector("placed", "1.0.0"),
                selector("missing", ""),
                selector("Bad", ""),
            ],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.results.len(), 4);
    let versions: Vec<_> = reply
        .results
        .iter()
        .map(|r| r.contract.as_ref().map(|c| c.version.clone()))
        .collect();
    assert_eq!(versions, [Some("1.0.1".into()), Some("1.0.0".into()), None, None]);
    assert_eq!(reply.results[0].contract.as_ref().unwrap().schema, titled("b"));
    assert_eq!(reply.results[2].error_code, Code::NotFound as i32);
    assert_eq!(reply.results[3].error_code, Code::InvalidArgument as i32);
    assert!(!reply.results[3].error_message.is_empty());
    assert_eq!(reply.results[2].selector.as_ref().unwrap().contract, "missing");
}

#[tokio::test]
async fn listings_page_through_components_contracts_and_versions() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    for component in ["billing", "orders", "shipping"] {
        client
            .publish_contract(PublishContractRequest {
                component: component.into(),
                contract: "event".into(),
                schema: OBJECT.into(),
                version: "1.0.0".into(),
            })
            .await
            .unwrap();
    }
    publish(&mut client, "placed", OBJECT, "0.1.0").await.unwrap();
    publish(&mut client, "placed", OBJECT, "0.1.1").await.unwrap();
    publish(&mut client, "placed", OBJECT, "1.0.0-rc.1")
        .await
        .unwrap();

    let mut names = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_components(ListComponentsRequest {
                page_size: 2,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(page.components.len() <= 2);
        names.extend(page.components.into_iter().map(|c| (c.name, c.contract_count)));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(
        names,
        [
            ("billing".to_owned(), 1),
            ("orders".to_owned(), 2),
            ("shipping".to_owned(), 1)
        ]
    );

    let contracts = client
        .list_contracts(ListContractsRequest {
            component: "orders".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .contracts;
    let summary: Vec<_> = contracts
        .iter()
        .map(|c| (c.contract.as_str(), c.latest_version.as_str(), c.version_count))
        .collect();
    assert_eq!(summary, [("event", "1.0.0", 1), ("placed", "0.1.1", 3)]);

    let first = client
        .list_versions(ListVersionsRequest {
            component: "orders".into(),
            contract: "placed".into(),
            page_size: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let versions: Vec<_> = first.versions.iter().map(|v| v.version.as_str()).collect();
    assert_eq!(versions, ["0.1.0", "0.1.1"]);
    assert!(first.versions.iter().all(|v| v.schema.is_empty()));
    let rest = client
        .list_versions(ListVersionsRequest {
            component: "orders".into(),
            contract: "placed".into(),
            page_size: 2,
            page_token: first.next_page_token,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let versions: Vec<_> = rest.versions.iter().map(|v| v.version.as_str()).collect();
    assert_eq!(versions, ["1.0.0-rc.1"]);
    assert!(rest.next_page_token.is_empty());

    let err = client
        .list_contracts(ListContractsRequest {
            component: "nobody".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = client
        .list_components(ListComponentsRequest {
            page_size: -1,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let err = client
        .list_versions(ListVersionsRequest {
            component: "orders".into(),
            contract: "placed".into(),
            page_token: "garbage".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn of_concurrent_publishes_of_one_version_exactly_one_wins() {
    let server = TestServer::start().await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let mut client = server.client().await;
        tasks.push(tokio::spawn(async move {
            publish(&mut client, "placed", &titled(&format!("writer {i}")), "1.0.0").await
        }));
    }
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(reply) => {
                assert!(reply.created);
                won += 1;
            }
            Err(status) => assert_eq!(status.code(), Code::AlreadyExists, "{}", status.message()),
        }
    }
    assert_eq!(won, 1);
    let mut client = server.client().await;
    let versions = client
        .list_versions(ListVersionsRequest {
            component: "orders".into(),
            contract: "placed".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .versions;
    assert_eq!(versions.len(), 1);
}

#[tokio::test]
async fn a_restart_on_the_same_data_dir_keeps_everything() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    publish(&mut client, "placed", OBJECT, "1.0.0").await.unwrap();
    publish(&mut client, "placed", &titled("t"), "1.0.1")
        .await
        .unwrap();
    publish(&mut client, "shipped", OBJECT, "0.3.0").await.unwrap();
    drop(client);
    let dir = server.stop().await;

    let server = TestServer::start_in(dir).await;
    let mut client = server.client().await;
    assert_eq!(get(&mut client, "placed", "").await.unwrap(), "1.0.1");
    assert_eq!(get(&mut client, "shipped", "0.3.0").await.unwrap(), "0.3.0");
    let again = publish(&mut client, "placed", OBJECT, "1.0.0").await.unwrap();
    assert!(!again.created, "the version must still be known after a restart");
    let check = client
        .check_compatibility(CheckCompatibilityRequest {
            component: "orders".into(),
            contract: "placed".into(),
            schema: titled("t").clone(),
            version: String::new(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(check.version, "1.0.1");
    assert!(check.accepted);
}
