//! Witnesses over the Confluent corpus and the rule table's examples: every
//! incompatible finding carries a document that the reader's old view
//! accepts and the new one rejects, checked again here, unless its rule
//! says why none can be built.

mod common;

use accord_compat::{Direction, Finding, Mode, Policy, Schema, check, rule, rules};
use serde_json::Value;
use std::collections::BTreeMap;

fn validator(schema: &Value) -> jsonschema::Validator {
    let mut options = jsonschema::options().should_validate_formats(true);
    if schema.get("$schema").is_none() {
        options = options.with_draft(jsonschema::Draft::Draft7);
    }
    options.build(schema).expect("the schema compiles")
}

#[derive(Default)]
struct Tally {
    /// rule -> (incompatible findings, with a witness)
    per_rule: BTreeMap<String, (usize, usize)>,
    missing: Vec<String>,
}

impl Tally {
    fn record(&mut self, id: &str, old: &Value, new: &Value, f: &Finding) {
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
    }

    fn check_pair(&mut self, id: &str, old: &Value, new: &Value) {
        let (o, n) = (
            Schema::from_value(old.clone()).expect("old schema reads"),
            Schema::from_value(new.clone()).expect("new schema reads"),
        );
        for policy in [Policy::Strict, Policy::Lenient] {
            for f in check(&n, &[&o], Mode::Full, policy).findings {
                self.record(id, old, new, &f);
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
