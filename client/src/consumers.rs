//! Consumers and waivers: a component registers the contract versions it
//! reads (a semver requirement, and optionally the reader schema it
//! validates with); every later publish is checked against it, and a
//! version that breaks it is refused unless an admin's waiver covers the
//! break. The types here, and their methods on [`Client`].
//!
//! ```no_run
//! # async fn example() -> Result<(), accord_client::Error> {
//! use accord_client::{Client, parse_requirement};
//!
//! let client = Client::connect("http://127.0.0.1:50051").await?;
//! let placed = "orders/order-placed".parse()?;
//! let wanted = parse_requirement("^1")?;
//! let reader = std::fs::read_to_string("schemas/order-placed.reader.json").unwrap();
//! // Before deploying: can the reader read every live 1.x version?
//! let check = client.check_consumer(&placed, &wanted, Some(&reader)).await?;
//! assert!(check.ok, "{}", check.message);
//! // Once deployed: producers of orders/order-placed must keep it reading.
//! client.register_consumer("billing", &placed, &wanted, Some(&reader)).await?;
//! # Ok(()) }
//! ```

use std::time::SystemTime;

use accord_proto::{v1 as pb, wire};
use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize};

use crate::{
    Client, ContractName, Error,
    name::{check_part, parse_wire_version},
    types::{Finding, bad, findings_from_wire, name_from_wire, non_empty, time_from_wire, time_to_wire},
};

/// What a break of a registered consumer does to a publish.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsumerBreaks {
    /// The publish is refused unless waivers cover the break.
    #[default]
    Refuse,
    /// The publish is accepted and the break reported.
    Warn,
}

impl ConsumerBreaks {
    pub(crate) fn from_wire(value: i32) -> Result<Self, Error> {
        match pb::ConsumerBreaks::try_from(value) {
            // A registry that predates consumers never refused for them.
            Ok(pb::ConsumerBreaks::Unspecified) => Ok(ConsumerBreaks::Warn),
            Ok(pb::ConsumerBreaks::Refuse) => Ok(ConsumerBreaks::Refuse),
            Ok(pb::ConsumerBreaks::Warn) => Ok(ConsumerBreaks::Warn),
            Err(_) => Err(bad(format!("unknown consumer_breaks value {value}"))),
        }
    }

    pub(crate) fn to_wire(self) -> i32 {
        match self {
            ConsumerBreaks::Refuse => pb::ConsumerBreaks::Refuse as i32,
            ConsumerBreaks::Warn => pb::ConsumerBreaks::Warn as i32,
        }
    }

    /// `refuse` or `warn`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsumerBreaks::Refuse => "refuse",
            ConsumerBreaks::Warn => "warn",
        }
    }
}

impl std::str::FromStr for ConsumerBreaks {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "refuse" => Ok(ConsumerBreaks::Refuse),
            "warn" => Ok(ConsumerBreaks::Warn),
            _ => Err(format!(
                "unknown consumer-breaks setting {s:?}; expected refuse or warn"
            )),
        }
    }
}

/// What a version does to one registered consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
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

impl ImpactOutcome {
    fn from_wire(value: i32) -> Result<Self, Error> {
        match pb::ConsumerOutcome::try_from(value) {
            Ok(pb::ConsumerOutcome::NotAffected) => Ok(ImpactOutcome::NotAffected),
            Ok(pb::ConsumerOutcome::Ok) => Ok(ImpactOutcome::Ok),
            Ok(pb::ConsumerOutcome::Breaks) => Ok(ImpactOutcome::Breaks),
            Ok(pb::ConsumerOutcome::Waived) => Ok(ImpactOutcome::Waived),
            _ => Err(bad(format!("unknown consumer outcome value {value}"))),
        }
    }

    /// `NOT_AFFECTED`, `OK`, `BREAKS` or `WAIVED`.
    pub fn as_str(self) -> &'static str {
        match self {
            ImpactOutcome::NotAffected => "NOT_AFFECTED",
            ImpactOutcome::Ok => "OK",
            ImpactOutcome::Breaks => "BREAKS",
            ImpactOutcome::Waived => "WAIVED",
        }
    }
}

/// The state of a waiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaiverState {
    /// In force until it expires.
    Active,
    /// Past its expiry.
    Expired,
    /// Revoked before its expiry.
    Revoked,
}

/// An admin's exception to the refusal of a consumer's break, for a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiver {
    /// Its id, to revoke it.
    pub id: String,
    /// The contract whose publishes it covers.
    pub contract: ContractName,
    /// The consumer whose breaks it covers; `None`: every consumer.
    pub consumer: Option<String>,
    /// The rules whose findings it covers; empty: every rule.
    pub rules: Vec<String>,
    /// Why the break is acceptable.
    pub reason: String,
    /// When it stops covering anything.
    pub expires_at: Option<SystemTime>,
    /// The admin token that created it.
    pub approver: String,
    /// When it was created.
    pub created_at: Option<SystemTime>,
    /// Its state when the registry answered.
    pub state: WaiverState,
    /// Who revoked it, for a revoked one.
    pub revoked_by: Option<String>,
    /// When, for a revoked one.
    pub revoked_at: Option<SystemTime>,
}

impl Waiver {
    pub(crate) fn from_wire(w: pb::Waiver) -> Result<Self, Error> {
        let state = match pb::WaiverState::try_from(w.state) {
            Ok(pb::WaiverState::Active) => WaiverState::Active,
            Ok(pb::WaiverState::Expired) => WaiverState::Expired,
            Ok(pb::WaiverState::Revoked) => WaiverState::Revoked,
            _ => return Err(bad(format!("unknown waiver state value {}", w.state))),
        };
        Ok(Self {
            contract: name_from_wire(&w.component, &w.contract)?,
            id: w.id,
            consumer: non_empty(w.consumer),
            rules: w.rule_ids,
            reason: w.reason,
            expires_at: time_from_wire(w.expires_at),
            approver: w.approver,
            created_at: time_from_wire(w.created_at),
            state,
            revoked_by: non_empty(w.revoked_by),
            revoked_at: time_from_wire(w.revoked_at),
        })
    }

    pub(crate) fn from_wire_opt(w: Option<pb::Waiver>) -> Result<Self, Error> {
        Self::from_wire(w.ok_or_else(|| bad("the answer has no waiver".into()))?)
    }
}

/// What a version does (or would do) to one registered consumer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerImpact {
    /// The consuming component.
    pub consumer: String,
    /// Its requirement.
    pub requirement: VersionReq,
    /// What the version does to it.
    pub outcome: ImpactOutcome,
    /// Whether it was judged with the consumer's reader schema.
    pub reader: bool,
    /// Without a reader: the version the consumer's requirement resolves
    /// to now, which it reads with.
    pub against_version: Option<Version>,
    /// For `BREAKS` and `WAIVED`: each way the version accepts a document
    /// the consumer rejects, with such a document when one could be built.
    pub findings: Vec<Finding>,
    /// For `WAIVED`: the waivers that cover the findings.
    pub waivers: Vec<Waiver>,
    /// For `BREAKS`: whether the break refuses the publish (false when the
    /// contract's setting makes consumer breaks warn).
    pub refuses: bool,
}

impl ConsumerImpact {
    fn from_wire(i: pb::ConsumerImpact) -> Result<Self, Error> {
        Ok(Self {
            requirement: requirement_from_wire(&i.requirement)?,
            outcome: ImpactOutcome::from_wire(i.outcome)?,
            reader: i.reader,
            against_version: parse_wire_version(&i.against_version, "against_version")?,
            findings: findings_from_wire(i.findings)?,
            waivers: i
                .waivers
                .into_iter()
                .map(Waiver::from_wire)
                .collect::<Result<_, _>>()?,
            refuses: i.refuses,
            consumer: i.consumer,
        })
    }
}

pub(crate) fn impacts_from_wire(impacts: Vec<pb::ConsumerImpact>) -> Result<Vec<ConsumerImpact>, Error> {
    impacts.into_iter().map(ConsumerImpact::from_wire).collect()
}

fn requirement_from_wire(text: &str) -> Result<VersionReq, Error> {
    VersionReq::parse(text).map_err(|e| bad(format!("requirement {text:?}: {e}")))
}

/// A component's registered reading of a contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    /// The consuming component.
    pub consumer: String,
    /// The contract it reads.
    pub contract: ContractName,
    /// The versions it accepts.
    pub requirement: VersionReq,
    /// Whether it registered a reader schema.
    pub has_reader: bool,
    /// The reader's fingerprint, when it has one.
    pub reader_fingerprint: Option<String>,
    /// The draft the reader is read in, when it has one.
    pub reader_draft: Option<accord_compat::Draft>,
    /// The reader itself, when asked for ([`Client::list_consumers`] does
    /// not ask).
    pub reader: Option<String>,
    /// The token that registered it.
    pub registered_by: String,
    /// When.
    pub registered_at: Option<SystemTime>,
    /// The version its requirement resolves to now.
    pub resolves_to: Option<Version>,
}

impl Consumer {
    fn from_wire(c: pb::Consumer) -> Result<Self, Error> {
        Ok(Self {
            contract: name_from_wire(&c.component, &c.contract)?,
            requirement: requirement_from_wire(&c.requirement)?,
            resolves_to: parse_wire_version(&c.resolves_to, "resolves_to")?,
            consumer: c.consumer,
            has_reader: c.has_reader,
            reader_fingerprint: non_empty(c.reader_fingerprint),
            reader_draft: wire::draft_from_wire(&c.reader_draft).map_err(|e| bad(e.to_string()))?,
            reader: non_empty(c.reader),
            registered_by: c.registered_by,
            registered_at: time_from_wire(c.registered_at),
        })
    }
}

/// One live version checked against a reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionCheck {
    /// The version.
    pub version: Version,
    /// `OK` or `BREAKS`.
    pub outcome: ImpactOutcome,
    /// How it breaks the reading.
    pub findings: Vec<Finding>,
}

fn checks_from_wire(checks: Vec<pb::ConsumerVersionCheck>) -> Result<Vec<VersionCheck>, Error> {
    checks
        .into_iter()
        .map(|c| {
            Ok(VersionCheck {
                version: parse_wire_version(&c.version, "checked version")?
                    .ok_or_else(|| bad("a check without its version".into()))?,
                outcome: ImpactOutcome::from_wire(c.outcome)?,
                findings: findings_from_wire(c.findings)?,
            })
        })
        .collect()
}

/// A reading checked against the live versions it would read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerCheck {
    /// True when it accepts every live version that satisfies the
    /// requirement (and, without a reader, the requirement resolves).
    pub ok: bool,
    /// The live versions that satisfy the requirement, oldest first.
    pub checks: Vec<VersionCheck>,
    /// The version the requirement resolves to now.
    pub resolves_to: Option<Version>,
    /// The registry's sentence explaining the answer.
    pub message: String,
}

/// The answer to a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The registration in force.
    pub consumer: Consumer,
    /// False when the same reading was registered already.
    pub created: bool,
    /// The reading checked against the live versions it reads.
    pub checks: Vec<VersionCheck>,
}

/// A waiver to create ([`Client::create_waiver`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaiverRequest {
    /// The contract whose publishes it covers.
    pub contract: ContractName,
    /// The consumer whose breaks it covers; `None`: every consumer.
    pub consumer: Option<String>,
    /// The rule ids it covers; empty: every rule.
    pub rules: Vec<String>,
    /// Why the break is acceptable (required).
    pub reason: String,
    /// When it expires (required, in the future).
    pub expires_at: SystemTime,
}

impl Client {
    /// Registers (or changes) `consumer`'s reading of `contract`: the
    /// versions it accepts and, optionally, the JSON Schema it validates
    /// with. Needs the publisher role on `consumer`. Registering the same
    /// reading again changes nothing, so it is retried like a read.
    pub async fn register_consumer(
        &self,
        consumer: &str,
        contract: &ContractName,
        requirement: &VersionReq,
        reader: Option<&str>,
    ) -> Result<Registration, Error> {
        check_part("consumer", consumer)?;
        let message = pb::RegisterConsumerRequest {
            consumer: consumer.to_owned(),
            component: contract.component().to_owned(),
            contract: contract.contract().to_owned(),
            requirement: requirement.to_string(),
            reader: reader.unwrap_or_default().to_owned(),
        };
        let reply = self
            .call("RegisterConsumer", true, |mut c| {
                let r = self.request(message.clone());
                async move { c.register_consumer(r).await }
            })
            .await?;
        self.observe_sequence(reply.sequence);
        Ok(Registration {
            consumer: Consumer::from_wire(
                reply
                    .consumer
                    .ok_or_else(|| bad("the answer has no consumer".into()))?,
            )?,
            created: reply.created,
            checks: checks_from_wire(reply.checks)?,
        })
    }

    /// Removes `consumer`'s reading of `contract`. Not retried: a repeat
    /// after a lost answer would report it not found.
    pub async fn unregister_consumer(&self, consumer: &str, contract: &ContractName) -> Result<(), Error> {
        check_part("consumer", consumer)?;
        let message = pb::UnregisterConsumerRequest {
            consumer: consumer.to_owned(),
            component: contract.component().to_owned(),
            contract: contract.contract().to_owned(),
        };
        let reply = self
            .call("UnregisterConsumer", false, |mut c| {
                let r = self.request(message.clone());
                async move { c.unregister_consumer(r).await }
            })
            .await?;
        self.observe_sequence(reply.sequence);
        Ok(())
    }

    async fn consumers(&self, message: pb::ListConsumersRequest) -> Result<Vec<Consumer>, Error> {
        let reply = self
            .call("ListConsumers", true, |mut c| {
                let r = self.request(message.clone());
                async move { c.list_consumers(r).await }
            })
            .await?;
        reply.consumers.into_iter().map(Consumer::from_wire).collect()
    }

    /// The registered consumers of `contract`, by name.
    pub async fn list_consumers(&self, contract: &ContractName) -> Result<Vec<Consumer>, Error> {
        self.consumers(pb::ListConsumersRequest {
            component: contract.component().to_owned(),
            contract: contract.contract().to_owned(),
            min_sequence: self.last_sequence(),
            ..Default::default()
        })
        .await
    }

    /// The readings `consumer` registered, by contract.
    pub async fn list_readings(&self, consumer: &str) -> Result<Vec<Consumer>, Error> {
        check_part("consumer", consumer)?;
        self.consumers(pb::ListConsumersRequest {
            consumer: consumer.to_owned(),
            min_sequence: self.last_sequence(),
            ..Default::default()
        })
        .await
    }

    /// Checks a reading of `contract` against every live version that
    /// satisfies `requirement`, storing nothing: with `reader`, the reader
    /// must accept every document each version accepts; without, the
    /// version the requirement resolves to must.
    pub async fn check_consumer(
        &self,
        contract: &ContractName,
        requirement: &VersionReq,
        reader: Option<&str>,
    ) -> Result<ConsumerCheck, Error> {
        let message = pb::CheckConsumerRequest {
            component: contract.component().to_owned(),
            contract: contract.contract().to_owned(),
            requirement: requirement.to_string(),
            reader: reader.unwrap_or_default().to_owned(),
            min_sequence: self.last_sequence(),
        };
        let reply = self
            .call("CheckConsumer", true, |mut c| {
                let r = self.request(message.clone());
                async move { c.check_consumer(r).await }
            })
            .await?;
        Ok(ConsumerCheck {
            ok: reply.ok,
            checks: checks_from_wire(reply.checks)?,
            resolves_to: parse_wire_version(&reply.resolves_to, "resolves_to")?,
            message: reply.message,
        })
    }

    /// Creates a waiver (admin role); the token's name is its approver.
    /// Not retried: a repeat would create a second waiver.
    pub async fn create_waiver(&self, waiver: &WaiverRequest) -> Result<Waiver, Error> {
        if let Some(consumer) = &waiver.consumer {
            check_part("consumer", consumer)?;
        }
        let message = pb::CreateWaiverRequest {
            component: waiver.contract.component().to_owned(),
            contract: waiver.contract.contract().to_owned(),
            consumer: waiver.consumer.clone().unwrap_or_default(),
            all_consumers: waiver.consumer.is_none(),
            rule_ids: waiver.rules.clone(),
            reason: waiver.reason.clone(),
            expires_at: Some(time_to_wire(waiver.expires_at)),
        };
        let reply = self
            .call("CreateWaiver", false, |mut c| {
                let r = self.request(message.clone());
                async move { c.create_waiver(r).await }
            })
            .await?;
        self.observe_sequence(reply.sequence);
        Waiver::from_wire_opt(reply.waiver)
    }

    /// Revokes the waiver `id` (admin role); revoking it again changes
    /// nothing, so it is retried like a read.
    pub async fn revoke_waiver(&self, id: &str) -> Result<Waiver, Error> {
        let message = pb::RevokeWaiverRequest { id: id.to_owned() };
        let reply = self
            .call("RevokeWaiver", true, |mut c| {
                let r = self.request(message.clone());
                async move { c.revoke_waiver(r).await }
            })
            .await?;
        self.observe_sequence(reply.sequence);
        Waiver::from_wire_opt(reply.waiver)
    }

    /// The waivers of `contract` (`None`: of every contract the token may
    /// see): active ones, or all of them with `include_inactive`.
    pub async fn list_waivers(
        &self,
        contract: Option<&ContractName>,
        include_inactive: bool,
    ) -> Result<Vec<Waiver>, Error> {
        let message = pb::ListWaiversRequest {
            component: contract.map(|c| c.component().to_owned()).unwrap_or_default(),
            contract: contract.map(|c| c.contract().to_owned()).unwrap_or_default(),
            include_inactive,
            min_sequence: self.last_sequence(),
        };
        let reply = self
            .call("ListWaivers", true, |mut c| {
                let r = self.request(message.clone());
                async move { c.list_waivers(r).await }
            })
            .await?;
        reply.waivers.into_iter().map(Waiver::from_wire).collect()
    }
}
