//! Shared helpers of the integration tests: finding the Confluent corpus,
//! reading hand-written schemas and listing their findings.

#![allow(dead_code)]

use proptest::prelude::*;
use serde_json::{Value, json};
use std::path::PathBuf;

/// The corpus directory, or `None` (after saying so) when it is absent and
/// `ACCORD_REQUIRE_CONFORMANCE` is not set.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/confluent-jsonschema");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("ACCORD_REQUIRE_CONFORMANCE").is_ok_and(|v| v == "1") {
        panic!(
            "the conformance corpus is required (ACCORD_REQUIRE_CONFORMANCE=1) but {} is missing",
            dir.display()
        );
    }
    eprintln!("skipped: conformance corpus not found at {}", dir.display());
    None
}

/// Drops commas that directly precede `}` or `]` outside strings: one corpus
/// file was written for a lenient reader.
pub fn strip_trailing_commas(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            out.push(c);
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        if c == ',' {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if matches!(next, Some('}') | Some(']')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// The four `diff-*` files.
pub const DIFF_FILES: [&str; 4] = [
    "diff-schema-examples.json",
    "diff-schema-examples-2020-12.json",
    "diff-combined-schema-examples.json",
    "diff-combined-schema-examples-2020-12.json",
];

/// One case: (file, index, case object).
pub fn cases(dir: &std::path::Path) -> Vec<(String, usize, Value)> {
    let mut all = Vec::new();
    for file in DIFF_FILES {
        let text = std::fs::read_to_string(dir.join(file)).expect("corpus file is readable");
        let value: Value = serde_json::from_str(&strip_trailing_commas(&text)).expect("corpus file is JSON");
        let Value::Array(cases) = value else {
            panic!("{file} is not an array")
        };
        for (i, case) in cases.into_iter().enumerate() {
            all.push((file.to_string(), i, case));
        }
    }
    all
}

/// A hand-written schema, read as the engine reads it.
pub fn schema(v: Value) -> accord_compat::Schema {
    accord_compat::Schema::from_value(v).expect("a valid schema")
}

/// The findings from `old` to `new` under STRICT, as "RULE path".
pub fn rules_of(old: &accord_compat::Schema, new: &accord_compat::Schema) -> Vec<String> {
    accord_compat::diff(old, new, accord_compat::Policy::Strict)
        .into_iter()
        .map(|f| format!("{} {}", f.rule, f.old_path))
        .collect()
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!({})),
        (0u32..6).prop_map(|n| json!({"type": "string", "maxLength": n})),
        (0u32..4).prop_map(|n| json!({"type": "string", "minLength": n})),
        (-3i32..3).prop_map(|n| json!({"type": "integer", "minimum": n})),
        (-3i32..3).prop_map(|n| json!({"type": "number", "exclusiveMaximum": n})),
        (1u32..4).prop_map(|n| json!({"type": "integer", "multipleOf": n})),
        Just(json!({"type": "boolean"})),
        Just(json!({"type": ["string", "null"]})),
        Just(json!({"type": "string", "format": "date"})),
        prop::collection::vec(0u8..4, 1..4).prop_map(|v| json!({"enum": v})),
        (0u8..3).prop_map(|n| json!({"const": n})),
    ]
}

/// Random schemas of every family the engine compares, nested three deep:
/// the generator of the soundness probe and of generated witnesses.
pub fn arbitrary_schema() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 3, |inner| {
        let names = prop::sample::select(vec!["a", "b", "c"]);
        prop_oneof![
            (
                prop::collection::btree_map(names.clone(), inner.clone(), 0..3),
                prop::collection::btree_set(names, 0..2),
                prop_oneof![Just(json!(true)), Just(json!(false)), inner.clone()],
            )
                .prop_map(|(props, required, additional)| json!({
                    "type": "object", "properties": props, "required": required,
                    "additionalProperties": additional
                })),
            (inner.clone(), 0u32..3, 2u32..5).prop_map(|(items, min, max)| json!({
                "type": "array", "items": items, "minItems": min, "maxItems": max
            })),
            prop::collection::vec(inner.clone(), 1..3).prop_map(|v| json!({"anyOf": v})),
            prop::collection::vec(inner.clone(), 1..3).prop_map(|v| json!({"oneOf": v})),
            prop::collection::vec(inner.clone(), 1..3).prop_map(|v| json!({"allOf": v})),
            inner.clone().prop_map(|v| json!({"not": v})),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(c, t, e)| json!({"if": c, "then": t, "else": e})),
            (
                prop::sample::select(vec!["^a", "^b", "c$"]),
                inner.clone(),
                0u32..2,
                1u32..3,
                prop::bool::ANY,
            )
                .prop_map(|(pattern, s, min, max, closed)| json!({
                    "type": "object", "patternProperties": {pattern: s},
                    "minProperties": min, "maxProperties": max, "additionalProperties": !closed
                })),
            (inner, prop::bool::ANY).prop_map(|(c, unique)| json!({
                "type": "array", "contains": c, "uniqueItems": unique
            })),
        ]
    })
}

/// The number of generated cases a property test runs: `PROPTEST_CASES`,
/// or `default`.
pub fn proptest_cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
