//! Payload validation cost: a validator compiled once and reused, against
//! the baseline of compiling the schema for every document, on the same
//! ~8 KB document in the same run.
//!
//! `cargo bench -p accord-client --bench validate`

use accord_client::Validator;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};

fn schema() -> Value {
    json!({
        "type": "object",
        "required": ["id", "customer", "lines"],
        "properties": {
            "id": {"type": "string", "pattern": "^o-[0-9]+$"},
            "customer": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "maxLength": 200},
                    "email": {"type": "string"},
                    "tags": {"type": "array", "items": {"type": "string"}}
                }
            },
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["sku", "qty", "price"],
                    "properties": {
                        "sku": {"type": "string", "minLength": 3},
                        "qty": {"type": "integer", "minimum": 1},
                        "price": {"type": "number", "exclusiveMinimum": 0},
                        "note": {"type": ["string", "null"]}
                    },
                    "additionalProperties": false
                }
            }
        }
    })
}

fn document() -> Value {
    let lines: Vec<Value> = (0..150)
        .map(|i| json!({"sku": format!("sku-{i:05}"), "qty": i + 1, "price": 9.5, "note": null}))
        .collect();
    json!({
        "id": "o-123456",
        "customer": {"name": "Ada", "email": "ada@example.invalid", "tags": ["a", "b", "c"]},
        "lines": lines
    })
}

fn bench(c: &mut Criterion) {
    let schema = schema();
    let doc = document();
    let size = serde_json::to_vec(&doc).map(|b| b.len()).unwrap_or(0);
    let mut group = c.benchmark_group(format!("validate_{size}_bytes"));
    group.bench_function("baseline_compile_per_document", |b| {
        b.iter(|| {
            let v = Validator::from_schema("bench", &schema).expect("compiles");
            assert!(v.is_valid(&doc));
        })
    });
    let validator = Validator::from_schema("bench", &schema).expect("compiles");
    group.bench_function("compiled_once_is_valid", |b| {
        b.iter(|| assert!(validator.is_valid(&doc)))
    });
    group.bench_function("compiled_once_all_errors", |b| {
        b.iter(|| assert!(validator.errors(&doc).is_empty()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
