//! Hand-written cases: the STRICT/LENIENT matrix, `allOf` under LENIENT, the
//! compatibility levels, recursion, draft forms, references and bumps.

mod common;

use accord_compat::{Bump, Direction, Mode, Policy, Schema, check, diff};
use serde_json::{Value, json};

use common::{rules_of, schema};

/// `check` under STRICT, with time enough to find every witness.
fn unhurried(old: &Value, new: &Value, mode: Mode) -> accord_compat::Report {
    let (o, n) = (schema(old.clone()), schema(new.clone()));
    let options = accord_compat::Options {
        witness_time: std::time::Duration::from_secs(60),
        ..accord_compat::Options::default()
    };
    accord_compat::check_with(&n, &[&o], mode, Policy::Strict, &options).expect("within bounds")
}

/// The validator that confirms witnesses, in draft 7 (the schemas' draft).
fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .build(schema)
        .expect("a valid schema")
}

/// The first witness of a report, which must have one.
fn first_witness(r: &accord_compat::Report) -> &Value {
    r.findings
        .iter()
        .find_map(|f| f.witness.as_ref())
        .unwrap_or_else(|| panic!("a witness: {:?}", r.findings))
}

fn compatible(old: &Schema, new: &Schema, policy: Policy) -> bool {
    check(new, &[old], Mode::Backward, policy).compatible
}

fn person(extra: Option<(&str, Value)>, required_extra: bool, additional: bool) -> Schema {
    let mut props = json!({"name": {"type": "string"}});
    let mut required = vec![json!("name")];
    if let Some((k, v)) = extra {
        props[k] = v;
        if required_extra {
            required.push(json!(k));
        }
    }
    schema(json!({
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": additional,
    }))
}

#[test]
fn strict_versus_lenient_matrix() {
    let email = || json!({"type": "string"});
    let email_default = || json!({"type": "string", "default": "unknown"});
    // (change, additionalProperties, extra schema, required, STRICT, LENIENT)
    // A required property with a default is no less required: `{"name":
    // "x"}` is accepted before and rejected after, whatever the default
    // (Confluent calls it compatible; see docs/rules.md).
    let rows = [
        ("add optional", false, email(), false, true, true),
        ("add optional", true, email(), false, false, true),
        ("add required", false, email(), true, false, false),
        (
            "add required with default",
            false,
            email_default(),
            true,
            false,
            false,
        ),
        ("add required", true, email(), true, false, false),
        (
            "add required with default",
            true,
            email_default(),
            true,
            false,
            false,
        ),
        ("remove optional", false, email(), false, false, true),
        ("remove optional", true, email(), false, true, true),
        ("remove required", false, email(), true, false, true),
        ("remove required", true, email(), true, true, true),
    ];
    for (change, additional, extra, required, strict, lenient) in rows {
        let small = person(None, false, additional);
        let big = person(Some(("email", extra)), required, additional);
        let (old, new) = if change.starts_with("add") {
            (&small, &big)
        } else {
            (&big, &small)
        };
        let what = format!("{change} email, additionalProperties {additional}");
        assert_eq!(compatible(old, new, Policy::Strict), strict, "STRICT: {what}");
        assert_eq!(compatible(old, new, Policy::Lenient), lenient, "LENIENT: {what}");
    }
}

#[test]
fn lenient_accepts_an_optional_property_added_inside_all_of() {
    let old = schema(json!({"allOf": [
        {"type": "object", "properties": {"a": {"type": "string"}}},
        {"type": "object", "properties": {"b": {"type": "string"}}}
    ]}));
    let new = schema(json!({"allOf": [
        {"type": "object", "properties": {"a": {"type": "string"}}},
        {"type": "object", "properties": {"b": {"type": "string"}, "c": {"type": "integer"}}}
    ]}));
    assert!(!compatible(&old, &new, Policy::Strict));
    assert!(compatible(&old, &new, Policy::Lenient));
}

#[test]
fn compatibility_levels_of_the_maven_plugin() {
    let foo_bar = json!({"foo": {"type": "string"}, "bar": {"type": "number"}});
    let open = schema(json!({"type": "object", "properties": foo_bar}));
    let closed = schema(json!({"type": "object", "properties": foo_bar, "additionalProperties": false}));
    let with = |zap: Value| {
        let mut p = foo_bar.clone();
        if !zap.is_null() {
            p["zap"] = zap;
        }
        schema(json!({"type": "object", "properties": p, "additionalProperties": {"type": "string"}}))
    };
    let base = with(Value::Null);
    let zap_string = with(json!({"type": "string"}));
    let zap_one_of = with(json!({"oneOf": [{"type": "string"}, {"type": "integer"}]}));
    let ok = |new: &Schema, old: &Schema, mode| check(new, &[old], mode, Policy::Strict).compatible;
    assert!(ok(&open, &closed, Mode::Backward));
    assert!(ok(&zap_string, &base, Mode::Backward));
    assert!(ok(&zap_one_of, &base, Mode::Backward));
    assert!(ok(&closed, &open, Mode::Forward));
    assert!(ok(&zap_string, &base, Mode::Forward));
    assert!(ok(&base, &zap_one_of, Mode::Forward));
    // And the breaking directions are caught.
    assert!(!ok(&closed, &open, Mode::Backward));
    assert!(!ok(&open, &closed, Mode::Forward));
}

#[test]
fn recursive_schema_compared_with_itself_gives_nothing() {
    let Some(dir) = common::corpus_dir() else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("recursive-schema.json")).expect("readable");
    let a = Schema::parse(&text).expect("valid");
    let b = Schema::parse(&text).expect("valid");
    assert!(diff(&a, &b, Policy::Strict).is_empty());
    // A change deep inside the recursion is still found, once.
    let mut changed: Value = serde_json::from_str(&text).expect("json");
    changed["definitions"]["Category"]["properties"]["category_id"]["type"] = json!("string");
    let c = schema(changed);
    let found = rules_of(&a, &c);
    assert!(
        found.contains(&"TYPE_CHANGED #/properties/categories/items/properties/category_id".to_string()),
        "{found:?}"
    );
}

#[test]
fn inlining_a_definition_is_no_change_and_refs_resolve_in_every_form() {
    let inline = schema(json!({"type": "object", "properties": {"a": {"type": "string", "maxLength": 3}}}));
    let forms = [
        json!({"type": "object", "properties": {"a": {"$ref": "#/definitions/s"}},
               "definitions": {"s": {"type": "string", "maxLength": 3}}}),
        json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
               "type": "object", "properties": {"a": {"$ref": "#/$defs/s"}},
               "$defs": {"s": {"type": "string", "maxLength": 3}}}),
        json!({"$id": "http://example.com/root.json",
               "type": "object", "properties": {"a": {"$ref": "item.json"}},
               "definitions": {"s": {"$id": "item.json", "type": "string", "maxLength": 3}}}),
        json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
               "type": "object", "properties": {"a": {"$ref": "#short"}},
               "$defs": {"s": {"$anchor": "short", "type": "string", "maxLength": 3}}}),
        json!({"type": "object", "properties": {"a": {"$ref": "#/definitions/t"}},
               "definitions": {"t": {"$ref": "#/definitions/s"}, "s": {"type": "string", "maxLength": 3}}}),
    ];
    for form in forms {
        let s = schema(form.clone());
        // Declaring an `$id` is itself reported, as an annotation.
        for found in [
            diff(&inline, &s, Policy::Strict),
            diff(&s, &inline, Policy::Strict),
        ] {
            assert!(found.iter().all(|f| f.rule == "ID_CHANGED"), "{form}: {found:?}");
        }
    }
}

#[test]
fn draft_forms_are_normalised() {
    // Draft 4 boolean exclusiveMaximum = 2019+ number form.
    let d4 = schema(json!({"$schema": "http://json-schema.org/draft-04/schema#",
                           "type": "number", "maximum": 10, "exclusiveMaximum": true}));
    let d7 = schema(json!({"type": "number", "exclusiveMaximum": 10}));
    assert!(diff(&d4, &d7, Policy::Strict).is_empty());
    // Tuple `items` = `prefixItems`; `additionalItems` = 2020-12 `items`.
    let old = schema(json!({"type": "array", "items": [{"type": "string"}], "additionalItems": false}));
    let new = schema(json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
                            "type": "array", "prefixItems": [{"type": "string"}], "items": false}));
    assert!(diff(&old, &new, Policy::Strict).is_empty());
    // `dependencies` = `dependentRequired` + `dependentSchemas`.
    let old = schema(json!({"dependencies": {"a": ["b"], "c": {"required": ["d"]}}}));
    let new = schema(json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
                            "dependentRequired": {"a": ["b"]},
                            "dependentSchemas": {"c": {"required": ["d"]}}}));
    assert!(diff(&old, &new, Policy::Strict).is_empty());
    // `type: [a, b]` is a sum type.
    let old = schema(json!({"type": "string"}));
    let new = schema(json!({"type": ["string", "null"]}));
    assert_eq!(rules_of(&old, &new), ["SUM_TYPE_EXTENDED #/"]);
    // Like Confluent, a sum type replaced by one of its branches is a type change.
    assert_eq!(rules_of(&new, &old), ["TYPE_CHANGED #/"]);
}

#[test]
fn keywords_confluent_ignores_still_give_findings() {
    let cases = [
        (
            json!({"type": "string"}),
            json!({"type": "string", "format": "email"}),
            "FORMAT_ADDED #/format",
            false,
        ),
        (
            json!({"type": "array"}),
            json!({"type": "array", "contains": {"type": "number"}}),
            "CONTAINS_ADDED #/contains",
            false,
        ),
        (
            json!({"type": "object"}),
            json!({"type": "object", "propertyNames": {"maxLength": 3}}),
            "PROPERTY_NAMES_ADDED #/propertyNames",
            false,
        ),
        (
            json!({"type": "object", "propertyNames": {"maxLength": 3}}),
            json!({"type": "object", "propertyNames": {"maxLength": 2}}),
            "MAX_LENGTH_DECREASED #/propertyNames/maxLength",
            false,
        ),
        (
            json!({"if": {"required": ["a"]}, "then": {"required": ["b"]}}),
            json!({"if": {"required": ["a"]}, "then": {"required": ["b"]}, "else": {"required": ["c"]}}),
            "CONDITIONAL_BRANCH_ADDED #/else",
            false,
        ),
        (
            json!({"const": "a"}),
            json!({"enum": ["a", "b"]}),
            "ENUM_ARRAY_EXTENDED #/enum",
            true,
        ),
        (
            json!({"type": "string", "examples": ["x"]}),
            json!({"type": "string", "examples": ["y"]}),
            "ANNOTATION_CHANGED #/examples",
            true,
        ),
    ];
    for (old, new, expected, ok) in cases {
        let (o, n) = (schema(old.clone()), schema(new.clone()));
        let found = rules_of(&o, &n);
        assert!(found.contains(&expected.to_string()), "{old} -> {new}: {found:?}");
        assert_eq!(compatible(&o, &n, Policy::Strict), ok, "{old} -> {new}");
    }
}

#[test]
fn check_modes_directions_and_bumps() {
    let v1 = schema(json!({"type": "object", "properties": {"a": {"type": "string", "maxLength": 10}}}));
    let v2 = schema(json!({"type": "object", "properties": {"a": {"type": "string", "maxLength": 20}}}));
    let v3 = schema(json!({"type": "object", "properties": {"a": {"type": "string", "maxLength": 5}}}));
    let v2_titled = schema(json!({"type": "object", "title": "T",
                                  "properties": {"a": {"type": "string", "maxLength": 20}}}));

    let r = check(&v2, &[&v1], Mode::Backward, Policy::Strict);
    assert!(r.compatible);
    assert_eq!(r.required_bump, Bump::Minor);
    assert_eq!(r.findings[0].against, Some(0));
    assert_eq!(r.findings[0].direction, Direction::Backward);

    let r = check(&v2, &[&v1], Mode::Forward, Policy::Strict);
    assert!(!r.compatible);
    assert_eq!(r.required_bump, Bump::Major);
    assert_eq!(r.findings[0].rule, "MAX_LENGTH_DECREASED");
    assert_eq!(r.findings[0].direction, Direction::Forward);

    let r = check(&v2, &[&v1], Mode::Full, Policy::Strict);
    assert_eq!(r.findings.len(), 2);
    assert!(!r.compatible);

    // Latest only versus every earlier version.
    let r = check(&v3, &[&v2, &v3], Mode::Backward, Policy::Strict);
    assert!(r.compatible && r.findings.is_empty() && r.required_bump == Bump::None);
    let r = check(&v3, &[&v2, &v3], Mode::BackwardTransitive, Policy::Strict);
    assert!(!r.compatible);
    assert_eq!(r.findings[0].against, Some(0));

    // NONE lists the findings but nothing breaks.
    let r = check(&v3, &[&v2], Mode::None, Policy::Strict);
    assert!(r.compatible && !r.findings.is_empty());
    assert!(r.findings.iter().all(|f| f.compatible));

    // Only annotations: a patch.
    let r = check(&v2_titled, &[&v2], Mode::Full, Policy::Strict);
    assert!(r.compatible);
    assert_eq!(r.required_bump, Bump::Patch);

    // No earlier version: nothing to break.
    let r = check(&v3, &[], Mode::FullTransitive, Policy::Strict);
    assert!(r.compatible && r.findings.is_empty() && r.required_bump == Bump::None);
}

#[test]
fn findings_are_sorted_by_path_then_rule() {
    let old = schema(
        json!({"properties": {"b": {"type": "string", "maxLength": 3, "minLength": 2}, "a": {"type": "string"}}}),
    );
    let new = schema(
        json!({"properties": {"b": {"type": "string", "maxLength": 2, "minLength": 3}, "a": {"type": "number"}}}),
    );
    let found = diff(&old, &new, Policy::Strict);
    let keys: Vec<(String, String)> = found
        .iter()
        .map(|f| (f.old_path.clone(), f.rule.clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert_eq!(keys.len(), 3);
}

#[test]
fn paths_point_at_keywords_the_document_has() {
    // `type` plus `enum` is compared as two parts, but the path names the
    // `enum` keyword itself, not a made-up `allOf`.
    let old = schema(json!({"properties": {"c": {"type": "string", "enum": ["a", "b"]}}}));
    let new = schema(json!({"properties": {"c": {"type": "string", "enum": ["a", "b", "c"]}}}));
    assert_eq!(rules_of(&old, &new), ["ENUM_ARRAY_EXTENDED #/properties/c/enum"]);
    let found = diff(&old, &new, Policy::Strict);
    assert_eq!(found[0].new_path, "#/properties/c/enum");
}

#[test]
fn an_unmatched_subschema_says_what_breaks_in_its_closest_counterpart() {
    let version = |max: u32| {
        schema(json!({
            "properties": {"id": {"oneOf": [{"type": "null"}, {"$ref": "#/definitions/code"}]}},
            "definitions": {"code": {"type": "string", "maxLength": max}}
        }))
    };
    let found = diff(&version(10), &version(8), Policy::Strict);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule, "COMBINED_TYPE_SUBSCHEMAS_CHANGED");
    assert_eq!(found[0].old_path, "#/properties/id");
    assert!(
        found[0]
            .message
            .contains("MAX_LENGTH_DECREASED at #/properties/id/oneOf/1/maxLength"),
        "{}",
        found[0].message
    );
}

/// An event union with hundreds of alternatives, one of which changed: the
/// identical ones pair without a comparison, so the work stays linear and
/// the verdict is about the one that changed.
#[test]
fn large_unions_pair_identical_alternatives_cheaply() {
    let union = |changed: bool| {
        let alternatives: Vec<Value> = (0..400)
            .map(|i| {
                let kind = if changed && i == 123 { "integer" } else { "string" };
                json!({"type": "object", "required": ["kind"], "properties": {
                    "kind": {"const": format!("event-{i}")},
                    "a": {"type": kind}, "b": {"type": "number", "minimum": 0},
                    "c": {"type": "array", "items": {"type": "string"}}}})
            })
            .collect();
        schema(json!({"oneOf": alternatives}))
    };
    let (old, new) = (union(false), union(true));
    let found = diff(&old, &new, Policy::Strict);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule, "COMBINED_TYPE_SUBSCHEMAS_CHANGED");
    assert!(
        found[0]
            .message
            .contains("TYPE_CHANGED at #/oneOf/123/properties/a"),
        "{}",
        found[0].message
    );
    assert!(diff(&old, &union(false), Policy::Strict).is_empty());
}

#[test]
fn annotations_next_to_a_ref_are_compared_where_they_are_written() {
    for draft in [
        "http://json-schema.org/draft-07/schema#",
        "https://json-schema.org/draft/2020-12/schema",
    ] {
        let doc = |description: &str, max: u32| {
            schema(json!({
                "$schema": draft,
                "properties": {
                    "a": {"$ref": "#/definitions/code", "description": description},
                    "b": {"$ref": "#/definitions/code"}
                },
                "definitions": {"code": {"type": "string", "maxLength": max, "description": "a code"}}
            }))
        };
        assert_eq!(
            rules_of(&doc("first", 5), &doc("second", 5)),
            ["DESCRIPTION_CHANGED #/properties/a"],
            "{draft}"
        );
        // The definition's own change is reported once, at the first of the
        // shortest places that reach it.
        assert_eq!(
            rules_of(&doc("first", 5), &doc("first", 4)),
            ["MAX_LENGTH_DECREASED #/properties/a/maxLength"],
            "{draft}"
        );
        assert!(diff(&doc("first", 5), &doc("first", 5), Policy::Strict).is_empty());
    }
}

#[test]
fn parts_of_one_schema_pair_by_kind_and_report_where_they_break() {
    let status = |values: Value| schema(json!({"properties": {"s": {"type": "string", "enum": values}}}));
    let (two, three) = (status(json!(["a", "b"])), status(json!(["a", "b", "c"])));
    assert_eq!(
        rules_of(&three, &two),
        ["ENUM_ARRAY_NARROWED #/properties/s/enum"]
    );
    let r = check(&three, &[&two], Mode::Forward, Policy::Strict);
    assert!(!r.compatible);
    assert_eq!(r.findings[0].rule, "ENUM_ARRAY_NARROWED");
    let nullable = |max: u32| schema(json!({"type": ["string", "null"], "maxLength": max}));
    assert_eq!(
        rules_of(&nullable(5), &nullable(3)),
        ["MAX_LENGTH_DECREASED #/maxLength"]
    );
}

/// Sound first (issue 12): a change that rejects a document the old schema
/// accepted is breaking, whatever Confluent says. Each expectation below is
/// worked out by hand from the JSON Schema specification.
#[test]
fn a_compatible_verdict_never_hides_a_rejected_document() {
    let run = |old: Value, new: Value, mode: Mode| unhurried(&old, &new, mode);
    // `{}` was an object with no member; `a` is now required of it.
    let r = run(
        json!({"type": "object"}),
        json!({"type": "object", "required": ["a"]}),
        Mode::Backward,
    );
    assert!(!r.compatible);
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "REQUIRED_NAME_ADDED")
        .expect("reported");
    assert_eq!(f.old_path, "#/required/a");
    let w = f.witness.as_ref().expect("a witness");
    assert!(w.is_object() && w.get("a").is_none(), "{w}");
    // The name dropped from `required`: a reader of the old version still
    // requires it of what the new one accepts.
    let r = run(
        json!({"type": "object", "required": ["a"]}),
        json!({"type": "object"}),
        Mode::Forward,
    );
    assert!(!r.compatible);
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule == "REQUIRED_NAME_ADDED" && f.direction == Direction::Forward)
    );
    assert!(
        run(
            json!({"type": "object", "required": ["a"]}),
            json!({"type": "object"}),
            Mode::Backward
        )
        .compatible
    );
    // A removed property that becomes required: `{}` is rejected now.
    let r = run(
        json!({"type": "object", "properties": {"a": {"type": "string"}}}),
        json!({"type": "object", "required": ["a"]}),
        Mode::Backward,
    );
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule == "REQUIRED_NAME_ADDED" && !f.compatible),
        "{:?}",
        r.findings
    );
    // A default does not make a required property optional to a validator.
    let r = run(
        json!({"type": "object", "properties": {"a": {"type": "string", "default": "x"}}}),
        json!({"type": "object", "properties": {"a": {"type": "string", "default": "x"}}, "required": ["a"]}),
        Mode::Backward,
    );
    assert!(!r.compatible);
    // `oneOf` rejects a document that matches two alternatives: widening
    // the second alternative down to -1 makes -1 match both.
    let r = run(
        json!({"oneOf": [{"type": "number", "maximum": 0}, {"type": "number", "minimum": 1}]}),
        json!({"oneOf": [{"type": "number", "maximum": 0}, {"type": "number", "minimum": -1}]}),
        Mode::Backward,
    );
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "ONE_OF_OVERLAP")
        .expect("reported");
    let w = f.witness.as_ref().and_then(Value::as_f64).expect("a number");
    assert!((-1.0..=0.0).contains(&w), "{w}");
    // Alternatives that accept other types, or other values of a required
    // property, never overlap: growing them is compatible.
    assert!(
        run(
            json!({"oneOf": [{"type": "string"}, {"type": "number"}]}),
            json!({"oneOf": [{"type": "string"}, {"type": "number"}, {"type": "null"}]}),
            Mode::Backward
        )
        .compatible
    );
    let event = |kind: &str, extra: Value| json!({"type": "object", "required": ["kind"], "properties": {"kind": {"const": kind}, "x": extra}});
    assert!(
        run(
            json!({"oneOf": [event("a", json!({"type": "string"})), event("b", json!({"type": "string"}))]}),
            json!({"oneOf": [event("a", json!({})), event("b", json!({"type": "string"}))]}),
            Mode::Backward
        )
        .compatible
    );
}

#[test]
fn a_subschema_repeated_under_one_of_rejects_what_it_accepts() {
    // `oneOf` accepts a document that exactly one subschema accepts: one
    // that a repeated subschema accepts matches every copy, so it is
    // rejected (JSON Schema core, `oneOf`). The validator agrees on each
    // document used below.
    let nothing = json!({"anyOf": [{"oneOf": [{}, {}]}]});
    let integers = json!({"oneOf": [{"type": "string"}, {"type": "string"}, {"type": "integer"}]});
    for doc in [json!({}), json!(1), json!("x"), json!(null)] {
        assert!(!validator(&nothing).is_valid(&doc), "{doc}");
    }
    assert!(validator(&integers).is_valid(&json!(3)));
    assert!(!validator(&integers).is_valid(&json!("x")));

    let run = |old: Value, new: &Value| unhurried(&old, new, Mode::Backward);
    // Every object was accepted; now nothing is.
    let r = run(json!({"type": "object"}), &nothing);
    assert!(!r.compatible, "{:?}", r.findings);
    let shown: Vec<&Value> = r.findings.iter().filter_map(|f| f.witness.as_ref()).collect();
    assert!(!shown.is_empty(), "a break shows a document: {:?}", r.findings);
    for w in shown {
        assert!(
            validator(&json!({"type": "object"})).is_valid(w) && !validator(&nothing).is_valid(w),
            "{w}"
        );
    }
    // Strings match two alternatives: only integers are left.
    assert!(run(json!({"type": "integer"}), &integers).compatible);
    let r = run(json!({"type": ["string", "integer"]}), &integers);
    assert!(!r.compatible, "strings are now rejected: {:?}", r.findings);
    // Written once each, the alternatives mean what they say.
    let once = json!({"oneOf": [{"type": "string"}, {"type": "integer"}]});
    assert!(run(json!({"type": "string"}), &once).compatible);
    assert!(run(json!({"type": "integer"}), &once).compatible);
}

/// Listed values (`enum`, `const`, `boolean`, `null`) are a finite set of
/// documents: a schema of another kind keeps them all exactly when it
/// accepts each one. Each row's verdict, rules and witness are worked out
/// by hand from the keywords' definitions; the validator confirms each
/// witness.
#[test]
fn listed_values_that_become_another_kind_are_judged_value_by_value() {
    // (old, new, mode, rules reported, witness of the breaking finding)
    type Row = (Value, Value, Mode, &'static [&'static str], Option<Value>);
    let rows: [Row; 12] = [
        (
            json!({"enum": ["a", "b"]}),
            json!({"type": "string"}),
            Mode::Backward,
            &["TYPE_EXTENDED"],
            None,
        ),
        (
            json!({"const": "a"}),
            json!({"type": "string", "minLength": 1}),
            Mode::Backward,
            &["TYPE_EXTENDED"],
            None,
        ),
        (
            json!({"enum": [1, "a", null]}),
            json!({"type": ["integer", "string", "null"]}),
            Mode::Backward,
            &["TYPE_EXTENDED"],
            None,
        ),
        (
            json!({"type": "object", "properties": {"s": {"enum": ["a", "b"]}}}),
            json!({"type": "object", "properties": {"s": {"type": "string", "pattern": "^[ab]$"}}}),
            Mode::Backward,
            &["TYPE_EXTENDED"],
            None,
        ),
        // "bb" is two characters long.
        (
            json!({"enum": ["a", "bb"]}),
            json!({"type": "string", "maxLength": 1}),
            Mode::Backward,
            &["TYPE_CHANGED"],
            Some(json!("bb")),
        ),
        (
            json!({"enum": ["a", 2]}),
            json!({"type": "integer"}),
            Mode::Backward,
            &["TYPE_CHANGED"],
            Some(json!("a")),
        ),
        // The same two values, spelled otherwise: nothing changed.
        (
            json!({"type": "boolean"}),
            json!({"enum": [true, false]}),
            Mode::Full,
            &[],
            None,
        ),
        (
            json!({"enum": ["a", "b"]}),
            json!({"oneOf": [{"const": "a"}, {"const": "b"}]}),
            Mode::Full,
            &[],
            None,
        ),
        (
            json!({"anyOf": [{"const": "a"}, {"type": "null"}]}),
            json!({"enum": [null, "a"]}),
            Mode::Full,
            &[],
            None,
        ),
        // A reader of the integers reads 1 and 2.
        (
            json!({"type": "integer"}),
            json!({"enum": [1, 2]}),
            Mode::Forward,
            &["TYPE_EXTENDED"],
            None,
        ),
        // `not` of everything accepts nothing: nothing was accepted, and
        // strings are now.
        (
            json!({"not": {}}),
            json!({"type": "string"}),
            Mode::Backward,
            &["TYPE_EXTENDED"],
            None,
        ),
        (
            json!({"type": "string"}),
            json!({"not": true}),
            Mode::Backward,
            &["TYPE_CHANGED"],
            Some(json!("")),
        ),
    ];
    for (old, new, mode, rules, witness) in rows {
        let r = unhurried(&old, &new, mode);
        let mut got: Vec<&str> = r.findings.iter().map(|f| f.rule.as_str()).collect();
        got.dedup();
        assert_eq!(got, rules, "{old} -> {new}: {:?}", r.findings);
        assert_eq!(
            r.compatible,
            witness.is_none(),
            "{old} -> {new}: {:?}",
            r.findings
        );
        if let Some(w) = witness {
            let shown = r
                .findings
                .iter()
                .find(|f| !f.compatible)
                .and_then(|f| f.witness.clone());
            assert_eq!(shown.as_ref(), Some(&w), "{old} -> {new}: {:?}", r.findings);
            assert!(
                validator(&old).is_valid(&w) && !validator(&new).is_valid(&w),
                "{w}"
            );
        }
    }
}

/// `oneOf` accepts a document that exactly one alternative accepts; when no
/// document can match two, it accepts what `anyOf` of the same alternatives
/// does (JSON Schema core, `anyOf` and `oneOf`). Worked out by hand; the
/// validator confirms the witness.
#[test]
fn any_of_to_one_of_of_alternatives_that_exclude_each_other_loses_nothing() {
    let run = unhurried;
    let event =
        |kind: &str| json!({"type": "object", "required": ["kind"], "properties": {"kind": {"const": kind}}});
    let same = [
        (
            json!({"type": ["string", "null"]}),
            json!({"oneOf": [{"type": "string"}, {"type": "null"}]}),
        ),
        (
            json!({"anyOf": [{"type": "string"}, {"type": "null"}]}),
            json!({"oneOf": [{"type": "string"}, {"type": "null"}]}),
        ),
        (
            json!({"anyOf": [event("a"), event("b")]}),
            json!({"oneOf": [event("a"), event("b")]}),
        ),
        (
            json!({"anyOf": [{"enum": ["a", "b"]}, {"const": "c"}]}),
            json!({"oneOf": [{"enum": ["a", "b"]}, {"const": "c"}]}),
        ),
    ];
    for (old, new) in &same {
        let r = run(old, new, Mode::Full);
        assert!(r.compatible, "{old} -> {new}: {:?}", r.findings);
        assert!(
            r.findings.iter().all(|f| f.rule != "COMBINED_TYPE_CHANGED"),
            "{old} -> {new}: {:?}",
            r.findings
        );
    }
    // A non-negative integer matches both alternatives: rejected now.
    let (old, new) = (
        json!({"anyOf": [{"type": "integer"}, {"type": "number", "minimum": 0}]}),
        json!({"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 0}]}),
    );
    let r = run(&old, &new, Mode::Backward);
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "COMBINED_TYPE_CHANGED")
        .expect("reported");
    assert!(!f.compatible);
    let w = f.witness.as_ref().expect("a witness");
    assert!(w.as_i64().is_some_and(|i| i >= 0), "{w}");
    // Exclusive, but the number alternative is gone: still a break.
    let r = run(
        &json!({"anyOf": [{"type": "number"}, {"type": "string"}]}),
        &json!({"oneOf": [{"type": "string"}]}),
        Mode::Backward,
    );
    assert!(!r.compatible, "{:?}", r.findings);
}

/// A document an `anyOf` accepted is accepted by the new `anyOf` when any
/// new alternative accepts it: two old alternatives may fit one new one
/// (JSON Schema core, `anyOf`). Worked out by hand.
#[test]
fn old_alternatives_may_share_the_new_alternative_that_accepts_them() {
    let run = |old: Value, new: Value| unhurried(&old, &new, Mode::Backward);
    let halves = json!({"anyOf": [{"type": "integer", "minimum": 0}, {"type": "integer", "maximum": 10}]});
    let r = run(halves.clone(), json!({"type": ["string", "integer"]}));
    assert!(r.compatible, "{:?}", r.findings);
    let r = run(
        json!({"anyOf": [{"const": "a"}, {"const": "b"}]}),
        json!({"anyOf": [{"type": "string"}, {"type": "null"}]}),
    );
    assert!(r.compatible, "{:?}", r.findings);
    // Every integer matches both alternatives of this `oneOf`: rejected.
    let r = run(
        halves,
        json!({"oneOf": [{"type": "integer"}, {"type": "number"}]}),
    );
    assert!(!r.compatible, "{:?}", r.findings);
    // 0 to 4 fit no new alternative.
    let r = run(
        json!({"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string"}]}),
        json!({"anyOf": [{"type": "integer", "minimum": 5}, {"type": "string"}]}),
    );
    assert!(!r.compatible, "{:?}", r.findings);
    let w = first_witness(&r);
    assert!(w.as_i64().is_some_and(|i| (0..5).contains(&i)), "{w}");
}

/// `{}` accepts every value, and so does a `type` list that names every
/// JSON type and nothing else (JSON Schema validation, `type`). Worked out
/// by hand.
#[test]
fn a_schema_that_accepts_every_value_is_judged_as_such() {
    let run = unhurried;
    let rules = |r: &accord_compat::Report| r.findings.iter().map(|f| f.rule.clone()).collect::<Vec<_>>();
    let every = json!({"type": ["array", "boolean", "integer", "null", "number", "object", "string"]});
    let r = run(&json!({}), &every, Mode::Full);
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    // Without `number`, 0.5 has none of the types.
    let no_number = json!({"type": ["array", "boolean", "integer", "null", "object", "string"]});
    let r = run(&json!({}), &no_number, Mode::Backward);
    assert!(!r.compatible, "{:?}", r.findings);
    let w = first_witness(&r);
    assert!(
        w.is_number() && w.as_i64().is_none() && w.as_u64().is_none(),
        "{w}"
    );
    // Keywords without `type` that constrain nothing: every value before.
    assert!(
        run(&json!({"properties": {}}), &json!({}), Mode::Full)
            .findings
            .is_empty()
    );
    // A string of at most 3 characters became any value: more accepted,
    // and the description change is reported too.
    let (old, new) = (
        json!({"type": "string", "maxLength": 3, "description": "a code"}),
        json!({"description": "anything"}),
    );
    let r = run(&old, &new, Mode::Backward);
    assert!(r.compatible);
    assert_eq!(
        rules(&r),
        ["DESCRIPTION_CHANGED", "TYPE_EXTENDED"],
        "{:?}",
        r.findings
    );
    assert_eq!(r.required_bump, accord_compat::Bump::Minor);
    let r = run(&old, &new, Mode::Forward);
    assert!(!r.compatible, "{:?}", r.findings);
}

/// A union became one schema, or a schema became a `not`: kept exactly
/// when every old alternative is accepted by the new schema, or when the
/// negated schema accepts none of the old types (JSON Schema core, `anyOf`,
/// `oneOf`, `not`). Worked out by hand.
#[test]
fn unions_and_negations_that_keep_every_document_are_compatible() {
    let date_or_code =
        json!({"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "maxLength": 3}]});
    let r = unhurried(&date_or_code, &json!({"type": "string"}), Mode::Backward);
    assert!(r.compatible, "{:?}", r.findings);
    assert!(
        r.findings.iter().any(|f| f.rule == "TYPE_EXTENDED"),
        "{:?}",
        r.findings
    );
    // Integers were accepted; a string is not one.
    let r = unhurried(
        &json!({"oneOf": [{"type": "string"}, {"type": "integer"}]}),
        &json!({"type": "string"}),
        Mode::Backward,
    );
    let w = first_witness(&r);
    assert!(!r.compatible && w.is_i64(), "{w}: {:?}", r.findings);
    // Objects are never strings: each passes the `not`.
    let object = json!({"type": "object"});
    let r = unhurried(&object, &json!({"not": {"type": "string"}}), Mode::Backward);
    assert!(r.compatible, "{:?}", r.findings);
    // ... but a reader of objects gets numbers too.
    let r = unhurried(&object, &json!({"not": {"type": "string"}}), Mode::Forward);
    assert!(!r.compatible, "{:?}", r.findings);
    // An object with `a` is rejected by this `not`.
    let r = unhurried(
        &object,
        &json!({"not": {"type": "object", "required": ["a"]}}),
        Mode::Backward,
    );
    assert!(!r.compatible, "{:?}", r.findings);
    let w = first_witness(&r);
    assert!(w.get("a").is_some(), "{w}");
}

/// A document passes `if`/`then`/`else` when it meets the branch its
/// condition picks; one that meets both branches passes whatever the
/// condition says (JSON Schema core, `if`, `then`, `else`). Worked out by
/// hand; the validator confirms the witness.
#[test]
fn a_condition_every_old_document_meets_changes_nothing() {
    let old = json!({
        "type": "object",
        "properties": {"id": {"type": "string"}, "kind": {"type": "string"}},
        "required": ["id"]
    });
    let with = |then: Value, otherwise: Option<Value>| {
        let mut s = old.clone();
        s["if"] = json!({"properties": {"kind": {"const": "a"}}});
        s["then"] = then;
        if let Some(e) = otherwise {
            s["else"] = e;
        }
        s
    };
    // `id` was always required.
    let kept = [
        with(json!({"required": ["id"]}), None),
        with(
            json!({"properties": {"id": {"minLength": 0}}}),
            Some(json!({"required": ["id"]})),
        ),
    ];
    for new in &kept {
        let r = unhurried(&old, new, Mode::Backward);
        assert!(r.compatible, "{new}: {:?}", r.findings);
    }
    // An object without `x` whose `kind` is absent or "a" is rejected now.
    let new = with(json!({"required": ["x"]}), None);
    let r = unhurried(&old, &new, Mode::Backward);
    assert!(!r.compatible, "{:?}", r.findings);
    let w = first_witness(&r);
    assert!(validator(&old).is_valid(w) && !validator(&new).is_valid(w), "{w}");
    assert!(w.get("x").is_none(), "{w}");
}
