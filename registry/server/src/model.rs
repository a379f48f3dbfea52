//! The registry's vocabulary, the bottom layer: names and versions (the
//! shared rules of [`accord_proto::names`]), stored versions and their
//! tombstones, compatibility settings, consumers and waivers, events, audit
//! records and the publish decision with its consumer impacts. Plain data:
//! it imports nothing else of this crate.

use std::{sync::Arc, time::SystemTime};

use accord_compat::{Bump, Draft, Finding, Mode, Policy};
pub use accord_proto::names::{
    ContractName, MAX_NAME_LEN, NameError, VersionSelector, parse_requirement, parse_version,
    refuse_surrounding_whitespace, validate_name,
};
use semver::Version;
use semver::VersionReq;
use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, the registry's clock.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Microseconds since the Unix epoch (0 before the epoch).
pub fn micros(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// What a break of a registered consumer does to a publish.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsumerBreaks {
    /// The publish is refused unless waivers cover the break (the default).
    #[default]
    Refuse,
    /// The publish is accepted and the break reported.
    Warn,
}

impl ConsumerBreaks {
    /// `refuse` or `warn`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsumerBreaks::Refuse => "refuse",
            ConsumerBreaks::Warn => "warn",
        }
    }

    fn is_refuse(&self) -> bool {
        *self == ConsumerBreaks::Refuse
    }
}

/// The compatibility settings in force: a mode, a policy, and what a
/// consumer's break does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompatConfig {
    /// What readers may rely on.
    pub mode: Mode,
    /// Which differences count as compatible.
    pub policy: Policy,
    /// Whether a break of a registered consumer refuses a publish. Records
    /// written before consumers existed do not have it: they refuse.
    #[serde(default, skip_serializing_if = "ConsumerBreaks::is_refuse")]
    pub consumer_breaks: ConsumerBreaks,
}

impl Default for CompatConfig {
    /// `BACKWARD` + `STRICT`, as Confluent's registry defaults, and consumer
    /// breaks refused.
    fn default() -> Self {
        Self {
            mode: Mode::Backward,
            policy: Policy::Strict,
            consumer_breaks: ConsumerBreaks::Refuse,
        }
    }
}

/// Settings as stored: for a contract, each field left `None` follows the
/// global setting, so that setting a contract's mode does not pin the
/// global policy of that moment (and the other way round). The global
/// settings always have both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// The mode, or `None` to follow the global one.
    #[serde(default)]
    pub mode: Option<Mode>,
    /// The policy, or `None` to follow the global one.
    #[serde(default)]
    pub policy: Option<Policy>,
    /// What a consumer's break does, or `None` to follow the global setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_breaks: Option<ConsumerBreaks>,
}

impl Settings {
    /// Both fields set.
    pub fn full(config: CompatConfig) -> Self {
        Self {
            mode: Some(config.mode),
            policy: Some(config.policy),
            consumer_breaks: Some(config.consumer_breaks),
        }
    }

    /// Settings of the first store format, which had a mode and a policy
    /// only: what a consumer's break does follows the global setting.
    pub fn mode_and_policy(config: CompatConfig) -> Self {
        Self {
            mode: Some(config.mode),
            policy: Some(config.policy),
            consumer_breaks: None,
        }
    }

    /// The settings in force: these over `global`.
    pub fn over(self, global: CompatConfig) -> CompatConfig {
        CompatConfig {
            mode: self.mode.unwrap_or(global.mode),
            policy: self.policy.unwrap_or(global.policy),
            consumer_breaks: self.consumer_breaks.unwrap_or(global.consumer_breaks),
        }
    }

    /// Whether no field is set.
    pub fn is_empty(self) -> bool {
        self.mode.is_none() && self.policy.is_none() && self.consumer_breaks.is_none()
    }
}

/// A deprecation mark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deprecation {
    /// Why, and what to use instead.
    pub message: String,
    /// When, in Unix milliseconds.
    pub at: i64,
}

/// What is left of a hard-deleted version: the version number stays taken
/// for ever, with its fingerprint, and the schema text is gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tombstone {
    /// When, in Unix milliseconds.
    pub at: i64,
    /// Who erased it (the token's name).
    pub by: String,
}

/// One stored version of a contract, without its schema text (stored once
/// per fingerprint).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRecord {
    /// Which contract.
    pub name: ContractName,
    /// The version.
    pub version: Version,
    /// SHA-256 (hex) of the schema's canonical JSON.
    pub fingerprint: String,
    /// When it was published, in Unix milliseconds.
    pub created_at: i64,
    /// The bump this version declared over its predecessor; `None` for the
    /// first version of a contract.
    pub bump: Option<Bump>,
    /// Set when deprecated.
    pub deprecated: Option<Deprecation>,
    /// Set (Unix milliseconds) when soft-deleted.
    pub deleted_at: Option<i64>,
    /// The draft the schema was read under when it was published (its
    /// `$schema`, or the server's default draft then). `None` in records of
    /// the first store format, which did not keep it.
    #[serde(default, with = "draft_text")]
    pub draft: Option<Draft>,
    /// Who published it (the token's name); empty in records of the first
    /// store format.
    #[serde(default)]
    pub published_by: String,
    /// Set when hard-deleted: the schema text is erased, the number stays taken.
    #[serde(default)]
    pub erased: Option<Tombstone>,
}

impl VersionRecord {
    /// Whether reads may see it.
    pub fn is_visible(&self) -> bool {
        self.deleted_at.is_none() && self.erased.is_none()
    }
}

/// Drafts are stored by their short names (`7`, `2020-12`).
mod draft_text {
    use accord_compat::Draft;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(draft: &Option<Draft>, s: S) -> Result<S::Ok, S::Error> {
        match draft {
            Some(d) => s.collect_str(d),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Draft>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => text.parse().map(Some).map_err(serde::de::Error::custom),
        }
    }
}

/// A registered reader schema: the JSON Schema a consumer validates
/// documents with, kept with the draft it was read in when registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReaderSchema {
    /// The schema as registered.
    pub text: String,
    /// SHA-256 (hex) of its canonical JSON.
    pub fingerprint: String,
    /// The draft it is read in: its `$schema`'s, or the server's default
    /// draft when it was registered.
    #[serde(with = "draft_text")]
    pub draft: Option<Draft>,
}

/// A component's registered reading of a contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consumption {
    /// The consuming component.
    pub consumer: String,
    /// The contract it reads.
    pub contract: ContractName,
    /// The versions it accepts, as it fetches them.
    pub requirement: VersionReq,
    /// The schema it validates with, if it registered one.
    #[serde(default)]
    pub reader: Option<ReaderSchema>,
    /// Who registered it (the token's name).
    pub registered_by: String,
    /// When, in Unix milliseconds.
    pub registered_at: i64,
}

impl Consumption {
    /// Whether `other` registers the same reading (who and when aside).
    pub fn same_reading(&self, other: &Consumption) -> bool {
        self.consumer == other.consumer
            && self.contract == other.contract
            && self.requirement == other.requirement
            && self.reader.as_ref().map(|r| (&r.fingerprint, r.draft))
                == other.reader.as_ref().map(|r| (&r.fingerprint, r.draft))
    }
}

/// The state of a waiver at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaiverState {
    /// In force.
    Active,
    /// Past its expiry.
    Expired,
    /// Revoked before its expiry.
    Revoked,
}

/// An admin's exception to the refusal of a consumer's break, for a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiver {
    /// Its id, unique in the registry (`w-` and 12 hex digits).
    pub id: String,
    /// The contract whose publishes it covers.
    pub contract: ContractName,
    /// The consumer whose breaks it covers; `None`: every consumer.
    pub consumer: Option<String>,
    /// The rules whose findings it covers; empty: every rule.
    pub rules: Vec<String>,
    /// Why the break is acceptable.
    pub reason: String,
    /// When it stops covering anything, in Unix milliseconds.
    pub expires_at: i64,
    /// The admin token that created it.
    pub approver: String,
    /// When, in Unix milliseconds.
    pub created_at: i64,
    /// Set when revoked.
    #[serde(default)]
    pub revoked: Option<Tombstone>,
    /// Whether its expiry has been recorded (an event and an audit entry).
    #[serde(default)]
    pub expiry_recorded: bool,
}

impl Waiver {
    /// Its state at `now` (Unix milliseconds).
    pub fn state(&self, now: i64) -> WaiverState {
        if self.revoked.is_some() {
            WaiverState::Revoked
        } else if now >= self.expires_at {
            WaiverState::Expired
        } else {
            WaiverState::Active
        }
    }

    /// Whether, at `now`, it covers a finding of `rule` for `consumer`.
    pub fn covers(&self, consumer: &str, rule: &str, now: i64) -> bool {
        self.state(now) == WaiverState::Active
            && self.consumer.as_deref().is_none_or(|c| c == consumer)
            && (self.rules.is_empty() || self.rules.iter().any(|r| r == rule))
    }
}

/// A version with its schema text, as held by the in-memory index.
#[derive(Debug, Clone)]
pub struct StoredVersion {
    /// The record, shared between the snapshots of the index that hold it:
    /// a write to a contract copies its list of versions, not each record.
    pub record: Arc<VersionRecord>,
    /// The schema as published, shared between versions with the same
    /// fingerprint; empty for an erased version.
    pub schema: Arc<str>,
}

/// What an event reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A version was published.
    Published,
    /// A version was deprecated.
    Deprecated,
    /// A version was deleted (see [`Event::hard`]).
    Deleted,
    /// A soft-deleted version was restored.
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
    /// Whether the event is about consumers or waivers, kinds that clients
    /// older than them cannot read.
    pub fn is_consumer_kind(self) -> bool {
        matches!(
            self,
            EventKind::ConsumerRegistered
                | EventKind::ConsumerUnregistered
                | EventKind::WaiverCreated
                | EventKind::WaiverRevoked
                | EventKind::WaiverUsed
                | EventKind::WaiverExpired
        )
    }
}

/// A durable registry event. Sequences increase by one with each event,
/// across every replica of a shared store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the event log, from 1.
    pub sequence: u64,
    /// What happened.
    pub kind: EventKind,
    /// When, in Unix milliseconds.
    pub time: i64,
    /// The component, empty for global settings.
    pub component: String,
    /// The contract, empty for global settings.
    pub contract: String,
    /// The version concerned, empty for settings.
    pub version: String,
    /// The schema fingerprint of a published version.
    pub fingerprint: String,
    /// The deprecation message, or what changed.
    pub message: String,
    /// For settings changes: the settings now in force.
    pub config: Option<CompatConfig>,
    /// For deletions: whether the delete was hard.
    pub hard: bool,
    /// For consumer and waiver events: the consumer concerned.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub consumer: String,
    /// For waiver events: the waiver's id.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub waiver: String,
}

impl Event {
    /// An event about `name` (none: the global settings), numbered and
    /// timed by the store when it is written.
    pub fn new(kind: EventKind, name: Option<&ContractName>, version: String) -> Self {
        Self {
            sequence: 0,
            kind,
            time: 0,
            component: name.map(|n| n.component().to_owned()).unwrap_or_default(),
            contract: name.map(|n| n.contract().to_owned()).unwrap_or_default(),
            version,
            fingerprint: String::new(),
            message: String::new(),
            config: None,
            hard: false,
            consumer: String::new(),
            waiver: String::new(),
        }
    }

    /// The contract the event is about; `None` for the global settings.
    pub fn contract_name(&self) -> Option<ContractName> {
        ContractName::new(self.component.clone(), self.contract.clone()).ok()
    }
}

/// One write attempt, as the audit log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Microseconds since the Unix epoch.
    pub time_micros: u64,
    /// The token's name; `anonymous` on an open registry, `unauthenticated`
    /// when no valid token came with the call.
    pub principal: String,
    /// The RPC, e.g. `PublishContract`.
    pub action: String,
    /// What it acted on, e.g. `orders/order-placed@1.4.0`, or `global`.
    pub target: String,
    /// Whether the call succeeded.
    pub allowed: bool,
    /// The gRPC status code name (`OK`, `PERMISSION_DENIED`…).
    pub outcome: String,
    /// The refusal's explanation; empty on success.
    pub message: String,
}

/// Who asks for a write and what for: the audit record a successful write
/// commits together with its change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The token's name (`anonymous` on an open registry).
    pub principal: String,
    /// The RPC, e.g. `PublishContract`.
    pub action: &'static str,
    /// What it acts on, e.g. `orders/order-placed@1.4.0`.
    pub target: String,
}

impl Actor {
    /// An actor for code paths without a caller (tests, tools).
    pub fn system(action: &'static str) -> Self {
        Self {
            principal: "system".into(),
            action,
            target: String::new(),
        }
    }

    /// The audit record of this actor's attempt.
    pub fn record(&self, outcome: &str, message: String) -> AuditRecord {
        AuditRecord {
            time_micros: micros(SystemTime::now()),
            principal: self.principal.clone(),
            action: self.action.to_owned(),
            target: self.target.clone(),
            allowed: outcome == "OK",
            outcome: outcome.to_owned(),
            message,
        }
    }
}

/// The publish decision (API: `Verdict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A new version would be stored.
    Accepted,
    /// The same version with the same content exists.
    AlreadyPublished,
    /// The change breaks readers and the version does not open a new line
    /// (or no version was given: a break is never assigned one).
    Incompatible,
    /// The version is not above its line, or its bump is smaller than required.
    VersionTooLow,
    /// The version exists with other content (or is soft-deleted, or erased).
    VersionExists,
}

/// A finding with the version it was found against.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// The engine's finding.
    pub finding: Finding,
    /// The earlier version it compares with.
    pub against: Version,
}

/// What a version does to one registered consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImpactOutcome {
    /// The version does not satisfy the consumer's requirement.
    NotAffected,
    /// The consumer accepts every document the version accepts.
    Ok,
    /// The version accepts documents the consumer rejects.
    Breaks,
    /// It breaks, and active waivers cover every breaking finding.
    Waived,
}

/// One registered consumer, as a version affects it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerImpact {
    /// The consuming component.
    pub consumer: String,
    /// Its requirement.
    pub requirement: VersionReq,
    /// What the version does to it.
    pub outcome: ImpactOutcome,
    /// Whether it was judged with the consumer's reader schema.
    pub reader: bool,
    /// Without a reader: the version the requirement resolves to, which the
    /// consumer reads with now.
    pub against: Option<Version>,
    /// The incompatible findings of the consumer's schema (new side) against
    /// the version (old side), with witnesses: documents the version
    /// accepts and the consumer rejects.
    pub findings: Vec<Finding>,
    /// The waivers that cover the findings (outcome `Waived`).
    pub waivers: Vec<Waiver>,
    /// For `Breaks`: whether the break refuses the publish.
    pub refuses: bool,
}

/// Everything the registry decided about one publish request.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The outcome.
    pub verdict: Verdict,
    /// One sentence that explains it.
    pub message: String,
    /// The version asked for, or assigned when none was. A refusal without
    /// a version holds the version to announce (`smallest_acceptable`).
    pub version: Version,
    /// True when no version was asked for: the registry chose `version`.
    pub assigned: bool,
    /// What the engine noticed while reading the schema (an unknown
    /// `$schema` read in the default draft, a pattern compared as text),
    /// and breaking findings left without a document for lack of time.
    pub warnings: Vec<String>,
    /// The version compared with (the latest earlier release of the line,
    /// or of the previous line for a new line).
    pub predecessor: Option<Version>,
    /// Every version the schema was checked against.
    pub checked_against: Vec<Version>,
    /// The differences found.
    pub findings: Vec<Found>,
    /// The smallest bump the change requires.
    pub required_bump: Bump,
    /// The bump the version makes over its predecessor (`None` for a first version).
    pub declared_bump: Option<Bump>,
    /// The smallest version that would be accepted: for a refusal, one that
    /// the decision accepts for the same schema; for an acceptance, `version`.
    pub smallest_acceptable: Version,
    /// The settings the check ran under.
    pub config: CompatConfig,
    /// The fingerprint of the new schema.
    pub fingerprint: String,
    /// What the version does to each registered consumer of the contract.
    pub impacts: Vec<ConsumerImpact>,
    /// True when no version number avoids the consumers the change breaks
    /// (a requirement without an upper bound accepts every later version):
    /// `smallest_acceptable` is then only the semver policy's answer.
    pub blocked_by_consumers: bool,
}

impl Decision {
    /// Whether publishing would succeed.
    pub fn is_accepted(&self) -> bool {
        matches!(self.verdict, Verdict::Accepted | Verdict::AlreadyPublished)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_settings_follow_the_global_ones_where_unset() {
        let global = CompatConfig {
            mode: Mode::Full,
            policy: Policy::Lenient,
            consumer_breaks: ConsumerBreaks::Refuse,
        };
        let own = Settings {
            mode: Some(Mode::Forward),
            policy: None,
            consumer_breaks: Some(ConsumerBreaks::Warn),
        };
        assert_eq!(
            own.over(global),
            CompatConfig {
                mode: Mode::Forward,
                policy: Policy::Lenient,
                consumer_breaks: ConsumerBreaks::Warn,
            }
        );
        assert!(Settings::default().is_empty());
    }

    #[test]
    fn records_from_before_consumers_read_and_write_as_they_did() {
        let settings: Settings = serde_json::from_str(r#"{"mode":"FULL","policy":null}"#).unwrap();
        assert_eq!(settings.consumer_breaks, None);
        assert_eq!(
            serde_json::to_string(&settings).unwrap(),
            r#"{"mode":"FULL","policy":null}"#
        );
        let config: CompatConfig = serde_json::from_str(r#"{"mode":"BACKWARD","policy":"STRICT"}"#).unwrap();
        assert_eq!(config.consumer_breaks, ConsumerBreaks::Refuse);
        assert_eq!(
            serde_json::to_string(&config).unwrap(),
            r#"{"mode":"BACKWARD","policy":"STRICT"}"#
        );
        let old = r#"{"sequence":1,"kind":"published","time":1,"component":"o","contract":"c","version":"1.0.0","fingerprint":"f","message":"","config":null,"hard":false}"#;
        let event: Event = serde_json::from_str(old).unwrap();
        assert!(event.consumer.is_empty() && event.waiver.is_empty());
        assert_eq!(serde_json::to_string(&event).unwrap(), old);
    }

    #[test]
    fn a_waiver_covers_its_consumer_and_rules_until_it_expires() {
        let waiver = Waiver {
            id: "w-1".into(),
            contract: ContractName::new("orders", "placed").unwrap(),
            consumer: Some("billing".into()),
            rules: vec!["TYPE_CHANGED".into()],
            reason: "r".into(),
            expires_at: 100,
            approver: "ops".into(),
            created_at: 1,
            revoked: None,
            expiry_recorded: false,
        };
        assert!(waiver.covers("billing", "TYPE_CHANGED", 99));
        assert!(!waiver.covers("billing", "TYPE_CHANGED", 100));
        assert_eq!(waiver.state(100), WaiverState::Expired);
        assert!(!waiver.covers("shipping", "TYPE_CHANGED", 99));
        assert!(!waiver.covers("billing", "MAX_LENGTH_DECREASED", 99));
        let every = Waiver {
            consumer: None,
            rules: Vec::new(),
            ..waiver.clone()
        };
        assert!(every.covers("shipping", "MAX_LENGTH_DECREASED", 99));
        let revoked = Waiver {
            revoked: Some(Tombstone {
                at: 5,
                by: "ops".into(),
            }),
            ..waiver
        };
        assert_eq!(revoked.state(6), WaiverState::Revoked);
        assert!(!revoked.covers("billing", "TYPE_CHANGED", 6));
    }

    #[test]
    fn records_of_the_first_format_still_read() {
        let old = r#"{"name":{"component":"orders","contract":"placed"},"version":"1.0.0",
            "fingerprint":"f","created_at":1,"bump":null,"deprecated":null,"deleted_at":null}"#;
        let record: VersionRecord = serde_json::from_str(old).unwrap();
        assert_eq!(record.name.to_string(), "orders/placed");
        assert_eq!(record.draft, None);
        assert!(record.erased.is_none());
        let mut record = record;
        record.draft = Some(Draft::D2020);
        let text = serde_json::to_string(&record).unwrap();
        assert!(text.contains(r#""draft":"2020-12""#), "{text}");
        let back: VersionRecord = serde_json::from_str(&text).unwrap();
        assert_eq!(back, record);
    }
}
