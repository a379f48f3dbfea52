//! Links the `accord` binary, on Linux, for a short start: CI calls it once
//! per contract, so what every start costs is part of every check.
//!
//! - As a position-dependent executable. A position-independent one has
//!   the dynamic loader patch some 30,000 addresses at every start, on
//!   pages the process then copies: about half a millisecond of each run.
//!   The shared libraries it loads keep their randomised addresses; only
//!   the executable's own image loads at a fixed one.
//! - With the unwinder of GCC's runtime linked in (`libgcc_eh.a`, what
//!   `gcc -static-libgcc` links) instead of loaded from `libgcc_s.so.1`.
//!   Rust's standard library asks for `-lgcc_s` by name; a linker script
//!   of that name, found first, points the linker at the static archive.
//!   Loading the shared one costs each start its mapping, its relocations
//!   and its constructor, which asks the CPU for its features with a
//!   dozen `cpuid` instructions: each one a trap to the hypervisor on a
//!   virtual machine, several microseconds apiece. Panics unwind and print
//!   backtraces as before.
//! - With the compiler's cold functions (panic and error paths, marked
//!   `.text.unlikely`) kept in a section of their own after the rest of the
//!   code, rather than interleaved with it. A start touches the code it
//!   runs page by page; with the cold code out of the way, those pages hold
//!   more of it: 163 page faults for a check of the 2,000-property pair
//!   became 159.
use std::{env, fs, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os != "linux" {
        return;
    }
    println!("cargo:rustc-link-arg-bins=-no-pie");
    println!("cargo:rustc-link-arg-bins=-Wl,-z,keep-text-section-prefix");
    if target_env == "gnu" {
        let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
        let script = out.join("static-libgcc");
        fs::create_dir_all(&script).expect("creating the linker script's directory");
        fs::write(script.join("libgcc_s.so"), "INPUT(-lgcc_eh)\n").expect("writing the linker script");
        println!("cargo:rustc-link-search=native={}", script.display());
    }
}
