//! The walk: pairs the elements of the old and the new schema once (nodes
//! through `$ref`s, properties by name, tuple items by position, combined
//! subschemas by a maximum matching) and hands each pair to the leaf checks
//! of the rule files. It follows Confluent's comparison order and paths.
//!
//! It never recurses without bound: a pair of nodes already being compared
//! higher up (a recursive schema) counts as equal, and a work budget and a
//! depth bound stop hostile inputs with a conservative finding.
//!
//! A pair of nodes reached through `$ref` is compared once (per direction
//! and per whether its own annotations count) and its findings are reported
//! once, at the shortest path that reaches it, however many places refer to
//! it: during the walk each place holds a marker to the pair's record, and
//! verdicts inside the walk (is this pair compatible?) read the record.

use crate::Policy;
use crate::budget::{Meter, Stop};
use crate::model::{Additional, Arena, ArrayNode, Criterion, Id, Kind, ObjectNode, escape};
use crate::patterns::{Matches, PatternSet};
use crate::rules::{self, RuleInfo, Sink};
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::collections::BTreeSet;

/// Steps one comparison may make before it gives up: pairs of subschemas
/// compared, and findings made or copied. Combined schemas compare every
/// subschema with every other, so nested `oneOf`s multiply.
pub(crate) const WORK_BUDGET: usize = 500_000;
/// Nested node comparisons on the stack at most (each costs a few frames).
pub(crate) const MAX_DEPTH: usize = 200;
/// Findings one comparison may report.
pub(crate) const MAX_FINDINGS: usize = 100_000;

/// A finding before it is given a direction and verdict. Paths are JSON
/// pointers without the leading `#` (`""` is the root).
#[derive(Debug, Clone)]
pub(crate) struct Raw {
    pub rule: &'static RuleInfo,
    pub old_path: String,
    pub new_path: String,
    pub message: String,
    /// Inside the walk only: a marker standing for the findings of the
    /// record with this index, at these paths (`rule` and `message` unused).
    pub via: Option<usize>,
}

/// A pair of nodes reached through `$ref`: old, new, whether old and new
/// are swapped (inside `not`), and whether the pair's own annotations are
/// compared.
type Key = (Id, Id, bool, bool);

/// What a list of findings amounts to, the records it points to included.
#[derive(Debug, Clone, Copy, Default)]
struct Summary {
    /// At least one finding.
    any: bool,
    /// At least one finding incompatible under the policy.
    breaking: bool,
    /// At least one finding that changes the accepted documents.
    validation: bool,
}

impl Summary {
    fn merge(&mut self, other: Summary) {
        self.any |= other.any;
        self.breaking |= other.breaking;
        self.validation |= other.validation;
    }
}

/// The comparison of one pair reached through `$ref`, made once.
#[derive(Debug, Default)]
struct Record {
    /// The path lengths its findings were recorded under.
    lens: (usize, usize),
    /// Its findings (and markers to other records).
    found: Vec<Raw>,
    /// Whether the comparison is finished (else the pair is being compared
    /// further up: a recursive schema).
    done: bool,
    /// Whether the two nodes were compared as the same kind of schema, so
    /// that annotations written next to a reference to them count.
    annotated: bool,
    /// What its findings amount to, the records they point to included. A
    /// record still being compared counts as having none: a recursive
    /// schema is compared as if the pair under way were equal, and what
    /// differs in it is reported where it is compared.
    summary: Summary,
}

/// A marker waiting to be expanded: shortest paths first.
type Pending = std::cmp::Reverse<(usize, String, String, usize)>;

/// The bounds of one comparison.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    pub max_steps: usize,
    pub max_findings: usize,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            max_steps: WORK_BUDGET,
            max_findings: MAX_FINDINGS,
        }
    }
}

/// What a comparison found, and why it stopped early if it did (then the
/// findings are incomplete).
#[derive(Debug)]
pub(crate) struct Outcome {
    pub found: Vec<Raw>,
    pub stop: Option<Stop>,
    /// Steps made.
    pub steps: usize,
}

pub(crate) struct Engine<'a, 'm, 'b> {
    old: &'a Arena,
    new: &'a Arena,
    policy: Policy,
    /// Old and new swapped (inside `not`, whose check runs reversed).
    swapped: bool,
    old_path: String,
    new_path: String,
    out: Vec<Raw>,
    /// The record of each pair reached through `$ref`, by key.
    memo: HashMap<Key, usize>,
    records: Vec<Record>,
    /// `patternProperties` prepared for matching, by the address of their
    /// object node (both arenas outlive the comparison).
    pattern_sets: HashMap<usize, PatternSet>,
    work: usize,
    depth: usize,
    bounds: Bounds,
    meter: &'m mut Meter<'b>,
    /// Why the comparison stopped early; its result is then incomplete.
    stop: Option<Stop>,
}

impl Sink for Engine<'_, '_, '_> {
    fn emit(&mut self, rule: &'static RuleInfo, keyword: Option<&str>, message: String) {
        let (mut old_path, mut new_path) = (self.old_path.clone(), self.new_path.clone());
        if let Some(k) = keyword {
            old_path.push('/');
            old_path.push_str(k);
            new_path.push('/');
            new_path.push_str(k);
        }
        self.tick(1);
        self.out.push(Raw {
            rule,
            old_path,
            new_path,
            message,
            via: None,
        });
    }
}

/// What a new schema does with the values an old one listed.
enum Listed {
    /// It accepts each, and more.
    All,
    /// It accepts exactly those.
    Same,
    /// It rejects these.
    Rejected(Vec<serde_json::Value>),
    /// The model cannot tell for some.
    Unknown,
}

/// What kind of value the node `id` accepts, for a message: its kind, or
/// for a `type` list the types it names (`string or null`).
fn named(arena: &Arena, id: Id) -> String {
    let kind = &arena.node(id).kind;
    match kind {
        Kind::Combined(Criterion::Any, parts, true) => {
            let names: Vec<String> = parts.iter().map(|&p| kind_name(&arena.node(p).kind)).collect();
            names.join(" or ")
        }
        _ => kind_name(kind),
    }
}

/// The first word of a message about a node: what kind of value it accepts.
pub(crate) fn kind_name(kind: &Kind) -> String {
    match kind {
        Kind::Empty => "any value".into(),
        Kind::False => "no value".into(),
        Kind::Ref(_) => "a reference".into(),
        Kind::String(_) => "string".into(),
        Kind::Number(n) if n.integer => "integer".into(),
        Kind::Number(_) => "number".into(),
        Kind::Boolean => "boolean".into(),
        Kind::Null => "null".into(),
        Kind::Object(_) => "object".into(),
        Kind::Array(_) => "array".into(),
        Kind::Enum(_) => "enum".into(),
        Kind::Const(_) => "const".into(),
        Kind::Combined(c, _, _) => c.keyword().into(),
        Kind::Not(_) => "not".into(),
        Kind::Conditional { .. } => "if/then/else".into(),
    }
}

impl<'a, 'm, 'b> Engine<'a, 'm, 'b> {
    /// Compares `old` with `new` within `bounds` and the budget of `meter`.
    pub(crate) fn run(
        old: &'a Arena,
        new: &'a Arena,
        policy: Policy,
        bounds: Bounds,
        meter: &'m mut Meter<'b>,
    ) -> Outcome {
        let mut e = Engine {
            old,
            new,
            policy,
            swapped: false,
            old_path: String::new(),
            new_path: String::new(),
            out: Vec::new(),
            memo: HashMap::new(),
            records: Vec::new(),
            pattern_sets: HashMap::new(),
            work: 0,
            depth: 0,
            bounds,
            meter,
            stop: None,
        };
        e.compare(old.root, new.root);
        let found = e.expand();
        if e.stop.is_none() && found.len() > bounds.max_findings {
            e.stop = Some(Stop::Findings);
        }
        Outcome {
            found,
            stop: e.stop,
            steps: e.work,
        }
    }

    /// The findings of the walk with every marker replaced by its record's
    /// findings: each record once, at the shortest path that reaches it
    /// (then the first in path order), so that a finding inside a shared
    /// definition is reported once, where the smallest document shows it.
    fn expand(&mut self) -> Vec<Raw> {
        use std::cmp::Reverse;
        use std::collections::BinaryHeap;
        let mut found = Vec::new();
        let mut queue: BinaryHeap<Pending> = BinaryHeap::new();
        let push = |queue: &mut BinaryHeap<Pending>, r: Raw, e: usize| {
            queue.push(Reverse((
                r.old_path.len() + r.new_path.len(),
                r.old_path,
                r.new_path,
                e,
            )));
        };
        for r in std::mem::take(&mut self.out) {
            match r.via {
                Some(e) => push(&mut queue, r, e),
                None => found.push(r),
            }
        }
        let mut expanded = vec![false; self.records.len()];
        while let Some(Reverse((_, old_path, new_path, e))) = queue.pop() {
            if std::mem::replace(&mut expanded[e], true) {
                continue;
            }
            let record = &self.records[e];
            let (old_len, new_len) = record.lens;
            for r in &record.found {
                let rebased = Raw {
                    rule: r.rule,
                    old_path: format!("{old_path}{}", &r.old_path[old_len.min(r.old_path.len())..]),
                    new_path: format!("{new_path}{}", &r.new_path[new_len.min(r.new_path.len())..]),
                    message: r.message.clone(),
                    via: None,
                };
                match r.via {
                    Some(inner) => push(&mut queue, rebased, inner),
                    None => found.push(rebased),
                }
            }
        }
        found
    }

    /// What `found` amounts to, following its markers.
    fn summary(&self, found: &[Raw]) -> Summary {
        let mut s = Summary::default();
        for r in found {
            match r.via {
                Some(e) => s.merge(self.records[e].summary),
                None => s.merge(Summary {
                    any: true,
                    breaking: !r.rule.compatible(self.policy),
                    validation: r.rule.kind == rules::ChangeKind::Validation,
                }),
            }
        }
        s
    }

    /// How many incompatible findings `found` has (a marker to a record
    /// that has some counts one).
    fn breaks(&self, found: &[Raw]) -> usize {
        found
            .iter()
            .filter(|r| match r.via {
                Some(e) => self.records[e].summary.breaking,
                None => !r.rule.compatible(self.policy),
            })
            .count()
    }

    /// The first incompatible finding of `found`, markers followed, at the
    /// paths it has here.
    fn first_breaking(&self, found: &[Raw]) -> Option<Raw> {
        // Each list with the record it belongs to and the paths its marker
        // has here (none for `found` itself, whose paths are already here).
        type Level<'x> = (Option<(usize, String, String)>, &'x [Raw]);
        let mut seen = HashSet::new();
        let mut stack: Vec<Level<'_>> = vec![(None, found)];
        while let Some((place, list)) = stack.pop() {
            let here = |r: &Raw| match &place {
                None => (r.old_path.clone(), r.new_path.clone()),
                Some((e, old_prefix, new_prefix)) => {
                    let (ol, nl) = self.records[*e].lens;
                    (
                        format!("{old_prefix}{}", &r.old_path[ol.min(r.old_path.len())..]),
                        format!("{new_prefix}{}", &r.new_path[nl.min(r.new_path.len())..]),
                    )
                }
            };
            for r in list {
                match r.via {
                    None if !r.rule.compatible(self.policy) => {
                        let (old_path, new_path) = here(r);
                        return Some(Raw {
                            old_path,
                            new_path,
                            ..r.clone()
                        });
                    }
                    Some(e) if self.records[e].summary.breaking && seen.insert(e) => {
                        let (o, n) = here(r);
                        stack.push((Some((e, o, n)), &self.records[e].found));
                    }
                    _ => {}
                }
            }
        }
        None
    }

    /// Counts `steps` of work; `false` (and the reason kept) once the
    /// comparison must stop.
    fn tick(&mut self, steps: usize) -> bool {
        if self.stop.is_some() {
            return false;
        }
        self.work += steps;
        if self.work > self.bounds.max_steps {
            self.stop = Some(Stop::Steps);
        } else if let Some(why) = self.meter.poll() {
            self.stop = Some(why);
        }
        self.stop.is_none()
    }

    fn compatible(&self, found: &[Raw]) -> bool {
        !self.summary(found).breaking
    }

    /// Runs `f` with an empty output and returns what it found.
    fn sub(&mut self, f: impl FnOnce(&mut Self)) -> Vec<Raw> {
        let saved = std::mem::take(&mut self.out);
        f(self);
        std::mem::replace(&mut self.out, saved)
    }

    /// Enters a segment on each side that has one; returns what
    /// [`Self::leave`] restores.
    fn enter_sides(&mut self, old_seg: Option<&str>, new_seg: Option<&str>) -> (usize, usize) {
        let saved = (self.old_path.len(), self.new_path.len());
        for (path, seg) in [(&mut self.old_path, old_seg), (&mut self.new_path, new_seg)] {
            if let Some(seg) = seg {
                path.push('/');
                path.push_str(seg);
            }
        }
        saved
    }

    fn enter2(&mut self, old_seg: &str, new_seg: &str) -> (usize, usize) {
        self.enter_sides(Some(old_seg), Some(new_seg))
    }

    /// Whether the old node `o` accepts no more than each branch given (an
    /// absent branch accepts everything).
    fn meets_branches(&mut self, o: Id, branches: [Option<Id>; 2]) -> bool {
        branches.into_iter().flatten().all(|b| {
            let found = self.sub_compare((None, None), o, b);
            self.compatible(&found)
        })
    }

    /// The findings of `o` against `n` (their own annotations aside), with
    /// the segments of a part (if any) entered on each side, kept apart.
    fn sub_compare(&mut self, segs: (Option<String>, Option<String>), o: Id, n: Id) -> Vec<Raw> {
        self.sub(|e| {
            let saved = e.enter_sides(segs.0.as_deref(), segs.1.as_deref());
            e.compare_with(o, n, false);
            e.leave(saved);
        })
    }

    /// Enters `seg` (if any) on the new side only.
    fn enter_new(&mut self, seg: Option<String>) -> (usize, usize) {
        self.enter_sides(None, seg.as_deref())
    }

    /// Enters `seg` (if any) on the old side only.
    fn enter_old(&mut self, seg: Option<String>) -> (usize, usize) {
        self.enter_sides(seg.as_deref(), None)
    }

    fn enter(&mut self, seg: &str) -> (usize, usize) {
        self.enter2(seg, seg)
    }

    fn leave(&mut self, saved: (usize, usize)) {
        self.old_path.truncate(saved.0);
        self.new_path.truncate(saved.1);
    }

    fn within(&mut self, seg: &str, f: impl FnOnce(&mut Self)) {
        let saved = self.enter(seg);
        f(self);
        self.leave(saved);
    }

    fn kind_old(&self, id: Id) -> &'a Kind {
        let (r, _) = self.old.resolve(id);
        &self.old.node(r).kind
    }

    fn kind_new(&self, id: Id) -> &'a Kind {
        let (r, _) = self.new.resolve(id);
        &self.new.node(r).kind
    }

    /// `SCHEMA_ADDED` / `SCHEMA_REMOVED` when one side is missing.
    fn compare_opt(&mut self, old: Option<Id>, new: Option<Id>) {
        match (old, new) {
            (None, None) => {}
            (None, Some(_)) => self.emit(&rules::types::SCHEMA_ADDED, None, "schema added".into()),
            (Some(_), None) => self.emit(&rules::types::SCHEMA_REMOVED, None, "schema removed".into()),
            (Some(o), Some(n)) => self.compare(o, n),
        }
    }

    pub(crate) fn compare(&mut self, old: Id, new: Id) {
        self.compare_with(old, new, true);
    }

    /// Compares `old` with `new`; `annotations`: whether their own
    /// annotations count (not where the caller compares those of the
    /// schema that wraps them).
    fn compare_with(&mut self, old: Id, new: Id, annotations: bool) {
        if !self.tick(1) {
            return;
        }
        if self.depth >= MAX_DEPTH {
            self.stop = Some(Stop::Depth);
            return;
        }
        let (o, o_ref) = self.old.resolve(old);
        let (n, n_ref) = self.new.resolve(new);
        if !(o_ref || n_ref) {
            self.depth += 1;
            self.compare_resolved(o, n, annotations);
            self.depth -= 1;
            return;
        }
        let site = if annotations {
            let (site_o, site_n) = (self.old.site_annotations(old), self.new.site_annotations(new));
            (site_o.is_some() || site_n.is_some()).then(|| {
                (
                    site_o.unwrap_or_else(|| self.old.node(o).ann().clone()),
                    site_n.unwrap_or_else(|| self.new.node(n).ann().clone()),
                )
            })
        } else {
            None
        };
        match site {
            // Annotations next to a `$ref` belong to this place only: they
            // are compared here, the targets once for every place.
            Some((a, b)) => {
                if self.once(o, n, false) == Some(true) && a != b {
                    rules::annotations::check(self, &a, &b);
                }
            }
            None => {
                let own = annotations && self.old.node(o).ann() != self.new.node(n).ann();
                self.once(o, n, own);
            }
        }
    }

    /// Compares two nodes reached through `$ref` once: the first time, into
    /// a record; every time, a marker to the record goes into the output.
    /// Returns whether they were compared as the same kind of schema
    /// (`None` while the pair is compared further up).
    fn once(&mut self, o: Id, n: Id, annotations: bool) -> Option<bool> {
        let key = (o, n, self.swapped, annotations);
        if let Some(&e) = self.memo.get(&key) {
            let record = &self.records[e];
            let annotated = record.done.then_some(record.annotated);
            // A record under way (a recursive schema) may still gain
            // findings: its marker stays.
            if !record.done || record.summary.any {
                self.mark(e);
            }
            return annotated;
        }
        let e = self.records.len();
        self.records.push(Record {
            lens: (self.old_path.len(), self.new_path.len()),
            ..Record::default()
        });
        self.memo.insert(key, e);
        self.depth += 1;
        let mut annotated = false;
        let found = self.sub(|s| {
            annotated = if annotations {
                // The bare pair once for all, its annotations in this record.
                let same = s.once(o, n, false);
                if same == Some(true) {
                    let (a, b) = (s.old.node(o).ann(), s.new.node(n).ann());
                    rules::annotations::check(s, a, b);
                }
                same.unwrap_or(false)
            } else {
                s.compare_resolved(o, n, false)
            };
        });
        self.depth -= 1;
        let summary = self.summary(&found);
        let record = &mut self.records[e];
        record.found = found;
        record.done = true;
        record.annotated = annotated;
        record.summary = summary;
        if summary.any {
            self.mark(e);
        }
        Some(annotated)
    }

    /// Puts a marker to record `e` into the output, at the current paths.
    fn mark(&mut self, e: usize) {
        self.tick(1);
        self.out.push(Raw {
            rule: &rules::limits::COMPARISON_LIMIT_EXCEEDED,
            old_path: self.old_path.clone(),
            new_path: self.new_path.clone(),
            message: String::new(),
            via: Some(e),
        });
    }

    /// Compares two nodes that are no references; `annotations`: whether
    /// their annotations are compared too. Returns whether they were
    /// compared as the same kind of schema (so that annotations count).
    fn compare_resolved(&mut self, o: Id, n: Id, annotations: bool) -> bool {
        let old = self.old.node(o);
        let new = self.new.node(n);
        let is_combined = |k: &Kind| matches!(k, Kind::Combined(..));
        // No alternative of a new `anyOf`/`oneOf` accepts all the old node
        // did: the closest one, to say what breaks.
        let mut closest: Option<(usize, String)> = None;
        // Where one side wraps the other in a combined schema, the
        // annotations are those of the two schemas compared, not of the
        // wrapped parts (a `oneOf` with the same `default` and
        // `description` next to it keeps them).
        let annotate = |e: &mut Self| {
            if annotations {
                rules::annotations::check(e, old.ann(), new.ann());
            }
        };

        // Two spellings of "any value" (`{}`, keywords that constrain
        // nothing): no difference.
        let everything = |arena: &Arena, id: Id, kind: &Kind| {
            matches!(kind, Kind::Empty) || crate::values::accepts_everything(arena, id)
        };
        if (matches!(old.kind, Kind::Empty) || matches!(new.kind, Kind::Empty))
            && everything(self.old, o, &old.kind)
            && everything(self.new, n, &new.kind)
        {
            annotate(self);
            return true;
        }

        if !is_combined(&old.kind) {
            if let Kind::Combined(crit, subs, synthetic) = &new.kind {
                // A part's findings are reported where the part is, unless
                // Accord made the parts up (a list of types).
                let part = |i: usize| (!*synthetic).then(|| format!("{}/{i}", crit.keyword()));
                if subs.len() == 1 {
                    // One subschema means what it says, under any keyword.
                    annotate(self);
                    let saved = self.enter_new(part(0));
                    self.compare_with(o, subs[0], false);
                    self.leave(saved);
                    return true;
                } else if matches!(crit, Criterion::Any | Criterion::One) {
                    for (i, &s) in subs.iter().enumerate() {
                        let found = self.sub_compare((None, part(i)), o, s);
                        if !self.compatible(&found) {
                            // For the message: the alternative with the
                            // fewest breaks, and its first.
                            let weight = self.breaks(&found);
                            if closest.as_ref().is_none_or(|(w, _)| weight < *w)
                                && let Some(first) = self.first_breaking(&found)
                            {
                                // Where it breaks in the new schema: the
                                // path names the alternative, unless Accord
                                // made the alternatives up (a list of types).
                                let place = if first.new_path.is_empty() {
                                    "#/".to_string()
                                } else {
                                    format!("#{}", first.new_path)
                                };
                                let at = format!("{} at {place} ({})", first.rule.id, first.message);
                                let text = if *synthetic {
                                    format!("alternative {i}: {at}")
                                } else {
                                    at
                                };
                                closest = Some((weight, text));
                            }
                            continue;
                        }
                        self.out.extend(found);
                        annotate(self);
                        let msg = format!(
                            "{} replaced by a {} that still accepts it",
                            named(self.old, o),
                            crit.keyword()
                        );
                        self.emit(&rules::combined::SUM_TYPE_EXTENDED, None, msg);
                        if *crit == Criterion::One {
                            self.one_of_overlap(subs);
                        }
                        return true;
                    }
                } else if !matches!(old.kind, Kind::Empty) {
                    // Old documents must now meet every part of the `allOf`.
                    annotate(self);
                    self.all_parts(o, subs, *synthetic);
                    return true;
                }
            }
        } else if !is_combined(&new.kind)
            && let Kind::Combined(crit, subs, synthetic) = &old.kind
        {
            let part = |i: usize| (!*synthetic).then(|| format!("{}/{i}", crit.keyword()));
            if subs.len() == 1 {
                annotate(self);
                let saved = self.enter_old(part(0));
                self.compare_with(subs[0], n, false);
                self.leave(saved);
                return true;
            } else if *crit != Criterion::All && crate::values::listed(self.old, o).is_none() {
                // A document an `anyOf`/`oneOf` accepted met one of its
                // alternatives: kept if the new schema accepts each of them.
                // (Alternatives that only list values are judged value by
                // value below.)
                let mut kept = Vec::new();
                for (i, &s) in subs.iter().enumerate() {
                    let found = self.sub_compare((part(i), None), s, n);
                    if !self.compatible(&found) {
                        kept.clear();
                        break;
                    }
                    kept.push(found);
                }
                if kept.len() == subs.len() {
                    self.out.extend(kept.into_iter().flatten());
                    annotate(self);
                    let msg = format!(
                        "{} became {}, which accepts each alternative",
                        crit.keyword(),
                        named(self.new, n)
                    );
                    self.emit(&rules::types::TYPE_EXTENDED, None, msg);
                    return true;
                }
            } else if *crit == Criterion::All {
                // Enough that one part accepts no more than the new schema;
                // else the part of the new schema's kind tells what breaks
                // (the others can only have rejected more).
                let mut same_kind = None;
                for (i, &s) in subs.iter().enumerate() {
                    let found = self.sub_compare((part(i), None), s, n);
                    if self.compatible(&found) {
                        same_kind = Some(found);
                        break;
                    }
                    if same_kind.is_none() && self.kind_old(s).class() == new.kind.class() {
                        same_kind = Some(found);
                    }
                }
                if let Some(found) = same_kind {
                    self.out.extend(found);
                    annotate(self);
                    let msg = format!("allOf replaced by one of its parts ({})", named(self.new, n));
                    self.emit(&rules::combined::PRODUCT_TYPE_NARROWED, None, msg);
                    return true;
                }
            }
        }

        if old.kind.class() != new.kind.class() {
            if rules::enums::cross(self, &old.kind, &new.kind) {
                return false;
            }
            // Listed values (`enum`, `const`, `boolean`, `null`): the change
            // keeps every document if the new schema accepts each value.
            let mut lost = None;
            if !matches!(new.kind, Kind::Empty | Kind::False)
                && let Some(values) = crate::values::listed(self.old, o)
            {
                match self.listed_values(&values, n) {
                    Listed::All => {
                        annotate(self);
                        let listed = match &old.kind {
                            Kind::Const(c) => c.to_string(),
                            _ => rules::enums::show(&values),
                        };
                        let msg = format!(
                            "{} {listed} became {}, which accepts each of them",
                            named(self.old, o),
                            named(self.new, n)
                        );
                        self.emit(&rules::types::TYPE_EXTENDED, None, msg);
                        return true;
                    }
                    Listed::Same => {
                        annotate(self);
                        return true;
                    }
                    Listed::Rejected(rejected) => lost = Some(rejected),
                    Listed::Unknown => {}
                }
            }
            // A `not` of a schema that accepts none of the old types: every
            // old document passes it.
            if let Kind::Not(negated) = &new.kind
                && types_in(self.old, o, 0) & types_in(self.new, *negated, 0) == 0
            {
                annotate(self);
                let msg = format!(
                    "{} became a 'not' of other types, which accepts every value it accepted",
                    named(self.old, o)
                );
                self.emit(&rules::types::TYPE_EXTENDED, None, msg);
                return true;
            }
            // `false` accepted nothing and `true`/`{}` accepts everything, so
            // neither direction of those loses a document; what accepted
            // less before now accepts more.
            if matches!(old.kind, Kind::False) || crate::values::accepts_everything(self.new, n) {
                let already =
                    matches!(new.kind, Kind::False) || crate::values::accepts_everything(self.old, o);
                if !already {
                    annotate(self);
                    let msg = format!("{} became {}", named(self.old, o), named(self.new, n));
                    self.emit(&rules::types::TYPE_EXTENDED, None, msg);
                    return true;
                }
            } else {
                let mut msg = format!(
                    "type changed from {} to {}",
                    named(self.old, o),
                    named(self.new, n)
                );
                if let Some(rejected) = lost {
                    msg.push_str(&format!(
                        "; no longer accepted: {}",
                        rules::enums::show(&rejected)
                    ));
                }
                if let Some((_, text)) = closest {
                    msg.push_str(&format!(
                        "; no alternative accepts every value it accepted, closest: {text}"
                    ));
                }
                self.emit(&rules::types::TYPE_CHANGED, None, msg);
            }
            return false;
        }

        annotate(self);
        match (&old.kind, &new.kind) {
            (Kind::String(a), Kind::String(b)) => rules::string::check(self, a, b),
            (Kind::Number(a), Kind::Number(b)) => rules::number::check(self, a, b),
            (Kind::Enum(a), Kind::Enum(b)) => rules::enums::check(self, a, b),
            (Kind::Const(a), Kind::Const(b)) => rules::enums::check_const(self, a, b),
            (Kind::Combined(ca, sa, xa), Kind::Combined(cb, sb, xb)) => {
                self.combined((*ca, sa, *xa), (*cb, sb, *xb))
            }
            (Kind::Not(a), Kind::Not(b)) => self.not(*a, *b),
            (Kind::Object(a), Kind::Object(b)) => self.object(a, b),
            (Kind::Array(a), Kind::Array(b)) => self.array(a, b),
            (
                Kind::Conditional {
                    condition_text: xa,
                    then: ta,
                    otherwise: ea,
                },
                Kind::Conditional {
                    condition_text: xb,
                    then: tb,
                    otherwise: eb,
                },
            ) => self.conditional((*ta, *ea), (*tb, *eb), xa == xb),
            _ => {}
        }
        true
    }

    /// Which of the values the old node listed the new node `n` accepts.
    fn listed_values(&mut self, values: &[serde_json::Value], n: Id) -> Listed {
        let (answers, visited) = crate::values::admits_each(self.new, n, values);
        self.tick(visited);
        let mut rejected = Vec::new();
        let mut unknown = false;
        for (v, admitted) in values.iter().zip(answers) {
            match admitted {
                Some(true) => {}
                Some(false) => rejected.push(v.clone()),
                None => unknown = true,
            }
        }
        if !rejected.is_empty() {
            return Listed::Rejected(rejected);
        }
        if unknown {
            return Listed::Unknown;
        }
        // The new node lists values too: the same set, or more.
        match crate::values::listed(self.new, n) {
            Some(new_values) if new_values.len() <= values.len() => {
                let old_keys: HashSet<String> = values.iter().map(rules::enums::key).collect();
                if new_values
                    .iter()
                    .all(|v| old_keys.contains(&rules::enums::key(v)))
                {
                    Listed::Same
                } else {
                    Listed::All
                }
            }
            _ => Listed::All,
        }
    }

    /// The old node `o` (no combined schema) against the parts of a new
    /// `allOf`: the documents it accepted must now meet every part, so each
    /// part is compared with it and its findings reported where the part
    /// is. A part of a kind that only adds a condition (`not`, `if`) says
    /// so rather than "type changed".
    fn all_parts(&mut self, o: Id, parts: &[Id], synthetic: bool) {
        let old_kind = &self.old.node(o).kind;
        if matches!(old_kind, Kind::False) {
            // It accepted nothing: nothing can be lost.
            return;
        }
        let old_class = old_kind.class();
        let listed = crate::values::listed(self.old, o).is_some();
        for (i, &p) in parts.iter().enumerate() {
            let saved = (self.old_path.len(), self.new_path.len());
            if !synthetic {
                self.new_path.push_str(&format!("/allOf/{i}"));
            }
            let kind = self.kind_new(p);
            match kind {
                // Documents of types the negated schema never accepts all
                // pass a `not` of it.
                Kind::Not(negated) if types_in(self.old, o, 0) & types_in(self.new, *negated, 0) == 0 => {}
                // Every document accepted before meets each branch: whatever
                // the condition says, it passes.
                Kind::Conditional { then, otherwise, .. }
                    if kind.class() != old_class && self.meets_branches(o, [*then, *otherwise]) => {}
                Kind::Not(_) | Kind::Conditional { .. } if kind.class() != old_class => {
                    let what = if matches!(kind, Kind::Not(_)) {
                        "'not'"
                    } else {
                        "'if'/'then'/'else'"
                    };
                    self.emit(
                        &rules::combined::PRODUCT_TYPE_EXTENDED,
                        None,
                        format!("{what} added: documents it rejects are now rejected"),
                    );
                }
                Kind::Enum(values) if !listed => {
                    let msg = format!("'enum' added: only {} accepted now", rules::enums::show(values));
                    self.emit(&rules::types::TYPE_CHANGED, None, msg);
                }
                Kind::Const(value) if !listed => {
                    let msg = format!("'const' added: only {value} accepted now");
                    self.emit(&rules::types::TYPE_CHANGED, None, msg);
                }
                _ => self.compare_with(o, p, false),
            }
            self.leave(saved);
        }
    }

    fn combined(&mut self, old: (Criterion, &[Id], bool), new: (Criterion, &[Id], bool)) {
        let ((oc, os, o_synthetic), (nc, ns, n_synthetic)) = (old, new);
        if let Some(rule) = rules::combined::criteria(oc, os.len(), nc, ns.len()) {
            // A `oneOf` whose alternatives exclude each other accepts what
            // their `anyOf` does: compared as one, the change of keyword
            // loses nothing. When the comparison finds a break anyway, the
            // keyword change is reported as what breaks, as before.
            if std::ptr::eq(rule, &rules::combined::COMBINED_TYPE_CHANGED)
                && oc == Criterion::Any
                && nc == Criterion::One
                && self.excluding(ns)
            {
                let found = self.sub(|e| {
                    e.combined(
                        (Criterion::Any, os, o_synthetic),
                        (Criterion::Any, ns, n_synthetic),
                    )
                });
                if self.compatible(&found) {
                    self.out.extend(found);
                    return;
                }
            }
            let msg = format!("'{}' changed to '{}'", oc.keyword(), nc.keyword());
            self.emit(rule, None, msg);
            if std::ptr::eq(rule, &rules::combined::COMBINED_TYPE_CHANGED) {
                return;
            }
        }
        rules::combined::sizes(self, oc, os.len(), nc, ns.len());
        if o_synthetic && n_synthetic && oc == nc && self.pair_parts(os, ns) {
            return;
        }
        let before = self.out.len();
        self.pair_subschemas((oc, os, o_synthetic), (nc, ns, n_synthetic));
        // A wider `oneOf` may reject a document that now matches two of
        // its alternatives.
        // (An alternative may widen without a finding: to `{}`, say. One
        // with references has no text; its findings tell.)
        let old_texts: HashSet<&str> = os
            .iter()
            .filter_map(|&a| self.old.node(a).text.as_deref())
            .collect();
        let widened = oc != nc
            || ns.len() > os.len()
            || ns.iter().any(|&b| {
                self.new
                    .node(b)
                    .text
                    .as_deref()
                    .is_some_and(|t| !old_texts.contains(t))
            })
            || self.summary(&self.out[before..]).validation;
        if nc == Criterion::One && widened {
            self.one_of_overlap(ns);
        }
    }

    /// Emits `ONE_OF_OVERLAP` unless the alternatives of a `oneOf` of the
    /// new version are known to exclude each other.
    fn one_of_overlap(&mut self, alternatives: &[Id]) {
        if !self.excluding(alternatives) {
            self.emit(
                &rules::combined::ONE_OF_OVERLAP,
                None,
                "'oneOf' now accepts more while its alternatives may overlap".into(),
            );
        }
    }

    /// Whether no document matches two of the new version's `alternatives`,
    /// as far as [`Self::discriminated`] and [`Self::exclusive`] tell.
    fn excluding(&mut self, alternatives: &[Id]) -> bool {
        const COMPARED: usize = 64;
        if alternatives.len() < 2 || self.discriminated(alternatives) {
            return true;
        }
        let mut disjoint = alternatives.len() <= COMPARED;
        'pairs: for (i, &a) in alternatives.iter().enumerate().take(COMPARED) {
            for &b in &alternatives[i + 1..] {
                if !disjoint || !self.tick(1) {
                    break 'pairs;
                }
                disjoint = self.exclusive(a, b, 0);
            }
        }
        disjoint
    }

    /// Whether the alternatives exclude each other in one of the two ways
    /// large unions are written, checked in time linear in their number:
    /// each accepts other JSON types, or each is an object that requires
    /// one same property with values no other alternative lists there.
    fn discriminated(&self, alternatives: &[Id]) -> bool {
        let mut seen = 0u8;
        if alternatives.iter().all(|&a| {
            let t = self.types(a, 0);
            let fresh = t & seen == 0;
            seen |= t;
            fresh
        }) {
            return true;
        }
        let objects: Vec<&'a ObjectNode> = alternatives
            .iter()
            .filter_map(|&a| {
                self.parts_of(a).into_iter().find_map(|k| match k {
                    Kind::Object(o) if o.required_type => Some(o.as_ref()),
                    _ => None,
                })
            })
            .collect();
        if objects.len() != alternatives.len() {
            return false;
        }
        objects[0].required.iter().any(|name| {
            let mut values: HashSet<String> = HashSet::new();
            objects.iter().all(|o| {
                if !o.required.contains(name) {
                    return false;
                }
                let Some(&(_, id)) = o.properties.iter().find(|(k, _)| k == name) else {
                    return false;
                };
                let listed: Vec<&serde_json::Value> = match self.kind_new(id) {
                    Kind::Const(v) => vec![v],
                    Kind::Enum(vs) => vs.iter().collect(),
                    _ => return false,
                };
                listed.into_iter().all(|v| values.insert(rules::enums::key(v)))
            })
        })
    }

    /// The JSON types (a bit set) the new version's schema `id` may accept.
    fn types(&self, id: Id, depth: usize) -> u8 {
        types_in(self.new, id, depth)
    }

    /// The new version's schema `id` read as its parts: itself, or those
    /// of an `allOf` it is made of.
    fn parts_of(&self, id: Id) -> Vec<&'a Kind> {
        let (r, _) = self.new.resolve(id);
        match &self.new.node(r).kind {
            Kind::Combined(Criterion::All, parts, _) => parts.iter().map(|p| self.kind_new(*p)).collect(),
            k => vec![k],
        }
    }

    /// Whether no document matches both `a` and `b` (new version), as far
    /// as their types, listed values and a required property whose values
    /// exclude each other tell.
    fn exclusive(&self, a: Id, b: Id, depth: usize) -> bool {
        if self.types(a, 0) & self.types(b, 0) == 0 {
            return true;
        }
        if depth > 3 {
            return false;
        }
        let (pa, pb) = (self.parts_of(a), self.parts_of(b));
        let listed = |parts: &[&'a Kind]| {
            parts.iter().find_map(|k| match k {
                Kind::Enum(values) => Some(values.iter().collect::<Vec<_>>()),
                Kind::Const(v) => Some(vec![v]),
                _ => None,
            })
        };
        if let (Some(x), Some(y)) = (listed(&pa), listed(&pb)) {
            let keys: HashSet<String> = x.iter().map(|v| rules::enums::key(v)).collect();
            if y.iter().all(|v| !keys.contains(&rules::enums::key(v))) {
                return true;
            }
        }
        let object = |parts: &[&'a Kind]| {
            parts.iter().find_map(|k| match k {
                Kind::Object(o) => Some(o.as_ref()),
                _ => None,
            })
        };
        let (Some(oa), Some(ob)) = (object(&pa), object(&pb)) else {
            return false;
        };
        let (ma, mb) = (oa.property_map(), ob.property_map());
        oa.required.intersection(&ob.required).any(|name| {
            match (ma.get(name.as_str()), mb.get(name.as_str())) {
                (Some(x), Some(y)) => self.exclusive(*x, *y, depth + 1),
                _ => false,
            }
        })
    }

    /// Pairs the subschemas of two combined schemas by a maximum matching
    /// of the compatible pairs, and reports what is left unmatched.
    fn pair_subschemas(&mut self, old: (Criterion, &[Id], bool), new: (Criterion, &[Id], bool)) {
        let ((oc, os, o_synthetic), (nc, ns, n_synthetic)) = (old, new);

        // Every old subschema against every new one; an edge where the pair
        // is compatible. The best pairing is a maximum matching of the edges.
        // A part Accord made up has no path of its own in the document.
        let segment = |c: Criterion, i: usize, synthetic: bool| {
            if synthetic {
                None
            } else {
                Some(format!("{}/{i}", c.keyword()))
            }
        };
        // Identical subschemas pair first, without a comparison: with many
        // alternatives of which few changed, the cost stays linear.
        let mut partner: Vec<Option<usize>> = vec![None; os.len()];
        let mut taken = vec![false; ns.len()];
        let mut by_text: HashMap<&str, Vec<usize>> = HashMap::new();
        for (j, &b) in ns.iter().enumerate().rev() {
            if let Some(t) = self.new.node(b).text.as_deref() {
                by_text.entry(t).or_default().push(j);
            }
        }
        for (i, &a) in os.iter().enumerate() {
            let same = self
                .old
                .node(a)
                .text
                .as_deref()
                .and_then(|t| by_text.get_mut(t)?.pop());
            if let Some(j) = same {
                partner[i] = Some(j);
                taken[j] = true;
            }
        }
        let rows: Vec<usize> = (0..os.len()).filter(|i| partner[*i].is_none()).collect();
        let cols: Vec<usize> = (0..ns.len()).filter(|j| !taken[*j]).collect();

        let mut edges: Vec<Vec<(usize, Vec<Raw>)>> = Vec::with_capacity(rows.len());
        // For an old subschema left without a partner: the closest new one
        // (fewest breaking findings) and what breaks there, for the message.
        let mut closest: Vec<Option<(usize, usize, Option<Raw>)>> = vec![None; os.len()];
        for &i in &rows {
            let a = os[i];
            let mut row = Vec::new();
            for (c, &j) in cols.iter().enumerate() {
                let b = ns[j];
                let saved = (self.old_path.len(), self.new_path.len());
                if let Some(seg) = segment(oc, i, o_synthetic) {
                    self.old_path.push('/');
                    self.old_path.push_str(&seg);
                }
                if let Some(seg) = segment(nc, j, n_synthetic) {
                    self.new_path.push('/');
                    self.new_path.push_str(&seg);
                }
                let found = self.sub(|e| e.compare(a, b));
                self.leave(saved);
                if self.compatible(&found) {
                    row.push((c, found));
                } else {
                    // A pair of different kinds is the least informative.
                    let weight = found
                        .iter()
                        .map(|r| match r.via {
                            Some(e) => usize::from(self.records[e].summary.breaking),
                            None if r.rule.compatible(self.policy) => 0,
                            None if std::ptr::eq(r.rule, &rules::types::TYPE_CHANGED) => 10,
                            None => 1,
                        })
                        .sum::<usize>()
                        * 1000
                        + i.abs_diff(j);
                    if closest[i].as_ref().is_none_or(|(_, w, _)| weight < *w) {
                        closest[i] = Some((j, weight, self.first_breaking(&found)));
                    }
                }
            }
            edges.push(row);
        }
        // Try the pairs with the fewest findings first (then the same
        // position), so that equivalent subschemas pair with each other.
        let adjacency: Vec<Vec<usize>> = edges
            .iter()
            .zip(&rows)
            .map(|(row, &i)| {
                let mut order: Vec<(usize, usize, usize)> = row
                    .iter()
                    .map(|(c, found)| (found.len(), i.abs_diff(cols[*c]), *c))
                    .collect();
                order.sort_unstable();
                order.into_iter().map(|(_, _, c)| c).collect()
            })
            .collect();
        let matched = max_matching(&adjacency, cols.len());
        // An old alternative left without a partner of its own may still
        // fit a new one that another took: the findings of its closest fit.
        let mut spare: Vec<Option<Vec<Raw>>> = vec![None; os.len()];
        for ((row, &i), m) in edges.into_iter().zip(&rows).zip(matched) {
            if let Some(c) = m {
                partner[i] = Some(cols[c]);
                if let Some((_, found)) = row.into_iter().find(|(k, _)| *k == c) {
                    self.out.extend(found);
                }
            } else {
                spare[i] = row.into_iter().map(|(_, found)| found).min_by_key(Vec::len);
            }
        }
        let pairs = partner.iter().filter(|p| p.is_some()).count();
        let matched = partner;
        // Alternatives need no partner of their own: a document an old
        // alternative accepted is accepted by the new `anyOf` if any new
        // alternative accepts it (a `oneOf` that may accept it twice is
        // `ONE_OF_OVERLAP`'s to report).
        let sums = oc != Criterion::All && nc != Criterion::All;
        if pairs < os.len().min(ns.len())
            && sums
            && (0..os.len()).all(|i| matched[i].is_some() || spare[i].is_some())
        {
            for found in spare.into_iter().flatten() {
                self.out.extend(found);
            }
            return;
        }
        if pairs < os.len().min(ns.len()) {
            let mut msg = format!(
                "only {pairs} of the {} subschemas of '{}' have a compatible counterpart",
                os.len().min(ns.len()),
                oc.keyword()
            );
            let unmatched = (0..os.len()).filter(|i| matched[*i].is_none());
            let details: Vec<String> = unmatched
                .filter_map(|i| {
                    let (j, _, first) = closest[i].as_ref()?;
                    let first = first.as_ref()?;
                    Some(format!(
                        "{} {i} against {} {j}: {} at {} ({})",
                        oc.keyword(),
                        nc.keyword(),
                        first.rule.id,
                        if first.old_path.is_empty() {
                            "#/".to_string()
                        } else {
                            format!("#{}", first.old_path)
                        },
                        first.message
                    ))
                })
                .take(3)
                .collect();
            if !details.is_empty() {
                msg.push_str("; closest: ");
                msg.push_str(&details.join("; "));
            }
            self.emit(&rules::combined::COMBINED_TYPE_SUBSCHEMAS_CHANGED, None, msg);
        }
    }

    /// The parts Accord made of a schema with keywords of several kinds
    /// (or of a `type` list) are of one kind each: when both versions have
    /// the same kinds, parts pair by kind and every finding inside them is
    /// reported where it is, breaking or not, rather than as an unmatched
    /// subschema. `false` when the kinds differ.
    fn pair_parts(&mut self, os: &[Id], ns: &[Id]) -> bool {
        if os.len() != ns.len() {
            return false;
        }
        let class_old: Vec<u8> = os.iter().map(|&a| self.kind_old(a).class()).collect();
        let mut class_new: Vec<Option<u8>> = ns.iter().map(|&b| Some(self.kind_new(b).class())).collect();
        let mut pairs = Vec::with_capacity(os.len());
        for (i, c) in class_old.iter().enumerate() {
            let Some(j) = class_new.iter().position(|x| *x == Some(*c)) else {
                return false;
            };
            class_new[j] = None;
            pairs.push((os[i], ns[j]));
        }
        for (a, b) in pairs {
            self.compare(a, b);
        }
        true
    }

    fn not(&mut self, a: Id, b: Id) {
        self.within("not", |e| {
            // `not` inverts the sets: the new `not` may reject less only if
            // its inner schema accepts no more than the old one did.
            e.swap();
            let found = e.sub(|e| e.compare(b, a));
            e.swap();
            // Confluent reports one of the two even for identical schemas;
            // Accord keeps a schema compared with itself free of findings.
            let summary = e.summary(&found);
            if summary.any {
                let compatible = !summary.breaking;
                rules::combined::not(e, compatible);
            }
        });
    }

    fn swap(&mut self) {
        std::mem::swap(&mut self.old, &mut self.new);
        std::mem::swap(&mut self.old_path, &mut self.new_path);
        self.swapped = !self.swapped;
    }

    fn conditional(&mut self, a: (Option<Id>, Option<Id>), b: (Option<Id>, Option<Id>), same_text: bool) {
        // Any other `if` sends other documents down each branch; telling two
        // conditions equivalent needs more than a diff can see.
        if !same_text {
            self.within("if", |e| {
                e.emit(
                    &rules::combined::CONDITION_CHANGED,
                    None,
                    "the 'if' condition changed".into(),
                )
            });
            return;
        }
        for (kw, x, y) in [("then", a.0, b.0), ("else", a.1, b.1)] {
            self.within(kw, |e| match (x, y) {
                (Some(x), Some(y)) => e.compare(x, y),
                (None, Some(_)) => e.emit(
                    &rules::combined::CONDITIONAL_BRANCH_ADDED,
                    None,
                    format!("'{kw}' branch added"),
                ),
                (Some(_), None) => e.emit(
                    &rules::combined::CONDITIONAL_BRANCH_REMOVED,
                    None,
                    format!("'{kw}' branch removed"),
                ),
                (None, None) => {}
            });
        }
    }

    /// The patterns of `o` that match `name` (and those that may: the
    /// ones the regex engine cannot decide).
    fn pattern_matches(&mut self, o: &ObjectNode, name: &str) -> Matches {
        if o.pattern_properties.is_empty() {
            return Matches::default();
        }
        let key = o as *const ObjectNode as usize;
        self.pattern_sets
            .entry(key)
            .or_insert_with(|| PatternSet::new(o.pattern_properties.iter().map(|(k, _)| k.as_str())))
            .matches(name)
    }

    fn object_is_open(&self, o: &ObjectNode, old_side: bool) -> bool {
        o.pattern_properties.is_empty()
            && o.additional.schema.is_none()
            && o.additional.permits
            && o.unevaluated.is_none_or(|u| {
                matches!(
                    if old_side {
                        self.kind_old(u)
                    } else {
                        self.kind_new(u)
                    },
                    Kind::Empty
                )
            })
    }

    /// What constrains the value of a property `o` does not list: the
    /// `patternProperties` entries that match its name (all of them apply),
    /// those that may match, and what applies when none does.
    fn governing(&mut self, o: &ObjectNode, name: &str, old_side: bool) -> Governing {
        let m = self.pattern_matches(o, name);
        let schema = |i: usize| o.pattern_properties[i].1;
        let rest = if let Some(s) = o.additional.schema {
            Rest::Schema(s)
        } else if !o.additional.permits {
            Rest::Forbidden
        } else {
            match o.unevaluated {
                Some(u) => match if old_side {
                    self.kind_old(u)
                } else {
                    self.kind_new(u)
                } {
                    Kind::False => Rest::Forbidden,
                    Kind::Empty => Rest::Free,
                    _ => Rest::Schema(u),
                },
                None => Rest::Free,
            }
        };
        Governing {
            known: m.known.into_iter().map(schema).collect(),
            maybe: m.unknown.into_iter().map(schema).collect(),
            rest,
        }
    }

    /// A property removed from `b` (not open): whether its old schema `x` is
    /// still accepted under the name, the findings met on the way, and
    /// whether the name is simply forbidden now.
    fn removed_property_covered(&mut self, x: Id, g: &Governing) -> Option<bool> {
        let mut needed: Vec<Id> = g.known.iter().chain(&g.maybe).copied().collect();
        if g.known.is_empty() {
            match g.rest {
                Rest::Schema(s) => needed.push(s),
                Rest::Forbidden if needed.is_empty() => return None,
                // The name may fall through to a closed object.
                Rest::Forbidden => return Some(false),
                Rest::Free => {}
            }
        }
        let mut ok = true;
        for s in needed {
            let found = self.sub(|e| e.compare(x, s));
            ok &= self.compatible(&found);
            self.out.extend(found);
        }
        Some(ok)
    }

    /// A property added to `a` (not open): whether what the old object
    /// accepted under the name is accepted by its new schema `y`; `None`
    /// when the old object forbade the name.
    fn added_property_covered(&mut self, y: Id, g: &Governing) -> Option<bool> {
        // All matching patterns applied together: one of them within `y` is enough.
        if !g.known.is_empty() {
            let mut first = None;
            for &s in &g.known {
                let found = self.sub(|e| e.compare(s, y));
                if self.compatible(&found) {
                    self.out.extend(found);
                    return Some(true);
                }
                first.get_or_insert(found);
            }
            self.out.extend(first.unwrap_or_default());
            return Some(false);
        }
        let mut needed: Vec<Id> = g.maybe.clone();
        match g.rest {
            Rest::Schema(s) => needed.push(s),
            Rest::Forbidden if needed.is_empty() => return None,
            Rest::Forbidden => {}
            Rest::Free => return Some(matches!(self.kind_new(y), Kind::Empty)),
        }
        let mut ok = true;
        for s in needed {
            let found = self.sub(|e| e.compare(s, y));
            ok &= self.compatible(&found);
            self.out.extend(found);
        }
        Some(ok)
    }

    fn has_default(&self, id: Id) -> bool {
        let (r, _) = self.new.resolve(id);
        self.new.node(r).ann().default.is_some() || self.new.node(id).ann().default.is_some()
    }

    fn object(&mut self, a: &ObjectNode, b: &ObjectNode) {
        use rules::properties as p;
        let (a_props, b_props) = (a.property_map(), b.property_map());
        self.within("required", |e| {
            // Properties both versions list, as Confluent compares them.
            for (name, _) in &a.properties {
                let Some(&nid) = b_props.get(name.as_str()) else {
                    continue;
                };
                let (was, is) = (a.required.contains(name), b.required.contains(name));
                let default = e.has_default(nid);
                rules::object::required(e, &escape(name), was, is, default);
            }
            // A name the new version does not list: objects without it are
            // rejected now. (One it lists and the old one does not is a
            // property added, which the property-added rules judge.)
            for name in b.required.difference(&a.required) {
                if !b_props.contains_key(name.as_str()) {
                    rules::object::required_name(e, &escape(name), true);
                }
            }
            for name in a.required.difference(&b.required) {
                if !a_props.contains_key(name.as_str()) && !b_props.contains_key(name.as_str()) {
                    rules::object::required_name(e, &escape(name), false);
                }
            }
        });

        let mut names: Vec<&String> = a.properties.iter().map(|(k, _)| k).collect();
        let known: HashSet<&String> = names.iter().copied().collect();
        names.extend(b.properties.iter().map(|(k, _)| k).filter(|k| !known.contains(k)));
        self.within("properties", |e| {
            for name in names {
                let seg = escape(name);
                let saved = e.enter(&seg);
                match (
                    a_props.get(name.as_str()).copied(),
                    b_props.get(name.as_str()).copied(),
                ) {
                    (Some(x), Some(y)) => e.compare(x, y),
                    (Some(x), None) => {
                        let governing = if e.object_is_open(b, false) {
                            None
                        } else {
                            Some(e.governing(b, name, false))
                        };
                        let covered = governing.map(|g| e.removed_property_covered(x, &g));
                        let removed = if covered.is_none() {
                            &p::PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL
                        } else if let Some(Some(ok)) = covered {
                            if ok {
                                &p::PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                            } else {
                                &p::PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                            }
                        } else if matches!(e.kind_old(x), Kind::False) {
                            &p::PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL
                        } else {
                            &p::PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL
                        };
                        e.emit(removed, None, format!("property '{name}' removed"));
                    }
                    (None, Some(y)) => {
                        let required = b.required.contains(name);
                        let default = e.has_default(y);
                        if e.object_is_open(a, true) {
                            let empty = matches!(e.kind_new(y), Kind::Empty);
                            let rule = p::added_to_open(required, default, empty);
                            e.emit(rule, None, format!("property '{name}' added"));
                        } else {
                            let governing = e.governing(a, name, true);
                            if let Some(ok) = e.added_property_covered(y, &governing) {
                                let rule = if ok {
                                    &p::PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                                } else {
                                    &p::PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                                };
                                e.emit(rule, None, format!("property '{name}' added"));
                            }
                            let rule = p::added_to_unopen(required, default);
                            e.emit(rule, None, format!("property '{name}' added"));
                        }
                    }
                    (None, None) => {}
                }
                e.leave(saved);
            }
        });

        self.within("dependencies", |e| {
            rules::object::dependency_arrays(e, &a.dependency_arrays, &b.dependency_arrays);
            let mut keys: BTreeSet<&String> = a.dependency_schemas.keys().collect();
            keys.extend(b.dependency_schemas.keys());
            for k in keys {
                let saved = e.enter(&escape(k));
                match (a.dependency_schemas.get(k), b.dependency_schemas.get(k)) {
                    (Some(x), Some(y)) => e.compare(*x, *y),
                    (Some(_), None) => e.emit(
                        &rules::object::DEPENDENCY_SCHEMA_REMOVED,
                        None,
                        format!("dependent schema of '{k}' removed"),
                    ),
                    (None, Some(_)) => e.emit(
                        &rules::object::DEPENDENCY_SCHEMA_ADDED,
                        None,
                        format!("dependent schema of '{k}' added"),
                    ),
                    (None, None) => {}
                }
                e.leave(saved);
            }
        });

        self.within("additionalProperties", |e| {
            e.additional(a.additional, b.additional, rules::object::ADDITIONAL_PROPERTIES)
        });
        self.unevaluated(
            "unevaluatedProperties",
            a.unevaluated,
            b.unevaluated,
            rules::object::UNEVALUATED_PROPERTIES,
        );
        rules::object::attributes(self, a, b);
        self.pattern_properties(a, b, &b_props);
        self.within("propertyNames", |e| match (a.property_names, b.property_names) {
            (Some(x), Some(y)) => e.compare(x, y),
            (None, Some(_)) => e.emit(
                &rules::properties::PROPERTY_NAMES_ADDED,
                None,
                "'propertyNames' added".into(),
            ),
            (Some(_), None) => e.emit(
                &rules::properties::PROPERTY_NAMES_REMOVED,
                None,
                "'propertyNames' removed".into(),
            ),
            (None, None) => {}
        });
    }

    fn pattern_properties(&mut self, a: &ObjectNode, b: &ObjectNode, b_props: &HashMap<&str, Id>) {
        use rules::properties as p;
        if a.pattern_properties.is_empty() && b.pattern_properties.is_empty() {
            return;
        }
        let a_pats: HashMap<&str, Id> = a
            .pattern_properties
            .iter()
            .map(|(k, s)| (k.as_str(), *s))
            .collect();
        let b_pats: HashMap<&str, Id> = b
            .pattern_properties
            .iter()
            .map(|(k, s)| (k.as_str(), *s))
            .collect();
        let mut pats: Vec<&str> = a.pattern_properties.iter().map(|(k, _)| k.as_str()).collect();
        pats.extend(
            b.pattern_properties
                .iter()
                .map(|(k, _)| k.as_str())
                .filter(|k| !a_pats.contains_key(k)),
        );
        // A pattern added to a closed object constrains the names both
        // versions list that it matches: found by matching each such name
        // once against all the new patterns, not each pattern against each name.
        let old_closed = !a.additional.permits && a.unevaluated.is_none();
        let mut listed_hits: HashMap<usize, Vec<(Id, Id)>> = HashMap::new();
        if old_closed
            && b.pattern_properties
                .iter()
                .any(|(k, _)| !a_pats.contains_key(k.as_str()))
        {
            for (name, x) in &a.properties {
                if !self.tick(1) {
                    return;
                }
                if !b_props.contains_key(name.as_str()) {
                    continue;
                }
                let m = self.pattern_matches(b, name);
                for i in m.known.into_iter().chain(m.unknown) {
                    listed_hits
                        .entry(i)
                        .or_default()
                        .push((*x, b.pattern_properties[i].1));
                }
            }
        }
        // Names the old object allowed through its own patterns may match
        // a new pattern too: its schema must then accept theirs. Which names
        // two patterns share is not decided, so every old pattern counts
        // (up to a bound past which the change is taken as breaking).
        const OLD_PATTERNS_COMPARED: usize = 32;
        let b_index: HashMap<&str, usize> = b
            .pattern_properties
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (k.as_str(), i))
            .collect();
        self.within("patternProperties", |e| {
            for pat in pats {
                if !e.tick(1) {
                    return;
                }
                let saved = e.enter(&escape(pat));
                match (a_pats.get(pat).copied(), b_pats.get(pat).copied()) {
                    (Some(x), Some(y)) => e.compare(x, y),
                    (None, Some(y)) => {
                        // Names the old schema closed off are only newly allowed;
                        // names both versions list now also meet the pattern's schema.
                        let mut ok = old_closed && a.pattern_properties.len() <= OLD_PATTERNS_COMPARED;
                        let hits = b_index.get(pat).and_then(|i| listed_hits.get(i));
                        let old_patterns = a.pattern_properties.iter().map(|(_, s)| (*s, y));
                        for (x, y) in hits.into_iter().flatten().copied().chain(old_patterns) {
                            if !ok {
                                break;
                            }
                            let found = e.sub(|e| e.compare(x, y));
                            ok = e.compatible(&found);
                        }
                        let rule = if ok {
                            &p::PATTERN_PROPERTY_ADDED_TO_CLOSED_CONTENT_MODEL
                        } else {
                            &p::PATTERN_PROPERTY_ADDED
                        };
                        e.emit(rule, None, format!("pattern property '{pat}' added"));
                    }
                    (Some(_), None) => {
                        let open = b.additional.permits
                            && b.additional.schema.is_none()
                            && b.unevaluated.is_none_or(|u| matches!(e.kind_new(u), Kind::Empty));
                        let rule = if open {
                            &p::PATTERN_PROPERTY_REMOVED
                        } else {
                            &p::PATTERN_PROPERTY_REMOVED_FROM_UNOPEN_CONTENT_MODEL
                        };
                        e.emit(rule, None, format!("pattern property '{pat}' removed"));
                    }
                    (None, None) => {}
                }
                e.leave(saved);
            }
        });
    }

    /// `additionalProperties` or `additionalItems`; `ids` are (added,
    /// removed, extended, narrowed).
    fn additional(&mut self, a: Additional, b: Additional, ids: [&'static RuleInfo; 4]) {
        let [added, removed, extended, narrowed] = ids;
        if a.permits != b.permits {
            if b.permits {
                self.emit(added, None, "additional members allowed again".into());
            } else {
                self.emit(removed, None, "additional members no longer allowed".into());
            }
        } else {
            match (a.schema, b.schema) {
                (None, Some(_)) => self.emit(
                    narrowed,
                    None,
                    "additional members now constrained by a schema".into(),
                ),
                (Some(_), None) => self.emit(
                    extended,
                    None,
                    "additional members no longer constrained by a schema".into(),
                ),
                (Some(x), Some(y)) => self.compare(x, y),
                (None, None) => {}
            }
        }
    }

    /// `unevaluatedProperties` or `unevaluatedItems`; `ids` are (added,
    /// removed, extended, narrowed).
    fn unevaluated(&mut self, kw: &str, a: Option<Id>, b: Option<Id>, ids: [&'static RuleInfo; 4]) {
        let [added, removed, extended, narrowed] = ids;
        // `true` says the same as no keyword.
        let a = a.filter(|u| !matches!(self.kind_old(*u), Kind::Empty));
        let b = b.filter(|u| !matches!(self.kind_new(*u), Kind::Empty));
        if a.is_none() && b.is_none() {
            return;
        }
        let a_false = a.is_some_and(|u| matches!(self.kind_old(u), Kind::False));
        let b_false = b.is_some_and(|u| matches!(self.kind_new(u), Kind::False));
        self.within(kw, |e| match (a, b) {
            (None, Some(_)) if b_false => e.emit(removed, None, format!("'{kw}: false' added")),
            (None, Some(_)) => e.emit(narrowed, None, format!("'{kw}' schema added")),
            (Some(_), None) if a_false => e.emit(added, None, format!("'{kw}: false' removed")),
            (Some(_), None) => e.emit(extended, None, format!("'{kw}' schema removed")),
            (Some(_), Some(_)) if a_false && !b_false => {
                e.emit(added, None, format!("'{kw}' no longer false"))
            }
            (Some(_), Some(_)) if !a_false && b_false => e.emit(removed, None, format!("'{kw}' now false")),
            (Some(x), Some(y)) => e.compare(x, y),
            (None, None) => {}
        });
    }

    fn array_is_open(&self, a: &ArrayNode, old_side: bool) -> bool {
        a.additional.permits
            && a.additional.schema.is_none()
            && a.unevaluated.is_none_or(|u| {
                matches!(
                    if old_side {
                        self.kind_old(u)
                    } else {
                        self.kind_new(u)
                    },
                    Kind::Empty
                )
            })
    }

    fn array_partial(&self, a: &ArrayNode, old_side: bool) -> Option<Id> {
        if let Some(s) = a.additional.schema {
            return Some(s);
        }
        let u = a.unevaluated?;
        let k = if old_side {
            self.kind_old(u)
        } else {
            self.kind_new(u)
        };
        if a.additional.permits && !matches!(k, Kind::False | Kind::Empty) {
            Some(u)
        } else {
            None
        }
    }

    fn array(&mut self, a: &ArrayNode, b: &ArrayNode) {
        use rules::items as it;
        self.within("items", |e| e.compare_opt(a.all_items, b.all_items));
        let common = a.prefix.len().min(b.prefix.len());
        for i in 0..a.prefix.len().max(b.prefix.len()) {
            let saved = self.enter(&format!("items/{i}"));
            if i < common {
                self.compare(a.prefix[i], b.prefix[i]);
            } else if i < a.prefix.len() {
                let x = a.prefix[i];
                let rule = if self.array_is_open(b, false) {
                    &it::ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL
                } else if let Some(s) = self.array_partial(b, false) {
                    let found = self.sub(|e| e.compare(x, s));
                    let ok = self.compatible(&found);
                    self.out.extend(found);
                    if ok {
                        &it::ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                    } else {
                        &it::ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                    }
                } else if matches!(self.kind_old(x), Kind::False) {
                    &it::ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL
                } else {
                    &it::ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL
                };
                self.emit(rule, None, format!("tuple item {i} removed"));
            } else {
                let y = b.prefix[i];
                let rule = if self.array_is_open(a, true) {
                    if matches!(self.kind_new(y), Kind::Empty) {
                        &it::ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL
                    } else {
                        &it::ITEM_ADDED_TO_OPEN_CONTENT_MODEL
                    }
                } else if let Some(s) = self.array_partial(a, true) {
                    let found = self.sub(|e| e.compare(s, y));
                    let ok = self.compatible(&found);
                    self.out.extend(found);
                    if ok {
                        &it::ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                    } else {
                        &it::ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
                    }
                } else {
                    &it::ITEM_ADDED_TO_CLOSED_CONTENT_MODEL
                };
                self.emit(rule, None, format!("tuple item {i} added"));
            }
            self.leave(saved);
        }
        self.within("additionalItems", |e| {
            e.additional(a.additional, b.additional, rules::array::ADDITIONAL_ITEMS)
        });
        self.unevaluated(
            "unevaluatedItems",
            a.unevaluated,
            b.unevaluated,
            rules::array::UNEVALUATED_ITEMS,
        );
        rules::array::attributes(self, a, b);
        self.within("contains", |e| match (a.contains, b.contains) {
            (Some(x), Some(y)) => e.compare(x, y),
            (None, Some(_)) => e.emit(&rules::array::CONTAINS_ADDED, None, "'contains' added".into()),
            (Some(_), None) => e.emit(&rules::array::CONTAINS_REMOVED, None, "'contains' removed".into()),
            (None, None) => {}
        });
    }
}

const JSON_NULL: u8 = 1;
const JSON_BOOLEAN: u8 = 2;
const JSON_STRING: u8 = 4;
const JSON_INTEGER: u8 = 8;
/// Numbers that are not integers.
const JSON_NUMBER: u8 = 16;
const JSON_OBJECT: u8 = 32;
const JSON_ARRAY: u8 = 64;

/// The JSON type of a value, as a bit of the sets `Engine::types` builds.
fn json_type(v: &serde_json::Value) -> u8 {
    use serde_json::Value;
    match v {
        Value::Null => JSON_NULL,
        Value::Bool(_) => JSON_BOOLEAN,
        Value::Number(n) if n.as_f64().is_some_and(|x| x.fract() == 0.0) => JSON_INTEGER,
        Value::Number(_) => JSON_NUMBER,
        Value::String(_) => JSON_STRING,
        Value::Array(_) => JSON_ARRAY,
        Value::Object(_) => JSON_OBJECT,
    }
}

/// What constrains a property name an object does not list.
struct Governing {
    /// Schemas of the `patternProperties` entries that match the name.
    known: Vec<Id>,
    /// Schemas of entries whose pattern cannot be decided: they may match.
    maybe: Vec<Id>,
    /// What applies when no entry matches.
    rest: Rest,
}

/// `additionalProperties` (or `unevaluatedProperties`) for a name no entry matches.
enum Rest {
    Forbidden,
    Free,
    Schema(Id),
}

/// Maximum bipartite matching (greedy, then augmenting paths): for each left
/// vertex, the right vertex it is matched with. Each adjacency list is in
/// order of preference; the result is deterministic.
fn max_matching(adjacency: &[Vec<usize>], right: usize) -> Vec<Option<usize>> {
    fn augment(u: usize, adjacency: &[Vec<usize>], seen: &mut [bool], owner: &mut [Option<usize>]) -> bool {
        for &v in &adjacency[u] {
            if seen[v] {
                continue;
            }
            seen[v] = true;
            if owner[v].is_none_or(|w| augment(w, adjacency, seen, owner)) {
                owner[v] = Some(u);
                return true;
            }
        }
        false
    }
    let mut owner: Vec<Option<usize>> = vec![None; right];
    // Greedy first: each left vertex takes its first free choice, so a
    // preferred pair is only undone when that is the way to pair more.
    let mut unmatched = Vec::new();
    for (u, choices) in adjacency.iter().enumerate() {
        match choices.iter().find(|v| owner[**v].is_none()) {
            Some(&v) => owner[v] = Some(u),
            None => unmatched.push(u),
        }
    }
    for u in unmatched {
        let mut seen = vec![false; right];
        augment(u, adjacency, &mut seen, &mut owner);
    }
    let mut matched = vec![None; adjacency.len()];
    for (v, u) in owner.iter().enumerate() {
        if let Some(u) = u {
            matched[*u] = Some(v);
        }
    }
    matched
}

/// The JSON types schema `id` of `arena` may accept, as a mask (more than
/// it accepts where that is not plain from its keywords).
fn types_in(arena: &Arena, id: Id, depth: usize) -> u8 {
    const ALL: u8 = 0x7f;
    let (r, _) = arena.resolve(id);
    let all = |required: bool, one: u8| if required { one } else { ALL };
    match &arena.node(r).kind {
        Kind::False => 0,
        Kind::String(s) => all(s.required_type, JSON_STRING),
        Kind::Number(n) if n.integer => all(n.required_type, JSON_INTEGER),
        Kind::Number(n) => all(n.required_type, JSON_INTEGER | JSON_NUMBER),
        Kind::Boolean => JSON_BOOLEAN,
        Kind::Null => JSON_NULL,
        Kind::Object(o) => all(o.required_type, JSON_OBJECT),
        Kind::Array(a) => all(a.required_type, JSON_ARRAY),
        Kind::Enum(values) => values.iter().fold(0, |m, v| m | json_type(v)),
        Kind::Const(v) => json_type(v),
        Kind::Combined(c, parts, _) if depth < 4 => {
            let masks = parts.iter().map(|p| types_in(arena, *p, depth + 1));
            match c {
                Criterion::All => masks.fold(ALL, |m, t| m & t),
                Criterion::Any | Criterion::One => masks.fold(0, |m, t| m | t),
            }
        }
        _ => ALL,
    }
}

#[cfg(test)]
mod tests {
    use super::max_matching;

    #[test]
    fn matching_finds_an_augmenting_path() {
        // Greedy gives left 0 the right 0; left 1 then needs it, so left 0
        // moves to right 1.
        let m = max_matching(&[vec![0, 1], vec![0]], 2);
        assert_eq!(m, vec![Some(1), Some(0)]);
        // Preferences hold when nothing forces a change.
        let m = max_matching(&[vec![1, 0], vec![0, 1]], 2);
        assert_eq!(m, vec![Some(1), Some(0)]);
        let m = max_matching(&[vec![0], vec![0]], 1);
        assert_eq!(m.iter().filter(|x| x.is_some()).count(), 1);
    }
}
