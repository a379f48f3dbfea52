//! Meta-tests of the rule registry: ids unique and sorted, every rule with a
//! case that makes it fire, every emitted rule registered.

mod common;

use accord_compat::{Origin, Policy, Schema, diff, rule, rules};
use std::collections::BTreeSet;

#[test]
fn ids_are_unique_sorted_and_screaming_snake() {
    let ids: Vec<&str> = rules().iter().map(|r| r.id).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(ids, sorted, "the registry is sorted and has no duplicate id");
    for id in ids {
        assert!(
            id.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
            "{id} is not SCREAMING_SNAKE"
        );
        assert_eq!(rule(id).map(|r| r.id), Some(id));
    }
    assert!(rule("NO_SUCH_RULE").is_none());
}

#[test]
fn every_rule_has_a_purpose_and_an_example_that_fires_it() {
    let mut without_example = Vec::new();
    for r in rules() {
        assert!(r.purpose.ends_with('.'), "{}: purpose is one sentence", r.id);
        if r.example_old.is_empty() {
            without_example.push(r.id);
            continue;
        }
        let old = Schema::parse(r.example_old)
            .unwrap_or_else(|e| panic!("{}: example old schema is invalid: {e}", r.id));
        let new = Schema::parse(r.example_new)
            .unwrap_or_else(|e| panic!("{}: example new schema is invalid: {e}", r.id));
        for policy in [Policy::Strict, Policy::Lenient] {
            let findings = diff(&old, &new, policy);
            let hit = findings.iter().find(|f| f.rule == r.id).unwrap_or_else(|| {
                panic!(
                    "{}: its example does not fire it under {policy}: {findings:?}",
                    r.id
                )
            });
            assert_eq!(hit.compatible, r.compatible(policy), "{}", r.id);
        }
        if r.origin == Origin::Accord {
            assert!(
                !r.note.is_empty(),
                "{}: an Accord rule says how Confluent differs",
                r.id
            );
        }
    }
    // Only the bound on hostile input has no small example; tests/hostile.rs
    // makes it fire.
    assert_eq!(without_example, ["COMPARISON_LIMIT_EXCEEDED"]);
}

#[test]
fn every_rule_the_corpus_expects_is_registered_with_confluents_verdict() {
    let Some(dir) = common::corpus_dir() else {
        return;
    };
    let mut seen = BTreeSet::new();
    for (_, _, case) in common::cases(&dir) {
        let strict = case["compatible"].as_bool().unwrap_or(false);
        let lenient = case
            .get("compatible_lenient")
            .and_then(|v| v.as_bool())
            .unwrap_or(strict);
        let changes: Vec<String> = case["changes"]
            .as_array()
            .map(|a| a.iter().filter_map(|c| c.as_str()).map(str::to_string).collect())
            .unwrap_or_default();
        for c in &changes {
            let id = c.split(' ').next().unwrap_or_default().to_string();
            let r = rule(&id).unwrap_or_else(|| panic!("{id} is not registered"));
            assert_eq!(r.origin, Origin::Confluent, "{id}");
            // A case with one change pins that change's verdict.
            if changes.len() == 1 {
                assert_eq!(r.strict_compatible, strict, "{id} under STRICT");
                assert_eq!(r.lenient_compatible, lenient, "{id} under LENIENT");
            }
            seen.insert(id);
        }
    }
    assert!(seen.len() >= 70, "the corpus exercises {} rules", seen.len());
}
