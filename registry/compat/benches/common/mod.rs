//! Generated schemas shared by the benchmarks and the `fixtures` example
//! (which writes them to files for timing the `accord` process).

#![allow(dead_code)]

use serde_json::{Map, Value, json};

/// A leaf property; `edited` turns a few of them into breaking changes.
fn leaf(i: usize, edited: bool) -> Value {
    let breaking = edited && i % 700 == 3;
    match i % 5 {
        0 => json!({"type": "string", "maxLength": if breaking { 8 } else { 64 }}),
        1 => json!({"type": if breaking { "string" } else { "integer" }, "minimum": 0}),
        2 => json!({"enum": if breaking { json!(["a", "b"]) } else { json!(["a", "b", "c"]) }}),
        3 => json!({"type": "array", "items": {"type": "string"}, "maxItems": if breaking { 2 } else { 10 }}),
        _ => json!({"type": "boolean", "description": format!("flag {i}")}),
    }
}

/// An object whose subtree holds `budget` properties, nested 5 levels deep.
fn object(budget: usize, depth: usize, counter: &mut usize, edited: bool) -> Value {
    let mut props = Map::new();
    let mut left = budget;
    let nested = if depth < 4 { 3 } else { 0 };
    let child = if nested > 0 { budget / (nested + 1) } else { 0 };
    for n in 0..nested {
        if left <= child + 1 {
            break;
        }
        props.insert(format!("o{n}"), object(child, depth + 1, counter, edited));
        left -= child + 1;
    }
    let mut required = Vec::new();
    while left > 0 {
        *counter += 1;
        let name = format!("p{}", *counter);
        if (*counter).is_multiple_of(4) {
            required.push(json!(name.clone()));
        }
        props.insert(name, leaf(*counter, edited));
        left -= 1;
    }
    json!({"type": "object", "properties": props, "required": required})
}

/// The object schema with `properties` properties over 5 levels; `edited`
/// carries a few breaking edits (one leaf in 700).
pub fn generated(properties: usize, edited: bool) -> Value {
    object(properties, 0, &mut 0, edited)
}

/// A crafted shape: (old, new) at a size.
pub type Shape = fn(usize) -> (Value, Value);

/// The crafted shapes of issue 18, each with its name and the size that
/// is 1x (16x is the size of the red-team probe).
pub fn crafted() -> [(&'static str, usize, Shape); 4] {
    [
        ("enum_vs_reverse", 6_250, |n| {
            (big_enum(n, false), big_enum(n, true))
        }),
        ("removed_properties_vs_added_patterns", 625, |n| {
            (properties(n), patterns(n))
        }),
        ("reader_with_patterns", 2_500, |n| {
            let writer = json!({"type": "object", "properties": {"p7": {"type": "string"}}});
            (writer, patterns(n))
        }),
        ("ref_fan_out", 3, |n| (fan_out(n, "string"), fan_out(n, "number"))),
    ]
}

/// The hostile shapes of issue 18.
///
/// An `enum` of `n` strings, in order or reversed.
pub fn big_enum(n: usize, reversed: bool) -> Value {
    let mut values: Vec<Value> = (0..n).map(|i| json!(format!("v{i}"))).collect();
    if reversed {
        values.reverse();
    }
    json!({ "enum": values })
}

/// A closed object with `n` string properties `p0`, `p1`…
pub fn properties(n: usize) -> Value {
    let props: Map<String, Value> = (0..n)
        .map(|i| (format!("p{i}"), json!({"type": "string"})))
        .collect();
    json!({"type": "object", "properties": props, "additionalProperties": false})
}

/// A closed object with `n` pattern properties, one per name of
/// [`properties`].
pub fn patterns(n: usize) -> Value {
    let pats: Map<String, Value> = (0..n)
        .map(|i| (format!("^p{i}(_[a-z]+)?$"), json!({"type": "string"})))
        .collect();
    json!({"type": "object", "patternProperties": pats, "additionalProperties": false})
}

/// Definitions that each reach the next one twice: the pairs to compare
/// stay few, but the places they are reached from double at each level.
pub fn fan_out(levels: usize, leaf: &str) -> Value {
    let mut defs = Map::new();
    for i in 0..levels {
        let next = format!("#/definitions/d{}", i + 1);
        defs.insert(
            format!("d{i}"),
            json!({"type": "object", "properties": {"a": {"$ref": next}, "b": {"$ref": next}}}),
        );
    }
    defs.insert(format!("d{levels}"), json!({"type": leaf}));
    json!({"$ref": "#/definitions/d0", "definitions": defs})
}

/// A configuration schema shaped like the large public ones (many options,
/// each with a description, a default, often an enum or a nested object,
/// definitions reached through `$ref`, some `oneOf` and `if`/`then`), about
/// 45 KB for `options = 240`; `revision` 1 is a later version that changes
/// most options in small ways (descriptions, defaults, enums, bounds,
/// types, required names, added and removed options), as a year of real
/// history does.
pub fn configuration(options: usize, revision: u32) -> Value {
    let later = revision > 0;
    let mut props = Map::new();
    let mut required = Vec::new();
    for i in 0..options {
        // Some options exist in one version only.
        if later && i % 37 == 5 {
            continue;
        }
        let changed = later && i % 3 != 0;
        let description = if changed {
            format!("Option {i}: what it does, and when to change it (revised).")
        } else {
            format!("Option {i}: what it does, and when to change it.")
        };
        let option = match i % 8 {
            0 => json!({"type": "string", "description": description, "default": "auto",
                        "enum": if changed && i % 2 == 0 { json!(["auto", "always", "never", "fallback"]) }
                                else if changed { json!(["auto", "always"]) }
                                else { json!(["auto", "always", "never"]) }}),
            1 => json!({"type": if changed && i % 5 == 1 { "integer" } else { "number" },
                        "description": description, "default": 1, "minimum": 0,
                        "maximum": if changed { 50 } else { 100 }}),
            2 => json!({"type": "boolean", "description": description, "default": changed}),
            3 => json!({"type": "array", "description": description,
                        "items": {"type": "string", "maxLength": if changed { 64 } else { 128 },
                                  "description": if changed { "An item, revised." } else { "An item." }},
                        "uniqueItems": changed}),
            4 => json!({"$ref": "#/definitions/rule", "description": description}),
            5 => json!({"description": description, "oneOf": [
                        {"type": "string", "pattern": "^[a-z]+$"},
                        {"type": "array", "items": {"type": "string"}, "maxItems": if changed { 4 } else { 8 }}]}),
            6 => json!({"type": "object", "description": description,
                        "properties": {"enabled": {"type": "boolean", "description": if changed { "On, revised." } else { "On." }},
                                       "schedule": {"type": "string", "format": if changed { "date-time" } else { "date" }},
                                       "labels": {"type": "array", "items": {"type": "string"}, "title": if changed { "Labels (v2)" } else { "Labels" }}},
                        "additionalProperties": !changed}),
            _ => json!({"type": "string", "description": description,
                        "minLength": if changed { 2 } else { 1 }, "examples": [format!("value-{i}")]}),
        };
        if i % 11 == 0 || (later && i % 13 == 0) {
            required.push(json!(format!("option{i}")));
        }
        // Annotations that change in most revisions.
        let mut option = option;
        option["title"] = json!(format!("Option {i}{}", if changed { " (v2)" } else { "" }));
        option["markdownDescription"] = json!(format!(
            "**Option {i}**{}",
            if changed { ", revised" } else { "" }
        ));
        if changed {
            option["deprecationMessage"] = json!("Use the newer option instead.");
        }
        props.insert(format!("option{i}"), option);
    }
    if later {
        for i in 0..options / 10 {
            props.insert(
                format!("added{i}"),
                json!({"type": "string", "description": "An option of the later version."}),
            );
        }
    }
    let rule = json!({"type": "object", "properties": {
        "matchNames": {"type": "array", "items": {"type": "string"}},
        "enabled": {"type": "boolean"},
        "priority": {"type": "integer", "minimum": 0, "maximum": if later { 10 } else { 20 }}},
        "if": {"required": ["enabled"]}, "then": {"required": ["matchNames"]}});
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Configuration",
        "type": "object",
        "properties": props,
        "required": required,
        "definitions": {"rule": rule}
    })
}
