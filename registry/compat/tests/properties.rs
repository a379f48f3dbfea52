//! Property tests on generated schemas: no panic, no hang, and the
//! invariants hold (self-compare is empty, BACKWARD(a, b) = FORWARD(b, a),
//! output is deterministic and sorted, verdicts follow the rule registry).

use accord_compat::{Bump, Mode, Options, Policy, Schema, check, diff, diff_with, rule};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn leaf(d2020: bool) -> impl Strategy<Value = Value> {
    let shared = if d2020 {
        "#/$defs/shared"
    } else {
        "#/definitions/shared"
    };
    prop_oneof![
        Just(json!(true)),
        Just(json!(false)),
        Just(json!({})),
        (0u32..20).prop_map(|n| json!({"type": "string", "maxLength": n})),
        (0u32..5).prop_map(|n| json!({"type": "string", "minLength": n, "format": "email"})),
        (-5i32..5).prop_map(|n| json!({"type": "integer", "minimum": n})),
        (1u32..4).prop_map(|n| json!({"type": "number", "multipleOf": n})),
        Just(json!({"type": "boolean"})),
        Just(json!({"type": ["string", "null"]})),
        prop::collection::vec(0u8..4, 1..4).prop_map(|v| json!({"enum": v})),
        (0u8..3).prop_map(|n| json!({"const": n})),
        Just(json!({ "$ref": shared })),
        Just(json!({"type": "string", "title": "named", "description": "d"})),
    ]
}

fn schema(d2020: bool) -> impl Strategy<Value = Value> {
    leaf(d2020).prop_recursive(4, 40, 4, move |inner| {
        let names = prop::sample::select(vec!["a", "b", "c", "d"]);
        prop_oneof![
            (
                prop::collection::btree_map(names.clone(), inner.clone(), 0..4),
                prop::collection::btree_set(names, 0..3),
                prop_oneof![Just(json!(true)), Just(json!(false)), inner.clone()],
                any::<bool>(),
            )
                .prop_map(|(props, required, additional, typed)| {
                    let mut m = Map::new();
                    if typed {
                        m.insert("type".into(), json!("object"));
                    }
                    m.insert("properties".into(), json!(props));
                    m.insert("required".into(), json!(required));
                    m.insert("additionalProperties".into(), additional);
                    Value::Object(m)
                }),
            (inner.clone(), 0u32..3).prop_map(|(items, min)| json!({"type": "array", "items": items, "minItems": min})),
            (prop::collection::vec(inner.clone(), 1..3), prop_oneof![Just(json!(false)), inner.clone()])
                .prop_map(move |(tuple, more)| if d2020 {
                    json!({"type": "array", "prefixItems": tuple, "items": more})
                } else {
                    json!({"type": "array", "items": tuple, "additionalItems": more})
                }),
            (inner.clone(), any::<bool>()).prop_map(move |(rest, objects)| match (d2020, objects) {
                (true, true) => json!({"type": "object", "properties": {"a": {"type": "string"}}, "unevaluatedProperties": rest}),
                (true, false) => json!({"type": "array", "prefixItems": [{"type": "string"}], "unevaluatedItems": rest, "contains": {"type": "string"}, "minContains": 1}),
                (false, _) => json!({"type": "array", "contains": rest}),
            }),
            (prop::sample::select(vec!["allOf", "anyOf", "oneOf"]), prop::collection::vec(inner.clone(), 1..4))
                .prop_map(|(k, subs)| json!({ k: subs })),
            inner.clone().prop_map(|s| json!({"not": s})),
            (inner.clone(), inner.clone()).prop_map(|(t, e)| json!({"if": {"required": ["a"]}, "then": t, "else": e})),
            (inner.clone(), inner).prop_map(move |(p, c)| {
                let deps = if d2020 { "dependentSchemas" } else { "dependencies" };
                json!({"type": "object", "propertyNames": {"maxLength": 3}, "patternProperties": {"^x": p}, deps: {"a": c}, "dependentRequired": {"b": ["a"]}})
            }),
        ]
    })
}

/// A whole document: the generated schema plus the definition that `$ref`
/// leaves point at (itself recursive through the root).
fn document() -> impl Strategy<Value = Value> {
    any::<bool>().prop_flat_map(|d2020| {
        (schema(d2020), leaf(d2020)).prop_map(move |(s, shared)| {
            let shared = json!({"anyOf": [shared, {"$ref": "#"}]});
            let defs = if d2020 { "$defs" } else { "definitions" };
            let mut m = match s {
                Value::Object(m) => m,
                other => {
                    let mut m = Map::new();
                    m.insert("allOf".into(), json!([other]));
                    m
                }
            };
            m.insert(defs.into(), json!({ "shared": shared }));
            if d2020 {
                m.insert(
                    "$schema".into(),
                    json!("https://json-schema.org/draft/2020-12/schema"),
                );
            }
            Value::Object(m)
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 96,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn invariants_hold_on_generated_schemas(a in document(), b in document()) {
        let sa = Schema::from_value(a.clone()).expect("generated schemas are valid");
        let sa2 = Schema::from_value(a.clone()).expect("generated schemas are valid");
        let sb = Schema::from_value(b.clone()).expect("generated schemas are valid");

        let unhurried = Options {
            witness_time: std::time::Duration::from_secs(60),
            ..Options::default()
        };
        for policy in [Policy::Strict, Policy::Lenient] {
            prop_assert!(diff(&sa, &sa2, policy).is_empty());

            // The same answer twice, witnesses included, given the time:
            // within the default budget which findings get a witness
            // depends on the machine's speed.
            let once = diff_with(&sa, &sb, policy, &unhurried).expect("no budget is reached").findings;
            let again = diff_with(&sa, &sb, policy, &unhurried).expect("no budget is reached").findings;
            prop_assert_eq!(&once, &again);
            let mut sorted = once.clone();
            sorted.sort_by(|x, y| (&x.old_path, &x.new_path, &x.rule).cmp(&(&y.old_path, &y.new_path, &y.rule)));
            prop_assert_eq!(
                once.iter().map(|f| (&f.old_path, &f.rule)).collect::<Vec<_>>(),
                sorted.iter().map(|f| (&f.old_path, &f.rule)).collect::<Vec<_>>()
            );
            for f in &once {
                let r = rule(&f.rule).expect("every finding's rule is registered");
                prop_assert_eq!(f.compatible, r.compatible(policy));
            }

            let backward = check(&sb, &[&sa], Mode::Backward, policy);
            let forward = check(&sa, &[&sb], Mode::Forward, policy);
            prop_assert_eq!(backward.compatible, forward.compatible);
            prop_assert_eq!(backward.findings.len(), forward.findings.len());
            prop_assert_eq!(backward.compatible, once.iter().all(|f| f.compatible));
            prop_assert_eq!(backward.required_bump == Bump::Major, !backward.compatible);
            prop_assert_eq!(backward.required_bump == Bump::None, once.is_empty());

            for mode in Mode::ALL {
                let r = check(&sb, &[&sa, &sb], mode, policy);
                if mode == Mode::None {
                    prop_assert!(r.compatible);
                }
            }
        }
    }
}
