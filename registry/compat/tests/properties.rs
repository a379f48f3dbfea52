//! Property tests on generated schemas: no panic, no hang, and the
//! invariants hold (self-compare is empty, BACKWARD(a, b) = FORWARD(b, a),
//! output is deterministic and sorted, verdicts follow the rule registry).

use accord_compat::{Bump, Mode, Policy, Schema, check, diff, rule};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn leaf() -> impl Strategy<Value = Value> {
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
        Just(json!({"$ref": "#/definitions/shared"})),
        Just(json!({"type": "string", "title": "named", "description": "d"})),
    ]
}

fn schema() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 40, 4, |inner| {
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
                .prop_map(|(tuple, more)| json!({"type": "array", "items": tuple, "additionalItems": more})),
            (prop::sample::select(vec!["allOf", "anyOf", "oneOf"]), prop::collection::vec(inner.clone(), 1..4))
                .prop_map(|(k, subs)| json!({ k: subs })),
            inner.clone().prop_map(|s| json!({"not": s})),
            (inner.clone(), inner.clone()).prop_map(|(t, e)| json!({"if": {"required": ["a"]}, "then": t, "else": e})),
            (inner.clone(), inner).prop_map(|(p, c)| json!({"type": "object", "propertyNames": {"maxLength": 3}, "patternProperties": {"^x": p}, "dependencies": {"a": c}})),
        ]
    })
}

/// A whole document: the generated schema plus the definition that `$ref`
/// leaves point at (itself recursive through the root).
fn document() -> impl Strategy<Value = Value> {
    (schema(), leaf()).prop_map(|(s, shared)| {
        let shared = json!({"anyOf": [shared, {"$ref": "#"}]});
        match s {
            Value::Object(mut m) => {
                m.insert("definitions".into(), json!({ "shared": shared }));
                Value::Object(m)
            }
            other => json!({"allOf": [other], "definitions": { "shared": shared }}),
        }
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

        for policy in [Policy::Strict, Policy::Lenient] {
            prop_assert!(diff(&sa, &sa2, policy).is_empty());

            let once = diff(&sa, &sb, policy);
            prop_assert_eq!(&once, &diff(&sa, &sb, policy));
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
