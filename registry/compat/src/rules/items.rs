//! The array content model: tuple positions added or removed, read against
//! how open the other version is to items past its tuple (open, closed with
//! `additionalItems: false`, or partially open with a schema).

use super::declare_rules;

declare_rules! { "items";
    ITEM_ADDED_TO_OPEN_CONTENT_MODEL (false, false, Validation, Confluent)
        "A typed tuple position was added to an open array: old arrays may hold another type there."
        r#"{"type":"array","items":[{"type":"string"}]}"# => r#"{"type":"array","items":[{"type":"string"},{"type":"number"}]}"#;
    ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL (true, true, Validation, Confluent)
        "A tuple position with an empty schema was added to an open array."
        r#"{"type":"array","additionalItems":true,"items":[{"type":"number"}]}"# => r#"{"type":"array","additionalItems":true,"items":[{"type":"number"},true]}"#;
    ITEM_ADDED_TO_CLOSED_CONTENT_MODEL (true, true, Validation, Confluent)
        "A tuple position was added to a closed array: it only allows arrays that were rejected."
        r#"{"type":"array","items":[{"type":"string"}],"additionalItems":false}"# => r#"{"type":"array","items":[{"type":"string"},{"type":"number"}],"additionalItems":false}"#;
    ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL (true, true, Validation, Confluent)
        "A tuple position was removed and the new array is open past its tuple."
        r#"{"type":"array","items":[{"type":"string"},{"type":"number"}]}"# => r#"{"type":"array","items":[{"type":"string"}]}"#;
    ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL (true, true, Validation, Confluent)
        "A tuple position whose schema was `false` was removed from a closed array."
        r#"{"type":"array","additionalItems":false,"items":[{"type":"number"},false]}"# => r#"{"type":"array","additionalItems":false,"items":[{"type":"number"}]}"#;
    ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL (false, false, Validation, Confluent)
        "A tuple position was removed from a closed array: arrays that long are now rejected."
        r#"{"type":"array","items":[{"type":"string"},{"type":"number"}],"additionalItems":false}"# => r#"{"type":"array","items":[{"type":"string"}],"additionalItems":false}"#;
    ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL (true, true, Validation, Confluent)
        "A tuple position was added whose schema accepts what the old `additionalItems` schema accepted there."
        r#"{"type":"array","items":[{"type":"string"}],"additionalItems":{"type":"string"}}"# => r#"{"type":"array","items":[{"type":"string"},{"type":"string"}],"additionalItems":{"type":"string"}}"#;
    ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL (false, false, Validation, Confluent)
        "A tuple position was added whose schema rejects values the old `additionalItems` schema accepted there."
        r#"{"type":"array","items":[{"type":"string"}],"additionalItems":{"type":"string"}}"# => r#"{"type":"array","items":[{"type":"string"},{"type":"number"}],"additionalItems":{"type":"string"}}"#;
    ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL (true, true, Validation, Confluent)
        "A tuple position was removed and the new `additionalItems` schema accepts what it accepted."
        r#"{"type":"array","items":[{"type":"string"},{"type":"string"}],"additionalItems":{"type":"string"}}"# => r#"{"type":"array","items":[{"type":"string"}],"additionalItems":{"type":"string"}}"#;
    ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL (false, false, Validation, Confluent)
        "A tuple position was removed and the new `additionalItems` schema rejects values it accepted."
        r#"{"type":"array","items":[{"type":"string"},{"type":"number"}],"additionalItems":{"type":"string"}}"# => r#"{"type":"array","items":[{"type":"string"}],"additionalItems":{"type":"string"}}"#;
}
