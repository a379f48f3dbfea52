//! How documents are read (issue 12, item 5): a `$schema` Accord does not
//! know is read in the default draft with a warning (or refused when the
//! caller asks), and ECMA-262 patterns the `regex` crate cannot decide
//! never make a schema unusable: they are compared as text, matched against
//! names with caution, and a warning says so.

use accord_compat::{Draft, Error, Limits, Mode, ParseOptions, Policy, Schema, check, diff};
use serde_json::json;

#[test]
fn an_unknown_schema_uri_is_read_in_the_default_draft_with_a_warning() {
    let text = r#"{"$schema": "https://example.com/schemas/v3", "type": "number", "maximum": 10}"#;
    let schema = Schema::parse(text).expect("read, not refused");
    assert_eq!(schema.draft(), Draft::D7);
    let warnings = schema.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].path, "#/$schema");
    assert!(
        warnings[0].message.contains("https://example.com/schemas/v3"),
        "{}",
        warnings[0]
    );
    assert!(warnings[0].message.contains("draft 7"), "{}", warnings[0]);

    // The default draft decides: in draft 4, `exclusiveMaximum` is a flag.
    let d4 = ParseOptions {
        limits: Limits {
            default_draft: Draft::D4,
            ..Limits::default()
        },
        ..ParseOptions::default()
    };
    let flagged = r#"{"$schema": "urn:unknown", "type": "number", "maximum": 10, "exclusiveMaximum": true}"#;
    assert_eq!(
        Schema::parse_with_options(flagged, &d4).expect("draft 4").draft(),
        Draft::D4
    );

    // Strict: refused, naming the place and the drafts Accord reads.
    let strict = ParseOptions {
        strict_schema: true,
        ..ParseOptions::default()
    };
    match Schema::parse_with_options(text, &strict) {
        Err(Error::InvalidSchema { path, message }) => {
            assert_eq!(path, "#/$schema");
            assert!(message.contains("2020-12"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // A known `$schema` gives no warning.
    let known = Schema::parse(r#"{"$schema": "http://json-schema.org/draft-07/schema#"}"#).unwrap();
    assert!(known.warnings().is_empty());
}

#[test]
fn ecma_patterns_keep_a_schema_usable() {
    // Look-ahead, `\d`, `\p{L}` and back-references are ECMA-262; the
    // validator's meta-schema check accepts them all.
    // `[^]` (any character) is ECMA-262 too, though neither the regex crate
    // nor the validator's own engine compiles it.
    for pattern in [
        r"^(?!tmp_)[a-z]+$",
        r"^\d{4}-\d{2}$",
        r"^\p{L}+$",
        r"^(a+)\1$",
        r"^[^]$",
    ] {
        let v = json!({"type": "object", "properties": {"code": {"type": "string", "pattern": pattern}},
                       "patternProperties": {pattern: {"type": "integer"}}});
        let schema = Schema::from_value(v.clone()).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        let undecided = pattern.contains("(?!") || pattern.contains(r"\1") || pattern.contains("[^]");
        let warned: Vec<&str> = schema.warnings().iter().map(|w| w.path.as_str()).collect();
        if undecided {
            assert_eq!(warned.len(), 2, "{pattern}: {warned:?}");
            assert!(warned.contains(&"#/properties/code/pattern"), "{warned:?}");
            assert!(
                schema.warnings()[0].message.contains("compared as text")
                    || schema.warnings()[1].message.contains("compared as text")
            );
        } else {
            assert!(warned.is_empty(), "{pattern}: {warned:?}");
        }
        // Compared with itself: nothing; with another pattern: a change.
        assert!(diff(&schema, &Schema::from_value(v.clone()).unwrap(), Policy::Strict).is_empty());
        let mut other = v.clone();
        other["properties"]["code"]["pattern"] = json!("^x$");
        let found = diff(&schema, &Schema::from_value(other).unwrap(), Policy::Strict);
        assert!(found.iter().any(|f| f.rule == "PATTERN_CHANGED"), "{found:?}");
    }
    // Not ECMA-262 (an inline flag is Rust or PCRE syntax): refused, with
    // the place.
    let err = Schema::from_value(json!({"type": "string", "pattern": "(?i)abc"})).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidSchema { path, .. } if path == "#/pattern"),
        "{err}"
    );
}

#[test]
fn an_undecided_pattern_property_is_taken_cautiously() {
    // `tmp_x` is removed from a closed object that has a look-ahead
    // pattern: whether the pattern still allows the name is not decided, so
    // the removal cannot be proven covered.
    let old = Schema::from_value(json!({"type": "object", "additionalProperties": false,
        "properties": {"tmp_x": {"type": "string"}},
        "patternProperties": {"^(?!tmp_)": {"type": "string"}}}))
    .unwrap();
    let new = Schema::from_value(json!({"type": "object", "additionalProperties": false,
        "patternProperties": {"^(?!tmp_)": {"type": "string"}}}))
    .unwrap();
    let report = check(&new, &[&old], Mode::Backward, Policy::Strict);
    assert!(!report.compatible, "{:?}", report.findings);
    // ... while a decidable pattern that matches the name covers it.
    let old = Schema::from_value(json!({"type": "object", "additionalProperties": false,
        "properties": {"x_1": {"type": "string"}}, "patternProperties": {"^x_\\d$": {"type": "string"}}}))
    .unwrap();
    let new = Schema::from_value(json!({"type": "object", "additionalProperties": false,
        "patternProperties": {"^x_\\d$": {"type": "string"}}}))
    .unwrap();
    assert!(check(&new, &[&old], Mode::Backward, Policy::Strict).compatible);
}
