//! `enum` and `const`: the listed values.

use super::{Sink, declare_rules};
use crate::model::Kind;
use foldhash::HashSet;
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

/// The values for a message: the first few, and how many there are.
pub(crate) fn show(values: &[Value]) -> String {
    const SHOWN: usize = 8;
    let parts: Vec<String> = values.iter().take(SHOWN).map(Value::to_string).collect();
    if values.len() > SHOWN {
        format!("[{}, … ({} values)]", parts.join(", "), values.len())
    } else {
        format!("[{}]", parts.join(", "))
    }
}

/// A value's text under JSON Schema equality: numbers by their
/// mathematical value (`1` and `1.0` are one value), object keys in order.
pub(crate) fn canonical(v: &Value, out: &mut String) {
    use std::fmt::Write;
    match v {
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => {
                let _ = write!(out, "{i}");
            }
            (None, Some(u), _) => {
                let _ = write!(out, "{u}");
            }
            (None, None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                let _ = write!(out, "{}", f as i64);
            }
            _ => {
                let _ = write!(out, "{n}");
            }
        },
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(x, out);
            }
            out.push(']');
        }
        // serde_json's map is sorted by key.
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{}:", Value::String(k.clone()));
                canonical(x, out);
            }
            out.push('}');
        }
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// A value's canonical text, its identity under JSON Schema equality.
pub(crate) fn key(v: &Value) -> String {
    let mut s = String::new();
    canonical(v, &mut s);
    s
}

/// The values as a set, by their canonical text: comparing two lists costs
/// their length, not its square.
fn set(values: &[Value]) -> HashSet<String> {
    values.iter().map(key).collect()
}

fn subset(a: &HashSet<String>, b: &HashSet<String>) -> bool {
    a.len() <= b.len() && a.iter().all(|v| b.contains(v))
}

/// Two `enum`s.
pub(crate) fn check(out: &mut dyn Sink, a: &[Value], b: &[Value]) {
    // The same list is the same set: most enums of a revision are unchanged.
    if a == b {
        return;
    }
    let (sa, sb) = (set(a), set(b));
    let (a_in_b, b_in_a) = (subset(&sa, &sb), subset(&sb, &sa));
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
    if a != b && key(a) != key(b) {
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
            let (c_key, values_set) = (key(c), set(values));
            if values_set.contains(&c_key) {
                if values_set.len() > 1 {
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
            let (c_key, values_set) = (key(c), set(values));
            let rule = if !values_set.contains(&c_key) {
                &ENUM_ARRAY_CHANGED
            } else if values_set.len() > 1 {
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

#[cfg(test)]
mod tests {
    use super::key;
    use serde_json::json;

    #[test]
    fn numbers_are_one_value_whatever_their_spelling() {
        assert_eq!(key(&json!(1)), key(&json!(1.0)));
        assert_eq!(key(&json!({"a": [1.0, "x"]})), key(&json!({"a": [1, "x"]})));
        assert_ne!(key(&json!(1)), key(&json!("1")));
        assert_ne!(key(&json!(0.5)), key(&json!(1)));
    }
}
