//! The engine's cost against schema size: a generated object schema with
//! 2,000 properties over 5 levels, at 1/4 and 4x that size, compared with
//! itself and with a copy carrying a few breaking edits. The baseline is
//! `serde_json::Value` equality of the schema with a copy of itself (a walk
//! of both whole trees that decides nothing), measured in the same run.
//!
//! `cargo bench -p accord-compat --bench compare`

use accord_compat::{Policy, Schema, diff};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value, json};
use std::hint::black_box;

/// A leaf property; `edited` turns a few of them into breaking changes.
fn leaf(i: usize, edited: bool) -> Value {
    let breaking = edited && i % 700 == 3;
    match i % 5 {
        0 => json!({"type": "string", "maxLength": if breaking { 8 } else { 64 }}),
        1 => json!({"type": if breaking { "string" } else { "integer" }, "minimum": 0}),
        2 => json!({"enum": if breaking { json!(["a", "b"]) } else { json!(["a", "b", "c"]) }}),
        3 => json!({"type": "array", "items": {"type": "string"}, "maxItems": if breaking { 2 } else { 10 }}),
        _ => json!({"type": "boolean", "description": format!("flag {i}")}),
    }
}

/// An object whose subtree holds `budget` properties, nested 5 levels deep.
fn object(budget: usize, depth: usize, counter: &mut usize, edited: bool) -> Value {
    let mut props = Map::new();
    let mut left = budget;
    let nested = if depth < 4 { 3 } else { 0 };
    let child = if nested > 0 { budget / (nested + 1) } else { 0 };
    for n in 0..nested {
        if left <= child + 1 {
            break;
        }
        props.insert(format!("o{n}"), object(child, depth + 1, counter, edited));
        left -= child + 1;
    }
    let mut required = Vec::new();
    while left > 0 {
        *counter += 1;
        let name = format!("p{}", *counter);
        if (*counter).is_multiple_of(4) {
            required.push(json!(name.clone()));
        }
        props.insert(name, leaf(*counter, edited));
        left -= 1;
    }
    json!({"type": "object", "properties": props, "required": required})
}

fn generated(properties: usize, edited: bool) -> Value {
    object(properties, 0, &mut 0, edited)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("compare");
    for size in [500usize, 2_000, 8_000] {
        let base = generated(size, false);
        let edited = generated(size, true);
        let old = Schema::from_value(base.clone()).expect("generated schema is valid");
        let same = Schema::from_value(base.clone()).expect("generated schema is valid");
        let new = Schema::from_value(edited.clone()).expect("generated schema is valid");
        assert!(diff(&old, &same, Policy::Strict).is_empty());
        assert!(diff(&old, &new, Policy::Strict).iter().any(|f| !f.compatible));
        let copy = base.clone();
        group.bench_with_input(BenchmarkId::new("baseline_value_eq", size), &size, |b, _| {
            b.iter(|| black_box(black_box(&base) == black_box(&copy)))
        });
        group.bench_with_input(BenchmarkId::new("self", size), &size, |b, _| {
            b.iter(|| diff(black_box(&old), black_box(&same), Policy::Strict))
        });
        group.bench_with_input(BenchmarkId::new("breaking_edits", size), &size, |b, _| {
            b.iter(|| diff(black_box(&old), black_box(&new), Policy::Strict))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
