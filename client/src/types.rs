//! The registry's data as Rust types, converted from the wire messages.
//!
//! Conversions are strict: an enum value or a version the client cannot read
//! is an [`Error::InvalidResponse`], never a silent default.

use std::time::SystemTime;

use accord_compat::{Bump, Direction, Draft, Mode, Policy};
use accord_proto::{v1 as pb, wire};
use semver::Version;
use serde::{Deserialize, Serialize};

use crate::{
    ContractName, Error,
    consumers::{ConsumerBreaks, ConsumerImpact, impacts_from_wire},
    name::parse_wire_version,
};

pub(crate) fn bad(message: String) -> Error {
    Error::InvalidResponse { message }
}

/// Reads a [`Bump`] from its wire value.
pub(crate) fn bump_from_wire(value: i32) -> Result<Bump, Error> {
    wire::bump_from_wire(value)
        .map_err(|e| bad(e.to_string()))?
        .ok_or_else(|| bad(format!("unknown bump value {value}")))
}

/// The lowercase name of a bump, e.g. `major`.
pub fn bump_name(bump: Bump) -> &'static str {
    match bump {
        Bump::None => "none",
        Bump::Patch => "patch",
        Bump::Minor => "minor",
        Bump::Major => "major",
    }
}

/// Reads an optional [`Bump`]: unspecified is `None`.
fn opt_bump_from_wire(value: i32) -> Result<Option<Bump>, Error> {
    wire::bump_from_wire(value).map_err(|e| bad(e.to_string()))
}

pub(crate) fn mode_from_wire(value: i32) -> Result<Mode, Error> {
    wire::mode_from_wire(value)
        .map_err(|e| bad(e.to_string()))?
        .ok_or_else(|| bad(format!("unknown compatibility mode value {value}")))
}

pub(crate) fn mode_to_wire(mode: Mode) -> i32 {
    wire::mode_to_wire(mode) as i32
}

pub(crate) fn policy_from_wire(value: i32) -> Result<Policy, Error> {
    wire::policy_from_wire(value)
        .map_err(|e| bad(e.to_string()))?
        .ok_or_else(|| bad(format!("unknown compatibility policy value {value}")))
}

pub(crate) fn policy_to_wire(policy: Policy) -> i32 {
    wire::policy_to_wire(policy) as i32
}

fn direction_from_wire(value: i32) -> Result<Direction, Error> {
    wire::direction_from_wire(value).map_err(|e| bad(e.to_string()))
}

pub(crate) fn time_from_wire(t: Option<prost_types::Timestamp>) -> Option<SystemTime> {
    wire::timestamp_to_time(t)
}

pub(crate) fn time_to_wire(t: SystemTime) -> prost_types::Timestamp {
    wire::time_to_timestamp(t)
}

pub(crate) fn name_from_wire(component: &str, contract: &str) -> Result<ContractName, Error> {
    ContractName::new(component, contract)
        .map_err(|e| bad(format!("contract name {component}/{contract}: {e}")))
}

fn version_from_wire(text: &str, what: &str) -> Result<Version, Error> {
    parse_wire_version(text, what)?.ok_or_else(|| bad(format!("{what} is missing")))
}

pub(crate) fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// A contract's compatibility settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CompatibilityConfig {
    /// What readers may rely on.
    pub mode: Mode,
    /// Which differences count as compatible.
    pub policy: Policy,
}

impl CompatibilityConfig {
    pub(crate) fn from_wire(c: pb::CompatibilityConfig) -> Result<Self, Error> {
        Ok(Self {
            mode: mode_from_wire(c.mode)?,
            policy: policy_from_wire(c.policy)?,
        })
    }
}

/// The compatibility settings in force, and where they come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigSetting {
    /// The settings in force.
    pub config: CompatibilityConfig,
    /// True when the contract has no settings of its own and inherits the
    /// global ones.
    pub inherited: bool,
    /// True when the mode is the global one (the contract does not set it).
    pub mode_inherited: bool,
    /// True when the policy is the global one (the contract does not set it).
    pub policy_inherited: bool,
    /// What a break of a registered consumer does to a publish.
    pub consumer_breaks: ConsumerBreaks,
    /// True when that is the global setting (the contract does not set it).
    pub consumer_breaks_inherited: bool,
}

/// A change of compatibility settings: fields left `None` are kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConfigChange {
    /// The new mode.
    pub mode: Option<Mode>,
    /// The new policy.
    pub policy: Option<Policy>,
    /// What a break of a registered consumer does now.
    pub consumer_breaks: Option<ConsumerBreaks>,
    /// Drop the contract's own settings so it inherits the global ones again.
    pub clear: bool,
}

/// The publish decision of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A new version would be stored.
    Accepted,
    /// The same version with the same content exists: an idempotent success.
    AlreadyPublished,
    /// The change breaks readers and the bump does not announce it.
    Incompatible,
    /// The version is not above the latest one of its line, or the bump is
    /// smaller than required.
    VersionTooLow,
    /// The version exists with other content.
    VersionExists,
}

impl Verdict {
    pub(crate) fn from_wire(value: i32) -> Result<Self, Error> {
        match pb::Verdict::try_from(value) {
            Ok(pb::Verdict::Accepted) => Ok(Verdict::Accepted),
            Ok(pb::Verdict::AlreadyPublished) => Ok(Verdict::AlreadyPublished),
            Ok(pb::Verdict::Incompatible) => Ok(Verdict::Incompatible),
            Ok(pb::Verdict::VersionTooLow) => Ok(Verdict::VersionTooLow),
            Ok(pb::Verdict::VersionExists) => Ok(Verdict::VersionExists),
            _ => Err(bad(format!("unknown verdict value {value}"))),
        }
    }

    /// The snake_case name, e.g. `version_too_low`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Accepted => "accepted",
            Verdict::AlreadyPublished => "already_published",
            Verdict::Incompatible => "incompatible",
            Verdict::VersionTooLow => "version_too_low",
            Verdict::VersionExists => "version_exists",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One difference between two schemas, as the registry reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule id, e.g. `MAX_LENGTH_DECREASED`.
    pub rule_id: String,
    /// JSON pointer in the older schema (`#/properties/a`).
    pub old_path: String,
    /// JSON pointer in the newer schema.
    pub new_path: String,
    /// One line that says what changed.
    pub message: String,
    /// Whether the difference keeps compatibility in `direction`.
    pub compatible: bool,
    /// The direction in which it was computed.
    pub direction: Direction,
    /// The earlier version this finding is against, when known.
    pub against_version: Option<Version>,
    /// A document that shows the break, when one could be built.
    pub witness: Option<serde_json::Value>,
    /// Why a breaking finding has no witness, when it has none; `None`
    /// from a registry that does not say.
    pub witness_note: Option<String>,
}

impl Finding {
    pub(crate) fn from_wire(f: pb::Finding) -> Result<Self, Error> {
        let witness = if f.witness.is_empty() {
            None
        } else {
            Some(
                serde_json::from_str(&f.witness)
                    .map_err(|e| bad(format!("witness of finding {} is not JSON: {e}", f.rule_id)))?,
            )
        };
        Ok(Self {
            direction: direction_from_wire(f.direction)?,
            against_version: parse_wire_version(&f.against_version, "against_version")?,
            rule_id: f.rule_id,
            old_path: f.old_path,
            new_path: f.new_path,
            message: f.message,
            compatible: f.compatible,
            witness,
            witness_note: Some(f.witness_note).filter(|n| !n.is_empty()),
        })
    }
}

pub(crate) fn findings_from_wire(fs: Vec<pb::Finding>) -> Result<Vec<Finding>, Error> {
    fs.into_iter().map(Finding::from_wire).collect()
}

fn checked_against_from_wire(versions: &[String]) -> Result<Vec<Version>, Error> {
    versions
        .iter()
        .map(|v| version_from_wire(v, "checked_against version"))
        .collect()
}

/// The lifecycle state of a stored version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VersionState {
    /// Served normally.
    Active,
    /// Still served, flagged with a message.
    Deprecated,
    /// Soft-deleted: hidden from reads, restorable.
    Deleted,
    /// Hard-deleted: the schema is erased; the version number stays taken.
    Erased,
}

impl VersionState {
    fn from_wire(value: i32) -> Result<Self, Error> {
        match pb::VersionState::try_from(value) {
            Ok(pb::VersionState::Active) => Ok(VersionState::Active),
            Ok(pb::VersionState::Deprecated) => Ok(VersionState::Deprecated),
            Ok(pb::VersionState::Deleted) => Ok(VersionState::Deleted),
            Ok(pb::VersionState::Erased) => Ok(VersionState::Erased),
            _ => Err(bad(format!("unknown version state value {value}"))),
        }
    }
}

/// One stored version of a contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractVersion {
    /// Which contract.
    pub name: ContractName,
    /// Which version.
    pub version: Version,
    /// SHA-256 (hex) of the schema's canonical JSON.
    pub fingerprint: String,
    /// The JSON Schema as published; empty in listings and publish answers.
    pub schema: String,
    /// Active, deprecated or deleted.
    pub state: VersionState,
    /// Why it was deprecated and what to use instead.
    pub deprecation_message: Option<String>,
    /// When it was published.
    pub created_at: Option<SystemTime>,
    /// When it was deprecated.
    pub deprecated_at: Option<SystemTime>,
    /// When it was soft-deleted.
    pub deleted_at: Option<SystemTime>,
    /// The bump it made over its predecessor (`None` for a first version
    /// when the registry does not say).
    pub bump: Option<Bump>,
    /// The draft the schema was read under when it was published (its
    /// `$schema`, or the registry's default draft then); `None` when the
    /// registry did not record it.
    pub draft: Option<Draft>,
    /// The token that published it; `None` when the registry did not record it.
    pub published_by: Option<String>,
}

impl ContractVersion {
    pub(crate) fn from_wire(c: pb::ContractVersion) -> Result<Self, Error> {
        Ok(Self {
            name: name_from_wire(&c.component, &c.contract)?,
            version: version_from_wire(&c.version, "contract version")?,
            state: VersionState::from_wire(c.state)?,
            bump: opt_bump_from_wire(c.bump)?,
            fingerprint: c.fingerprint,
            schema: c.schema,
            deprecation_message: non_empty(c.deprecation_message),
            created_at: time_from_wire(c.created_at),
            deprecated_at: time_from_wire(c.deprecated_at),
            deleted_at: time_from_wire(c.deleted_at),
            draft: wire::draft_from_wire(&c.draft).map_err(|e| bad(e.to_string()))?,
            published_by: non_empty(c.published_by),
        })
    }

    pub(crate) fn from_wire_opt(c: Option<pb::ContractVersion>) -> Result<Self, Error> {
        Self::from_wire(c.ok_or_else(|| bad("the answer has no contract".into()))?)
    }

    /// The parsed schema document.
    pub fn schema_json(&self) -> Result<serde_json::Value, Error> {
        serde_json::from_str(&self.schema).map_err(|e| Error::InvalidSchema {
            contract: format!("{}@{}", self.name, self.version),
            message: format!("the schema is not JSON: {e}"),
        })
    }
}

/// The answer to a successful publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishOutcome {
    /// The stored version (its `schema` is empty: the caller has it).
    pub contract: ContractVersion,
    /// False when the same version with the same content already existed.
    pub created: bool,
    /// The version this one was compared with.
    pub predecessor_version: Option<Version>,
    /// The differences from the predecessor(s).
    pub findings: Vec<Finding>,
    /// The bump the change requires.
    pub required_bump: Bump,
    /// The sequence of the event the publish produced (or of the state it
    /// rested on): reads that pass it see the publish on any replica.
    pub sequence: u64,
    /// Every version the schema was checked against.
    pub checked_against: Vec<Version>,
    /// A sentence that explains the decision (as a check would word it);
    /// empty from a registry that does not send one.
    pub message: String,
    /// The settings the check ran under; `None` from a registry that does
    /// not send them.
    pub config: Option<CompatibilityConfig>,
    /// What the version does to each registered consumer of the contract.
    pub consumer_impacts: Vec<ConsumerImpact>,
    /// What the caller should know about how the schema was read and
    /// compared (see [`CheckOutcome::warnings`]).
    pub warnings: Vec<String>,
}

impl PublishOutcome {
    pub(crate) fn from_wire(r: pb::PublishContractResponse) -> Result<Self, Error> {
        Ok(Self {
            contract: ContractVersion::from_wire_opt(r.contract)?,
            created: r.created,
            predecessor_version: parse_wire_version(&r.predecessor_version, "predecessor version")?,
            findings: findings_from_wire(r.findings)?,
            required_bump: bump_from_wire(r.required_bump)?,
            sequence: r.sequence,
            checked_against: checked_against_from_wire(&r.checked_against)?,
            message: r.message,
            config: r.config.map(CompatibilityConfig::from_wire).transpose()?,
            consumer_impacts: impacts_from_wire(r.consumer_impacts)?,
            warnings: r.warnings,
        })
    }
}

/// Why the registry refused a publish, and what the change needs: the
/// `CompatibilityViolation` details of [`Error::Incompatible`] and of an
/// [`Error::AlreadyExists`] that carries them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Why it was refused.
    pub verdict: Verdict,
    /// The registry's sentence explaining it.
    pub message: String,
    /// Every difference found, incompatible ones included.
    pub findings: Vec<Finding>,
    /// The smallest bump the change requires.
    pub required_bump: Bump,
    /// The smallest version that would be accepted.
    pub smallest_acceptable_version: Option<Version>,
    /// The version the schema was compared with.
    pub predecessor_version: Option<Version>,
    /// Every version the schema was checked against.
    pub checked_against: Vec<Version>,
    /// The mode and policy the check ran under.
    pub config: Option<CompatibilityConfig>,
    /// What the version would do to each registered consumer; a refusal for
    /// a consumer's break has it `BREAKS` here.
    pub consumer_impacts: Vec<ConsumerImpact>,
    /// What the caller should know about how the schema was read and
    /// compared (see [`CheckOutcome::warnings`]).
    pub warnings: Vec<String>,
}

impl Refusal {
    pub(crate) fn from_wire(message: String, v: pb::CompatibilityViolation) -> Result<Self, Error> {
        Ok(Self {
            verdict: Verdict::from_wire(v.verdict)?,
            message,
            findings: findings_from_wire(v.findings)?,
            required_bump: bump_from_wire(v.required_bump)?,
            smallest_acceptable_version: parse_wire_version(
                &v.smallest_acceptable_version,
                "smallest acceptable version",
            )?,
            predecessor_version: parse_wire_version(&v.predecessor_version, "predecessor version")?,
            checked_against: checked_against_from_wire(&v.checked_against)?,
            config: v.config.map(CompatibilityConfig::from_wire).transpose()?,
            consumer_impacts: impacts_from_wire(v.consumer_impacts)?,
            warnings: v.warnings,
        })
    }
}

/// The answer of a dry-run check: exactly what a publish would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckOutcome {
    /// True when the publish would succeed.
    pub accepted: bool,
    /// The publish decision.
    pub verdict: Verdict,
    /// A sentence that explains the verdict.
    pub message: String,
    /// Every difference found.
    pub findings: Vec<Finding>,
    /// The bump the change requires.
    pub required_bump: Bump,
    /// The smallest version that would be accepted.
    pub smallest_acceptable_version: Option<Version>,
    /// The version that would be stored.
    pub version: Option<Version>,
    /// The version it was compared with.
    pub predecessor_version: Option<Version>,
    /// Every version the schema was checked against.
    pub checked_against: Vec<Version>,
    /// The settings the check ran under.
    pub config: Option<CompatibilityConfig>,
    /// The fingerprint of the schema checked.
    pub fingerprint: String,
    /// What the version would do to each registered consumer, exactly as a
    /// publish would judge it.
    pub consumer_impacts: Vec<ConsumerImpact>,
    /// What the caller should know about how the schema was read and
    /// compared, one sentence each: a `$schema` the registry does not know
    /// (read in its default draft), a pattern compared as text, breaking
    /// findings left without a witness because its time ran out. None
    /// changes the verdict.
    pub warnings: Vec<String>,
}

impl CheckOutcome {
    pub(crate) fn from_wire(r: pb::CheckCompatibilityResponse) -> Result<Self, Error> {
        Ok(Self {
            accepted: r.accepted,
            verdict: Verdict::from_wire(r.verdict)?,
            message: r.message,
            findings: findings_from_wire(r.findings)?,
            required_bump: bump_from_wire(r.required_bump)?,
            smallest_acceptable_version: parse_wire_version(
                &r.smallest_acceptable_version,
                "smallest acceptable version",
            )?,
            version: parse_wire_version(&r.version, "version")?,
            predecessor_version: parse_wire_version(&r.predecessor_version, "predecessor version")?,
            checked_against: checked_against_from_wire(&r.checked_against)?,
            config: r.config.map(CompatibilityConfig::from_wire).transpose()?,
            fingerprint: r.fingerprint,
            consumer_impacts: impacts_from_wire(r.consumer_impacts)?,
            warnings: r.warnings,
        })
    }
}

/// The comparison of two stored versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffOutcome {
    /// No incompatible finding under the settings used.
    pub compatible: bool,
    /// Every difference.
    pub findings: Vec<Finding>,
    /// The bump the change requires.
    pub required_bump: Bump,
    /// The settings the comparison ran under.
    pub config: Option<CompatibilityConfig>,
}

impl DiffOutcome {
    pub(crate) fn from_wire(r: pb::DiffVersionsResponse) -> Result<Self, Error> {
        Ok(Self {
            compatible: r.compatible,
            findings: findings_from_wire(r.findings)?,
            required_bump: bump_from_wire(r.required_bump)?,
            config: r.config.map(CompatibilityConfig::from_wire).transpose()?,
        })
    }
}

/// A component and how many contracts it owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentSummary {
    /// The component's name.
    pub name: String,
    /// How many visible contracts it owns.
    pub contract_count: u32,
}

/// A contract and its latest version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractSummary {
    /// Which contract.
    pub name: ContractName,
    /// The latest release, or the latest pre-release when there is no release.
    pub latest_version: Option<Version>,
    /// How many versions it has.
    pub version_count: u32,
}

impl ContractSummary {
    pub(crate) fn from_wire(s: pb::ContractSummary) -> Result<Self, Error> {
        Ok(Self {
            name: name_from_wire(&s.component, &s.contract)?,
            latest_version: parse_wire_version(&s.latest_version, "latest version")?,
            version_count: s.version_count,
        })
    }
}

/// What an [`Event`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A version was published.
    Published,
    /// A version was deprecated.
    Deprecated,
    /// A version or a whole contract was deleted.
    Deleted,
    /// Soft-deleted versions were restored.
    Restored,
    /// Compatibility settings changed.
    ConfigChanged,
    /// A consumer registered (or changed) its reading of the contract.
    ConsumerRegistered,
    /// A consumer's reading was removed.
    ConsumerUnregistered,
    /// A waiver was created.
    WaiverCreated,
    /// A waiver was revoked.
    WaiverRevoked,
    /// A publish went through because a waiver covered a consumer's break.
    WaiverUsed,
    /// A waiver expired.
    WaiverExpired,
}

impl EventKind {
    fn from_wire(value: i32) -> Result<Self, Error> {
        use pb::EventKind as K;
        match K::try_from(value) {
            Ok(K::Published) => Ok(EventKind::Published),
            Ok(K::Deprecated) => Ok(EventKind::Deprecated),
            Ok(K::Deleted) => Ok(EventKind::Deleted),
            Ok(K::Restored) => Ok(EventKind::Restored),
            Ok(K::ConfigChanged) => Ok(EventKind::ConfigChanged),
            Ok(K::ConsumerRegistered) => Ok(EventKind::ConsumerRegistered),
            Ok(K::ConsumerUnregistered) => Ok(EventKind::ConsumerUnregistered),
            Ok(K::WaiverCreated) => Ok(EventKind::WaiverCreated),
            Ok(K::WaiverRevoked) => Ok(EventKind::WaiverRevoked),
            Ok(K::WaiverUsed) => Ok(EventKind::WaiverUsed),
            Ok(K::WaiverExpired) => Ok(EventKind::WaiverExpired),
            _ => Err(bad(format!("unknown event kind value {value}"))),
        }
    }

    /// The snake_case name, e.g. `consumer_registered`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Published => "published",
            EventKind::Deprecated => "deprecated",
            EventKind::Deleted => "deleted",
            EventKind::Restored => "restored",
            EventKind::ConfigChanged => "config_changed",
            EventKind::ConsumerRegistered => "consumer_registered",
            EventKind::ConsumerUnregistered => "consumer_unregistered",
            EventKind::WaiverCreated => "waiver_created",
            EventKind::WaiverRevoked => "waiver_revoked",
            EventKind::WaiverUsed => "waiver_used",
            EventKind::WaiverExpired => "waiver_expired",
        }
    }
}

/// A change in the registry. Sequence numbers increase by one per event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The event's position in the registry's history.
    pub sequence: u64,
    /// What happened.
    pub kind: EventKind,
    /// When.
    pub time: Option<SystemTime>,
    /// The contract concerned; `None` for a change of the global settings.
    pub name: Option<ContractName>,
    /// The version concerned; `None` when the event covers a whole contract.
    pub version: Option<Version>,
    /// The fingerprint of the version concerned, when there is one.
    pub fingerprint: Option<String>,
    /// The deprecation message, or what was changed.
    pub message: String,
    /// For [`EventKind::ConfigChanged`]: the new settings.
    pub config: Option<CompatibilityConfig>,
    /// For deletions: whether it was a hard delete.
    pub hard: bool,
    /// For consumer and waiver events: the consumer concerned.
    pub consumer: Option<String>,
    /// For waiver events: the waiver's id.
    pub waiver_id: Option<String>,
    /// The history the sequence belongs to: give it back with the sequence
    /// to resume watching ([`crate::Client::watch_from`]).
    pub epoch: String,
}

impl Event {
    pub(crate) fn from_wire(e: pb::Event, epoch: String) -> Result<Self, Error> {
        let name = if e.component.is_empty() && e.contract.is_empty() {
            None
        } else {
            Some(name_from_wire(&e.component, &e.contract)?)
        };
        Ok(Self {
            sequence: e.sequence,
            kind: EventKind::from_wire(e.kind)?,
            time: time_from_wire(e.time),
            name,
            version: parse_wire_version(&e.version, "event version")?,
            fingerprint: non_empty(e.fingerprint),
            message: e.message,
            config: e.config.map(CompatibilityConfig::from_wire).transpose()?,
            hard: e.hard,
            consumer: non_empty(e.consumer),
            waiver_id: non_empty(e.waiver_id),
            epoch,
        })
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// When the call was made.
    pub time: Option<SystemTime>,
    /// Who made it (`anonymous` on an open registry).
    pub principal: String,
    /// The RPC, e.g. `PublishContract`.
    pub action: String,
    /// What it acted on, e.g. `orders/order-placed@1.4.0`.
    pub target: String,
    /// Whether it succeeded.
    pub allowed: bool,
    /// The status code name (`OK`, `PERMISSION_DENIED`…).
    pub outcome: String,
    /// The explanation.
    pub message: String,
}

impl AuditEntry {
    pub(crate) fn from_wire(a: pb::AuditEntry) -> Self {
        Self {
            time: time_from_wire(a.time),
            principal: a.principal,
            action: a.action,
            target: a.target,
            allowed: a.allowed,
            outcome: a.outcome,
            message: a.message,
        }
    }
}
