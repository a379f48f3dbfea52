//! Confluent's JSON Schema compatibility corpus: every verdict must match,
//! and the change lists must match except for the cases listed, with their
//! reason, in `known-differences.md`.

mod common;

use accord_compat::{Policy, Schema, diff};
use serde_json::Value;
use std::collections::BTreeSet;

fn changes(old: &Schema, new: &Schema, policy: Policy) -> (Vec<String>, bool) {
    let findings = diff(old, new, policy);
    let compatible = findings.iter().all(|f| f.compatible);
    let mut list: Vec<String> = findings
        .iter()
        .map(|f| format!("{} {}", f.rule, f.old_path))
        .collect();
    list.sort();
    (list, compatible)
}

fn known_differences() -> BTreeSet<String> {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/known-differences.md"),
    )
    .expect("tests/known-differences.md is readable");
    text.lines()
        .filter_map(|l| l.strip_prefix("- `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn confluent_corpus_verdicts_and_change_lists() {
    let Some(dir) = common::corpus_dir() else {
        return;
    };
    let cases = common::cases(&dir);
    assert_eq!(cases.len(), 263, "the corpus has 263 cases");
    let mut verdict_errors = Vec::new();
    let mut list_mismatches = BTreeSet::new();
    for (file, i, case) in &cases {
        let id = format!("{file}#{i}");
        let old = Schema::from_value(case["original_schema"].clone())
            .unwrap_or_else(|e| panic!("{id}: original schema rejected: {e}"));
        let new = Schema::from_value(case["update_schema"].clone())
            .unwrap_or_else(|e| panic!("{id}: update schema rejected: {e}"));
        let strict_expected = case["compatible"].as_bool().expect("compatible is a bool");
        let lenient_expected = case
            .get("compatible_lenient")
            .and_then(Value::as_bool)
            .unwrap_or(strict_expected);
        let (list, strict) = changes(&old, &new, Policy::Strict);
        let (_, lenient) = changes(&old, &new, Policy::Lenient);
        if strict != strict_expected {
            verdict_errors.push(format!(
                "{id} STRICT: got {strict}, expected {strict_expected}: {list:?}"
            ));
        }
        if lenient != lenient_expected {
            verdict_errors.push(format!(
                "{id} LENIENT: got {lenient}, expected {lenient_expected}: {list:?}"
            ));
        }
        let mut expected: Vec<String> = case["changes"]
            .as_array()
            .expect("changes is an array")
            .iter()
            .map(|c| c.as_str().expect("a change is a string").to_string())
            .collect();
        expected.sort();
        if list != expected {
            eprintln!("change list differs in {id}:\n  got      {list:?}\n  expected {expected:?}");
            list_mismatches.insert(id);
        }
    }
    assert!(
        verdict_errors.is_empty(),
        "verdicts differ:\n{}",
        verdict_errors.join("\n")
    );
    assert!(
        cases.len() - list_mismatches.len() >= 250,
        "only {} of {} change lists match",
        cases.len() - list_mismatches.len(),
        cases.len()
    );
    let known = known_differences();
    assert_eq!(
        list_mismatches, known,
        "tests/known-differences.md must list exactly the cases whose change list differs"
    );
}
