//! The outcome of checking one contract, shared by the offline engine path
//! and the registry path so that every output format reads one shape; and
//! the outcome of a whole run, errors included.
//!
//! Its JSON form is a documented contract with CI scripts (see README.md,
//! "Output formats"): fields are only ever added, never renamed or removed,
//! and a value that is absent is `null`, never `""`.

use accord_compat::{Bump, Direction, Finding, Policy};
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
    /// `backward` (new readers, old data) or `forward` (old readers, new data).
    pub direction: String,
    /// The earlier schema this finding is against: a file offline, a version
    /// online; `null` when there is only one file.
    pub against: Option<String>,
    /// A document that shows the break, when one could be built.
    pub witness: Option<Value>,
    /// Why a breaking finding has no witness (none in the documents the
    /// search explores, or its time ran out), or, with a witness, that only
    /// validators asserting `format` reject it; omitted otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witness_note: Option<String>,
    /// The line of `new_path` (or of its closest ancestor) in the schema
    /// file; `null` without a file (a diff of stored versions).
    pub line: Option<usize>,
    /// True for a break under the STRICT policy that LENIENT accepts.
    pub lenient_accepts: bool,
}

impl FindingOut {
    /// Converts an engine finding; `against` names the earlier schemas by index.
    pub fn from_engine(finding: &Finding, against: &[String], lines: Option<&Lines>, policy: Policy) -> Self {
        Self {
            rule: finding.rule.clone(),
            old_path: finding.old_path.clone(),
            new_path: finding.new_path.clone(),
            message: finding.message.clone(),
            compatible: finding.compatible,
            direction: direction_name(finding.direction).to_owned(),
            against: finding.against.and_then(|i| against.get(i).cloned()),
            witness: finding.witness.clone(),
            witness_note: finding.witness_note.clone(),
            line: lines.and_then(|l| l.line(&finding.new_path)),
            lenient_accepts: lenient_accepts(&finding.rule, finding.compatible, Some(policy)),
        }
    }

    /// Converts a finding received from the registry, judged under `policy`.
    pub fn from_registry(
        finding: &accord_client::Finding,
        lines: Option<&Lines>,
        policy: Option<Policy>,
    ) -> Self {
        Self {
            rule: finding.rule_id.clone(),
            old_path: finding.old_path.clone(),
            new_path: finding.new_path.clone(),
            message: finding.message.clone(),
            compatible: finding.compatible,
            direction: direction_name(finding.direction).to_owned(),
            against: finding.against_version.as_ref().map(ToString::to_string),
            witness: finding.witness.clone(),
            witness_note: finding.witness_note.clone(),
            line: lines.and_then(|l| l.line(&finding.new_path)),
            lenient_accepts: lenient_accepts(&finding.rule_id, finding.compatible, policy),
        }
    }

    /// Whether this finding is about old readers of new data.
    pub fn is_forward(&self) -> bool {
        self.direction == "forward"
    }
}

/// A break under STRICT whose rule LENIENT accepts (an edit of an open
/// content model): worth saying, since one flag changes the verdict.
fn lenient_accepts(rule: &str, compatible: bool, policy: Option<Policy>) -> bool {
    !compatible
        && policy == Some(Policy::Strict)
        && accord_compat::rule(rule).is_some_and(|r| !r.strict_compatible && r.lenient_compatible)
}

/// What the registry decided, for checks and publishes made against it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RegistryDecision {
    /// `accepted`, `already_published`, `incompatible`, `version_too_low`
    /// or `version_exists`.
    pub verdict: String,
    /// The registry's sentence explaining the verdict.
    pub explanation: Option<String>,
    /// The version stored (or that would be); for a refusal, the version
    /// asked for (`null` when none was).
    pub version: Option<String>,
    /// The version it was compared with; `null` for a first version.
    pub predecessor_version: Option<String>,
    /// For a refusal, the smallest version the registry would accept for
    /// this change; `null` when accepted.
    pub smallest_acceptable_version: Option<String>,
    /// The versions the schema was checked against.
    pub checked_against: Vec<String>,
}

impl RegistryDecision {
    /// Whether the registry accepted (or would accept) the publish.
    pub fn accepted(&self) -> bool {
        matches!(self.verdict.as_str(), "accepted" | "already_published")
    }
}

/// A waiver that covered a consumer's break, as printed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaiverOut {
    /// Its id.
    pub id: String,
    /// When it expires, RFC 3339.
    pub expires_at: Option<String>,
    /// Why the break was accepted.
    pub reason: String,
    /// The admin who approved it.
    pub approver: String,
}

impl WaiverOut {
    /// Converts a waiver received from the registry.
    pub fn from_registry(w: &accord_client::Waiver) -> Self {
        Self {
            id: w.id.clone(),
            expires_at: w.expires_at.map(rfc3339),
            reason: w.reason.clone(),
            approver: w.approver.clone(),
        }
    }
}

/// A time as RFC 3339, to the second.
pub fn rfc3339(time: std::time::SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}

/// What a checked or published version does to one registered consumer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImpactOut {
    /// The consuming component.
    pub consumer: String,
    /// Its requirement, e.g. `^1`.
    pub requirement: String,
    /// `NOT_AFFECTED`, `OK`, `BREAKS` or `WAIVED`.
    pub outcome: &'static str,
    /// Whether it was judged with the consumer's reader schema.
    pub reader: bool,
    /// Without a reader: the version the consumer reads with now.
    pub against_version: Option<String>,
    /// For `BREAKS`: whether the break refuses the publish.
    pub refuses: bool,
    /// How the version breaks the consumer: `old_path` is in the schema
    /// checked (`line` its line there), `new_path` in the consumer's.
    pub findings: Vec<FindingOut>,
    /// For `WAIVED`: the waivers that cover the break.
    pub waivers: Vec<WaiverOut>,
}

impl ImpactOut {
    /// Converts an impact received from the registry; `lines` are those of
    /// the schema checked, where its findings' `old_path`s are.
    pub fn from_registry(i: &accord_client::ConsumerImpact, lines: Option<&Lines>) -> Self {
        Self {
            consumer: i.consumer.clone(),
            requirement: i.requirement.to_string(),
            outcome: i.outcome.as_str(),
            reader: i.reader,
            against_version: i.against_version.as_ref().map(ToString::to_string),
            refuses: i.refuses,
            findings: i
                .findings
                .iter()
                .map(|f| {
                    let mut out = FindingOut::from_registry(f, None, Some(Policy::Strict));
                    out.line = lines.and_then(|l| l.line(&f.old_path));
                    out
                })
                .collect(),
            waivers: i.waivers.iter().map(WaiverOut::from_registry).collect(),
        }
    }

    /// Whether the version breaks the consumer (refused or not, not waived).
    pub fn breaks(&self) -> bool {
        self.outcome == "BREAKS"
    }
}

/// One live version checked against a consumer's reading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VersionCheckOut {
    /// The version.
    pub version: String,
    /// `OK` or `BREAKS`.
    pub outcome: &'static str,
}

/// A consumer's reading of a contract, checked against the live versions
/// it reads (can-i-deploy, and `[[consumes]]` of accord.toml).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsumerOut {
    /// The consuming component.
    pub consumer: String,
    /// The requirement it reads with.
    pub requirement: String,
    /// Whether a reader schema was given (`schema_file`).
    pub reader: bool,
    /// The version the requirement resolves to now.
    pub resolves_to: Option<String>,
    /// For a publish: true when the reading was registered now, false when
    /// it was registered already; `null` for a check.
    pub registered: Option<bool>,
    /// Every live version that satisfies the requirement, oldest first.
    pub versions: Vec<VersionCheckOut>,
    /// The registry's sentence explaining the answer.
    pub explanation: Option<String>,
}

/// An error that kept a contract (or the whole run) from being checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorOut {
    /// `unreachable`, `unauthenticated`, `permission_denied`, `not_found`,
    /// `invalid_input`, `usage` or `registry`.
    pub kind: &'static str,
    /// What went wrong, with what it was about.
    pub message: String,
}

impl ErrorOut {
    /// Classifies `e`; `registry` is the address, to hint at https:// when
    /// plain HTTP reached a TLS port.
    pub fn of(e: &anyhow::Error, registry: Option<&str>) -> Self {
        let client = e.chain().find_map(|c| c.downcast_ref::<accord_client::Error>());
        let kind = match client {
            Some(accord_client::Error::Unreachable { .. } | accord_client::Error::Timeout { .. }) => {
                "unreachable"
            }
            Some(accord_client::Error::Unauthenticated { .. }) => "unauthenticated",
            Some(accord_client::Error::PermissionDenied { .. }) => "permission_denied",
            Some(accord_client::Error::NotFound { .. }) => "not_found",
            Some(
                accord_client::Error::InvalidUrl { .. }
                | accord_client::Error::InvalidSetting { .. }
                | accord_client::Error::InvalidName { .. }
                | accord_client::Error::InvalidVersion { .. }
                | accord_client::Error::InvalidArgument { .. }
                | accord_client::Error::ResourceExhausted { .. },
            ) => "invalid_input",
            Some(_) => "registry",
            // Nothing from the client: a file, a name or a flag of ours.
            None => "invalid_input",
        };
        let mut message = error_chain(e);
        if let Some(hint) = client.and_then(|c| crate::access::tls_hint(c, registry?)) {
            message = format!("{message}; {hint}");
        }
        Self { kind, message }
    }
}

/// The error and its causes on one line. Transport errors repeat their
/// cause in their own message, so a cause already said is not said again.
pub fn error_chain(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// How a version is pinned where the contract came from, for advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pin {
    /// `--version` on the command line.
    #[default]
    Flag,
    /// `version = "…"` in accord.toml.
    Manifest,
}

/// The outcome of checking one contract.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    /// The contract (`component/contract`), or the schema file offline.
    pub contract: String,
    /// The schema file checked, relative to the repository root, when there
    /// is one; annotations point at it.
    pub schema_file: Option<String>,
    /// True when the change is accepted under the mode and policy; false
    /// when refused, and when an error kept it from being checked.
    pub compatible: bool,
    /// The compatibility mode, e.g. `BACKWARD`.
    pub mode: Option<String>,
    /// `STRICT` or `LENIENT`.
    pub policy: Option<String>,
    /// `none`, `patch`, `minor` or `major`.
    pub required_bump: Option<String>,
    /// Every difference found, breaking ones and compatible ones.
    pub findings: Vec<FindingOut>,
    /// For checks and publishes made against a registry.
    pub registry: Option<RegistryDecision>,
    /// For checks and publishes made against a registry: what the version
    /// does to each registered consumer of the contract.
    pub consumer_impacts: Option<Vec<ImpactOut>>,
    /// For a consumer's reading (can-i-deploy, `[[consumes]]`): the reading
    /// and the live versions it was checked against; its findings name the
    /// version each is against.
    pub consumer: Option<ConsumerOut>,
    /// Why the contract could not be checked.
    pub error: Option<ErrorOut>,
    /// How a version is pinned for this contract, for advice.
    #[serde(skip)]
    pub pin: Pin,
}

impl CheckReport {
    /// A report of `contract` that carries an error and nothing else.
    pub fn failed(contract: String, schema_file: Option<String>, error: ErrorOut) -> Self {
        Self {
            contract,
            schema_file,
            compatible: false,
            mode: None,
            policy: None,
            required_bump: None,
            findings: Vec::new(),
            registry: None,
            consumer_impacts: None,
            consumer: None,
            error: Some(error),
            pin: Pin::default(),
        }
    }

    /// The consumers the change breaks, refused or not (not those waived).
    pub fn broken_consumers(&self) -> impl Iterator<Item = &ImpactOut> {
        self.consumer_impacts.iter().flatten().filter(|i| i.breaks())
    }

    /// The findings that break compatibility.
    pub fn breaking(&self) -> impl Iterator<Item = &FindingOut> {
        self.findings.iter().filter(|f| !f.compatible)
    }

    /// Refused (or incompatible), as opposed to accepted or not checked.
    pub fn refused(&self) -> bool {
        !self.compatible && self.error.is_none()
    }
}

/// The outcome of one run of check, diff or publish.
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    /// One report per contract, in order.
    pub reports: Vec<CheckReport>,
    /// An error that stopped the run before any contract (a manifest that
    /// cannot be read, a usage error).
    pub error: Option<ErrorOut>,
    /// One contract from the command line (JSON: a bare report object), as
    /// opposed to the contracts of a manifest.
    pub single: bool,
    /// The file the run-level error is about (the manifest), relative to
    /// the repository root.
    pub file: Option<String>,
}

/// How many contracts ended each way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Contracts checked.
    pub contracts: usize,
    /// Accepted (or compatible).
    pub accepted: usize,
    /// Refused (or incompatible).
    pub refused: usize,
    /// Not checked because of an error.
    pub errors: usize,
}

impl RunReport {
    /// A run that failed before any contract.
    pub fn failed(error: ErrorOut, single: bool) -> Self {
        Self {
            reports: Vec::new(),
            error: Some(error),
            single,
            file: None,
        }
    }

    /// The counts of the summary line.
    pub fn summary(&self) -> Summary {
        let errors = self.reports.iter().filter(|r| r.error.is_some()).count();
        let refused = self.reports.iter().filter(|r| r.refused()).count();
        Summary {
            contracts: self.reports.len(),
            accepted: self.reports.len() - errors - refused,
            refused,
            errors,
        }
    }

    /// Every error of the run: the run's own, then each contract's.
    pub fn errors(&self) -> impl Iterator<Item = (Option<&CheckReport>, &ErrorOut)> {
        self.error.iter().map(|e| (None, e)).chain(
            self.reports
                .iter()
                .filter_map(|r| r.error.as_ref().map(|e| (Some(r), e))),
        )
    }

    /// The exit code: 2 when anything failed, else 1 when anything was
    /// refused, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.errors().next().is_some() {
            2
        } else if self.reports.iter().any(|r| !r.compatible) {
            1
        } else {
            0
        }
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
