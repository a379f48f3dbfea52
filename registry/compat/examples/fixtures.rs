//! Writes the benchmarks' generated schemas to files, so that the whole
//! `accord check` process can be timed on them (the 2,000-property pair at
//! three sizes, and two revisions of a large configuration schema):
//!
//! `cargo run --release -p accord-compat --example fixtures -- DIR`

#[path = "../benches/common/mod.rs"]
mod common;

fn main() -> std::io::Result<()> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| ".".into()));
    std::fs::create_dir_all(&dir)?;
    for size in [500usize, 2_000, 8_000] {
        for (edited, name) in [(false, "old"), (true, "new")] {
            let path = dir.join(format!("props-{size}-{name}.json"));
            std::fs::write(&path, common::generated(size, edited).to_string())?;
            println!("{}", path.display());
        }
    }
    for revision in [0u32, 1] {
        let path = dir.join(format!("configuration-{revision}.json"));
        std::fs::write(&path, common::configuration(240, revision).to_string())?;
        println!("{}", path.display());
    }
    Ok(())
}
