//! `accord`: the command-line interface of the Accord contract registry.

use std::process::ExitCode;

use clap::Parser;

/// Work with versioned contracts (JSON Schema) from a terminal or from CI.
#[derive(Debug, Parser)]
#[command(name = "accord", version)]
struct Cli {
    /// Registry address.
    #[arg(
        long,
        env = "ACCORD_REGISTRY",
        default_value = "http://127.0.0.1:50051",
        global = true
    )]
    registry: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = cli.registry;
    ExitCode::SUCCESS
}
