//! Typed async client of the Accord contract registry: what a service links
//! to in order to fetch its contracts at start-up, keep them current, and
//! validate payloads against them.
//!
//! - [`client`]: [`Client`], [`ClientBuilder`] and [`RetryPolicy`]: one
//!   typed method per RPC of `accord.v1.RegistryService`, with timeouts and
//!   retries of idempotent calls.
//! - [`name`]: [`ContractName`] (`component/contract`) and
//!   [`VersionSelector`] (latest, exact version or semver requirement).
//! - [`types`]: the registry's data as Rust types ([`ContractVersion`],
//!   [`Finding`], [`Event`], [`CheckOutcome`], [`PublishOutcome`]…).
//! - [`error`]: [`Error`], one enum for every failure; a refused publish is
//!   [`Error::Incompatible`] with its findings decoded.
//! - [`fetch`]: [`Client::fetch_contracts`], the start-up fetch with its
//!   fallback to last good copies, giving a [`ContractSet`]; it can
//!   register the service as a consumer of what it fetched
//!   ([`ClientBuilder::register_as`]).
//! - [`consumers`]: consumers and waivers ([`Consumer`], [`ConsumerImpact`],
//!   [`Waiver`]…) and their calls ([`Client::register_consumer`],
//!   [`Client::check_consumer`], [`Client::create_waiver`]…).
//! - [`cache`]: [`ContractCache`], the on-disk copies, written atomically
//!   and verified on read.
//! - [`live`]: [`LiveContracts`], a set kept current through the event
//!   stream.
//! - [`validate`]: [`Validator`], a contract compiled once to validate
//!   payloads, every error with its path.
//!
//! # Start-up fetch
//!
//! ```no_run
//! # async fn example() -> Result<(), accord_client::Error> {
//! use accord_client::{ClientBuilder, LiveContracts, Validator};
//!
//! let client = ClientBuilder::new("http://registry.internal:50051")
//!     .cache_dir("/var/cache/orders/contracts")
//!     .build()?;
//! let wanted = vec![("orders/order-placed".parse()?, "^1.2".parse()?)];
//! // Fresh copies when the registry answers; the last good ones, marked
//! // stale, when it cannot be reached; an error naming the contracts when
//! // neither exists.
//! let contracts = client.fetch_contracts(&wanted).await?;
//! let placed = contracts.get(&"orders/order-placed".parse()?).expect("asked for");
//! let validator = Validator::compile(&placed.contract)?;
//! validator.validate(&serde_json::json!({"id": "o-1"}))?;
//! // Keep them current while the service runs.
//! let live = LiveContracts::start(client, contracts);
//! # drop(live); Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod cache;
pub mod client;
pub mod consumers;
pub mod error;
pub mod fetch;
pub mod live;
pub mod name;
pub mod types;
pub mod validate;

pub use accord_compat::{Bump, Direction, Mode, Policy};
pub use cache::{CachedCopy, ContractCache};
pub use client::{Client, ClientBuilder, RetryPolicy};
pub use consumers::{
    Consumer, ConsumerBreaks, ConsumerCheck, ConsumerImpact, ImpactOutcome, Registration, VersionCheck,
    Waiver, WaiverRequest, WaiverState,
};
pub use error::Error;
pub use fetch::{ContractSet, FetchedContract};
pub use live::{LiveContracts, LiveStatus};
pub use name::{ContractName, VersionSelector, parse_requirement};
pub use semver::{Version, VersionReq};
pub use types::{
    AuditEntry, CheckOutcome, CompatibilityConfig, ComponentSummary, ConfigChange, ConfigSetting,
    ContractSummary, ContractVersion, DiffOutcome, Event, EventKind, Finding, PublishOutcome, Refusal,
    Verdict, VersionState,
};
pub use validate::{ValidationIssue, Validator};
