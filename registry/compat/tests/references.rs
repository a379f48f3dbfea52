//! Hand-worked cases of what real schema evolutions showed (SchemaStore
//! files, reduced to a few lines each): a definition reached from many
//! places is compared and reported once, and never lost; annotations next
//! to a combined schema are those of the place; a schema wrapped in
//! `allOf`/`oneOf` is compared by meaning, with its detailed findings.
//!
//! Each expectation is worked out by hand from the JSON Schema spec, and
//! the documents that show a break are checked with the `jsonschema`
//! validator: accepted by the old schema, rejected by the new one.

mod common;

use accord_compat::{Direction, Mode, Policy, check, diff};
use serde_json::{Value, json};

use common::{rules_of, schema};

/// Asserts that `doc` shows a break from `old` to `new`: the old schema
/// accepts it and the new one rejects it (draft-07, as the schemas are read).
fn breaks(old: &Value, new: &Value, doc: &Value) {
    let accepts = |s: &Value| jsonschema::draft7::new(s).expect("compiles").is_valid(doc);
    assert!(accepts(old), "old rejects {doc}");
    assert!(!accepts(new), "new accepts {doc}");
}

/// A code: a string of at most `max` characters.
fn with_code(max: u32, shape: Value) -> Value {
    let mut v = shape;
    v["definitions"] = json!({"code": {"type": "string", "maxLength": max}});
    v
}

#[test]
fn a_shared_definition_is_reported_once_at_the_shortest_place() {
    // `code` is reached from `a`, from `b` and from `nested/c`; it accepts
    // strings of 5 characters before, 3 after: "abcd" breaks each of them,
    // and one finding says so, where the smallest document shows it.
    let shape = json!({
        "properties": {
            "nested": {"properties": {"c": {"$ref": "#/definitions/code"}}},
            "b": {"$ref": "#/definitions/code"},
            "a": {"$ref": "#/definitions/code"}
        }
    });
    let (old_v, new_v) = (with_code(5, shape.clone()), with_code(3, shape));
    let (old, new) = (schema(old_v.clone()), schema(new_v.clone()));
    assert_eq!(
        rules_of(&old, &new),
        ["MAX_LENGTH_DECREASED #/properties/a/maxLength"]
    );
    let report = check(&new, &[&old], Mode::Backward, Policy::Strict);
    assert!(!report.compatible);
    let witness = report.findings[0].witness.clone().expect("a witness");
    breaks(&old_v, &new_v, &witness);
    for doc in [
        json!({"a": "abcd"}),
        json!({"b": "abcd"}),
        json!({"nested": {"c": "abcd"}}),
    ] {
        breaks(&old_v, &new_v, &doc);
    }
}

#[test]
fn a_definition_first_met_in_a_discarded_pairing_is_still_reported() {
    // The `oneOf` of `x` pairs its alternatives: the pair of `code`s breaks,
    // so it is left unmatched and its findings are not listed there. `y`
    // reaches the same pair plainly: its break must be listed at `y`.
    let shape = json!({
        "properties": {
            "x": {"oneOf": [{"$ref": "#/definitions/code"}, {"type": "null"}]},
            "y": {"$ref": "#/definitions/code"}
        }
    });
    let (old_v, new_v) = (with_code(5, shape.clone()), with_code(3, shape));
    let (old, new) = (schema(old_v.clone()), schema(new_v.clone()));
    let found = rules_of(&old, &new);
    assert!(
        found.contains(&"MAX_LENGTH_DECREASED #/properties/y/maxLength".to_string()),
        "{found:?}"
    );
    assert!(
        found.contains(&"COMBINED_TYPE_SUBSCHEMAS_CHANGED #/properties/x".to_string()),
        "{found:?}"
    );
    breaks(&old_v, &new_v, &json!({"y": "abcd"}));
    breaks(&old_v, &new_v, &json!({"x": "abcd"}));
}

#[test]
fn a_verdict_taken_inside_the_walk_sees_a_break_reported_elsewhere() {
    // `b` became "a code or null": it still accepts what it accepted only if
    // the code does. The code narrowed (reported at `a`, the shorter place),
    // so `b` breaks too: "abcd" was a valid `b` and is not any more.
    let old_v = with_code(
        5,
        json!({"properties": {"a": {"$ref": "#/definitions/code"}, "bb": {"$ref": "#/definitions/code"}}}),
    );
    let new_v = with_code(
        3,
        json!({"properties": {
            "a": {"$ref": "#/definitions/code"},
            "bb": {"anyOf": [{"$ref": "#/definitions/code"}, {"type": "null"}]}
        }}),
    );
    let (old, new) = (schema(old_v.clone()), schema(new_v.clone()));
    let findings = diff(&old, &new, Policy::Strict);
    assert!(
        findings
            .iter()
            .any(|f| f.old_path.starts_with("#/properties/bb") && !f.compatible),
        "{findings:#?}"
    );
    assert!(
        !findings
            .iter()
            .any(|f| f.old_path == "#/properties/bb" && f.rule == "SUM_TYPE_EXTENDED"),
        "{findings:#?}"
    );
    breaks(&old_v, &new_v, &json!({"bb": "abcd"}));
}

#[test]
fn a_recursive_definition_is_compared_to_its_end_and_reported_once() {
    // A tree: each node has a label and children that are nodes. The label
    // narrows from 5 to 3 characters: a root labelled "abcd" shows it.
    let tree = |max: u32| {
        json!({
            "$ref": "#/definitions/node",
            "definitions": {"node": {
                "type": "object",
                "properties": {
                    "label": {"type": "string", "maxLength": max},
                    "children": {"type": "array", "items": {"$ref": "#/definitions/node"}},
                    "first": {"$ref": "#/definitions/node"}
                }
            }}
        })
    };
    let (old_v, new_v) = (tree(5), tree(3));
    let (old, new) = (schema(old_v.clone()), schema(new_v.clone()));
    assert_eq!(
        rules_of(&old, &new),
        ["MAX_LENGTH_DECREASED #/properties/label/maxLength"]
    );
    breaks(&old_v, &new_v, &json!({"label": "abcd"}));
    breaks(
        &old_v,
        &new_v,
        &json!({"children": [{"first": {"label": "abcd"}}]}),
    );
    let report = check(&new, &[&old], Mode::Full, Policy::Strict);
    let forward: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.direction == Direction::Forward)
        .map(|f| (f.rule.as_str(), f.compatible))
        .collect();
    // Forward rule ids name the change as the reversed comparison sees it.
    assert_eq!(forward, [("MAX_LENGTH_INCREASED", true)]);
}

#[test]
fn annotations_kept_next_to_a_new_one_of_are_unchanged() {
    // `{type: string}` with a default and a description became a `oneOf`
    // of string and null with the same default and description: strings
    // are still accepted (and null now too); no annotation changed.
    let old_v = json!({"properties": {"kind": {"type": "string", "default": "chore", "description": "D"}}});
    let new_v = json!({"properties": {"kind": {
        "description": "D",
        "oneOf": [{"type": "string"}, {"type": "null"}],
        "default": "chore"
    }}});
    let (old, new) = (schema(old_v), schema(new_v));
    assert_eq!(rules_of(&old, &new), ["SUM_TYPE_EXTENDED #/properties/kind"]);
    // A description that did change is reported once, where it is.
    let renamed = schema(json!({"properties": {"kind": {
        "description": "E",
        "oneOf": [{"type": "string"}, {"type": "null"}],
        "default": "chore"
    }}}));
    let mut found = rules_of(&old, &renamed);
    found.sort();
    assert_eq!(
        found,
        [
            "DESCRIPTION_CHANGED #/properties/kind",
            "SUM_TYPE_EXTENDED #/properties/kind"
        ]
    );
    // And the same through references with annotations written next to them.
    let referenced = |d: &str| {
        json!({
            "properties": {"kind": {"$ref": "#/definitions/k", "description": d}},
            "definitions": {"k": {"oneOf": [{"type": "string"}, {"type": "null"}]}}
        })
    };
    let plain = json!({"properties": {"kind": {"type": "string", "description": "D"}}});
    assert_eq!(
        rules_of(&schema(plain), &schema(referenced("D"))),
        ["SUM_TYPE_EXTENDED #/properties/kind"]
    );
}

#[test]
fn an_enum_added_next_to_a_type_is_reported_as_such() {
    // `{type: string}` gained an `enum`: strings outside it are rejected now
    // (the empty string shows it); the type itself did not change.
    let old_v = json!({"properties": {"mode": {"type": "string"}}});
    let new_v = json!({"properties": {"mode": {"type": "string", "enum": ["auto", "manual"]}}});
    let (old, new) = (schema(old_v.clone()), schema(new_v.clone()));
    let findings = diff(&old, &new, Policy::Strict);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!((f.old_path.as_str(), f.compatible), ("#/properties/mode", false));
    assert!(f.message.contains("'enum' added"), "{}", f.message);
    assert!(!f.message.contains("allOf"), "{}", f.message);
    breaks(&old_v, &new_v, &json!({"mode": ""}));
    let witness = f.witness.clone().expect("a witness");
    breaks(&old_v, &new_v, &witness);
}

#[test]
fn a_top_level_moved_into_all_of_is_compared_part_by_part() {
    // The old object is now the first part of an `allOf` (through a
    // `$ref`), and a second part forbids one more name. A document the old
    // schema accepts must meet both parts: each part's own changes are
    // reported, not one "type changed" at the root.
    let old_v = json!({
        "type": "object",
        "properties": {"name": {"type": "string", "maxLength": 10}, "size": {"type": "integer"}}
    });
    let new_v = json!({
        "allOf": [{"$ref": "#/definitions/core"}, {"not": {"required": ["legacy"]}}],
        "definitions": {"core": {
            "type": "object",
            "properties": {"name": {"type": "string", "maxLength": 8}, "size": {"type": "integer"}}
        }}
    });
    let (old, new) = (schema(old_v.clone()), schema(new_v.clone()));
    let findings = diff(&old, &new, Policy::Strict);
    let found: Vec<_> = findings
        .iter()
        .map(|f| (f.rule.as_str(), f.new_path.as_str()))
        .collect();
    assert!(
        found.contains(&("MAX_LENGTH_DECREASED", "#/allOf/0/properties/name/maxLength")),
        "{found:?}"
    );
    assert!(
        found.contains(&("PRODUCT_TYPE_EXTENDED", "#/allOf/1")),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|(rule, _)| *rule == "TYPE_CHANGED"),
        "{found:?}"
    );
    breaks(&old_v, &new_v, &json!({"name": "123456789"}));
    breaks(&old_v, &new_v, &json!({"legacy": 1}));
    for f in findings.iter().filter(|f| !f.compatible) {
        match &f.witness {
            Some(witness) => breaks(&old_v, &new_v, witness),
            None => assert!(f.witness_note.is_some(), "{f:?}"),
        }
    }
    let narrowed = findings
        .iter()
        .find(|f| f.rule == "MAX_LENGTH_DECREASED")
        .expect("found");
    breaks(&old_v, &new_v, narrowed.witness.as_ref().expect("a witness"));

    // Type and `not` side by side make an `allOf` of their own: the same.
    let beside = json!({
        "type": "object",
        "properties": {"name": {"type": "string", "maxLength": 8}, "size": {"type": "integer"}},
        "not": {"required": ["legacy"]}
    });
    let found = rules_of(&old, &schema(beside.clone()));
    assert!(
        found.contains(&"MAX_LENGTH_DECREASED #/properties/name/maxLength".to_string()),
        "{found:?}"
    );
    assert!(
        found.contains(&"PRODUCT_TYPE_EXTENDED #/".to_string()),
        "{found:?}"
    );
    assert!(!found.iter().any(|f| f.starts_with("TYPE_CHANGED")), "{found:?}");

    // Backward the other way: the old `allOf`'s object part tells what
    // breaks (`name` narrowed to 5), rather than a type change.
    let narrower = json!({"type": "object", "properties": {"name": {"type": "string", "maxLength": 5}}});
    let found = rules_of(&schema(beside.clone()), &schema(narrower.clone()));
    assert!(
        found.contains(&"MAX_LENGTH_DECREASED #/properties/name/maxLength".to_string()),
        "{found:?}"
    );
    assert!(!found.iter().any(|f| f.starts_with("TYPE_CHANGED")), "{found:?}");
    breaks(&beside, &narrower, &json!({"name": "123456"}));
    // ... and dropping the `not` alone only accepts more.
    let wider = json!({"type": "object", "properties": {"name": {"type": "string", "maxLength": 8}, "size": {"type": "integer"}}});
    assert!(check(&schema(wider), &[&schema(beside)], Mode::Backward, Policy::Strict).compatible);
}

#[test]
fn an_all_of_of_one_subschema_is_that_subschema() {
    // Wrapping a schema in a one-element `allOf` changes nothing of what it
    // accepts: only the change inside it (maxLength 10 → 8) is reported.
    let old_v = json!({"type": "object", "properties": {"name": {"type": "string", "maxLength": 10}}});
    let new_v =
        json!({"allOf": [{"type": "object", "properties": {"name": {"type": "string", "maxLength": 8}}}]});
    let (old, new) = (schema(old_v.clone()), schema(new_v.clone()));
    assert_eq!(
        rules_of(&old, &new),
        ["MAX_LENGTH_DECREASED #/properties/name/maxLength"]
    );
    breaks(&old_v, &new_v, &json!({"name": "123456789"}));
    assert!(rules_of(&old, &schema(json!({"allOf": [old_v]}))).is_empty());
}

#[test]
fn a_forward_message_says_which_way_it_reads() {
    // `sources` was required and is gone: new documents may lack it, which
    // the old schema rejects (`{}` shows it). The forward comparison runs
    // from the new version to the old one, where `sources` is added: its
    // message must not read as if the new version had added it.
    let old_v =
        json!({"type": "object", "required": ["sources"], "properties": {"sources": {"type": "array"}}});
    let new_v = json!({"type": "object", "properties": {}});
    let (old, new) = (schema(old_v.clone()), schema(new_v.clone()));
    let report = check(&new, &[&old], Mode::Forward, Policy::Strict);
    assert!(!report.compatible);
    let f = report
        .findings
        .iter()
        .find(|f| f.old_path == "#/properties/sources" && !f.compatible)
        .expect("a forward break at sources");
    assert_eq!(f.direction, Direction::Forward);
    assert_eq!(
        f.message,
        "from the new version back to the old one: property 'sources' added"
    );
    // The witness is a new document the old schema rejects.
    breaks(&new_v, &old_v, f.witness.as_ref().expect("a witness"));
}

#[test]
fn a_type_change_to_a_one_of_names_its_closest_alternative() {
    // A string of any length became "a short string or null": long strings
    // are rejected now ("abcd" shows it). No alternative accepts every
    // string, so the change is a type change; its message says which
    // alternative comes closest and what breaks there, at its place in the
    // new schema.
    let old_v = json!({"properties": {"h": {"type": "string"}}});
    let new_v =
        json!({"properties": {"h": {"oneOf": [{"type": "string", "maxLength": 3}, {"type": "null"}]}}});
    let (old, new) = (schema(old_v.clone()), schema(new_v.clone()));
    let findings = diff(&old, &new, Policy::Strict);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let f = &findings[0];
    assert_eq!(
        (f.rule.as_str(), f.old_path.as_str(), f.compatible),
        ("TYPE_CHANGED", "#/properties/h", false)
    );
    assert!(
        f.message
            .contains("closest: MAX_LENGTH_ADDED at #/properties/h/oneOf/0/maxLength"),
        "{}",
        f.message
    );
    breaks(&old_v, &new_v, &json!({"h": "abcd"}));
}
