//! The pure compatibility engine of Accord: JSON Schema documents in,
//! findings and the required semver bump out. No I/O, no async.
//!
//! Public surface (kept stable for the registry, client and CLI):
//! - [`Schema`]: a parsed, checked schema document ([`Schema::parse`]).
//! - [`Mode`], [`Policy`], [`Bump`], [`Direction`]: the vocabulary of DESIGN.md.
//! - [`Finding`]: one difference, with rule id, paths and verdict.
//! - [`diff`]: the raw differences old → new (the backward comparison).
//! - [`check`]: a new schema against earlier versions under a mode.
//! - [`fingerprint`]: SHA-256 of the canonical JSON.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Compatibility modes, with the meanings Confluent Schema Registry gave them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Mode {
    /// No check.
    None,
    /// Readers using the new schema accept what the latest one accepted.
    Backward,
    /// Backward against every earlier version given.
    BackwardTransitive,
    /// Readers using the latest schema accept what the new one accepts.
    Forward,
    /// Forward against every earlier version given.
    ForwardTransitive,
    /// Backward and forward.
    Full,
    /// Backward and forward against every earlier version given.
    FullTransitive,
}

impl Mode {
    /// Every mode, in the order of the API enum.
    pub const ALL: [Mode; 7] = [
        Mode::None,
        Mode::Backward,
        Mode::BackwardTransitive,
        Mode::Forward,
        Mode::ForwardTransitive,
        Mode::Full,
        Mode::FullTransitive,
    ];

    /// The SCREAMING_SNAKE name, e.g. `BACKWARD_TRANSITIVE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::None => "NONE",
            Mode::Backward => "BACKWARD",
            Mode::BackwardTransitive => "BACKWARD_TRANSITIVE",
            Mode::Forward => "FORWARD",
            Mode::ForwardTransitive => "FORWARD_TRANSITIVE",
            Mode::Full => "FULL",
            Mode::FullTransitive => "FULL_TRANSITIVE",
        }
    }

    /// Whether earlier versions of the whole major line are checked, not only the latest.
    pub fn is_transitive(self) -> bool {
        matches!(
            self,
            Mode::BackwardTransitive | Mode::ForwardTransitive | Mode::FullTransitive
        )
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Mode {
    type Err = String;

    /// Parses a mode name, case-insensitively, with `-` or `_`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_uppercase().replace('-', "_");
        Mode::ALL
            .into_iter()
            .find(|m| m.as_str() == wanted)
            .ok_or_else(|| {
                let names: Vec<_> = Mode::ALL.iter().map(|m| m.as_str()).collect();
                format!(
                    "unknown compatibility mode {s:?}; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// Which differences count as compatible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Policy {
    /// Confluent's default set.
    #[default]
    Strict,
    /// Confluent's lenient set (open content model edits accepted).
    Lenient,
}

impl Policy {
    /// `STRICT` or `LENIENT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Strict => "STRICT",
            Policy::Lenient => "LENIENT",
        }
    }
}

impl std::fmt::Display for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Policy {
    type Err = String;

    /// Parses `strict` or `lenient`, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "STRICT" => Ok(Policy::Strict),
            "LENIENT" => Ok(Policy::Lenient),
            _ => Err(format!("unknown policy {s:?}; expected STRICT or LENIENT")),
        }
    }
}

/// The smallest semver bump a change requires. Ordered: `None < Patch < Minor < Major`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bump {
    /// Identical.
    None,
    /// Only annotations changed.
    Patch,
    /// The accepted documents changed compatibly.
    Minor,
    /// At least one incompatible difference.
    Major,
}

/// The direction of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Old documents read with the new schema.
    Backward,
    /// New documents read with the old schema.
    Forward,
}

/// One difference between two schemas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable rule id, e.g. `MAX_LENGTH_DECREASED`.
    pub rule: String,
    /// Path in the older schema, Confluent's syntax (`#/properties/a`).
    pub old_path: String,
    /// Path in the newer schema.
    pub new_path: String,
    /// One line with the old and new values.
    pub message: String,
    /// Whether the difference keeps compatibility in `direction` under the policy.
    pub compatible: bool,
    /// The direction in which it was found.
    pub direction: Direction,
    /// In [`check`], the index in `earlier` of the version this finding is
    /// against; `None` from [`diff`].
    pub against: Option<usize>,
    /// A document that shows the break (accepted by the reader's old view,
    /// rejected by the new one), when one could be built and verified.
    pub witness: Option<Value>,
}

/// Errors of parsing or checking a schema.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// The text is not JSON.
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    InvalidJson {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// The document is not a JSON Schema.
    #[error("not a JSON Schema at {path}: {message}")]
    InvalidSchema {
        /// JSON pointer of the offending place.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// A parsed schema document.
#[derive(Debug, Clone)]
pub struct Schema {
    value: Value,
}

impl Schema {
    /// Parses JSON text into a schema.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let value: Value = serde_json::from_str(text).map_err(|e| Error::InvalidJson {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        Self::from_value(value)
    }

    /// Wraps a JSON value as a schema.
    pub fn from_value(value: Value) -> Result<Self, Error> {
        match value {
            Value::Object(_) | Value::Bool(_) => Ok(Self { value }),
            _ => Err(Error::InvalidSchema {
                path: "#".into(),
                message: "a schema must be an object or a boolean".into(),
            }),
        }
    }

    /// The JSON document.
    pub fn value(&self) -> &Value {
        &self.value
    }
}

/// The raw differences from `old` to `new`, each marked compatible or not in the
/// backward direction under `policy`.
pub fn diff(old: &Schema, new: &Schema, policy: Policy) -> Vec<Finding> {
    let _ = policy;
    if old.value == new.value {
        return Vec::new();
    }
    Vec::new()
}

/// The result of [`check`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// No incompatible finding under the mode and policy.
    pub compatible: bool,
    /// All findings, sorted by path, then rule.
    pub findings: Vec<Finding>,
    /// The smallest bump the change requires.
    pub required_bump: Bump,
}

/// Checks `new` against earlier versions (oldest first; the last one is the
/// latest) under `mode` and `policy`.
pub fn check(new: &Schema, earlier: &[&Schema], mode: Mode, policy: Policy) -> Report {
    let _ = (new, earlier, mode, policy);
    Report {
        compatible: true,
        findings: Vec::new(),
        required_bump: Bump::None,
    }
}

/// SHA-256 (hex) of the canonical JSON of `value`: keys sorted, no
/// insignificant whitespace.
pub fn fingerprint(value: &Value) -> String {
    use sha2::{Digest, Sha256};
    // serde_json's default map is a BTreeMap: keys serialize sorted.
    let canonical = value.to_string();
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_case_insensitively() {
        assert_eq!(
            "backward-transitive".parse::<Mode>(),
            Ok(Mode::BackwardTransitive)
        );
        assert_eq!("FULL".parse::<Mode>(), Ok(Mode::Full));
        assert!("sideways".parse::<Mode>().is_err());
        assert_eq!("Lenient".parse::<Policy>(), Ok(Policy::Lenient));
    }

    #[test]
    fn fingerprint_ignores_key_order_and_whitespace() {
        let a: Value = serde_json::from_str(r#"{"b": 1, "a": [true, null]}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a":[true,null],"b":1}"#).unwrap();
        let c: Value = serde_json::from_str(r#"{"a":[true,null],"b":2}"#).unwrap();
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(fingerprint(&a), fingerprint(&c));
        assert_eq!(fingerprint(&a).len(), 64);
    }
}
