//! Semver is the policy: the one decision function behind both
//! PublishContract and CheckCompatibility ([`decide`]), and the version
//! arithmetic it rests on.
//!
//! A *line* is what must stay compatible: one major version from 1 on, one
//! minor version in 0.x. A version must be above every live release of its
//! line; it is checked against the latest one (or, in a transitive mode,
//! every earlier one) and its bump over that predecessor must be at least the
//! bump the change requires. A version that opens a new line may break, and
//! is still compared with the latest earlier release so that the answer lists
//! what broke. Pre-releases are never predecessors.
//!
//! Without a version, the registry assigns the next patch or minor version;
//! a change that needs a new line is refused instead, naming the version that
//! would announce it. Every refusal names the smallest acceptable version,
//! and that version is one [`decide`] accepts for the same schema.

use accord_compat::{Bump, Mode, Schema};
use semver::Version;

use crate::{
    error::Error,
    model::{CompatConfig, ContractName, StoredVersion},
};

pub use crate::model::{Decision, Found, Verdict};

/// The compatibility line of a version: its major from 1 on, `0.minor` before.
pub fn line_of(v: &Version) -> (u64, u64) {
    if v.major >= 1 { (v.major, 0) } else { (0, v.minor) }
}

/// The first version of a line.
fn line_start(line: (u64, u64)) -> Version {
    match line {
        (0, minor) => Version::new(0, minor, 0),
        (major, _) => Version::new(major, 0, 0),
    }
}

/// The line after `line`.
fn next_line(line: (u64, u64)) -> (u64, u64) {
    match line {
        (0, minor) => (0, minor + 1),
        (major, _) => (major + 1, 0),
    }
}

/// The bump `to` declares over `from`. Within a 0.x line a patch bump is the
/// most there is, so it may carry compatible changes: it counts as minor.
pub fn declared_bump(from: &Version, to: &Version) -> Bump {
    if line_of(from) != line_of(to) {
        Bump::Major
    } else if from.major >= 1 && from.minor != to.minor {
        Bump::Minor
    } else if from.patch != to.patch {
        if from.major == 0 { Bump::Minor } else { Bump::Patch }
    } else {
        Bump::None
    }
}

/// The first release after `from` that makes a `bump`.
pub fn next_version(from: &Version, bump: Bump) -> Version {
    match (from.major, bump) {
        (0, Bump::Major) => Version::new(0, from.minor + 1, 0),
        (0, _) => Version::new(0, from.minor, from.patch + 1),
        (major, Bump::Major) => Version::new(major + 1, 0, 0),
        (major, Bump::Minor) => Version::new(major, from.minor + 1, 0),
        (major, Bump::Patch | Bump::None) => Version::new(major, from.minor, from.patch + 1),
    }
}

fn bump_name(bump: Bump) -> &'static str {
    match bump {
        Bump::None => "no",
        Bump::Patch => "a patch",
        Bump::Minor => "a minor",
        Bump::Major => "a major",
    }
}

/// The versions of one contract, as the decision sees them.
struct History<'a> {
    all: &'a [StoredVersion],
    /// The server's draft for schemas without `$schema`.
    default_draft: accord_compat::Draft,
}

impl History<'_> {
    fn live_releases(&self) -> impl Iterator<Item = &StoredVersion> {
        self.all
            .iter()
            .filter(|v| v.record.is_visible() && v.record.version.pre.is_empty())
    }

    fn exists(&self, version: &Version) -> bool {
        self.all.iter().any(|v| &v.record.version == version)
    }

    fn latest_release(&self) -> Option<&StoredVersion> {
        self.live_releases()
            .max_by(|a, b| a.record.version.cmp(&b.record.version))
    }

    fn latest_release_in(&self, line: (u64, u64)) -> Option<&StoredVersion> {
        self.live_releases()
            .filter(|v| line_of(&v.record.version) == line)
            .max_by(|a, b| a.record.version.cmp(&b.record.version))
    }

    /// What a version of `line` is checked against: the line's live
    /// releases, oldest first, all of them in a transitive mode, else only
    /// the latest. The last one is the predecessor; empty for a new line.
    fn line_releases(&self, line: (u64, u64), config: CompatConfig) -> Vec<&StoredVersion> {
        let mut releases: Vec<&StoredVersion> = self
            .live_releases()
            .filter(|v| line_of(&v.record.version) == line)
            .collect();
        releases.sort_by(|a, b| a.record.version.cmp(&b.record.version));
        if !config.mode.is_transitive() && releases.len() > 1 {
            releases.drain(..releases.len() - 1);
        }
        releases
    }

    /// `candidate` moved up until it is free and above its line's releases.
    fn first_free_from(&self, mut candidate: Version) -> Version {
        loop {
            if let Some(top) = self.latest_release_in(line_of(&candidate))
                && top.record.version >= candidate
            {
                candidate = next_version(&top.record.version, Bump::Patch);
                continue;
            }
            if self.exists(&candidate) {
                candidate = next_version(&candidate, Bump::Patch);
                continue;
            }
            return candidate;
        }
    }
}

/// What a stored schema is parsed under: no limit. It passed the limits
/// in force when it was published, and a limit lowered later must not make
/// it unreadable: stored schemas are always readable, whatever the flags.
const STORED_LIMITS: accord_compat::Limits = accord_compat::Limits {
    max_bytes: usize::MAX,
    max_depth: usize::MAX,
    max_ref_hops: usize::MAX,
    default_draft: accord_compat::Draft::D7,
};

/// Parses the schema of a stored version in the draft it was published
/// under (recorded with it); a version of the first store format, which did
/// not record it, is read in `default_draft`, the server's setting.
pub fn parse_stored(
    name: &ContractName,
    stored: &StoredVersion,
    default_draft: accord_compat::Draft,
) -> Result<Schema, Error> {
    let limits = accord_compat::Limits {
        default_draft: stored.record.draft.unwrap_or(default_draft),
        ..STORED_LIMITS
    };
    Schema::parse_with(&stored.schema, &limits).map_err(|e| Error::FailedPrecondition {
        entity: format!("version {name}@{}", stored.record.version),
        reason: format!("the stored schema no longer parses ({e}); it cannot be compared with"),
    })
}

/// Decides a publish of `new` (fingerprint `fingerprint`) as `asked` (or an
/// assigned version) given every stored version of the contract, oldest
/// first, soft-deleted ones included.
pub fn decide(
    name: &ContractName,
    history: &[StoredVersion],
    new: &Schema,
    fingerprint: &str,
    asked: Option<Version>,
    config: CompatConfig,
    default_draft: accord_compat::Draft,
) -> Result<Decision, Error> {
    let ctx = Context {
        name,
        history: History {
            all: history,
            default_draft,
        },
        new,
        fingerprint,
        config,
    };
    let mut decision = match asked {
        Some(version) => ctx.decide_version(version, None),
        None => ctx.decide_unversioned(),
    }?;
    let read: Vec<String> = new.warnings().iter().map(ToString::to_string).collect();
    decision.warnings.splice(0..0, read);
    Ok(decision)
}

/// What `new` was compared with, and what that found.
struct Comparison {
    /// The versions compared with, oldest first; the last is the predecessor.
    against: Vec<Version>,
    findings: Vec<Found>,
    /// The bump the change requires (at most minor under mode NONE).
    required: Bump,
    /// Breaking findings left without a witness because the time for
    /// witness search ran out.
    witnesses_timed_out: usize,
}

impl Comparison {
    /// What a reader of the decision should know about this comparison.
    fn warnings(&self) -> Vec<String> {
        match self.witnesses_timed_out {
            0 => Vec::new(),
            n => vec![format!(
                "{n} breaking finding(s) have no witness document: the time for witness search (--witness-time) was spent; the verdict is unaffected"
            )],
        }
    }
}

/// One decision's inputs.
struct Context<'a> {
    name: &'a ContractName,
    history: History<'a>,
    new: &'a Schema,
    fingerprint: &'a str,
    config: CompatConfig,
}

impl Context<'_> {
    /// Compares the new schema with `against` (oldest first).
    fn compare(&self, against: &[&StoredVersion]) -> Result<Comparison, Error> {
        let schemas = against
            .iter()
            .map(|v| parse_stored(self.name, v, self.history.default_draft))
            .collect::<Result<Vec<_>, _>>()?;
        let refs: Vec<&Schema> = schemas.iter().collect();
        let against: Vec<Version> = against.iter().map(|v| v.record.version.clone()).collect();
        let Some(predecessor) = against.last().cloned() else {
            return Ok(Comparison {
                against,
                findings: Vec::new(),
                required: Bump::None,
                witnesses_timed_out: 0,
            });
        };
        let report = crate::engine::check(self.new, &refs, self.config.mode, self.config.policy)?;
        let findings = report
            .findings
            .into_iter()
            .map(|finding| Found {
                against: finding
                    .against
                    .and_then(|i| against.get(i).cloned())
                    .unwrap_or_else(|| predecessor.clone()),
                finding,
            })
            .collect();
        Ok(Comparison {
            against,
            findings,
            required: required_bump(report.required_bump, self.config),
            witnesses_timed_out: report.witnesses_timed_out,
        })
    }

    /// The smallest version at or above `line` that [`decide`] accepts for
    /// the new schema: the first line whose releases the change is
    /// compatible with, bumped by what it requires there, or the first free
    /// version of a line without releases (a new line may break).
    /// `required` is what the change requires in `line`, when known.
    fn smallest_acceptable(
        &self,
        mut line: (u64, u64),
        mut required: Option<Bump>,
    ) -> Result<Version, Error> {
        loop {
            let releases = self.history.line_releases(line, self.config);
            let Some(top) = releases.last() else {
                return Ok(self.history.first_free_from(line_start(line)));
            };
            let required = match required.take() {
                Some(bump) => bump,
                None => self.compare(&releases)?.required,
            };
            if required < Bump::Major {
                return Ok(self
                    .history
                    .first_free_from(next_version(&top.record.version, required.max(Bump::Patch))));
            }
            line = next_line(line);
        }
    }

    /// How to get past a refusal, for its message.
    fn advice(&self, smallest: &Version) -> String {
        match self.history.latest_release_in(line_of(smallest)) {
            None => format!("publish it as {smallest} (a new line, free to break)"),
            Some(top) => format!(
                "the smallest acceptable version is {smallest} (after {} in its line)",
                top.record.version
            ),
        }
    }

    /// A publish without a version: the next patch or minor version, or a
    /// refusal when the change needs a new line.
    fn decide_unversioned(&self) -> Result<Decision, Error> {
        let Some(latest) = self.history.latest_release() else {
            let first = self.history.first_free_from(Version::new(1, 0, 0));
            return Ok(Decision {
                assigned: true,
                ..self.decide_version(first, None)?
            });
        };
        // The same content as the latest release: that release again.
        if latest.record.fingerprint == self.fingerprint {
            let version = latest.record.version.clone();
            return Ok(Decision {
                assigned: true,
                ..self.decide_version(version, None)?
            });
        }
        let latest = latest.record.version.clone();
        let line = line_of(&latest);
        let comparison = self.compare(&self.history.line_releases(line, self.config))?;
        if comparison.required < Bump::Major {
            let version = self
                .history
                .first_free_from(next_version(&latest, comparison.required.max(Bump::Patch)));
            return Ok(Decision {
                assigned: true,
                ..self.decide_version(version, Some(comparison))?
            });
        }
        let smallest = self.smallest_acceptable(line, Some(Bump::Major))?;
        let message = format!(
            "{} breaks readers under {} ({}), and a break is never given a version automatically: \
             announce it by publishing it as {smallest}",
            self.name,
            self.config.mode,
            breaking_summary(&comparison),
        );
        Ok(Decision {
            verdict: Verdict::Incompatible,
            message,
            version: smallest.clone(),
            assigned: true,
            warnings: comparison.warnings(),
            predecessor: comparison.against.last().cloned(),
            declared_bump: None,
            required_bump: comparison.required,
            checked_against: comparison.against,
            findings: comparison.findings,
            smallest_acceptable: smallest,
            config: self.config,
            fingerprint: self.fingerprint.to_owned(),
            impacts: Vec::new(),
            blocked_by_consumers: false,
        })
    }

    /// A publish as `version`. `known` is the comparison with the releases
    /// of the version's line, when the caller has made it already.
    fn decide_version(&self, version: Version, known: Option<Comparison>) -> Result<Decision, Error> {
        let name = self.name;
        let mut decision = Decision {
            verdict: Verdict::Accepted,
            message: String::new(),
            version: version.clone(),
            assigned: false,
            warnings: Vec::new(),
            predecessor: None,
            checked_against: Vec::new(),
            findings: Vec::new(),
            required_bump: Bump::None,
            declared_bump: None,
            smallest_acceptable: version.clone(),
            config: self.config,
            fingerprint: self.fingerprint.to_owned(),
            impacts: Vec::new(),
            blocked_by_consumers: false,
        };
        let existing = self.history.all.iter().find(|v| v.record.version == version);
        if let Some(existing) = existing
            && existing.record.is_visible()
            && existing.record.fingerprint == self.fingerprint
        {
            decision.declared_bump = existing.record.bump;
            decision.verdict = Verdict::AlreadyPublished;
            decision.message = format!("{name}@{version} is already published with the same content");
            return Ok(decision);
        }

        let line = line_of(&version);
        let in_line = self.history.line_releases(line, self.config);
        let top_of_line = in_line.last().map(|v| v.record.version.clone());
        // A version not above its line (or one that exists) is compared as
        // if it came after the top of the line, so that the answer says what
        // the change needs. A new line is compared with the latest earlier
        // release, for the record.
        let comparison = match known {
            Some(comparison) if top_of_line.is_some() => comparison,
            _ if top_of_line.is_some() => self.compare(&in_line)?,
            _ => {
                let before = self
                    .history
                    .live_releases()
                    .filter(|v| v.record.version < version)
                    .max_by(|a, b| a.record.version.cmp(&b.record.version));
                self.compare(&before.into_iter().collect::<Vec<_>>())?
            }
        };
        let required = comparison.required;
        decision.required_bump = required;
        decision.predecessor = comparison.against.last().cloned();
        decision.declared_bump = decision.predecessor.as_ref().map(|p| declared_bump(p, &version));
        let breaking = breaking_summary(&comparison);
        decision.warnings = comparison.warnings();
        decision.checked_against = comparison.against;
        decision.findings = comparison.findings;
        let declared = decision.declared_bump;

        let too_low = top_of_line.as_ref().is_some_and(|top| version <= *top);
        if existing.is_none() {
            match (&top_of_line, &decision.predecessor, declared) {
                (_, None, _) => {
                    decision.message = format!("{name}@{version} is the first version of the contract");
                    return Ok(decision);
                }
                (None, Some(predecessor), _) => {
                    decision.message = format!(
                        "{name}@{version} opens a new line after {predecessor}, free to break; the change alone would need {} bump",
                        bump_name(required)
                    );
                    return Ok(decision);
                }
                (Some(_), Some(predecessor), Some(declared))
                    if !too_low && required < Bump::Major && declared >= required =>
                {
                    decision.message = format!(
                        "{name}@{version} is accepted: {} bump over {predecessor}, the change requires {} bump",
                        bump_name(declared),
                        bump_name(required)
                    );
                    return Ok(decision);
                }
                _ => {}
            }
        }

        decision.verdict = if existing.is_some() {
            Verdict::VersionExists
        } else if too_low || required < Bump::Major {
            Verdict::VersionTooLow
        } else {
            Verdict::Incompatible
        };
        let known = top_of_line.as_ref().map(|_| required);
        let smallest = self.smallest_acceptable(line, known)?;
        decision.smallest_acceptable = smallest.clone();
        let advice = self.advice(&smallest);
        decision.message = match (existing, &top_of_line, &decision.predecessor, declared) {
            (Some(existing), ..) if existing.record.erased.is_some() => format!(
                "{name}@{version} was hard-deleted by {} (its number stays taken: a version number is never reused); {advice}",
                existing
                    .record
                    .erased
                    .as_ref()
                    .map_or("an admin", |t| if t.by.is_empty() {
                        "an admin"
                    } else {
                        t.by.as_str()
                    })
            ),
            (Some(existing), ..) if existing.record.deleted_at.is_some() => format!(
                "{name}@{version} exists and is soft-deleted: restore it, or publish another version; {advice}"
            ),
            (Some(existing), ..) => format!(
                "{name}@{version} is already published with other content (fingerprint {}); versions never change: {advice}",
                existing.record.fingerprint
            ),
            (None, Some(top), ..) if too_low => {
                format!("{name}@{version} is not above {top}, the latest release of its line; {advice}")
            }
            (None, _, Some(predecessor), Some(declared)) if required < Bump::Major => format!(
                "{name}@{version} makes {} bump over {predecessor} but the change requires {} bump; {advice}",
                bump_name(declared),
                bump_name(required)
            ),
            _ => format!(
                "{name}@{version} breaks readers under {} ({breaking}); {advice}",
                self.config.mode
            ),
        };
        Ok(decision)
    }
}

/// "N incompatible finding(s) against 1.2.0, 1.3.0", for messages.
fn breaking_summary(comparison: &Comparison) -> String {
    let incompatible = comparison
        .findings
        .iter()
        .filter(|f| !f.finding.compatible)
        .count();
    format!(
        "{incompatible} incompatible finding(s) against {}",
        comparison
            .against
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Under mode NONE nothing is checked, so nothing can require a new line.
fn required_bump(engine: Bump, config: CompatConfig) -> Bump {
    if config.mode == Mode::None {
        engine.min(Bump::Minor)
    } else {
        engine
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::model::VersionRecord;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    fn stored(version: &str, schema: &str) -> StoredVersion {
        let value: serde_json::Value = serde_json::from_str(schema).unwrap();
        StoredVersion {
            record: Arc::new(VersionRecord {
                name: ContractName::new("orders", "placed").unwrap(),
                version: v(version),
                fingerprint: accord_compat::fingerprint(&value),
                created_at: 0,
                bump: None,
                deprecated: None,
                deleted_at: None,
                draft: None,
                published_by: String::new(),
                erased: None,
            }),
            schema: Arc::from(schema),
        }
    }

    fn run(history: &[StoredVersion], schema: &str, asked: Option<&str>) -> Decision {
        let name = ContractName::new("orders", "placed").unwrap();
        let new = Schema::parse(schema).unwrap();
        let fp = accord_compat::fingerprint(new.value());
        decide(
            &name,
            history,
            &new,
            &fp,
            asked.map(v),
            CompatConfig::default(),
            accord_compat::Draft::D7,
        )
        .unwrap()
    }

    const A: &str = r#"{"type":"object"}"#;
    const B: &str = r#"{"type":"string"}"#;

    #[test]
    fn lines_are_majors_from_one_and_minors_before() {
        assert_eq!(line_of(&v("1.2.3")), line_of(&v("1.9.0")));
        assert_ne!(line_of(&v("1.2.3")), line_of(&v("2.0.0")));
        assert_eq!(line_of(&v("0.3.1")), line_of(&v("0.3.7")));
        assert_ne!(line_of(&v("0.3.1")), line_of(&v("0.4.0")));
        assert_eq!(line_of(&v("2.0.0-rc.1")), line_of(&v("2.1.0")));
    }

    #[test]
    fn declared_bumps() {
        assert_eq!(declared_bump(&v("1.2.3"), &v("2.0.0")), Bump::Major);
        assert_eq!(declared_bump(&v("1.2.3"), &v("1.3.0")), Bump::Minor);
        assert_eq!(declared_bump(&v("1.2.3"), &v("1.2.4")), Bump::Patch);
        assert_eq!(declared_bump(&v("0.2.3"), &v("0.2.4")), Bump::Minor);
        assert_eq!(declared_bump(&v("0.2.3"), &v("0.3.0")), Bump::Major);
    }

    #[test]
    fn next_versions() {
        assert_eq!(next_version(&v("1.2.3"), Bump::Major), v("2.0.0"));
        assert_eq!(next_version(&v("1.2.3"), Bump::Minor), v("1.3.0"));
        assert_eq!(next_version(&v("1.2.3"), Bump::Patch), v("1.2.4"));
        assert_eq!(next_version(&v("1.2.3"), Bump::None), v("1.2.4"));
        assert_eq!(next_version(&v("0.2.3"), Bump::Major), v("0.3.0"));
        assert_eq!(next_version(&v("0.2.3"), Bump::Minor), v("0.2.4"));
    }

    #[test]
    fn first_version_is_accepted_and_assigned_one_zero_zero() {
        let d = run(&[], A, None);
        assert_eq!(d.verdict, Verdict::Accepted);
        assert_eq!(d.version, v("1.0.0"));
        assert_eq!(d.predecessor, None);
        assert_eq!(run(&[], A, Some("0.1.0")).version, v("0.1.0"));
    }

    #[test]
    fn same_content_is_idempotent_and_other_content_conflicts() {
        let history = [stored("1.0.0", A)];
        assert_eq!(run(&history, A, Some("1.0.0")).verdict, Verdict::AlreadyPublished);
        // Without a version, the same content is the latest release again.
        let d = run(&history, A, None);
        assert_eq!((d.verdict, d.version), (Verdict::AlreadyPublished, v("1.0.0")));
        let d = run(&history, B, Some("1.0.0"));
        assert_eq!(d.verdict, Verdict::VersionExists);
        assert!(d.message.contains("other content"), "{}", d.message);
    }

    #[test]
    fn a_soft_deleted_version_number_stays_taken() {
        let mut gone = stored("1.0.0", A);
        Arc::make_mut(&mut gone.record).deleted_at = Some(5);
        let history = [gone];
        let d = run(&history, A, Some("1.0.0"));
        assert_eq!(d.verdict, Verdict::VersionExists);
        assert_eq!(d.smallest_acceptable, v("1.0.1"));
        // Assignment skips it.
        assert_eq!(run(&history, A, None).version, v("1.0.1"));
    }

    #[test]
    fn a_version_below_the_top_of_its_line_is_too_low() {
        let history = [stored("1.0.0", A), stored("1.2.0", A)];
        let d = run(&history, A, Some("1.1.0"));
        assert_eq!(d.verdict, Verdict::VersionTooLow);
        assert_eq!(d.smallest_acceptable, v("1.2.1"));
        assert!(d.message.contains("not above 1.2.0"), "{}", d.message);
        // Even with nothing below it in the line.
        let d = run(&history[1..], A, Some("1.1.0"));
        assert_eq!(d.verdict, Verdict::VersionTooLow);
        assert_eq!(d.predecessor, Some(v("1.2.0")));
    }

    #[test]
    fn pre_releases_are_never_predecessors() {
        let history = [stored("1.0.0", A), stored("1.1.0-rc.1", B)];
        let d = run(&history, A, Some("1.1.0"));
        assert_eq!(d.verdict, Verdict::Accepted);
        assert_eq!(d.predecessor, Some(v("1.0.0")));
        // A patch release below an open pre-release is fine too.
        assert_eq!(run(&history, A, Some("1.0.1")).verdict, Verdict::Accepted);
    }

    #[test]
    fn a_new_line_is_compared_with_the_previous_one_and_accepted() {
        let history = [stored("1.0.0", A), stored("1.3.0", A)];
        let d = run(&history, B, Some("2.0.0"));
        assert_eq!(d.verdict, Verdict::Accepted);
        assert_eq!(d.predecessor, Some(v("1.3.0")));
        assert_eq!(d.declared_bump, Some(Bump::Major));
    }

    #[test]
    fn transitive_modes_check_every_release_of_the_line() {
        let name = ContractName::new("orders", "placed").unwrap();
        let history = [
            stored("0.9.0", A),
            stored("1.0.0", A),
            stored("1.1.0", A),
            stored("1.2.0-rc.1", A),
            stored("1.2.0", A),
        ];
        let new = Schema::parse(A).unwrap();
        let fp = "other";
        let mut config = CompatConfig::default();
        let d = decide(
            &name,
            &history,
            &new,
            fp,
            Some(v("1.3.0")),
            config,
            accord_compat::Draft::D7,
        )
        .unwrap();
        assert_eq!(d.checked_against, vec![v("1.2.0")]);
        config.mode = Mode::BackwardTransitive;
        let d = decide(
            &name,
            &history,
            &new,
            fp,
            Some(v("1.3.0")),
            config,
            accord_compat::Draft::D7,
        )
        .unwrap();
        assert_eq!(d.checked_against, vec![v("1.0.0"), v("1.1.0"), v("1.2.0")]);
    }

    #[test]
    fn a_taken_version_still_reports_the_change_and_what_it_needs() {
        let history = [stored("1.0.0", A), stored("1.1.0", A)];
        // Another content as 1.1.0: the change from 1.1.0 (object to string)
        // breaks, so the next free patch would be refused as well.
        let d = run(&history, B, Some("1.1.0"));
        assert_eq!(d.verdict, Verdict::VersionExists);
        assert_eq!(d.required_bump, Bump::Major);
        assert!(
            d.findings.iter().any(|f| !f.finding.compatible),
            "{:?}",
            d.findings
        );
        assert_eq!(d.predecessor, Some(v("1.1.0")));
        assert_eq!(d.checked_against, vec![v("1.1.0")]);
        assert_eq!(d.smallest_acceptable, v("2.0.0"));
        assert!(d.message.contains("2.0.0"), "{}", d.message);
        // An annotation only: the next patch will do.
        let titled = r#"{"type":"object","title":"placed"}"#;
        let d = run(&history, titled, Some("1.0.0"));
        assert_eq!(d.verdict, Verdict::VersionExists);
        assert_eq!(d.required_bump, Bump::Patch);
        assert_eq!(d.smallest_acceptable, v("1.1.1"));
    }

    #[test]
    fn without_a_version_a_break_is_refused_naming_the_major_to_announce() {
        let history = [stored("1.0.0", A), stored("1.3.0", A)];
        let d = run(&history, B, None);
        assert_eq!(d.verdict, Verdict::Incompatible);
        assert!(!d.is_accepted());
        assert!(d.assigned);
        assert_eq!(d.required_bump, Bump::Major);
        assert_eq!(d.smallest_acceptable, v("2.0.0"));
        assert_eq!(d.predecessor, Some(v("1.3.0")));
        assert!(
            d.findings.iter().any(|f| !f.finding.compatible),
            "{:?}",
            d.findings
        );
        assert!(
            d.message.contains("announce it by publishing it as 2.0.0"),
            "{}",
            d.message
        );
        // Announced, it is accepted.
        assert_eq!(run(&history, B, Some("2.0.0")).verdict, Verdict::Accepted);
        // Compatible changes are still assigned the next patch or minor.
        let titled = r#"{"type":"object","title":"placed"}"#;
        let d = run(&history, titled, None);
        assert_eq!((d.verdict, d.version), (Verdict::Accepted, v("1.3.1")));
        assert!(d.assigned);
    }

    #[test]
    fn the_suggested_version_skips_a_later_line_the_change_breaks_too() {
        // 1.4.0 and 2.3.0 stored, a break of 1.4.0 asked as 1.5.0 used to be
        // told 2.3.1, which the comparison with 2.3.0 then refused.
        let history = [stored("1.4.0", A), stored("2.3.0", A)];
        let d = run(&history, B, Some("1.5.0"));
        assert_eq!(d.verdict, Verdict::Incompatible);
        assert_eq!(d.smallest_acceptable, v("3.0.0"));
        assert_eq!(run(&history, B, Some("3.0.0")).verdict, Verdict::Accepted);
        assert_eq!(run(&history, B, Some("2.3.1")).verdict, Verdict::Incompatible);
        // A change that only 1.4.0 finds breaking fits the 2.x line.
        let history = [stored("1.4.0", A), stored("2.3.0", B)];
        let described = r#"{"type":"string","description":"an id"}"#;
        let d = run(&history, described, Some("1.5.0"));
        assert_eq!(d.verdict, Verdict::Incompatible);
        assert_eq!(d.smallest_acceptable, v("2.3.1"));
        assert_eq!(run(&history, described, Some("2.3.1")).verdict, Verdict::Accepted);
    }

    use crate::test_rng::Rng;

    /// Schemas whose changes between one another need every kind of bump,
    /// in either direction.
    const SCHEMAS: [&str; 7] = [
        r#"{"type":"object","additionalProperties":false,"properties":{"id":{"type":"string"}}}"#,
        r#"{"type":"object","additionalProperties":false,"properties":{"id":{"type":"string"},"note":{"type":"string"}}}"#,
        r#"{"type":"object","additionalProperties":false,"properties":{"id":{"type":"integer"}}}"#,
        r#"{"type":"object","description":"d","additionalProperties":false,"properties":{"id":{"type":"string"}}}"#,
        r#"{"type":"object"}"#,
        r#"{"type":"string","maxLength":10}"#,
        r#"{"type":"string","maxLength":5}"#,
    ];

    fn random_version(rng: &mut Rng) -> Version {
        let mut version = Version::new(rng.below(4), rng.below(4), rng.below(3));
        if rng.below(8) == 0 {
            version.pre = semver::Prerelease::new("rc.1").unwrap();
        }
        version
    }

    /// For random histories (soft-deleted versions and pre-releases
    /// included), modes, versions and changes: a refusal's smallest
    /// acceptable version is accepted, no release below it (from the line
    /// asked for on) is, and an assigned version is never a major.
    /// `ACCORD_POLICY_SEED` replays another seed.
    #[test]
    fn the_smallest_acceptable_version_is_accepted_and_nothing_below_it_is() {
        let name = ContractName::new("orders", "placed").unwrap();
        let seed = std::env::var("ACCORD_POLICY_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x5EED_ACC0_4D00_0001_u64);
        let mut rng = Rng(seed);
        let grid: Vec<Version> = (0..5)
            .flat_map(|major| {
                (0..5).flat_map(move |minor| (0..4).map(move |patch| Version::new(major, minor, patch)))
            })
            .collect();
        let mut refusals = 0;
        for case in 0..300 {
            let mut history: Vec<StoredVersion> = Vec::new();
            for _ in 0..rng.below(6) {
                let version = random_version(&mut rng);
                if history.iter().any(|s| s.record.version == version) {
                    continue;
                }
                let schema = SCHEMAS[rng.below(SCHEMAS.len() as u64) as usize];
                let mut s = stored(&version.to_string(), schema);
                if rng.below(5) == 0 {
                    Arc::make_mut(&mut s.record).deleted_at = Some(1);
                }
                history.push(s);
            }
            history.sort_by(|a, b| a.record.version.cmp(&b.record.version));
            let text = *rng.pick(&SCHEMAS);
            let new = Schema::parse(text).unwrap();
            let fp = accord_compat::fingerprint(new.value());
            let config = CompatConfig {
                mode: *rng.pick(&Mode::ALL),
                ..CompatConfig::default()
            };
            let asked = (rng.below(3) != 0).then(|| random_version(&mut rng));
            let decide_as = |version: Option<Version>| {
                decide(
                    &name,
                    &history,
                    &new,
                    &fp,
                    version,
                    config,
                    accord_compat::Draft::D7,
                )
                .unwrap()
            };
            let context = || {
                let versions: Vec<String> = history
                    .iter()
                    .map(|s| {
                        let deleted = if s.record.deleted_at.is_some() {
                            " (deleted)"
                        } else {
                            ""
                        };
                        format!("{}{deleted}", s.record.version)
                    })
                    .collect();
                format!(
                    "seed {seed}, case {case}: history {versions:?}, mode {}, asked {asked:?}, schema {text}",
                    config.mode
                )
            };
            let d = decide_as(asked.clone());
            if d.assigned && d.verdict == Verdict::Accepted {
                assert_ne!(
                    d.declared_bump,
                    Some(Bump::Major),
                    "an assigned major: {}",
                    context()
                );
            }
            if d.is_accepted() {
                continue;
            }
            refusals += 1;
            let smallest = d.smallest_acceptable.clone();
            assert!(smallest.pre.is_empty(), "{}", context());
            let retried = decide_as(Some(smallest.clone()));
            assert_eq!(
                retried.verdict,
                Verdict::Accepted,
                "{smallest} was suggested ({}) and then refused ({}); {}",
                d.message,
                retried.message,
                context()
            );
            let start = asked
                .as_ref()
                .map(line_of)
                .or_else(|| d.predecessor.as_ref().map(line_of))
                .unwrap_or((0, 0));
            for below in grid.iter().filter(|g| line_of(g) >= start && **g < smallest) {
                assert_ne!(
                    decide_as(Some(below.clone())).verdict,
                    Verdict::Accepted,
                    "{below} is accepted and below the suggested {smallest}; {}",
                    context()
                );
            }
        }
        // The cases exercise refusals, not only acceptances.
        assert!(refusals > 50, "only {refusals} refusals in 300 cases");
    }
}
