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

use accord_compat::{Bump, Mode, Schema};
use semver::Version;

pub use crate::model::{Decision, Found, Verdict};
use crate::{
    error::Error,
    model::{CompatConfig, ContractName, StoredVersion},
};

/// The compatibility line of a version: its major from 1 on, `0.minor` before.
pub fn line_of(v: &Version) -> (u64, u64) {
    if v.major >= 1 { (v.major, 0) } else { (0, v.minor) }
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

    fn latest_release_in(&self, line: (u64, u64)) -> Option<&StoredVersion> {
        self.live_releases()
            .filter(|v| line_of(&v.record.version) == line)
            .max_by(|a, b| a.record.version.cmp(&b.record.version))
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
    let history = History {
        all: history,
        default_draft,
    };
    let version = match asked {
        Some(v) => v,
        None => assign(name, &history, new, fingerprint, config)?,
    };
    decide_version(name, &history, new, fingerprint, version, config)
}

/// The version a publish without one gets: the latest release bumped by
/// what the change requires (the latest release itself when the content is
/// the same); 1.0.0 for a first version.
fn assign(
    name: &ContractName,
    history: &History<'_>,
    new: &Schema,
    fingerprint: &str,
    config: CompatConfig,
) -> Result<Version, Error> {
    let Some(latest) = history
        .live_releases()
        .max_by(|a, b| a.record.version.cmp(&b.record.version))
    else {
        return Ok(history.first_free_from(Version::new(1, 0, 0)));
    };
    if latest.record.fingerprint == fingerprint {
        return Ok(latest.record.version.clone());
    }
    let line = line_of(&latest.record.version);
    let earlier = earlier_in_line(history, line, &latest.record.version, true, config);
    let schemas = earlier
        .iter()
        .map(|v| parse_stored(name, v, history.default_draft))
        .collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&Schema> = schemas.iter().collect();
    let report = accord_compat::check(new, &refs, config.mode, config.policy);
    let required = required_bump(report.required_bump, config).max(Bump::Patch);
    Ok(history.first_free_from(next_version(&latest.record.version, required)))
}

/// Under mode NONE nothing is checked, so nothing can require a new line.
fn required_bump(engine: Bump, config: CompatConfig) -> Bump {
    if config.mode == Mode::None {
        engine.min(Bump::Minor)
    } else {
        engine
    }
}

/// Live releases of `line` below `version` (or up to it when `inclusive`),
/// oldest first: all of them in a transitive mode, else only the latest.
fn earlier_in_line<'a>(
    history: &'a History<'_>,
    line: (u64, u64),
    version: &Version,
    inclusive: bool,
    config: CompatConfig,
) -> Vec<&'a StoredVersion> {
    let mut earlier: Vec<&StoredVersion> = history
        .live_releases()
        .filter(|v| {
            line_of(&v.record.version) == line
                && (v.record.version < *version || (inclusive && v.record.version == *version))
        })
        .collect();
    earlier.sort_by(|a, b| a.record.version.cmp(&b.record.version));
    if !config.mode.is_transitive() && earlier.len() > 1 {
        earlier.drain(..earlier.len() - 1);
    }
    earlier
}

fn decide_version(
    name: &ContractName,
    history: &History<'_>,
    new: &Schema,
    fingerprint: &str,
    version: Version,
    config: CompatConfig,
) -> Result<Decision, Error> {
    let mut decision = Decision {
        verdict: Verdict::Accepted,
        message: String::new(),
        version: version.clone(),
        predecessor: None,
        checked_against: Vec::new(),
        findings: Vec::new(),
        required_bump: Bump::None,
        declared_bump: None,
        smallest_acceptable: version.clone(),
        config,
        fingerprint: fingerprint.to_owned(),
    };

    if let Some(existing) = history.all.iter().find(|v| v.record.version == version) {
        decision.declared_bump = existing.record.bump;
        if let Some(tombstone) = &existing.record.erased {
            decision.verdict = Verdict::VersionExists;
            decision.smallest_acceptable = history.first_free_from(version.clone());
            decision.message = format!(
                "{name}@{version} was hard-deleted by {} (its number stays taken: a version number is never reused); publish {} or later",
                if tombstone.by.is_empty() {
                    "an admin"
                } else {
                    tombstone.by.as_str()
                },
                decision.smallest_acceptable
            );
        } else if existing.record.deleted_at.is_some() {
            decision.verdict = Verdict::VersionExists;
            decision.smallest_acceptable = history.first_free_from(version.clone());
            decision.message = format!(
                "{name}@{version} exists and is soft-deleted: restore it, or publish another version ({} is free)",
                decision.smallest_acceptable
            );
        } else if existing.record.fingerprint == fingerprint {
            decision.verdict = Verdict::AlreadyPublished;
            decision.message = format!("{name}@{version} is already published with the same content");
        } else {
            decision.verdict = Verdict::VersionExists;
            decision.smallest_acceptable = history.first_free_from(version.clone());
            decision.message = format!(
                "{name}@{version} is already published with other content (fingerprint {}); versions never change, publish {} or later",
                existing.record.fingerprint, decision.smallest_acceptable
            );
        }
        return Ok(decision);
    }

    let line = line_of(&version);
    let top_of_line = history.latest_release_in(line).map(|v| v.record.version.clone());
    // A version not above its line is compared as if it came after the top
    // of the line, so that the refusal can name the version to use instead.
    let earlier = match &top_of_line {
        Some(top) if version <= *top => earlier_in_line(history, line, top, true, config),
        _ => earlier_in_line(history, line, &version, false, config),
    };
    let (against, opens_line) = match earlier.last() {
        Some(_) => (earlier.clone(), false),
        // A new line: compared with the latest earlier release, for the record.
        None => (
            history
                .live_releases()
                .filter(|v| v.record.version < version)
                .max_by(|a, b| a.record.version.cmp(&b.record.version))
                .into_iter()
                .collect(),
            true,
        ),
    };
    let Some(predecessor) = against.last().map(|v| v.record.version.clone()) else {
        decision.message = format!("{name}@{version} is the first version of the contract");
        return Ok(decision);
    };

    let schemas = against
        .iter()
        .map(|v| parse_stored(name, v, history.default_draft))
        .collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&Schema> = schemas.iter().collect();
    let report = accord_compat::check(new, &refs, config.mode, config.policy);
    decision.findings = report
        .findings
        .into_iter()
        .map(|finding| {
            let against_version = finding
                .against
                .and_then(|i| against.get(i))
                .map_or_else(|| predecessor.clone(), |v| v.record.version.clone());
            Found {
                finding,
                against: against_version,
            }
        })
        .collect();
    decision.required_bump = required_bump(report.required_bump, config);
    decision.checked_against = against.iter().map(|v| v.record.version.clone()).collect();
    decision.predecessor = Some(predecessor.clone());
    let declared = declared_bump(&predecessor, &version);
    decision.declared_bump = Some(declared);
    let required = decision.required_bump;

    if opens_line {
        decision.message = format!(
            "{name}@{version} opens a new line after {predecessor}, free to break; the change alone would need {} bump",
            bump_name(required)
        );
        return Ok(decision);
    }

    let top_of_line = top_of_line.unwrap_or_else(|| predecessor.clone());
    if version <= top_of_line {
        decision.verdict = Verdict::VersionTooLow;
        decision.smallest_acceptable =
            history.first_free_from(next_version(&top_of_line, required.max(Bump::Patch)));
        decision.message = format!(
            "{name}@{version} is not above {top_of_line}, the latest release of its line; the smallest acceptable version is {}",
            decision.smallest_acceptable
        );
    } else if required == Bump::Major {
        let incompatible = decision.findings.iter().filter(|f| !f.finding.compatible).count();
        decision.verdict = Verdict::Incompatible;
        decision.smallest_acceptable = history.first_free_from(next_version(&predecessor, Bump::Major));
        decision.message = format!(
            "{name}@{version} breaks readers under {} ({incompatible} incompatible finding(s) against {}); publish it as {} (a new line) or later",
            config.mode,
            decision
                .checked_against
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            decision.smallest_acceptable
        );
    } else if declared < required {
        decision.verdict = Verdict::VersionTooLow;
        decision.smallest_acceptable = history.first_free_from(next_version(&predecessor, required));
        decision.message = format!(
            "{name}@{version} makes {} bump over {predecessor} but the change requires {} bump; the smallest acceptable version is {}",
            bump_name(declared),
            bump_name(required),
            decision.smallest_acceptable
        );
    } else {
        decision.message = format!(
            "{name}@{version} is accepted: {} bump over {predecessor}, the change requires {} bump",
            bump_name(declared),
            bump_name(required)
        );
    }
    Ok(decision)
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
            record: VersionRecord {
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
            },
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
        gone.record.deleted_at = Some(5);
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
}
