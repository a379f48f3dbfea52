//! Witnesses and the soundness probe: concrete documents checked with the
//! `jsonschema` crate, so that a verdict can be shown rather than asserted.
//!
//! A witness for a finding is a document that one schema accepts and the
//! other rejects **only at or under the finding's place**: every error the
//! rejecting validator reports for it lies at or under the finding's path
//! (or, for a property or tuple item, at the enclosing object's
//! `additionalProperties` or `additionalItems` about that very member, and
//! at its `required` when the finding is about the member being there at
//! all), so that the document shows this break and no other one.
//!
//! The document is built around the finding's place: at each enclosing
//! level the members both schemas require, with values both accept; at the
//! place, candidate values drawn from both schemas (bounds and one past
//! them, enum members, every type either side allows...), or the member
//! left out. A candidate rejected elsewhere is repaired where the
//! validators say (a required member added, an unexpected one removed,
//! another value tried) a few times before the next candidate. When none
//! shows the break, the enclosing level is sampled as a whole, then whole
//! documents drawn from both roots.
//!
//! Validators are compiled from *slices* of the schemas: `properties` (and
//! dependencies, definitions) reduced to the names the candidate documents
//! use (in a schema without references, to the names they use at each
//! place), which validate those documents exactly as the whole schemas do
//! and report the same error locations. After a few findings the whole schemas
//! are compiled once and shared. Every step is bounded, and the search stops
//! at its time budget.

mod sample;

use crate::Schema;
use crate::budget::Meter;
use crate::model::Draft;
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use sample::{Reader, Sampler, Step, TRUE, item_at, undeclared};
use serde_json::{Map, Value};
use std::rc::Rc;

/// Largest witness shown, in bytes of compact JSON.
const MAX_WITNESS_BYTES: usize = 16 * 1024;
/// Most candidate documents validated for one finding.
const MAX_CANDIDATES: usize = 400;
/// Whole documents drawn from both schemas' roots when the values at and
/// around a finding's place show nothing.
const WHOLE_DOCUMENTS: usize = 24;
/// Repairs tried on one candidate before the next one.
const MAX_REPAIRS: usize = 8;
/// Most candidate documents validated for all the findings of one check or
/// diff: past it, findings come without a witness.
pub(crate) const MAX_VALIDATIONS: usize = 20_000;
/// Findings served with validators compiled from slices before the whole
/// schemas are compiled once for all the others.
pub(crate) const SLICED_FINDINGS: usize = 6;
/// Patterns past which a schema is never compiled whole for witnesses:
/// compiling a pattern costs tens of microseconds, cannot be interrupted,
/// and a slice keeps only the patterns its documents' names meet.
const WHOLE_PATTERNS: usize = 256;

fn draft_of(draft: Draft) -> jsonschema::Draft {
    match draft {
        Draft::D4 => jsonschema::Draft::Draft4,
        Draft::D6 => jsonschema::Draft::Draft6,
        Draft::D7 => jsonschema::Draft::Draft7,
        Draft::D2019 => jsonschema::Draft::Draft201909,
        Draft::D2020 => jsonschema::Draft::Draft202012,
    }
}

/// Compiles `schema` in `draft` (the one the engine read it in, so that a
/// document without `$schema` means the same to both), with `format`
/// asserted, as the engine reads it.
fn build(schema: &Value, draft: Draft) -> Result<jsonschema::Validator, String> {
    jsonschema::options()
        .should_validate_formats(true)
        .with_draft(draft_of(draft))
        .build(schema)
        .map_err(|e| e.to_string())
}

/// A compiled validator for a whole schema document, or why there is none.
pub(crate) struct Compiled(Result<jsonschema::Validator, String>);

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Ok(_) => f.write_str("Compiled"),
            Err(e) => write!(f, "Compiled(none: {e})"),
        }
    }
}

impl Compiled {
    pub(crate) fn new(schema: &Value, draft: Draft) -> Self {
        Compiled(build(schema, draft))
    }

    fn accepts(&self, doc: &Value) -> Option<bool> {
        self.0.as_ref().ok().map(|v| v.is_valid(doc))
    }
}

fn address(v: &Value) -> usize {
    v as *const Value as usize
}

/// The values a slice keeps whatever names its documents use: those a
/// local `$ref` points at and those that declare an `$id` or an anchor
/// (which a reference may name), with all their ancestors.
#[derive(Debug, Default)]
pub(crate) struct Pinned(HashSet<usize>);

impl Pinned {
    pub(crate) fn of(root: &Value) -> Self {
        let mut pinned = HashSet::new();
        let mut ancestors: Vec<usize> = Vec::new();
        let mut stack: Vec<(&Value, usize)> = vec![(root, 0)];
        while let Some((v, depth)) = stack.pop() {
            ancestors.truncate(depth);
            ancestors.push(address(v));
            match v {
                Value::Object(m) => {
                    for kw in ["$ref", "$dynamicRef", "$recursiveRef"] {
                        if let Some(pointer) = m
                            .get(kw)
                            .and_then(Value::as_str)
                            .and_then(|r| r.strip_prefix('#'))
                        {
                            let pointer = sample::percent_decode(pointer);
                            let mut node = root;
                            pinned.insert(address(node));
                            for token in pointer.split('/').skip(1) {
                                let token = token.replace("~1", "/").replace("~0", "~");
                                let next = match node {
                                    Value::Object(o) => o.get(&token),
                                    Value::Array(a) => token.parse::<usize>().ok().and_then(|i| a.get(i)),
                                    _ => None,
                                };
                                let Some(next) = next else { break };
                                node = next;
                                pinned.insert(address(node));
                            }
                        }
                    }
                    let declares = ["$id", "id", "$anchor", "$dynamicAnchor", "$recursiveAnchor"]
                        .iter()
                        .any(|k| m.get(*k).is_some_and(Value::is_string));
                    if declares {
                        pinned.extend(ancestors.iter().copied());
                    }
                    stack.extend(m.values().map(|c| (c, depth + 1)));
                }
                Value::Array(a) => stack.extend(a.iter().map(|c| (c, depth + 1))),
                _ => {}
            }
        }
        Pinned(pinned)
    }

    fn has(&self, v: &Value) -> bool {
        self.0.contains(&address(v))
    }
}

/// A copy of `schema` that validates every document whose object keys are
/// all in `keys` exactly as `schema` does, with the same error locations:
/// `properties` and dependencies keep the names in `keys`, definitions
/// those a reference reaches, and annotations are left out.
///
/// `place`, when given, is the shape of the documents where `schema`
/// applies, and of them only: `properties` then keeps the names members
/// have there, and its entries are sliced for their own places. Only a
/// document without references, `$id`s or anchors has such places (a
/// subschema a reference reaches applies elsewhere too), and only through
/// `properties` from the root: every other keyword's subschemas are sliced
/// with `keys` alone.
fn slice(schema: &Value, keys: &HashSet<String>, place: Option<&Shape>, pinned: &Pinned) -> Value {
    let Value::Object(m) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (k, v) in m {
        let kept = match (k.as_str(), v) {
            ("properties", Value::Object(entries)) if let Some(shape) = place => Value::Object(
                shape
                    .0
                    .iter()
                    .filter_map(|(name, at)| entries.get_key_value(name).map(|e| (e, at)))
                    .map(|((name, s), at)| (name.clone(), slice(s, keys, Some(at), pinned)))
                    .collect(),
            ),
            (
                "properties" | "dependencies" | "dependentRequired" | "dependentSchemas",
                Value::Object(entries),
            ) => {
                let entries = if pinned.0.is_empty() && keys.len() < entries.len() {
                    // Look the few names up rather than go through them all.
                    keys.iter()
                        .filter_map(|k| entries.get_key_value(k))
                        .map(|(name, s)| (name.clone(), slice(s, keys, None, pinned)))
                        .collect()
                } else {
                    entries
                        .iter()
                        .filter(|(name, s)| keys.contains(name.as_str()) || pinned.has(s))
                        .map(|(name, s)| (name.clone(), slice(s, keys, None, pinned)))
                        .collect()
                };
                Value::Object(entries)
            }
            ("definitions" | "$defs", Value::Object(entries)) => {
                let entries = entries
                    .iter()
                    .filter(|(_, s)| pinned.has(s))
                    .map(|(name, s)| (name.clone(), slice(s, keys, None, pinned)))
                    .collect();
                Value::Object(entries)
            }
            ("patternProperties", Value::Object(entries)) => {
                // A pattern that matches none of the names (and may not
                // match one it cannot decide) applies to nothing here.
                let mut set = crate::patterns::PatternSet::new(entries.keys().map(String::as_str));
                let mut used = vec![false; entries.len()];
                for k in keys {
                    let m = set.matches(k);
                    for i in m.known.into_iter().chain(m.unknown) {
                        used[i] = true;
                    }
                }
                Value::Object(
                    entries
                        .iter()
                        .zip(used)
                        .filter(|((_, s), used)| *used || pinned.has(s))
                        .map(|((name, s), _)| (name.clone(), slice(s, keys, None, pinned)))
                        .collect(),
                )
            }
            (
                "title" | "description" | "examples" | "$comment" | "default" | "deprecated" | "readOnly"
                | "writeOnly",
                _,
            ) if !pinned.has(v) => {
                continue;
            }
            (
                "additionalProperties"
                | "additionalItems"
                | "unevaluatedProperties"
                | "unevaluatedItems"
                | "items"
                | "contains"
                | "propertyNames"
                | "not"
                | "if"
                | "then"
                | "else"
                | "contentSchema",
                Value::Object(_),
            ) => slice(v, keys, None, pinned),
            ("items" | "prefixItems" | "allOf" | "anyOf" | "oneOf", Value::Array(subs)) => {
                Value::Array(subs.iter().map(|s| slice(s, keys, None, pinned)).collect())
            }
            _ => v.clone(),
        };
        out.insert(k.clone(), kept);
    }
    Value::Object(out)
}

/// Every object key anywhere in `doc`, added to `keys`; `true` if one was new.
fn collect_keys(doc: &Value, keys: &mut HashSet<String>) -> bool {
    let mut added = false;
    let mut stack = vec![doc];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if !keys.contains(k) {
                        keys.insert(k.clone());
                        added = true;
                    }
                    stack.push(x);
                }
            }
            Value::Array(a) => stack.extend(a),
            _ => {}
        }
    }
    added
}

/// The object keys of some documents: every name anywhere, and their shape.
#[derive(Debug, Default, Clone)]
pub(crate) struct Names {
    keys: HashSet<String>,
    shape: Shape,
}

/// The names of the members of the objects at each place of some
/// documents, from the root through objects only: an array ends a shape.
#[derive(Debug, Default, Clone)]
struct Shape(HashMap<String, Shape>);

impl Names {
    fn of(doc: &Value) -> Self {
        let mut names = Names::default();
        collect_keys(doc, &mut names.keys);
        names.shape.add(doc);
        names
    }

    fn covers(&self, other: &Names) -> bool {
        other.keys.is_subset(&self.keys) && self.shape.covers(&other.shape)
    }

    /// `self.covers(&Names::of(doc))`, without building those names.
    fn holds(&self, doc: &Value) -> bool {
        let mut stack = Vec::with_capacity(64);
        stack.push(doc);
        while let Some(v) = stack.pop() {
            match v {
                Value::Object(m) => {
                    for (k, x) in m {
                        if !self.keys.contains(k) {
                            return false;
                        }
                        stack.push(x);
                    }
                }
                Value::Array(a) => stack.extend(a),
                _ => {}
            }
        }
        self.shape.holds(doc)
    }

    fn extend(&mut self, other: &Names) {
        self.keys.extend(other.keys.iter().cloned());
        self.shape.extend(&other.shape);
    }
}

impl Shape {
    fn child(&mut self, name: &str) -> &mut Shape {
        if !self.0.contains_key(name) {
            self.0.insert(name.to_string(), Shape::default());
        }
        self.0.get_mut(name).expect("inserted above")
    }

    fn add(&mut self, doc: &Value) {
        if let Value::Object(m) = doc {
            for (k, v) in m {
                self.child(k).add(v);
            }
        }
    }

    fn holds(&self, doc: &Value) -> bool {
        match doc {
            Value::Object(m) => m.iter().all(|(k, v)| self.0.get(k).is_some_and(|s| s.holds(v))),
            _ => true,
        }
    }

    fn covers(&self, other: &Shape) -> bool {
        other
            .0
            .iter()
            .all(|(k, o)| self.0.get(k).is_some_and(|s| s.covers(o)))
    }

    fn extend(&mut self, other: &Shape) {
        for (k, o) in &other.0 {
            self.child(k).extend(o);
        }
    }
}

/// One error of a validator, located in the engine's path syntax.
#[derive(Debug, PartialEq, Eq)]
struct Fault {
    /// The keyword location, `$ref`s left out, in the engine's syntax.
    at: Vec<String>,
    /// The JSON pointer of the value it is about.
    instance: String,
    kind: FaultKind,
}

#[derive(Debug, PartialEq, Eq)]
enum FaultKind {
    /// A required member is missing.
    Required(String),
    /// Members no keyword allows.
    Unexpected(Vec<String>),
    /// `anyOf`, `oneOf` or `not`: the reason is in the branches, whose
    /// errors (for `anyOf` and `oneOf`, one list per branch) are kept.
    Combinator(Vec<Vec<Fault>>),
    /// A `format` assertion.
    Format,
    Other,
}

/// The target of a local reference, if it is one.
fn local_target<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    doc.pointer(&sample::percent_decode(pointer))
}

/// A validator's keyword location (with `$ref` steps) as the engine writes
/// paths: references left out, `prefixItems` as `items`, 2020-12's `items`
/// after `prefixItems` as `additionalItems`, `dependentRequired` and
/// `dependentSchemas` as `dependencies`.
fn engine_path(doc: &Value, location: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut node = Some(doc);
    for seg in location.split('/').skip(1) {
        let here = node;
        let child = |key: &str| {
            let key = key.replace("~1", "/").replace("~0", "~");
            here.and_then(|n| match n {
                Value::Object(m) => m.get(&key),
                Value::Array(a) => key.parse::<usize>().ok().and_then(|i| a.get(i)),
                _ => None,
            })
        };
        match seg {
            "$ref" | "$dynamicRef" | "$recursiveRef" => {
                node = child(seg)
                    .and_then(Value::as_str)
                    .and_then(|r| local_target(doc, r));
                continue;
            }
            "prefixItems" => out.push("items".to_string()),
            "items" if here.is_some_and(|n| n.get("prefixItems").is_some()) => {
                out.push("additionalItems".to_string())
            }
            "dependentRequired" | "dependentSchemas" => out.push("dependencies".to_string()),
            _ => out.push(seg.to_string()),
        }
        node = child(seg);
    }
    out
}

fn fault(doc: &Value, e: &jsonschema::ValidationError<'_>) -> Fault {
    use jsonschema::error::ValidationErrorKind as K;
    let kind = match e.kind() {
        K::Required { property } => FaultKind::Required(property.as_str().unwrap_or_default().to_string()),
        K::AdditionalProperties { unexpected } | K::UnevaluatedProperties { unexpected } => {
            FaultKind::Unexpected(unexpected.clone())
        }
        K::AnyOf { context } | K::OneOfNotValid { context } => FaultKind::Combinator(
            context
                .iter()
                .map(|branch| branch.iter().map(|e| fault(doc, e)).collect())
                .collect(),
        ),
        K::OneOfMultipleValid { .. } | K::Not { .. } => FaultKind::Combinator(Vec::new()),
        K::Format { .. } => FaultKind::Format,
        _ => FaultKind::Other,
    };
    Fault {
        at: engine_path(doc, e.evaluation_path().as_str()),
        instance: e.instance_path().as_str().to_string(),
        kind,
    }
}

fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn unescape(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// The segments of a path in engine syntax (`""` is the root), escaped.
fn tokens(path: &str) -> Vec<String> {
    path.split('/').skip(1).map(str::to_string).collect()
}

/// Whether the JSON pointer `inner` is `outer` or lies under it.
fn under(inner: &str, outer: &str) -> bool {
    inner == outer || (inner.starts_with(outer) && inner.as_bytes().get(outer.len()) == Some(&b'/'))
}

/// Where a finding is: its path in the rejecting schema, and the place in
/// documents it is about.
#[derive(Debug)]
struct Place {
    path: Vec<String>,
    instance: String,
    /// Whether the finding is about a member being there at all (see
    /// [`Subject`]): only then is a missing required member its break.
    presence: bool,
    /// The paths (in the rejecting schema) of the other findings of the
    /// same comparison that lie under this one's: an error at or under one
    /// of them is that finding's break, not this one's (a `minimum` added
    /// beside a narrowed `type` is shown by the `minimum` finding).
    deeper: Vec<Vec<String>>,
}

/// What a finding at a property or tuple item is about: whether the member
/// is there (a property added, removed or now required), or the value it
/// holds (its type, bounds, values...). A document that leaves the member
/// out shows only the first kind: narrowing the type of a property that also
/// becomes required is shown by a value of the old type, not by an object
/// without the property, which another finding (`required`) is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subject {
    Presence,
    Value,
}

impl Subject {
    /// The rules of the object content model (`properties`) and of the
    /// object's own keywords (`required`, dependencies) are about presence;
    /// every other family is about values.
    pub(crate) fn of(rule: &crate::RuleInfo) -> Self {
        match rule.family {
            "properties" | "object" => Subject::Presence,
            _ => Subject::Value,
        }
    }
}

impl Place {
    fn new(rejecting_path: &str, steps: &[(Step, &Value)], subject: Subject, deeper: &[&str]) -> Self {
        let mut instance = String::new();
        for (step, _) in steps {
            instance.push('/');
            match step {
                Step::Key(k) => instance.push_str(&escape(k)),
                Step::Index(i) => instance.push_str(&i.to_string()),
            }
        }
        Place {
            path: tokens(rejecting_path),
            instance,
            presence: subject == Subject::Presence,
            deeper: deeper.iter().map(|p| tokens(p)).collect(),
        }
    }

    /// Whether the error `f` is the break of a finding under this one.
    fn deeper_owns(&self, f: &Fault) -> bool {
        self.deeper.iter().any(|d| {
            f.at.starts_with(d)
                || match &f.kind {
                    // A missing member is about `required/<name>`, or about
                    // `properties/<name>` beside that `required`.
                    FaultKind::Required(name) => {
                        let name = escape(name);
                        let required = f.at.last().is_some_and(|k| k == "required");
                        let at_required =
                            d.len() == f.at.len() + 1 && d.starts_with(&f.at) && d[f.at.len()] == name;
                        let at_property = required
                            && d.len() == f.at.len() + 1
                            && d.starts_with(&f.at[..f.at.len() - 1])
                            && d[f.at.len() - 1] == "properties"
                            && d[f.at.len()] == name;
                        at_required || at_property
                    }
                    _ => false,
                }
        })
    }

    /// Whether the rejecting schema's error `f` is about this finding.
    fn owns(&self, f: &Fault) -> bool {
        if self.deeper_owns(f) {
            return false;
        }
        let at = |prefix: &[String], extra: &[&str]| {
            f.at.len() >= prefix.len() + extra.len()
                && f.at[..prefix.len()] == *prefix
                && f.at[prefix.len()..prefix.len() + extra.len()]
                    .iter()
                    .zip(extra)
                    .all(|(a, b)| a == b)
        };
        if f.at.starts_with(&self.path) {
            return true;
        }
        // A combinator above the place: the place is one of its branches.
        if let FaultKind::Combinator(branches) = &f.kind
            && self.path.starts_with(&f.at)
        {
            // The place is in one branch: that branch must fail for this
            // finding alone (a `minimum` added beside a narrowed `type` in
            // the same branch is another finding's break).
            let branch = self.path.get(f.at.len()).and_then(|i| i.parse::<usize>().ok());
            return match branch.and_then(|i| branches.get(i)) {
                Some(errors) if !errors.is_empty() => errors.iter().all(|e| self.owns(e)),
                _ => true,
            };
        }
        let n = self.path.len();
        let parent_instance = self.instance.rsplit_once('/').map_or("", |(p, _)| p);
        if n >= 2 {
            let parent = &self.path[..n - 2];
            let name = unescape(&self.path[n - 1]);
            match self.path[n - 2].as_str() {
                "properties" | "required" => {
                    if (self.presence || self.path[n - 2] == "required")
                        && f.kind == FaultKind::Required(name.clone())
                        && f.at == [parent, &["required".to_string()]].concat()
                    {
                        return true;
                    }
                    if self.path[n - 2] == "properties" {
                        if f.kind == FaultKind::Unexpected(vec![name.clone()]) {
                            return at(parent, &["additionalProperties"])
                                || at(parent, &["unevaluatedProperties"]);
                        }
                        let others = [
                            "additionalProperties",
                            "patternProperties",
                            "unevaluatedProperties",
                        ];
                        if others.iter().any(|k| at(parent, &[k])) && under(&f.instance, &self.instance) {
                            return true;
                        }
                    }
                }
                "items" if self.path[n - 1].parse::<usize>().is_ok() => {
                    let rest = at(parent, &["additionalItems"]) || at(parent, &["unevaluatedItems"]);
                    if rest && (under(&f.instance, &self.instance) || f.instance == parent_instance) {
                        return true;
                    }
                }
                "patternProperties"
                    if at(parent, &["additionalProperties"]) || at(parent, &["unevaluatedProperties"]) =>
                {
                    return true;
                }
                // Validators report a dependency at the keyword, not at its entry.
                "dependencies"
                    if matches!(f.kind, FaultKind::Required(_))
                        && f.at == [parent, &["dependencies".to_string()]].concat() =>
                {
                    return true;
                }
                _ => {}
            }
        }
        if n >= 1 {
            let parent = &self.path[..n - 1];
            let siblings: &[&str] = match self.path[n - 1].as_str() {
                "if" => &["then", "else"],
                "contains" | "minContains" | "maxContains" => &["contains", "minContains", "maxContains"],
                "maximum" | "exclusiveMaximum" => &["maximum", "exclusiveMaximum"],
                "minimum" | "exclusiveMinimum" => &["minimum", "exclusiveMinimum"],
                _ => &[],
            };
            if siblings.iter().any(|k| at(parent, &[k])) {
                return true;
            }
        }
        false
    }
}

/// What checking one candidate document said.
enum Verdict {
    /// Accepted by one side, rejected by the other only for this finding
    /// (`format_only`: only by its `format` assertions).
    Shows { format_only: bool },
    /// Both accept it.
    NotRejected,
    /// The accepting side rejects it: the errors to repair.
    NotAccepted(Vec<Fault>),
    /// Rejected elsewhere too: the errors to repair.
    Elsewhere(Vec<Fault>),
}

/// The state of witness search across the findings of one call, with the
/// validators it compiled.
pub(crate) struct Search<'m> {
    pub(crate) meter: Meter<'m>,
    validations: usize,
    /// Validate with the whole schemas' validators (compiled once, kept
    /// by the schema) rather than with slices.
    whole: bool,
    /// Per schema (by address): the names its slice covers, and its validator.
    slices: HashMap<usize, (Names, jsonschema::Validator)>,
    /// What the findings' preparations share.
    pub(crate) memo: Memo,
}

impl<'m> Search<'m> {
    /// `findings`: how many will be searched; past a few, the whole schemas
    /// are compiled once instead of a slice per finding.
    pub(crate) fn new(meter: Meter<'m>, findings: usize) -> Self {
        Search {
            meter,
            validations: 0,
            whole: findings > SLICED_FINDINGS,
            slices: HashMap::new(),
            memo: Memo::default(),
        }
    }

    fn key(schema: &Schema) -> usize {
        schema as *const Schema as usize
    }

    /// Whether documents for `schema` are checked with a slice (whose keys
    /// must cover theirs) rather than its whole validator.
    fn sliced(&self, schema: &Schema) -> bool {
        !(self.whole && schema.arena.patterns <= WHOLE_PATTERNS && schema.compiled().0.is_ok())
    }

    /// Makes sure `schema` has a validator for documents with `names`: its
    /// whole validator, or a slice compiled (again) for them.
    fn cover(&mut self, schema: &Schema, names: &Names) -> Result<(), String> {
        if !self.sliced(schema) {
            return Ok(());
        }
        let key = Self::key(schema);
        if self
            .slices
            .get(&key)
            .is_some_and(|(covered, _)| covered.covers(names))
        {
            return Ok(());
        }
        let mut union = self.slices.remove(&key).map(|(n, _)| n).unwrap_or_default();
        union.extend(names);
        // Places are known only where no reference leads (see `slice`).
        let place = (!schema.arena.linked).then_some(&union.shape);
        let validator = build(
            &slice(&schema.value, &union.keys, place, schema.pinned()),
            schema.draft,
        )?;
        self.slices.insert(Self::key(schema), (union, validator));
        Ok(())
    }

    /// [`Search::cover`] for the names of `doc`, read only when its slice
    /// does not hold them already.
    fn cover_doc(&mut self, schema: &Schema, doc: &Value) -> Result<(), String> {
        if !self.sliced(schema)
            || self
                .slices
                .get(&Self::key(schema))
                .is_some_and(|(covered, _)| covered.holds(doc))
        {
            return Ok(());
        }
        self.cover(schema, &Names::of(doc))
    }

    fn validator<'x>(&'x self, schema: &'x Schema) -> Option<&'x jsonschema::Validator> {
        match self.slices.get(&Self::key(schema)) {
            Some((_, v)) => Some(v),
            None if !self.sliced(schema) => schema.compiled().0.as_ref().ok(),
            None => None,
        }
    }
}

/// One finding's search: the two schemas, the finding's place, the
/// validators and the values tried at each member.
struct Finder<'s> {
    accepting: &'s Schema,
    rejecting: &'s Schema,
    place: Place,
    sampler: Sampler<'s>,
    tried: HashMap<String, usize>,
    options: HashMap<String, Vec<Value>>,
    /// Repairs of members around the place, kept for every later candidate
    /// (`None`: the member removed).
    overrides: Vec<(String, Option<Value>)>,
    /// Where documents were rejected besides the finding, for the note.
    elsewhere: Vec<String>,
}

impl<'s> Finder<'s> {
    /// The first of `candidates` (placed inside `levels`, repaired where
    /// need be) that shows the break; `Err` when the search must stop.
    fn first_showing(
        &mut self,
        search: &mut Search<'_>,
        levels: &[Rc<Level>],
        candidates: impl IntoIterator<Item = Option<Value>>,
        tried: &mut usize,
    ) -> Result<Option<Found>, Miss> {
        for leaf in candidates {
            if *tried >= MAX_CANDIDATES || search.validations >= MAX_VALIDATIONS {
                break;
            }
            if search.meter.poll_now().is_some() {
                return Err(Miss::Time);
            }
            let mut doc = assemble(levels, leaf);
            for (pointer, value) in &self.overrides {
                set(&mut doc, pointer, value.clone());
            }
            for _ in 0..MAX_REPAIRS {
                *tried += 1;
                match self.check(search, &doc) {
                    Err(e) => {
                        return Err(Miss::Note(format!(
                            "no witness: the validator cannot read these schemas ({e})"
                        )));
                    }
                    Ok(Verdict::Shows { format_only }) => {
                        if doc.to_string().len() > MAX_WITNESS_BYTES {
                            return Err(Miss::Note(format!(
                                "no witness shown: the smallest document found that shows the break is larger than {} KiB",
                                MAX_WITNESS_BYTES / 1024
                            )));
                        }
                        return Ok(Some(Found { doc, format_only }));
                    }
                    Ok(Verdict::NotRejected) => break,
                    Ok(Verdict::Elsewhere(faults) | Verdict::NotAccepted(faults)) => {
                        if !self.repair(&mut doc, &faults) {
                            break;
                        }
                    }
                }
            }
        }
        Ok(None)
    }

    fn check(&mut self, search: &mut Search<'_>, doc: &Value) -> Result<Verdict, String> {
        if search.sliced(self.accepting) || search.sliced(self.rejecting) {
            search.cover_doc(self.accepting, doc)?;
            search.cover_doc(self.rejecting, doc)?;
        }
        search.validations += 1;
        let (Some(accept), Some(reject)) =
            (search.validator(self.accepting), search.validator(self.rejecting))
        else {
            return Err("no validator".into());
        };
        if !accept.is_valid(doc) {
            let faults = accept
                .iter_errors(doc)
                .map(|e| fault(&self.accepting.value, &e))
                .collect();
            return Ok(Verdict::NotAccepted(faults));
        }
        let faults: Vec<Fault> = reject
            .iter_errors(doc)
            .map(|e| fault(&self.rejecting.value, &e))
            .collect();
        if faults.is_empty() {
            return Ok(Verdict::NotRejected);
        }
        // Every error is reported: none but `format` ones means a validator
        // that does not assert `format` accepts the document.
        let format_only = faults.iter().all(|f| f.kind == FaultKind::Format);
        let foreign: Vec<Fault> = faults.into_iter().filter(|f| !self.place.owns(f)).collect();
        if foreign.is_empty() {
            Ok(Verdict::Shows { format_only })
        } else {
            self.elsewhere
                .extend(foreign.iter().map(|f| format!("#/{}", f.at.join("/"))));
            Ok(Verdict::Elsewhere(foreign))
        }
    }

    /// The `k`-th value to try at the document place `pointer`: drawn from
    /// what both schemas say there.
    fn option(&mut self, pointer: &str, k: usize) -> Option<Value> {
        if !self.options.contains_key(pointer) {
            let tokens: Vec<String> = pointer.split('/').skip(1).map(unescape).collect();
            let a = schema_at(&self.accepting.value, &tokens);
            let b = schema_at(&self.rejecting.value, &tokens);
            let mut values = vec![self.sampler.minimal(Some(a), Some(b), 1)];
            values.extend(self.sampler.samples(Some(a), Some(b), 1));
            sample::dedup(&mut values);
            self.options.insert(pointer.to_string(), values);
        }
        self.options.get(pointer).and_then(|v| v.get(k)).cloned()
    }

    /// Sets `value` at `pointer` in `doc`, and keeps it for later candidates
    /// when the member is not inside the finding's place.
    fn change(&mut self, doc: &mut Value, pointer: &str, value: Option<Value>) -> bool {
        if !under(pointer, &self.place.instance) {
            self.overrides.retain(|(p, _)| p != pointer);
            self.overrides.push((pointer.to_string(), value.clone()));
        }
        set(doc, pointer, value)
    }

    /// Changes `doc` where `faults` say it is rejected for another reason
    /// than the finding; `false` when no change can help.
    fn repair(&mut self, doc: &mut Value, faults: &[Fault]) -> bool {
        let mut changed = false;
        for f in faults {
            match &f.kind {
                FaultKind::Required(name) => {
                    let target = format!("{}/{}", f.instance, escape(name));
                    if under(&self.place.instance, &target) {
                        return false;
                    }
                    let Some(v) = self.option(&target, 0) else {
                        return false;
                    };
                    changed |= self.change(doc, &target, Some(v));
                }
                FaultKind::Unexpected(names) => {
                    for name in names {
                        let target = format!("{}/{}", f.instance, escape(name));
                        if under(&self.place.instance, &target) {
                            return false;
                        }
                        changed |= self.change(doc, &target, None);
                    }
                }
                FaultKind::Combinator(_) | FaultKind::Format | FaultKind::Other => {
                    // A value on the way to the finding cannot change.
                    if under(&self.place.instance, &f.instance) {
                        return false;
                    }
                    let k = self.tried.entry(f.instance.clone()).or_insert(0);
                    *k += 1;
                    let k = *k;
                    let Some(v) = self.option(&f.instance, k) else {
                        return false;
                    };
                    changed |= self.change(doc, &f.instance, Some(v));
                }
            }
        }
        changed
    }
}

/// Sets (or with `None` removes) the value at `pointer` in `doc`; `false`
/// when its parent is not there.
fn set(doc: &mut Value, pointer: &str, value: Option<Value>) -> bool {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return false;
    };
    let last = unescape(last);
    match (doc.pointer_mut(parent), value) {
        (Some(Value::Object(m)), Some(v)) => m.insert(last, v.clone()).as_ref() != Some(&v),
        (Some(Value::Object(m)), None) => m.remove(&last).is_some(),
        (Some(Value::Array(a)), Some(v)) => match last.parse::<usize>() {
            Ok(i) if i < a.len() => {
                a[i] = v;
                true
            }
            Ok(i) if i == a.len() => {
                a.push(v);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// The schema node that governs the document place `tokens` (object keys
/// and array indices), as far as `properties`, `patternProperties`,
/// `additionalProperties` and the tuple keywords say.
fn schema_at<'a>(root: &'a Value, tokens: &[String]) -> &'a Value {
    let reader = Reader { root };
    let mut patterns = sample::Patterns::default();
    let mut node = root;
    for t in tokens {
        let parts = reader.parts(node);
        let index = t.parse::<usize>().ok();
        let next = match index {
            Some(k) => parts
                .iter()
                .find(|p| p.get("items").is_some() || p.get("prefixItems").is_some())
                .map(|p| item_at(p, k)),
            None => parts
                .iter()
                .find_map(|p| p.get("properties").and_then(|ps| ps.get(t.as_str())))
                .or_else(|| {
                    parts
                        .iter()
                        .map(|p| undeclared(p, t, &mut patterns))
                        .find(|s| **s != TRUE)
                }),
        };
        node = next.unwrap_or(&TRUE);
    }
    node
}

/// Members next to the way to the finding's place, at one level of the
/// document: those both schemas require (or the items before and after a
/// tuple position), with values both are likely to accept.
struct Level {
    step: Step,
    before: Vec<(Step, Value)>,
    after: Vec<Value>,
}

/// What one call's findings share: the levels of their skeletons and the
/// values drawn at their places, built once per call and reused.
///
/// Each is keyed by the schema nodes it was drawn from (by address: the
/// schemas outlive the call) and keeps how many visits of the sampler it
/// took. A sampler falls back to plainer values only past its bound on
/// visits; with no randomness, a draw that stays within the bound from
/// where it starts is the same wherever it starts, so a kept one is reused
/// only when it stays within the bound from the sampler's count, which then
/// moves on by as much: a finding gets exactly what it would have built.
#[derive(Default)]
pub(crate) struct Memo {
    levels: HashMap<(NodeKey, Step), Kept<Rc<Level>>>,
    minimal: HashMap<NodeKey, Kept<Value>>,
    /// By nodes and the sampler's cap on outermost values.
    samples: HashMap<(NodeKey, usize), Kept<Rc<Vec<Value>>>>,
}

/// A value kept, and the visits of the sampler it took.
type Kept<V> = (V, usize);

/// The roots of both sides and the nodes read on each (0: none).
type NodeKey = [usize; 4];

fn node_key(roots: (&Value, &Value), a: Option<&Value>, b: Option<&Value>) -> NodeKey {
    [
        address(roots.0),
        address(roots.1),
        a.map_or(0, address),
        b.map_or(0, address),
    ]
}

/// The value kept under `key` in `map` if it may be reused at the
/// sampler's count, which it then moves on; else `make`'s, kept when it
/// stayed within the bound.
fn reuse<'s, K: std::hash::Hash + Eq, V: Clone>(
    map: &mut HashMap<K, Kept<V>>,
    key: K,
    sampler: &mut Sampler<'s>,
    make: impl FnOnce(&mut Sampler<'s>) -> V,
) -> V {
    if sampler.rng != 0 {
        return make(sampler);
    }
    if let Some((v, spent)) = map.get(&key)
        && sampler.visits + spent <= sample::MAX_VISITS
    {
        sampler.visits += spent;
        return v.clone();
    }
    let start = sampler.visits;
    let v = make(sampler);
    if sampler.visits <= sample::MAX_VISITS {
        map.insert(key, (v.clone(), sampler.visits - start));
    }
    v
}

impl Memo {
    /// [`Sampler::minimal`] at depth 1, reused.
    fn minimal<'s>(
        &mut self,
        sampler: &mut Sampler<'s>,
        roots: (&'s Value, &'s Value),
        a: Option<&'s Value>,
        b: Option<&'s Value>,
    ) -> Value {
        reuse(&mut self.minimal, node_key(roots, a, b), sampler, |s| {
            s.minimal(a, b, 1)
        })
    }

    /// [`Sampler::samples`] at the outermost level, reused.
    fn samples<'s>(
        &mut self,
        sampler: &mut Sampler<'s>,
        roots: (&'s Value, &'s Value),
        a: &'s Value,
        b: &'s Value,
    ) -> Rc<Vec<Value>> {
        let key = (node_key(roots, Some(a), Some(b)), sampler.top_cap);
        reuse(&mut self.samples, key, sampler, |s| {
            Rc::new(s.samples(Some(a), Some(b), 0))
        })
    }
}

fn skeleton<'s>(
    memo: &mut Memo,
    sampler: &mut Sampler<'s>,
    roots: (&'s Value, &'s Value),
    steps: &[(Step, &'s Value)],
    other: &[(Step, &'s Value)],
) -> Vec<Rc<Level>> {
    let mut levels = Vec::with_capacity(steps.len());
    for (i, (step, pa)) in steps.iter().enumerate() {
        let pb = other.get(i).map(|(_, p)| *p);
        let key = (node_key(roots, Some(pa), pb), step.clone());
        let mut levels_memo = std::mem::take(&mut memo.levels);
        let level = reuse(&mut levels_memo, key, sampler, |s| {
            Rc::new(skeleton_level(memo, s, roots, step, pa, pb))
        });
        memo.levels = levels_memo;
        levels.push(level);
    }
    levels
}

/// One level of [`skeleton`]: the members next to `step` where `pa` (and
/// `pb`, on the other side) apply.
fn skeleton_level<'s>(
    memo: &mut Memo,
    sampler: &mut Sampler<'s>,
    roots: (&'s Value, &'s Value),
    step: &Step,
    pa: &'s Value,
    pb: Option<&'s Value>,
) -> Level {
    let (ra, rb) = (Reader { root: roots.0 }, Reader { root: roots.1 });
    let mut patterns = sample::Patterns::default();
    let pa = ra.parts(pa);
    let pb = pb.map(|p| rb.parts(p)).unwrap_or_default();
    let mut level = Level {
        step: step.clone(),
        before: Vec::new(),
        after: Vec::new(),
    };
    match step {
        Step::Key(key) => {
            // In order of appearance; the set only spares a quadratic
            // search among the hundreds a large object may require, and
            // is sized once (a skeleton is built for every finding).
            let required: Vec<&Vec<Value>> = pa
                .iter()
                .chain(&pb)
                .filter_map(|p| p.get("required").and_then(Value::as_array))
                .collect();
            let mut names: Vec<&str> = Vec::new();
            let mut seen: HashSet<&str> = HashSet::with_capacity(required.iter().map(|r| r.len()).sum());
            for r in required {
                for n in r {
                    if let Some(n) = n.as_str()
                        && n != key
                        && seen.insert(n)
                    {
                        names.push(n);
                    }
                }
            }
            for n in names {
                let mut prop = |parts: &[&'s Value]| -> Option<&'s Value> {
                    parts
                        .iter()
                        .find_map(|p| p.get("properties").and_then(|ps| ps.get(n)))
                        .or_else(|| parts.first().map(|p| undeclared(p, n, &mut patterns)))
                };
                let (x, y) = (prop(&pa), prop(&pb));
                let v = memo.minimal(sampler, roots, x, y);
                level.before.push((Step::Key(n.to_string()), v));
            }
        }
        Step::Index(k) => {
            let tuple = |parts: &[&'s Value]| {
                parts
                    .iter()
                    .find(|p| p.get("items").is_some() || p.get("prefixItems").is_some())
                    .copied()
            };
            let (ta, tb) = (tuple(&pa), tuple(&pb));
            let min = pa
                .iter()
                .chain(&pb)
                .filter_map(|p| p.get("minItems").and_then(Value::as_u64))
                .max()
                .unwrap_or(0)
                .min(sample::MAX_ARRAY as u64) as usize;
            for j in 0..(*k).max(min).min(sample::MAX_ARRAY) {
                if j == *k {
                    continue;
                }
                let v = memo.minimal(
                    sampler,
                    roots,
                    ta.map(|t| item_at(t, j)),
                    tb.map(|t| item_at(t, j)),
                );
                if j < *k {
                    level.before.push((Step::Index(j), v));
                } else {
                    level.after.push(v);
                }
            }
        }
    }
    level
}

/// The document `levels` make around `leaf` (`None`: the member at the
/// place left out).
fn assemble(levels: &[Rc<Level>], leaf: Option<Value>) -> Value {
    let mut value = leaf;
    for level in levels.iter().rev() {
        value = Some(match &level.step {
            Step::Key(k) => {
                let mut o = Map::new();
                for (s, v) in &level.before {
                    if let Step::Key(n) = s {
                        o.insert(n.clone(), v.clone());
                    }
                }
                if let Some(v) = value {
                    o.insert(k.clone(), v);
                }
                Value::Object(o)
            }
            Step::Index(_) => {
                let mut a: Vec<Value> = level.before.iter().map(|(_, v)| v.clone()).collect();
                match value {
                    Some(v) => a.push(v),
                    None => a.truncate(a.len()),
                }
                a.extend(level.after.iter().cloned());
                Value::Array(a)
            }
        });
    }
    value.unwrap_or(Value::Null)
}

/// A witness, verified.
#[derive(Debug)]
pub(crate) struct Found {
    pub(crate) doc: Value,
    /// The rejecting schema rejects it only by `format` assertions, which
    /// most validators do not make by default (see [`FORMAT_ONLY`]).
    pub(crate) format_only: bool,
}

/// The note of a witness rejected only by `format` assertions: Accord
/// reads `format` as one (the stricter reading the drafts allow), most
/// validators by default do not (2019-09 and 2020-12 make it an annotation).
pub(crate) const FORMAT_ONLY: &str =
    "rejected only by validators that assert `format`: most do not by default";

/// Why a finding has no witness.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Miss {
    /// The time (or the call's budget) ran out during its search.
    Time,
    /// None was found; the words say why.
    Note(String),
}

/// One finding, ready to be searched: the document around its place and
/// the values to try there.
pub(crate) struct Prepared<'s> {
    finder: Finder<'s>,
    levels: Vec<Rc<Level>>,
    /// The first values to try at the place, then those sampled there
    /// (shared with the findings at the same place, cloned when tried).
    candidates: Vec<Option<Value>>,
    leaves: Rc<Vec<Value>>,
    /// The rejecting schema's node at the place.
    rejecting_node: &'s Value,
    /// The nodes enclosing the place on both sides, for the second round.
    around: Option<(&'s Value, &'s Value)>,
}

impl<'s> Prepared<'s> {
    /// Prepares the search for a document `accepting` accepts and
    /// `rejecting` rejects only for the finding at `accepting_path` /
    /// `rejecting_path` (engine syntax, in those roles), about `subject`;
    /// `deeper` are the rejecting paths of the comparison's other findings
    /// under this one, whose breaks this witness must not show.
    pub(crate) fn new(
        memo: &mut Memo,
        accepting: &'s Schema,
        rejecting: &'s Schema,
        accepting_path: &str,
        rejecting_path: &str,
        subject: Subject,
        deeper: &[&str],
    ) -> Self {
        let ra = Reader {
            root: &accepting.value,
        };
        let rb = Reader {
            root: &rejecting.value,
        };
        let (steps, a_node) = ra.walk(accepting_path);
        let (b_steps, b_node) = rb.walk(rejecting_path);
        let mut finder = Finder {
            accepting,
            rejecting,
            place: Place::new(rejecting_path, &steps, subject, deeper),
            sampler: Sampler::new(&accepting.value, &rejecting.value),
            tried: HashMap::new(),
            options: HashMap::new(),
            overrides: Vec::new(),
            elsewhere: Vec::new(),
        };
        finder.sampler.top_cap = 2 * sample::MAX_SAMPLES;
        let roots = (&accepting.value, &rejecting.value);
        let levels = skeleton(memo, &mut finder.sampler, roots, &steps, &b_steps);
        // At the place: the member left out (for a property's presence),
        // then values.
        let tokens = &finder.place.path;
        let at_property = finder.place.presence
            && tokens.len() >= 2
            && tokens[tokens.len() - 2] == "properties"
            && matches!(steps.last(), Some((Step::Key(_), _)));
        let mut candidates: Vec<Option<Value>> = Vec::new();
        if at_property {
            candidates.push(None);
        }
        // A required name: the object with what both sides require, but it.
        if let [.., required, name] = &tokens[..]
            && required == "required"
            && let Value::Object(mut o) = memo.minimal(&mut finder.sampler, roots, Some(a_node), Some(b_node))
        {
            o.remove(&unescape(name));
            candidates.push(Some(Value::Object(o)));
        }
        let leaves = memo.samples(&mut finder.sampler, roots, a_node, b_node);
        let around = match (steps.last(), b_steps.last()) {
            (Some((_, pa)), Some((_, pb))) => Some((*pa, *pb)),
            _ => None,
        };
        Prepared {
            finder,
            levels,
            candidates,
            leaves,
            rejecting_node: b_node,
            around,
        }
    }

    /// The names of the first documents of this search (see [`assemble`]),
    /// added to `names`.
    pub(crate) fn names(&self, names: &mut Names) {
        let keys = &mut names.keys;
        // The shape follows the levels while they are objects.
        let mut shape = Some(&mut names.shape);
        for level in &self.levels {
            if let Step::Key(k) = &level.step {
                keys.insert(k.clone());
            }
            for (step, v) in &level.before {
                if let Step::Key(k) = step {
                    keys.insert(k.clone());
                    if let Some(s) = shape.as_deref_mut() {
                        s.child(k).add(v);
                    }
                }
                collect_keys(v, keys);
            }
            for v in &level.after {
                collect_keys(v, keys);
            }
            shape = match (&level.step, shape) {
                (Step::Key(k), Some(s)) => Some(s.child(k)),
                _ => None,
            };
        }
        let leaves = self.leaves.iter().map(Some);
        for leaf in self
            .candidates
            .iter()
            .map(Option::as_ref)
            .chain(leaves)
            .take(8)
            .flatten()
        {
            collect_keys(leaf, keys);
            if let Some(s) = shape.as_deref_mut() {
                s.add(leaf);
            }
        }
    }

    pub(crate) fn schemas(&self) -> (&'s Schema, &'s Schema) {
        (self.finder.accepting, self.finder.rejecting)
    }

    /// Searches the witness.
    pub(crate) fn search(self, search: &mut Search<'_>) -> Result<Found, Miss> {
        let Prepared {
            mut finder,
            levels,
            candidates,
            leaves,
            rejecting_node,
            around,
        } = self;
        let mut tried = 0usize;
        // The sampled values that a plain keyword of the rejecting node
        // refuses go first (in their order), the others after: a break
        // shows at the place, so they are the likelier witnesses, and each
        // value tried costs two validations of the whole document.
        let (refused, others): (Vec<&Value>, Vec<&Value>) =
            leaves.iter().partition(|v| refuses(rejecting_node, v));
        let sampled = refused.into_iter().chain(others).cloned().map(Some);
        let candidates = candidates.into_iter().chain(sampled);
        if let Some(found) = finder.first_showing(search, &levels, candidates, &mut tried)? {
            return Ok(found);
        }
        // The enclosing level as a whole, for a break that only shows with
        // its neighbours (a tuple growing around the place, say).
        if let Some((pa, pb)) = around {
            finder.sampler.visits = 0;
            let mut whole = finder.sampler.samples(Some(pa), Some(pb), 0);
            whole.truncate(2 * sample::MAX_SAMPLES);
            let outer = &levels[..levels.len() - 1];
            let candidates = whole.into_iter().map(Some);
            if let Some(found) = finder.first_showing(search, outer, candidates, &mut tried)? {
                return Ok(found);
            }
        }
        // Whole documents drawn from both roots, as the soundness probe
        // draws them, for a break that the values sampled at and around the
        // place do not reach (a `not`, a condition elsewhere, a member the
        // skeleton left out). Not when documents showing the break were
        // found but also rejected elsewhere: those others would be too.
        let roots = (&finder.accepting.value, &finder.rejecting.value);
        let mut whole = Vec::new();
        let rounds = if finder.elsewhere.is_empty() {
            WHOLE_DOCUMENTS
        } else {
            0
        };
        for k in 0..rounds {
            finder.sampler.visits = 0;
            finder.sampler.rng = (k as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let mut s = finder.sampler.samples(Some(roots.0), Some(roots.1), 0);
            if !s.is_empty() {
                whole.push(Some(s.swap_remove(0)));
            }
            if search.meter.poll_now().is_some() {
                return Err(Miss::Time);
            }
        }
        if let Some(found) = finder.first_showing(search, &[], whole, &mut tried)? {
            return Ok(found);
        }
        let mut elsewhere = finder.elsewhere;
        elsewhere.sort();
        elsewhere.dedup();
        Err(Miss::Note(if elsewhere.is_empty() {
            "no document could be built to show the break".into()
        } else {
            format!(
                "no document shows this break alone: those found are also rejected at {}",
                elsewhere.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
            )
        }))
    }
}

/// Whether a keyword of `node` that reads `value` alone refuses it: `type`,
/// `enum`, `const` and the bounds of lengths, sizes and numbers that every
/// draft spells alike. Only an order of trial rests on it: every witness is
/// still checked by the validators.
fn refuses(node: &Value, value: &Value) -> bool {
    let Value::Object(n) = node else {
        return false;
    };
    let bound = |k: &str| n.get(k).and_then(Value::as_f64);
    let below = |k: &str, x: f64| bound(k).is_some_and(|b| x < b);
    let above = |k: &str, x: f64| bound(k).is_some_and(|b| x > b);
    let size = |x: usize, min: &str, max: &str| {
        let x = x as f64;
        below(min, x) || above(max, x)
    };
    let typed = sample::types_of(node);
    let type_given = n.contains_key("type");
    let of_type = |t: &str| typed.contains(&t);
    let wrong_type = type_given
        && !match value {
            Value::Null => of_type("null"),
            Value::Bool(_) => of_type("boolean"),
            Value::Number(x) => {
                of_type("number") || (x.as_f64().is_some_and(|f| f.fract() == 0.0) && of_type("integer"))
            }
            Value::String(_) => of_type("string"),
            Value::Array(_) => of_type("array"),
            Value::Object(_) => of_type("object"),
        };
    wrong_type
        || n.get("enum")
            .and_then(Value::as_array)
            .is_some_and(|e| !e.contains(value))
        || n.get("const").is_some_and(|c| c != value)
        || match value {
            Value::String(x) => size(x.chars().count(), "minLength", "maxLength"),
            Value::Array(x) => size(x.len(), "minItems", "maxItems"),
            Value::Object(x) => size(x.len(), "minProperties", "maxProperties"),
            Value::Number(x) => x
                .as_f64()
                .is_some_and(|x| below("minimum", x) || above("maximum", x)),
            _ => false,
        }
}

/// Compiles, for a search of few findings, one slice per schema that covers
/// the first documents of them all.
pub(crate) fn cover_all(search: &mut Search<'_>, prepared: &[&Prepared<'_>]) {
    let mut names: HashMap<usize, (&Schema, Names)> = HashMap::new();
    for p in prepared {
        let (a, b) = p.schemas();
        for s in [a, b] {
            let (_, n) = names
                .entry(Search::key(s))
                .or_insert_with(|| (s, Names::default()));
            p.names(n);
        }
    }
    for (schema, n) in names.into_values() {
        // A failure shows again, with its message, when a finding is searched.
        let _ = search.cover(schema, &n);
    }
}

/// What the soundness probe found for one pair of schemas.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Soundness {
    /// Documents generated.
    pub generated: usize,
    /// Of those, documents the old schema accepts.
    pub accepted_by_old: usize,
    /// Documents the old schema accepts and the new one rejects (the first
    /// few); empty when the new schema accepted them all.
    pub counterexamples: Vec<Value>,
    /// Whether either schema could not be compiled for validation (nothing
    /// was then checked).
    pub skipped: bool,
}

/// Generates documents the old schema accepts and checks that the new one
/// accepts them too: the converse of a witness, for pairs the engine calls
/// compatible. `documents` random documents are drawn (from `seed`) on top
/// of the boundary values of both schemas.
pub(crate) fn probe(
    old: (&Value, &Compiled),
    new: (&Value, &Compiled),
    documents: usize,
    seed: u64,
) -> Soundness {
    let mut report = Soundness::default();
    if old.1.0.is_err() || new.1.0.is_err() {
        report.skipped = true;
        return report;
    }
    let mut sampler = Sampler::new(old.0, new.0);
    let mut candidates = sampler.samples(Some(old.0), Some(new.0), 0);
    sampler.rng = seed | 1;
    for _ in 0..documents {
        sampler.visits = 0;
        let mut s = sampler.samples(Some(old.0), Some(new.0), 0);
        if !s.is_empty() {
            candidates.push(s.swap_remove(0));
        }
    }
    for doc in candidates {
        report.generated += 1;
        if old.1.accepts(&doc) != Some(true) {
            continue;
        }
        report.accepted_by_old += 1;
        if new.1.accepts(&doc) == Some(false) && report.counterexamples.len() < 5 {
            report.counterexamples.push(doc);
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_keyword_of_the_node_refuses_a_value_alone() {
        let node = json!({
            "type": "array", "minItems": 1, "maxItems": 2,
        });
        assert!(refuses(&node, &json!([])));
        assert!(refuses(&node, &json!([1, 2, 3])));
        assert!(!refuses(&node, &json!([1, 2])));
        assert!(refuses(&node, &json!("ab")));
        // Lengths count characters, not bytes.
        let node = json!({"maxLength": 2});
        assert!(!refuses(&node, &json!("éé")));
        assert!(refuses(&node, &json!("abc")));
        // An integer is a number; 1.0 is an integer.
        assert!(!refuses(&json!({"type": "number"}), &json!(3)));
        assert!(!refuses(&json!({"type": "integer"}), &json!(1.0)));
        assert!(refuses(&json!({"type": "integer"}), &json!(1.5)));
        assert!(refuses(&json!({"type": ["string", "null"]}), &json!(0)));
        assert!(refuses(&json!({"enum": ["a", "b"]}), &json!("c")));
        assert!(refuses(&json!({"const": 1}), &json!(2)));
        assert!(refuses(&json!({"minimum": 0}), &json!(-1)));
        assert!(!refuses(&json!({"maximum": 10}), &json!(10)));
        assert!(refuses(&json!({"maxProperties": 0}), &json!({"a": 1})));
        // What it does not read refuses nothing.
        assert!(!refuses(&json!({"pattern": "^a"}), &json!("b")));
        assert!(!refuses(&json!(true), &json!(1)));
    }
    use crate::budget::Budget;
    use serde_json::json;

    fn find(old: Value, new: Value, old_path: &str, new_path: &str) -> Result<Value, Miss> {
        find_noted(old, new, old_path, new_path).map(|f| f.doc)
    }

    /// A witness for a finding about a value (a type, a bound...).
    fn find_noted(old: Value, new: Value, old_path: &str, new_path: &str) -> Result<Found, Miss> {
        find_about(old, new, old_path, new_path, Subject::Value)
    }

    fn find_about(
        old: Value,
        new: Value,
        old_path: &str,
        new_path: &str,
        subject: Subject,
    ) -> Result<Found, Miss> {
        let (old, new) = (Schema::from_value(old).unwrap(), Schema::from_value(new).unwrap());
        let budget = Budget::default();
        let mut search = Search::new(Meter::new(&budget), 1);
        Prepared::new(&mut search.memo, &old, &new, old_path, new_path, subject, &[]).search(&mut search)
    }

    #[test]
    fn a_lowered_max_length_shows_a_string_at_the_old_limit() {
        let old =
            json!({"type":"object","properties":{"a":{"type":"string","maxLength":12}},"required":["a"]});
        let new =
            json!({"type":"object","properties":{"a":{"type":"string","maxLength":10}},"required":["a"]});
        let w = find(old, new, "/properties/a/maxLength", "/properties/a/maxLength");
        let w = w.expect("a witness");
        let a = w["a"].as_str().expect("a string at the finding's place");
        assert!(a.len() > 10 && a.len() <= 12, "{w}");
    }

    #[test]
    fn no_witness_when_nothing_breaks() {
        let old = json!({"type":"string","maxLength":10});
        let new = json!({"type":"string","maxLength":12});
        assert!(find(old, new, "/maxLength", "/maxLength").is_err());
    }

    #[test]
    fn references_are_followed_to_the_finding() {
        let old = json!({"definitions":{"n":{"type":"integer","minimum":0}},"type":"object","properties":{"n":{"$ref":"#/definitions/n"}}});
        let new = json!({"definitions":{"n":{"type":"integer","minimum":5}},"type":"object","properties":{"n":{"$ref":"#/definitions/n"}}});
        let w = find(old, new, "/properties/n/minimum", "/properties/n/minimum").expect("a witness");
        let n = w["n"].as_i64().expect("an integer at n");
        assert!((0..5).contains(&n), "{w}");
    }

    #[test]
    fn a_witness_is_rejected_only_for_its_own_finding() {
        // `amount` narrowed to integer, and `id` newly required: the type
        // finding's witness carries `id`, so that only the type rejects it.
        let old = json!({"type":"object","properties":{"amount":{"type":"number"},"id":{"type":"string"}}});
        let new = json!({"type":"object","properties":{"amount":{"type":"integer"},"id":{"type":"string"}},"required":["id"]});
        let w = find(
            old.clone(),
            new.clone(),
            "/properties/amount",
            "/properties/amount",
        )
        .expect("a witness");
        assert!(w["amount"].as_f64().is_some_and(|x| x.fract() != 0.0), "{w}");
        assert!(w["id"].is_string(), "{w}");
        // And the `required` finding's witness lacks `id` and nothing else.
        let w = find(old, new, "/required/id", "/required/id").expect("a witness");
        assert!(w.get("id").is_none(), "{w}");
        assert!(
            w.get("amount")
                .is_none_or(|a| a.as_f64().is_some_and(|x| x.fract() == 0.0)),
            "{w}"
        );
    }

    #[test]
    fn a_property_narrowed_and_made_required_shows_each_break_apart() {
        // `a` narrowed to integer and newly required, `b` newly required.
        // The type's witness holds a non-integer `a` (and `b`): an object
        // without `a` shows the new requirement, not the narrowing.
        let old = json!({"type":"object","properties":{"a":{"type":"number"}}});
        let new = json!({"type":"object","properties":{"a":{"type":"integer"}},"required":["a","b"]});
        let w = find(old.clone(), new.clone(), "/properties/a", "/properties/a").expect("a witness");
        assert!(w["a"].as_f64().is_some_and(|x| x.fract() != 0.0), "{w}");
        assert!(w.get("b").is_some(), "{w}");
        // The requirement's witness lacks `a` and has `b`.
        let w = find(old.clone(), new.clone(), "/required/a", "/required/a").expect("a witness");
        assert!(w.get("a").is_none() && w.get("b").is_some(), "{w}");
        // A required property added to the model: leaving it out shows it.
        let old = json!({"type":"object","properties":{"x":{"type":"string"}},"additionalProperties":false});
        let new = json!({"type":"object","properties":{"x":{"type":"string"},"a":{"type":"integer"}},"required":["a"],"additionalProperties":false});
        let w = find_about(old, new, "/properties/a", "/properties/a", Subject::Presence)
            .expect("a witness")
            .doc;
        assert!(w.get("a").is_none(), "{w}");
    }

    #[test]
    fn a_break_that_values_at_the_place_miss_is_found_in_whole_documents() {
        // Inside `not`, the values sampled at the place are strings (what
        // the negated schemas name); the break is a number below -3, which
        // the old schema accepts (it is no string) and the new one's `not`
        // now refuses.
        let old = json!({"not": {"oneOf": [{"type": "string", "maxLength": 5}, {"type": "string", "format": "date"}]}});
        let new = json!({"not": {"oneOf": [{"type": "number", "exclusiveMaximum": -3}]}});
        let w = find(old, new, "/not", "/not").expect("a witness");
        assert!(w.as_f64().is_some_and(|x| x < -3.0), "{w}");
    }

    #[test]
    fn a_break_that_cannot_be_shown_alone_says_so() {
        // The new object is closed and requires `b`; the old one forbids
        // `b`: no document the old schema accepts has `b`, so every one is
        // rejected for the missing `b` as well as for `a`'s type.
        let old = json!({"type":"object","properties":{"a":{"type":"number"}},"additionalProperties":false});
        let new = json!({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"}},"required":["b"],"additionalProperties":false});
        let miss = find(old, new, "/properties/a", "/properties/a").unwrap_err();
        assert!(matches!(&miss, Miss::Note(n) if n.contains("alone")), "{miss:?}");
    }

    #[test]
    fn slices_keep_what_references_reach_and_drop_unused_names() {
        let schema = json!({
            "definitions": {"n": {"type": "integer"}, "unused": {"type": "string"}},
            "properties": {"a": {"$ref": "#/definitions/n"}, "b": {"type": "string", "description": "d"}},
            "required": ["a"]
        });
        let pinned = Pinned::of(&schema);
        let keys: HashSet<String> = ["a".to_string()].into_iter().collect();
        let cut = slice(&schema, &keys, None, &pinned);
        assert_eq!(
            cut,
            json!({"definitions": {"n": {"type": "integer"}}, "properties": {"a": {"$ref": "#/definitions/n"}}, "required": ["a"]})
        );
    }

    #[test]
    fn slices_of_a_document_without_references_keep_names_at_their_places() {
        let schema = json!({
            "type": "object",
            "properties": {
                "a": {"type": "object", "properties": {"a": {"type": "string"}, "b": {"maximum": 3}},
                      "additionalProperties": false},
                "b": {"type": "string"},
                "c": {"type": "array", "items": {"properties": {"a": {"type": "integer"}, "b": {}}}}
            },
            "required": ["a"]
        });
        let docs = [
            json!({"a": {"b": 5}}),
            json!({"a": {"b": 1}, "c": [{"a": "x"}]}),
            json!({"a": {"b": 1, "x": true}}),
        ];
        let mut names = Names::default();
        for d in &docs {
            names.extend(&Names::of(d));
        }
        let cut = slice(&schema, &names.keys, Some(&names.shape), &Pinned::default());
        // `a` keeps only `b`, the root loses `b`, and under `items` (no place)
        // every name the documents use anywhere is kept.
        assert_eq!(
            cut,
            json!({
                "type": "object",
                "properties": {
                    "a": {"type": "object", "properties": {"b": {"maximum": 3}}, "additionalProperties": false},
                    "c": {"type": "array", "items": {"properties": {"a": {"type": "integer"}, "b": {}}}}
                },
                "required": ["a"]
            })
        );
        // And it judges the documents as the whole schema does, at the same places.
        let (whole, cut) = (
            build(&schema, Draft::D7).unwrap(),
            build(&cut, Draft::D7).unwrap(),
        );
        let errors = |v: &jsonschema::Validator, d: &Value| -> Vec<String> {
            v.iter_errors(d)
                .map(|e| e.evaluation_path().to_string())
                .collect()
        };
        for d in &docs {
            assert_eq!(errors(&whole, d), errors(&cut, d), "{d}");
        }
        assert!(!errors(&whole, &docs[0]).is_empty() && !errors(&whole, &docs[2]).is_empty());
        // A document with a name at a new place is not covered.
        for (doc, covered) in [
            (json!({"a": {"a": "s"}}), false),
            (json!({"z": 1}), false),
            (json!({"a": {}}), true),
            (json!({"c": [{"b": 1}], "a": {"b": 2}}), true),
        ] {
            assert_eq!(names.covers(&Names::of(&doc)), covered, "{doc}");
            assert_eq!(names.holds(&doc), covered, "{doc}");
        }
    }

    #[test]
    fn validator_locations_read_in_the_engines_syntax() {
        let doc = json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
            "properties": {"t": {"$ref": "#/$defs/t"}}, "$defs": {"t": {"prefixItems": [{"type": "string"}], "items": false}}});
        assert_eq!(
            engine_path(&doc, "/properties/t/$ref/prefixItems/0/type"),
            ["properties", "t", "items", "0", "type"]
        );
        assert_eq!(
            engine_path(&doc, "/properties/t/$ref/items"),
            ["properties", "t", "additionalItems"]
        );
    }

    #[test]
    fn hostile_bounds_cost_bounded_work() {
        let old = json!({"type":"string","minLength":1000000000});
        let new = json!({"type":"string","minLength":1000000001});
        assert!(find(old, new, "/minLength", "/minLength").is_err());
    }
}
