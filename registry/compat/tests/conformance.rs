//! Confluent's JSON Schema compatibility corpus: every verdict must match
//! except where Confluent's is looser than the documents the schemas accept
//! (each listed, with a document that shows the break, in
//! `known-differences.md`; there Accord's change list must be Confluent's
//! with the missed break added, and nothing else), and the change lists
//! must match except for the cases listed there with their reason.

mod common;

use accord_compat::{Policy, Schema, diff};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The findings as Confluent writes its changes (`RULE #/path`), sorted,
/// the breaking ones among them, and the verdict.
fn changes(old: &Schema, new: &Schema, policy: Policy) -> (Vec<String>, Vec<String>, bool) {
    let findings = diff(old, new, policy);
    let compatible = findings.iter().all(|f| f.compatible);
    let entry = |f: &accord_compat::Finding| format!("{} {}", f.rule, f.old_path);
    let mut list: Vec<String> = findings.iter().map(entry).collect();
    list.sort();
    let breaking = findings.iter().filter(|f| !f.compatible).map(entry).collect();
    (list, breaking, compatible)
}

/// What `got` holds beyond `expected`, or `None` if it lacks one of
/// `expected`'s entries (both sorted; entries may repeat).
fn beyond(got: &[String], expected: &[String]) -> Option<Vec<String>> {
    let mut extra = got.to_vec();
    for e in expected {
        let at = extra.iter().position(|g| g == e)?;
        extra.remove(at);
    }
    Some(extra)
}

/// The cases whose change list differs (by id), and those whose verdict
/// differs, with the witness written next to each.
fn known_differences() -> (BTreeSet<String>, BTreeMap<String, Value>) {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/known-differences.md"),
    )
    .expect("tests/known-differences.md is readable");
    let lists = text
        .lines()
        .filter_map(|l| l.strip_prefix("- `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect();
    // An entry runs from its `- verdict` line to the next entry or heading.
    let mut verdicts = BTreeMap::new();
    for entry in text.split("\n- ").filter(|e| e.starts_with("verdict `")) {
        let id = entry["verdict `".len()..].split('`').next().unwrap_or_default();
        let witness = entry
            .split("Witness: `")
            .nth(1)
            .and_then(|w| w.split('`').next())
            .unwrap_or_else(|| panic!("{id}: a verdict difference names its witness"));
        let witness: Value = serde_json::from_str(witness).expect("the witness is JSON");
        verdicts.insert(id.to_string(), witness);
    }
    (lists, verdicts)
}

fn validator(schema: &Value) -> jsonschema::Validator {
    let mut options = jsonschema::options();
    if schema.get("$schema").is_none() {
        options = options.with_draft(jsonschema::Draft::Draft7);
    }
    options.build(schema).expect("the corpus schema compiles")
}

#[test]
fn confluent_corpus_verdicts_and_change_lists() {
    let Some(dir) = common::corpus_dir() else {
        return;
    };
    let cases = common::cases(&dir);
    assert_eq!(cases.len(), 263, "the corpus has 263 cases");
    let (known_lists, known_verdicts) = known_differences();
    let mut verdict_errors = Vec::new();
    let mut verdicts_differing = BTreeSet::new();
    let mut list_mismatches = BTreeSet::new();
    let mut lists_with_missed_break = BTreeSet::new();
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
        let (list, breaking, strict) = changes(&old, &new, Policy::Strict);
        let (_, _, lenient) = changes(&old, &new, Policy::Lenient);
        for (policy, got, expected) in [
            ("STRICT", strict, strict_expected),
            ("LENIENT", lenient, lenient_expected),
        ] {
            if got == expected {
                continue;
            }
            // Only a break Confluent misses, shown by its listed witness.
            match known_verdicts.get(&id) {
                Some(witness) if expected && !got => {
                    assert!(
                        validator(&case["original_schema"]).is_valid(witness),
                        "{id}: the original schema rejects the listed witness {witness}"
                    );
                    assert!(
                        !validator(&case["update_schema"]).is_valid(witness),
                        "{id}: the update accepts the listed witness {witness}"
                    );
                    verdicts_differing.insert(id.clone());
                }
                _ => verdict_errors.push(format!("{id} {policy}: got {got}, expected {expected}: {list:?}")),
            }
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
            if known_verdicts.contains_key(&id) {
                // Where Confluent misses a break, Accord's list must be
                // Confluent's with that break added, and nothing else.
                let extra = beyond(&list, &expected)
                    .unwrap_or_else(|| panic!("{id}: Accord's list lacks one of Confluent's changes"));
                assert!(
                    !extra.is_empty() && extra.iter().all(|e| breaking.contains(e)),
                    "{id}: beyond Confluent's changes, only the breaks it misses: {extra:?}"
                );
                lists_with_missed_break.insert(id.clone());
            }
            list_mismatches.insert(id);
        }
    }
    assert!(
        verdict_errors.is_empty(),
        "verdicts differ:\n{}",
        verdict_errors.join("\n")
    );
    assert_eq!(
        verdicts_differing,
        known_verdicts.keys().cloned().collect::<BTreeSet<_>>(),
        "tests/known-differences.md must list exactly the cases whose verdict differs"
    );
    // The cases whose verdict differs differ in their lists too; of the
    // others, at most the six listed with their reason (Confluent's 2020-12
    // reader losing keywords, `$id`, reported `patternProperties` edits).
    let other_mismatches = list_mismatches.difference(&verdicts_differing).count();
    let exact = cases.len() - list_mismatches.len();
    eprintln!(
        "{exact} of {} change lists match; {} more are Confluent's plus the break it misses; \
         {other_mismatches} differ otherwise",
        cases.len(),
        lists_with_missed_break.len()
    );
    assert_eq!(
        lists_with_missed_break, verdicts_differing,
        "every case whose verdict differs differs in its list by the missed break alone"
    );
    assert!(
        other_mismatches <= 6,
        "{other_mismatches} change lists differ besides the verdicts"
    );
    assert!(
        exact + lists_with_missed_break.len() >= 257,
        "fewer than 257 of 263 change lists agree with Confluent's where Confluent is sound"
    );
    let mut listed = known_lists;
    listed.extend(known_verdicts.keys().cloned());
    assert_eq!(
        list_mismatches, listed,
        "tests/known-differences.md must list exactly the cases whose change list differs"
    );
}
