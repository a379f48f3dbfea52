//! The outcome of checking one contract, shared by the offline engine path
//! and the registry path so that every output format reads one shape.
//!
//! Its JSON form is a documented contract with CI scripts (see README.md,
//! "JSON output"): fields are only ever added, never renamed or removed.

use accord_compat::{Bump, Direction, Finding};
use serde::Serialize;
use serde_json::Value;

use crate::locate::Lines;

/// One difference between two schemas, as printed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingOut {
    /// Stable rule id, e.g. `MAX_LENGTH_DECREASED`.
    pub rule: String,
    /// JSON pointer in the older schema (`#/properties/a`).
    pub old_path: String,
    /// JSON pointer in the newer schema.
    pub new_path: String,
    /// One line with the old and new values.
    pub message: String,
    /// Whether the difference keeps compatibility in `direction`.
    pub compatible: bool,
    /// `backward` or `forward`.
    pub direction: String,
    /// The earlier schema this finding is against: a file offline, a version
    /// online; `null` when there is only one.
    pub against: Option<String>,
    /// A document that shows the break, when one could be built.
    pub witness: Option<Value>,
    /// The line of `new_path` (or of its closest ancestor) in the schema
    /// file, when there is a file.
    pub line: Option<usize>,
}

impl FindingOut {
    /// Converts an engine finding; `against` names the earlier schemas by index.
    pub fn from_engine(finding: &Finding, against: &[String], lines: &Lines) -> Self {
        Self {
            rule: finding.rule.clone(),
            old_path: finding.old_path.clone(),
            new_path: finding.new_path.clone(),
            message: finding.message.clone(),
            compatible: finding.compatible,
            direction: direction_name(finding.direction).to_owned(),
            against: finding.against.and_then(|i| against.get(i).cloned()),
            witness: finding.witness.clone(),
            line: lines.line(&finding.new_path),
        }
    }

    /// Converts a finding received from the registry.
    pub fn from_registry(finding: &accord_client::Finding, lines: &Lines) -> Self {
        Self {
            rule: finding.rule_id.clone(),
            old_path: finding.old_path.clone(),
            new_path: finding.new_path.clone(),
            message: finding.message.clone(),
            compatible: finding.compatible,
            direction: direction_name(finding.direction).to_owned(),
            against: finding.against_version.as_ref().map(ToString::to_string),
            witness: finding.witness.clone(),
            line: lines.line(&finding.new_path),
        }
    }
}

/// What the registry decided, for checks and publishes made against it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RegistryDecision {
    /// `ACCEPTED`, `ALREADY_PUBLISHED`, `INCOMPATIBLE`, `VERSION_TOO_LOW`, `VERSION_EXISTS`.
    pub verdict: String,
    /// The registry's sentence explaining the verdict.
    pub explanation: String,
    /// The version that was (or would be) stored.
    pub version: String,
    /// The version it was compared with; empty for a first version.
    pub predecessor_version: String,
    /// The smallest version the registry would accept.
    pub smallest_acceptable_version: String,
    /// The versions the schema was checked against.
    pub checked_against: Vec<String>,
}

/// The outcome of checking one contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    /// The contract (`component/contract`), or the schema file offline.
    pub contract: String,
    /// The schema file checked, when there is one; annotations point at it.
    pub schema_file: Option<String>,
    /// True when the change is accepted under the mode and policy.
    pub compatible: bool,
    /// The compatibility mode, e.g. `BACKWARD`.
    pub mode: String,
    /// `STRICT` or `LENIENT`.
    pub policy: String,
    /// `none`, `patch`, `minor` or `major`.
    pub required_bump: String,
    /// Every difference found, breaking ones and compatible ones.
    pub findings: Vec<FindingOut>,
    /// Present for checks and publishes made against a registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<RegistryDecision>,
}

impl CheckReport {
    /// The findings that break compatibility.
    pub fn breaking(&self) -> impl Iterator<Item = &FindingOut> {
        self.findings.iter().filter(|f| !f.compatible)
    }
}

/// The lowercase name of an engine bump.
pub fn bump_name(bump: Bump) -> &'static str {
    match bump {
        Bump::None => "none",
        Bump::Patch => "patch",
        Bump::Minor => "minor",
        Bump::Major => "major",
    }
}

fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::Backward => "backward",
        Direction::Forward => "forward",
    }
}
