//! `flood`: what one caller without a token can make a registry do: many
//! refused writes carrying large fields. Reports how fast they are refused
//! and how much the data directory grew (the audit log of such attempts is
//! one counted entry per peer and interval, not one write each).

use std::{path::PathBuf, time::Instant};

use accord_proto::v1::{self as pb, registry_service_client::RegistryServiceClient};
use anyhow::Context;

/// Settings of a `flood` run.
#[derive(Debug, clap::Args)]
pub struct FloodArgs {
    /// The registry (started with --auth-file, so that calls need a token).
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    registry: String,
    /// Its data directory, to measure how much it grows.
    #[arg(long)]
    data_dir: PathBuf,
    /// Refused writes to send.
    #[arg(long, default_value_t = 1000)]
    calls: usize,
    /// Bytes of the component name each call carries.
    #[arg(long, default_value_t = 3 << 20)]
    field_bytes: usize,
}

fn size_of(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.metadata() {
                Ok(m) if m.is_dir() => stack.push(entry.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

/// Sends the calls and prints what they cost.
pub async fn run(args: FloodArgs) -> anyhow::Result<()> {
    let before = size_of(&args.data_dir);
    let mut client = RegistryServiceClient::connect(args.registry.clone())
        .await
        .with_context(|| format!("cannot connect to {}", args.registry))?
        .max_encoding_message_size(64 << 20);
    let field = "x".repeat(args.field_bytes);
    let started = Instant::now();
    let mut refused = 0;
    for _ in 0..args.calls {
        let outcome = client
            .publish_contract(pb::PublishContractRequest {
                component: field.clone(),
                contract: "placed".into(),
                schema: "{}".into(),
                version: "1.0.0".into(),
            })
            .await;
        if let Err(status) = outcome
            && status.code() == tonic::Code::Unauthenticated
        {
            refused += 1;
        }
    }
    let took = started.elapsed();
    let after = size_of(&args.data_dir);
    println!(
        "{} calls of {} bytes without a token: {refused} refused UNAUTHENTICATED in {took:.2?} ({:.0}/s)",
        args.calls,
        args.field_bytes,
        args.calls as f64 / took.as_secs_f64().max(f64::EPSILON)
    );
    println!(
        "data directory {}: {before} bytes before, {after} after ({:+} bytes)",
        args.data_dir.display(),
        after as i64 - before as i64
    );
    Ok(())
}
