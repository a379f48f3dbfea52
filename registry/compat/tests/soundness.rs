//! Soundness, the converse of witnesses: for pairs the engine calls
//! compatible, documents the old schema accepts must all be accepted by the
//! new one. A counterexample is excused only where the new schema rejects it
//! at or under the path of a finding whose rule documents why
//! (`RuleInfo::unsound`, shown in docs/rules.md): no rule does today, so
//! every counterexample is an engine bug, and the number of excused pairs
//! is printed and bounded.
//!
//! The run is short by default and prints its counts. A longer run:
//! `ACCORD_SOUNDNESS_DOCS=2000 PROPTEST_CASES=2000 cargo test --release -p
//! accord-compat --test soundness -- --nocapture` (see BENCHMARKS.md).

mod common;

use accord_compat::{Finding, Mode, Policy, Schema, check, rule, rules, soundness};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};
use std::cell::RefCell;

/// Random documents drawn per pair, on top of both schemas' boundary values.
fn documents() -> usize {
    std::env::var("ACCORD_SOUNDNESS_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

/// Pairs a run of `pairs` may excuse: one in twenty where some rule
/// documents itself as unsound, none while no rule does.
fn max_excused(pairs: usize) -> usize {
    if rules().iter().any(|r| !r.unsound.is_empty()) {
        pairs / 20
    } else {
        0
    }
}

#[derive(Default)]
struct Counts {
    pairs: usize,
    documents: usize,
    accepted_by_old: usize,
    /// Pairs whose counterexample lies under a documented-unsound finding.
    excused: usize,
    bugs: Vec<String>,
}

/// Where `schema` rejects `doc`: each error's keyword location, the
/// references it went through left out.
fn rejections(schema: &Value, doc: &Value) -> Vec<String> {
    let mut options = jsonschema::options().should_validate_formats(true);
    if schema.get("$schema").is_none() {
        options = options.with_draft(jsonschema::Draft::Draft7);
    }
    let v = options.build(schema).expect("the schema compiles");
    v.iter_errors(doc)
        .map(|e| {
            e.evaluation_path()
                .as_str()
                .split('/')
                .skip(1)
                .filter(|s| !matches!(*s, "$ref" | "$dynamicRef" | "$recursiveRef"))
                .fold(String::new(), |out, s| out + "/" + s)
        })
        .collect()
}

/// The finding of `findings` that excuses a counterexample `doc`: one whose
/// rule documents that it is compatible without proof, and under whose path
/// (in the reading schema) every rejection of `doc` lies.
fn excusing<'f>(findings: &'f [Finding], reading: &Value, doc: &Value, mode: Mode) -> Option<&'f Finding> {
    let errors = rejections(reading, doc);
    findings.iter().find(|f| {
        let unsound = rule(&f.rule).is_some_and(|r| !r.unsound.is_empty());
        let path = match mode {
            Mode::Forward => &f.old_path,
            _ => &f.new_path,
        };
        let path = path.trim_start_matches('#').trim_end_matches('/');
        unsound
            && !errors.is_empty()
            && errors
                .iter()
                .all(|e| e == path || e.starts_with(&format!("{path}/")))
    })
}

impl Counts {
    /// Probes one pair if the engine calls it compatible in `mode`; returns
    /// whether it did.
    fn probe(&mut self, id: &str, old: &Value, new: &Value, mode: Mode, seed: u64) -> bool {
        let (Ok(o), Ok(n)) = (Schema::from_value(old.clone()), Schema::from_value(new.clone())) else {
            return false;
        };
        let report = check(&n, &[&o], mode, Policy::Strict);
        if !report.compatible {
            return false;
        }
        // FORWARD reads the new schema's documents with the old one.
        let (accepting, reading) = match mode {
            Mode::Forward => (&n, &o),
            _ => (&o, &n),
        };
        let s = soundness(accepting, reading, documents(), seed);
        assert!(!s.skipped, "{id}: a schema did not compile for validation");
        self.pairs += 1;
        self.documents += s.generated;
        self.accepted_by_old += s.accepted_by_old;
        if let Some(doc) = s.counterexamples.first() {
            match excusing(&report.findings, reading.value(), doc, mode) {
                Some(f) => {
                    eprintln!(
                        "{id} ({mode}): {doc} breaks, as {} at {} documents",
                        f.rule, f.new_path
                    );
                    self.excused += 1;
                }
                None => self.bugs.push(format!(
                    "{id} ({mode}): {} accepts {doc}, {} rejects it, yet the engine found {:?}",
                    accepting.value(),
                    reading.value(),
                    report.findings.iter().map(|f| &f.rule).collect::<Vec<_>>()
                )),
            }
        }
        true
    }

    fn add(&mut self, other: Counts) {
        self.pairs += other.pairs;
        self.documents += other.documents;
        self.accepted_by_old += other.accepted_by_old;
        self.excused += other.excused;
        self.bugs.extend(other.bugs);
    }

    fn finish(self, what: &str) {
        eprintln!(
            "{what}: {} compatible pairs, {} documents generated, {} accepted by the old schema, \
             {} pairs excused by a documented-unsound finding, {} unexplained",
            self.pairs,
            self.documents,
            self.accepted_by_old,
            self.excused,
            self.bugs.len()
        );
        let bound = max_excused(self.pairs);
        assert!(
            self.excused <= bound,
            "{what}: {} pairs excused, more than {bound}",
            self.excused
        );
        assert!(
            self.bugs.is_empty(),
            "{what}: documents the old schema accepts and the new one rejects:\n{}",
            self.bugs.join("\n")
        );
    }
}

#[test]
fn a_rule_documented_as_unsound_is_compatible_somewhere() {
    for r in rules() {
        if !r.unsound.is_empty() {
            assert!(
                r.strict_compatible || r.lenient_compatible,
                "{} is never compatible, so soundness cannot fail because of it",
                r.id
            );
        }
    }
}

#[test]
fn corpus_pairs_called_compatible_accept_every_old_document() {
    let Some(dir) = common::corpus_dir() else {
        return;
    };
    let mut counts = Counts::default();
    for (k, (file, i, case)) in common::cases(&dir).into_iter().enumerate() {
        for mode in [Mode::Backward, Mode::Forward] {
            counts.probe(
                &format!("{file}#{i}"),
                &case["original_schema"],
                &case["update_schema"],
                mode,
                k as u64 + 1,
            );
        }
    }
    assert!(counts.pairs > 50, "only {} compatible corpus pairs", counts.pairs);
    assert!(
        counts.accepted_by_old > counts.pairs,
        "too few valid documents were generated"
    );
    counts.finish("conformance corpus");
}

#[test]
fn rule_examples_called_compatible_accept_every_old_document() {
    let mut counts = Counts::default();
    for (k, r) in rules().iter().enumerate() {
        if r.example_old.is_empty() {
            continue;
        }
        let old: Value = serde_json::from_str(r.example_old).expect("example is JSON");
        let new: Value = serde_json::from_str(r.example_new).expect("example is JSON");
        counts.probe(r.id, &old, &new, Mode::Backward, k as u64 + 1);
    }
    assert!(counts.pairs > 20, "only {} compatible examples", counts.pairs);
    counts.finish("rule table examples");
}

#[test]
fn the_probe_finds_a_break_the_engine_is_told_about() {
    // A pair the engine rightly calls breaking: the probe, run on it
    // directly, must find documents that show it.
    let old = Schema::from_value(json!({"type":"object","properties":{"a":{"type":"integer","maximum":10}}}))
        .unwrap();
    let new = Schema::from_value(json!({"type":"object","properties":{"a":{"type":"integer","maximum":5}}}))
        .unwrap();
    let s = soundness(&old, &new, 32, 3);
    assert!(!s.counterexamples.is_empty(), "{s:?}");
    let a = s.counterexamples[0]["a"].as_i64().expect("an integer a");
    assert!((6..=10).contains(&a), "{s:?}");
}

/// Generated pairs (two random schemas, and a schema with a widened copy
/// of itself): whenever the engine calls the change backward compatible,
/// the new schema accepts every generated document the old one accepts.
/// `PROPTEST_CASES` sets the number of pairs (64 by default).
#[test]
fn generated_pairs_called_compatible_accept_every_old_document() {
    let cases = common::proptest_cases(64);
    let mut runner = TestRunner::new(ProptestConfig::with_cases(cases));
    let totals = RefCell::new(Counts::default());
    let result = runner.run(
        &(
            common::arbitrary_schema(),
            common::arbitrary_schema(),
            1u64..u64::MAX,
        ),
        |(old, new, seed)| {
            let mut counts = Counts::default();
            counts.probe("generated", &old, &new, Mode::Backward, seed);
            // The new schema against a widened copy of itself gives a
            // compatible pair far more often than two unrelated schemas.
            let widened = json!({"anyOf": [new.clone(), old.clone()]});
            counts.probe("generated (widened)", &new, &widened, Mode::Backward, seed);
            let bugs = counts.bugs.join("\n");
            totals.borrow_mut().add(counts);
            prop_assert!(bugs.is_empty(), "{}", bugs);
            Ok(())
        },
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    let totals = totals.into_inner();
    assert!(totals.pairs > 0, "no generated pair was compatible");
    totals.finish("generated pairs");
}
