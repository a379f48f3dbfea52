//! Numeric keywords: bounds, `multipleOf`, and `integer` against `number`.

use super::{Sink, declare_rules, num, types};
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

/// A JSON number's text read exactly as `mantissa × 10^exponent`; `None`
/// for a negative or unreadable one.
fn decimal(text: &str) -> Option<(u128, i32)> {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.starts_with('-') || !(int.bytes().chain(frac.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut digits = format!("{int}{frac}");
    let mut exponent = exponent.checked_sub(i32::try_from(frac.len()).ok()?)?;
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
        exponent += 1;
    }
    Some((digits.parse().ok()?, exponent))
}

/// Whether `a` is an integer multiple of `b` (both JSON number texts),
/// decided exactly in decimal: 0.3 is a multiple of 0.1, though not in
/// binary floating point. `None` when the numbers are too large to decide.
pub(crate) fn divides(a: &str, b: &str) -> Option<bool> {
    let ((am, ae), (bm, be)) = (decimal(a)?, decimal(b)?);
    if bm == 0 {
        return Some(false);
    }
    let e = ae.min(be);
    let scale = |m: u128, by: i32| 10u128.checked_pow(u32::try_from(by).ok()?)?.checked_mul(m);
    Some(scale(am, ae - e)? % scale(bm, be - e)? == 0)
}

/// One side's bound on a number: its value, and whether the value itself is
/// excluded.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Limit {
    value: f64,
    exclusive: bool,
}

/// The tighter of an inclusive and an exclusive bound (`upper`: the lower
/// value; a tie goes to the exclusive one).
fn tighter(inclusive: Option<f64>, exclusive: Option<f64>, upper: bool) -> Option<Limit> {
    let i = inclusive.map(|value| Limit {
        value,
        exclusive: false,
    });
    let x = exclusive.map(|value| Limit {
        value,
        exclusive: true,
    });
    match (i, x) {
        (Some(i), Some(x)) => {
            let x_wins = if upper {
                x.value <= i.value
            } else {
                x.value >= i.value
            };
            Some(if x_wins { x } else { i })
        }
        (i, x) => i.or(x),
    }
}

/// How loose a bound is, to compare two: larger is looser for an upper
/// bound, stricter for a lower one. On integers a bound is the integer
/// it lets through last (`exclusiveMaximum: 10` is `maximum: 9`).
fn rank(l: Limit, upper: bool, integer: bool) -> (f64, u8) {
    let v = l.value;
    match (integer, upper) {
        (true, true) => (
            if l.exclusive && v.fract() == 0.0 {
                v - 1.0
            } else {
                v.floor()
            },
            0,
        ),
        (true, false) => (
            if l.exclusive && v.fract() == 0.0 {
                v + 1.0
            } else {
                v.ceil()
            },
            0,
        ),
        (false, true) => (v, u8::from(!l.exclusive)),
        (false, false) => (v, u8::from(l.exclusive)),
    }
}

/// The rules of one bound: (added, removed, increased, decreased) of the
/// inclusive keyword, then of the exclusive one.
struct BoundRules {
    keywords: [&'static str; 2],
    inclusive: [&'static super::RuleInfo; 4],
    exclusive: [&'static super::RuleInfo; 4],
}

/// Compares an upper (or lower) bound by what it lets through, whatever
/// keyword spells it: `maximum` with draft 4's `exclusiveMaximum: true` is
/// `exclusiveMaximum`, and on integers `exclusiveMaximum: 10` is `maximum: 9`.
fn bound_pair(
    out: &mut dyn Sink,
    old: Option<Limit>,
    new: Option<Limit>,
    upper: bool,
    integer: bool,
    r: &BoundRules,
) {
    let kw = |l: Limit| r.keywords[usize::from(l.exclusive)];
    let ids = |l: Limit| if l.exclusive { r.exclusive } else { r.inclusive };
    let (o, n) = match (old, new) {
        (None, None) => return,
        (None, Some(n)) => {
            return out.emit(
                ids(n)[0],
                Some(kw(n)),
                format!("'{}' added: {}", kw(n), num(n.value)),
            );
        }
        (Some(o), None) => {
            return out.emit(
                ids(o)[1],
                Some(kw(o)),
                format!("'{}' removed (was {})", kw(o), num(o.value)),
            );
        }
        (Some(o), Some(n)) => (o, n),
    };
    let (ro, rn) = (rank(o, upper, integer), rank(n, upper, integer));
    if ro == rn {
        return;
    }
    let looser = if upper { rn > ro } else { rn < ro };
    let message = if o.exclusive == n.exclusive {
        let verb = if n.value > o.value {
            "increased"
        } else {
            "decreased"
        };
        format!("'{}' {verb} from {} to {}", kw(n), num(o.value), num(n.value))
    } else {
        format!("'{}' {} became '{}' {}", kw(o), num(o.value), kw(n), num(n.value))
    };
    let rule = if o.exclusive != n.exclusive && o.value == n.value {
        // The same value, now excluded or admitted: the exclusive keyword
        // added or removed (draft 4's flag, or its number form).
        if n.exclusive {
            r.exclusive[0]
        } else {
            r.exclusive[1]
        }
    } else {
        // Up or down, in the new version's keyword.
        let [_, _, increased, decreased] = ids(n);
        if looser == upper { increased } else { decreased }
    };
    out.emit(rule, Some(kw(n)), message);
}

/// Compares two paired numeric schemas.
pub(crate) fn check(out: &mut dyn Sink, a: &NumberNode, b: &NumberNode) {
    let integer = a.integer && b.integer;
    bound_pair(
        out,
        tighter(a.maximum, a.exclusive_maximum, true),
        tighter(b.maximum, b.exclusive_maximum, true),
        true,
        integer,
        &BoundRules {
            keywords: ["maximum", "exclusiveMaximum"],
            inclusive: [
                &MAXIMUM_ADDED,
                &MAXIMUM_REMOVED,
                &MAXIMUM_INCREASED,
                &MAXIMUM_DECREASED,
            ],
            exclusive: [
                &EXCLUSIVE_MAXIMUM_ADDED,
                &EXCLUSIVE_MAXIMUM_REMOVED,
                &EXCLUSIVE_MAXIMUM_INCREASED,
                &EXCLUSIVE_MAXIMUM_DECREASED,
            ],
        },
    );
    bound_pair(
        out,
        tighter(a.minimum, a.exclusive_minimum, false),
        tighter(b.minimum, b.exclusive_minimum, false),
        false,
        integer,
        &BoundRules {
            keywords: ["minimum", "exclusiveMinimum"],
            inclusive: [
                &MINIMUM_ADDED,
                &MINIMUM_REMOVED,
                &MINIMUM_INCREASED,
                &MINIMUM_DECREASED,
            ],
            exclusive: [
                &EXCLUSIVE_MINIMUM_ADDED,
                &EXCLUSIVE_MINIMUM_REMOVED,
                &EXCLUSIVE_MINIMUM_INCREASED,
                &EXCLUSIVE_MINIMUM_DECREASED,
            ],
        },
    );
    let kw = "multipleOf";
    match (&a.multiple_of_text, &b.multiple_of_text) {
        (None, Some(n)) => out.emit(&MULTIPLE_OF_ADDED, Some(kw), format!("'{kw}' added: {n}")),
        (Some(o), None) => out.emit(
            &MULTIPLE_OF_REMOVED,
            Some(kw),
            format!("'{kw}' removed (was {o})"),
        ),
        (Some(o), Some(n)) if divides(o, n) != Some(true) || divides(n, o) != Some(true) => {
            let rule = if divides(n, o) == Some(true) {
                &MULTIPLE_OF_EXPANDED
            } else if divides(o, n) == Some(true) {
                &MULTIPLE_OF_REDUCED
            } else {
                &MULTIPLE_OF_CHANGED
            };
            out.emit(rule, Some(kw), format!("'{kw}' changed from {o} to {n}"));
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
    use super::divides;

    #[test]
    fn multiples_are_decided_in_decimal() {
        assert_eq!(divides("10", "5"), Some(true));
        assert_eq!(divides("0.5", "0.25"), Some(true));
        assert_eq!(divides("11", "10"), Some(false));
        assert_eq!(divides("1", "0"), Some(false));
        // 0.1 / 0.01 and 0.3 / 0.1 are not integers in binary floating point.
        assert_eq!(divides("0.1", "0.01"), Some(true));
        assert_eq!(divides("0.3", "0.1"), Some(true));
        assert_eq!(divides("0.01", "0.1"), Some(false));
        assert_eq!(divides("1e2", "25"), Some(true));
        assert_eq!(divides("1", "1e-3"), Some(true));
        assert_eq!(divides("1", "3"), Some(false));
        assert_eq!(divides("1e300", "7"), None);
    }
}
