//! Hostile input against a running registry: every bad request gets the
//! right code and a message that names what was wrong, and the server stays
//! healthy and serves the next request.

use std::{io::ErrorKind, net::TcpListener};

use accord_proto::v1::{
    CheckCompatibilityRequest, GetContractRequest, PublishContractRequest, PublishContractResponse,
    registry_service_client::RegistryServiceClient,
};
use accord_tests::TestServer;
use tonic::{Code, transport::Channel};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

type Client = RegistryServiceClient<Channel>;

const GOOD: &str = r#"{"type":"object","properties":{"id":{"type":"string"}}}"#;

/// A server holding one good contract, `orders/placed@1.0.0`.
async fn server() -> (TestServer, Client) {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    publish(&mut client, "orders", "placed", GOOD, "1.0.0")
        .await
        .expect("the good contract is published");
    (server, client)
}

async fn publish(
    client: &mut Client,
    component: &str,
    contract: &str,
    schema: &str,
    version: &str,
) -> Result<PublishContractResponse, tonic::Status> {
    client
        .publish_contract(PublishContractRequest {
            component: component.into(),
            contract: contract.into(),
            schema: schema.into(),
            version: version.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// The server still says SERVING and still returns the good contract byte
/// for byte.
async fn still_serving(server: &TestServer, client: &mut Client, after: &str) {
    let status = HealthClient::new(server.channel().await)
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap_or_else(|e| panic!("health check after {after}: {e}"))
        .into_inner()
        .status;
    assert_eq!(status, ServingStatus::Serving as i32, "not SERVING after {after}");
    let got = client
        .get_contract(GetContractRequest {
            component: "orders".into(),
            contract: "placed".into(),
            version: "1.0.0".into(),
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("GetContract after {after}: {e}"))
        .into_inner()
        .contract
        .expect("a contract");
    assert_eq!(got.schema, GOOD, "after {after}");
}

/// Asserts a refusal with `code` whose message contains every one of
/// `needles` (case-insensitive).
fn refused<T: std::fmt::Debug>(what: &str, result: Result<T, tonic::Status>, code: Code, needles: &[&str]) {
    let status = match result {
        Ok(reply) => panic!("{what}: accepted ({reply:?}), expected {code:?}"),
        Err(status) => status,
    };
    assert_eq!(status.code(), code, "{what}: {}", status.message());
    let message = status.message().to_lowercase();
    for needle in needles {
        assert!(
            message.contains(&needle.to_lowercase()),
            "{what}: the message {:?} does not mention {needle:?}",
            status.message()
        );
    }
}

/// PublishContractRequest with the schema as raw bytes, to send what a
/// protobuf `string` may not hold.
#[derive(Clone, PartialEq, prost::Message)]
struct RawPublish {
    #[prost(string, tag = "1")]
    component: String,
    #[prost(string, tag = "2")]
    contract: String,
    #[prost(bytes = "vec", tag = "3")]
    schema: Vec<u8>,
    #[prost(string, tag = "4")]
    version: String,
}

#[tokio::test]
async fn invalid_utf8_is_an_invalid_argument() {
    let (server, mut client) = server().await;
    let mut grpc = tonic::client::Grpc::new(server.channel().await);
    grpc.ready().await.expect("channel ready");
    let codec = tonic_prost::ProstCodec::<RawPublish, PublishContractResponse>::default();
    let request = RawPublish {
        component: "orders".into(),
        contract: "utf8".into(),
        schema: b"{\"type\":\"object\",\"title\":\"\xff\xfe\"}".to_vec(),
        version: "1.0.0".into(),
    };
    let path = http::uri::PathAndQuery::from_static("/accord.v1.RegistryService/PublishContract");
    let result = grpc.unary(tonic::Request::new(request), path, codec).await;
    refused(
        "a schema of invalid UTF-8",
        result,
        Code::InvalidArgument,
        &["utf-8"],
    );
    still_serving(&server, &mut client, "invalid UTF-8").await;
    refused(
        "get of the refused contract",
        client
            .get_contract(GetContractRequest {
                component: "orders".into(),
                contract: "utf8".into(),
                version: String::new(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
        &["orders/utf8"],
    );
}

#[tokio::test]
async fn documents_that_are_not_json_schemas_are_refused_with_the_reason() {
    let (server, mut client) = server().await;
    let cases: &[(&str, &str, &[&str])] = &[
        ("invalid JSON", r#"{"type": "object""#, &["json"]),
        ("trailing garbage", r#"{"type": "object"} x"#, &["json"]),
        ("empty document", "", &["json"]),
        ("not a schema (a number)", "42", &["schema"]),
        (
            "not a schema (wrong type keyword)",
            r#"{"type": "objekt"}"#,
            &["type"],
        ),
        (
            "not a schema (minLength negative)",
            r#"{"type": "string", "minLength": -1}"#,
            &["minlength"],
        ),
        (
            "a $ref cycle",
            r##"{"$ref": "#/definitions/a", "definitions": {"a": {"$ref": "#/definitions/b"}, "b": {"$ref": "#/definitions/a"}}}"##,
            &["$ref"],
        ),
        (
            "a $ref to nothing",
            r##"{"$ref": "#/definitions/missing"}"##,
            &["#/definitions/missing"],
        ),
    ];
    for (what, schema, needles) in cases {
        refused(
            what,
            publish(&mut client, "orders", "hostile", schema, "1.0.0").await,
            Code::InvalidArgument,
            needles,
        );
        // A dry run decides the same way.
        refused(
            &format!("check of {what}"),
            client
                .check_compatibility(CheckCompatibilityRequest {
                    component: "orders".into(),
                    contract: "placed".into(),
                    schema: (*schema).into(),
                    version: String::new(),
                    ..Default::default()
                })
                .await,
            Code::InvalidArgument,
            needles,
        );
        still_serving(&server, &mut client, what).await;
    }
}

#[tokio::test]
async fn nesting_100000_deep_is_refused_without_a_stack_overflow() {
    let (server, mut client) = server().await;
    let depth = 100_000;
    let objects = format!("{}{{}}{}", r#"{"items":"#.repeat(depth), "}".repeat(depth));
    let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    for (what, schema) in [("objects", objects), ("arrays", arrays)] {
        let what = format!("{what} nested {depth} deep");
        let result = publish(&mut client, "orders", "deep", &schema, "1.0.0").await;
        let status = result.expect_err(&what);
        assert!(
            matches!(status.code(), Code::ResourceExhausted | Code::InvalidArgument),
            "{what}: {status:?}"
        );
        let message = status.message().to_lowercase();
        assert!(
            message.contains("depth") || message.contains("deep") || message.contains("recursion"),
            "{what}: the message does not say the nesting is the problem: {}",
            status.message()
        );
        still_serving(&server, &mut client, &what).await;
    }
}

#[tokio::test]
async fn a_remote_ref_is_refused_and_never_fetched() {
    let (server, mut client) = server().await;
    // A listener of our own: any attempt to fetch the reference would
    // connect here.
    let trap = TcpListener::bind("127.0.0.1:0").unwrap();
    trap.set_nonblocking(true).unwrap();
    let url = format!("http://{}/schemas/address.json", trap.local_addr().unwrap());
    let cases = [
        ("an absolute remote $ref", format!(r#"{{"$ref": "{url}"}}"#)),
        (
            "a remote $ref inside properties",
            format!(r#"{{"type": "object", "properties": {{"a": {{"$ref": "{url}#/definitions/x"}}}}}}"#),
        ),
        (
            "a relative $ref against a remote $id",
            format!(
                r#"{{"$id": "{url}", "type": "object", "properties": {{"a": {{"$ref": "other.json"}}}}}}"#
            ),
        ),
    ];
    for (what, schema) in &cases {
        refused(
            what,
            publish(&mut client, "orders", "remote", schema, "1.0.0").await,
            Code::InvalidArgument,
            &["$ref"],
        );
        refused(
            &format!("check of {what}"),
            client
                .check_compatibility(CheckCompatibilityRequest {
                    component: "orders".into(),
                    contract: "placed".into(),
                    schema: schema.clone(),
                    version: String::new(),
                    ..Default::default()
                })
                .await,
            Code::InvalidArgument,
            &["$ref"],
        );
        still_serving(&server, &mut client, what).await;
    }
    // Every call has been answered, so any fetch would have connected by
    // now: the backlog of the trap must be empty.
    match trap.accept() {
        Ok((_, peer)) => panic!("the registry connected to the $ref target from {peer}"),
        Err(e) => assert_eq!(e.kind(), ErrorKind::WouldBlock, "{e}"),
    }
}

#[tokio::test]
async fn a_request_over_the_size_limit_is_resource_exhausted() {
    let (server, mut client) = server().await;
    // Over the default 4 MiB request limit.
    let filler = "x".repeat(5 << 20);
    let schema = format!(r#"{{"type": "object", "description": "{filler}"}}"#);
    refused(
        "a 5 MiB request",
        publish(&mut client, "orders", "huge", &schema, "1.0.0").await,
        Code::ResourceExhausted,
        &[],
    );
    still_serving(&server, &mut client, "a 5 MiB request").await;
    // Under the request limit, over the 1 MiB schema limit.
    let filler = "x".repeat(2 << 20);
    let schema = format!(r#"{{"type": "object", "description": "{filler}"}}"#);
    refused(
        "a 2 MiB schema",
        publish(&mut client, "orders", "huge", &schema, "1.0.0").await,
        Code::ResourceExhausted,
        &["schema"],
    );
    still_serving(&server, &mut client, "a 2 MiB schema").await;
}

#[tokio::test]
async fn bad_names_are_refused_naming_the_name() {
    let (server, mut client) = server().await;
    let long = "a".repeat(65);
    let bad: &[(&str, &str)] = &[
        ("a path", "../x"),
        ("empty", ""),
        ("upper case", "Orders"),
        ("65 bytes", &long),
        ("a control character", "ord\u{1}ers"),
        ("a newline", "orders\n"),
        ("a slash", "a/b"),
        ("a leading dot", ".hidden"),
        ("a space", "or ders"),
        ("non-ASCII", "ordérs"),
    ];
    for (what, name) in bad {
        for (component, contract, role) in [(*name, "placed", "component"), ("orders", *name, "contract")] {
            let what = format!("{role} {what}");
            let result = publish(&mut client, component, contract, GOOD, "1.0.0").await;
            let status = result.expect_err(&what);
            assert_eq!(
                status.code(),
                Code::InvalidArgument,
                "{what}: {}",
                status.message()
            );
            assert!(
                status.message().contains(role),
                "{what}: the message does not say which name: {}",
                status.message()
            );
            let read = client
                .get_contract(GetContractRequest {
                    component: component.into(),
                    contract: contract.into(),
                    version: String::new(),
                    ..Default::default()
                })
                .await;
            refused(&format!("get with {what}"), read, Code::InvalidArgument, &[role]);
        }
        still_serving(&server, &mut client, what).await;
    }
    // 64 bytes is the longest name allowed.
    let longest = "a".repeat(64);
    publish(&mut client, "orders", &longest, GOOD, "1.0.0")
        .await
        .expect("a 64-byte name is accepted");
}

#[tokio::test]
async fn bad_versions_and_requirements_are_refused_or_not_found() {
    let (server, mut client) = server().await;
    for version in [
        "1.0", "v1.0.1", "01.0.1", "1.0.0.1", "1.0.x", "1.0.1-", "-1.0.0", "latest", " 1.0.1", "1.0.1 ",
        "\t1.0.1", "1.0.1\n",
    ] {
        let what = format!("publish of version {version:?}");
        refused(
            &what,
            publish(&mut client, "orders", "placed", GOOD, version).await,
            Code::InvalidArgument,
            &["version", &format!("{version:?}")],
        );
        still_serving(&server, &mut client, &what).await;
    }
    let get = |version: &str| GetContractRequest {
        component: "orders".into(),
        contract: "placed".into(),
        version: version.into(),
        ..Default::default()
    };
    // Whitespace around a version or requirement is refused even when the
    // trimmed text would match: the first publish below stores 1.0.1.
    publish(&mut client, "orders", "placed", GOOD, "1.0.1")
        .await
        .expect("1.0.1 is published");
    for requirement in [
        ">>1",
        "^",
        "1.0.0 ||| 2",
        "~>1.0",
        "=x",
        " 1.0.1",
        "1.0.1 ",
        " ^1",
        "^1\t",
        " ",
    ] {
        let what = format!("requirement {requirement:?}");
        refused(
            &what,
            client.get_contract(get(requirement)).await,
            Code::InvalidArgument,
            &["version", &format!("{requirement:?}")],
        );
        still_serving(&server, &mut client, &what).await;
    }
    for requirement in ["^2", ">=1.1, <2", "2.0.0", "~0.9", "1.0.2"] {
        let what = format!("requirement {requirement:?} that matches nothing");
        refused(
            &what,
            client.get_contract(get(requirement)).await,
            Code::NotFound,
            &["orders/placed"],
        );
        still_serving(&server, &mut client, &what).await;
    }
    refused(
        "an unknown contract",
        client
            .get_contract(GetContractRequest {
                component: "orders".into(),
                contract: "nowhere".into(),
                version: String::new(),
                ..Default::default()
            })
            .await,
        Code::NotFound,
        &["orders/nowhere"],
    );
}
