//! Numeric keywords: bounds, `multipleOf`, and `integer` against `number`.

use super::{Sink, bound, declare_rules, num, types};
use crate::model::NumberNode;

declare_rules! { "number";
    MAXIMUM_ADDED (false, false, Validation, Confluent)
        "A `maximum` was added."
        r#"{"type":"number"}"# => r#"{"type":"number","maximum":10}"#;
    MAXIMUM_REMOVED (true, true, Validation, Confluent)
        "The `maximum` was removed."
        r#"{"type":"number","maximum":10}"# => r#"{"type":"number"}"#;
    MAXIMUM_INCREASED (true, true, Validation, Confluent)
        "The `maximum` was raised."
        r#"{"type":"number","maximum":10}"# => r#"{"type":"number","maximum":11}"#;
    MAXIMUM_DECREASED (false, false, Validation, Confluent)
        "The `maximum` was lowered."
        r#"{"type":"number","maximum":11}"# => r#"{"type":"number","maximum":10}"#;
    MINIMUM_ADDED (false, false, Validation, Confluent)
        "A `minimum` was added."
        r#"{"type":"number"}"# => r#"{"type":"number","minimum":0}"#;
    MINIMUM_REMOVED (true, true, Validation, Confluent)
        "The `minimum` was removed."
        r#"{"type":"number","minimum":0}"# => r#"{"type":"number"}"#;
    MINIMUM_INCREASED (false, false, Validation, Confluent)
        "The `minimum` was raised."
        r#"{"type":"number","minimum":0}"# => r#"{"type":"number","minimum":1}"#;
    MINIMUM_DECREASED (true, true, Validation, Confluent)
        "The `minimum` was lowered."
        r#"{"type":"number","minimum":1}"# => r#"{"type":"number","minimum":0}"#;
    EXCLUSIVE_MAXIMUM_ADDED (false, false, Validation, Confluent)
        "An `exclusiveMaximum` was added (draft 4: `exclusiveMaximum: true` made `maximum` exclusive)."
        r#"{"type":"number"}"# => r#"{"type":"number","exclusiveMaximum":10}"#,
        note = "Draft 4's boolean form is read as the number form; Confluent ignores the draft-4 flag.";
    EXCLUSIVE_MAXIMUM_REMOVED (true, true, Validation, Confluent)
        "The `exclusiveMaximum` was removed."
        r#"{"type":"number","exclusiveMaximum":10}"# => r#"{"type":"number"}"#;
    EXCLUSIVE_MAXIMUM_INCREASED (true, true, Validation, Confluent)
        "The `exclusiveMaximum` was raised."
        r#"{"type":"number","exclusiveMaximum":10}"# => r#"{"type":"number","exclusiveMaximum":20}"#;
    EXCLUSIVE_MAXIMUM_DECREASED (false, false, Validation, Confluent)
        "The `exclusiveMaximum` was lowered."
        r#"{"type":"number","exclusiveMaximum":20}"# => r#"{"type":"number","exclusiveMaximum":10}"#,
        note = "Confluent compares the old exclusive maximum with the new inclusive `maximum` here; Accord compares the two exclusive maximums.";
    EXCLUSIVE_MINIMUM_ADDED (false, false, Validation, Confluent)
        "An `exclusiveMinimum` was added."
        r#"{"type":"number"}"# => r#"{"type":"number","exclusiveMinimum":0}"#;
    EXCLUSIVE_MINIMUM_REMOVED (true, true, Validation, Confluent)
        "The `exclusiveMinimum` was removed."
        r#"{"type":"number","exclusiveMinimum":0}"# => r#"{"type":"number"}"#;
    EXCLUSIVE_MINIMUM_INCREASED (false, false, Validation, Confluent)
        "The `exclusiveMinimum` was raised."
        r#"{"type":"number","exclusiveMinimum":0}"# => r#"{"type":"number","exclusiveMinimum":5}"#;
    EXCLUSIVE_MINIMUM_DECREASED (true, true, Validation, Confluent)
        "The `exclusiveMinimum` was lowered."
        r#"{"type":"number","exclusiveMinimum":5}"# => r#"{"type":"number","exclusiveMinimum":0}"#;
    MULTIPLE_OF_ADDED (false, false, Validation, Confluent)
        "A `multipleOf` was added."
        r#"{"type":"number"}"# => r#"{"type":"number","multipleOf":5}"#;
    MULTIPLE_OF_REMOVED (true, true, Validation, Confluent)
        "The `multipleOf` was removed."
        r#"{"type":"number","multipleOf":5}"# => r#"{"type":"number"}"#;
    MULTIPLE_OF_EXPANDED (false, false, Validation, Confluent)
        "The `multipleOf` became a multiple of the old one (5 to 10): fewer numbers pass."
        r#"{"type":"number","multipleOf":5}"# => r#"{"type":"number","multipleOf":10}"#;
    MULTIPLE_OF_REDUCED (true, true, Validation, Confluent)
        "The `multipleOf` became a divisor of the old one (10 to 2): every old number still passes."
        r#"{"type":"number","multipleOf":10}"# => r#"{"type":"number","multipleOf":2}"#,
        note = "Accord also handles fractional divisors (0.5 to 0.25); Confluent truncates them to integers.";
    MULTIPLE_OF_CHANGED (false, false, Validation, Confluent)
        "The `multipleOf` changed to a value that is neither a multiple nor a divisor of the old one."
        r#"{"type":"number","multipleOf":10}"# => r#"{"type":"number","multipleOf":11}"#;
}

/// Whether `a` is an integer multiple of `b`.
fn is_multiple(a: f64, b: f64) -> bool {
    if b == 0.0 {
        return false;
    }
    let r = a / b;
    (r - r.round()).abs() <= 1e-9 * r.abs().max(1.0)
}

/// Compares two paired numeric schemas.
pub(crate) fn check(out: &mut dyn Sink, a: &NumberNode, b: &NumberNode) {
    bound(
        out,
        "maximum",
        a.maximum,
        b.maximum,
        [
            &MAXIMUM_ADDED,
            &MAXIMUM_REMOVED,
            &MAXIMUM_INCREASED,
            &MAXIMUM_DECREASED,
        ],
    );
    bound(
        out,
        "minimum",
        a.minimum,
        b.minimum,
        [
            &MINIMUM_ADDED,
            &MINIMUM_REMOVED,
            &MINIMUM_INCREASED,
            &MINIMUM_DECREASED,
        ],
    );
    bound(
        out,
        "exclusiveMaximum",
        a.exclusive_maximum,
        b.exclusive_maximum,
        [
            &EXCLUSIVE_MAXIMUM_ADDED,
            &EXCLUSIVE_MAXIMUM_REMOVED,
            &EXCLUSIVE_MAXIMUM_INCREASED,
            &EXCLUSIVE_MAXIMUM_DECREASED,
        ],
    );
    bound(
        out,
        "exclusiveMinimum",
        a.exclusive_minimum,
        b.exclusive_minimum,
        [
            &EXCLUSIVE_MINIMUM_ADDED,
            &EXCLUSIVE_MINIMUM_REMOVED,
            &EXCLUSIVE_MINIMUM_INCREASED,
            &EXCLUSIVE_MINIMUM_DECREASED,
        ],
    );
    let kw = "multipleOf";
    match (a.multiple_of, b.multiple_of) {
        (None, Some(n)) => out.emit(&MULTIPLE_OF_ADDED, Some(kw), format!("'{kw}' added: {}", num(n))),
        (Some(o), None) => out.emit(
            &MULTIPLE_OF_REMOVED,
            Some(kw),
            format!("'{kw}' removed (was {})", num(o)),
        ),
        (Some(o), Some(n)) if o != n => {
            let rule = if is_multiple(n, o) {
                &MULTIPLE_OF_EXPANDED
            } else if is_multiple(o, n) {
                &MULTIPLE_OF_REDUCED
            } else {
                &MULTIPLE_OF_CHANGED
            };
            out.emit(
                rule,
                Some(kw),
                format!("'{kw}' changed from {} to {}", num(o), num(n)),
            );
        }
        _ => {}
    }
    match (a.integer, b.integer) {
        (true, false) => out.emit(
            &types::TYPE_EXTENDED,
            None,
            "type changed from integer to number".into(),
        ),
        (false, true) => out.emit(
            &types::TYPE_NARROWED,
            None,
            "type changed from number to integer".into(),
        ),
        _ => types::required_type(out, "number", a.required_type, b.required_type),
    }
}

#[cfg(test)]
mod tests {
    use super::is_multiple;

    #[test]
    fn multiples_work_for_fractions() {
        assert!(is_multiple(10.0, 5.0));
        assert!(is_multiple(0.5, 0.25));
        assert!(!is_multiple(11.0, 10.0));
        assert!(!is_multiple(1.0, 0.0));
    }
}
