//! Links the `accord` binary, on Linux, as a position-dependent executable.
//!
//! A position-independent one has the dynamic loader patch some 30,000
//! addresses at every start, on pages the process then copies: about half
//! a millisecond of each run, for a command CI calls once per contract.
//! The shared libraries it loads keep their randomised addresses; only the
//! executable's own image loads at a fixed one.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
