//! Hostile input gets an error or a verdict, never a panic, a stack overflow
//! or a hang. The tests run on threads with a 2 MiB stack, like the
//! registry's workers, so a recursion that is too deep would crash them.

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
    let err = Schema::parse(r#"{"$schema": "http://example.com/my-draft"}"#).unwrap_err();
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
