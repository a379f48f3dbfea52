//! `enum` and `const`: the listed values.

use super::{Sink, declare_rules};
use crate::model::Kind;
use serde_json::Value;

declare_rules! { "enums";
    ENUM_ARRAY_EXTENDED (true, true, Validation, Confluent)
        "Values were added to an `enum` (or a `const` became an `enum` that includes it)."
        r#"{"enum":["red"]}"# => r#"{"enum":["red","blue"]}"#;
    ENUM_ARRAY_NARROWED (false, false, Validation, Confluent)
        "Values were removed from an `enum` (or an `enum` became a `const` it included)."
        r#"{"enum":["red","blue"]}"# => r#"{"enum":["red"]}"#;
    ENUM_ARRAY_CHANGED (false, false, Validation, Confluent)
        "The `enum` or `const` values changed so that some old value is no longer listed."
        r#"{"const":"red"}"# => r#"{"const":"blue"}"#,
        note = "Accord also compares a `const` with an `enum` by their values; Confluent reports a type change.";
}

fn show(values: &[Value]) -> String {
    let parts: Vec<String> = values.iter().map(Value::to_string).collect();
    format!("[{}]", parts.join(", "))
}

fn subset(a: &[Value], b: &[Value]) -> bool {
    a.iter().all(|v| b.contains(v))
}

/// Two `enum`s.
pub(crate) fn check(out: &mut dyn Sink, a: &[Value], b: &[Value]) {
    let (a_in_b, b_in_a) = (subset(a, b), subset(b, a));
    if a_in_b && b_in_a {
        return;
    }
    let rule = if a_in_b {
        &ENUM_ARRAY_EXTENDED
    } else if b_in_a {
        &ENUM_ARRAY_NARROWED
    } else {
        &ENUM_ARRAY_CHANGED
    };
    out.emit(
        rule,
        Some("enum"),
        format!("'enum' changed from {} to {}", show(a), show(b)),
    );
}

/// Two `const`s.
pub(crate) fn check_const(out: &mut dyn Sink, a: &Value, b: &Value) {
    if a != b {
        out.emit(
            &ENUM_ARRAY_CHANGED,
            Some("const"),
            format!("'const' changed from {a} to {b}"),
        );
    }
}

/// A `const` against an `enum`, either way; `false` if the pair is not one.
pub(crate) fn cross(out: &mut dyn Sink, a: &Kind, b: &Kind) -> bool {
    match (a, b) {
        (Kind::Const(c), Kind::Enum(values)) => {
            if values.contains(c) {
                if values.iter().any(|v| v != c) {
                    out.emit(
                        &ENUM_ARRAY_EXTENDED,
                        Some("enum"),
                        format!("'const' {c} became 'enum' {}", show(values)),
                    );
                }
            } else {
                out.emit(
                    &ENUM_ARRAY_CHANGED,
                    Some("enum"),
                    format!("'const' {c} became 'enum' {} without it", show(values)),
                );
            }
            true
        }
        (Kind::Enum(values), Kind::Const(c)) => {
            let rule = if !values.contains(c) {
                &ENUM_ARRAY_CHANGED
            } else if values.iter().any(|v| v != c) {
                &ENUM_ARRAY_NARROWED
            } else {
                return true;
            };
            out.emit(
                rule,
                Some("const"),
                format!("'enum' {} became 'const' {c}", show(values)),
            );
            true
        }
        _ => false,
    }
}
