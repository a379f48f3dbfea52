//! The crafted schemas of issue 18 at 1x, 4x and 16x size: a large `enum`
//! against its reverse, removed properties against added
//! `patternProperties`, a reader with many `patternProperties`, and `$ref`
//! fan-out. Each is timed as the registry spends it on a request: both
//! texts parsed and checked (BACKWARD, STRICT, no witness search, which has
//! its own time bound). The baseline, measured in the same run, is
//! `serde_json` parsing the same two texts: linear by construction, so a
//! flat ratio means linear growth.
//!
//! `cargo bench -p accord-compat --bench hostile`

mod common;

use accord_compat::{Mode, Options, Policy, Schema, check_with};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use serde_json::Value;
use std::hint::black_box;
use std::time::Duration;

fn request(old: &str, new: &str) -> usize {
    let options = Options {
        witness_time: Duration::ZERO,
        ..Options::default()
    };
    let old = Schema::parse(old).expect("valid");
    let new = Schema::parse(new).expect("valid");
    match check_with(&new, &[&old], Mode::Backward, Policy::Strict, &options) {
        Ok(report) => report.findings.len(),
        // The fan-out ends at the step bound: that is its answer.
        Err(_) => 0,
    }
}

fn baseline(old: &str, new: &str) -> usize {
    let a: Value = serde_json::from_str(old).expect("JSON");
    let b: Value = serde_json::from_str(new).expect("JSON");
    usize::from(a == b)
}

fn bench(c: &mut Criterion) {
    let shapes = common::crafted();
    for (name, base, shape) in shapes {
        let mut group = c.benchmark_group(name);
        for factor in [1usize, 4, 16] {
            let (old, new) = shape(base * factor);
            let (old, new) = (old.to_string(), new.to_string());
            let label = format!("{factor}x ({} KB)", (old.len() + new.len()) / 1024);
            group.bench_with_input(BenchmarkId::new("baseline_parse", &label), &factor, |b, _| {
                b.iter(|| baseline(black_box(&old), black_box(&new)))
            });
            group.bench_with_input(BenchmarkId::new("parse_and_check", &label), &factor, |b, _| {
                b.iter(|| request(black_box(&old), black_box(&new)))
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
