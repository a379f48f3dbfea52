//! JSON text to a `serde_json::Value`, each object built at once from its
//! members rather than by one insertion per member, with the nesting limit
//! enforced as the text is read.
//!
//! `serde_json` reads an object into its map (a B-tree) member by member:
//! each insertion searches the node and shifts the members after it, and a
//! map of thousands of properties splits its nodes as it grows. Here the
//! members of an object are gathered first, on one stack shared by the whole
//! document, and the map is built from them in one go (sorted, then laid
//! into full nodes), or, for an object of a few members that fit one node,
//! by inserting them. The value is the same as `serde_json::from_str` gives,
//! duplicate keys included: the last one wins, as there.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Objects of at most this many members are built by insertion, larger
/// ones in one go from their sorted members.
const SMALL_OBJECT: usize = 8;

/// Why a text is not read.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// It is not one JSON value (or nests deeper than `serde_json` reads).
    Json(serde_json::Error),
    /// It nests deeper than the limit, at this 1-based line and column
    /// (of the bracket that crosses it).
    TooDeep { line: usize, column: usize },
}

/// A document read, and how many objects it has.
pub(crate) struct Read {
    pub(crate) value: Value,
    pub(crate) objects: usize,
}

/// Parses `text` as one JSON value, with `serde_json`'s grammar, nesting
/// limit and errors, refusing objects and arrays nested more than
/// `max_depth` deep as soon as the bracket that crosses the limit is read.
pub(crate) fn parse(text: &str, max_depth: usize) -> Result<Read, Refusal> {
    let mut de = serde_json::Deserializer::from_str(text);
    let mut state = State {
        members: Vec::new(),
        objects: 0,
        max_depth,
        too_deep: false,
    };
    let read = Seed {
        state: &mut state,
        depth: 0,
    }
    .deserialize(&mut de)
    .and_then(|value| de.end().map(|()| value));
    match read {
        Ok(value) => Ok(Read {
            value,
            objects: state.objects,
        }),
        // The position is where the reader stood when the visitor refused:
        // just past the bracket, which is that bracket's 1-based column.
        Err(e) if state.too_deep => Err(Refusal::TooDeep {
            line: e.line(),
            column: e.column(),
        }),
        Err(e) => Err(Refusal::Json(e)),
    }
}

/// What the reading of one document shares across its levels.
struct State {
    /// The members of the objects being read, innermost last.
    members: Vec<(String, Value)>,
    /// Objects begun so far.
    objects: usize,
    max_depth: usize,
    /// Set when the reading stopped at the nesting limit.
    too_deep: bool,
}

/// Reads one value, inside `depth` objects and arrays.
struct Seed<'s> {
    state: &'s mut State,
    depth: usize,
}

impl Seed<'_> {
    /// The depth of this container's members or items, or the refusal of
    /// one more level.
    fn enter<E: de::Error>(&mut self) -> Result<usize, E> {
        let depth = self.depth + 1;
        if depth > self.state.max_depth {
            self.state.too_deep = true;
            return Err(E::custom("nesting too deep"));
        }
        Ok(depth)
    }
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

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Value, A::Error> {
        let depth = self.enter()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Seed {
            state: &mut *self.state,
            depth,
        })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Value, A::Error> {
        let depth = self.enter()?;
        self.state.objects += 1;
        let start = self.state.members.len();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Seed {
                state: &mut *self.state,
                depth,
            })?;
            self.state.members.push((key, value));
        }
        let members = self.state.members.drain(start..);
        let object: Map<String, Value> = if members.len() <= SMALL_OBJECT {
            // A few members fit in one node: inserting them costs less than
            // the list the bulk build gathers first. Each insertion replaces
            // an equal key read before it.
            let mut object = Map::new();
            for (key, value) in members {
                object.insert(key, value);
            }
            object
        } else {
            // A stable sort keeps equal keys in the order read, and the map
            // keeps the last of them.
            members.collect()
        };
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

    /// What [`parse`] reads from `text` without a nesting limit of its own.
    fn ours(text: &str) -> Result<Value, String> {
        match parse(text, usize::MAX) {
            Ok(read) => Ok(read.value),
            Err(Refusal::Json(e)) => Err(e.to_string()),
            Err(Refusal::TooDeep { .. }) => Err("too deep".into()),
        }
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
            assert_eq!(ours(text), reference(text), "{text}");
        }
        // The last of equal keys wins, as in serde_json, in small objects
        // and in large ones.
        let v = ours(r#"{"k": 1, "k": 2}"#).unwrap();
        assert_eq!(v["k"], 2);
        let members: Vec<String> = (0..40).map(|i| format!("\"k{}\": {i}", i % 7)).collect();
        let large = format!("{{{}}}", members.join(", "));
        let v = ours(&large).unwrap();
        assert_eq!(v.as_object().map(Map::len), Some(7));
        assert_eq!(v["k0"], 35);
        assert_eq!(v["k6"], 34);
        assert_eq!(Ok(v), reference(&large));
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
            let read = ours(text);
            assert!(read.is_err(), "{text}");
            assert_eq!(read, reference(text), "{text}");
        }
    }

    fn depth_refusal(text: &str, max_depth: usize) -> Option<(usize, usize)> {
        match parse(text, max_depth) {
            Err(Refusal::TooDeep { line, column }) => Some((line, column)),
            _ => None,
        }
    }

    #[test]
    fn nesting_is_refused_at_the_bracket_that_crosses_the_limit() {
        // The second `[` of line 2 is its 8th character, the third level.
        assert_eq!(depth_refusal("{\n \"a\": [[1]]}", 2), Some((2, 8)));
        assert!(parse("{\n \"a\": [[1]]}", 3).is_ok());
        // Brackets in strings are text, not nesting.
        assert!(parse(r#"{"a":"[[[[{{{{"}"#, 1).is_ok());
        assert!(parse(r#"{"a\\":"\"[[["}"#, 1).is_ok());
        // Nesting past the limit is refused before the text goes wrong.
        assert_eq!(depth_refusal(&"[".repeat(10_000), 64), Some((1, 65)));
        // A text that goes wrong first is refused as JSON.
        assert!(matches!(parse("[[} [[[[", 3), Err(Refusal::Json(_))));
    }

    #[test]
    fn objects_are_counted_outside_strings() {
        let read = parse(r#"{"a": [{}, {"b": {}}], "c": "{{", "d": [[]]}"#, 64).unwrap();
        assert_eq!(read.objects, 4);
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
                proptest::collection::vec(("[a-d]{0,2}", inner), 0..24).prop_map(|members| {
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
            proptest::prop_assert_eq!(ours(&text), reference(&text));
        }
    }
}
