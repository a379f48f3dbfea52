//! One schema, several drafts, same meaning (issue 12, item 2): a change of
//! spelling that keeps the accepted documents gives no finding beyond
//! annotations, and each pair of the equivalence table accepts the same
//! documents by a JSON Schema validator's account, not only the engine's.

mod common;

use accord_compat::{ChangeKind, Finding, Mode, Policy, Schema, check, diff, equivalences, rule, soundness};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use serde_json::{Map, Value, json};

/// Findings that change the accepted documents (annotations aside).
fn validation(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| rule(&f.rule).is_none_or(|r| r.kind == ChangeKind::Validation))
        .map(|f| format!("{} {} ({})", f.rule, f.old_path, f.message))
        .collect()
}

#[test]
fn every_pair_of_the_equivalence_table_is_one_meaning() {
    assert!(equivalences().len() >= 20);
    for e in equivalences() {
        let one = Schema::parse(e.one).unwrap_or_else(|err| panic!("{}: {err}", e.meaning));
        let other = Schema::parse(e.other).unwrap_or_else(|err| panic!("{}: {err}", e.meaning));
        for (a, b) in [(&one, &other), (&other, &one)] {
            let found = diff(a, b, Policy::Strict);
            assert!(found.is_empty(), "{}: {found:?}", e.meaning);
            // The validator agrees: what one accepts, the other does.
            let s = soundness(a, b, 64, 11);
            assert!(!s.skipped && s.accepted_by_old > 0, "{}: {s:?}", e.meaning);
            assert!(s.counterexamples.is_empty(), "{}: {s:?}", e.meaning);
        }
    }
}

/// Changes of meaning are still judged by their meaning, however spelled.
#[test]
fn a_real_change_is_judged_by_its_meaning_not_its_spelling() {
    let d4 = "http://json-schema.org/draft-04/schema#";
    let breaking = |old: Value, new: Value| {
        let (o, n) = (Schema::from_value(old).unwrap(), Schema::from_value(new).unwrap());
        !check(&n, &[&o], Mode::Backward, Policy::Strict).compatible
    };
    // Draft 4's flag added: 10 itself is rejected now.
    assert!(breaking(
        json!({"$schema": d4, "type": "number", "maximum": 10}),
        json!({"$schema": d4, "type": "number", "maximum": 10, "exclusiveMaximum": true})
    ));
    // ... and removed: 10 is accepted again, nothing is lost.
    assert!(!breaking(
        json!({"$schema": d4, "type": "number", "maximum": 10, "exclusiveMaximum": true}),
        json!({"$schema": d4, "type": "number", "maximum": 10})
    ));
    // From draft 4's flag to the later number, one past: less accepted.
    assert!(breaking(
        json!({"$schema": d4, "type": "number", "maximum": 10, "exclusiveMaximum": true}),
        json!({"type": "number", "exclusiveMaximum": 9})
    ));
    assert!(!breaking(
        json!({"$schema": d4, "type": "number", "minimum": 0, "exclusiveMinimum": true}),
        json!({"type": "number", "minimum": 0})
    ));
    // On integers, `< 10` and `<= 9` are the same; `<= 10` is more.
    assert!(!breaking(
        json!({"type": "integer", "maximum": 10}),
        json!({"type": "integer", "exclusiveMaximum": 11})
    ));
    assert!(breaking(
        json!({"type": "integer", "maximum": 10}),
        json!({"type": "integer", "exclusiveMaximum": 10})
    ));
    // `multipleOf` to a divisor keeps every old number; to a non-divisor not.
    let m = |x: Value| json!({"type": "number", "multipleOf": x});
    assert!(!breaking(m(json!(4)), m(json!(2))));
    assert!(breaking(m(json!(4)), m(json!(3))));
    assert!(breaking(m(json!(2)), m(json!(4))));
    // In decimal, not binary: 0.1 is a multiple of 0.01, 0.01 not of 0.1.
    assert!(!breaking(m(json!(0.1)), m(json!(0.01))));
    assert!(breaking(m(json!(0.01)), m(json!(0.1))));
    assert!(!breaking(m(json!(0.3)), m(json!(0.1))));
    // A default spelled out and then given another value is a change.
    assert!(breaking(
        json!({"type": "string", "minLength": 0}),
        json!({"type": "string", "minLength": 1})
    ));
}

// ---- Cross-draft rewrites of generated schemas ----

/// A schema's meaning, written out by [`render`] in any draft.
#[derive(Debug, Clone)]
enum Node {
    Str {
        min: u32,
        max: Option<u32>,
    },
    Int {
        min: Option<(i32, bool)>,
        max: Option<(i32, bool)>,
    },
    Num {
        min: Option<(i32, bool)>,
    },
    Bool,
    Const(u8),
    Enum(Vec<u8>),
    Obj {
        props: Vec<(String, Node)>,
        required: Vec<String>,
        closed: bool,
        dependency: bool,
    },
    Tuple {
        items: Vec<Node>,
        rest: Option<Box<Node>>,
    },
    List {
        item: Box<Node>,
        min: u32,
        unique: bool,
    },
    /// Written through a definition, or in place.
    Def(Box<Node>),
}

/// How one rendering spells things.
#[derive(Debug, Clone, Copy)]
struct Spelling {
    draft: u8,
    /// Write keywords equal to their default.
    defaults: bool,
    /// `type: ["x"]` rather than `type: "x"`.
    type_list: bool,
    /// Integer bounds written inclusive (`maximum: 9` for `< 10`).
    inclusive_integers: bool,
    /// `enum: [x]` rather than `const: x` (draft 4 has no `const`).
    const_as_enum: bool,
    /// Definitions written in place rather than referenced.
    inline: bool,
    /// `definitions` rather than `$defs` where both exist.
    old_defs: bool,
    /// `enum` values in reverse order.
    reverse: bool,
}

const D4: u8 = 4;
const D2019: u8 = 19;
const D2020: u8 = 20;

fn schema_uri(draft: u8) -> &'static str {
    match draft {
        4 => "http://json-schema.org/draft-04/schema#",
        6 => "http://json-schema.org/draft-06/schema#",
        7 => "http://json-schema.org/draft-07/schema#",
        19 => "https://json-schema.org/draft/2019-09/schema",
        _ => "https://json-schema.org/draft/2020-12/schema",
    }
}

struct Renderer {
    s: Spelling,
    defs: Map<String, Value>,
}

impl Renderer {
    fn ty(&self, t: &str) -> Value {
        if self.s.type_list { json!([t]) } else { json!(t) }
    }

    /// An upper (`upper`) or lower bound of an integer or number.
    fn bound(&self, m: &mut Map<String, Value>, b: (i32, bool), upper: bool, integer: bool) {
        let (v, exclusive) = b;
        let (incl, excl) = if upper {
            ("maximum", "exclusiveMaximum")
        } else {
            ("minimum", "exclusiveMinimum")
        };
        if exclusive && integer && self.s.inclusive_integers {
            m.insert(incl.into(), json!(if upper { v - 1 } else { v + 1 }));
        } else if exclusive && self.s.draft == D4 {
            m.insert(incl.into(), json!(v));
            m.insert(excl.into(), json!(true));
        } else if exclusive {
            m.insert(excl.into(), json!(v));
        } else {
            m.insert(incl.into(), json!(v));
            if self.s.draft == D4 && self.s.defaults {
                m.insert(excl.into(), json!(false));
            }
        }
    }

    fn render(&mut self, node: &Node) -> Value {
        let mut m = Map::new();
        match node {
            Node::Str { min, max } => {
                m.insert("type".into(), self.ty("string"));
                if *min > 0 || self.s.defaults {
                    m.insert("minLength".into(), json!(min));
                }
                if let Some(x) = max {
                    m.insert("maxLength".into(), json!(x));
                }
            }
            Node::Int { min, max } => {
                m.insert("type".into(), self.ty("integer"));
                if let Some(b) = min {
                    self.bound(&mut m, *b, false, true);
                }
                if let Some(b) = max {
                    self.bound(&mut m, *b, true, true);
                }
                if self.s.defaults {
                    m.insert("multipleOf".into(), json!(1));
                }
            }
            Node::Num { min } => {
                m.insert("type".into(), self.ty("number"));
                if let Some(b) = min {
                    self.bound(&mut m, *b, false, false);
                }
            }
            Node::Bool => {
                m.insert("type".into(), self.ty("boolean"));
            }
            Node::Const(c) => {
                if self.s.const_as_enum || self.s.draft == D4 {
                    m.insert("enum".into(), json!([c]));
                } else {
                    m.insert("const".into(), json!(c));
                }
            }
            Node::Enum(values) => {
                let mut values = values.clone();
                if self.s.reverse {
                    values.reverse();
                }
                m.insert("enum".into(), json!(values));
            }
            Node::Obj {
                props,
                required,
                closed,
                dependency,
            } => {
                m.insert("type".into(), self.ty("object"));
                let rendered: Map<String, Value> =
                    props.iter().map(|(k, n)| (k.clone(), self.render(n))).collect();
                m.insert("properties".into(), Value::Object(rendered));
                // Draft 4's meta-schema wants at least one name.
                if !required.is_empty() || (self.s.defaults && self.s.draft != D4) {
                    m.insert("required".into(), json!(required));
                }
                if *closed {
                    m.insert("additionalProperties".into(), json!(false));
                } else if self.s.defaults {
                    m.insert("additionalProperties".into(), json!({}));
                }
                if *dependency {
                    let keyword = if self.s.draft >= D2019 && !self.s.old_defs {
                        "dependentRequired"
                    } else {
                        "dependencies"
                    };
                    m.insert(keyword.into(), json!({"a": ["b"]}));
                }
                if self.s.defaults {
                    m.insert("minProperties".into(), json!(0));
                }
            }
            Node::Tuple { items, rest } => {
                m.insert("type".into(), self.ty("array"));
                let rendered: Vec<Value> = items.iter().map(|n| self.render(n)).collect();
                let rest = match rest {
                    Some(n) => self.render(n),
                    None => json!(false),
                };
                if self.s.draft == D2020 {
                    m.insert("prefixItems".into(), json!(rendered));
                    m.insert("items".into(), rest);
                } else {
                    m.insert("items".into(), json!(rendered));
                    m.insert("additionalItems".into(), rest);
                }
            }
            Node::List { item, min, unique } => {
                m.insert("type".into(), self.ty("array"));
                let item = self.render(item);
                m.insert("items".into(), item);
                if *min > 0 || self.s.defaults {
                    m.insert("minItems".into(), json!(min));
                }
                if *unique || self.s.defaults {
                    m.insert("uniqueItems".into(), json!(unique));
                }
            }
            Node::Def(inner) => {
                let target = self.render(inner);
                if self.s.inline {
                    return target;
                }
                let name = format!("d{}", self.defs.len());
                self.defs.insert(name.clone(), target);
                let keyword = if self.s.draft >= D2019 && !self.s.old_defs {
                    "$defs"
                } else {
                    "definitions"
                };
                m.insert("$ref".into(), json!(format!("#/{keyword}/{name}")));
            }
        }
        Value::Object(m)
    }
}

/// The whole document: the schema, its definitions, its draft and an
/// identifier (`id` in draft 4, `$id` after).
fn render(node: &Node, s: Spelling) -> Value {
    let mut r = Renderer { s, defs: Map::new() };
    let body = r.render(node);
    // A `$ref` at the root would hide its siblings before 2019-09: wrap it.
    let mut root = match body {
        Value::Object(m) if !m.contains_key("$ref") => m,
        other => {
            let mut m = Map::new();
            m.insert("allOf".into(), json!([other]));
            m
        }
    };
    if !r.defs.is_empty() {
        let keyword = if s.draft >= D2019 && !s.old_defs {
            "$defs"
        } else {
            "definitions"
        };
        root.insert(keyword.into(), Value::Object(r.defs));
    }
    root.insert("$schema".into(), json!(schema_uri(s.draft)));
    let id = if s.draft == D4 { "id" } else { "$id" };
    root.insert(id.into(), json!("urn:accord:generated"));
    Value::Object(root)
}

fn leaf() -> impl Strategy<Value = Node> {
    let bound = || proptest::option::of((-3i32..4, any::<bool>()));
    prop_oneof![
        (0u32..3, proptest::option::of(3u32..6)).prop_map(|(min, max)| Node::Str { min, max }),
        (bound(), bound()).prop_map(|(min, max)| Node::Int { min, max }),
        bound().prop_map(|min| Node::Num { min }),
        Just(Node::Bool),
        (0u8..4).prop_map(Node::Const),
        prop::collection::vec(0u8..5, 1..4).prop_map(Node::Enum),
    ]
}

fn node() -> impl Strategy<Value = Node> {
    leaf().prop_recursive(3, 24, 3, |inner| {
        let names = prop::sample::select(vec!["a", "b", "c"]);
        prop_oneof![
            (
                prop::collection::btree_map(names.clone(), inner.clone(), 0..3),
                prop::collection::btree_set(names, 0..2),
                any::<bool>(),
                any::<bool>(),
            )
                .prop_map(|(props, required, closed, dependency)| Node::Obj {
                    props: props.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
                    required: required.into_iter().map(str::to_string).collect(),
                    closed,
                    dependency,
                }),
            (
                prop::collection::vec(inner.clone(), 1..3),
                proptest::option::of(inner.clone())
            )
                .prop_map(|(items, rest)| Node::Tuple {
                    items,
                    rest: rest.map(Box::new)
                }),
            (inner.clone(), 0u32..2, any::<bool>()).prop_map(|(item, min, unique)| Node::List {
                item: Box::new(item),
                min,
                unique
            }),
            inner.prop_map(|n| Node::Def(Box::new(n))),
        ]
    })
}

fn spelling() -> impl Strategy<Value = Spelling> {
    (prop::sample::select(vec![4u8, 6, 7, 19, 20]), any::<[bool; 7]>()).prop_map(|(draft, b)| Spelling {
        draft,
        defaults: b[0],
        type_list: b[1],
        inclusive_integers: b[2],
        const_as_enum: b[3],
        inline: b[4],
        old_defs: b[5],
        reverse: b[6],
    })
}

/// Generated schemas written twice, in two drafts with two spellings: the
/// comparison finds nothing that changes the accepted documents, in either
/// direction, and the validator finds no document one accepts and the other
/// rejects. `PROPTEST_CASES` sets the number of schemas (128 by default).
#[test]
fn cross_draft_rewrites_of_one_schema_change_nothing() {
    let cases = common::proptest_cases(128);
    let mut runner = TestRunner::new(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(cases)
    });
    let result = runner.run(&(node(), spelling(), spelling()), |(node, sa, sb)| {
        let (a, b) = (render(&node, sa), render(&node, sb));
        let (x, y) = (
            Schema::from_value(a.clone()).map_err(|e| TestCaseError::fail(format!("{a}: {e}")))?,
            Schema::from_value(b.clone()).map_err(|e| TestCaseError::fail(format!("{b}: {e}")))?,
        );
        for (old, new) in [(&x, &y), (&y, &x)] {
            let found = validation(&diff(old, new, Policy::Strict));
            prop_assert!(
                found.is_empty(),
                "{} -> {}: {:?}",
                old.value(),
                new.value(),
                found
            );
            let s = soundness(old, new, 24, 5);
            prop_assert!(
                s.counterexamples.is_empty(),
                "the renderings differ in meaning: {} -> {}: {:?}",
                old.value(),
                new.value(),
                s.counterexamples
            );
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
