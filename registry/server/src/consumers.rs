//! Consumers in the decisions of the registry, pure functions of an index
//! snapshot:
//!
//! - [`decide`]: the publish decision ([`policy::decide`], the semver
//!   policy) with what the version does to each registered consumer of the
//!   contract, behind both PublishContract and CheckCompatibility. An
//!   unwaived break refuses the publish unless the contract's setting says
//!   warn; the smallest acceptable version then also avoids the consumers
//!   it breaks.
//! - [`check_reading`]: a reading (requirement and reader schema) against
//!   every live version that satisfies it, for CheckConsumer and
//!   RegisterConsumer.
//! - [`stranded`]: the consumers a deprecation or a hard delete would leave
//!   without a version that satisfies their requirement.
//!
//! A consumer is judged by the engine's BACKWARD check with the consumer's
//! schema as the new side and the version as the old one: the consumer
//! must accept every document the version accepts. It runs under STRICT
//! whatever the contract's policy: LENIENT calls some edits of open content
//! models compatible although the reader rejects documents, and an OK
//! verdict must never hide a document the consumer would reject. Without a
//! reader schema, the consumer's schema is the version its requirement
//! resolves to now, the one it validates with until it fetches again.

use std::{collections::HashMap, sync::Arc};

use accord_compat::{Draft, Finding, Mode, Policy, Schema};
use semver::{Comparator, Op, Version, VersionReq};

use crate::{
    error::Error,
    index::{ConsumerEntry, ContractIndex, Index, resolve},
    model::{
        ConsumerBreaks, ConsumerImpact, Consumption, ContractName, Decision, ImpactOutcome, StoredVersion,
        Verdict, VersionRecord, VersionSelector, Waiver,
    },
    policy::{self, parse_stored},
};

/// How many times the search for a version that avoids the broken
/// consumers may move up before it says that none does.
const MAX_ESCAPES: usize = 64;

/// The incompatible findings of `consumer` reading the documents of
/// `version`: each is a way the version accepts a document the consumer
/// rejects, with such a document as its witness when one could be built.
pub fn reading_findings(consumer: &Schema, version: &Schema) -> Result<Vec<Finding>, Error> {
    Ok(
        crate::engine::check(consumer, &[version], Mode::Backward, Policy::Strict)?
            .findings
            .into_iter()
            .filter(|f| !f.compatible)
            .collect(),
    )
}

/// A version with its parsed schema.
fn parsed(name: &ContractName, stored: &StoredVersion, default_draft: Draft) -> Result<Schema, Error> {
    parse_stored(name, stored, default_draft)
}

/// What one consumer makes of the schema being decided on, whatever its
/// version number: that depends only on the consumer's schema.
#[derive(Debug, Clone)]
struct Judgement {
    reader: bool,
    against: Option<Version>,
    findings: Vec<Finding>,
}

/// Judges the consumers of one contract against one schema, each at most
/// once, and only when a version it would read is asked about.
struct Judge<'a> {
    name: &'a ContractName,
    contract: &'a ContractIndex,
    schema: &'a Schema,
    fingerprint: &'a str,
    default_draft: Draft,
    now: i64,
    judged: Vec<Option<Judgement>>,
    /// The findings of each consumer schema (a reader, or a stored version)
    /// against the schema decided on, by its fingerprint: consumers that
    /// read with the same schema are judged once.
    findings: HashMap<String, Vec<Finding>>,
}

impl<'a> Judge<'a> {
    fn entry(&self, at: usize) -> &'a ConsumerEntry {
        &self.contract.consumers[at]
    }

    fn judgement(&mut self, at: usize) -> Result<&Judgement, Error> {
        if self.judged[at].is_none() {
            let judged = self.judge(at)?;
            self.judged[at] = Some(judged);
        }
        Ok(self.judged[at].as_ref().expect("judged just above"))
    }

    fn judge(&mut self, at: usize) -> Result<Judgement, Error> {
        let entry = self.entry(at);
        if let Some(reader) = entry.reader(self.default_draft) {
            let reader = reader?;
            let fingerprint = entry
                .record
                .reader
                .as_ref()
                .map(|r| r.fingerprint.clone())
                .unwrap_or_default();
            return Ok(Judgement {
                reader: true,
                against: None,
                findings: self.findings_of(&fingerprint, || Ok(reader))?,
            });
        }
        let selector = VersionSelector::Requirement(entry.record.requirement.clone());
        let Ok(current) = resolve(self.contract, self.name, &selector) else {
            // Nothing resolves for it yet: this version would be its first.
            return Ok(Judgement {
                reader: false,
                against: None,
                findings: Vec::new(),
            });
        };
        let (name, default_draft) = (self.name, self.default_draft);
        let findings = self.findings_of(&current.record.fingerprint, || {
            Ok(Arc::new(parsed(name, current, default_draft)?))
        })?;
        Ok(Judgement {
            reader: false,
            against: Some(current.record.version.clone()),
            findings,
        })
    }

    /// The findings of the consumer schema with `fingerprint` (parsed by
    /// `schema` when needed) against the schema decided on: none when they
    /// are the same document.
    fn findings_of(
        &mut self,
        fingerprint: &str,
        schema: impl FnOnce() -> Result<Arc<Schema>, Error>,
    ) -> Result<Vec<Finding>, Error> {
        if fingerprint == self.fingerprint {
            return Ok(Vec::new());
        }
        if let Some(found) = self.findings.get(fingerprint) {
            return Ok(found.clone());
        }
        let found = reading_findings(&*schema()?, self.schema)?;
        self.findings.insert(fingerprint.to_owned(), found.clone());
        Ok(found)
    }

    /// The active waivers that cover every finding of the consumer at
    /// `at`, the longest-lived first for each finding; `None` when some
    /// finding is not covered.
    fn covering(&self, at: usize, findings: &[Finding]) -> Option<Vec<Waiver>> {
        let consumer = &self.entry(at).record.consumer;
        let mut used: Vec<Waiver> = Vec::new();
        for finding in findings {
            let best = self
                .contract
                .waivers
                .iter()
                .filter(|w| w.covers(consumer, &finding.rule, self.now))
                .max_by(|a, b| (a.expires_at, &a.id).cmp(&(b.expires_at, &b.id)))?;
            if !used.iter().any(|w| w.id == best.id) {
                used.push(best.clone());
            }
        }
        Some(used)
    }

    /// What a version numbered `version` does to the consumer at `at`.
    fn impact(&mut self, at: usize, version: &Version) -> Result<ConsumerImpact, Error> {
        let entry = self.entry(at);
        let mut impact = ConsumerImpact {
            consumer: entry.record.consumer.clone(),
            requirement: entry.record.requirement.clone(),
            outcome: ImpactOutcome::NotAffected,
            reader: entry.record.reader.is_some(),
            against: None,
            findings: Vec::new(),
            waivers: Vec::new(),
            refuses: false,
        };
        if !entry.record.requirement.matches(version) {
            return Ok(impact);
        }
        let judgement = self.judgement(at)?.clone();
        impact.reader = judgement.reader;
        impact.against = judgement.against;
        if judgement.findings.is_empty() {
            impact.outcome = ImpactOutcome::Ok;
            return Ok(impact);
        }
        match self.covering(at, &judgement.findings) {
            Some(waivers) => {
                impact.outcome = ImpactOutcome::Waived;
                impact.waivers = waivers;
            }
            None => impact.outcome = ImpactOutcome::Breaks,
        }
        impact.findings = judgement.findings;
        Ok(impact)
    }

    /// Whether a version numbered `version` breaks a consumer that no
    /// waiver covers; each such consumer's requirement.
    fn blockers(&mut self, version: &Version) -> Result<Vec<VersionReq>, Error> {
        let mut blocking = Vec::new();
        for at in 0..self.contract.consumers.len() {
            if self.impact(at, version)?.outcome == ImpactOutcome::Breaks {
                blocking.push(self.entry(at).record.requirement.clone());
            }
        }
        Ok(blocking)
    }

    /// The smallest version from `start` on that the semver policy accepts
    /// (`semver`) and that breaks no consumer without a waiver; `None` when
    /// a broken consumer accepts every later version.
    fn escape(
        &mut self,
        mut candidate: Version,
        semver: &dyn Fn(Version) -> Result<Decision, Error>,
    ) -> Result<Option<Version>, Error> {
        for _ in 0..MAX_ESCAPES {
            let mut above: Option<Version> = None;
            for requirement in self.blockers(&candidate)? {
                match upper_bound(&requirement) {
                    None => return Ok(None),
                    Some(bound) => above = Some(above.map_or(bound.clone(), |a| a.max(bound))),
                }
            }
            let Some(above) = above else {
                return Ok(Some(candidate));
            };
            let decision = semver(above.clone())?;
            let next = if decision.is_accepted() {
                above
            } else {
                decision.smallest_acceptable
            };
            if next <= candidate {
                return Ok(None);
            }
            candidate = next;
        }
        Ok(None)
    }
}

/// The first release at or above which `requirement` matches nothing more,
/// or `None` when it has no upper bound (`>=1`, `*`). A requirement is
/// the conjunction of its comparators, so its bound is the least of theirs.
pub fn upper_bound(requirement: &VersionReq) -> Option<Version> {
    requirement.comparators.iter().filter_map(comparator_bound).min()
}

fn comparator_bound(c: &Comparator) -> Option<Version> {
    let next_of = |minor: Option<u64>, patch: Option<u64>| match (minor, patch) {
        (Some(minor), Some(patch)) => Version::new(c.major, minor, patch + 1),
        (Some(minor), None) => Version::new(c.major, minor + 1, 0),
        (None, _) => Version::new(c.major + 1, 0, 0),
    };
    match c.op {
        Op::Exact | Op::Wildcard | Op::LessEq => Some(next_of(c.minor, c.patch)),
        Op::Less => Some(Version::new(c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0))),
        Op::Tilde => Some(match c.minor {
            Some(minor) => Version::new(c.major, minor + 1, 0),
            None => Version::new(c.major + 1, 0, 0),
        }),
        Op::Caret => Some(match (c.major, c.minor, c.patch) {
            (0, Some(0), Some(patch)) => Version::new(0, 0, patch + 1),
            (0, Some(0), None) => Version::new(0, 1, 0),
            (0, Some(minor), _) => Version::new(0, minor + 1, 0),
            (0, None, _) => Version::new(1, 0, 0),
            (major, _, _) => Version::new(major + 1, 0, 0),
        }),
        // `>`, `>=`, and any operator semver adds later: no bound known.
        _ => None,
    }
}

fn names(impacts: &[&ConsumerImpact]) -> String {
    impacts
        .iter()
        .map(|i| format!("{} ({})", i.consumer, i.requirement))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Decides a publish of `schema` as `asked` (or an assigned version), with
/// its consumer impacts: the one decision behind publish and check. `now`
/// (Unix milliseconds) says which waivers are in force.
pub fn decide(
    index: &Index,
    name: &ContractName,
    schema: &Schema,
    fingerprint: &str,
    asked: Option<Version>,
    default_draft: Draft,
    now: i64,
) -> Result<Decision, Error> {
    let contract = index.contract(name);
    let config = index.config_for(name).config;
    let history = contract.map_or(&[][..], |c| c.versions.as_slice());
    let semver = |asked: Option<Version>| {
        policy::decide(name, history, schema, fingerprint, asked, config, default_draft)
    };
    let mut decision = semver(asked)?;
    let Some(contract) = contract.filter(|c| !c.consumers.is_empty()) else {
        return Ok(decision);
    };
    let mut judge = Judge {
        name,
        contract,
        schema,
        fingerprint,
        default_draft,
        now,
        judged: vec![None; contract.consumers.len()],
        findings: HashMap::new(),
    };
    let version = decision.version.clone();
    decision.impacts = (0..contract.consumers.len())
        .map(|at| judge.impact(at, &version))
        .collect::<Result<_, _>>()?;
    let refuse =
        config.consumer_breaks == ConsumerBreaks::Refuse && decision.verdict != Verdict::AlreadyPublished;
    for impact in &mut decision.impacts {
        impact.refuses = refuse && impact.outcome == ImpactOutcome::Breaks;
    }
    if !refuse {
        return Ok(decision);
    }
    let broken: Vec<&ConsumerImpact> = decision.impacts.iter().filter(|i| i.refuses).collect();
    let breaking = names(&broken);
    let findings: usize = broken.iter().map(|i| i.findings.len()).sum();
    let semver_at = |v: Version| semver(Some(v));
    match decision.verdict {
        Verdict::AlreadyPublished => Ok(decision),
        Verdict::Accepted if broken.is_empty() => Ok(decision),
        Verdict::Accepted => {
            let escape = judge.escape(version.clone(), &semver_at)?;
            let advice = match &escape {
                Some(v) => format!(
                    "the smallest acceptable version is {v}, which their requirements do not accept; \
                     or an admin waives the break (accord waiver create)"
                ),
                None => "no version number avoids them (a requirement without an upper bound accepts \
                     every later version): an admin must waive the break (accord waiver create), or \
                     the consumers change their reading"
                    .to_owned(),
            };
            decision.message = format!(
                "{name}@{version} breaks registered consumer(s) {breaking}: {findings} incompatible \
                 finding(s) in what they read, and no waiver covers them; {advice}"
            );
            decision.verdict = Verdict::Incompatible;
            match escape {
                Some(v) => decision.smallest_acceptable = v,
                None => decision.blocked_by_consumers = true,
            }
            if decision.assigned {
                decision.version = decision.smallest_acceptable.clone();
            }
            Ok(decision)
        }
        Verdict::Incompatible | Verdict::VersionTooLow | Verdict::VersionExists => {
            let suggested = decision.smallest_acceptable.clone();
            match judge.escape(suggested.clone(), &semver_at)? {
                Some(v) if v == suggested => {}
                Some(v) => {
                    decision.message = format!(
                        "{}. Registered consumers that this change breaks accept {suggested} too: \
                         the smallest acceptable version is {v}",
                        decision.message
                    );
                    decision.smallest_acceptable = v;
                }
                None => {
                    decision.message = format!(
                        "{}. Registered consumers that this change breaks accept {suggested} and every \
                         later version: an admin must waive the break (accord waiver create)",
                        decision.message
                    );
                    decision.blocked_by_consumers = true;
                }
            }
            if decision.assigned {
                decision.version = decision.smallest_acceptable.clone();
            }
            Ok(decision)
        }
    }
}

/// One live version checked against a reading.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionCheck {
    /// The version.
    pub version: Version,
    /// Its incompatible findings; empty: the reading accepts it.
    pub findings: Vec<Finding>,
}

/// A reading checked against the live versions it would read.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadingCheck {
    /// Every live version that satisfies the requirement, oldest first.
    pub checks: Vec<VersionCheck>,
    /// The version the requirement resolves to now.
    pub resolves_to: Option<Version>,
}

impl ReadingCheck {
    /// Whether the reading accepts every version it would read, and, for a
    /// reading without a reader schema, resolves at all.
    pub fn ok(&self, has_reader: bool) -> bool {
        self.checks.iter().all(|c| c.findings.is_empty()) && (has_reader || self.resolves_to.is_some())
    }
}

/// Checks a reading against every live (visible) version of `contract`
/// that satisfies `requirement`: with `reader`, the reader must accept every
/// document each accepts; without, the version the requirement resolves to
/// must (the consumer validates with it).
pub fn check_reading(
    contract: &ContractIndex,
    name: &ContractName,
    requirement: &VersionReq,
    reader: Option<&Schema>,
    default_draft: Draft,
) -> Result<ReadingCheck, Error> {
    let selector = VersionSelector::Requirement(requirement.clone());
    let current = resolve(contract, name, &selector).ok();
    let resolved;
    let consumer = match (reader, current) {
        (Some(reader), _) => Some(reader),
        (None, Some(current)) => {
            resolved = parsed(name, current, default_draft)?;
            Some(&resolved)
        }
        (None, None) => None,
    };
    let mut checks = Vec::new();
    for stored in contract
        .visible()
        .filter(|v| requirement.matches(&v.record.version))
    {
        let findings = match consumer {
            Some(consumer) => reading_findings(consumer, &parsed(name, stored, default_draft)?)?,
            None => Vec::new(),
        };
        checks.push(VersionCheck {
            version: stored.record.version.clone(),
            findings,
        });
    }
    Ok(ReadingCheck {
        checks,
        resolves_to: current.map(|v| v.record.version.clone()),
    })
}

/// The consumers of `contract` that have at least one usable version that
/// satisfies their requirement and would have none once `removed` are not
/// usable any more. `usable` says what a consumer can use: for a
/// deprecation, a visible version that is not deprecated; for a hard
/// delete, a visible version.
pub fn stranded<'a>(
    contract: &'a ContractIndex,
    removed: &[&Version],
    usable: impl Fn(&VersionRecord) -> bool,
) -> Vec<&'a Consumption> {
    contract
        .consumers
        .iter()
        .map(|entry| &entry.record)
        .filter(|consumer| {
            let satisfying: Vec<&Version> = contract
                .versions
                .iter()
                .map(|v| &v.record)
                .filter(|r| usable(r) && consumer.requirement.matches(&r.version))
                .map(|r| &r.version)
                .collect();
            !satisfying.is_empty() && satisfying.iter().all(|v| removed.contains(v))
        })
        .collect()
}

#[cfg(test)]
mod tests;
