//! Array keywords other than the tuple content model: item-count bounds,
//! `uniqueItems`, `contains` and its bounds, `additionalItems` and
//! `unevaluatedItems` themselves.

use super::{Sink, bound, declare_rules, types};
use crate::model::ArrayNode;

declare_rules! { "array";
    MAX_ITEMS_ADDED (false, false, Validation, Confluent)
        "A `maxItems` was added."
        r#"{"type":"array"}"# => r#"{"type":"array","maxItems":3}"#;
    MAX_ITEMS_REMOVED (true, true, Validation, Confluent)
        "The `maxItems` was removed."
        r#"{"type":"array","maxItems":3}"# => r#"{"type":"array"}"#;
    MAX_ITEMS_INCREASED (true, true, Validation, Confluent)
        "The `maxItems` was raised."
        r#"{"type":"array","maxItems":1}"# => r#"{"type":"array","maxItems":2}"#;
    MAX_ITEMS_DECREASED (false, false, Validation, Confluent)
        "The `maxItems` was lowered."
        r#"{"type":"array","maxItems":2}"# => r#"{"type":"array","maxItems":1}"#;
    MIN_ITEMS_ADDED (false, false, Validation, Confluent)
        "A `minItems` was added."
        r#"{"type":"array"}"# => r#"{"type":"array","minItems":1}"#;
    MIN_ITEMS_REMOVED (true, true, Validation, Confluent)
        "The `minItems` was removed."
        r#"{"type":"array","minItems":1}"# => r#"{"type":"array"}"#;
    MIN_ITEMS_INCREASED (false, false, Validation, Confluent)
        "The `minItems` was raised."
        r#"{"type":"array","minItems":1}"# => r#"{"type":"array","minItems":2}"#;
    MIN_ITEMS_DECREASED (true, true, Validation, Confluent)
        "The `minItems` was lowered."
        r#"{"type":"array","minItems":2}"# => r#"{"type":"array","minItems":1}"#;
    UNIQUE_ITEMS_ADDED (false, false, Validation, Confluent)
        "`uniqueItems: true` was added."
        r#"{"type":"array"}"# => r#"{"type":"array","uniqueItems":true}"#;
    UNIQUE_ITEMS_REMOVED (true, true, Validation, Confluent)
        "`uniqueItems: true` was removed."
        r#"{"type":"array","uniqueItems":true}"# => r#"{"type":"array"}"#;
    MAX_CONTAINS_ADDED (false, false, Validation, Confluent)
        "A `maxContains` was added."
        r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","contains":{"type":"number"}}"# => r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","contains":{"type":"number"},"maxContains":2}"#;
    MAX_CONTAINS_REMOVED (true, true, Validation, Confluent)
        "The `maxContains` was removed."
        r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","contains":{"type":"number"},"maxContains":2}"# => r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","contains":{"type":"number"}}"#;
    MAX_CONTAINS_INCREASED (true, true, Validation, Confluent)
        "The `maxContains` was raised."
        r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","contains":{"type":"number"},"maxContains":2}"# => r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","contains":{"type":"number"},"maxContains":3}"#;
    MAX_CONTAINS_DECREASED (false, false, Validation, Confluent)
        "The `maxContains` was lowered."
        r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","contains":{"type":"number"},"maxContains":3}"# => r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","contains":{"type":"number"},"maxContains":2}"#;
    MIN_CONTAINS_ADDED (false, false, Validation, Confluent)
        "A `minContains` appeared where no `contains` applied before."
        r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"array"}"# => r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"array","contains":{"type":"number"},"minContains":2}"#,
        note = "`minContains` is 1 wherever `contains` applies, so writing `minContains: 1` out is no change for Accord.";
    MIN_CONTAINS_REMOVED (true, true, Validation, Confluent)
        "The `minContains` no longer applies (its `contains` was removed)."
        r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"array","contains":{"type":"number"},"minContains":2}"# => r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"array"}"#;
    MIN_CONTAINS_INCREASED (false, false, Validation, Confluent)
        "The `minContains` was raised."
        r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","contains":{"type":"number"},"minContains":1}"# => r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","contains":{"type":"number"},"minContains":2}"#;
    MIN_CONTAINS_DECREASED (true, true, Validation, Confluent)
        "The `minContains` was lowered."
        r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","contains":{"type":"number"},"minContains":2}"# => r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","contains":{"type":"number"},"minContains":1}"#;
    ADDITIONAL_ITEMS_ADDED (true, true, Validation, Confluent)
        "Items past the tuple, forbidden before, are allowed again."
        r#"{"type":"array","items":[{"type":"string"}],"additionalItems":false}"# => r#"{"type":"array","items":[{"type":"string"}]}"#;
    ADDITIONAL_ITEMS_REMOVED (false, false, Validation, Confluent)
        "Items past the tuple are now forbidden (`additionalItems: false`; 2020-12: `items: false`)."
        r#"{"additionalItems":true}"# => r#"{"additionalItems":false}"#,
        no_witness = "`additionalItems` only applies after a tuple `items`; without one the change accepts and rejects the same documents, though Confluent reports it.";
    ADDITIONAL_ITEMS_EXTENDED (true, true, Validation, Confluent)
        "The schema that constrained items past the tuple was removed."
        r#"{"type":"array","items":[{"type":"string"}],"additionalItems":{"type":"number"}}"# => r#"{"type":"array","items":[{"type":"string"}]}"#;
    ADDITIONAL_ITEMS_NARROWED (false, false, Validation, Confluent)
        "Items past the tuple, free before, must now match a schema."
        r#"{"type":"array","items":[{"type":"string"}]}"# => r#"{"type":"array","items":[{"type":"string"}],"additionalItems":{"type":"number"}}"#;
    UNEVALUATED_ITEMS_ADDED (true, true, Validation, Confluent)
        "`unevaluatedItems: false` was removed or relaxed."
        r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"array","unevaluatedItems":false}"# => r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"array"}"#;
    UNEVALUATED_ITEMS_REMOVED (false, false, Validation, Confluent)
        "`unevaluatedItems: false` was added."
        r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"array"}"# => r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"array","unevaluatedItems":false}"#;
    UNEVALUATED_ITEMS_EXTENDED (true, true, Validation, Confluent)
        "The schema that constrained unevaluated items was removed."
        r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"array","unevaluatedItems":{"type":"string"}}"# => r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"array"}"#;
    UNEVALUATED_ITEMS_NARROWED (false, false, Validation, Confluent)
        "Unevaluated items, free before, must now match a schema."
        r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"array"}"# => r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"array","unevaluatedItems":{"type":"string"}}"#;
    CONTAINS_ADDED (false, false, Validation, Accord)
        "A `contains` was added: arrays with no matching item are rejected."
        r#"{"type":"array"}"# => r#"{"type":"array","contains":{"type":"number"}}"#,
        note = "Confluent does not compare `contains`; changes inside it are compared like any schema.";
    CONTAINS_REMOVED (true, true, Validation, Accord)
        "The `contains` was removed."
        r#"{"type":"array","contains":{"type":"number"}}"# => r#"{"type":"array"}"#,
        note = "Confluent does not compare `contains`.";
}

/// (added, removed, extended, narrowed) for `additionalItems`.
pub(crate) const ADDITIONAL_ITEMS: [&super::RuleInfo; 4] = [
    &ADDITIONAL_ITEMS_ADDED,
    &ADDITIONAL_ITEMS_REMOVED,
    &ADDITIONAL_ITEMS_EXTENDED,
    &ADDITIONAL_ITEMS_NARROWED,
];
/// (added, removed, extended, narrowed) for `unevaluatedItems`.
pub(crate) const UNEVALUATED_ITEMS: [&super::RuleInfo; 4] = [
    &UNEVALUATED_ITEMS_ADDED,
    &UNEVALUATED_ITEMS_REMOVED,
    &UNEVALUATED_ITEMS_EXTENDED,
    &UNEVALUATED_ITEMS_NARROWED,
];

/// Item-count bounds, `uniqueItems`, `contains` bounds, explicit `type: array`.
pub(crate) fn attributes(out: &mut dyn Sink, a: &ArrayNode, b: &ArrayNode) {
    bound(
        out,
        "maxItems",
        a.max_items,
        b.max_items,
        [
            &MAX_ITEMS_ADDED,
            &MAX_ITEMS_REMOVED,
            &MAX_ITEMS_INCREASED,
            &MAX_ITEMS_DECREASED,
        ],
    );
    bound(
        out,
        "minItems",
        a.min_items,
        b.min_items,
        [
            &MIN_ITEMS_ADDED,
            &MIN_ITEMS_REMOVED,
            &MIN_ITEMS_INCREASED,
            &MIN_ITEMS_DECREASED,
        ],
    );
    match (a.unique_items, b.unique_items) {
        (true, false) => out.emit(
            &UNIQUE_ITEMS_REMOVED,
            Some("uniqueItems"),
            "'uniqueItems' removed".into(),
        ),
        (false, true) => out.emit(
            &UNIQUE_ITEMS_ADDED,
            Some("uniqueItems"),
            "'uniqueItems' added".into(),
        ),
        _ => {}
    }
    bound(
        out,
        "maxContains",
        a.max_contains,
        b.max_contains,
        [
            &MAX_CONTAINS_ADDED,
            &MAX_CONTAINS_REMOVED,
            &MAX_CONTAINS_INCREASED,
            &MAX_CONTAINS_DECREASED,
        ],
    );
    bound(
        out,
        "minContains",
        a.min_contains,
        b.min_contains,
        [
            &MIN_CONTAINS_ADDED,
            &MIN_CONTAINS_REMOVED,
            &MIN_CONTAINS_INCREASED,
            &MIN_CONTAINS_DECREASED,
        ],
    );
    types::required_type(out, "array", a.required_type, b.required_type);
}
