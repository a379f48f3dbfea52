//! Known contracts for the tests of the HTTP port (metrics, web view), and
//! the tokens to reach a registry that requires them.
//!
//! [`seed`] publishes, through the gRPC API:
//! - `orders/order-placed` 1.0.0, then 1.1.0 (drops `required`: a
//!   compatible, minor change), then 2.0.0 (`amount` from `number` to
//!   `integer`: a break, announced by the major version); 1.0.0 is then
//!   deprecated. Every version's `description` holds a `<script>` element,
//!   which the web view must show as text.
//! - `billing/invoice` 1.0.0.

use std::path::PathBuf;

use accord_proto::v1::{
    DeprecateVersionRequest, PublishContractRequest, PublishContractResponse,
    registry_service_client::RegistryServiceClient,
};
use accord_registry::auth::{Role, tokens};
use tonic::{Request, Status, transport::Channel};

/// The hostile part of every `orders/order-placed` description.
pub const HOSTILE: &str = "<script>document.title='pwned'</script>";

/// The deprecation message of `orders/order-placed` 1.0.0.
pub const DEPRECATION: &str = "use 2.x: amounts are whole cents";

/// `orders/order-placed` with `amount` of type `amount_type`, `id` required or not.
pub fn order_placed(amount_type: &str, id_required: bool) -> String {
    let required = if id_required { r#","required":["id"]"# } else { "" };
    format!(
        r#"{{"type":"object","description":"Emitted when an order is placed. {HOSTILE}","properties":{{"id":{{"type":"string"}},"amount":{{"type":"{amount_type}"}}}}{required}}}"#
    )
}

/// `billing/invoice` 1.0.0.
pub const INVOICE: &str = r#"{"type":"object","properties":{"number":{"type":"string"}}}"#;

/// A token file with an unscoped reader (`reader`), a publisher (`ci`,
/// which publishes the seed), and a reader limited to `orders`
/// (`orders-reader`).
#[derive(Debug)]
pub struct Tokens {
    _dir: tempfile::TempDir,
    /// The token file.
    pub file: PathBuf,
    /// Unscoped reader.
    pub reader: String,
    /// Unscoped publisher, named `ci`.
    pub publisher: String,
    /// Reader of `orders` only.
    pub orders_reader: String,
}

impl Tokens {
    /// Creates the file and its tokens.
    pub fn create() -> Self {
        let dir = tempfile::tempdir().expect("a directory for the token file");
        let file = dir.path().join("tokens.json");
        let reader = tokens::create(&file, "reader", Role::Reader, &[]).expect("create a token");
        let publisher = tokens::create(&file, "ci", Role::Publisher, &[]).expect("create a token");
        let orders_reader = tokens::create(&file, "orders-reader", Role::Reader, &["orders".to_owned()])
            .expect("create a token");
        Self {
            _dir: dir,
            file,
            reader,
            publisher,
            orders_reader,
        }
    }
}

/// `message` with `Authorization: Bearer token`, when there is a token.
pub fn with_token<T>(token: Option<&str>, message: T) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(token) = token {
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("a valid header"),
        );
    }
    request
}

/// Publishes `schema` as `component/contract` at `version` (empty: assigned).
pub async fn publish(
    client: &mut RegistryServiceClient<Channel>,
    token: Option<&str>,
    name: (&str, &str),
    schema: &str,
    version: &str,
) -> Result<PublishContractResponse, Status> {
    client
        .publish_contract(with_token(
            token,
            PublishContractRequest {
                component: name.0.into(),
                contract: name.1.into(),
                schema: schema.into(),
                version: version.into(),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

/// Publishes the known contracts (see the module docs) with `token`.
pub async fn seed(client: &mut RegistryServiceClient<Channel>, token: Option<&str>) {
    let placed = ("orders", "order-placed");
    for (schema, version) in [
        (order_placed("number", true), "1.0.0"),
        (order_placed("number", false), "1.1.0"),
        (order_placed("integer", false), "2.0.0"),
    ] {
        publish(client, token, placed, &schema, version)
            .await
            .unwrap_or_else(|e| panic!("publish orders/order-placed@{version}: {e}"));
    }
    client
        .deprecate_version(with_token(
            token,
            DeprecateVersionRequest {
                component: "orders".into(),
                contract: "order-placed".into(),
                version: "1.0.0".into(),
                message: DEPRECATION.into(),
                ..Default::default()
            },
        ))
        .await
        .expect("deprecate orders/order-placed@1.0.0");
    publish(client, token, ("billing", "invoice"), INVOICE, "1.0.0")
        .await
        .expect("publish billing/invoice@1.0.0");
}
