//! Object keywords other than the content model: `required`, dependencies,
//! `additionalProperties` and `unevaluatedProperties` themselves, and the
//! property-count bounds.

use super::{Sink, bound, declare_rules, types};
use crate::model::{ObjectNode, escape};
use std::collections::{BTreeMap, BTreeSet};

declare_rules! { "object";
    REQUIRED_ATTRIBUTE_ADDED (false, false, Validation, Confluent)
        "A property both versions define became required, without a default."
        r#"{"properties":{"a":{"type":"string"}}}"# => r#"{"properties":{"a":{"type":"string"}},"required":["a"]}"#,
        note = "Like Confluent, Accord reports `required` changes only for properties both versions define.";
    REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED (false, false, Validation, Confluent)
        "A property both versions define became required, and it has a default."
        r#"{"properties":{"a":{"type":"string","default":"x"}}}"# => r#"{"properties":{"a":{"type":"string","default":"x"}},"required":["a"]}"#,
        note = "Confluent calls it compatible, as if readers filled the default in; validation never does, so objects without the property are now rejected: breaking for Accord.";
    REQUIRED_ATTRIBUTE_REMOVED (true, true, Validation, Confluent)
        "A property both versions define is no longer required."
        r#"{"properties":{"a":{"type":"string"}},"required":["a"]}"# => r#"{"properties":{"a":{"type":"string"}}}"#;
    REQUIRED_NAME_ADDED (false, false, Validation, Accord)
        "A name became required that not both versions list in `properties` (and that the new version does not add as a property): objects without it are now rejected."
        r#"{"type":"object"}"# => r#"{"type":"object","required":["a"]}"#,
        note = "Confluent compares `required` only for properties both versions define, and calls this change compatible although `{}` is now rejected.";
    REQUIRED_NAME_REMOVED (true, true, Validation, Accord)
        "A name that neither version lists in `properties` is no longer required."
        r#"{"type":"object","required":["a"]}"# => r#"{"type":"object"}"#,
        note = "Confluent does not compare `required` for names neither version defines.";
    MAX_PROPERTIES_ADDED (false, false, Validation, Confluent)
        "A `maxProperties` was added."
        r#"{"type":"object"}"# => r#"{"type":"object","maxProperties":3}"#;
    MAX_PROPERTIES_REMOVED (true, true, Validation, Confluent)
        "The `maxProperties` was removed."
        r#"{"type":"object","maxProperties":3}"# => r#"{"type":"object"}"#;
    MAX_PROPERTIES_INCREASED (true, true, Validation, Confluent)
        "The `maxProperties` was raised."
        r#"{"maxProperties":1}"# => r#"{"maxProperties":2}"#;
    MAX_PROPERTIES_DECREASED (false, false, Validation, Confluent)
        "The `maxProperties` was lowered."
        r#"{"maxProperties":2}"# => r#"{"maxProperties":1}"#;
    MIN_PROPERTIES_ADDED (false, false, Validation, Confluent)
        "A `minProperties` was added."
        r#"{"type":"object"}"# => r#"{"type":"object","minProperties":1}"#;
    MIN_PROPERTIES_REMOVED (true, true, Validation, Confluent)
        "The `minProperties` was removed."
        r#"{"type":"object","minProperties":1}"# => r#"{"type":"object"}"#;
    MIN_PROPERTIES_INCREASED (false, false, Validation, Confluent)
        "The `minProperties` was raised."
        r#"{"minProperties":1}"# => r#"{"minProperties":2}"#;
    MIN_PROPERTIES_DECREASED (true, true, Validation, Confluent)
        "The `minProperties` was lowered."
        r#"{"minProperties":2}"# => r#"{"minProperties":1}"#;
    ADDITIONAL_PROPERTIES_ADDED (true, true, Validation, Confluent)
        "Additional properties, forbidden before, are allowed again (`additionalProperties: false` removed or made `true`)."
        r#"{"type":"object","additionalProperties":false}"# => r#"{"type":"object"}"#;
    ADDITIONAL_PROPERTIES_REMOVED (false, true, Validation, Confluent)
        "Additional properties are now forbidden (`additionalProperties: false`)."
        r#"{"additionalProperties":true}"# => r#"{"additionalProperties":false}"#;
    ADDITIONAL_PROPERTIES_EXTENDED (true, true, Validation, Confluent)
        "The schema that constrained additional properties was removed."
        r#"{"additionalProperties":{"type":"string"}}"# => r#"{"additionalProperties":true}"#;
    ADDITIONAL_PROPERTIES_NARROWED (false, true, Validation, Confluent)
        "Additional properties, free before, must now match a schema."
        r#"{"additionalProperties":true}"# => r#"{"additionalProperties":{"type":"number"}}"#;
    UNEVALUATED_PROPERTIES_ADDED (true, true, Validation, Confluent)
        "`unevaluatedProperties: false` was removed or relaxed."
        r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","unevaluatedProperties":false}"# => r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object"}"#;
    UNEVALUATED_PROPERTIES_REMOVED (false, true, Validation, Confluent)
        "`unevaluatedProperties: false` was added."
        r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object"}"# => r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","unevaluatedProperties":false}"#;
    UNEVALUATED_PROPERTIES_EXTENDED (true, true, Validation, Confluent)
        "The schema that constrained unevaluated properties was removed."
        r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","unevaluatedProperties":{"type":"string"}}"# => r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object"}"#;
    UNEVALUATED_PROPERTIES_NARROWED (false, true, Validation, Confluent)
        "Unevaluated properties, free before, must now match a schema."
        r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object"}"# => r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","unevaluatedProperties":{"type":"string"}}"#;
    DEPENDENCY_ARRAY_ADDED (false, false, Validation, Confluent)
        "A property dependency (`dependencies` / `dependentRequired` list) was added."
        r#"{"type":"object"}"# => r#"{"type":"object","dependencies":{"a":["b"]}}"#;
    DEPENDENCY_ARRAY_REMOVED (true, true, Validation, Confluent)
        "A property dependency was removed."
        r#"{"type":"object","dependencies":{"a":["b"]}}"# => r#"{"type":"object"}"#;
    DEPENDENCY_ARRAY_EXTENDED (false, false, Validation, Confluent)
        "A property dependency now requires more properties."
        r#"{"dependencies":{"a":["b"]}}"# => r#"{"dependencies":{"a":["b","c"]}}"#;
    DEPENDENCY_ARRAY_NARROWED (true, true, Validation, Confluent)
        "A property dependency now requires fewer properties."
        r#"{"dependencies":{"a":["b","c"]}}"# => r#"{"dependencies":{"a":["b"]}}"#;
    DEPENDENCY_ARRAY_CHANGED (false, false, Validation, Confluent)
        "A property dependency now requires other properties."
        r#"{"dependencies":{"a":["b"]}}"# => r#"{"dependencies":{"a":["c"]}}"#;
    DEPENDENCY_SCHEMA_ADDED (false, false, Validation, Confluent)
        "A schema dependency (`dependencies` / `dependentSchemas` schema) was added."
        r#"{"dependencies":{}}"# => r#"{"dependencies":{"a":{"required":["b"]}}}"#;
    DEPENDENCY_SCHEMA_REMOVED (true, true, Validation, Confluent)
        "A schema dependency was removed."
        r#"{"dependencies":{"a":{"required":["b"]}}}"# => r#"{"dependencies":{}}"#;
}

/// (added, removed, extended, narrowed) for `additionalProperties`.
pub(crate) const ADDITIONAL_PROPERTIES: [&super::RuleInfo; 4] = [
    &ADDITIONAL_PROPERTIES_ADDED,
    &ADDITIONAL_PROPERTIES_REMOVED,
    &ADDITIONAL_PROPERTIES_EXTENDED,
    &ADDITIONAL_PROPERTIES_NARROWED,
];
/// (added, removed, extended, narrowed) for `unevaluatedProperties`.
pub(crate) const UNEVALUATED_PROPERTIES: [&super::RuleInfo; 4] = [
    &UNEVALUATED_PROPERTIES_ADDED,
    &UNEVALUATED_PROPERTIES_REMOVED,
    &UNEVALUATED_PROPERTIES_EXTENDED,
    &UNEVALUATED_PROPERTIES_NARROWED,
];

/// `required` membership of one property both versions define.
pub(crate) fn required(out: &mut dyn Sink, seg: &str, was: bool, is: bool, default: bool) {
    let name = seg;
    match (was, is) {
        (true, false) => out.emit(
            &REQUIRED_ATTRIBUTE_REMOVED,
            Some(seg),
            format!("property '{name}' is no longer required"),
        ),
        (false, true) if default => out.emit(
            &REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED,
            Some(seg),
            format!("property '{name}' is now required (it has a default)"),
        ),
        (false, true) => out.emit(
            &REQUIRED_ATTRIBUTE_ADDED,
            Some(seg),
            format!("property '{name}' is now required"),
        ),
        _ => {}
    }
}

/// A name required now (or no longer) that is not a property both
/// versions list.
pub(crate) fn required_name(out: &mut dyn Sink, seg: &str, added: bool) {
    if added {
        out.emit(
            &REQUIRED_NAME_ADDED,
            Some(seg),
            format!("'{seg}' is now required"),
        );
    } else {
        out.emit(
            &REQUIRED_NAME_REMOVED,
            Some(seg),
            format!("'{seg}' is no longer required"),
        );
    }
}

/// Property dependencies, keyed by the property that triggers them.
pub(crate) fn dependency_arrays(
    out: &mut dyn Sink,
    a: &BTreeMap<String, BTreeSet<String>>,
    b: &BTreeMap<String, BTreeSet<String>>,
) {
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for k in keys {
        let seg = escape(k);
        let list = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
        match (a.get(k), b.get(k)) {
            (Some(x), None) => out.emit(
                &DEPENDENCY_ARRAY_REMOVED,
                Some(&seg),
                format!("dependency of '{k}' on [{}] removed", list(x)),
            ),
            (None, Some(y)) => out.emit(
                &DEPENDENCY_ARRAY_ADDED,
                Some(&seg),
                format!("dependency of '{k}' on [{}] added", list(y)),
            ),
            (Some(x), Some(y)) if x != y => {
                let rule = if y.is_superset(x) {
                    &DEPENDENCY_ARRAY_EXTENDED
                } else if x.is_superset(y) {
                    &DEPENDENCY_ARRAY_NARROWED
                } else {
                    &DEPENDENCY_ARRAY_CHANGED
                };
                out.emit(
                    rule,
                    Some(&seg),
                    format!("dependency of '{k}' changed from [{}] to [{}]", list(x), list(y)),
                );
            }
            _ => {}
        }
    }
}

/// Property-count bounds and the explicit `type: object`.
pub(crate) fn attributes(out: &mut dyn Sink, a: &ObjectNode, b: &ObjectNode) {
    bound(
        out,
        "maxProperties",
        a.max_properties,
        b.max_properties,
        [
            &MAX_PROPERTIES_ADDED,
            &MAX_PROPERTIES_REMOVED,
            &MAX_PROPERTIES_INCREASED,
            &MAX_PROPERTIES_DECREASED,
        ],
    );
    bound(
        out,
        "minProperties",
        a.min_properties,
        b.min_properties,
        [
            &MIN_PROPERTIES_ADDED,
            &MIN_PROPERTIES_REMOVED,
            &MIN_PROPERTIES_INCREASED,
            &MIN_PROPERTIES_DECREASED,
        ],
    );
    types::required_type(out, "object", a.required_type, b.required_type);
}
