//! Witnesses over the Confluent corpus and the rule table's examples: every
//! incompatible finding carries a document that the reader's old view
//! accepts and the new one rejects, checked again here, unless its rule
//! says why none can be built.

mod common;

use accord_compat::{Direction, Finding, Mode, Options, Policy, Schema, check_with, rule, rules};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

fn validator(schema: &Value) -> jsonschema::Validator {
    let mut options = jsonschema::options().should_validate_formats(true);
    if schema.get("$schema").is_none() {
        options = options.with_draft(jsonschema::Draft::Draft7);
    }
    options.build(schema).expect("the schema compiles")
}

/// A check with all the time witness search may want: which findings get
/// a witness must not depend on the machine's speed here.
fn full_check(new: &Schema, old: &Schema, policy: Policy) -> accord_compat::Report {
    let unhurried = Options {
        witness_time: Duration::from_secs(60),
        ..Options::default()
    };
    check_with(new, &[old], Mode::Full, policy, &unhurried).expect("no budget is reached")
}

/// The first backward finding of a full STRICT check of `old` -> `new`
/// that `which` picks.
fn backward_finding(old: &Value, new: &Value, which: impl Fn(&Finding) -> bool) -> Finding {
    let (o, n) = (
        Schema::from_value(old.clone()).unwrap(),
        Schema::from_value(new.clone()).unwrap(),
    );
    let report = full_check(&n, &o, Policy::Strict);
    report
        .findings
        .iter()
        .find(|f| f.direction == Direction::Backward && which(f))
        .cloned()
        .unwrap_or_else(|| panic!("no such finding in {old} -> {new}: {:?}", report.findings))
}

/// Where `schema` rejects `doc`: each error's keyword location with the
/// references it went through left out (`/properties/a/$ref/type` is
/// `/properties/a/type`, the place the schema is read at), tuple keywords
/// spelled as before 2020-12, and the name a `required` error misses. An
/// `anyOf`/`oneOf` error above `path` (engine syntax, `#` left out) stands
/// for the errors of the branch `path` is in, which are listed instead: a
/// finding in a branch is shown only if that branch fails for it alone.
fn error_locations(schema: &Value, doc: &Value, path: &str) -> Vec<(String, Option<String>)> {
    use jsonschema::error::ValidationErrorKind as K;
    fn walk(e: &jsonschema::ValidationError<'_>, path: &str, out: &mut Vec<(String, Option<String>)>) {
        let mut location = String::new();
        for seg in e.evaluation_path().as_str().split('/').skip(1) {
            match seg {
                "$ref" | "$dynamicRef" | "$recursiveRef" => continue,
                "prefixItems" => location.push_str("/items"),
                "dependentRequired" | "dependentSchemas" => location.push_str("/dependencies"),
                s => {
                    location.push('/');
                    location.push_str(s);
                }
            }
        }
        if let K::AnyOf { context } | K::OneOfNotValid { context } = e.kind()
            && let Some(rest) = path.strip_prefix(&format!("{location}/"))
            && let Some(branch) = rest.split('/').next().and_then(|i| i.parse::<usize>().ok())
            && let Some(errors) = context.get(branch).filter(|errors| !errors.is_empty())
        {
            for inner in errors {
                walk(inner, path, out);
            }
            return;
        }
        let required = match e.kind() {
            K::Required { property } => property.as_str().map(str::to_string),
            _ => None,
        };
        out.push((location, required));
    }
    let v = validator(schema);
    let mut out = Vec::new();
    for e in v.iter_errors(doc) {
        walk(&e, path, &mut out);
    }
    out
}

/// Whether an error at `location` shows the finding at `path` (`#/...`):
/// at or under it; for a property, at its object's `required` (naming it)
/// or `additionalProperties`/`patternProperties`/`unevaluatedProperties`;
/// for a tuple item, at its array's `additionalItems`/`items`; at an
/// `anyOf`/`oneOf`/`not`/`dependencies` above it; at a sibling bound
/// (`maximum` and `exclusiveMaximum` are one bound, `contains` and its
/// counts one condition, `if` shows in `then`/`else`).
fn at_the_finding(path: &str, location: &str, required: Option<&str>) -> bool {
    let path = path.trim_start_matches('#').trim_end_matches('/');
    let under = |inner: &str, outer: &str| inner == outer || inner.starts_with(&format!("{outer}/"));
    if under(location, path) {
        return true;
    }
    let tokens: Vec<&str> = path.split('/').collect();
    let n = tokens.len();
    let parent2 = tokens[..n.saturating_sub(2)].join("/");
    let parent1 = tokens[..n.saturating_sub(1)].join("/");
    let last = tokens[n - 1];
    let second = if n >= 2 { tokens[n - 2] } else { "" };
    let name = last.replace("~1", "/").replace("~0", "~");
    if matches!(second, "properties" | "required") && location == format!("{parent2}/required") {
        return required == Some(name.as_str());
    }
    if second == "dependencies" && location == format!("{parent2}/dependencies") {
        return true;
    }
    let enclosing: &[&str] = match second {
        "properties" => &[
            "additionalProperties",
            "patternProperties",
            "unevaluatedProperties",
        ],
        "items" => &["additionalItems", "items", "unevaluatedItems"],
        "patternProperties" => &["additionalProperties", "unevaluatedProperties"],
        _ => &[],
    };
    if enclosing
        .iter()
        .any(|k| under(location, &format!("{parent2}/{k}")))
    {
        return true;
    }
    let siblings: &[&str] = match last {
        "if" => &["then", "else"],
        // 2020-12 spells the items past a tuple `items`.
        "additionalItems" => &["additionalItems", "items"],
        "contains" | "minContains" | "maxContains" => &["contains", "minContains", "maxContains"],
        "maximum" | "exclusiveMaximum" => &["maximum", "exclusiveMaximum"],
        "minimum" | "exclusiveMinimum" => &["minimum", "exclusiveMinimum"],
        _ => &[],
    };
    if siblings
        .iter()
        .any(|k| under(location, &format!("{parent1}/{k}")))
    {
        return true;
    }
    // A combinator above the finding: the finding is one of its branches.
    ["anyOf", "oneOf", "not"]
        .iter()
        .any(|k| location.ends_with(k) && under(path, location))
}

#[derive(Default)]
struct Tally {
    /// rule -> (incompatible findings, with a witness)
    per_rule: BTreeMap<String, (usize, usize)>,
    missing: Vec<String>,
}

impl Tally {
    /// Checks `f`, one of the findings `all` of one report.
    fn record(&mut self, id: &str, old: &Value, new: &Value, f: &Finding, all: &[Finding]) {
        if f.compatible {
            assert!(
                f.witness.is_none(),
                "{id}: a compatible finding has a witness: {f:?}"
            );
            return;
        }
        let entry = self.per_rule.entry(f.rule.clone()).or_default();
        entry.0 += 1;
        let Some(w) = &f.witness else {
            let reason = rule(&f.rule).map_or("", |r| r.no_witness);
            if reason.is_empty() {
                self.missing.push(format!(
                    "{id}: {} {} ({:?}) has no witness",
                    f.rule, f.old_path, f.direction
                ));
            }
            return;
        };
        entry.1 += 1;
        // The reader's old view accepts it, the new one rejects it.
        let (accepts, rejects) = match f.direction {
            Direction::Backward => (old, new),
            Direction::Forward => (new, old),
        };
        assert!(
            validator(accepts).is_valid(w),
            "{id}: {} witness {w} is not accepted by {accepts}",
            f.rule
        );
        assert!(
            !validator(rejects).is_valid(w),
            "{id}: {} witness {w} is not rejected by {rejects}",
            f.rule
        );
        // ... and rejected only where the finding is.
        let path = match f.direction {
            Direction::Backward => &f.new_path,
            Direction::Forward => &f.old_path,
        };
        // Not where another finding under this one is: that is its break.
        let trim = |p: &str| p.trim_start_matches('#').trim_end_matches('/').to_string();
        let own = trim(path);
        let deeper: Vec<String> = all
            .iter()
            .filter(|g| !g.compatible && g.direction == f.direction && g.against == f.against)
            .map(|g| {
                trim(match g.direction {
                    Direction::Backward => &g.new_path,
                    Direction::Forward => &g.old_path,
                })
            })
            .filter(|p| p.starts_with(&format!("{own}/")))
            .collect();
        for (location, required) in error_locations(rejects, w, &own) {
            assert!(
                at_the_finding(path, &location, required.as_deref()),
                "{id}: {} witness {w} is also rejected at {location} ({required:?}), not at {path}",
                f.rule
            );
            let theirs = deeper.iter().find(|d| {
                let object = location.strip_suffix("/required");
                let missing = |d: &str| match (object, &required) {
                    (Some(o), Some(name)) => {
                        let name = name.replace('~', "~0").replace('/', "~1");
                        d == format!("{o}/required/{name}") || d == format!("{o}/properties/{name}")
                    }
                    _ => false,
                };
                location == **d || location.starts_with(&format!("{d}/")) || missing(d)
            });
            assert!(
                theirs.is_none(),
                "{id}: {} witness {w} is rejected at {location} ({required:?}), the place of another finding ({theirs:?})",
                f.rule
            );
        }
    }

    fn check_pair(&mut self, id: &str, old: &Value, new: &Value) {
        let (o, n) = (
            Schema::from_value(old.clone()).expect("old schema reads"),
            Schema::from_value(new.clone()).expect("new schema reads"),
        );
        for policy in [Policy::Strict, Policy::Lenient] {
            let all = full_check(&n, &o, policy).findings;
            for f in &all {
                self.record(id, old, new, f, &all);
            }
        }
    }

    fn finish(self, what: &str) {
        let (total, witnessed) = self
            .per_rule
            .values()
            .fold((0, 0), |(t, w), (a, b)| (t + a, w + b));
        eprintln!("{what}: {witnessed} of {total} incompatible findings have a verified witness");
        for (r, (t, w)) in &self.per_rule {
            eprintln!("  {r}: {w}/{t}");
        }
        assert!(total > 0, "{what}: no incompatible finding at all");
        assert!(
            self.missing.is_empty(),
            "{what}: findings without a witness whose rule gives no reason:\n{}",
            self.missing.join("\n")
        );
    }
}

#[test]
fn every_incompatible_corpus_finding_has_a_verified_witness() {
    let Some(dir) = common::corpus_dir() else {
        return;
    };
    let mut tally = Tally::default();
    for (file, i, case) in common::cases(&dir) {
        tally.check_pair(
            &format!("{file}#{i}"),
            &case["original_schema"],
            &case["update_schema"],
        );
    }
    tally.finish("conformance corpus");
}

#[test]
fn every_breaking_rule_example_has_a_verified_witness() {
    let mut tally = Tally::default();
    for r in rules() {
        if r.example_old.is_empty() {
            continue;
        }
        let old: Value = serde_json::from_str(r.example_old).expect("example is JSON");
        let new: Value = serde_json::from_str(r.example_new).expect("example is JSON");
        tally.check_pair(r.id, &old, &new);
    }
    tally.finish("rule table examples");
}

#[test]
fn a_rule_that_gives_a_reason_for_no_witness_is_breaking_somewhere() {
    for r in rules() {
        if !r.no_witness.is_empty() {
            assert!(
                !r.strict_compatible || !r.lenient_compatible,
                "{} is never breaking, so it needs no reason for lacking a witness",
                r.id
            );
        }
    }
}

/// The example of issue 12: `amount` narrowed from number to integer while
/// `id` becomes required. Each break gets its own document: the type's has
/// a fractional amount *and* an `id`, so that only the type rejects it; the
/// `required` one lacks `id` and keeps any amount an integer reader takes.
#[test]
fn each_break_of_one_change_shows_in_a_document_of_its_own() {
    let old =
        json!({"type": "object", "properties": {"id": {"type": "string"}, "amount": {"type": "number"}}});
    let new = json!({"type": "object", "properties": {"id": {"type": "string"}, "amount": {"type": "integer"}}, "required": ["id"]});
    let (o, n) = (
        Schema::from_value(old.clone()).unwrap(),
        Schema::from_value(new.clone()).unwrap(),
    );
    let report = full_check(&n, &o, Policy::Strict);
    let find = |rule: &str| {
        report
            .findings
            .iter()
            .find(|f| f.rule == rule && f.direction == Direction::Backward)
            .and_then(|f| f.witness.clone())
            .unwrap_or_else(|| panic!("{rule} has a witness: {:?}", report.findings))
    };
    let narrowed = find("TYPE_NARROWED");
    assert!(
        narrowed["amount"].as_f64().is_some_and(|a| a.fract() != 0.0),
        "{narrowed}"
    );
    assert!(narrowed["id"].is_string(), "{narrowed}");
    let required = find("REQUIRED_ATTRIBUTE_ADDED");
    assert!(required.get("id").is_none(), "{required}");
    assert!(
        required.get("amount").is_none_or(|a| a.as_i64().is_some()),
        "{required}"
    );
    let mut tally = Tally::default();
    for f in &report.findings {
        tally.record("issue 12", &old, &new, f, &report.findings);
    }
}

/// Two breaks in one change, at the same node or at a property and its
/// object: each finding's witness must show that finding's break alone, so
/// the new schema with only that finding's edit undone (written here by
/// hand) accepts it, while the old schema accepts and the new one rejects it.
#[test]
fn each_witness_is_accepted_once_its_own_edit_is_undone() {
    // (old, new, [(rule, new with that rule's edit alone undone)])
    let cases = [
        (
            json!({"type": "number"}),
            json!({"type": "integer", "minimum": 5}),
            vec![
                ("TYPE_NARROWED", json!({"type": "number", "minimum": 5})),
                ("MINIMUM_ADDED", json!({"type": "integer"})),
            ],
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "number"}}}),
            json!({"type": "object", "properties": {"a": {"type": "integer", "minimum": 5}}}),
            vec![
                (
                    "TYPE_NARROWED",
                    json!({"type": "object", "properties": {"a": {"type": "number", "minimum": 5}}}),
                ),
                (
                    "MINIMUM_ADDED",
                    json!({"type": "object", "properties": {"a": {"type": "integer"}}}),
                ),
            ],
        ),
        (
            // The narrowed property itself becomes required, beside `b`.
            json!({"type": "object", "properties": {"a": {"type": "number"}}}),
            json!({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a", "b"]}),
            vec![
                (
                    "TYPE_NARROWED",
                    json!({"type": "object", "properties": {"a": {"type": "number"}}, "required": ["a", "b"]}),
                ),
                (
                    "REQUIRED_ATTRIBUTE_ADDED",
                    json!({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["b"]}),
                ),
                (
                    "REQUIRED_NAME_ADDED",
                    json!({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}),
                ),
            ],
        ),
        (
            // Both breaks inside the one branch of a `oneOf`.
            json!({"type": "object", "properties": {"a": {"type": "number"}}}),
            json!({"type": "object", "properties": {"a": {"oneOf": [{"type": "integer", "minimum": 0}]}}}),
            vec![
                (
                    "TYPE_NARROWED",
                    json!({"type": "object", "properties": {"a": {"oneOf": [{"type": "number", "minimum": 0}]}}}),
                ),
                (
                    "MINIMUM_ADDED",
                    json!({"type": "object", "properties": {"a": {"oneOf": [{"type": "integer"}]}}}),
                ),
            ],
        ),
        (
            json!({"type": "string", "maxLength": 10}),
            json!({"type": "string", "maxLength": 5, "minLength": 2}),
            vec![
                (
                    "MAX_LENGTH_DECREASED",
                    json!({"type": "string", "maxLength": 10, "minLength": 2}),
                ),
                ("MIN_LENGTH_ADDED", json!({"type": "string", "maxLength": 5})),
            ],
        ),
        (
            json!({"type": "array", "items": {"type": "number"}}),
            json!({"type": "array", "items": {"type": "integer"}, "maxItems": 1}),
            vec![
                (
                    "TYPE_NARROWED",
                    json!({"type": "array", "items": {"type": "number"}, "maxItems": 1}),
                ),
                (
                    "MAX_ITEMS_ADDED",
                    json!({"type": "array", "items": {"type": "integer"}}),
                ),
            ],
        ),
    ];
    for (old, new, expected) in cases {
        let (o, n) = (
            Schema::from_value(old.clone()).unwrap(),
            Schema::from_value(new.clone()).unwrap(),
        );
        let report = full_check(&n, &o, Policy::Strict);
        let breaking: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| !f.compatible)
            .map(|f| f.rule.as_str())
            .collect();
        let mut rules: Vec<&str> = expected.iter().map(|(r, _)| *r).collect();
        rules.sort_unstable();
        let mut got = breaking.clone();
        got.sort_unstable();
        assert_eq!(got, rules, "{old} -> {new}");
        for (rule, undone) in &expected {
            let f = report.findings.iter().find(|f| f.rule == *rule).unwrap();
            let w = f
                .witness
                .as_ref()
                .unwrap_or_else(|| panic!("{rule} has a witness in {old} -> {new}: {f:?}"));
            assert!(validator(&old).is_valid(w), "{rule}: the old schema rejects {w}");
            assert!(!validator(&new).is_valid(w), "{rule}: the new schema accepts {w}");
            assert!(
                validator(undone).is_valid(w),
                "{rule}: {w} shows another break than this one's: {undone} rejects it"
            );
        }
    }
}

/// A finding inside a one-part `oneOf`, `anyOf` or `allOf`, or inside the
/// alternative that still accepts the old documents, is reported where it
/// is in each version: the path names the part (a JSON Pointer into the
/// schema, RFC 6901) on the side that has it.
#[test]
fn a_finding_inside_a_single_part_combinator_names_the_part() {
    let cases = [
        (
            json!({"properties": {"a": {"type": "number"}}}),
            json!({"properties": {"a": {"oneOf": [{"type": "integer", "minimum": 0}]}}}),
            "MINIMUM_ADDED",
            "#/properties/a/minimum",
            "#/properties/a/oneOf/0/minimum",
        ),
        (
            json!({"properties": {"a": {"allOf": [{"type": "number", "maximum": 3}]}}}),
            json!({"properties": {"a": {"type": "number", "maximum": 2}}}),
            "MAXIMUM_DECREASED",
            "#/properties/a/allOf/0/maximum",
            "#/properties/a/maximum",
        ),
        (
            // The alternative that accepts what the old schema did.
            json!({"type": "string", "maxLength": 3}),
            json!({"anyOf": [{"type": "null"}, {"type": "string", "maxLength": 5}]}),
            "MAX_LENGTH_INCREASED",
            "#/maxLength",
            "#/anyOf/1/maxLength",
        ),
    ];
    for (old, new, rule, old_path, new_path) in cases {
        let f = backward_finding(&old, &new, |f| f.rule == rule);
        assert_eq!(
            (f.old_path.as_str(), f.new_path.as_str()),
            (old_path, new_path),
            "{old} -> {new}"
        );
        // Each path's schema (the keyword's parent) is there in its version.
        let node = |p: &str| p[1..p.rfind('/').unwrap()].to_string();
        assert!(old.pointer(&node(old_path)).is_some(), "{old_path} in {old}");
        assert!(new.pointer(&node(new_path)).is_some(), "{new_path} in {new}");
    }
}

/// When every document the old schema accepts is rejected by the new one
/// for another reason too, the finding says so instead of showing one.
#[test]
fn a_break_that_never_shows_alone_is_said_in_words() {
    let old =
        json!({"type": "object", "properties": {"a": {"type": "number"}}, "additionalProperties": false});
    let new = json!({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
                     "required": ["b"], "additionalProperties": false});
    let (o, n) = (Schema::from_value(old).unwrap(), Schema::from_value(new).unwrap());
    let report = full_check(&n, &o, Policy::Strict);
    let narrowed = report
        .findings
        .iter()
        .find(|f| f.rule == "TYPE_NARROWED")
        .unwrap_or_else(|| panic!("{:?}", report.findings));
    assert_eq!(narrowed.witness, None);
    let note = narrowed.witness_note.as_deref().unwrap_or_default();
    assert!(note.contains("alone") && note.contains("required"), "{note}");
}

/// Whether a validator that does not assert `format` (as 2019-09 and
/// 2020-12 read it by default) accepts `doc`.
fn accepted_without_format(schema: &Value, doc: &Value) -> bool {
    let mut options = jsonschema::options().should_validate_formats(false);
    if schema.get("$schema").is_none() {
        options = options.with_draft(jsonschema::Draft::Draft7);
    }
    options.build(schema).expect("the schema compiles").is_valid(doc)
}

/// A `format` added to a string: the witness is a string that is no email
/// address, which only a validator asserting `format` rejects, and the
/// finding says so; nested under properties, the same. A lowered
/// `maxLength` is asserted by every validator: no such note.
#[test]
fn a_witness_rejected_only_by_format_says_so() {
    let note = "rejected only by validators that assert `format`";
    let cases = [
        (
            json!({"type": "string"}),
            json!({"type": "string", "format": "email"}),
        ),
        (
            json!({"type": "object", "properties": {"contact": {"type": "object",
                   "properties": {"email": {"type": "string"}}, "required": ["email"]}},
                   "required": ["contact"]}),
            json!({"type": "object", "properties": {"contact": {"type": "object",
                   "properties": {"email": {"type": "string", "format": "email"}}, "required": ["email"]}},
                   "required": ["contact"]}),
        ),
    ];
    for (old, new) in cases {
        let f = backward_finding(&old, &new, |f| !f.compatible);
        let witness = f.witness.as_ref().unwrap_or_else(|| panic!("a witness: {f:?}"));
        assert!(validator(&old).is_valid(witness), "{witness}");
        assert!(!validator(&new).is_valid(witness), "{witness}");
        assert!(accepted_without_format(&new, witness), "{witness}");
        let said = f.witness_note.as_deref().unwrap_or_default();
        assert!(said.starts_with(note), "{f:?}");
    }

    let old = json!({"type": "object", "properties": {"email": {"type": "string", "maxLength": 10}}});
    let new = json!({"type": "object", "properties": {"email": {"type": "string", "maxLength": 5}}});
    let (o, n) = (
        Schema::from_value(old).unwrap(),
        Schema::from_value(new.clone()).unwrap(),
    );
    let report = full_check(&n, &o, Policy::Strict);
    let lowered = report
        .findings
        .iter()
        .find(|f| f.rule == "MAX_LENGTH_DECREASED" && f.direction == Direction::Backward)
        .unwrap_or_else(|| panic!("{:?}", report.findings));
    let witness = lowered
        .witness
        .as_ref()
        .unwrap_or_else(|| panic!("a witness: {lowered:?}"));
    assert!(!accepted_without_format(&new, witness), "{witness}");
    assert_eq!(lowered.witness_note, None, "{lowered:?}");
}

/// `base` with the members of `extra` laid over it, when both are objects:
/// one node edited in several keywords at once.
fn overlay(base: &Value, extra: &Value) -> Value {
    match (base, extra) {
        (Value::Object(b), Value::Object(e)) => {
            let mut out = b.clone();
            out.extend(e.clone());
            Value::Object(out)
        }
        _ => extra.clone(),
    }
}

/// An old schema and an edit of it with several breaks at once: an object
/// whose properties are each kept, replaced or given more keywords, and
/// whose `required` and `additionalProperties` change too.
fn edited_pair() -> impl Strategy<Value = (Value, Value)> {
    let member =
        (common::arbitrary_schema(), common::arbitrary_schema(), 0u8..3).prop_map(|(old, other, how)| {
            let new = match how {
                0 => old.clone(),
                1 => other,
                _ => overlay(&old, &other),
            };
            (old, new)
        });
    let names = || prop::collection::btree_set(prop::sample::select(vec!["a", "b", "c", "d"]), 0..3);
    (
        prop::collection::btree_map(prop::sample::select(vec!["a", "b", "c"]), member, 1..4),
        names(),
        names(),
        prop::bool::ANY,
        prop::bool::ANY,
    )
        .prop_map(|(members, old_required, new_required, old_closed, new_closed)| {
            let old_props: serde_json::Map<String, Value> = members
                .iter()
                .map(|(k, (o, _))| (k.to_string(), o.clone()))
                .collect();
            let new_props: serde_json::Map<String, Value> = members
                .iter()
                .map(|(k, (_, n))| (k.to_string(), n.clone()))
                .collect();
            (
                json!({"type": "object", "properties": old_props, "required": old_required,
                       "additionalProperties": !old_closed}),
                json!({"type": "object", "properties": new_props, "required": new_required,
                       "additionalProperties": !new_closed}),
            )
        })
}

/// Generated changes with several breaks (unrelated schemas, a node given
/// more keywords, objects whose members and `required` change together):
/// every witness shown is accepted by the reader's old view, rejected by the
/// new one, only at its finding's place and never at the place of another
/// finding under it. `PROPTEST_CASES` sets the number of pairs (64 by
/// default).
#[test]
fn generated_changes_show_each_break_in_its_own_witness() {
    let cases = common::proptest_cases(64);
    let pairs = prop_oneof![
        (common::arbitrary_schema(), common::arbitrary_schema()),
        (common::arbitrary_schema(), common::arbitrary_schema()).prop_map(|(old, extra)| {
            let new = overlay(&old, &extra);
            (old, new)
        }),
        edited_pair(),
    ];
    let mut runner = TestRunner::new(ProptestConfig::with_cases(cases));
    let tally = std::cell::RefCell::new(Tally::default());
    let result = runner.run(&pairs, |(old, new)| {
        let (Ok(o), Ok(n)) = (Schema::from_value(old.clone()), Schema::from_value(new.clone())) else {
            return Ok(());
        };
        let findings = full_check(&n, &o, Policy::Strict).findings;
        for f in &findings {
            tally.borrow_mut().record("generated", &old, &new, f, &findings);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let tally = tally.into_inner();
    let (total, witnessed) = tally
        .per_rule
        .values()
        .fold((0, 0), |(t, w), (a, b)| (t + a, w + b));
    eprintln!("generated changes: {witnessed} of {total} incompatible findings have a verified witness");
    assert!(witnessed > 0, "no generated finding had a witness");
}
