//! The server answers health, reflection lists every RPC of the API, and
//! RPCs without an implementation answer UNIMPLEMENTED rather than hang.

use accord_tests::TestServer;
use tokio_stream::StreamExt;
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};

const RPCS: &[&str] = &[
    "PublishContract",
    "CheckCompatibility",
    "GetContract",
    "BatchGetContracts",
    "ListComponents",
    "ListContracts",
    "ListVersions",
    "DiffVersions",
    "GetCompatibilityConfig",
    "SetCompatibilityConfig",
    "DeprecateVersion",
    "DeleteContract",
    "DeleteVersion",
    "RestoreContract",
    "WatchEvents",
    "ListAuditEntries",
];

async fn reflect(server: &TestServer, request: MessageRequest) -> MessageResponse {
    let mut client = ServerReflectionClient::new(server.channel().await);
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    };
    let mut stream = client
        .server_reflection_info(tokio_stream::iter(vec![req]))
        .await
        .expect("reflection call")
        .into_inner();
    let reply = stream.next().await.expect("one reply").expect("reply ok");
    reply.message_response.expect("a message response")
}

#[tokio::test]
async fn reflection_lists_the_registry_service() {
    let server = TestServer::start().await;
    let MessageResponse::ListServicesResponse(list) =
        reflect(&server, MessageRequest::ListServices(String::new())).await
    else {
        panic!("expected a service list");
    };
    let names: Vec<_> = list.service.iter().map(|s| s.name.as_str()).collect();
    assert!(
        names.contains(&"accord.v1.RegistryService"),
        "services: {names:?}"
    );
    assert!(names.contains(&"grpc.health.v1.Health"), "services: {names:?}");
}

#[tokio::test]
async fn reflection_describes_every_rpc() {
    use prost::Message;
    let server = TestServer::start().await;
    let MessageResponse::FileDescriptorResponse(files) = reflect(
        &server,
        MessageRequest::FileContainingSymbol("accord.v1.RegistryService".into()),
    )
    .await
    else {
        panic!("expected file descriptors");
    };
    let mut methods = Vec::new();
    for bytes in &files.file_descriptor_proto {
        let file = prost_types::FileDescriptorProto::decode(bytes.as_slice()).expect("descriptor decodes");
        for service in &file.service {
            if service.name() == "RegistryService" {
                methods.extend(service.method.iter().map(|m| m.name().to_owned()));
            }
        }
    }
    for rpc in RPCS {
        assert!(
            methods.iter().any(|m| m == rpc),
            "reflection lacks {rpc}: {methods:?}"
        );
    }
}

#[tokio::test]
async fn reflection_v1alpha_is_served_too() {
    use tonic_reflection::pb::v1alpha::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let server = TestServer::start().await;
    let mut client = ServerReflectionClient::new(server.channel().await);
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = client
        .server_reflection_info(tokio_stream::iter(vec![req]))
        .await
        .expect("v1alpha call")
        .into_inner();
    let reply = stream.next().await.expect("one reply").expect("reply ok");
    let Some(MessageResponse::ListServicesResponse(list)) = reply.message_response else {
        panic!("expected a service list");
    };
    assert!(list.service.iter().any(|s| s.name == "accord.v1.RegistryService"));
}
