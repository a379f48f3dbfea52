//! Whether a schema node accepts one given value, where the model can tell.
//!
//! A schema that lists its values (`enum`, `const`) or whose type has only
//! a few (`boolean`, `null`) accepts a finite set of documents. When such a
//! schema becomes one of another kind (`enum: ["a", "b"]` becomes `type:
//! string`), the change keeps every document exactly when the new schema
//! accepts each listed value, which this module decides value by value.
//!
//! The answer is three-valued: `Some(true)` and `Some(false)` are certain,
//! `None` means the model cannot tell (a `format`, a pattern the regex
//! engine cannot decide, a condition kept as text, an object or array value,
//! a number too large for exact comparison, work past a bound). Callers take
//! `None` as "may be rejected", so a doubt never turns into a compatible
//! verdict.

use crate::model::{Arena, Criterion, Draft, Id, Kind, NumberNode, StringNode};
use foldhash::{HashMap, HashMapExt};
use regex::Regex;
use serde_json::Value;

/// Nodes visited for one value at most, and how deep: references may
/// loop, and a hostile schema may nest deeply.
const STEPS: usize = 4096;
const DEPTH: usize = 64;
/// Nodes [`accepts_everything`] visits at most.
const EVERYTHING_STEPS: usize = 256;

/// Listed values decided at most: past this, a list is treated as unknown.
pub(crate) const LISTED: usize = 256;

/// The values a node accepts when they are few and listed: `enum`,
/// `const`, `boolean`, `null`, and an `anyOf`/`oneOf` of such nodes (a
/// `oneOf` whose parts share no value). `None` for any other node.
pub(crate) fn listed(arena: &Arena, id: Id) -> Option<Vec<Value>> {
    let (id, _) = arena.resolve(id);
    match &arena.node(id).kind {
        Kind::Enum(values) if values.len() <= LISTED => Some(values.clone()),
        Kind::Const(value) => Some(vec![value.clone()]),
        Kind::Boolean => Some(vec![Value::Bool(false), Value::Bool(true)]),
        Kind::Null => Some(vec![Value::Null]),
        Kind::Combined(criterion @ (Criterion::Any | Criterion::One), parts, _) => {
            let mut seen = foldhash::HashSet::default();
            let mut all = Vec::new();
            for &p in parts {
                // Parts are plain lists, not further unions: bounded work.
                let (p, _) = arena.resolve(p);
                if matches!(arena.node(p).kind, Kind::Combined(..)) {
                    return None;
                }
                let mut own = foldhash::HashSet::default();
                for v in listed(arena, p)? {
                    let key = crate::rules::enums::key(&v);
                    if !own.insert(key.clone()) {
                        continue;
                    }
                    if seen.insert(key) {
                        all.push(v);
                    } else if *criterion == Criterion::One {
                        // In two parts of a `oneOf`: rejected.
                        return None;
                    }
                }
                if all.len() > LISTED {
                    return None;
                }
            }
            Some(all)
        }
        _ => None,
    }
}

/// Whether a node of one type constrains nothing beyond its type (the
/// `type` keyword itself aside): no bound, pattern or member rule. Its
/// subschemas count as no constraint when `free` says they accept every
/// value.
pub(crate) fn unconstrained(kind: &Kind, free: &mut dyn FnMut(Id) -> bool) -> bool {
    match kind {
        Kind::String(s) => {
            s.min_length.is_none() && s.max_length.is_none() && s.pattern.is_none() && s.format.is_none()
        }
        Kind::Number(n) => !n.integer && unbounded(n),
        Kind::Boolean | Kind::Null | Kind::Empty => true,
        Kind::Object(o) => {
            o.required.is_empty()
                && o.min_properties.is_none()
                && o.max_properties.is_none()
                && o.additional.permits
                && o.dependency_arrays.values().all(|names| names.is_empty())
                && o.properties.iter().all(|(_, id)| free(*id))
                && o.pattern_properties.iter().all(|(_, id)| free(*id))
                && o.additional.schema.is_none_or(&mut *free)
                && o.unevaluated.is_none_or(&mut *free)
                && o.property_names.is_none_or(&mut *free)
                && o.dependency_schemas.values().all(|id| free(*id))
        }
        Kind::Array(a) => {
            a.contains.is_none()
                && a.min_items.is_none()
                && a.max_items.is_none()
                && !a.unique_items
                && a.additional.permits
                && a.all_items.is_none_or(&mut *free)
                && a.prefix.iter().all(|id| free(*id))
                && a.additional.schema.is_none_or(&mut *free)
                && a.unevaluated.is_none_or(&mut *free)
        }
        _ => false,
    }
}

/// Whether a number node has no bound and no `multipleOf`.
pub(crate) fn unbounded(n: &NumberNode) -> bool {
    n.minimum.is_none()
        && n.maximum.is_none()
        && n.exclusive_minimum.is_none()
        && n.exclusive_maximum.is_none()
        && n.multiple_of.is_none()
}

/// Whether `id` accepts every value, as far as the model tells: `{}`, or
/// keywords of some type without `type` that constrain nothing
/// (`{"properties": {}}`). `false` when unsure.
pub(crate) fn accepts_everything(arena: &Arena, id: Id) -> bool {
    fn walk(arena: &Arena, id: Id, depth: usize, steps: &mut usize) -> bool {
        if depth > DEPTH || *steps == 0 {
            return false;
        }
        *steps -= 1;
        let (id, _) = arena.resolve(id);
        let kind = &arena.node(id).kind;
        let mut sub = |sub: Id| walk(arena, sub, depth + 1, steps);
        match kind {
            Kind::Empty => true,
            Kind::String(s) if !s.required_type => unconstrained(kind, &mut |_| false),
            Kind::Number(n) if !n.required_type => unconstrained(kind, &mut |_| false),
            Kind::Object(o) if !o.required_type => unconstrained(kind, &mut sub),
            Kind::Array(a) if !a.required_type => unconstrained(kind, &mut sub),
            Kind::Combined(Criterion::All, parts, _) => parts.iter().all(|&p| sub(p)),
            Kind::Combined(Criterion::Any, parts, _) => parts.iter().any(|&p| sub(p)),
            _ => false,
        }
    }
    // A schema that accepts every value is written small; a large one is
    // not worth the walk.
    let mut steps = EVERYTHING_STEPS;
    walk(arena, id, 0, &mut steps)
}

/// Whether `id` accepts `value`; `None` when the model cannot tell.
#[cfg(test)]
pub(crate) fn admits(arena: &Arena, id: Id, value: &Value) -> Option<bool> {
    admits_each(arena, id, std::slice::from_ref(value)).0[0]
}

/// Whether `id` accepts each of `values`, in their order; `None` where the
/// model cannot tell. The work is bounded for all of them together, and
/// each pattern is compiled once. Also returns the nodes visited.
pub(crate) fn admits_each(arena: &Arena, id: Id, values: &[Value]) -> (Vec<Option<bool>>, usize) {
    let mut judge = Judge {
        arena,
        steps: STEPS * 4,
        patterns: HashMap::new(),
    };
    let answers = values.iter().map(|v| judge.eval(id, v, 0)).collect();
    (answers, STEPS * 4 - judge.steps)
}

struct Judge<'a> {
    arena: &'a Arena,
    /// Nodes left to visit, for every value.
    steps: usize,
    /// Patterns compiled so far; `None` for one the regex engine cannot read.
    patterns: HashMap<&'a str, Option<Regex>>,
}

impl<'a> Judge<'a> {
    fn eval(&mut self, id: Id, v: &Value, depth: usize) -> Option<bool> {
        self.steps = self.steps.checked_sub(1)?;
        if depth > DEPTH {
            return None;
        }
        let deeper = depth + 1;
        let arena = self.arena;
        match &arena.node(id).kind {
            Kind::Empty => Some(true),
            Kind::False => Some(false),
            Kind::Ref(target) => self.eval(*target, v, deeper),
            Kind::String(s) => self.string(s, v),
            Kind::Number(n) => number(n, v, arena.draft),
            Kind::Boolean => Some(v.is_boolean()),
            Kind::Null => Some(v.is_null()),
            // Objects and arrays are not decided member by member: only their
            // type is.
            Kind::Object(o) => (!v.is_object()).then_some(!o.required_type),
            Kind::Array(a) => (!v.is_array()).then_some(!a.required_type),
            Kind::Enum(values) => {
                let key = crate::rules::enums::key(v);
                Some(values.iter().any(|x| crate::rules::enums::key(x) == key))
            }
            Kind::Const(c) => Some(crate::rules::enums::key(c) == crate::rules::enums::key(v)),
            Kind::Combined(criterion, parts, _) => {
                let mut answers = Vec::with_capacity(parts.len());
                for &p in parts {
                    answers.push(self.eval(p, v, deeper));
                }
                combine(*criterion, &answers)
            }
            Kind::Not(inner) => self.eval(*inner, v, deeper).map(|a| !a),
            // The condition is kept as text; only branches that agree decide.
            Kind::Conditional { then, otherwise, .. } => {
                let then = then.map_or(Some(true), |b| self.eval(b, v, deeper));
                let otherwise = otherwise.map_or(Some(true), |b| self.eval(b, v, deeper));
                match (then, otherwise) {
                    (Some(a), Some(b)) if a == b => Some(a),
                    _ => None,
                }
            }
        }
    }

    fn string(&mut self, s: &'a StringNode, v: &Value) -> Option<bool> {
        let Value::String(text) = v else {
            return Some(!s.required_type);
        };
        // Lengths count code points.
        let length = text.chars().count() as f64;
        if s.min_length.is_some_and(|m| length < m) || s.max_length.is_some_and(|m| length > m) {
            return Some(false);
        }
        if let Some(p) = &s.pattern {
            let regex = self
                .patterns
                .entry(p.as_str())
                .or_insert_with(|| crate::patterns::compile(p))
                .as_ref()?;
            if !regex.is_match(text) {
                return Some(false);
            }
        }
        // Whether a value meets a `format` depends on the validator.
        if s.format.is_some() {
            return None;
        }
        Some(true)
    }
}

/// `allOf`: every part; `anyOf`: at least one; `oneOf`: exactly one.
fn combine(criterion: Criterion, answers: &[Option<bool>]) -> Option<bool> {
    let yes = answers.iter().filter(|a| **a == Some(true)).count();
    let unknown = answers.iter().filter(|a| a.is_none()).count();
    match criterion {
        Criterion::All if yes == answers.len() => Some(true),
        Criterion::All if answers.contains(&Some(false)) => Some(false),
        Criterion::Any if yes > 0 => Some(true),
        Criterion::Any if unknown == 0 => Some(false),
        Criterion::One if unknown == 0 => Some(yes == 1),
        Criterion::One if yes > 1 => Some(false),
        _ => None,
    }
}

fn number(n: &NumberNode, v: &Value, draft: Draft) -> Option<bool> {
    let Value::Number(x) = v else {
        return Some(!n.required_type);
    };
    // Exactly representable: integers within 2^53, or any float as written.
    let exact = x.as_i64().map_or(x.is_f64(), |i| i.unsigned_abs() <= 1 << 53);
    let f = x.as_f64()?;
    if !exact {
        return None;
    }
    if n.integer && !(x.is_i64() || x.is_u64()) && (f.fract() != 0.0 || draft < Draft::D6) {
        // `1.0` is an integer from draft 6 on; draft 4 reads only numbers
        // written without a fraction as integers, which validators of it
        // do not all follow.
        return if f.fract() == 0.0 { None } else { Some(false) };
    }
    let below = |bound: Option<f64>, strict: bool| bound.is_some_and(|b| if strict { f <= b } else { f < b });
    let above = |bound: Option<f64>, strict: bool| bound.is_some_and(|b| if strict { f >= b } else { f > b });
    if below(n.minimum, false)
        || below(n.exclusive_minimum, true)
        || above(n.maximum, false)
        || above(n.exclusive_maximum, true)
    {
        return Some(false);
    }
    if let Some(m) = n.multiple_of {
        // Decided for integers only, where every validator agrees.
        let i = x.as_i64()?;
        if m.fract() != 0.0 || m <= 0.0 || m > (1u64 << 53) as f64 {
            return None;
        }
        return Some(i % (m as i64) == 0);
    }
    Some(true)
}

#[cfg(test)]
mod tests {
    use super::{admits, listed};
    use crate::model::{Draft, Loader};
    use serde_json::{Value, json};

    fn decide_in(draft: Draft, schema: Value, value: Value) -> Option<bool> {
        let (arena, _) = Loader::load(&schema, draft, 32, 0).expect("a schema");
        admits(&arena, arena.root, &value)
    }

    fn decide(schema: Value, value: Value) -> Option<bool> {
        decide_in(Draft::D7, schema, value)
    }

    #[test]
    fn a_whole_float_is_an_integer_from_draft_6_on() {
        assert_eq!(
            decide_in(Draft::D6, json!({"type": "integer"}), json!(2.0)),
            Some(true)
        );
        assert_eq!(decide_in(Draft::D4, json!({"type": "integer"}), json!(2.0)), None);
        assert_eq!(
            decide_in(Draft::D4, json!({"type": "integer"}), json!(2)),
            Some(true)
        );
    }

    #[test]
    fn unions_of_lists_are_lists_unless_a_one_of_repeats_a_value() {
        let load = |schema: Value| Loader::load(&schema, Draft::D7, 32, 0).expect("a schema").0;
        let any = load(json!({"anyOf": [{"const": "a"}, {"enum": ["a", "b"]}]}));
        assert_eq!(listed(&any, any.root), Some(vec![json!("a"), json!("b")]));
        let one = load(json!({"oneOf": [{"const": "a"}, {"const": "b"}, {"type": "null"}]}));
        assert_eq!(
            listed(&one, one.root),
            Some(vec![json!("a"), json!("b"), json!(null)])
        );
        // "a" matches two alternatives, so the `oneOf` rejects it.
        let overlapping = load(json!({"oneOf": [{"const": "a"}, {"enum": ["a", "b"]}]}));
        assert_eq!(listed(&overlapping, overlapping.root), None);
        let open = load(json!({"anyOf": [{"const": "a"}, {"type": "string"}]}));
        assert_eq!(listed(&open, open.root), None);
    }

    #[test]
    fn values_are_decided_as_the_specification_says() {
        // (schema, value, expected), each worked out from the keyword's
        // definition in JSON Schema Validation.
        let rows = [
            (json!({"type": "string", "maxLength": 2}), json!("ab"), Some(true)),
            (
                json!({"type": "string", "maxLength": 2}),
                json!("abc"),
                Some(false),
            ),
            // Length counts code points: one emoji is one.
            (json!({"type": "string", "maxLength": 1}), json!("😀"), Some(true)),
            (
                json!({"type": "string", "pattern": "^a"}),
                json!("ba"),
                Some(false),
            ),
            (
                json!({"type": "string", "pattern": "^a"}),
                json!("ab"),
                Some(true),
            ),
            (json!({"maxLength": 1}), json!(12), Some(true)),
            (json!({"type": "string"}), json!(12), Some(false)),
            (json!({"type": "string", "format": "date"}), json!("x"), None),
            (json!({"type": "integer", "minimum": 1}), json!(1), Some(true)),
            (
                json!({"type": "integer", "exclusiveMinimum": 1}),
                json!(1),
                Some(false),
            ),
            (json!({"type": "integer"}), json!(1.5), Some(false)),
            // Draft 7 (these rows' draft): `1.0` is an integer.
            (json!({"type": "integer"}), json!(1.0), Some(true)),
            (json!({"type": "number", "multipleOf": 3}), json!(9), Some(true)),
            (json!({"type": "number", "multipleOf": 3}), json!(10), Some(false)),
            (json!({"type": "number", "multipleOf": 0.1}), json!(0.3), None),
            (json!({"type": ["string", "null"]}), json!(null), Some(true)),
            (json!({"type": ["string", "null"]}), json!(true), Some(false)),
            (
                json!({"oneOf": [{"type": "integer"}, {"type": "number"}]}),
                json!(1),
                Some(false),
            ),
            (
                json!({"oneOf": [{"type": "integer"}, {"type": "number"}]}),
                json!(1.5),
                Some(true),
            ),
            (json!({"not": {"enum": ["a"]}}), json!("b"), Some(true)),
            (json!({"enum": [1, "a"]}), json!(1.0), Some(true)),
            (json!({"type": "object"}), json!({}), None),
            (json!({"type": "object"}), json!("a"), Some(false)),
            (
                json!({"$ref": "#/definitions/s", "definitions": {"s": {"type": "string"}}}),
                json!("a"),
                Some(true),
            ),
            (
                json!({"if": {"type": "string"}, "then": {"minLength": 1}}),
                json!(""),
                None,
            ),
            (
                json!({"if": {"type": "string"}, "then": {"type": "string"}, "else": {"type": "string"}}),
                json!(1),
                Some(false),
            ),
        ];
        for (schema, value, expected) in rows {
            assert_eq!(
                decide(schema.clone(), value.clone()),
                expected,
                "{schema} with {value}"
            );
        }
    }

    #[test]
    fn the_work_for_many_values_is_bounded_together() {
        // 256 values against 200 alternatives each: more nodes than the
        // budget for all values, so the last ones are left undecided.
        let patterns: Vec<Value> = (0..200)
            .map(|i| json!({"type": "string", "pattern": format!("^v{i}$")}))
            .collect();
        let schema = json!({"anyOf": patterns});
        let (arena, _) = Loader::load(&schema, Draft::D7, 32, 0).expect("a schema");
        let values: Vec<Value> = (0..256).map(|i| json!(format!("v{i}"))).collect();
        let (answers, visited) = super::admits_each(&arena, arena.root, &values);
        assert_eq!(visited, super::STEPS * 4);
        assert_eq!(answers[0], Some(true));
        assert_eq!(answers[255], None);
    }

    #[test]
    fn a_recursive_schema_ends_unknown_rather_than_loop() {
        let schema = json!({"anyOf": [{"$ref": "#"}, {"$ref": "#"}]});
        assert_eq!(decide(schema.clone(), json!(1)), None);
        // Each level doubles the ways down: the bound on nodes visited,
        // not the depth, ends the walk, and the answer is the cautious one.
        let (arena, _) = Loader::load(&schema, Draft::D7, 32, 0).expect("a schema");
        assert!(!super::accepts_everything(&arena, arena.root));
    }
}
