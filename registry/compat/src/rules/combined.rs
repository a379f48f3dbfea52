//! `allOf`, `anyOf`, `oneOf` (and `type: [..]`, read as an `anyOf`), `not`,
//! and `if`/`then`/`else`.

use super::{RuleInfo, Sink, declare_rules};
use crate::model::Criterion;

declare_rules! { "combined";
    COMBINED_TYPE_EXTENDED (true, true, Validation, Confluent)
        "The combining keyword changed to one that accepts at least as much (to `anyOf`, or between one-element forms)."
        r#"{"oneOf":[{"type":"string"},{"type":"number"}]}"# => r#"{"anyOf":[{"type":"string"},{"type":"number"}]}"#;
    COMBINED_TYPE_CHANGED (false, false, Validation, Confluent)
        "The combining keyword changed to one that may accept less (e.g. `anyOf` to `oneOf` of alternatives that may overlap)."
        r#"{"anyOf":[{"type":"integer"},{"type":"number","minimum":0}]}"# => r#"{"oneOf":[{"type":"integer"},{"type":"number","minimum":0}]}"#,
        note = "Confluent reports every change from `anyOf` to `oneOf`. When the alternatives of the `oneOf` exclude each other (other types, other listed values, a required property with values that differ), it accepts what their `anyOf` accepts: Accord then compares the alternatives as before and reports this rule only if that comparison finds a break.",
        no_witness = "the alternatives may exclude each other in ways Accord does not decide (patterns, bounds), so that no document matches two of them and `anyOf` and `oneOf` accept the same documents.";
    PRODUCT_TYPE_EXTENDED (false, false, Validation, Confluent)
        "An `allOf` gained a subschema: one more constraint to meet."
        r#"{"allOf":[{"type":"string"}]}"# => r#"{"allOf":[{"type":"string"},{"maxLength":5}]}"#;
    PRODUCT_TYPE_NARROWED (true, true, Validation, Confluent)
        "An `allOf` lost a subschema (or was replaced by one of its parts): one constraint fewer."
        r#"{"type":"string","enum":["red"]}"# => r#"{"type":"string"}"#;
    SUM_TYPE_EXTENDED (true, true, Validation, Confluent)
        "An `anyOf`/`oneOf` (or a `type` list) gained an alternative, or a schema became one alternative of several."
        r#"{"type":"string"}"# => r#"{"type":["string","null"]}"#;
    ONE_OF_OVERLAP (false, false, Validation, Accord)
        "A `oneOf` gained or widened an alternative while its alternatives are not known to exclude each other: a document that now matches two of them is rejected."
        r#"{"oneOf":[{"type":"number","maximum":0},{"type":"number","minimum":1}]}"# => r#"{"oneOf":[{"type":"number","maximum":0},{"type":"number","minimum":-1}]}"#,
        note = "Confluent judges `oneOf` like `anyOf`. Accord knows alternatives exclude each other when they accept different types or values, or require one property with values that exclude each other; otherwise a wider `oneOf` may reject what it accepted.",
        no_witness = "the alternatives may exclude each other in ways Accord does not decide (patterns, bounds, conditionals), so that no document matches two of them.";
    SUM_TYPE_NARROWED (false, false, Validation, Confluent)
        "An `anyOf`/`oneOf` (or a `type` list) lost an alternative."
        r#"{"oneOf":[{"type":"number"},{"type":"string"}]}"# => r#"{"oneOf":[{"type":"string"}]}"#,
        no_witness = "the alternative removed may have accepted only documents that another alternative accepts too (in a `oneOf`, such documents were rejected anyway).";
    COMBINED_TYPE_SUBSCHEMAS_CHANGED (false, false, Validation, Confluent)
        "Some subschemas of an `allOf`/`anyOf`/`oneOf` have no compatible counterpart in the other version."
        r#"{"oneOf":[{"type":"string"}]}"# => r#"{"oneOf":[{"type":"number"}]}"#,
        note = "Like Confluent, the findings inside a pair that does not match are not listed; Accord's message names, for each unmatched subschema, its closest counterpart and the first thing that breaks there. Confluent pairs subschemas one to one; between `anyOf`/`oneOf` (and `type` lists) Accord also lets several old alternatives fit one new alternative, since a document needs only one alternative to accept it.",
        no_witness = "when the subschemas of the accepting version contradict each other (an `allOf` of a string enum and `type: number`), it accepts no document at all.";
    NOT_TYPE_EXTENDED (false, false, Validation, Confluent)
        "The schema inside `not` now accepts more, so the whole rejects more."
        r#"{"not":{"type":"integer"}}"# => r#"{"not":{"type":"number"}}"#;
    NOT_TYPE_NARROWED (true, true, Validation, Confluent)
        "The schema inside `not` changed and now accepts no more than before."
        r#"{"not":{"type":"number"}}"# => r#"{"not":{"type":"integer"}}"#,
        note = "Confluent also reports it when the schema inside `not` did not change at all; Accord reports nothing then.";
    CONDITION_CHANGED (false, false, Validation, Accord)
        "The `if` of an `if`/`then`/`else` changed, so other documents take each branch."
        r#"{"if":{"required":["a"]},"then":{"required":["b"]}}"# => r#"{"if":{"required":["c"]},"then":{"required":["b"]}}"#,
        note = "Confluent does not compare `if`/`then`/`else`. With the same `if`, Accord compares `then` and `else` like any schema.";
    CONDITIONAL_BRANCH_ADDED (false, false, Validation, Accord)
        "A `then` or `else` branch was added to an existing `if`."
        r#"{"if":{"required":["a"]},"then":{"required":["b"]}}"# => r#"{"if":{"required":["a"]},"then":{"required":["b"]},"else":{"required":["c"]}}"#,
        note = "Confluent does not compare `if`/`then`/`else`.";
    CONDITIONAL_BRANCH_REMOVED (true, true, Validation, Accord)
        "A `then` or `else` branch was removed."
        r#"{"if":{"required":["a"]},"then":{"required":["b"]},"else":{"required":["c"]}}"# => r#"{"if":{"required":["a"]},"then":{"required":["b"]}}"#,
        note = "Confluent does not compare `if`/`then`/`else`.";
}

/// The change of combining keyword, if any.
pub(crate) fn criteria(
    old: Criterion,
    old_len: usize,
    new: Criterion,
    new_len: usize,
) -> Option<&'static RuleInfo> {
    use Criterion::{All, Any, One};
    if old == new {
        return None;
    }
    // With one subschema the three keywords say the same thing.
    let rule = match new {
        Any => &COMBINED_TYPE_EXTENDED,
        One if old_len == 1 || (old == All && new_len == 1) => &COMBINED_TYPE_EXTENDED,
        All if old_len == 1 && new_len == 1 => &COMBINED_TYPE_EXTENDED,
        _ => &COMBINED_TYPE_CHANGED,
    };
    Some(rule)
}

/// More or fewer subschemas: more alternatives accept more, more `allOf`
/// parts accept less.
pub(crate) fn sizes(out: &mut dyn Sink, old: Criterion, old_len: usize, new: Criterion, new_len: usize) {
    if old_len < new_len {
        let rule = if new == Criterion::All {
            &PRODUCT_TYPE_EXTENDED
        } else {
            &SUM_TYPE_EXTENDED
        };
        out.emit(
            rule,
            None,
            format!("'{}' grew from {old_len} to {new_len} subschemas", new.keyword()),
        );
    } else if old_len > new_len {
        let rule = if old == Criterion::All {
            &PRODUCT_TYPE_NARROWED
        } else {
            &SUM_TYPE_NARROWED
        };
        out.emit(
            rule,
            None,
            format!(
                "'{}' shrank from {old_len} to {new_len} subschemas",
                old.keyword()
            ),
        );
    }
}

/// The verdict on the reversed comparison of the two `not` schemas.
pub(crate) fn not(out: &mut dyn Sink, compatible: bool) {
    if compatible {
        out.emit(
            &NOT_TYPE_NARROWED,
            None,
            "the schema inside 'not' accepts no more than before".into(),
        );
    } else {
        out.emit(
            &NOT_TYPE_EXTENDED,
            None,
            "the schema inside 'not' accepts more than before".into(),
        );
    }
}
