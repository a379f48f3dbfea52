//! Invariants over every schema of the corpus: a schema compared with itself
//! gives no finding, and BACKWARD(a, b) and FORWARD(b, a) agree. Also the
//! normaliser: the corpus's 2020-12 schemas and their older-draft
//! equivalents compare equal.

mod common;

use accord_compat::{Mode, Policy, Schema, check, diff};
use serde_json::{Value, json};

fn corpus_schemas(dir: &std::path::Path) -> Vec<Value> {
    let mut all = Vec::new();
    for (_, _, case) in common::cases(dir) {
        all.push(case["original_schema"].clone());
        all.push(case["update_schema"].clone());
    }
    let text = std::fs::read_to_string(dir.join("all-schemas.json")).expect("readable");
    let pairs: Value = serde_json::from_str(&text).expect("JSON");
    for pair in pairs.as_array().expect("an array") {
        all.push(pair["source_schema"].clone());
        all.push(pair["target_schema"].clone());
    }
    let text = std::fs::read_to_string(dir.join("recursive-schema.json")).expect("readable");
    all.push(serde_json::from_str(&text).expect("JSON"));
    all
}

#[test]
fn every_corpus_schema_compared_with_itself_gives_nothing() {
    let Some(dir) = common::corpus_dir() else {
        return;
    };
    let mut parsed = 0;
    for value in corpus_schemas(&dir) {
        // Some auxiliary schemas point at other documents: those are refused.
        let (Ok(a), Ok(b)) = (
            Schema::from_value(value.clone()),
            Schema::from_value(value.clone()),
        ) else {
            continue;
        };
        parsed += 1;
        for policy in [Policy::Strict, Policy::Lenient] {
            let found = diff(&a, &b, policy);
            assert!(found.is_empty(), "{value}: {found:?}");
        }
        let r = check(&b, &[&a], Mode::FullTransitive, Policy::Strict);
        assert!(r.compatible && r.findings.is_empty(), "{value}");
    }
    assert!(parsed > 700, "only {parsed} corpus schemas parsed");
}

#[test]
fn backward_of_a_b_equals_forward_of_b_a() {
    let Some(dir) = common::corpus_dir() else {
        return;
    };
    for (file, i, case) in common::cases(&dir) {
        let a = Schema::from_value(case["original_schema"].clone()).expect("valid");
        let b = Schema::from_value(case["update_schema"].clone()).expect("valid");
        for policy in [Policy::Strict, Policy::Lenient] {
            let backward = check(&b, &[&a], Mode::Backward, policy);
            let forward = check(&a, &[&b], Mode::Forward, policy);
            assert_eq!(backward.compatible, forward.compatible, "{file}#{i} {policy}");
            let rules = |r: &accord_compat::Report| {
                let mut v: Vec<(String, String, String)> = r
                    .findings
                    .iter()
                    .map(|f| (f.rule.clone(), f.old_path.clone(), f.new_path.clone()))
                    .collect();
                v.sort();
                v
            };
            // The same comparison seen from the other side: the old schema's
            // paths stay `old_path` in FORWARD's report of (a, b) swapped.
            let swapped: Vec<(String, String, String)> = {
                let mut v: Vec<_> = rules(&forward).into_iter().map(|(r, o, n)| (r, n, o)).collect();
                v.sort();
                v
            };
            assert_eq!(rules(&backward), swapped, "{file}#{i} {policy}");
            let full = check(&b, &[&a], Mode::Full, policy);
            let reverse = check(&a, &[&b], Mode::Full, policy);
            assert_eq!(full.compatible, reverse.compatible, "{file}#{i} {policy}");
        }
    }
}

#[test]
fn twenty_twenty_twelve_forms_equal_their_older_draft_forms() {
    let Some(dir) = common::corpus_dir() else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("all-schemas.json")).expect("readable");
    let pairs: Value = serde_json::from_str(&text).expect("JSON");
    let mut compared = 0;
    for pair in pairs.as_array().expect("an array") {
        let mut source = pair["source_schema"].clone();
        if let Value::Object(m) = &mut source {
            m.insert(
                "$schema".into(),
                json!("https://json-schema.org/draft/2020-12/schema"),
            );
        }
        let (Ok(new_form), Ok(old_form)) = (
            Schema::from_value(source.clone()),
            Schema::from_value(pair["target_schema"].clone()),
        ) else {
            continue;
        };
        compared += 1;
        let found = diff(&new_form, &old_form, Policy::Strict);
        assert!(
            found.is_empty(),
            "{source} vs {}: {found:?}",
            pair["target_schema"]
        );
    }
    assert!(compared > 100, "only {compared} pairs compared");
}
