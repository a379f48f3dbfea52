//! What `accord check NEW --against OLD` asks of the engine, without the
//! command line around it: read both files, check BACKWARD (or the mode
//! given) with witnesses, print the counts. For instruction counts that do
//! not depend on the machine's load, give witness search unbounded time:
//!
//! `valgrind --tool=callgrind target/release/examples/check NEW OLD backward 60000`

use accord_compat::{Mode, Options, Policy, Schema, check_with};
use std::time::Duration;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, new, old, rest @ ..] = &args[..] else {
        eprintln!("usage: check NEW.json OLD.json [MODE] [WITNESS_MS]");
        std::process::exit(2);
    };
    let mode: Mode = rest
        .first()
        .map_or(Ok(Mode::Backward), |m| m.parse())
        .expect("a mode");
    let witness_ms = rest.get(1).map_or(200, |t| t.parse().expect("milliseconds"));
    let read = |p: &str| Schema::parse(&std::fs::read_to_string(p).expect("readable")).expect("a schema");
    let (new, old) = (read(new), read(old));
    let options = Options {
        witness_time: Duration::from_millis(witness_ms),
        ..Options::default()
    };
    let report = check_with(&new, &[&old], mode, Policy::Strict, &options).expect("within bounds");
    let breaking = report.findings.iter().filter(|f| !f.compatible).count();
    let witnessed = report.findings.iter().filter(|f| f.witness.is_some()).count();
    println!(
        "{} findings, {breaking} breaking, {witnessed} with a witness, {} without for lack of time",
        report.findings.len(),
        report.witnesses_timed_out
    );
}
