//! Whole-schema type changes: a schema appearing or disappearing, or
//! accepting values of another type.

use super::{Sink, declare_rules};

declare_rules! { "types";
    SCHEMA_ADDED (false, false, Validation, Confluent)
        "A schema was added where there was none (e.g. `items`), so values it rejects are no longer accepted."
        r#"{"type":"array"}"# => r#"{"type":"array","items":{"type":"string"}}"#;
    SCHEMA_REMOVED (true, true, Validation, Confluent)
        "A schema was removed (e.g. `items`), so what it constrained is now free."
        r#"{"type":"array","items":{"type":"string"}}"# => r#"{"type":"array"}"#;
    TYPE_EXTENDED (true, true, Validation, Confluent)
        "The type now accepts more: `integer` became `number`, an explicit `type` was dropped from a schema that keeps its other keywords, listed values (`enum`, `const`, `boolean`, `null`) became a schema of another kind that accepts each of them, an `anyOf`/`oneOf` became a schema that accepts each alternative, a schema became a `not` of other types, a schema became one that accepts every value (`{}`, `true`), or `false` became a schema."
        r#"{"type":"integer"}"# => r#"{"type":"number"}"#,
        note = "Accord also reports dropping an explicit `type` (e.g. `type: object` from a schema with `properties`), which Confluent does not compare. Where listed values become a schema of another kind (`enum: [\"a\", \"b\"]` to `type: string`), Confluent reports `TYPE_CHANGED` whatever the new schema accepts; Accord checks each value against the new schema and reports `TYPE_EXTENDED` when all pass, `TYPE_CHANGED` naming the values that no longer do otherwise. Confluent reports nothing when a schema becomes `{}` or `false` becomes a schema; Accord reports the wider set, so that the version says it (a minor bump).";
    TYPE_NARROWED (false, false, Validation, Confluent)
        "The type now accepts less: `number` became `integer`, or an explicit `type` was added to a schema whose other keywords let any type through."
        r#"{"type":"number"}"# => r#"{"type":"integer"}"#,
        note = "Accord also reports adding an explicit `type` to a schema that only had keywords of that type, which Confluent does not compare.",
        no_witness = "the narrower type may already have been imposed elsewhere (a `patternProperties` entry that matches the property), so the two versions accept the same documents.";
    TYPE_CHANGED (false, false, Validation, Confluent)
        "The schema now describes another kind of value (e.g. `string` became `number`)."
        r#"{"type":"string"}"# => r#"{"type":"number"}"#,
        no_witness = "Confluent reads the kind of a schema from its keywords, so a change of keywords that leaves the accepted documents alone is still reported: `{\"properties\": {}}` against `{}`, a `dependencies` entry that can only reject what both versions reject, `additionalItems` without a tuple `items`.";
}

/// `type: <name>` given or not: without it, values of other types pass.
pub(crate) fn required_type(out: &mut dyn Sink, name: &str, was: bool, is: bool) {
    match (was, is) {
        (false, true) => out.emit(
            &TYPE_NARROWED,
            None,
            format!("'type: {name}' added: other types are now rejected"),
        ),
        (true, false) => out.emit(
            &TYPE_EXTENDED,
            None,
            format!("'type: {name}' removed: other types are now accepted"),
        ),
        _ => {}
    }
}
