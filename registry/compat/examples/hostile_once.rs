//! One parse-and-check of each crafted shape of issue 18 (benches/hostile.rs)
//! at the size factor given, timed once, with the plain `check` (witnesses
//! included): an API every version has, to measure an older tree the same
//! way (copy this file and benches/common/mod.rs into it).
//!
//! `cargo run --release -p accord-compat --example hostile_once -- 4`
#[path = "../benches/common/mod.rs"]
mod common;
use accord_compat::{Mode, Policy, Schema, check};
use std::time::Instant;
fn main() {
    let factor: usize = std::env::args().nth(1).and_then(|f| f.parse().ok()).unwrap_or(1);
    let shapes = common::crafted();
    for (name, base, shape) in shapes {
        let (old, new) = shape(base * factor);
        let (old, new) = (old.to_string(), new.to_string());
        let t = Instant::now();
        let (o, n) = (Schema::parse(&old).unwrap(), Schema::parse(&new).unwrap());
        let r = check(&n, &[&o], Mode::Backward, Policy::Strict);
        println!(
            "{name} {factor}x: {:?} ({} findings)",
            t.elapsed(),
            r.findings.len()
        );
    }
}
