//! String keywords: `minLength`, `maxLength`, `pattern`, `format`.

use super::{Sink, bound, declare_rules, types};
use crate::model::StringNode;

declare_rules! { "string";
    MAX_LENGTH_ADDED (false, false, Validation, Confluent)
        "A `maxLength` was added: longer strings are rejected."
        r#"{"type":"string"}"# => r#"{"type":"string","maxLength":10}"#;
    MAX_LENGTH_REMOVED (true, true, Validation, Confluent)
        "The `maxLength` was removed."
        r#"{"type":"string","maxLength":10}"# => r#"{"type":"string"}"#;
    MAX_LENGTH_INCREASED (true, true, Validation, Confluent)
        "The `maxLength` was raised."
        r#"{"type":"string","maxLength":10}"# => r#"{"type":"string","maxLength":12}"#;
    MAX_LENGTH_DECREASED (false, false, Validation, Confluent)
        "The `maxLength` was lowered: strings between the two lengths are rejected."
        r#"{"type":"string","maxLength":12}"# => r#"{"type":"string","maxLength":10}"#;
    MIN_LENGTH_ADDED (false, false, Validation, Confluent)
        "A `minLength` was added: shorter strings are rejected."
        r#"{"type":"string"}"# => r#"{"type":"string","minLength":1}"#;
    MIN_LENGTH_REMOVED (true, true, Validation, Confluent)
        "The `minLength` was removed."
        r#"{"type":"string","minLength":1}"# => r#"{"type":"string"}"#;
    MIN_LENGTH_INCREASED (false, false, Validation, Confluent)
        "The `minLength` was raised: strings between the two lengths are rejected."
        r#"{"type":"string","minLength":1}"# => r#"{"type":"string","minLength":3}"#;
    MIN_LENGTH_DECREASED (true, true, Validation, Confluent)
        "The `minLength` was lowered."
        r#"{"type":"string","minLength":3}"# => r#"{"type":"string","minLength":1}"#;
    PATTERN_ADDED (false, false, Validation, Confluent)
        "A `pattern` was added: strings that do not match are rejected."
        r#"{"type":"string"}"# => r#"{"type":"string","pattern":"^[a-z]+$"}"#;
    PATTERN_REMOVED (true, true, Validation, Confluent)
        "The `pattern` was removed."
        r#"{"type":"string","pattern":"^[a-z]+$"}"# => r#"{"type":"string"}"#;
    PATTERN_CHANGED (false, false, Validation, Confluent)
        "The `pattern` changed; Accord does not decide regular-expression inclusion, so any change counts as breaking."
        r#"{"type":"string","pattern":"^[a-z]+$"}"# => r#"{"type":"string","pattern":"^[a-z0-9]+$"}"#,
        no_witness = "any change of the expression is reported; when the new one matches every string the old one did, no document shows a break.";
    FORMAT_ADDED (false, false, Validation, Accord)
        "A `format` was added: validators that assert formats reject strings that do not conform."
        r#"{"type":"string"}"# => r#"{"type":"string","format":"email"}"#,
        note = "Confluent does not compare `format`. Accord treats it as an assertion, the stricter of the two readings the drafts allow.";
    FORMAT_REMOVED (true, true, Validation, Accord)
        "The `format` was removed."
        r#"{"type":"string","format":"email"}"# => r#"{"type":"string"}"#,
        note = "Confluent does not compare `format`.";
    FORMAT_CHANGED (false, false, Validation, Accord)
        "The `format` changed to another one."
        r#"{"type":"string","format":"date"}"# => r#"{"type":"string","format":"date-time"}"#,
        note = "Confluent does not compare `format`.";
}

/// Compares two paired string schemas.
pub(crate) fn check(out: &mut dyn Sink, a: &StringNode, b: &StringNode) {
    bound(
        out,
        "maxLength",
        a.max_length,
        b.max_length,
        [
            &MAX_LENGTH_ADDED,
            &MAX_LENGTH_REMOVED,
            &MAX_LENGTH_INCREASED,
            &MAX_LENGTH_DECREASED,
        ],
    );
    bound(
        out,
        "minLength",
        a.min_length,
        b.min_length,
        [
            &MIN_LENGTH_ADDED,
            &MIN_LENGTH_REMOVED,
            &MIN_LENGTH_INCREASED,
            &MIN_LENGTH_DECREASED,
        ],
    );
    for (kw, x, y, [added, removed, changed]) in [
        (
            "pattern",
            &a.pattern,
            &b.pattern,
            [&PATTERN_ADDED, &PATTERN_REMOVED, &PATTERN_CHANGED],
        ),
        (
            "format",
            &a.format,
            &b.format,
            [&FORMAT_ADDED, &FORMAT_REMOVED, &FORMAT_CHANGED],
        ),
    ] {
        match (x, y) {
            (None, Some(n)) => out.emit(added, Some(kw), format!("'{kw}' added: {n:?}")),
            (Some(o), None) => out.emit(removed, Some(kw), format!("'{kw}' removed (was {o:?})")),
            (Some(o), Some(n)) if o != n => {
                out.emit(changed, Some(kw), format!("'{kw}' changed from {o:?} to {n:?}"))
            }
            _ => {}
        }
    }
    types::required_type(out, "string", a.required_type, b.required_type);
}
