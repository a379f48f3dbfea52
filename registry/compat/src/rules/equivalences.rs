//! One meaning, several spellings: pairs of schemas that accept the same
//! documents although they are written differently (across drafts, or with
//! keywords equal to their defaults). The engine reads each pair into the
//! same form, so comparing them gives no finding; `docs/rules.md` shows
//! this table, and a test checks every pair against a JSON Schema validator.

/// Two spellings of one meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Equivalence {
    /// What the two spellings mean, in a few words.
    pub meaning: &'static str,
    /// One spelling (a schema document, JSON text).
    pub one: &'static str,
    /// Another spelling, that accepts the same documents.
    pub other: &'static str,
}

macro_rules! equivalences {
    ($( $meaning:literal : $one:literal == $other:literal ; )*) => {
        /// Every pair of spellings the engine reads as one meaning.
        pub fn equivalences() -> &'static [Equivalence] {
            &[ $( Equivalence { meaning: $meaning, one: $one, other: $other } ),* ]
        }
    };
}

equivalences! {
    "an exclusive maximum: draft 4's flag and later drafts' number":
        r#"{"$schema":"http://json-schema.org/draft-04/schema#","type":"number","maximum":10,"exclusiveMaximum":true}"#
        == r#"{"type":"number","exclusiveMaximum":10}"#;
    "an exclusive minimum: draft 4's flag and later drafts' number":
        r#"{"$schema":"http://json-schema.org/draft-04/schema#","type":"number","minimum":0,"exclusiveMinimum":true}"#
        == r#"{"type":"number","exclusiveMinimum":0}"#;
    "draft 4's `exclusiveMaximum: false` is no flag":
        r#"{"$schema":"http://json-schema.org/draft-04/schema#","type":"number","maximum":10,"exclusiveMaximum":false}"#
        == r#"{"type":"number","maximum":10}"#;
    "on integers, an exclusive bound is the inclusive one next to it":
        r#"{"type":"integer","exclusiveMaximum":10,"exclusiveMinimum":0}"#
        == r#"{"type":"integer","maximum":9,"minimum":1}"#;
    "a tuple: `items` array and `additionalItems` (before 2020-12), `prefixItems` and `items` (2020-12)":
        r#"{"type":"array","items":[{"type":"string"},{"type":"number"}],"additionalItems":{"type":"boolean"}}"#
        == r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"array","prefixItems":[{"type":"string"},{"type":"number"}],"items":{"type":"boolean"}}"#;
    "a closed tuple, in both drafts' words":
        r#"{"$schema":"http://json-schema.org/draft-04/schema#","type":"array","items":[{"type":"string"}],"additionalItems":false}"#
        == r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"array","prefixItems":[{"type":"string"}],"items":false}"#;
    "definitions: `definitions` and `$defs`":
        r##"{"type":"object","properties":{"a":{"$ref":"#/definitions/code"}},"definitions":{"code":{"type":"string","maxLength":8}}}"##
        == r##"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{"a":{"$ref":"#/$defs/code"}},"$defs":{"code":{"type":"string","maxLength":8}}}"##;
    "a definition referenced or written in place":
        r##"{"type":"object","properties":{"a":{"$ref":"#/definitions/code"}},"definitions":{"code":{"type":"string"}}}"##
        == r#"{"type":"object","properties":{"a":{"type":"string"}}}"#;
    "dependencies: `dependencies` and `dependentRequired` / `dependentSchemas`":
        r#"{"type":"object","dependencies":{"card":["billing"],"gift":{"required":["message"]}}}"#
        == r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","dependentRequired":{"card":["billing"]},"dependentSchemas":{"gift":{"required":["message"]}}}"#;
    "the schema's identifier: draft 4's `id` and later drafts' `$id`":
        r#"{"$schema":"http://json-schema.org/draft-04/schema#","id":"urn:example:order","type":"string"}"#
        == r#"{"$schema":"http://json-schema.org/draft-07/schema#","$id":"urn:example:order","type":"string"}"#;
    "`minLength: 0` is the default":
        r#"{"type":"string","minLength":0}"# == r#"{"type":"string"}"#;
    "`minItems: 0` is the default":
        r#"{"type":"array","minItems":0}"# == r#"{"type":"array"}"#;
    "`minProperties: 0` is the default":
        r#"{"type":"object","minProperties":0}"# == r#"{"type":"object"}"#;
    "`uniqueItems: false` is the default":
        r#"{"type":"array","uniqueItems":false}"# == r#"{"type":"array"}"#;
    "`required: []` is the default":
        r#"{"type":"object","required":[]}"# == r#"{"type":"object"}"#;
    "`additionalProperties: true` (or `{}`) is the default":
        r#"{"type":"object","additionalProperties":{}}"# == r#"{"type":"object","additionalProperties":true}"#;
    "`items: {}` allows any item, as no `items`":
        r#"{"type":"array","items":{}}"# == r#"{"type":"array"}"#;
    "a `propertyNames` that accepts any name is none":
        r#"{"type":"object","propertyNames":{}}"# == r#"{"type":"object"}"#;
    "a dependent schema that accepts anything, or an empty dependency list, is none":
        r#"{"type":"object","dependencies":{"a":{},"b":[]}}"# == r#"{"type":"object"}"#;
    "an `if` without `then` or `else` constrains nothing":
        r#"{"type":"object","if":{"required":["a"]}}"# == r#"{"type":"object"}"#;
    "a one-element `type` list is that type":
        r#"{"type":["string"],"maxLength":3}"# == r#"{"type":"string","maxLength":3}"#;
    "a `const` is a one-element `enum`":
        r#"{"const":"EUR"}"# == r#"{"enum":["EUR"]}"#;
    "an `enum` is a set: order and repeated values do not matter":
        r#"{"enum":["a","b","a"]}"# == r#"{"enum":["b","a"]}"#;
    "`boolean` is the two values it has":
        r#"{"type":"boolean"}"# == r#"{"enum":[true,false]}"#;
    "an `enum` is a `oneOf` (or `anyOf`) of its values' `const`s":
        r#"{"enum":["card","cash"]}"# == r#"{"oneOf":[{"const":"card","title":"Card"},{"const":"cash","title":"Cash"}]}"#;
    "`not` of everything is `false`, `not` of nothing is `true`":
        r#"{"type":"object","properties":{"a":{"not":{}},"b":{"not":false}}}"#
        == r#"{"type":"object","properties":{"a":false,"b":true}}"#;
    "a `type` list of every JSON type accepts every value, as `{}` does":
        r#"{"type":["array","boolean","null","number","object","string"]}"# == r#"{}"#;
    "keywords of one type, without `type`, that constrain nothing accept every value":
        r#"{"properties":{},"items":{}}"# == r#"true"#;
    "`1` and `1.0` are one number":
        r#"{"enum":[1,2]}"# == r#"{"enum":[1.0,2.0]}"#;
    "on integers, a `multipleOf` that divides 1 says nothing":
        r#"{"type":"integer","multipleOf":0.5}"# == r#"{"type":"integer"}"#;
    "`contains` means at least one (`minContains: 1`)":
        r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"array","contains":{"type":"string"},"minContains":1}"#
        == r#"{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"array","contains":{"type":"string"}}"#;
}
