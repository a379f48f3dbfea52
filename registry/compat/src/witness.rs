//! Witnesses and the soundness probe: concrete documents checked with the
//! `jsonschema` crate, so that a verdict can be shown rather than asserted.
//!
//! A witness for a finding is a document that one schema accepts and the
//! other rejects, with the change at the place the finding names. Candidate
//! values are drawn from both schemas at that place (bounds and one past
//! them, enum members, every type either side allows...), embedded in the
//! smallest document the accepting schema allows around that place, and
//! kept only when both validators agree. Every step is bounded (values per
//! level, nesting, size of a witness, validations per finding) so that a
//! hostile schema costs a fixed amount of work.

use crate::model::Draft;
use serde_json::{Map, Value, json};

/// Most values the sampler returns for one place.
const MAX_SAMPLES: usize = 48;
/// Deepest nesting the sampler descends into.
const MAX_DEPTH: usize = 6;
/// Subschemas the sampler may visit for one request, whatever the schema.
const MAX_VISITS: usize = 1500;
/// Longest string the sampler builds.
const MAX_STRING: usize = 256;
/// Longest array the sampler builds.
const MAX_ARRAY: usize = 16;
/// Most properties the sampler fills in one object.
const MAX_PROPERTIES: usize = 48;
/// Largest witness shown, in bytes of compact JSON.
const MAX_WITNESS_BYTES: usize = 4096;
/// Most candidate documents validated for one finding.
const MAX_CANDIDATES: usize = 600;
/// Most candidate documents validated for all the findings of one check or
/// diff: past it, findings come without a witness.
pub(crate) const MAX_VALIDATIONS: usize = 20_000;
/// Longest chain of `$ref`s followed at one place.
const MAX_REF_HOPS: usize = 32;

/// A compiled validator for a schema document, or why there is none.
pub(crate) struct Compiled(Option<jsonschema::Validator>);

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Compiled"
        } else {
            "Compiled(none)"
        })
    }
}

impl Compiled {
    /// Compiles `schema` in `draft` (the one the engine read it in, so that a
    /// document without `$schema` means the same to both), with `format`
    /// asserted, as the engine reads it.
    pub(crate) fn new(schema: &Value, draft: Draft) -> Self {
        let draft = match draft {
            Draft::D4 => jsonschema::Draft::Draft4,
            Draft::D6 => jsonschema::Draft::Draft6,
            Draft::D7 => jsonschema::Draft::Draft7,
            Draft::D2019 => jsonschema::Draft::Draft201909,
            Draft::D2020 => jsonschema::Draft::Draft202012,
        };
        let options = jsonschema::options()
            .should_validate_formats(true)
            .with_draft(draft);
        Compiled(options.build(schema).ok())
    }

    fn accepts(&self, doc: &Value) -> Option<bool> {
        self.0.as_ref().map(|v| v.is_valid(doc))
    }
}

/// One step into a document.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// Reads schema documents: `$ref` inside the document, and the parts of a
/// node that `allOf` adds to it.
struct Reader<'a> {
    root: &'a Value,
}

impl<'a> Reader<'a> {
    /// Follows `$ref` chains inside the document (JSON pointers only); an
    /// unresolvable reference reads as `true`, which only costs a witness.
    fn resolve(&self, mut node: &'a Value) -> &'a Value {
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
    fn parts(&self, node: &'a Value) -> Vec<&'a Value> {
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
    fn walk(&self, path: &str) -> (Vec<(Step, &'a Value)>, &'a Value) {
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

static TRUE: Value = Value::Bool(true);

/// Compiled `patternProperties` expressions, shared by one search. Only the
/// first few distinct expressions are compiled: a schema with thousands of
/// them, or with expressions costly to compile, costs a bounded amount.
#[derive(Default)]
struct Patterns(std::collections::HashMap<String, Option<regex::Regex>>);

impl Patterns {
    const MAX: usize = 64;

    fn matches(&mut self, pattern: &str, name: &str) -> bool {
        if !self.0.contains_key(pattern) {
            if self.0.len() >= Self::MAX {
                return false;
            }
            let compiled = regex::RegexBuilder::new(pattern).size_limit(1 << 20).build().ok();
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
fn undeclared<'a>(node: &'a Value, name: &str, patterns: &mut Patterns) -> &'a Value {
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
fn item_at(node: &Value, k: usize) -> &Value {
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

/// `%25`-style escapes in a `$ref` fragment.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if let Some(b) = (bytes[i] == b'%')
            .then(|| s.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
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
fn types_of(node: &Value) -> Vec<&'static str> {
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
fn one_of_each_type() -> [Value; 7] {
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
struct Sampler<'a> {
    readers: [Reader<'a>; 2],
    visits: usize,
    /// State of a xorshift generator; zero means "enumerate, no randomness".
    rng: u64,
    /// Most values returned at the outermost level.
    top_cap: usize,
    patterns: Patterns,
}

impl<'a> Sampler<'a> {
    fn new(a: &'a Value, b: &'a Value) -> Self {
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
    fn samples(&mut self, a: Option<&'a Value>, b: Option<&'a Value>, depth: usize) -> Vec<Value> {
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
        // Alternatives of `anyOf`/`oneOf`, and conditional branches, side by side.
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
                for key in ["then", "else"] {
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
        if ra.len() > MAX_PROPERTIES || pa.len() + pb.len() > 4 * MAX_PROPERTIES {
            // Too large for a witness anyway: keep the work small.
            return vec![Value::Object(Map::new())];
        }
        let mut names: Vec<String> = Vec::new();
        let mentioned = mentioned_names(a_parts.iter().chain(b_parts).copied());
        for n in ra
            .iter()
            .map(|n| n.to_string())
            .chain(pa.iter().map(|(k, _)| k.to_string()))
            .chain(pb.iter().map(|(k, _)| k.to_string()))
            .chain(rb.iter().map(|n| n.to_string()))
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
        let find = |ps: &[(&'a String, &'a Value)], n: &str| {
            ps.iter().find(|(k, _)| k.as_str() == n).map(|(_, v)| *v)
        };
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
        let mut base = Map::new();
        for &n in &ra {
            base.insert(n.to_string(), first(n));
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
fn dedup(values: &mut Vec<Value>) {
    let mut seen = std::collections::HashSet::new();
    values.retain(|v| seen.insert(v.to_string()));
}

/// Puts `leaf` at `steps` inside the smallest documents `sampler`'s first
/// schema allows around it.
fn embed<'a>(sampler: &mut Sampler<'a>, steps: &[(Step, &'a Value)], leaf: Value) -> Value {
    let mut value = leaf;
    for (step, parent) in steps.iter().rev() {
        let base = sampler.samples(Some(parent), None, MAX_DEPTH - 3);
        value = match step {
            Step::Key(k) => {
                let mut o = base
                    .iter()
                    .find_map(|v| v.as_object().cloned())
                    .unwrap_or_default();
                o.insert(k.clone(), value);
                Value::Object(o)
            }
            Step::Index(i) => {
                let mut a = base
                    .iter()
                    .find_map(|v| v.as_array().cloned())
                    .unwrap_or_default();
                let filler = a.first().cloned().unwrap_or(Value::Null);
                a.truncate(*i);
                while a.len() < *i {
                    a.push(filler.clone());
                }
                a.push(value);
                Value::Array(a)
            }
        };
    }
    value
}

/// A document `accepting` accepts and `rejecting` rejects, with the change
/// at `accepting_path` / `rejecting_path` (engine syntax), or `None` when
/// none was found within the bounds.
pub(crate) fn witness(
    accepting: (&Value, &Compiled),
    rejecting: (&Value, &Compiled),
    accepting_path: &str,
    rejecting_path: &str,
    budget: &mut usize,
) -> Option<Value> {
    let (a_doc, a_check) = accepting;
    let (b_doc, b_check) = rejecting;
    let ra = Reader { root: a_doc };
    let rb = Reader { root: b_doc };
    let (steps, a_node) = ra.walk(accepting_path);
    let (_, b_node) = rb.walk(rejecting_path);
    let mut sampler = Sampler::new(a_doc, b_doc);
    sampler.top_cap = 4 * MAX_SAMPLES;
    let mut tried = 0usize;
    let mut test = |doc: &Value| -> Option<bool> {
        tried += 1;
        if tried > MAX_CANDIDATES || *budget == 0 {
            return None;
        }
        *budget -= 1;
        if doc.to_string().len() > MAX_WITNESS_BYTES {
            return Some(false);
        }
        Some(a_check.accepts(doc)? && !b_check.accepts(doc)?)
    };
    // At the finding's place, inside the smallest surrounding document.
    let leaves = sampler.samples(Some(a_node), Some(b_node), 0);
    for leaf in leaves {
        let doc = embed(&mut sampler, &steps, leaf);
        if test(&doc)? {
            return Some(doc);
        }
    }
    // The same place, reached from each enclosing level in turn: a change
    // may only show together with its neighbours (a required property
    // added next to it, a tuple growing around it).
    for cut in (0..steps.len()).rev() {
        let (outer, _) = steps.split_at(cut);
        let parent = steps[cut].1;
        let mut local = Sampler::new(a_doc, b_doc);
        local.top_cap = 2 * MAX_SAMPLES;
        let b_here = rb.walk(&path_prefix(rejecting_path, cut)).1;
        for leaf in local.samples(Some(parent), Some(b_here), 0) {
            let doc = embed(&mut sampler, outer, leaf);
            if test(&doc)? {
                return Some(doc);
            }
        }
    }
    None
}

/// The rejecting side's schema path for the enclosing level `cut` of the
/// accepting side's document steps: the prefix of its path that reaches the
/// same number of document steps.
fn path_prefix(rejecting_path: &str, cut: usize) -> String {
    let tokens: Vec<&str> = rejecting_path.split('/').collect();
    let mut steps_seen = 0;
    let mut i = 1;
    while i < tokens.len() {
        if steps_seen == cut {
            break;
        }
        match tokens[i] {
            "properties" | "prefixItems" => {
                steps_seen += 1;
                i += 2;
            }
            "items" if tokens.get(i + 1).is_some_and(|n| n.parse::<usize>().is_ok()) => {
                steps_seen += 1;
                i += 2;
            }
            "additionalProperties" | "unevaluatedProperties" | "items" | "additionalItems" | "contains" => {
                steps_seen += 1;
                i += 1;
            }
            "allOf" | "anyOf" | "oneOf" | "dependentSchemas" | "dependencies" => i += 2,
            _ => i += 1,
        }
    }
    tokens[..i.min(tokens.len())].join("/")
}

/// What the soundness probe found for one pair of schemas.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Soundness {
    /// Documents generated.
    pub generated: usize,
    /// Of those, documents the old schema accepts.
    pub accepted_by_old: usize,
    /// Documents the old schema accepts and the new one rejects (the first
    /// few); empty when the new schema accepted them all.
    pub counterexamples: Vec<Value>,
    /// Whether either schema could not be compiled for validation (nothing
    /// was then checked).
    pub skipped: bool,
}

/// Generates documents the old schema accepts and checks that the new one
/// accepts them too: the converse of a witness, for pairs the engine calls
/// compatible. `documents` random documents are drawn (from `seed`) on top
/// of the boundary values of both schemas.
pub(crate) fn probe(
    old: (&Value, &Compiled),
    new: (&Value, &Compiled),
    documents: usize,
    seed: u64,
) -> Soundness {
    let mut report = Soundness::default();
    if old.1.0.is_none() || new.1.0.is_none() {
        report.skipped = true;
        return report;
    }
    let mut sampler = Sampler::new(old.0, new.0);
    let mut candidates = sampler.samples(Some(old.0), Some(new.0), 0);
    sampler.rng = seed | 1;
    for _ in 0..documents {
        sampler.visits = 0;
        let mut s = sampler.samples(Some(old.0), Some(new.0), 0);
        if !s.is_empty() {
            candidates.push(s.swap_remove(0));
        }
    }
    for doc in candidates {
        report.generated += 1;
        if old.1.accepts(&doc) != Some(true) {
            continue;
        }
        report.accepted_by_old += 1;
        if new.1.accepts(&doc) == Some(false) && report.counterexamples.len() < 5 {
            report.counterexamples.push(doc);
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(old: Value, new: Value, old_path: &str, new_path: &str) -> Option<Value> {
        let (co, cn) = (Compiled::new(&old, Draft::D7), Compiled::new(&new, Draft::D7));
        witness(
            (&old, &co),
            (&new, &cn),
            old_path,
            new_path,
            &mut MAX_VALIDATIONS.clone(),
        )
    }

    #[test]
    fn a_lowered_max_length_shows_a_string_at_the_old_limit() {
        let old =
            json!({"type":"object","properties":{"a":{"type":"string","maxLength":12}},"required":["a"]});
        let new =
            json!({"type":"object","properties":{"a":{"type":"string","maxLength":10}},"required":["a"]});
        let w = find(old, new, "/properties/a/maxLength", "/properties/a/maxLength");
        let w = w.expect("a witness");
        let a = w["a"].as_str().expect("a string at the finding's place");
        assert!(a.len() > 10 && a.len() <= 12, "{w}");
    }

    #[test]
    fn no_witness_when_nothing_breaks() {
        let old = json!({"type":"string","maxLength":10});
        let new = json!({"type":"string","maxLength":12});
        assert_eq!(find(old, new, "/maxLength", "/maxLength"), None);
    }

    #[test]
    fn references_are_followed_to_the_finding() {
        let old = json!({"definitions":{"n":{"type":"integer","minimum":0}},"type":"object","properties":{"n":{"$ref":"#/definitions/n"}}});
        let new = json!({"definitions":{"n":{"type":"integer","minimum":5}},"type":"object","properties":{"n":{"$ref":"#/definitions/n"}}});
        let w = find(old, new, "/properties/n/minimum", "/properties/n/minimum").expect("a witness");
        let n = w["n"].as_i64().expect("an integer at n");
        assert!((0..5).contains(&n), "{w}");
    }

    #[test]
    fn thousands_of_patterns_and_properties_stay_bounded() {
        let mut patterns = Map::new();
        let mut properties = Map::new();
        for i in 0..3000 {
            patterns.insert(format!("^p{i}(a|b)*$"), json!({"type": "integer"}));
            properties.insert(format!("q{i}"), json!({"type": "string"}));
        }
        let required: Vec<String> = (0..3000).map(|i| format!("q{i}")).collect();
        let old = json!({"type":"object","patternProperties":patterns,"properties":properties.clone(),"required":required});
        let mut new = old.clone();
        new["properties"]["q0"] = json!({"type": "string", "maxLength": 0});
        // Whatever is found must still be verified: a witness, if any, is
        // accepted by the old schema and rejected by the new one.
        if let Some(w) = find(
            old.clone(),
            new.clone(),
            "/properties/q0/maxLength",
            "/properties/q0/maxLength",
        ) {
            assert!(Compiled::new(&old, Draft::D7).accepts(&w) == Some(true));
            assert!(Compiled::new(&new, Draft::D7).accepts(&w) == Some(false));
        }
    }

    #[test]
    fn hostile_bounds_cost_bounded_work() {
        let old = json!({"type":"string","minLength":1000000000});
        let new = json!({"type":"string","minLength":1000000001});
        assert_eq!(find(old, new, "/minLength", "/minLength"), None);
    }
}
