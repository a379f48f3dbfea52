//! Candidate values for witnesses and the soundness probe: drawn from the
//! schemas on both sides of a comparison (bounds and one past them, enum
//! members, every type either side allows...), within fixed bounds so that
//! a hostile schema costs a fixed amount of work.

pub(super) use crate::model::percent_decode;
use serde_json::{Map, Value, json};

/// Most values the sampler returns for one place.
pub(super) const MAX_SAMPLES: usize = 48;
/// Deepest nesting the sampler descends into.
pub(super) const MAX_DEPTH: usize = 6;
/// Subschemas the sampler may visit for one request, whatever the schema.
pub(super) const MAX_VISITS: usize = 1500;
/// Longest string the sampler builds.
const MAX_STRING: usize = 256;
/// Longest array the sampler builds.
pub(super) const MAX_ARRAY: usize = 16;
/// Most properties the sampler varies in one object.
const MAX_PROPERTIES: usize = 48;
/// Most required properties an object sample fills in.
const MAX_REQUIRED: usize = 1024;
/// Longest chain of `$ref`s followed at one place.
const MAX_REF_HOPS: usize = 32;

/// One step into a document.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Step {
    Key(String),
    Index(usize),
}

/// Reads schema documents: `$ref` inside the document, and the parts of a
/// node that `allOf` adds to it.
pub(super) struct Reader<'a> {
    pub(super) root: &'a Value,
}

impl<'a> Reader<'a> {
    /// Follows `$ref` chains inside the document (JSON pointers only); an
    /// unresolvable reference reads as `true`, which only costs a witness.
    pub(super) fn resolve(&self, mut node: &'a Value) -> &'a Value {
        for _ in 0..MAX_REF_HOPS {
            let Some(Value::String(r)) = node.get("$ref") else {
                return node;
            };
            let Some(pointer) = r.strip_prefix('#') else {
                return &Value::Bool(true);
            };
            let decoded = percent_decode(pointer);
            match self.root.pointer(&decoded) {
                Some(target) => node = target,
                None => return &Value::Bool(true),
            }
        }
        &Value::Bool(true)
    }

    /// The node and the `allOf` parts reachable from it, resolved.
    pub(super) fn parts(&self, node: &'a Value) -> Vec<&'a Value> {
        let mut out = Vec::new();
        let mut stack = vec![self.resolve(node)];
        while let Some(n) = stack.pop() {
            if out.len() >= 16 {
                break;
            }
            out.push(n);
            if let Some(Value::Array(all)) = n.get("allOf") {
                stack.extend(all.iter().rev().map(|s| self.resolve(s)));
            }
        }
        out
    }

    /// Walks a schema path (engine syntax, `/properties/a/maxLength`) and
    /// returns the document steps it implies, with the schema node that
    /// governs the document at each step's parent, and the node reached.
    pub(super) fn walk(&self, path: &str) -> (Vec<(Step, &'a Value)>, &'a Value) {
        let tokens: Vec<String> = path
            .split('/')
            .skip(1)
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect();
        let mut steps = Vec::new();
        let mut node = self.root;
        let mut i = 0;
        while i < tokens.len() {
            let here = self.resolve(node);
            let t = tokens[i].as_str();
            let next = tokens.get(i + 1).map(String::as_str);
            let child = |key: &str| here.get(key);
            match (t, next) {
                ("properties", Some(name)) => {
                    // A property this side does not declare is governed by
                    // whatever covers undeclared ones here.
                    let s = child(t)
                        .and_then(|p| p.get(name))
                        .unwrap_or_else(|| undeclared(here, name, &mut Patterns::default()));
                    steps.push((Step::Key(name.to_string()), here));
                    node = s;
                    i += 2;
                }
                ("additionalProperties" | "unevaluatedProperties", _) => match child(t) {
                    Some(s) => {
                        steps.push((Step::Key(fresh_key(here)), here));
                        node = s;
                        i += 1;
                    }
                    None => break,
                },
                ("prefixItems" | "items", Some(n)) if n.parse::<usize>().is_ok() => {
                    let k = n.parse::<usize>().unwrap_or(0);
                    steps.push((Step::Index(k), here));
                    node = item_at(here, k);
                    i += 2;
                }
                ("items" | "additionalItems", _) => match child(t) {
                    Some(s) => {
                        let before = here
                            .get("prefixItems")
                            .or_else(|| here.get("items").filter(|v| v.is_array()))
                            .and_then(Value::as_array)
                            .map_or(0, Vec::len);
                        steps.push((Step::Index(before), here));
                        node = s;
                        i += 1;
                    }
                    None => break,
                },
                ("contains", _) => match child(t) {
                    Some(s) => {
                        steps.push((Step::Index(0), here));
                        node = s;
                        i += 1;
                    }
                    None => break,
                },
                ("allOf" | "anyOf" | "oneOf", Some(n)) => {
                    match n.parse::<usize>().ok().and_then(|k| child(t)?.get(k)) {
                        Some(s) => {
                            node = s;
                            i += 2;
                        }
                        None => break,
                    }
                }
                ("then" | "else", _) => match child(t) {
                    Some(s) => {
                        node = s;
                        i += 1;
                    }
                    None => break,
                },
                _ => break,
            }
        }
        (steps, node)
    }
}

pub(super) static TRUE: Value = Value::Bool(true);

/// Compiled `patternProperties` expressions, shared by one search. Only the
/// first few distinct expressions are compiled: a schema with thousands of
/// them, or with expressions costly to compile, costs a bounded amount.
#[derive(Default)]
pub(super) struct Patterns(foldhash::HashMap<String, Option<regex::Regex>>);

impl Patterns {
    const MAX: usize = 64;

    fn matches(&mut self, pattern: &str, name: &str) -> bool {
        if !self.0.contains_key(pattern) {
            if self.0.len() >= Self::MAX {
                return false;
            }
            let compiled = crate::patterns::compile(pattern);
            self.0.insert(pattern.to_string(), compiled);
        }
        self.0
            .get(pattern)
            .and_then(Option::as_ref)
            .is_some_and(|r| r.is_match(name))
    }
}

/// The schema an undeclared property `name` meets in `node`: a matching
/// `patternProperties` entry, else `additionalProperties`, else anything.
pub(super) fn undeclared<'a>(node: &'a Value, name: &str, patterns: &mut Patterns) -> &'a Value {
    if let Some(Value::Object(entries)) = node.get("patternProperties") {
        for (pattern, schema) in entries.iter().take(Patterns::MAX) {
            if patterns.matches(pattern, name) {
                return schema;
            }
        }
    }
    node.get("additionalProperties").unwrap_or(&TRUE)
}

/// The schema the `k`-th element of an array meets in `node`, in any
/// draft's tuple form.
pub(super) fn item_at(node: &Value, k: usize) -> &Value {
    let tuple = node
        .get("prefixItems")
        .or_else(|| node.get("items").filter(|i| i.is_array()))
        .and_then(Value::as_array);
    if let Some(s) = tuple.and_then(|t| t.get(k)) {
        return s;
    }
    let rest = if node.get("prefixItems").is_some() {
        node.get("items")
    } else if tuple.is_some() {
        node.get("additionalItems")
    } else {
        node.get("items")
    };
    rest.unwrap_or(&TRUE)
}

/// A string a simple regular expression matches: the pattern without its
/// anchors and escapes (`^x_` gives `x_`); only a guess, checked later.
fn literal_of(pattern: &str) -> String {
    pattern
        .trim_start_matches('^')
        .trim_end_matches('$')
        .replace('\\', "")
}

/// A property name no `properties` of `node` declares.
fn fresh_key(node: &Value) -> String {
    let declared = node.get("properties").and_then(Value::as_object);
    let mut key = "extra".to_string();
    while declared.is_some_and(|p| p.contains_key(&key)) {
        key.push('_');
    }
    key
}

/// The types a schema node lets through, as far as its keywords say.
pub(super) fn types_of(node: &Value) -> Vec<&'static str> {
    const ALL: [&str; 7] = [
        "null", "boolean", "integer", "number", "string", "array", "object",
    ];
    match node.get("type") {
        Some(Value::String(t)) => ALL.iter().copied().filter(|a| a == t).collect(),
        Some(Value::Array(ts)) => ALL
            .iter()
            .copied()
            .filter(|a| ts.iter().any(|t| t == a))
            .collect(),
        _ => {
            let has = |ks: &[&str]| ks.iter().any(|k| node.get(*k).is_some());
            let mut out = Vec::new();
            if has(&[
                "properties",
                "required",
                "additionalProperties",
                "patternProperties",
                "minProperties",
                "maxProperties",
                "propertyNames",
                "dependentRequired",
                "unevaluatedProperties",
            ]) {
                out.push("object");
            }
            if has(&[
                "items",
                "prefixItems",
                "minItems",
                "maxItems",
                "uniqueItems",
                "contains",
                "additionalItems",
            ]) {
                out.push("array");
            }
            if has(&["minLength", "maxLength", "pattern", "format"]) {
                out.push("string");
            }
            if has(&[
                "minimum",
                "maximum",
                "exclusiveMinimum",
                "exclusiveMaximum",
                "multipleOf",
            ]) {
                out.push("number");
            }
            if out.is_empty() { ALL.to_vec() } else { out }
        }
    }
}

/// A JSON number, integral when it can be.
fn number(x: f64) -> Option<Value> {
    if !x.is_finite() {
        return None;
    }
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Some(json!(x as i64))
    } else {
        serde_json::Number::from_f64(x).map(Value::Number)
    }
}

/// A value of `format` for the formats the drafts define.
fn format_example(format: &str) -> Option<&'static str> {
    Some(match format {
        "date-time" => "2024-01-01T00:00:00Z",
        "date" => "2024-01-01",
        "time" => "00:00:00Z",
        "duration" => "P1D",
        "email" | "idn-email" => "a@example.com",
        "hostname" | "idn-hostname" => "example.com",
        "ipv4" => "127.0.0.1",
        "ipv6" => "::1",
        "uri" | "iri" => "https://example.com/a",
        "uri-reference" | "iri-reference" => "/a",
        "uri-template" => "/a/{b}",
        "uuid" => "00000000-0000-4000-8000-000000000000",
        "json-pointer" => "/a",
        "relative-json-pointer" => "0/a",
        "regex" => "a+",
        _ => return None,
    })
}

/// Values that break whatever a type constraint asks: one of every type.
pub(super) fn one_of_each_type() -> [Value; 7] {
    [
        json!(null),
        json!(true),
        json!(0),
        json!(0.5),
        json!(""),
        json!([]),
        json!({}),
    ]
}

/// Draws candidate values from the schemas on both sides of a comparison.
pub(super) struct Sampler<'a> {
    readers: [Reader<'a>; 2],
    pub(super) visits: usize,
    /// State of a xorshift generator; zero means "enumerate, no randomness".
    pub(super) rng: u64,
    /// Most values returned at the outermost level.
    pub(super) top_cap: usize,
    pub(super) patterns: Patterns,
}

impl<'a> Sampler<'a> {
    pub(super) fn new(a: &'a Value, b: &'a Value) -> Self {
        Sampler {
            readers: [Reader { root: a }, Reader { root: b }],
            visits: 0,
            rng: 0,
            top_cap: MAX_SAMPLES,
            patterns: Patterns::default(),
        }
    }

    fn random(&mut self, bound: usize) -> usize {
        if self.rng == 0 || bound == 0 {
            return 0;
        }
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng % bound as u64) as usize
    }

    /// Candidate values at a place where `a` (first schema) and `b` (second)
    /// apply; either may be absent. The first candidate is the one most
    /// likely to satisfy `a`.
    pub(super) fn samples(&mut self, a: Option<&'a Value>, b: Option<&'a Value>, depth: usize) -> Vec<Value> {
        self.visits += 1;
        let mut out: Vec<Value> = Vec::new();
        if depth > MAX_DEPTH || self.visits > MAX_VISITS {
            out.push(self.fallback(a));
            return out;
        }
        let sides: Vec<(usize, Vec<&'a Value>)> = [a, b]
            .into_iter()
            .enumerate()
            .filter_map(|(i, n)| n.map(|n| (i, self.readers[i].parts(n))))
            .collect();
        let all_parts: Vec<&'a Value> = sides.iter().flat_map(|(_, p)| p.iter().copied()).collect();

        // Listed values first: they are what a schema most plainly accepts.
        for p in &all_parts {
            if let Some(c) = p.get("const") {
                out.push(c.clone());
            }
            if let Some(Value::Array(e)) = p.get("enum") {
                out.extend(e.iter().take(8).cloned());
            }
            if let Some(d) = p.get("default") {
                out.push(d.clone());
            }
            if let Some(Value::Array(e)) = p.get("examples") {
                out.extend(e.iter().take(4).cloned());
            }
        }
        // Alternatives of `anyOf`/`oneOf` side by side; then conditions,
        // their branches, and what a `not` rejects.
        for key in ["anyOf", "oneOf"] {
            let alts = |parts: Option<&Vec<&'a Value>>| -> Vec<&'a Value> {
                parts
                    .into_iter()
                    .flatten()
                    .filter_map(|p| p.get(key).and_then(Value::as_array))
                    .flatten()
                    .collect()
            };
            let a_alts = alts(sides.iter().find(|(i, _)| *i == 0).map(|(_, p)| p));
            let b_alts = alts(sides.iter().find(|(i, _)| *i == 1).map(|(_, p)| p));
            for k in 0..a_alts.len().max(b_alts.len()).min(8) {
                let (x, y) = (a_alts.get(k).copied(), b_alts.get(k).copied());
                let mut s = self.samples(x, y, depth + 1);
                s.truncate(8);
                out.extend(s);
            }
        }
        for (_, parts) in &sides {
            for p in parts {
                for key in ["if", "then", "else", "not"] {
                    if let Some(branch) = p.get(key) {
                        let mut s = self.samples(Some(branch), None, depth + 1);
                        s.truncate(6);
                        out.extend(s);
                    }
                }
            }
        }

        // Then every type either side names, first those of `a`.
        let mut types: Vec<&'static str> = Vec::new();
        for p in &all_parts {
            for t in types_of(p) {
                if !types.contains(&t) {
                    types.push(t);
                }
            }
        }
        if self.rng != 0 && types.len() > 1 {
            let k = self.random(types.len());
            types.swap(0, k);
        }
        let a_parts = sides
            .iter()
            .find(|(i, _)| *i == 0)
            .map(|(_, p)| p.clone())
            .unwrap_or_default();
        let b_parts = sides
            .iter()
            .find(|(i, _)| *i == 1)
            .map(|(_, p)| p.clone())
            .unwrap_or_default();
        let mut groups: Vec<Vec<Value>> = Vec::new();
        for t in types {
            groups.push(match t {
                "null" => vec![Value::Null],
                "boolean" => vec![json!(true), json!(false)],
                "integer" | "number" => self.numbers(&all_parts, t == "integer"),
                "string" => self.strings(&all_parts),
                "array" => self.arrays(&a_parts, &b_parts, depth),
                _ => self.objects(&a_parts, &b_parts, depth),
            });
        }
        // Round robin over the types, so that the cap on samples never
        // leaves a type out.
        let longest = groups.iter().map(Vec::len).max().unwrap_or(0);
        for k in 0..longest {
            for g in &groups {
                if let Some(v) = g.get(k) {
                    out.push(v.clone());
                }
            }
        }
        // Values of every type last: what a schema that changed its type,
        // or a place one side does not constrain, lets through.
        out.extend(one_of_each_type());
        dedup(&mut out);
        if self.rng != 0 && out.len() > 1 {
            let k = self.random(out.len());
            out.swap(0, k);
        }
        out.truncate(if depth == 0 { self.top_cap } else { MAX_SAMPLES });
        out
    }

    /// A value when the budget is spent: the first listed or typed one.
    fn fallback(&self, a: Option<&'a Value>) -> Value {
        let Some(node) = a.map(|n| self.readers[0].resolve(n)) else {
            return Value::Null;
        };
        if let Some(c) = node.get("const") {
            return c.clone();
        }
        if let Some(e) = node.get("enum").and_then(|e| e.get(0)) {
            return e.clone();
        }
        match types_of(node).first().copied() {
            Some("boolean") => json!(false),
            Some("integer" | "number") => json!(0),
            Some("string") => json!(""),
            Some("array") => json!([]),
            Some("object") => json!({}),
            _ => Value::Null,
        }
    }

    /// A cheap value both schemas are likely to accept: a listed one, or
    /// the smallest of a type both allow that meets their bounds. Only a
    /// guess; documents are verified.
    pub(super) fn minimal(&mut self, a: Option<&'a Value>, b: Option<&'a Value>, depth: usize) -> Value {
        self.visits += 1;
        if depth > MAX_DEPTH || self.visits > MAX_VISITS {
            return self.fallback(a);
        }
        let parts_a = a.map(|n| self.readers[0].parts(n)).unwrap_or_default();
        let parts_b = b.map(|n| self.readers[1].parts(n)).unwrap_or_default();
        for p in parts_a.iter().chain(&parts_b) {
            if let Some(c) = p.get("const") {
                return c.clone();
            }
        }
        // An `anyOf`/`oneOf`: a value of its first alternative (side by side).
        let first_alternative = |parts: &[&'a Value]| {
            parts.iter().find_map(|p| {
                ["oneOf", "anyOf"]
                    .iter()
                    .find_map(|k| p.get(*k).and_then(Value::as_array).and_then(|alts| alts.first()))
            })
        };
        if let Some(x) = first_alternative(&parts_a) {
            let y = first_alternative(&parts_b);
            return self.minimal(Some(x), y, depth + 1);
        }
        let listed = |parts: &[&'a Value]| parts.iter().find_map(|p| p.get("enum").and_then(Value::as_array));
        match (listed(&parts_a), listed(&parts_b)) {
            (Some(x), y) | (y @ None, Some(x)) => {
                if let Some(v) = x.iter().find(|v| y.is_none_or(|o| o.contains(v))) {
                    return v.clone();
                }
            }
            _ => {}
        }
        let all: Vec<&'a Value> = parts_a.iter().chain(&parts_b).copied().collect();
        let allowed = |parts: &[&'a Value]| -> Vec<&'static str> {
            let mut types: Vec<&'static str> = types_of(&TRUE);
            for p in parts {
                let here = types_of(p);
                types.retain(|t| here.contains(t) || (*t == "integer" && here.contains(&"number")));
            }
            types
        };
        let (ta, tb) = (allowed(&parts_a), allowed(&parts_b));
        let t = ta
            .iter()
            .find(|t| tb.contains(t))
            .or(ta.first())
            .copied()
            .unwrap_or("null");
        let meets = |v: &Value| all.iter().all(|p| within_bounds(p, v));
        let plain = |k: &str| all.iter().all(|p| p.get(k).is_none());
        match t {
            "null" => Value::Null,
            "boolean" => json!(false),
            // The smallest values first, before drawing candidates.
            "string" if plain("pattern") && plain("format") && meets(&json!("")) => json!(""),
            "integer" | "number" if meets(&json!(0)) => json!(0),
            "integer" | "number" => {
                let candidates = self.numbers(&all, t == "integer");
                candidates
                    .iter()
                    .find(|v| meets(v))
                    .or(candidates.first())
                    .cloned()
                    .unwrap_or(json!(0))
            }
            "string" => {
                let candidates = self.strings(&all);
                candidates
                    .iter()
                    .find(|v| meets(v))
                    .or(candidates.first())
                    .cloned()
                    .unwrap_or(json!(""))
            }
            "array" => {
                let n = all
                    .iter()
                    .filter_map(|p| p.get("minItems").and_then(Value::as_u64))
                    .max()
                    .unwrap_or(0)
                    .min(MAX_ARRAY as u64) as usize;
                let items = |parts: &[&'a Value], k: usize| {
                    parts
                        .iter()
                        .find(|p| p.get("items").is_some() || p.get("prefixItems").is_some())
                        .map(|p| item_at(p, k))
                };
                let mut out = Vec::with_capacity(n);
                for k in 0..n {
                    let (x, y) = (items(&parts_a, k), items(&parts_b, k));
                    out.push(self.minimal(x, y, depth + 1));
                }
                Value::Array(out)
            }
            _ => {
                let mut out = Map::new();
                let names: Vec<&'a str> = all
                    .iter()
                    .filter_map(|p| p.get("required").and_then(Value::as_array))
                    .flatten()
                    .filter_map(Value::as_str)
                    .take(MAX_REQUIRED)
                    .collect();
                for n in names {
                    if out.contains_key(n) {
                        continue;
                    }
                    let prop = |parts: &[&'a Value]| {
                        parts
                            .iter()
                            .find_map(|p| p.get("properties").and_then(|ps| ps.get(n)))
                    };
                    let (x, y) = (prop(&parts_a), prop(&parts_b));
                    let v = self.minimal(x, y, depth + 1);
                    out.insert(n.to_string(), v);
                }
                Value::Object(out)
            }
        }
    }

    fn numbers(&mut self, parts: &[&Value], integer: bool) -> Vec<Value> {
        let mut points: Vec<f64> = Vec::new();
        let mut steps: Vec<f64> = Vec::new();
        for p in parts {
            for key in ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"] {
                if let Some(x) = p.get(key).and_then(Value::as_f64) {
                    points.push(x);
                }
            }
            if let Some(m) = p.get("multipleOf").and_then(Value::as_f64) {
                steps.push(m);
            }
        }
        let mut out = Vec::new();
        let lower = parts
            .iter()
            .filter_map(|p| p.get("minimum").and_then(Value::as_f64))
            .fold(None, |acc: Option<f64>, x| Some(acc.map_or(x, |a| a.max(x))));
        if let Some(l) = lower {
            out.push(l.ceil());
        }
        out.extend([0.0, 1.0, -1.0]);
        for &x in &points {
            out.extend([x, x - 1.0, x + 1.0, x.floor(), x.ceil()]);
            if !integer {
                out.extend([x - 0.5, x + 0.5, x - 0.001, x + 0.001]);
            }
        }
        for &m in &steps {
            out.extend([m, 2.0 * m, 3.0 * m, 6.0 * m, m / 2.0]);
            if let Some(l) = lower {
                out.push((l / m).ceil() * m);
            }
        }
        if !integer {
            out.extend([0.5, -0.5]);
        }
        for _ in 0..if self.rng == 0 { 0 } else { 4 } {
            let r = self.random(2001) as f64 - 1000.0;
            out.push(if integer { r } else { r / 8.0 });
        }
        out.into_iter().filter_map(number).collect()
    }

    fn strings(&mut self, parts: &[&Value]) -> Vec<Value> {
        let mut lengths: Vec<usize> = vec![0, 1];
        let mut out: Vec<Value> = Vec::new();
        for p in parts {
            if let Some(f) = p.get("format").and_then(Value::as_str).and_then(format_example) {
                out.push(json!(f));
            }
            if let Some(pattern) = p.get("pattern").and_then(Value::as_str) {
                if let Some(w) = jsonschema_regex::pattern_witness(pattern) {
                    out.push(Value::String(w));
                }
                out.push(Value::String(literal_of(pattern)));
            }
            for key in ["minLength", "maxLength"] {
                if let Some(n) = p.get(key).and_then(Value::as_u64) {
                    let n = usize::try_from(n).unwrap_or(usize::MAX);
                    lengths.extend([n.saturating_sub(1), n, n.saturating_add(1)]);
                }
            }
        }
        if let Some(min) = parts
            .iter()
            .filter_map(|p| p.get("minLength").and_then(Value::as_u64))
            .max()
        {
            lengths.insert(0, usize::try_from(min).unwrap_or(usize::MAX));
        }
        if self.rng != 0 {
            let extra = self.random(12);
            lengths.push(extra);
        }
        for n in lengths {
            if n <= MAX_STRING {
                out.push(Value::String("a".repeat(n)));
            }
        }
        out.extend([json!("A"), json!("0"), json!("a b")]);
        out
    }

    fn arrays(&mut self, a_parts: &[&'a Value], b_parts: &[&'a Value], depth: usize) -> Vec<Value> {
        let pick = |parts: &[&'a Value], key: &str| parts.iter().find_map(|p| p.get(key));
        let items_of = |parts: &[&'a Value]| {
            pick(parts, "items")
                .filter(|i| !i.is_array())
                .or_else(|| pick(parts, "additionalItems"))
        };
        let tuple_of = |parts: &[&'a Value]| {
            pick(parts, "prefixItems")
                .or_else(|| pick(parts, "items").filter(|i| i.is_array()))
                .and_then(Value::as_array)
        };
        let mut items = self.samples(items_of(a_parts), items_of(b_parts), depth + 1);
        items.truncate(12);
        let first = items.first().cloned().unwrap_or(Value::Null);
        let (ta, tb) = (tuple_of(a_parts), tuple_of(b_parts));
        let tuple_len = ta.map_or(0, Vec::len).max(tb.map_or(0, Vec::len)).min(MAX_ARRAY);
        let mut prefix = Vec::new();
        let mut prefix_options = Vec::new();
        for k in 0..tuple_len {
            let x = ta.and_then(|t| t.get(k));
            let y = tb.and_then(|t| t.get(k));
            let mut s = self.samples(x, y, depth + 1);
            s.truncate(8);
            prefix.push(s.first().cloned().unwrap_or(Value::Null));
            prefix_options.push(s);
        }
        let all: Vec<&Value> = a_parts.iter().chain(b_parts).copied().collect();
        let mut lengths: Vec<usize> = vec![0, 1, 2];
        for p in &all {
            for key in ["minItems", "maxItems"] {
                if let Some(n) = p.get(key).and_then(Value::as_u64) {
                    let n = usize::try_from(n).unwrap_or(usize::MAX);
                    lengths.extend([n.saturating_sub(1), n, n.saturating_add(1)]);
                }
            }
        }
        let mut out = Vec::new();
        let fill = |n: usize, with: &Value| -> Value {
            let mut v = prefix.clone();
            v.truncate(n);
            while v.len() < n {
                v.push(with.clone());
            }
            Value::Array(v)
        };
        if let Some(min) = all
            .iter()
            .filter_map(|p| p.get("minItems").and_then(Value::as_u64))
            .max()
        {
            let min = usize::try_from(min).unwrap_or(usize::MAX);
            if min <= MAX_ARRAY {
                out.push(fill(min.max(tuple_len), &first));
            }
        }
        out.push(fill(tuple_len, &first));
        for &n in &lengths {
            if n <= MAX_ARRAY {
                out.push(fill(n, &first));
            }
        }
        for it in items.iter().skip(1) {
            out.push(fill(tuple_len + 1, it));
            if tuple_len == 0 {
                out.push(json!([first.clone(), it.clone()]));
            }
        }
        for (k, options) in prefix_options.iter().enumerate() {
            for o in options.iter().skip(1) {
                let mut v = prefix.clone();
                v[k] = o.clone();
                out.push(Value::Array(v));
            }
        }
        // Several matches, for `maxContains`.
        let contains = |parts: &[&'a Value]| pick(parts, "contains");
        let (ca, cb) = (contains(a_parts), contains(b_parts));
        if ca.is_some() || cb.is_some() {
            let c = self.samples(ca.or(cb), cb, depth + 1);
            if let Some(c) = c.first() {
                for n in 1..=4 {
                    out.push(Value::Array(vec![c.clone(); n]));
                }
            }
        }
        // Duplicates, for `uniqueItems`; odd values for `contains`.
        out.push(json!([first.clone(), first]));
        out.extend(one_of_each_type().into_iter().map(|v| json!([v])));
        out
    }

    fn objects(&mut self, a_parts: &[&'a Value], b_parts: &[&'a Value], depth: usize) -> Vec<Value> {
        let props = |parts: &[&'a Value]| -> Vec<(&'a String, &'a Value)> {
            parts
                .iter()
                .filter_map(|p| p.get("properties").and_then(Value::as_object))
                .flat_map(|m| m.iter())
                .collect()
        };
        let required = |parts: &[&'a Value]| -> Vec<&'a str> {
            parts
                .iter()
                .filter_map(|p| p.get("required").and_then(Value::as_array))
                .flatten()
                .filter_map(Value::as_str)
                .collect()
        };
        let (pa, pb) = (props(a_parts), props(b_parts));
        let (ra, rb) = (required(a_parts), required(b_parts));
        if ra.len() + rb.len() > MAX_REQUIRED {
            // Too large for a witness anyway: keep the work small.
            return vec![Value::Object(Map::new())];
        }
        // Every name either side requires is filled in (those past the few
        // that are varied with a cheap value); required names are varied
        // first.
        let mut base = Map::new();
        let mut names: Vec<String> = Vec::new();
        for &n in ra.iter().chain(&rb) {
            if names.len() >= MAX_PROPERTIES && !base.contains_key(n) && !names.iter().any(|k| k == n) {
                let x = find_in(&pa, n);
                let y = find_in(&pb, n);
                base.insert(n.to_string(), self.minimal(x, y, depth + 1));
            } else if !names.iter().any(|k| k == n) && names.len() < MAX_PROPERTIES {
                names.push(n.to_string());
            }
        }
        let mentioned = mentioned_names(a_parts.iter().chain(b_parts).copied());
        for n in pa
            .iter()
            .map(|(k, _)| k.to_string())
            .chain(pb.iter().map(|(k, _)| k.to_string()))
            .chain(mentioned)
        {
            if !names.contains(&n) && names.len() < MAX_PROPERTIES {
                names.push(n);
            }
        }
        // Property names themselves, for `propertyNames`.
        let names_schema = |parts: &[&'a Value]| parts.iter().find_map(|p| p.get("propertyNames"));
        let (na, nb) = (names_schema(a_parts), names_schema(b_parts));
        if na.is_some() || nb.is_some() {
            let keys = self.samples(na, nb, depth + 1);
            for k in keys
                .into_iter()
                .filter_map(|k| k.as_str().map(str::to_string))
                .take(8)
            {
                if !names.contains(&k) && names.len() < MAX_PROPERTIES {
                    names.push(k);
                }
            }
        }
        let find = find_in;
        let mut values: Vec<(String, Vec<Value>)> = Vec::new();
        for n in &names {
            let mut covered = |parts: &[&'a Value]| {
                parts
                    .iter()
                    .map(|p| undeclared(p, n, &mut self.patterns))
                    .find(|s| **s != TRUE)
            };
            let x = find(&pa, n).or_else(|| covered(a_parts));
            let y = find(&pb, n).or_else(|| covered(b_parts));
            let mut s = self.samples(x, y, depth + 1);
            s.truncate(10);
            values.push((n.clone(), s));
        }
        let first = |n: &str| -> Value {
            values
                .iter()
                .find(|(k, _)| *k == n)
                .and_then(|(_, s)| s.first().cloned())
                .unwrap_or(Value::Null)
        };
        for &n in ra.iter().chain(&rb) {
            if names.iter().any(|k| k == n) {
                base.insert(n.to_string(), first(n));
            }
        }
        if self.rng != 0 {
            for n in &names {
                if self.random(2) == 1 {
                    let options = values
                        .iter()
                        .find(|(k, _)| k == n)
                        .map(|(_, s)| s.len())
                        .unwrap_or(0);
                    let pick = self.random(options.max(1));
                    let v = values
                        .iter()
                        .find(|(k, _)| k == n)
                        .and_then(|(_, s)| s.get(pick).cloned())
                        .unwrap_or(Value::Null);
                    base.insert(n.to_string(), v);
                }
            }
        }
        let mut full = base.clone();
        for n in &names {
            full.entry(n.to_string()).or_insert_with(|| first(n));
        }
        // Which properties are present first (required, dependencies,
        // conditionals), then what values they hold.
        let mut out = vec![Value::Object(base.clone()), Value::Object(full.clone())];
        for n in &names {
            let mut o = full.clone();
            o.remove(n.as_str());
            out.push(Value::Object(o));
            let mut o = base.clone();
            o.insert(n.to_string(), first(n));
            out.push(Value::Object(o));
        }
        let mut valued = Vec::new();
        for (n, options) in &values {
            for v in options.iter().skip(1) {
                let mut o = base.clone();
                o.insert(n.to_string(), v.clone());
                valued.push(Value::Object(o));
            }
        }
        // Property counts around `minProperties` and `maxProperties`.
        let mut counts: Vec<usize> = Vec::new();
        for p in a_parts.iter().chain(b_parts) {
            for key in ["minProperties", "maxProperties"] {
                if let Some(n) = p.get(key).and_then(Value::as_u64) {
                    let n = usize::try_from(n).unwrap_or(usize::MAX);
                    counts.extend([n.saturating_sub(1), n, n.saturating_add(1)]);
                }
            }
        }
        for n in counts.into_iter().filter(|n| *n <= MAX_PROPERTIES) {
            let mut o = base.clone();
            let mut k = 0;
            while o.len() < n {
                o.entry(format!("p{k}")).or_insert(Value::Null);
                k += 1;
            }
            out.push(Value::Object(o));
        }
        let key = fresh_key(
            &json!({"properties": names.iter().map(|n| (n.clone(), Value::Null)).collect::<Map<_, _>>()}),
        );
        for v in one_of_each_type() {
            let mut o = base.clone();
            o.insert(key.clone(), v);
            out.push(Value::Object(o));
        }
        out.extend(valued);
        out
    }
}

/// Property names a schema mentions outside `properties`: in `required`,
/// dependencies, conditionals and (as a guess) `patternProperties`.
fn mentioned_names<'a>(parts: impl Iterator<Item = &'a Value>) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack: Vec<(&Value, usize)> = parts.map(|p| (p, 0)).collect();
    while let Some((p, level)) = stack.pop() {
        if out.len() >= MAX_PROPERTIES || level > 2 {
            continue;
        }
        let strings = |v: Option<&Value>| -> Vec<String> {
            v.and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        };
        out.extend(strings(p.get("required")).into_iter().take(MAX_PROPERTIES));
        for key in ["dependencies", "dependentRequired", "dependentSchemas"] {
            if let Some(Value::Object(d)) = p.get(key) {
                for (name, v) in d.iter().take(MAX_PROPERTIES) {
                    out.push(name.clone());
                    out.extend(strings(Some(v)));
                    if v.is_object() {
                        stack.push((v, level + 1));
                    }
                }
            }
        }
        if let Some(Value::Object(patterns)) = p.get("patternProperties") {
            out.extend(patterns.keys().take(MAX_PROPERTIES).map(|k| literal_of(k)));
        }
        for key in ["if", "then", "else"] {
            if let Some(v) = p.get(key) {
                stack.push((v, level + 1));
            }
        }
    }
    out
}

/// Drops repeated values, keeping the first. Keyed by the JSON text (object
/// keys serialize sorted), so large sample objects are hashed once instead of
/// compared with every value kept before them.
pub(super) fn dedup(values: &mut Vec<Value>) {
    let mut seen = foldhash::HashSet::default();
    values.retain(|v| seen.insert(fingerprint(v)));
}

/// A 64-bit hash of a value's structure, without writing its text (two
/// different values may collide, which only costs a candidate).
pub(super) fn fingerprint(v: &Value) -> u64 {
    use std::hash::{BuildHasher, Hash, Hasher};
    fn feed(v: &Value, h: &mut impl Hasher) {
        match v {
            Value::Null => h.write_u8(0),
            Value::Bool(b) => {
                h.write_u8(1);
                b.hash(h);
            }
            Value::Number(n) => {
                h.write_u8(2);
                n.as_f64().unwrap_or(0.0).to_bits().hash(h);
            }
            Value::String(s) => {
                h.write_u8(3);
                s.hash(h);
            }
            Value::Array(a) => {
                h.write_u8(4);
                h.write_usize(a.len());
                a.iter().for_each(|x| feed(x, h));
            }
            Value::Object(m) => {
                h.write_u8(5);
                h.write_usize(m.len());
                for (k, x) in m {
                    k.hash(h);
                    feed(x, h);
                }
            }
        }
    }
    let mut h = foldhash::fast::FixedState::default().build_hasher();
    feed(v, &mut h);
    h.finish()
}

/// The schema of `name` among `properties` entries.
fn find_in<'a>(ps: &[(&'a String, &'a Value)], n: &str) -> Option<&'a Value> {
    ps.iter().find(|(k, _)| k.as_str() == n).map(|(_, v)| *v)
}

/// Whether `v` meets the simple bounds of one schema object (lengths,
/// numeric bounds, `multipleOf`); other keywords are not looked at.
fn within_bounds(p: &Value, v: &Value) -> bool {
    let num = |k: &str| p.get(k).and_then(Value::as_f64);
    match v {
        Value::String(s) => {
            let n = s.chars().count() as f64;
            num("minLength").is_none_or(|m| n >= m) && num("maxLength").is_none_or(|m| n <= m)
        }
        Value::Number(x) => {
            let Some(x) = x.as_f64() else { return true };
            let exclusive = |k: &str| p.get(k).and_then(Value::as_f64);
            num("minimum").is_none_or(|m| x >= m)
                && num("maximum").is_none_or(|m| x <= m)
                && exclusive("exclusiveMinimum").is_none_or(|m| x > m)
                && exclusive("exclusiveMaximum").is_none_or(|m| x < m)
                && num("multipleOf").is_none_or(|m| m == 0.0 || ((x / m) - (x / m).round()).abs() < 1e-9)
        }
        _ => true,
    }
}
