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
#![deny(missing_docs)]

pub mod client;
pub mod error;
pub mod name;
pub mod types;

pub use accord_compat::{Bump, Direction, Mode, Policy};
pub use client::{Client, ClientBuilder, RetryPolicy};
pub use error::Error;
pub use name::{ContractName, VersionSelector};
pub use semver::{Version, VersionReq};
pub use types::{
    AuditEntry, CheckOutcome, CompatibilityConfig, ComponentSummary, ConfigChange, ConfigSetting,
    ContractSummary, ContractVersion, DiffOutcome, Event, EventKind, Finding, PublishOutcome, Verdict,
    VersionState,
};
