//! JSON text to a `serde_json::Value`, each object built at once from its
//! members rather than by one insertion per member.
//!
//! `serde_json` reads an object into its map (a B-tree) member by member:
//! each insertion searches the node and shifts the members after it, and a
//! map of thousands of properties splits its nodes as it grows. Here the
//! members of an object are gathered first, on one stack shared by the whole
//! document, and the map is built from them in one go (sorted, then laid
//! into full nodes). The value is the same as `serde_json::from_str` gives,
//! duplicate keys included: the last one wins, as there.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Parses `text` as one JSON value, with `serde_json`'s grammar, nesting
/// limit and errors.
pub(crate) fn parse(text: &str) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let mut members = Vec::new();
    let value = Seed {
        members: &mut members,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// Reads one value; `members` holds the members of the objects being read,
/// innermost last.
struct Seed<'s> {
    members: &'s mut Vec<(String, Value)>,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // JSON text has no NaN or infinity: `Null` is never reached.
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Seed {
            members: &mut *self.members,
        })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let start = self.members.len();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Seed {
                members: &mut *self.members,
            })?;
            self.members.push((key, value));
        }
        // A stable sort keeps equal keys in the order read, and the map
        // keeps the last of them.
        let object: Map<String, Value> = self.members.drain(start..).collect();
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `serde_json` itself reads from `text`.
    fn reference(text: &str) -> Result<Value, String> {
        serde_json::from_str::<Value>(text).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_what_serde_json_reads() {
        for text in [
            r#"{"b": 1, "a": [true, null, {"y": -2, "x": 1.5e300}], "c": {}}"#,
            r#"{"k": 1, "k": 2, "j": {"k": [], "k": {"z": 0}}, "k": 3}"#,
            r#"[18446744073709551615, -9223372036854775808, 0.1, -0.0, 1E2]"#,
            r#""\u00e9\ud83d\ude00\n""#,
            r#"{"a\"b": "", "": ""}"#,
            "  7 ",
            "[]",
            "{}",
        ] {
            assert_eq!(parse(text).map_err(|e| e.to_string()), reference(text), "{text}");
        }
        // The last of equal keys wins, as in serde_json.
        let v = parse(r#"{"k": 1, "k": 2}"#).unwrap();
        assert_eq!(v["k"], 2);
    }

    #[test]
    fn refuses_what_serde_json_refuses_with_its_message() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        for text in [
            "",
            "{",
            r#"{"a": 1,}"#,
            "[1 2]",
            "1 2",
            "NaN",
            "1e999",
            r#"{"a" 1}"#,
            "\"\u{1}\"",
            &deep,
        ] {
            let ours = parse(text).map_err(|e| e.to_string());
            assert!(ours.is_err(), "{text}");
            assert_eq!(ours, reference(text), "{text}");
        }
    }

    /// JSON text with keys drawn from a few names (so objects repeat some),
    /// numbers of every kind, escapes and nesting.
    fn text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just("null".to_owned()),
            any::<bool>().prop_map(|b| b.to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| format!("{f:e}")),
            "[a-c\\\\\"é\\u{1F600}]{0,4}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6)
                    .prop_map(|items| format!("[{}]", items.join(","))),
                proptest::collection::vec(("[a-d]{0,2}", inner), 0..8).prop_map(|members| {
                    let members: Vec<String> = members
                        .into_iter()
                        .map(|(k, v)| format!("{}: {v}", serde_json::to_string(&k).unwrap()))
                        .collect();
                    format!("{{ {} }}", members.join(", "))
                }),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn any_text_reads_as_serde_json_reads_it(text in text()) {
            proptest::prop_assert_eq!(parse(&text).map_err(|e| e.to_string()), reference(&text));
        }
    }
}
