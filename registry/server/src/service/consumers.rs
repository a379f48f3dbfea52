//! Consumers and waivers: registering a component's reading of a contract,
//! listing and checking readings, creating, revoking and listing waivers,
//! and recording the expiry of waivers.
//!
//! A consumption and a waiver belong to the contract they are about: their
//! events move its revision, so that a publish decided before a consumer
//! registered (or a waiver changed), on this replica or another, conflicts
//! and is decided again with it.

use std::{
    sync::{Arc, Weak},
    time::Duration,
};

use accord_compat::Schema;
use semver::Version;

use super::{
    Registry, visible_contract,
    write::{Inner, Outcome},
};
use crate::{
    consumers::{ReadingCheck, check_reading},
    error::Error,
    index::{Index, resolve},
    model::{
        Actor, AuditRecord, Consumption, ContractName, Event, EventKind, ReaderSchema, Tombstone,
        VersionSelector, Waiver, WaiverState, micros, now_millis, parse_requirement, validate_name,
    },
    service::Written,
    store::Batch,
};

/// How long the expiry of waivers waits at most between two looks (a
/// waiver created on another replica is seen through the index).
const EXPIRY_EVERY: Duration = Duration::from_secs(30);

/// A registration request, as received.
#[derive(Debug, Clone, Copy)]
pub struct ReadingInput<'a> {
    /// The consuming component.
    pub consumer: &'a str,
    /// The component of the contract read.
    pub component: &'a str,
    /// The contract read.
    pub contract: &'a str,
    /// The semver requirement it fetches with.
    pub requirement: &'a str,
    /// The reader schema's text; empty: none.
    pub reader: &'a str,
}

/// The outcome of a registration.
#[derive(Debug, Clone)]
pub struct Registered {
    /// The registration in force.
    pub consumption: Consumption,
    /// False when the same reading was registered already.
    pub created: bool,
    /// The reading checked against the live versions it reads.
    pub check: ReadingCheck,
}

/// Whose readings to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumersOf {
    /// The consumers of a contract.
    Contract(ContractName),
    /// The readings of a consuming component.
    Consumer(String),
}

/// A waiver request, as received.
#[derive(Debug, Clone)]
pub struct WaiverInput<'a> {
    /// The component of the contract covered.
    pub component: &'a str,
    /// The contract covered.
    pub contract: &'a str,
    /// The consumer covered; `None`: every consumer.
    pub consumer: Option<&'a str>,
    /// The rules covered; empty: every rule.
    pub rules: &'a [String],
    /// Why (required).
    pub reason: &'a str,
    /// When it expires, in Unix milliseconds (in the future).
    pub expires_at: i64,
}

/// A new waiver id: `w-` and 12 random hex digits.
fn new_waiver_id() -> Result<String, Error> {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).map_err(|e| Error::Internal(format!("no random bytes: {e}")))?;
    Ok(format!("w-{}", hex::encode(bytes)))
}

/// The waiver with `id`, wherever it is.
fn find_waiver<'a>(index: &'a Index, id: &str) -> Option<&'a Waiver> {
    index
        .components
        .values()
        .flat_map(|c| c.contracts.values())
        .flat_map(|c| c.waivers.iter())
        .find(|w| w.id == id)
}

impl Registry {
    /// Validates and parses a reader schema like a published one; `None`
    /// for an empty text.
    async fn parse_reader(&self, text: &str) -> Result<Option<(ReaderSchema, Arc<Schema>)>, Error> {
        if text.is_empty() {
            return Ok(None);
        }
        let (schema, fingerprint) = self.parse_schema(Arc::from(text), "reader").await?;
        let reader = ReaderSchema {
            text: text.to_owned(),
            fingerprint,
            draft: Some(schema.draft()),
        };
        Ok(Some((reader, schema)))
    }

    /// Registers (or changes) a component's reading of a contract that
    /// exists. The same reading again changes nothing.
    pub async fn register_consumer(
        &self,
        input: ReadingInput<'_>,
        actor: Actor,
    ) -> Result<Written<Registered>, Error> {
        validate_name("consumer", input.consumer)?;
        let consumer = input.consumer.to_owned();
        let name = ContractName::new(input.component, input.contract)?;
        let requirement = parse_requirement(input.requirement)?;
        let reader = self.parse_reader(input.reader).await?;
        let default_draft = self.inner.limits.default_draft;
        let principal = actor.principal.clone();
        let work = self.work();
        self.inner
            .write(actor, vec![Some(name.clone())], move |index| {
                let entry = visible_contract(index, &name)?;
                let record = Consumption {
                    consumer: consumer.clone(),
                    contract: name.clone(),
                    requirement: requirement.clone(),
                    reader: reader.as_ref().map(|(r, _)| r.clone()),
                    registered_by: principal.clone(),
                    registered_at: now_millis(),
                };
                let schema = reader.as_ref().map(|(_, s)| s.as_ref());
                let check = crate::engine::within(&work, || {
                    check_reading(entry, &name, &requirement, schema, default_draft)
                })?;
                if let Some(held) = entry.consumer(&consumer)
                    && held.record.same_reading(&record)
                {
                    return Ok(Outcome::Done(Registered {
                        consumption: held.record.clone(),
                        created: false,
                        check,
                    }));
                }
                let mut registered = Event::new(EventKind::ConsumerRegistered, Some(&name), String::new());
                registered.consumer = consumer.clone();
                registered.message = format!(
                    "{consumer} reads {name} {requirement}{}",
                    if record.reader.is_some() {
                        " with a reader schema"
                    } else {
                        ""
                    }
                );
                let batch = Batch {
                    consumers: vec![(name.clone(), consumer.clone(), Some(record.clone()))],
                    events: vec![registered],
                    ..Batch::default()
                };
                Ok(Outcome::Write(
                    batch,
                    Box::new(move |_, _| {
                        Ok(Registered {
                            consumption: record,
                            created: true,
                            check,
                        })
                    }),
                ))
            })
            .await
    }

    /// Removes a component's reading of a contract.
    pub async fn unregister_consumer(
        &self,
        consumer: &str,
        component: &str,
        contract: &str,
        actor: Actor,
    ) -> Result<Written<()>, Error> {
        validate_name("consumer", consumer)?;
        let consumer = consumer.to_owned();
        let name = ContractName::new(component, contract)?;
        self.inner
            .write(actor, vec![Some(name.clone())], move |index| {
                if index
                    .contract(&name)
                    .and_then(|c| c.consumer(&consumer))
                    .is_none()
                {
                    return Err(Error::not_found(format!(
                        "consumer {consumer} of contract {name}"
                    )));
                }
                let mut gone = Event::new(EventKind::ConsumerUnregistered, Some(&name), String::new());
                gone.consumer = consumer.clone();
                gone.message = format!("{consumer} no longer reads {name}");
                Ok(Outcome::Write(
                    Batch {
                        consumers: vec![(name.clone(), consumer.clone(), None)],
                        events: vec![gone],
                        ..Batch::default()
                    },
                    Box::new(|_, _| Ok(())),
                ))
            })
            .await
    }

    /// The readings of a contract or of a consumer, each with the version
    /// its requirement resolves to now; by contract, then consumer.
    pub fn list_consumers(&self, of: &ConsumersOf) -> Result<Vec<(Consumption, Option<Version>)>, Error> {
        let index = self.inner.index.load();
        let resolved = |name: &ContractName, c: &Consumption| {
            let selector = VersionSelector::Requirement(c.requirement.clone());
            index
                .contract(name)
                .and_then(|entry| resolve(entry, name, &selector).ok())
                .map(|v| v.record.version.clone())
        };
        match of {
            ConsumersOf::Contract(name) => {
                let entry = index
                    .contract(name)
                    .filter(|c| !c.versions.is_empty() || !c.consumers.is_empty())
                    .ok_or_else(|| Error::not_found(format!("contract {name}")))?;
                Ok(entry
                    .consumers
                    .iter()
                    .map(|c| (c.record.clone(), resolved(name, &c.record)))
                    .collect())
            }
            ConsumersOf::Consumer(consumer) => {
                validate_name("consumer", consumer)?;
                let mut out = Vec::new();
                for (component, entry) in &index.components {
                    for (contract, c) in &entry.contracts {
                        if let Some(held) = c.consumer(consumer) {
                            let name = ContractName::new(component.as_str(), contract.as_str())?;
                            out.push((held.record.clone(), resolved(&name, &held.record)));
                        }
                    }
                }
                Ok(out)
            }
        }
    }

    /// Checks a reading against every live version it would read, storing
    /// nothing: what a consumer asks before it deploys.
    pub async fn check_consumer(
        &self,
        component: &str,
        contract: &str,
        requirement: &str,
        reader: &str,
    ) -> Result<(ReadingCheck, bool), Error> {
        let name = ContractName::new(component, contract)?;
        let requirement = parse_requirement(requirement)?;
        let reader = self.parse_reader(reader).await?;
        let index = self.inner.index.load_full();
        let default_draft = self.inner.limits.default_draft;
        let has_reader = reader.is_some();
        let work = self.work();
        tokio::task::spawn_blocking(move || {
            let entry = visible_contract(&index, &name)?;
            let schema = reader.as_ref().map(|(_, s)| s.as_ref());
            crate::engine::within(&work, || {
                check_reading(entry, &name, &requirement, schema, default_draft)
            })
        })
        .await
        .map_err(|e| Error::Internal(format!("consumer check task failed: {e}")))?
        .map(|check| (check, has_reader))
    }

    /// Creates a waiver of consumer breaks for a contract that exists; the
    /// actor is its approver.
    pub async fn create_waiver(
        &self,
        input: WaiverInput<'_>,
        actor: Actor,
    ) -> Result<Written<Waiver>, Error> {
        let name = ContractName::new(input.component, input.contract)?;
        if let Some(consumer) = input.consumer {
            validate_name("consumer", consumer)?;
        }
        for rule in input.rules {
            if accord_compat::rule(rule).is_none() {
                return Err(Error::InvalidArgument {
                    what: "rule_ids",
                    reason: format!("{rule:?} is not a rule id (docs/rules.md lists them)"),
                });
            }
        }
        let reason = input.reason.trim();
        if reason.is_empty() {
            return Err(Error::InvalidArgument {
                what: "reason",
                reason: "a waiver needs a reason: why the break is acceptable".into(),
            });
        }
        super::refuse_long("reason", reason)?;
        let now = now_millis();
        if input.expires_at <= now {
            return Err(Error::InvalidArgument {
                what: "expires_at",
                reason: "a waiver needs an expiry in the future".into(),
            });
        }
        let mut rules = input.rules.to_vec();
        rules.sort();
        rules.dedup();
        let waiver = Waiver {
            id: new_waiver_id()?,
            contract: name.clone(),
            consumer: input.consumer.map(str::to_owned),
            rules,
            reason: reason.to_owned(),
            expires_at: input.expires_at,
            approver: actor.principal.clone(),
            created_at: now,
            revoked: None,
            expiry_recorded: false,
        };
        self.inner
            .write(actor, vec![Some(name.clone())], move |index| {
                visible_contract(index, &name)?;
                let mut created = Event::new(EventKind::WaiverCreated, Some(&name), String::new());
                created.consumer = waiver.consumer.clone().unwrap_or_default();
                created.waiver = waiver.id.clone();
                created.message = format!(
                    "{} until {}: {}",
                    describe(&waiver),
                    humantime::format_rfc3339_seconds(time_of(waiver.expires_at)),
                    waiver.reason
                );
                let waiver = waiver.clone();
                Ok(Outcome::Write(
                    Batch {
                        waivers: vec![waiver.clone()],
                        events: vec![created],
                        note: format!("waiver {}", waiver.id),
                        ..Batch::default()
                    },
                    Box::new(move |_, _| Ok(waiver)),
                ))
            })
            .await
    }

    /// The contract of the waiver `id`, to authorize a call about it.
    pub fn waiver_contract(&self, id: &str) -> Option<ContractName> {
        find_waiver(&self.inner.index.load(), id).map(|w| w.contract.clone())
    }

    /// Revokes an active waiver; revoking it again changes nothing.
    pub async fn revoke_waiver(&self, id: &str, actor: Actor) -> Result<Written<Waiver>, Error> {
        let Some(name) = self.waiver_contract(id) else {
            return Err(Error::not_found(format!("waiver {id:?}")));
        };
        let id = id.to_owned();
        let by = actor.principal.clone();
        self.inner
            .write(actor, vec![Some(name.clone())], move |index| {
                let held = index
                    .contract(&name)
                    .and_then(|c| c.waivers.iter().find(|w| w.id == id))
                    .ok_or_else(|| Error::not_found(format!("waiver {id:?}")))?;
                let now = now_millis();
                match held.state(now) {
                    WaiverState::Revoked => return Ok(Outcome::Done(held.clone())),
                    WaiverState::Expired => {
                        return Err(Error::FailedPrecondition {
                            entity: format!("waiver {id}"),
                            reason: "it has expired already: it covers nothing".into(),
                        });
                    }
                    WaiverState::Active => {}
                }
                let mut revoked = held.clone();
                revoked.revoked = Some(Tombstone {
                    at: now,
                    by: by.clone(),
                });
                let mut event = Event::new(EventKind::WaiverRevoked, Some(&name), String::new());
                event.consumer = revoked.consumer.clone().unwrap_or_default();
                event.waiver = revoked.id.clone();
                event.message = format!("{} revoked by {by}", describe(&revoked));
                Ok(Outcome::Write(
                    Batch {
                        waivers: vec![revoked.clone()],
                        events: vec![event],
                        ..Batch::default()
                    },
                    Box::new(move |_, _| Ok(revoked)),
                ))
            })
            .await
    }

    /// Waivers of one contract, or of every contract `may_see` lets
    /// through; active ones only unless `include_inactive`. By contract,
    /// then creation.
    pub fn list_waivers(
        &self,
        contract: Option<&ContractName>,
        include_inactive: bool,
        may_see: &dyn Fn(&str) -> bool,
    ) -> Vec<Waiver> {
        let index = self.inner.index.load();
        let now = now_millis();
        index
            .components
            .iter()
            .filter(|(component, _)| may_see(component))
            .flat_map(|(_, c)| c.contracts.values())
            .flat_map(|c| c.waivers.iter())
            .filter(|w| contract.is_none_or(|n| &w.contract == n))
            .filter(|w| include_inactive || w.state(now) == WaiverState::Active)
            .cloned()
            .collect()
    }

    /// Records the expiry of every waiver of `name` that has expired and
    /// is not recorded yet: an event and an audit entry each.
    async fn record_expiries(&self, name: ContractName) -> Result<(), Error> {
        let mut actor = Actor::system("ExpireWaiver");
        actor.target = name.to_string();
        let written = self
            .inner
            .write(actor, vec![Some(name.clone())], move |index| {
                let now = now_millis();
                let mut batch = Batch::default();
                for waiver in index.contract(&name).iter().flat_map(|c| c.waivers.iter()) {
                    if waiver.expiry_recorded || waiver.state(now) != WaiverState::Expired {
                        continue;
                    }
                    let mut expired = waiver.clone();
                    expired.expiry_recorded = true;
                    let mut event = Event::new(EventKind::WaiverExpired, Some(&name), String::new());
                    event.consumer = expired.consumer.clone().unwrap_or_default();
                    event.waiver = expired.id.clone();
                    event.message = format!("{} expired", describe(&expired));
                    batch.audit.push(AuditRecord {
                        time_micros: micros(std::time::SystemTime::now()),
                        principal: "system".into(),
                        action: "ExpireWaiver".into(),
                        target: expired.id.clone(),
                        allowed: true,
                        outcome: "OK".into(),
                        message: event.message.clone(),
                    });
                    batch.events.push(event);
                    batch.waivers.push(expired);
                }
                if batch.waivers.is_empty() {
                    // Another replica recorded them first.
                    return Err(Error::not_found("unrecorded expired waiver"));
                }
                batch.note = format!("{} waiver expiry(ies) recorded", batch.waivers.len());
                Ok(Outcome::Write(batch, Box::new(|_, _| Ok(()))))
            })
            .await;
        match written {
            Ok(_) | Err(Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// "waiver w-… of consumer billing (rules A, B)", for messages.
fn describe(waiver: &Waiver) -> String {
    let consumer = match &waiver.consumer {
        Some(c) => format!("consumer {c}"),
        None => "every consumer".into(),
    };
    let rules = if waiver.rules.is_empty() {
        "every rule".to_owned()
    } else {
        format!("rules {}", waiver.rules.join(", "))
    };
    format!(
        "waiver {} of {} for {consumer} ({rules})",
        waiver.id, waiver.contract
    )
}

fn time_of(millis: i64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + Duration::from_millis(u64::try_from(millis).unwrap_or(0))
}

/// The contracts with a waiver whose expiry is not recorded yet, and the
/// earliest such expiry.
fn pending_expiries(index: &Index) -> (Vec<ContractName>, Option<i64>) {
    let now = now_millis();
    let mut due = Vec::new();
    let mut next: Option<i64> = None;
    for contract in index.components.values().flat_map(|c| c.contracts.values()) {
        let mut is_due = false;
        for waiver in contract
            .waivers
            .iter()
            .filter(|w| !w.expiry_recorded && w.revoked.is_none())
        {
            if waiver.expires_at <= now {
                is_due = true;
            } else {
                next = Some(next.map_or(waiver.expires_at, |n| n.min(waiver.expires_at)));
            }
        }
        if is_due && let Some(w) = contract.waivers.first() {
            due.push(w.contract.clone());
        }
    }
    (due, next)
}

/// Records the expiry of waivers for as long as the registry lives: when
/// one is due, when a waiver is created, and at least every
/// [`EXPIRY_EVERY`]. A waiver stops covering anything at its expiry
/// whether or not this has run: the record is for the log.
pub(crate) async fn expiry_loop(registry: Weak<Inner>) {
    let (mut created, mut shutdown) = match registry.upgrade() {
        Some(inner) => (inner.waivers_created.subscribe(), inner.shutdown.subscribe()),
        None => return,
    };
    loop {
        if *shutdown.borrow() {
            return;
        }
        let Some(inner) = registry.upgrade() else {
            return;
        };
        created.borrow_and_update();
        let (due, next) = pending_expiries(&inner.index.load());
        let this = Registry { inner, work: None };
        let mut failed = false;
        for name in due {
            if let Err(e) = this.record_expiries(name.clone()).await {
                tracing::warn!(contract = %name, error = %e, "cannot record the expiry of waivers; retrying later");
                failed = true;
            }
        }
        // A registry that is gone must not be kept by its expiry loop.
        drop(this);
        let wait = match (failed, next) {
            (true, _) => Duration::from_secs(5),
            (false, Some(at)) => {
                Duration::from_millis(u64::try_from(at - now_millis()).unwrap_or(0)).min(EXPIRY_EVERY)
            }
            (false, None) => EXPIRY_EVERY,
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = created.changed() => {}
            _ = shutdown.wait_for(|stopping| *stopping) => return,
        }
    }
}
