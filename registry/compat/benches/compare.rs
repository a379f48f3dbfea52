//! The engine's cost against schema size: a generated object schema with
//! 2,000 properties over 5 levels, at 1/4 and 4x that size, compared with
//! itself and with a copy carrying a few breaking edits. The baseline is
//! `serde_json::Value` equality of the schema with a copy of itself (a walk
//! of both whole trees that decides nothing), measured in the same run.
//!
//! `cargo bench -p accord-compat --bench compare`

mod common;

use accord_compat::{Policy, Schema, diff};
use common::generated;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;

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
