//! Access control against a real registry with a token file: each role
//! allowed and denied for each kind of call, scopes, missing and wrong
//! tokens, open health and reflection, and reloading of the token file.

use std::path::PathBuf;

use accord_proto::v1::{
    CheckCompatibilityRequest, DeleteVersionRequest, DeprecateVersionRequest, DiffVersionsRequest,
    GetCompatibilityConfigRequest, GetContractRequest, ListAuditEntriesRequest, ListComponentsRequest,
    ListContractsRequest, ListVersionsRequest, PublishContractRequest, RestoreContractRequest,
    SetCompatibilityConfigRequest, WatchEventsRequest, registry_service_client::RegistryServiceClient,
};
use accord_registry::auth::{Role, tokens};
use accord_tests::TestServer;
use tokio_stream::StreamExt;
use tonic::{Code, Request, Status, transport::Channel};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};

type Client = RegistryServiceClient<Channel>;

/// A server whose token file holds an unscoped token per role (named after
/// the role), plus the file's directory.
struct Secured {
    server: TestServer,
    _dir: tempfile::TempDir,
    file: PathBuf,
    reader: String,
    publisher: String,
    admin: String,
}

async fn secured() -> Secured {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokens.json");
    let reader = tokens::create(&file, "reader", Role::Reader, &[]).unwrap();
    let publisher = tokens::create(&file, "publisher", Role::Publisher, &[]).unwrap();
    let admin = tokens::create(&file, "admin", Role::Admin, &[]).unwrap();
    let path = file.clone();
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), move |c| {
        c.security.auth_file = Some(path);
    })
    .await;
    Secured {
        server,
        _dir: dir,
        file,
        reader,
        publisher,
        admin,
    }
}

fn with<T>(token: Option<&str>, message: T) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(token) = token {
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    request
}

fn schema(title: &str) -> String {
    format!(r#"{{"type":"object","title":"{title}"}}"#)
}

async fn publish(
    client: &mut Client,
    token: Option<&str>,
    component: &str,
    contract: &str,
    version: &str,
) -> Result<(), Status> {
    client
        .publish_contract(with(
            token,
            PublishContractRequest {
                component: component.into(),
                contract: contract.into(),
                schema: schema(contract),
                version: version.into(),
            },
        ))
        .await
        .map(drop)
}

async fn get(
    client: &mut Client,
    token: Option<&str>,
    component: &str,
    contract: &str,
) -> Result<(), Status> {
    client
        .get_contract(with(
            token,
            GetContractRequest {
                component: component.into(),
                contract: contract.into(),
                version: String::new(),
                ..Default::default()
            },
        ))
        .await
        .map(drop)
}

/// Every kind of call, made by `token` as `who` (a contract `orders/<who>`
/// is published by the call itself when allowed; reads use `orders/placed`).
async fn every_call(client: &mut Client, token: &str, who: &str) -> Vec<(&'static str, Result<(), Status>)> {
    let t = Some(token);
    let mut out = Vec::new();
    out.push(("get", get(client, t, "orders", "placed").await));
    let list = client
        .list_components(with(t, ListComponentsRequest::default()))
        .await
        .map(drop);
    out.push(("list components", list));
    let contracts = ListContractsRequest {
        component: "orders".into(),
        ..Default::default()
    };
    out.push((
        "list contracts",
        client.list_contracts(with(t, contracts)).await.map(drop),
    ));
    let versions = ListVersionsRequest {
        component: "orders".into(),
        contract: "placed".into(),
        ..Default::default()
    };
    out.push((
        "list versions",
        client.list_versions(with(t, versions)).await.map(drop),
    ));
    let diff = DiffVersionsRequest {
        component: "orders".into(),
        contract: "placed".into(),
        from_version: "1.0.0".into(),
        to_version: "1.1.0".into(),
        ..Default::default()
    };
    out.push(("diff", client.diff_versions(with(t, diff)).await.map(drop)));
    let check = CheckCompatibilityRequest {
        component: "orders".into(),
        contract: "placed".into(),
        schema: schema("placed"),
        version: String::new(),
        ..Default::default()
    };
    out.push((
        "check",
        client.check_compatibility(with(t, check)).await.map(drop),
    ));
    let watch = WatchEventsRequest {
        after_sequence: 0,
        component: "orders".into(),
        ..Default::default()
    };
    out.push(("watch", client.watch_events(with(t, watch)).await.map(drop)));
    let config = GetCompatibilityConfigRequest {
        component: "orders".into(),
        contract: "placed".into(),
        ..Default::default()
    };
    out.push((
        "config get",
        client.get_compatibility_config(with(t, config)).await.map(drop),
    ));
    out.push(("publish", publish(client, t, "orders", who, "1.0.0").await));
    let deprecate = DeprecateVersionRequest {
        component: "orders".into(),
        contract: who.into(),
        version: "1.0.0".into(),
        message: "use 2".into(),
        ..Default::default()
    };
    out.push((
        "deprecate",
        client.deprecate_version(with(t, deprecate)).await.map(drop),
    ));
    let set = SetCompatibilityConfigRequest {
        component: "orders".into(),
        contract: "placed".into(),
        mode: accord_proto::v1::CompatibilityMode::Full as i32,
        ..Default::default()
    };
    out.push((
        "config set",
        client.set_compatibility_config(with(t, set)).await.map(drop),
    ));
    let delete = DeleteVersionRequest {
        component: "orders".into(),
        contract: who.into(),
        version: "1.0.0".into(),
        hard: false,
        ..Default::default()
    };
    out.push(("delete", client.delete_version(with(t, delete)).await.map(drop)));
    let restore = RestoreContractRequest {
        component: "orders".into(),
        contract: who.into(),
        version: "1.0.0".into(),
    };
    out.push((
        "restore",
        client.restore_contract(with(t, restore)).await.map(drop),
    ));
    let audit = client
        .list_audit_entries(with(t, ListAuditEntriesRequest::default()))
        .await
        .map(drop);
    out.push(("audit", audit));
    out
}

fn required(call: &str) -> Role {
    match call {
        "publish" | "deprecate" => Role::Publisher,
        "config set" | "delete" | "restore" | "audit" => Role::Admin,
        _ => Role::Reader,
    }
}

#[tokio::test]
async fn each_role_may_make_its_calls_and_is_denied_the_others_by_name() {
    let s = secured().await;
    let mut client = s.server.client().await;
    let admin = Some(s.admin.as_str());
    publish(&mut client, admin, "orders", "placed", "1.0.0")
        .await
        .unwrap();
    client
        .publish_contract(with(
            admin,
            PublishContractRequest {
                component: "orders".into(),
                contract: "placed".into(),
                schema: r#"{"type":"object","title":"placed","description":"more"}"#.into(),
                version: "1.1.0".into(),
            },
        ))
        .await
        .unwrap();

    for (role, token) in [
        (Role::Reader, &s.reader),
        (Role::Publisher, &s.publisher),
        (Role::Admin, &s.admin),
    ] {
        for (call, result) in every_call(&mut client, token, role.name()).await {
            let needed = required(call);
            if role >= needed {
                assert!(result.is_ok(), "{role} may {call}: {:?}", result.err());
            } else {
                let status = result.expect_err(&format!("{role} may not {call}"));
                assert_eq!(status.code(), Code::PermissionDenied, "{role} {call}: {status:?}");
                assert!(
                    status.message().contains(&format!("the {needed} role")),
                    "{role} {call}: the denial names the role: {}",
                    status.message()
                );
            }
        }
    }
}

#[tokio::test]
async fn a_missing_wrong_or_malformed_token_is_unauthenticated_and_health_stays_open() {
    let s = secured().await;
    let mut client = s.server.client().await;
    let missing = get(&mut client, None, "orders", "placed").await.unwrap_err();
    assert_eq!(missing.code(), Code::Unauthenticated, "{missing:?}");
    assert!(
        missing.message().contains("bearer token"),
        "{}",
        missing.message()
    );
    let wrong = format!("{}0", s.admin);
    let err = get(&mut client, Some(&wrong), "orders", "placed")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    let err = publish(&mut client, Some("accord_nothing"), "orders", "placed", "1.0.0")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    let mut basic = Request::new(ListComponentsRequest::default());
    basic
        .metadata_mut()
        .insert("authorization", format!("Basic {}", s.admin).parse().unwrap());
    let err = client.list_components(basic).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    // The right token is still accepted: the refusals were about the token.
    let err = get(&mut client, Some(&s.reader), "orders", "placed")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");

    let mut health = HealthClient::new(s.server.channel().await);
    let reply = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health needs no token");
    assert_eq!(reply.into_inner().status, 1);

    let mut reflection = ServerReflectionClient::new(s.server.channel().await);
    let ask = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut replies = reflection
        .server_reflection_info(tokio_stream::iter(vec![ask]))
        .await
        .expect("reflection needs no token")
        .into_inner();
    let reply = replies
        .next()
        .await
        .expect("a reply")
        .expect("reflection answers");
    assert!(
        matches!(
            reply.message_response,
            Some(MessageResponse::ListServicesResponse(_))
        ),
        "{reply:?}"
    );
}

#[tokio::test]
async fn scopes_limit_tokens_to_matching_components() {
    let s = secured().await;
    let orders = tokens::create(&s.file, "ci-orders", Role::Publisher, &["orders".into()]).unwrap();
    let billing = tokens::create(&s.file, "ci-billing", Role::Admin, &["billing-*".into()]).unwrap();
    let mut client = s.server.client().await;

    publish(&mut client, Some(&orders), "orders", "placed", "1.0.0")
        .await
        .unwrap();
    let err = publish(&mut client, Some(&orders), "billing-eu", "invoice", "1.0.0")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert!(err.message().contains("\"billing-eu\""), "{}", err.message());
    assert!(err.message().contains("ci-orders"), "{}", err.message());
    // A scope covers reads too.
    let err = get(&mut client, Some(&orders), "billing-eu", "invoice")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");

    publish(&mut client, Some(&billing), "billing-eu", "invoice", "1.0.0")
        .await
        .unwrap();
    publish(&mut client, Some(&billing), "billing-us", "invoice", "1.0.0")
        .await
        .unwrap();
    let err = publish(&mut client, Some(&billing), "billing", "invoice", "1.0.0")
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::PermissionDenied,
        "billing-* does not cover billing: {err:?}"
    );
    let err = publish(&mut client, Some(&billing), "orders", "x", "1.0.0")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");

    // The global settings are no one component's: a scoped admin may not change them.
    let global = SetCompatibilityConfigRequest {
        mode: accord_proto::v1::CompatibilityMode::Full as i32,
        ..Default::default()
    };
    let err = client
        .set_compatibility_config(with(Some(&billing), global.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert!(err.message().contains("unscoped"), "{}", err.message());
    client
        .set_compatibility_config(with(Some(&s.admin), global))
        .await
        .expect("an unscoped admin changes the global settings");

    // A scoped token lists only what it covers, and watches only its components.
    let listed = client
        .list_components(with(Some(&billing), ListComponentsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = listed.components.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["billing-eu", "billing-us"]);
    let all = client
        .list_components(with(Some(&s.reader), ListComponentsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.components.len(), 3);
    // Watching without naming components gives a scoped token the events of
    // its scopes only (not the global settings change, not billing's).
    let mut stream = client
        .watch_events(with(Some(&orders), WatchEventsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    let first = stream.message().await.unwrap().unwrap().event.unwrap();
    assert_eq!((first.component.as_str(), first.sequence), ("orders", 1));
    // Its next event, if it saw any other, would come before this one.
    publish(&mut client, Some(&orders), "orders", "placed", "1.0.1")
        .await
        .unwrap();
    let next = stream.message().await.unwrap().unwrap().event.unwrap();
    assert_eq!(
        (next.component.as_str(), next.version.as_str()),
        ("orders", "1.0.1")
    );
    // Naming a component outside its scopes is refused.
    let err = client
        .watch_events(with(
            Some(&orders),
            WatchEventsRequest {
                components: vec!["billing-eu".into()],
                ..Default::default()
            },
        ))
        .await
        .map(drop)
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
}

#[tokio::test]
async fn the_running_server_sees_new_and_revoked_tokens_on_the_next_call() {
    let s = secured().await;
    let mut client = s.server.client().await;
    let late = tokens::create(&s.file, "late", Role::Publisher, &[]).unwrap();
    publish(&mut client, Some(&late), "orders", "placed", "1.0.0")
        .await
        .expect("a token created after start-up is accepted");
    tokens::revoke(&s.file, "late").unwrap();
    let err = get(&mut client, Some(&late), "orders", "placed")
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::Unauthenticated,
        "a revoked token is refused: {err:?}"
    );
    get(&mut client, Some(&s.reader), "orders", "placed")
        .await
        .expect("other tokens still work");

    // A token file broken while the server runs refuses calls rather than
    // honouring tokens that may have been revoked.
    std::fs::write(&s.file, "{broken").unwrap();
    let err = get(&mut client, Some(&s.reader), "orders", "placed")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    assert!(
        !err.message().contains("tokens.json"),
        "no path leaks: {}",
        err.message()
    );
}

#[tokio::test]
async fn a_server_with_a_missing_token_file_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config = accord_registry::Config::new(listener.local_addr().unwrap(), dir.path().join("data"));
    config.security.auth_file = Some(dir.path().join("absent.json"));
    let err = accord_registry::run(listener, config, std::future::pending())
        .await
        .expect_err("no server without its token file");
    assert!(err.to_string().contains("absent.json"), "{err}");
}
