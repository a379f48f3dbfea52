//! From a JSON value to a checked schema (the text's size and nesting are
//! bounded as it is read, in `json`): the draft's meta-schema, then every
//! `$ref` resolved inside the document.

use crate::model::{Arena, Draft, Loader};
use crate::{Error, ParseOptions, Warning};
use serde_json::Value;

/// The nesting depth of a value, without recursion.
fn depth_of(value: &Value, max: usize) -> Option<usize> {
    let mut stack = vec![(value, 0usize)];
    let mut deepest = 0;
    while let Some((v, d)) = stack.pop() {
        let d = d + 1;
        match v {
            Value::Array(a) => stack.extend(a.iter().map(|c| (c, d))),
            Value::Object(o) => stack.extend(o.values().map(|c| (c, d))),
            _ => continue,
        }
        deepest = deepest.max(d);
        if deepest > max {
            return Some(deepest);
        }
    }
    None
}

/// The draft a document is written in: its `$schema`, or `default`. A
/// `$schema` that names no draft Accord knows is read in `default` with a
/// warning, or refused when `strict`.
fn draft_of(value: &Value, default: Draft, strict: bool) -> Result<(Draft, Option<Warning>), Error> {
    match value.get("$schema") {
        None => Ok((default, None)),
        Some(Value::String(uri)) => match Draft::from_uri(uri) {
            Some(d) => Ok((d, None)),
            None if strict => Err(Error::InvalidSchema {
                path: "#/$schema".into(),
                message: format!(
                    "unknown `$schema` {uri:?}; Accord reads drafts 4, 6, 7, 2019-09 and 2020-12"
                ),
            }),
            None => Ok((
                default,
                Some(Warning {
                    path: "#/$schema".into(),
                    message: format!(
                        "unknown `$schema` {uri:?}: read as draft {default}, the default; \
                         Accord knows drafts 4, 6, 7, 2019-09 and 2020-12"
                    ),
                }),
            )),
        },
        Some(_) => Err(Error::InvalidSchema {
            path: "#/$schema".into(),
            message: "`$schema` must be a string".into(),
        }),
    }
}

fn meta_validate(value: &Value, draft: Draft) -> Result<(), Error> {
    let meta = match draft {
        Draft::D4 => jsonschema::draft4::meta::validator(),
        Draft::D6 => jsonschema::draft6::meta::validator(),
        Draft::D7 => jsonschema::draft7::meta::validator(),
        Draft::D2019 => jsonschema::draft201909::meta::validator(),
        Draft::D2020 => jsonschema::draft202012::meta::validator(),
    };
    // Most documents are valid, which the boolean check tells for a fraction
    // of the cost of collecting an error; only a refusal needs the error.
    if meta.is_valid(value) {
        return Ok(());
    }
    let result = meta.validate(value);
    result.map_err(|e| {
        let at = e.instance_path().to_string();
        Error::InvalidSchema {
            path: format!("#{at}"),
            message: e.to_string(),
        }
    })
}

/// Checks a JSON value and reads it into the engine's form; also returns
/// the draft it was read in, and what a reader should know about it.
/// `objects`: how many objects the text it was read from has, when that
/// text was read with its nesting bounded (`json::parse`).
pub(crate) fn build(
    value: &Value,
    options: &ParseOptions,
    objects: Option<usize>,
) -> Result<(Arena, Draft, Vec<Warning>), Error> {
    let limits = &options.limits;
    if !matches!(value, Value::Object(_) | Value::Bool(_)) {
        return Err(Error::InvalidSchema {
            path: "#".into(),
            message: "a schema must be an object or a boolean".into(),
        });
    }
    if objects.is_none()
        && let Some(d) = depth_of(value, limits.max_depth)
    {
        return Err(Error::LimitExceeded {
            limit: "nesting depth",
            value: d,
            max: limits.max_depth,
        });
    }
    let (draft, unknown) = draft_of(value, limits.default_draft, options.strict_schema)?;
    meta_validate(value, draft)?;
    let (arena, mut warnings) = Loader::load(value, draft, limits.max_ref_hops, objects.unwrap_or(0))?;
    warnings.splice(0..0, unknown);
    Ok((arena, draft, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_depth_is_measured_iteratively() {
        let v: Value = serde_json::from_str(r#"{"a":[{"b":1}]}"#).unwrap();
        assert_eq!(depth_of(&v, 2), Some(3));
        assert_eq!(depth_of(&v, 3), None);
    }
}
