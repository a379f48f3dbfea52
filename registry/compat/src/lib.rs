//! The pure compatibility engine of Accord: JSON Schema documents in,
//! findings and the required semver bump out. No I/O, no async.
//!
//! Public surface (kept stable for the registry, client and CLI):
//! - [`Schema`]: a parsed, checked schema document ([`Schema::parse`],
//!   [`Schema::parse_with`] and its [`Limits`], [`Schema::parse_with_options`]
//!   and its [`ParseOptions`]); [`Schema::warnings`] and [`Warning`]: an
//!   unknown `$schema` read in the default draft, patterns compared as text.
//! - [`Draft`]: the JSON Schema drafts read; [`Limits::default_draft`] is
//!   the one for documents without `$schema`.
//! - [`Mode`], [`Policy`], [`Bump`], [`Direction`]: the vocabulary of DESIGN.md.
//! - [`Finding`]: one difference, with rule id, paths and verdict.
//! - [`diff`]: the raw differences old → new (the backward comparison).
//! - [`check`]: a new schema against earlier versions under a mode.
//! - [`check_with`], [`diff_with`], [`Options`], [`Budget`]: the same within
//!   a deadline, a cancellation flag and bounds on the work, ending in
//!   [`Error::Budget`] when they are reached; witness search gets a time of
//!   its own and the [`Report`] counts the findings it left without one.
//! - [`rules()`], [`rule`], [`RuleInfo`]: every rule with its metadata.
//! - [`equivalences()`], [`Equivalence`]: spellings (across drafts, with
//!   keywords equal to their defaults) that the engine reads as one meaning.
//! - [`fingerprint`]: SHA-256 of the canonical JSON.
//! - [`soundness`], [`Soundness`]: documents the old schema accepts, checked
//!   against the new one (the converse of a witness).
//!
//! Modules:
//! - `parse`: limits, JSON, meta-schema validation, then `model`.
//! - `model`: every draft's keyword forms read into one normalised arena,
//!   `$ref`s resolved inside the document.
//! - `budget`: deadlines and cancellation, polled cheaply in loops.
//! - `patterns`: ECMA-262 patterns matched with the `regex` crate, many
//!   names against many patterns at once.
//! - `engine`: pairs old and new elements once and calls the rules.
//! - `rules`: one file per rule family (metadata and leaf checks) and the
//!   sorted registry.
//! - `witness`: documents that show a break (verified with the `jsonschema`
//!   crate) and the soundness probe.

//!
//! ## Calling the engine from a server
//!
//! A registry reads each schema with its own limits and its `$schema`
//! policy, reports the warnings, and checks within the request's deadline
//! and a cancellation flag it sets when the caller goes away or the server
//! shuts down. The check polls the flag and the clock in every loop, so it
//! stops within microseconds of either; witness search has a time of its
//! own within the call.
//!
//! ```
//! use accord_compat::{Budget, Error, Limits, Mode, Options, ParseOptions, Policy, Schema, check_with};
//! use std::sync::{Arc, atomic::AtomicBool};
//! use std::time::{Duration, Instant};
//!
//! let parse = ParseOptions { limits: Limits::default(), strict_schema: false };
//! let old = Schema::parse_with_options(r#"{"type":"object","properties":{"a":{"type":"number"}}}"#, &parse)?;
//! let new = Schema::parse_with_options(r#"{"type":"object","properties":{"a":{"type":"integer"}}}"#, &parse)?;
//! for warning in new.warnings() {
//!     // An unknown `$schema`, a pattern compared as text: worth telling the caller.
//!     println!("{warning}");
//! }
//! let cancel = Arc::new(AtomicBool::new(false)); // set it when the caller is gone
//! let options = Options {
//!     budget: Budget::until(Instant::now() + Duration::from_secs(5)).with_cancel(cancel.clone()),
//!     witness_time: Duration::from_millis(200),
//!     ..Options::default()
//! };
//! match check_with(&new, &[&old], Mode::Backward, Policy::Strict, &options) {
//!     Ok(report) => {
//!         assert!(!report.compatible);
//!         // Each breaking finding has a witness, or a `witness_note` saying
//!         // why not; `witnesses_timed_out` counts those the time ran out for.
//!         assert!(report.findings[0].witness.is_some());
//!     }
//!     // RESOURCE_EXHAUSTED, naming `what` (deadline, cancelled, comparison
//!     // steps, comparison depth, findings) and `limit`.
//!     Err(e @ Error::Budget { .. }) => panic!("{e}"),
//!     Err(e) => panic!("{e}"),
//! }
//! # Ok::<(), Error>(())
//! ```

#![deny(missing_docs)]

mod budget;
mod engine;
mod json;
mod model;
mod parse;
mod patterns;
pub mod rules;
mod values;
mod witness;

pub use budget::Budget;
pub use model::{Draft, UnknownDraft};
pub use rules::equivalences::{Equivalence, equivalences};
pub use rules::{ChangeKind, Origin, RuleInfo, rule, rules};
pub use witness::Soundness;

use budget::{Meter, Stop};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

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
    /// rejected by the new one, and only at or under this finding's place),
    /// when one could be built and verified.
    pub witness: Option<Value>,
    /// For a breaking finding without a witness: why, in words (the time
    /// for witness search was spent, no document could be built, no
    /// document shows this break alone...). With a witness the new schema
    /// rejects only by its `format` assertions: that most validators, which
    /// do not assert `format` by default, accept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness_note: Option<String>,
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
    /// A `$ref` does not resolve inside the document.
    #[error("unresolvable $ref {reference:?} at {location}: {reason}")]
    UnresolvedReference {
        /// The reference as written.
        reference: String,
        /// JSON pointer of the `$ref` keyword.
        location: String,
        /// Why it does not resolve.
        reason: String,
    },
    /// The text nests deeper than [`Limits::max_depth`].
    #[error("schema nests deeper than {max} levels at line {line}, column {column}")]
    TooDeep {
        /// The limit.
        max: usize,
        /// 1-based line where the limit is crossed.
        line: usize,
        /// 1-based column where the limit is crossed.
        column: usize,
    },
    /// The call ran out of its budget before it could decide ([`Options`],
    /// [`Budget`]): its deadline passed, it was cancelled, or the
    /// comparison needed more steps, depth or findings than allowed.
    #[error("the check was stopped: {what} ({limit})")]
    Budget {
        /// Which bound: `deadline`, `cancelled`, `comparison steps`,
        /// `comparison depth` or `findings`.
        what: &'static str,
        /// The bound, in words (`500000 steps`).
        limit: String,
    },
    /// A size limit of [`Limits`] was exceeded.
    #[error("{limit} is {value}, more than the limit of {max}")]
    LimitExceeded {
        /// Which limit (`schema size in bytes`, `nesting depth`, `$ref hops`).
        limit: &'static str,
        /// The measured value (at least `max + 1`).
        value: usize,
        /// The limit.
        max: usize,
    },
}

impl Error {
    /// Whether the input was refused for its size, or the call for the work
    /// it needed, rather than for its content (the registry answers
    /// `RESOURCE_EXHAUSTED` for these).
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            Error::TooDeep { .. } | Error::LimitExceeded { .. } | Error::Budget { .. }
        )
    }

    fn what(&self) -> &'static str {
        match self {
            Error::Budget { what, .. } => what,
            _ => "",
        }
    }

    fn limit(&self) -> &str {
        match self {
            Error::Budget { limit, .. } => limit,
            _ => "",
        }
    }
}

/// Bounds on what [`Schema::parse_with`] accepts. Hostile input gets an
/// error naming the limit, never a crash or a hang.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted text, in bytes. Default 4 MiB.
    pub max_bytes: usize,
    /// Deepest accepted nesting of JSON arrays and objects. Default 64:
    /// real contracts stay far below it, and it stays under serde_json's own
    /// recursion limit (128) so that this error, with its position, is the
    /// one users see.
    pub max_depth: usize,
    /// Longest accepted chain of `$ref`s that point straight at another
    /// `$ref`. Default 32.
    pub max_ref_hops: usize,
    /// The draft a document without `$schema` is read in, by the engine and
    /// by the validator that checks witnesses. Default draft-07, as
    /// Confluent Schema Registry reads such documents.
    pub default_draft: Draft,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 4 * 1024 * 1024,
            max_depth: 64,
            max_ref_hops: 32,
            default_draft: Draft::D7,
        }
    }
}

/// How [`Schema::parse_with_options`] reads a document: its [`Limits`], and
/// what to do with a `$schema` that names no draft Accord knows.
///
/// ```
/// use accord_compat::{Error, Limits, ParseOptions, Schema};
/// let text = r#"{"$schema": "https://example.com/my-dialect", "type": "string"}"#;
/// // By default: read in the default draft, with a warning.
/// let schema = Schema::parse(text).unwrap();
/// assert_eq!(schema.warnings()[0].path, "#/$schema");
/// // Strict: refused, as before.
/// let strict = ParseOptions { strict_schema: true, ..ParseOptions::default() };
/// assert!(matches!(Schema::parse_with_options(text, &strict), Err(Error::InvalidSchema { .. })));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// Size, nesting and reference bounds, and the draft of documents
    /// without `$schema`.
    pub limits: Limits,
    /// Refuse a `$schema` that names no draft Accord knows
    /// ([`Error::InvalidSchema`] at `#/$schema`). Without it (the default),
    /// such a document is read in [`Limits::default_draft`] and
    /// [`Schema::warnings`] says so.
    pub strict_schema: bool,
}

/// Something a reader should know about how a schema was read: an unknown
/// `$schema` read in the default draft, a pattern Accord's regular
/// expression engine cannot decide (look-around, back-references), compared
/// as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// JSON pointer of the place (`#/$schema`, `#/properties/a/pattern`).
    pub path: String,
    /// What happened, in one sentence.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// A parsed schema document, checked against its draft's meta-schema, with
/// every `$ref` resolved inside it.
#[derive(Debug, Clone)]
pub struct Schema {
    value: Value,
    /// What a reader should know about how it was read.
    warnings: Vec<Warning>,
    arena: std::sync::Arc<model::Arena>,
    /// The draft the document is read in: its `$schema`'s, or the default
    /// it was parsed under.
    draft: Draft,
    /// The validator that checks witnesses, compiled on first use and then
    /// shared by every finding and every clone.
    compiled: std::sync::Arc<std::sync::OnceLock<witness::Compiled>>,
    /// What witness slices of this schema must keep, found on first use.
    pinned: std::sync::Arc<std::sync::OnceLock<witness::Pinned>>,
}

impl Schema {
    /// Parses JSON text into a schema, with the default [`Limits`].
    pub fn parse(text: &str) -> Result<Self, Error> {
        Self::parse_with(text, &Limits::default())
    }

    /// Parses JSON text into a schema under `limits`.
    ///
    /// ```
    /// use accord_compat::{Error, Limits, Schema};
    /// let deep = "[".repeat(100);
    /// let err = Schema::parse_with(&deep, &Limits::default()).unwrap_err();
    /// assert!(matches!(err, Error::TooDeep { max: 64, .. }));
    /// ```
    pub fn parse_with(text: &str, limits: &Limits) -> Result<Self, Error> {
        Self::parse_with_options(
            text,
            &ParseOptions {
                limits: *limits,
                ..ParseOptions::default()
            },
        )
    }

    /// Parses JSON text into a schema under `options` (see [`ParseOptions`]).
    pub fn parse_with_options(text: &str, options: &ParseOptions) -> Result<Self, Error> {
        let limits = &options.limits;
        if text.len() > limits.max_bytes {
            return Err(Error::LimitExceeded {
                limit: "schema size in bytes",
                value: text.len(),
                max: limits.max_bytes,
            });
        }
        let read = json::parse(text, limits.max_depth).map_err(|refusal| match refusal {
            json::Refusal::TooDeep { line, column } => Error::TooDeep {
                max: limits.max_depth,
                line,
                column,
            },
            json::Refusal::Json(e) => Error::InvalidJson {
                line: e.line(),
                column: e.column(),
                message: e.to_string(),
            },
        })?;
        // The text's nesting was bounded as it was read: the value's is the same.
        Self::from_checked_value(read.value, options, Some(read.objects))
    }

    /// Wraps a JSON value as a schema, with the default [`Limits`] (except
    /// the byte size, which a value does not have).
    pub fn from_value(value: Value) -> Result<Self, Error> {
        Self::from_value_with(value, &Limits::default())
    }

    /// Wraps a JSON value as a schema under `limits`.
    pub fn from_value_with(value: Value, limits: &Limits) -> Result<Self, Error> {
        Self::from_value_with_options(
            value,
            &ParseOptions {
                limits: *limits,
                ..ParseOptions::default()
            },
        )
    }

    /// Wraps a JSON value as a schema under `options` (see [`ParseOptions`]).
    pub fn from_value_with_options(value: Value, options: &ParseOptions) -> Result<Self, Error> {
        Self::from_checked_value(value, options, None)
    }

    /// `objects`: how many objects the text the value was read from has,
    /// when its nesting was measured on that text.
    fn from_checked_value(
        value: Value,
        options: &ParseOptions,
        objects: Option<usize>,
    ) -> Result<Self, Error> {
        let (arena, draft, warnings) = parse::build(&value, options, objects)?;
        Ok(Self {
            value,
            warnings,
            arena: std::sync::Arc::new(arena),
            draft,
            compiled: Default::default(),
            pinned: Default::default(),
        })
    }

    fn compiled(&self) -> &witness::Compiled {
        self.compiled
            .get_or_init(|| witness::Compiled::new(&self.value, self.draft))
    }

    fn pinned(&self) -> &witness::Pinned {
        self.pinned.get_or_init(|| {
            if self.arena.linked {
                witness::Pinned::of(&self.value)
            } else {
                witness::Pinned::default()
            }
        })
    }

    /// The draft the document is read in: the one its `$schema` names, or
    /// [`Limits::default_draft`] when it has none.
    pub fn draft(&self) -> Draft {
        self.draft
    }

    /// The JSON document.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// What a reader should know about how the document was read: a
    /// `$schema` Accord does not know (read in the default draft), patterns
    /// its regular expression engine cannot decide. Empty for most schemas.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }
}

/// What [`check_with`] and [`diff_with`] may spend, and on what.
///
/// ```
/// use accord_compat::{Budget, Options};
/// use std::time::{Duration, Instant};
/// let options = Options {
///     budget: Budget::until(Instant::now() + Duration::from_secs(2)),
///     witness_time: Duration::from_millis(50),
///     ..Options::default()
/// };
/// assert_eq!(options.max_steps, Options::default().max_steps);
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    /// The deadline and cancellation flag of the whole call. Past the
    /// deadline, or once the flag is set, the comparison stops with
    /// [`Error::Budget`]; witness search that is under way stops and the
    /// report is returned with the findings found so far all present.
    pub budget: Budget,
    /// The time witness search may take in one call, for all its findings
    /// together (default 200 ms); the cheapest findings are served first,
    /// and [`Report::witnesses_timed_out`] counts those left without one.
    /// `Duration::ZERO` searches no witness.
    pub witness_time: Duration,
    /// Steps one comparison may make (pairs of subschemas compared and
    /// findings made; default 500,000) before [`Error::Budget`].
    pub max_steps: usize,
    /// Findings one comparison may report (default 100,000) before
    /// [`Error::Budget`].
    pub max_findings: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            budget: Budget::default(),
            witness_time: Duration::from_millis(200),
            max_steps: engine::WORK_BUDGET,
            max_findings: engine::MAX_FINDINGS,
        }
    }
}

/// Runs the comparison `old` → `new`; paths are in the roles of the call.
/// With `strict`, a comparison that stops early is an error; without it
/// (the plain [`check`] and [`diff`]), the findings so far come with the
/// conservative `COMPARISON_LIMIT_EXCEEDED` (unless the budget's flag or
/// deadline stopped it, which only the `_with` calls set).
fn compare(
    old: &Schema,
    new: &Schema,
    policy: Policy,
    options: &Options,
    meter: &mut Meter<'_>,
    strict: bool,
) -> Result<Vec<engine::Raw>, Error> {
    let bounds = engine::Bounds {
        max_steps: options.max_steps,
        max_findings: options.max_findings,
    };
    let outcome = engine::Engine::run(&old.arena, &new.arena, policy, bounds, meter);
    let Some(stop) = outcome.stop else {
        return Ok(outcome.found);
    };
    let budget_error = |stop: Stop| match stop {
        Stop::Deadline => Error::Budget {
            what: "deadline",
            limit: "the call's deadline passed".into(),
        },
        Stop::Cancelled => Error::Budget {
            what: "cancelled",
            limit: "the caller cancelled the call".into(),
        },
        Stop::Steps => Error::Budget {
            what: "comparison steps",
            limit: format!("{} steps", options.max_steps),
        },
        Stop::Depth => Error::Budget {
            what: "comparison depth",
            limit: format!("{} nested levels", engine::MAX_DEPTH),
        },
        Stop::Findings => Error::Budget {
            what: "findings",
            limit: format!("{} findings", options.max_findings),
        },
    };
    if strict || matches!(stop, Stop::Deadline | Stop::Cancelled) {
        return Err(budget_error(stop));
    }
    let mut found = outcome.found;
    found.truncate(options.max_findings);
    found.push(engine::Raw {
        rule: &rules::limits::COMPARISON_LIMIT_EXCEEDED,
        old_path: String::new(),
        new_path: String::new(),
        message: format!(
            "the comparison stopped at its {} ({}) after {} steps; treated as breaking",
            budget_error(stop).what(),
            budget_error(stop).limit(),
            outcome.steps
        ),
        via: None,
    });
    Ok(found)
}

/// A finding waiting for its witness: the index of the finding, and the
/// schemas and paths in the roles of the comparison that found it.
struct Wanted<'s> {
    finding: usize,
    subject: witness::Subject,
    accepting: &'s Schema,
    rejecting: &'s Schema,
    accepting_path: String,
    rejecting_path: String,
}

impl Wanted<'_> {
    /// The comparison it comes from: its schemas, in their roles.
    fn roles(&self) -> (usize, usize) {
        (
            std::ptr::from_ref(self.accepting) as usize,
            std::ptr::from_ref(self.rejecting) as usize,
        )
    }
}

/// Searches witnesses for `wanted`, cheapest first, until the time is spent;
/// returns how many were left without one for lack of time.
fn search_witnesses(
    findings: &mut [Finding],
    mut wanted: Vec<Wanted<'_>>,
    meter: &Meter<'_>,
    time: Duration,
) -> usize {
    if wanted.is_empty() {
        return 0;
    }
    let mut search = witness::Search::new(meter.narrowed(time), wanted.len());
    // Shallow places first: their documents are small and quick to check.
    wanted.sort_by_key(|w| (w.accepting_path.matches('/').count(), w.finding));
    // For each comparison (a pair of schemas in their roles), its findings'
    // rejecting paths in order: those under a path follow it together.
    let mut paths: std::collections::HashMap<(usize, usize), Vec<&str>> = Default::default();
    for w in &wanted {
        paths.entry(w.roles()).or_default().push(&w.rejecting_path);
    }
    for p in paths.values_mut() {
        p.sort_unstable();
        p.dedup();
    }
    let deeper = |w: &Wanted<'_>| -> Vec<&str> {
        let all = &paths[&w.roles()];
        let prefix = format!("{}/", w.rejecting_path);
        let from = all.partition_point(|p| *p < prefix.as_str());
        all[from..]
            .iter()
            .take_while(|p| p.starts_with(&prefix))
            .copied()
            .collect()
    };
    let no_time = || {
        format!(
            "no witness: the time for witness search ({} ms) was spent on other findings",
            time.as_millis()
        )
    };
    // A few findings are prepared together, to share one compiled slice of
    // each schema; more are prepared one by one, as time allows.
    let together = wanted.len() <= witness::SLICED_FINDINGS;
    fn prepare<'s>(memo: &mut witness::Memo, w: &Wanted<'s>, deeper: &[&str]) -> witness::Prepared<'s> {
        witness::Prepared::new(
            memo,
            w.accepting,
            w.rejecting,
            &w.accepting_path,
            &w.rejecting_path,
            w.subject,
            deeper,
        )
    }
    let mut prepared: Vec<Option<witness::Prepared<'_>>> = Vec::with_capacity(wanted.len());
    if together && !time.is_zero() {
        prepared.extend(
            wanted
                .iter()
                .map(|w| Some(prepare(&mut search.memo, w, &deeper(w)))),
        );
        let all: Vec<&witness::Prepared<'_>> = prepared.iter().flatten().collect();
        witness::cover_all(&mut search, &all);
    }
    let mut timed_out = 0;
    for (k, w) in wanted.iter().enumerate() {
        let finding = &mut findings[w.finding];
        let outcome = if time.is_zero() || search.meter.poll_now().is_some() {
            Err(witness::Miss::Time)
        } else {
            let ready = prepared
                .get_mut(k)
                .and_then(Option::take)
                .unwrap_or_else(|| prepare(&mut search.memo, w, &deeper(w)));
            ready.search(&mut search)
        };
        match outcome {
            Ok(found) => {
                finding.witness = Some(found.doc);
                if found.format_only {
                    finding.witness_note = Some(witness::FORMAT_ONLY.into());
                }
            }
            Err(witness::Miss::Time) => {
                timed_out += 1;
                finding.witness_note = Some(match search.meter.stopped {
                    Some(Stop::Cancelled) => "no witness: the call was cancelled".into(),
                    _ => no_time(),
                });
            }
            Err(witness::Miss::Note(note)) => finding.witness_note = Some(note),
        }
    }
    timed_out
}

/// Generates `documents` documents (plus the boundary values of both
/// schemas) that `old` accepts, seeded by `seed`, and checks that `new`
/// accepts them too. For a pair [`check`] calls backward compatible, every
/// counterexample is either an engine bug or a deliberate agreement with
/// Confluent that the rule table documents.
///
/// ```
/// use accord_compat::{Schema, soundness};
/// let old = Schema::parse(r#"{"type":"integer"}"#).unwrap();
/// let new = Schema::parse(r#"{"type":"number"}"#).unwrap();
/// let report = soundness(&old, &new, 50, 7);
/// assert!(report.accepted_by_old > 0);
/// assert!(report.counterexamples.is_empty());
/// ```
pub fn soundness(old: &Schema, new: &Schema, documents: usize, seed: u64) -> Soundness {
    witness::probe(
        (&old.value, old.compiled()),
        (&new.value, new.compiled()),
        documents,
        seed,
    )
}

fn pointer(path: &str) -> String {
    if path.is_empty() {
        "#/".to_string()
    } else {
        format!("#{path}")
    }
}

fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (
            &a.old_path,
            &a.new_path,
            &a.rule,
            a.against,
            a.direction as u8,
            &a.message,
        )
            .cmp(&(
                &b.old_path,
                &b.new_path,
                &b.rule,
                b.against,
                b.direction as u8,
                &b.message,
            ))
    });
}

/// The raw differences from `old` to `new`, each marked compatible or not in the
/// backward direction under `policy`. Sorted by path, then rule.
///
/// ```
/// use accord_compat::{Policy, Schema, diff};
/// let old = Schema::parse(r#"{"type":"string","maxLength":12}"#).unwrap();
/// let new = Schema::parse(r#"{"type":"string","maxLength":10}"#).unwrap();
/// let findings = diff(&old, &new, Policy::Strict);
/// assert_eq!(findings[0].rule, "MAX_LENGTH_DECREASED");
/// assert_eq!(findings[0].old_path, "#/maxLength");
/// assert!(!findings[0].compatible);
/// ```
pub fn diff(old: &Schema, new: &Schema, policy: Policy) -> Vec<Finding> {
    run(new, &[old], Mode::None, policy, &Options::default(), Run::Diff)
        .map(|r| r.findings)
        .unwrap_or_default()
}

/// [`diff`] within `options`: a deadline, a cancellation flag, bounds on
/// the work and on the time witness search may take. The report's
/// `compatible` says whether every finding is.
///
/// ```
/// use accord_compat::{Options, Policy, Schema, diff_with};
/// let old = Schema::parse(r#"{"type":"string","maxLength":12}"#).unwrap();
/// let new = Schema::parse(r#"{"type":"string","maxLength":10}"#).unwrap();
/// let report = diff_with(&old, &new, Policy::Strict, &Options::default()).unwrap();
/// assert!(!report.compatible);
/// assert_eq!(report.witnesses_timed_out, 0);
/// ```
pub fn diff_with(old: &Schema, new: &Schema, policy: Policy, options: &Options) -> Result<Report, Error> {
    run(new, &[old], Mode::None, policy, options, Run::DiffWith)
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
    /// Breaking findings left without a witness because the time for
    /// witness search ([`Options::witness_time`]) or the call's budget was
    /// spent; each says so in its [`Finding::witness_note`].
    #[serde(default)]
    pub witnesses_timed_out: usize,
}

/// Checks `new` against earlier versions (oldest first; the last one is the
/// latest) under `mode` and `policy`.
///
/// BACKWARD compares latest → new; FORWARD compares new → latest and marks
/// the findings [`Direction::Forward`] (their rule ids then describe the
/// change as a reader of the latest version sees it, and their messages,
/// which describe the change from the new version back to the latest, start
/// by saying so; `old_path` stays the path in the older schema); FULL does both. The `_TRANSITIVE` modes do the
/// same against every element of `earlier`. Under [`Mode::None`] the backward
/// findings are listed but none is incompatible. Each finding's `against` is
/// the index in `earlier` of the version it was found against.
///
/// The required bump is `major` if a finding is incompatible, `minor` if a
/// finding changes the accepted documents, `patch` if only annotations
/// changed, `none` without findings.
///
/// Witness search takes at most [`Options::witness_time`] (200 ms); a
/// comparison that exceeds its work bound reports the conservative
/// `COMPARISON_LIMIT_EXCEEDED`. [`check_with`] sets a deadline, a
/// cancellation flag and those bounds, and answers [`Error::Budget`]
/// instead.
pub fn check(new: &Schema, earlier: &[&Schema], mode: Mode, policy: Policy) -> Report {
    run(new, earlier, mode, policy, &Options::default(), Run::Check).unwrap_or_else(|_| Report {
        compatible: false,
        findings: Vec::new(),
        required_bump: Bump::Major,
        witnesses_timed_out: 0,
    })
}

/// [`check`] within `options`: the call stops with [`Error::Budget`] when
/// its deadline passes, its cancellation flag is set, or the comparison
/// exceeds [`Options::max_steps`] or [`Options::max_findings`]; witness
/// search stops at [`Options::witness_time`] or the deadline, whichever
/// comes first, and the report counts the findings it left without a
/// witness.
///
/// ```
/// use accord_compat::{Budget, Error, Mode, Options, Policy, Schema, check_with};
/// use std::sync::{Arc, atomic::AtomicBool};
/// let old = Schema::parse(r#"{"type":"string"}"#).unwrap();
/// let new = Schema::parse(r#"{"type":"number"}"#).unwrap();
/// let cancel = Arc::new(AtomicBool::new(true)); // the caller is already gone
/// let options = Options { budget: Budget::default().with_cancel(cancel), ..Options::default() };
/// let err = check_with(&new, &[&old], Mode::Backward, Policy::Strict, &options).unwrap_err();
/// assert!(matches!(err, Error::Budget { what: "cancelled", .. }));
/// ```
pub fn check_with(
    new: &Schema,
    earlier: &[&Schema],
    mode: Mode,
    policy: Policy,
    options: &Options,
) -> Result<Report, Error> {
    run(new, earlier, mode, policy, options, Run::CheckWith)
}

/// Which public call [`run`] serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    Check,
    CheckWith,
    Diff,
    DiffWith,
}

fn run(
    new: &Schema,
    earlier: &[&Schema],
    mode: Mode,
    policy: Policy,
    options: &Options,
    call: Run,
) -> Result<Report, Error> {
    let strict = matches!(call, Run::CheckWith | Run::DiffWith);
    let diffing = matches!(call, Run::Diff | Run::DiffWith);
    let mut meter = Meter::new(&options.budget);
    let targets: Vec<usize> = match earlier.len() {
        0 => Vec::new(),
        n if mode.is_transitive() => (0..n).collect(),
        n => vec![n - 1],
    };
    let (backward, forward) = match mode {
        Mode::None | Mode::Backward | Mode::BackwardTransitive => (true, false),
        Mode::Forward | Mode::ForwardTransitive => (false, true),
        Mode::Full | Mode::FullTransitive => (true, true),
    };
    let mut findings = Vec::new();
    let mut wanted = Vec::new();
    for i in targets {
        let old = earlier[i];
        if backward {
            for r in compare(old, new, policy, options, &mut meter, strict)? {
                let compatible = (mode == Mode::None && !diffing) || r.rule.compatible(policy);
                if !compatible {
                    wanted.push(Wanted {
                        finding: findings.len(),
                        subject: witness::Subject::of(r.rule),
                        accepting: old,
                        rejecting: new,
                        accepting_path: r.old_path.clone(),
                        rejecting_path: r.new_path.clone(),
                    });
                }
                findings.push(Finding {
                    witness: None,
                    witness_note: None,
                    rule: r.rule.id.to_string(),
                    old_path: pointer(&r.old_path),
                    new_path: pointer(&r.new_path),
                    message: r.message,
                    compatible,
                    direction: Direction::Backward,
                    against: (!diffing).then_some(i),
                });
            }
        }
        if forward {
            // The new schema plays the old role here: swap the paths back.
            // The witness is a document the new schema accepts and the old
            // one rejects: the roles of this comparison.
            for r in compare(new, old, policy, options, &mut meter, strict)? {
                let compatible = r.rule.compatible(policy);
                if !compatible {
                    wanted.push(Wanted {
                        finding: findings.len(),
                        subject: witness::Subject::of(r.rule),
                        accepting: new,
                        rejecting: old,
                        accepting_path: r.old_path.clone(),
                        rejecting_path: r.new_path.clone(),
                    });
                }
                findings.push(Finding {
                    witness: None,
                    witness_note: None,
                    rule: r.rule.id.to_string(),
                    old_path: pointer(&r.new_path),
                    new_path: pointer(&r.old_path),
                    // The comparison ran from the new version to the old
                    // one; its words ("added", "from A to B") say so.
                    message: format!("from the new version back to the old one: {}", r.message),
                    compatible,
                    direction: Direction::Forward,
                    against: Some(i),
                });
            }
        }
    }
    let witnesses_timed_out = search_witnesses(&mut findings, wanted, &meter, options.witness_time);
    sort(&mut findings);
    let compatible = findings.iter().all(|f| f.compatible);
    let required_bump = if !compatible {
        Bump::Major
    } else if findings
        .iter()
        .any(|f| rule(&f.rule).is_none_or(|r| r.kind == ChangeKind::Validation))
    {
        Bump::Minor
    } else if findings.is_empty() {
        Bump::None
    } else {
        Bump::Patch
    };
    Ok(Report {
        compatible,
        findings,
        required_bump,
        witnesses_timed_out,
    })
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
    fn the_default_draft_decides_how_a_document_without_schema_is_read() {
        let in_draft = |draft: Draft| Limits {
            default_draft: draft,
            ..Limits::default()
        };
        let below = r#"{"type":"number","maximum":10,"exclusiveMaximum":true}"#;
        // Draft-07 made `exclusiveMaximum` a number: the boolean is refused.
        assert_eq!(Limits::default().default_draft, Draft::D7);
        let err = Schema::parse(below).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidSchema { message, .. } if message.contains("true")),
            "{err:?}"
        );
        // Draft-4 reads it as "strictly below 10": 10 itself is the witness,
        // which only a validator compiled in draft-4 can confirm.
        let old = Schema::parse_with(r#"{"type":"number","maximum":10}"#, &in_draft(Draft::D4)).unwrap();
        let new = Schema::parse_with(below, &in_draft(Draft::D4)).unwrap();
        assert_eq!(new.draft(), Draft::D4);
        let findings = diff(&old, &new, Policy::Strict);
        let broken: Vec<_> = findings.iter().filter(|f| !f.compatible).collect();
        assert_eq!(broken.len(), 1, "{findings:?}");
        let witness = broken[0].witness.as_ref().and_then(Value::as_f64);
        assert_eq!(witness, Some(10.0), "{:?}", broken[0]);
        // `$schema` wins over the default.
        let named = r#"{"$schema":"http://json-schema.org/draft-07/schema#","exclusiveMaximum":10}"#;
        let named = Schema::parse_with(named, &in_draft(Draft::D4)).unwrap();
        assert_eq!(named.draft(), Draft::D7);
    }

    #[test]
    fn drafts_parse_by_number_and_by_uri() {
        for (text, draft) in [
            ("4", Draft::D4),
            ("06", Draft::D6),
            ("draft-07", Draft::D7),
            ("2019-09", Draft::D2019),
            ("2020-12", Draft::D2020),
            ("http://json-schema.org/draft-04/schema#", Draft::D4),
            ("https://json-schema.org/draft/2019-09/schema", Draft::D2019),
        ] {
            assert_eq!(text.parse::<Draft>(), Ok(draft), "{text}");
            assert_eq!(draft.to_string().parse::<Draft>(), Ok(draft));
        }
        for bad in ["", "5", "2021-01", " 7", "draft"] {
            let err = bad.parse::<Draft>().unwrap_err();
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
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
