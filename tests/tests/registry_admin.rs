//! Settings, deprecation, deletion, restoration and the event stream against
//! a real registry.

use accord_proto::v1::{
    CompatibilityMode, CompatibilityPolicy, DeleteContractRequest, DeleteVersionRequest,
    DeprecateVersionRequest, EventKind, GetCompatibilityConfigRequest, GetContractRequest,
    ListComponentsRequest, ListVersionsRequest, PublishContractRequest, RestoreContractRequest,
    SetCompatibilityConfigRequest, VersionState, WatchEventsRequest,
    registry_service_client::RegistryServiceClient,
};
use accord_tests::TestServer;
use tokio_stream::StreamExt;
use tonic::{Code, transport::Channel};

type Client = RegistryServiceClient<Channel>;

fn schema(title: &str) -> String {
    format!(r#"{{"type":"object","title":"{title}"}}"#)
}

async fn publish(client: &mut Client, contract: &str, title: &str, version: &str) {
    client
        .publish_contract(PublishContractRequest {
            component: "orders".into(),
            contract: contract.into(),
            schema: schema(title),
            version: version.into(),
        })
        .await
        .unwrap_or_else(|e| panic!("publish {contract}@{version}: {e}"));
}

async fn get(
    client: &mut Client,
    contract: &str,
    version: &str,
) -> Result<accord_proto::v1::ContractVersion, tonic::Status> {
    Ok(client
        .get_contract(GetContractRequest {
            component: "orders".into(),
            contract: contract.into(),
            version: version.into(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .contract
        .unwrap_or_default())
}

fn config_request(
    contract: &str,
    mode: CompatibilityMode,
    policy: CompatibilityPolicy,
) -> SetCompatibilityConfigRequest {
    SetCompatibilityConfigRequest {
        component: if contract.is_empty() {
            String::new()
        } else {
            "orders".into()
        },
        contract: contract.into(),
        mode: mode as i32,
        policy: policy as i32,
        clear: false,
        ..Default::default()
    }
}

#[tokio::test]
async fn settings_default_to_backward_strict_and_a_contract_overrides_the_global_ones() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    let get_config = |contract: &str| GetCompatibilityConfigRequest {
        component: if contract.is_empty() {
            String::new()
        } else {
            "orders".into()
        },
        contract: contract.into(),
        ..Default::default()
    };
    let global = client
        .get_compatibility_config(get_config(""))
        .await
        .unwrap()
        .into_inner();
    let config = global.config.unwrap();
    assert_eq!(config.mode, CompatibilityMode::Backward as i32);
    assert_eq!(config.policy, CompatibilityPolicy::Strict as i32);

    // The global mode changes; the policy is left as it was.
    client
        .set_compatibility_config(config_request(
            "",
            CompatibilityMode::Full,
            CompatibilityPolicy::Unspecified,
        ))
        .await
        .unwrap();
    let inherited = client
        .get_compatibility_config(get_config("placed"))
        .await
        .unwrap()
        .into_inner();
    assert!(inherited.inherited);
    assert_eq!(inherited.config.unwrap().mode, CompatibilityMode::Full as i32);

    let own = client
        .set_compatibility_config(config_request(
            "placed",
            CompatibilityMode::Unspecified,
            CompatibilityPolicy::Lenient,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!own.inherited);
    let config = own.config.unwrap();
    assert_eq!(config.mode, CompatibilityMode::Full as i32);
    assert_eq!(config.policy, CompatibilityPolicy::Lenient as i32);

    client
        .set_compatibility_config(config_request(
            "",
            CompatibilityMode::None,
            CompatibilityPolicy::Unspecified,
        ))
        .await
        .unwrap();
    let own = client
        .get_compatibility_config(get_config("placed"))
        .await
        .unwrap()
        .into_inner();
    // The contract set only its policy: its mode follows the global one,
    // its own policy stays.
    let config = own.config.unwrap();
    assert_eq!(
        config.mode,
        CompatibilityMode::None as i32,
        "the unset mode follows the global one"
    );
    assert_eq!(
        config.policy,
        CompatibilityPolicy::Lenient as i32,
        "the contract's own policy wins"
    );
    assert!(!own.inherited && own.mode_inherited && !own.policy_inherited);

    let cleared = client
        .set_compatibility_config(SetCompatibilityConfigRequest {
            component: "orders".into(),
            contract: "placed".into(),
            clear: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(cleared.inherited);
    assert_eq!(cleared.config.unwrap().mode, CompatibilityMode::None as i32);

    let err = client
        .get_compatibility_config(GetCompatibilityConfigRequest {
            component: "orders".into(),
            contract: String::new(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let err = client
        .set_compatibility_config(SetCompatibilityConfigRequest {
            mode: 42,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let err = client
        .set_compatibility_config(SetCompatibilityConfigRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "nothing to change");
}

#[tokio::test]
async fn a_deprecated_version_is_still_served_with_its_message() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    publish(&mut client, "placed", "a", "1.0.0").await;
    let reply = client
        .deprecate_version(DeprecateVersionRequest {
            component: "orders".into(),
            contract: "placed".into(),
            version: "1.0.0".into(),
            message: "use orders/placed-v2".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .contract
        .unwrap();
    assert_eq!(reply.state, VersionState::Deprecated as i32);
    let got = get(&mut client, "placed", "").await.unwrap();
    assert_eq!(got.state, VersionState::Deprecated as i32);
    assert_eq!(got.deprecation_message, "use orders/placed-v2");
    assert!(got.deprecated_at.is_some());

    let err = client
        .deprecate_version(DeprecateVersionRequest {
            component: "orders".into(),
            contract: "placed".into(),
            version: "9.0.0".into(),
            message: String::new(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(err.message().contains("orders/placed@9.0.0"), "{}", err.message());
}

#[tokio::test]
async fn a_soft_delete_hides_and_a_restore_brings_back() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    publish(&mut client, "placed", "a", "1.0.0").await;
    publish(&mut client, "placed", "b", "1.0.1").await;

    let deleted = client
        .delete_version(DeleteVersionRequest {
            component: "orders".into(),
            contract: "placed".into(),
            version: "1.0.1".into(),
            hard: false,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(deleted.version, "1.0.1");
    assert_eq!(get(&mut client, "placed", "").await.unwrap().version, "1.0.0");
    assert_eq!(
        get(&mut client, "placed", "1.0.1").await.unwrap_err().code(),
        Code::NotFound
    );
    let listed = |include_deleted| ListVersionsRequest {
        component: "orders".into(),
        contract: "placed".into(),
        include_deleted,
        ..Default::default()
    };
    let visible = client
        .list_versions(listed(false))
        .await
        .unwrap()
        .into_inner()
        .versions;
    assert_eq!(visible.len(), 1);
    let all = client
        .list_versions(listed(true))
        .await
        .unwrap()
        .into_inner()
        .versions;
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].state, VersionState::Deleted as i32);
    // The number stays taken.
    let err = client
        .publish_contract(PublishContractRequest {
            component: "orders".into(),
            contract: "placed".into(),
            schema: schema("b"),
            version: "1.0.1".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);

    let whole = client
        .delete_contract(DeleteContractRequest {
            component: "orders".into(),
            contract: "placed".into(),
            hard: false,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(whole.versions, ["1.0.0"]);
    assert_eq!(
        get(&mut client, "placed", "").await.unwrap_err().code(),
        Code::NotFound
    );
    let components = client
        .list_components(ListComponentsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .components;
    assert!(components.is_empty(), "{components:?}");

    let restored = client
        .restore_contract(RestoreContractRequest {
            component: "orders".into(),
            contract: "placed".into(),
            version: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(restored.versions, ["1.0.0", "1.0.1"]);
    assert_eq!(get(&mut client, "placed", "").await.unwrap().version, "1.0.1");
    let err = client
        .restore_contract(RestoreContractRequest {
            component: "orders".into(),
            contract: "placed".into(),
            version: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "nothing left to restore");
}

#[tokio::test]
async fn a_hard_delete_erases_for_good() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    publish(&mut client, "placed", "a", "1.0.0").await;
    publish(&mut client, "placed", "b", "1.0.1").await;
    client
        .delete_version(DeleteVersionRequest {
            component: "orders".into(),
            contract: "placed".into(),
            version: "1.0.1".into(),
            hard: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let err = client
        .restore_contract(RestoreContractRequest {
            component: "orders".into(),
            contract: "placed".into(),
            version: "1.0.1".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    // Erased, but the number stays taken: neither the same content nor
    // another may be published as 1.0.1 again.
    for title in ["b", "c"] {
        let err = client
            .publish_contract(PublishContractRequest {
                component: "orders".into(),
                contract: "placed".into(),
                schema: schema(title),
                version: "1.0.1".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::AlreadyExists, "{err:?}");
        assert!(err.message().contains("hard-deleted"), "{}", err.message());
    }
    let err = get(&mut client, "placed", "1.0.1").await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(err.message().contains("never reused"), "{}", err.message());
    client
        .delete_contract(DeleteContractRequest {
            component: "orders".into(),
            contract: "placed".into(),
            hard: true,
            ..Default::default()
        })
        .await
        .unwrap();
    // What is left are tombstones: listed with the deleted versions, never served.
    let listed = client
        .list_versions(ListVersionsRequest {
            component: "orders".into(),
            contract: "placed".into(),
            include_deleted: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.versions.len(), 2);
    assert!(
        listed
            .versions
            .iter()
            .all(|v| v.state == accord_proto::v1::VersionState::Erased as i32 && v.schema.is_empty())
    );
    let err = client
        .list_versions(ListVersionsRequest {
            component: "orders".into(),
            contract: "placed".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = client
        .delete_contract(DeleteContractRequest {
            component: "orders".into(),
            contract: "placed".into(),
            hard: true,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}

#[tokio::test]
async fn every_change_is_an_event_in_sequence() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    publish(&mut client, "placed", "a", "1.0.0").await;
    client
        .deprecate_version(DeprecateVersionRequest {
            component: "orders".into(),
            contract: "placed".into(),
            version: "1.0.0".into(),
            message: "old".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    client
        .delete_version(DeleteVersionRequest {
            component: "orders".into(),
            contract: "placed".into(),
            version: "1.0.0".into(),
            hard: false,
            ..Default::default()
        })
        .await
        .unwrap();
    client
        .restore_contract(RestoreContractRequest {
            component: "orders".into(),
            contract: "placed".into(),
            version: "1.0.0".into(),
        })
        .await
        .unwrap();
    client
        .set_compatibility_config(config_request(
            "placed",
            CompatibilityMode::Forward,
            CompatibilityPolicy::Unspecified,
        ))
        .await
        .unwrap();

    let mut stream = client
        .watch_events(WatchEventsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let mut events = Vec::new();
    for _ in 0..5 {
        events.push(stream.next().await.unwrap().unwrap().event.unwrap());
    }
    let kinds: Vec<_> = events.iter().map(|e| (e.sequence, e.kind)).collect();
    assert_eq!(
        kinds,
        [
            (1, EventKind::Published as i32),
            (2, EventKind::Deprecated as i32),
            (3, EventKind::Deleted as i32),
            (4, EventKind::Restored as i32),
            (5, EventKind::ConfigChanged as i32),
        ]
    );
    assert_eq!(events[0].version, "1.0.0");
    assert_eq!(events[0].fingerprint.len(), 64);
    assert_eq!(events[1].message, "old");
    assert!(!events[2].hard);
    assert_eq!(events[4].config.unwrap().mode, CompatibilityMode::Forward as i32);
}

#[tokio::test]
async fn a_watcher_resumes_after_a_reconnect_and_misses_nothing() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    publish(&mut client, "placed", "a", "1.0.0").await;

    let mut stream = client
        .watch_events(WatchEventsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let first = stream.next().await.unwrap().unwrap().event.unwrap();
    assert_eq!(first.sequence, 1);
    // A live event reaches a connected watcher.
    publish(&mut client, "placed", "b", "1.0.1").await;
    let second = stream.next().await.unwrap().unwrap().event.unwrap();
    assert_eq!((second.sequence, second.version.as_str()), (2, "1.0.1"));
    drop(stream);

    // Changes while disconnected, one in another component.
    publish(&mut client, "placed", "c", "1.0.2").await;
    client
        .publish_contract(PublishContractRequest {
            component: "billing".into(),
            contract: "invoiced".into(),
            schema: schema("x"),
            version: "1.0.0".into(),
        })
        .await
        .unwrap();
    publish(&mut client, "placed", "d", "1.0.3").await;

    let mut resumed = client
        .watch_events(WatchEventsRequest {
            after_sequence: second.sequence,
            component: "orders".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let a = resumed.next().await.unwrap().unwrap().event.unwrap();
    let b = resumed.next().await.unwrap().unwrap().event.unwrap();
    assert_eq!((a.sequence, a.version.as_str()), (3, "1.0.2"));
    assert_eq!(
        (b.sequence, b.version.as_str()),
        (5, "1.0.3"),
        "billing's event 4 is filtered out"
    );
    // And it goes on live after the replay.
    publish(&mut client, "placed", "e", "1.0.4").await;
    let c = resumed.next().await.unwrap().unwrap().event.unwrap();
    assert_eq!((c.sequence, c.version.as_str()), (6, "1.0.4"));
}

#[tokio::test]
async fn watch_streams_end_cleanly_when_the_server_stops_and_resume_after_a_restart() {
    let server = TestServer::start().await;
    let mut client = server.client().await;
    publish(&mut client, "placed", "a", "1.0.0").await;
    let mut stream = client
        .watch_events(WatchEventsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stream.next().await.unwrap().unwrap().event.unwrap().sequence, 1);
    let dir = server.stop().await;
    // The stream ended rather than hanging the shutdown.
    assert!(stream.next().await.is_none_or(|item| item.is_err()));

    let server = TestServer::start_in(dir).await;
    let mut client = server.client().await;
    publish(&mut client, "placed", "b", "1.0.1").await;
    let mut stream = client
        .watch_events(WatchEventsRequest {
            after_sequence: 1,
            component: String::new(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let event = stream.next().await.unwrap().unwrap().event.unwrap();
    assert_eq!((event.sequence, event.version.as_str()), (2, "1.0.1"));
}
