//! The object content model: properties added or removed, read against how
//! open the other version is to properties it does not list (open: anything
//! goes; closed: `additionalProperties: false`; partially open: a schema in
//! `additionalProperties`, `patternProperties` or `unevaluatedProperties`).
//! Also `patternProperties` and `propertyNames` edits.

use super::{RuleInfo, declare_rules};

declare_rules! { "properties";
    PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL (true, true, Validation, Confluent)
        "A property with an empty schema was added to an open object: it accepts what was accepted before."
        r#"{"additionalProperties":true}"# => r#"{"additionalProperties":true,"properties":{"foo":true}}"#;
    OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL (false, true, Validation, Confluent)
        "An optional, typed property was added to an open object: old documents may carry that name with another type."
        r#"{"properties":{"foo":{"type":"string"}}}"# => r#"{"properties":{"foo":{"type":"string"},"bar":{"type":"number"}}}"#;
    REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL (false, false, Validation, Confluent)
        "A required property without a default was added to an open object."
        r#"{"properties":{"foo":{"type":"string"}}}"# => r#"{"properties":{"foo":{"type":"string"},"bar":{"type":"number"}},"required":["bar"]}"#;
    REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL (false, false, Validation, Confluent)
        "A required property with a default was added to an open object."
        r#"{"properties":{"foo":{"type":"string"}}}"# => r#"{"properties":{"foo":{"type":"string"},"bar":{"type":"number","default":0}},"required":["bar"]}"#,
        note = "Confluent's LENIENT policy calls it compatible, as if readers filled the default in; validation never does, so objects without the property are now rejected: breaking for Accord under both policies.";
    OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL (true, true, Validation, Confluent)
        "An optional property was added to a closed or partially open object."
        r#"{"properties":{"foo":{"type":"string"}},"additionalProperties":false}"# => r#"{"properties":{"foo":{"type":"string"},"bar":{"type":"number"}},"additionalProperties":false}"#;
    REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL (false, false, Validation, Confluent)
        "A required property without a default was added to a closed or partially open object."
        r#"{"properties":{"foo":{"type":"string"}},"additionalProperties":false}"# => r#"{"properties":{"foo":{"type":"string"},"bar":{"type":"number"}},"required":["bar"],"additionalProperties":false}"#;
    REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL (false, false, Validation, Confluent)
        "A required property with a default was added to a closed or partially open object."
        r#"{"properties":{"foo":{"type":"string"}},"additionalProperties":false}"# => r#"{"properties":{"foo":{"type":"string"},"bar":{"type":"number","default":0}},"required":["bar"],"additionalProperties":false}"#,
        note = "Confluent calls it compatible, as if readers filled the default in; validation never does, so objects without the property are now rejected: breaking for Accord.";
    PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL (true, true, Validation, Confluent)
        "A property was removed and the new object is open, so the name is still accepted with any value."
        r#"{"properties":{"foo":{"type":"string"},"bar":{"type":"string"}}}"# => r#"{"properties":{"foo":{"type":"string"}}}"#;
    PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL (true, true, Validation, Confluent)
        "A property whose schema was `false` was removed from a closed object: it was forbidden and still is."
        r#"{"additionalProperties":false,"properties":{"foo":false}}"# => r#"{"additionalProperties":false}"#;
    PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL (false, true, Validation, Confluent)
        "A property was removed from a closed object: documents that carry it are now rejected."
        r#"{"properties":{"foo":{"type":"string"},"bar":{"type":"string"}},"additionalProperties":false}"# => r#"{"properties":{"foo":{"type":"string"}},"additionalProperties":false}"#;
    PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL (true, true, Validation, Confluent)
        "A property was added and the schema the old object applied to that name accepts no more than the new property schema."
        r#"{"properties":{"foo":{"type":"string"}},"additionalProperties":{"type":"string"}}"# => r#"{"properties":{"foo":{"type":"string"},"bar":{"type":"string"}},"additionalProperties":{"type":"string"}}"#;
    PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL (false, true, Validation, Confluent)
        "A property was added whose schema rejects values the old object accepted under that name."
        r#"{"properties":{"foo":{"type":"string"}},"additionalProperties":{"type":"string"}}"# => r#"{"properties":{"foo":{"type":"string"},"bar":{"type":"number"}},"additionalProperties":{"type":"string"}}"#;
    PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL (true, true, Validation, Confluent)
        "A property was removed and the new object's schema for that name accepts what the old property schema accepted."
        r#"{"properties":{"foo":{"type":"string"},"bar":{"type":"string"}},"additionalProperties":false}"# => r#"{"properties":{"foo":{"type":"string"}},"additionalProperties":{"type":"string"}}"#;
    PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL (false, true, Validation, Confluent)
        "A property was removed and the new object's schema for that name rejects values the old property accepted."
        r#"{"properties":{"foo":{"type":"string"},"bar":{"type":"number"}},"additionalProperties":false}"# => r#"{"properties":{"foo":{"type":"string"}},"additionalProperties":{"type":"string"}}"#,
        no_witness = "the property may still be constrained the same way by a `patternProperties` entry that matches its name, so no document tells the versions apart.";
    PATTERN_PROPERTY_ADDED (false, false, Validation, Accord)
        "A `patternProperties` entry was added to an object that did not forbid other properties: values under matching names must now match its schema."
        r#"{"type":"object"}"# => r#"{"type":"object","patternProperties":{"^x_":{"type":"string"}}}"#,
        note = "Confluent reads `patternProperties` only to decide whether a property is covered; it does not report edits to it.";
    PATTERN_PROPERTY_ADDED_TO_CLOSED_CONTENT_MODEL (true, true, Validation, Accord)
        "A `patternProperties` entry was added to a closed object and constrains no property both versions list: it only allows names that were forbidden."
        r#"{"type":"object","additionalProperties":false}"# => r#"{"type":"object","additionalProperties":false,"patternProperties":{"^x_":{"type":"string"}}}"#,
        note = "Confluent does not report `patternProperties` edits.";
    PATTERN_PROPERTY_REMOVED (true, true, Validation, Accord)
        "A `patternProperties` entry was removed and the new object leaves other properties free."
        r#"{"type":"object","patternProperties":{"^x_":{"type":"string"}}}"# => r#"{"type":"object"}"#,
        note = "Confluent does not report `patternProperties` edits.";
    PATTERN_PROPERTY_REMOVED_FROM_UNOPEN_CONTENT_MODEL (false, false, Validation, Accord)
        "A `patternProperties` entry was removed from an object that constrains other properties: names it allowed may now be rejected."
        r#"{"type":"object","additionalProperties":false,"patternProperties":{"^x_":{"type":"string"}}}"# => r#"{"type":"object","additionalProperties":false}"#,
        note = "Confluent does not report `patternProperties` edits.";
    PROPERTY_NAMES_ADDED (false, false, Validation, Accord)
        "A `propertyNames` schema was added: objects with names it rejects are rejected."
        r#"{"type":"object"}"# => r#"{"type":"object","propertyNames":{"maxLength":8}}"#,
        note = "Confluent does not compare `propertyNames`; changes inside it are compared like any schema.";
    PROPERTY_NAMES_REMOVED (true, true, Validation, Accord)
        "The `propertyNames` schema was removed."
        r#"{"type":"object","propertyNames":{"maxLength":8}}"# => r#"{"type":"object"}"#,
        note = "Confluent does not compare `propertyNames`.";
}

/// A property the old object did not list, added while the old object was open.
pub(crate) fn added_to_open(required: bool, default: bool, empty: bool) -> &'static RuleInfo {
    match (required, default, empty) {
        (true, true, _) => &REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL,
        (true, false, _) => &REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL,
        (false, _, true) => &PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL,
        (false, _, false) => &OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL,
    }
}

/// A property the old object did not list, added while the old object was
/// closed or partially open.
pub(crate) fn added_to_unopen(required: bool, default: bool) -> &'static RuleInfo {
    match (required, default) {
        (true, true) => &REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL,
        (true, false) => &REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL,
        (false, _) => &OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL,
    }
}
