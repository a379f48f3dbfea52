//! Hostile input gets an error or a verdict, never a panic, a stack overflow
//! or a hang. The tests run on threads with a 2 MiB stack, like the
//! registry's workers, so a recursion that is too deep would crash them.

#[path = "../benches/common/mod.rs"]
mod shapes;

use accord_compat::{Error, Limits, Mode, Policy, Schema, check, diff};
use serde_json::{Value, json};

fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(f)
        .expect("thread starts")
        .join()
        .expect("no panic")
}

#[test]
fn nesting_ten_thousand_deep_is_an_error_with_its_position() {
    on_small_stack(|| {
        let text = format!(
            "{}{}",
            "{\"not\":".repeat(10_000),
            "{}".to_string() + &"}".repeat(10_000)
        );
        let err = Schema::parse(&text).unwrap_err();
        assert_eq!(
            err,
            Error::TooDeep {
                max: 64,
                line: 1,
                column: 7 * 64 + 1
            }
        );
        assert!(err.is_limit());
        let arrays = "[".repeat(10_000);
        assert!(matches!(Schema::parse(&arrays), Err(Error::TooDeep { .. })));
    });
}

#[test]
fn a_twenty_megabyte_schema_is_refused_by_default_and_judged_when_allowed() {
    on_small_stack(|| {
        let big = json!({"type": "string", "description": "x".repeat(20 * 1024 * 1024)});
        let text = big.to_string();
        let err = Schema::parse(&text).unwrap_err();
        assert!(
            matches!(err, Error::LimitExceeded { limit: "schema size in bytes", max, .. } if max == 4 * 1024 * 1024),
            "{err}"
        );
        let roomy = Limits {
            max_bytes: 32 * 1024 * 1024,
            ..Limits::default()
        };
        let old = Schema::parse_with(&text, &roomy).expect("allowed by the raised limit");
        let new = Schema::parse(r#"{"type":"string"}"#).expect("valid");
        let findings = diff(&old, &new, Policy::Strict);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].rule, "DESCRIPTION_CHANGED");
    });
}

#[test]
fn a_ref_cycle_through_several_definitions_terminates() {
    on_small_stack(|| {
        let cyclic = |leaf: &str| {
            json!({
                "$ref": "#/definitions/a",
                "definitions": {
                    "a": {"type": "object", "properties": {"next": {"$ref": "#/definitions/b"}, "v": {"type": leaf}}},
                    "b": {"type": "array", "items": {"$ref": "#/definitions/c"}},
                    "c": {"anyOf": [{"$ref": "#/definitions/a"}, {"$ref": "#/definitions/b"}, {"type": "null"}]}
                }
            })
        };
        let a = Schema::from_value(cyclic("string")).expect("valid");
        let a2 = Schema::from_value(cyclic("string")).expect("valid");
        let b = Schema::from_value(cyclic("number")).expect("valid");
        assert!(diff(&a, &a2, Policy::Strict).is_empty());
        let report = check(&b, &[&a], Mode::Full, Policy::Strict);
        assert!(!report.compatible);
        assert!(
            report
                .findings
                .iter()
                .any(|f| f.rule == "TYPE_CHANGED" && f.old_path == "#/properties/v"),
            "{:?}",
            report.findings
        );
    });
}

#[test]
fn references_that_never_reach_a_schema_are_errors() {
    let pure = json!({"$ref": "#/definitions/a", "definitions": {
        "a": {"$ref": "#/definitions/b"}, "b": {"$ref": "#/definitions/c"}, "c": {"$ref": "#/definitions/a"}}});
    let err = Schema::from_value(pure).unwrap_err();
    assert!(matches!(err, Error::InvalidSchema { .. }), "{err}");
    assert!(err.to_string().contains("cycle"), "{err}");

    let mut defs = serde_json::Map::new();
    for i in 0..50 {
        defs.insert(
            format!("d{i}"),
            json!({"$ref": format!("#/definitions/d{}", i + 1)}),
        );
    }
    defs.insert("d50".into(), json!({"type": "string"}));
    let chain = json!({"$ref": "#/definitions/d0", "definitions": defs});
    let err = Schema::from_value(chain).unwrap_err();
    assert!(
        matches!(
            err,
            Error::LimitExceeded {
                limit: "$ref hops",
                max: 32,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn references_outside_the_document_are_errors_naming_ref_and_place() {
    for (schema, reference) in [
        (
            json!({"properties": {"a": {"$ref": "http://example.com/other.json"}}}),
            "http://example.com/other.json",
        ),
        (
            json!({"properties": {"a": {"$ref": "other.json#/x"}}}),
            "other.json#/x",
        ),
        (
            json!({"properties": {"a": {"$ref": "#/definitions/missing"}}}),
            "#/definitions/missing",
        ),
        (
            json!({"enum": [1], "properties": {"a": {"$ref": "#/enum/0"}}}),
            "#/enum/0",
        ),
        (
            json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "properties": {"a": {"$ref": "#nowhere"}}}),
            "#nowhere",
        ),
    ] {
        match Schema::from_value(schema.clone()) {
            Err(Error::UnresolvedReference {
                reference: r,
                location,
                ..
            }) => {
                assert_eq!(r, reference);
                assert_eq!(location, "#/properties/a/$ref");
            }
            other => panic!("{schema}: {other:?}"),
        }
    }
}

#[test]
fn bad_documents_get_clear_errors() {
    let err = Schema::parse("{\"type\": \"string\",\n  \"maxLength\": }").unwrap_err();
    assert!(matches!(err, Error::InvalidJson { line: 2, .. }), "{err}");
    let err = Schema::parse(r#"{"type": "strin"}"#).unwrap_err();
    assert!(
        matches!(err, Error::InvalidSchema { ref path, .. } if path == "#/type"),
        "{err}"
    );
    // An unknown `$schema` is refused only when the caller asks for it
    // (tests/reading.rs reads it with a warning).
    let strict = accord_compat::ParseOptions {
        strict_schema: true,
        ..accord_compat::ParseOptions::default()
    };
    let err =
        Schema::parse_with_options(r#"{"$schema": "http://example.com/my-draft"}"#, &strict).unwrap_err();
    assert!(err.to_string().contains("unknown `$schema`"), "{err}");
    let err = Schema::parse("42").unwrap_err();
    assert!(matches!(err, Error::InvalidSchema { .. }), "{err}");
}

/// `oneOf`s of `oneOf`s compare every pair at every level: the work bound
/// stops them with a conservative verdict instead of running for hours.
#[test]
fn combinatorial_schemas_stop_at_the_work_bound() {
    on_small_stack(|| {
        fn nest(depth: usize, width: usize, leaf: &str) -> Value {
            if depth == 0 {
                return json!({"type": leaf});
            }
            let subs: Vec<Value> = (0..width)
                .map(|i| {
                    let mut s = nest(depth - 1, width, leaf);
                    s["title"] = json!(format!("t{i}"));
                    s
                })
                .collect();
            json!({"oneOf": subs})
        }
        let old = Schema::from_value(nest(4, 8, "string")).expect("valid");
        let new = Schema::from_value(nest(4, 8, "number")).expect("valid");
        let findings = diff(&old, &new, Policy::Strict);
        assert!(
            findings
                .iter()
                .any(|f| f.rule == "COMPARISON_LIMIT_EXCEEDED" && !f.compatible),
            "{findings:?}"
        );
    });
}

/// A union of references to itself doubles the ways down at each level:
/// asking whether it accepts every value, or whether it accepts a listed
/// value, ends within a bound. (What such a schema accepts beyond strings
/// is not well defined; only that the comparison ends, with findings, is
/// asserted.)
#[test]
fn a_union_of_references_to_itself_ends() {
    on_small_stack(|| {
        // Two ways back to the root (a repeated subschema would count once).
        let selfish = json!({
            "definitions": {"again": {"$ref": "#"}},
            "anyOf": [{"$ref": "#"}, {"$ref": "#/definitions/again"}, {"type": "string"}]
        });
        for other in [json!({}), json!({"enum": ["a", 1]}), json!({"type": "boolean"})] {
            let (a, b) = (
                Schema::from_value(selfish.clone()).expect("valid"),
                Schema::from_value(other.clone()).expect("valid"),
            );
            for (old, new) in [(&a, &b), (&b, &a)] {
                let r = check(new, &[old], Mode::Full, Policy::Strict);
                assert!(!r.findings.is_empty(), "{other}");
            }
        }
    });
}

/// A chain of distinct definitions, each nesting the next one level deeper,
/// makes the comparison as deep as the chain is long; the depth bound stops it
/// before the stack runs out.
#[test]
fn deep_chains_of_definitions_stop_at_the_depth_bound() {
    on_small_stack(|| {
        let chain = |leaf: &str| {
            let mut defs = serde_json::Map::new();
            for i in 0..2_000 {
                defs.insert(
                    format!("d{i}"),
                    json!({"type": "object", "properties": {"n": {"$ref": format!("#/definitions/d{}", i + 1)}}}),
                );
            }
            defs.insert("d2000".into(), json!({"type": leaf}));
            json!({"$ref": "#/definitions/d0", "definitions": defs})
        };
        let old = Schema::from_value(chain("string")).expect("valid");
        let new = Schema::from_value(chain("number")).expect("valid");
        let findings = diff(&old, &new, Policy::Strict);
        assert!(
            findings.iter().any(|f| f.rule == "COMPARISON_LIMIT_EXCEEDED"),
            "{findings:?}"
        );
        let same = Schema::from_value(chain("string")).expect("valid");
        let findings = diff(&old, &same, Policy::Strict);
        assert!(
            findings.iter().all(|f| f.rule == "COMPARISON_LIMIT_EXCEEDED"),
            "{findings:?}"
        );
    });
}

/// The shapes of issue 18 that cost tens of seconds of CPU each, at the
/// size the issue measured them: each must now complete (no timing is
/// asserted; `benches/hostile.rs` measures their growth).
mod crafted {
    use super::*;
    use accord_compat::{Budget, Options, check_with, diff_with};
    use shapes::{big_enum, fan_out, patterns, properties};
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    use std::time::{Duration, Instant};

    fn schema(v: Value) -> Schema {
        Schema::from_value(v).expect("a valid schema")
    }

    fn quick() -> Options {
        Options {
            witness_time: Duration::from_millis(50),
            ..Options::default()
        }
    }

    #[test]
    fn a_hundred_thousand_value_enum_against_its_reverse_is_no_change() {
        on_small_stack(|| {
            let (old, new) = (schema(big_enum(100_000, false)), schema(big_enum(100_000, true)));
            assert!(diff(&old, &new, Policy::Strict).is_empty());
            let mut fewer = big_enum(100_000, true);
            fewer["enum"].as_array_mut().expect("an array").pop();
            let report = diff_with(&old, &schema(fewer), Policy::Strict, &quick()).expect("completes");
            assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
            assert_eq!(report.findings[0].rule, "ENUM_ARRAY_NARROWED");
            assert!(
                report.findings[0].message.len() < 400,
                "{}",
                report.findings[0].message
            );
        });
    }

    #[test]
    fn ten_thousand_removed_properties_against_ten_thousand_added_patterns_complete() {
        on_small_stack(|| {
            let (old, new) = (schema(properties(10_000)), schema(patterns(10_000)));
            let report = diff_with(&old, &new, Policy::Strict, &quick()).expect("completes");
            // Each removed property is still allowed, with the same schema,
            // by the one pattern that matches its name.
            let covered = report
                .findings
                .iter()
                .filter(|f| f.rule == "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
                .count();
            assert_eq!(covered, 10_000);
            assert!(
                report.findings.iter().all(|f| f.compatible),
                "{:?}",
                &report.findings[..3]
            );
        });
    }

    #[test]
    fn a_reader_with_forty_thousand_patterns_completes() {
        on_small_stack(|| {
            let writer = schema(json!({"type": "object", "properties": {"p7": {"type": "string"}}}));
            let reader = schema(patterns(40_000));
            // A consumer check: what the writer accepts, read with the reader.
            // The reader closes the object: every name but the patterns' is refused.
            let report =
                check_with(&reader, &[&writer], Mode::Backward, Policy::Strict, &quick()).expect("completes");
            assert!(!report.compatible);
            assert_eq!(
                report
                    .findings
                    .iter()
                    .filter(|f| f.rule == "PATTERN_PROPERTY_ADDED")
                    .count(),
                40_000
            );
        });
    }

    #[test]
    fn reference_fan_out_is_compared_once_per_definition() {
        on_small_stack(|| {
            // 2^40 paths reach the leaf definition: each pair of definitions
            // is compared once, and the leaf's change reported once, at the
            // shortest path (`a` all the way: the first in path order).
            let (old, new) = (schema(fan_out(40, "string")), schema(fan_out(40, "number")));
            let report =
                check_with(&new, &[&old], Mode::Backward, Policy::Strict, &quick()).expect("completes");
            let place = format!("#{}", "/properties/a".repeat(40));
            let found: Vec<_> = report
                .findings
                .iter()
                .map(|f| (f.rule.as_str(), f.old_path.as_str()))
                .collect();
            assert_eq!(found, [("TYPE_CHANGED", place.as_str())]);
            assert!(!report.compatible);
            let (old, new) = (schema(fan_out(6, "string")), schema(fan_out(6, "number")));
            // Time enough for the witness on a loaded machine.
            let patient = Options {
                witness_time: Duration::from_secs(10),
                ..Options::default()
            };
            let report = diff_with(&old, &new, Policy::Strict, &patient).expect("completes");
            assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
            // The document that shows it: old accepts a string down the `a`s.
            let witness = report.findings[0].witness.as_ref().expect("a witness");
            let mut leaf = witness;
            for _ in 0..6 {
                leaf = &leaf["a"];
            }
            assert!(leaf.is_string(), "{witness}");
        });
    }

    #[test]
    fn a_deadline_or_a_cancellation_stops_the_comparison() {
        on_small_stack(|| {
            let (old, new) = (schema(properties(20_000)), schema(patterns(20_000)));
            let past = Options {
                budget: Budget::until(Instant::now()),
                ..Options::default()
            };
            let err = diff_with(&old, &new, Policy::Strict, &past).unwrap_err();
            assert_eq!(
                err,
                Error::Budget {
                    what: "deadline",
                    limit: "the call's deadline passed".into()
                }
            );
            let flag = Arc::new(AtomicBool::new(true));
            let cancelled = Options {
                budget: Budget::default().with_cancel(flag),
                ..Options::default()
            };
            let err = check_with(&new, &[&old], Mode::Full, Policy::Strict, &cancelled).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::Budget {
                        what: "cancelled",
                        ..
                    }
                ),
                "{err}"
            );
        });
    }

    #[test]
    fn without_time_for_witnesses_every_breaking_finding_says_why_it_has_none() {
        let old = schema(
            json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}}),
        );
        let new = schema(
            json!({"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "string"}}}),
        );
        let none = Options {
            witness_time: Duration::ZERO,
            ..Options::default()
        };
        let report = check_with(&new, &[&old], Mode::Backward, Policy::Strict, &none).expect("completes");
        assert_eq!(report.witnesses_timed_out, 2);
        for f in &report.findings {
            assert!(f.witness.is_none());
            assert!(
                f.witness_note.as_deref().is_some_and(|n| n.contains("time")),
                "{f:?}"
            );
        }
    }
}
