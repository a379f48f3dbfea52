//! The registry's vocabulary: validated names and versions, stored versions,
//! compatibility settings and events. Plain data, shared by the service and
//! the store (which serialises it).

use std::{fmt, sync::Arc, time::SystemTime};

use accord_compat::{Bump, Mode, Policy};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The longest component or contract name, in bytes.
pub const MAX_NAME_LEN: usize = 64;

/// Checks a component or contract name: lowercase ASCII letters, digits,
/// `.`, `_`, `-`; starts with a letter or a digit; at most 64 bytes.
/// `what` names the field in the error ("component", "contract").
pub fn validate_name(what: &'static str, name: &str) -> Result<(), Error> {
    let invalid = |reason: String| Error::InvalidArgument {
        what,
        reason: format!("{what} name {name:?} {reason}"),
    };
    let Some(first) = name.chars().next() else {
        return Err(Error::InvalidArgument {
            what,
            reason: format!("{what} name is empty"),
        });
    };
    if name.len() > MAX_NAME_LEN {
        return Err(invalid(format!(
            "is {} bytes long; the limit is {MAX_NAME_LEN}",
            name.len()
        )));
    }
    if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
        return Err(invalid("must start with a lowercase letter or a digit".into()));
    }
    if let Some((at, bad)) = name
        .char_indices()
        .find(|(_, c)| !matches!(c, 'a'..='z' | '0'..='9' | '.' | '_' | '-'))
    {
        return Err(invalid(format!(
            "has {bad:?} at byte {at}; allowed are lowercase ASCII letters, digits, '.', '_' and '-'"
        )));
    }
    Ok(())
}

/// A validated `component/contract` pair.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ContractName {
    /// The owning component, e.g. `orders`.
    pub component: String,
    /// The contract, e.g. `order-placed`.
    pub contract: String,
}

impl ContractName {
    /// Validates both names.
    pub fn new(component: &str, contract: &str) -> Result<Self, Error> {
        validate_name("component", component)?;
        validate_name("contract", contract)?;
        Ok(Self {
            component: component.to_owned(),
            contract: contract.to_owned(),
        })
    }
}

impl fmt::Display for ContractName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.component, self.contract)
    }
}

/// Parses an exact SemVer 2.0 version. Build metadata is refused: SemVer
/// gives `1.0.0+a` and `1.0.0+b` the same precedence, so two such versions
/// could not be told apart by a requirement.
pub fn parse_version(text: &str) -> Result<semver::Version, Error> {
    refuse_surrounding_whitespace("version", text)?;
    let version = semver::Version::parse(text).map_err(|e| Error::InvalidArgument {
        what: "version",
        reason: format!("version {text:?} is not a SemVer 2.0 version (MAJOR.MINOR.PATCH[-PRE]): {e}"),
    })?;
    if !version.build.is_empty() {
        return Err(Error::InvalidArgument {
            what: "version",
            reason: format!(
                "version {text:?} has build metadata (+{}); it is not supported",
                version.build
            ),
        });
    }
    Ok(version)
}

/// Refuses a version or requirement with whitespace around it. The semver
/// crate tolerates it, but a version is an identifier: `" 1.0.1"` stored or
/// matched as `1.0.1` would make two spellings of one version.
pub fn refuse_surrounding_whitespace(what: &'static str, text: &str) -> Result<(), Error> {
    if text.trim() != text {
        return Err(Error::InvalidArgument {
            what,
            reason: format!("{what} {text:?} has whitespace around it; give it exactly, e.g. \"1.4.0\""),
        });
    }
    Ok(())
}

/// Milliseconds since the Unix epoch, the registry's clock.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The compatibility settings of a contract (or the global default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompatConfig {
    /// What readers may rely on.
    pub mode: Mode,
    /// Which differences count as compatible.
    pub policy: Policy,
}

impl Default for CompatConfig {
    /// `BACKWARD` + `STRICT`, as Confluent's registry defaults.
    fn default() -> Self {
        Self {
            mode: Mode::Backward,
            policy: Policy::Strict,
        }
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

/// One stored version of a contract, without its schema text (stored once
/// per fingerprint).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRecord {
    /// Which contract.
    pub name: ContractName,
    /// The version.
    pub version: semver::Version,
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
}

impl VersionRecord {
    /// Whether reads may see it.
    pub fn is_visible(&self) -> bool {
        self.deleted_at.is_none()
    }
}

/// A version with its schema text, as held by the in-memory index.
#[derive(Debug, Clone)]
pub struct StoredVersion {
    /// The record.
    pub record: VersionRecord,
    /// The schema as published; shared between versions with the same fingerprint.
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
}

/// A durable registry event. Sequences increase by one with each event.
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_design_rules() {
        for ok in ["orders", "order-placed", "a", "9lives", "x.y_z-1"] {
            assert!(validate_name("contract", ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(65);
        for bad in ["", "Orders", "-x", ".x", "a/b", "a b", "é", long.as_str()] {
            let err = validate_name("contract", bad).expect_err(bad);
            assert!(err.to_string().contains("contract name"), "{err}");
        }
        assert!(validate_name("contract", &"a".repeat(64)).is_ok());
    }

    #[test]
    fn versions_are_semver_without_build_metadata() {
        assert_eq!(parse_version("1.2.3").ok(), Some(semver::Version::new(1, 2, 3)));
        assert!(parse_version("2.0.0-rc.1").is_ok());
        for bad in [
            "",
            "1",
            "1.2",
            "v1.2.3",
            "1.2.3+build",
            "01.2.3",
            " 1.2.3",
            "1.2.3\n",
            "\t1.2.3",
        ] {
            assert!(parse_version(bad).is_err(), "{bad}");
        }
    }
}
