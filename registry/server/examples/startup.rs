//! Start-up cost of a large registry: time to open the store and build the
//! in-memory index, and the resident memory afterwards.
//!
//! ```sh
//! cargo run --release -p accord-registry --example startup -- fill /tmp/accord-big 100000
//! cargo run --release -p accord-registry --example startup -- open /tmp/accord-big
//! ```
//!
//! `fill` writes 1,000 contracts with an equal share of versions, each with
//! its own schema (no two alike, so nothing is shared by fingerprint).
//! `open` reports, in one run, the registry's start-up and resident memory,
//! then the baseline (sled opening the same data and reading every value
//! without decoding it) and the ratio of the two times.

use std::{path::Path, sync::Arc, time::Instant};

use accord_registry::{
    Limits, Registry,
    model::{ContractName, Event, EventKind, VersionRecord},
    store::{Batch, Store, sled::SledStore},
};

const CONTRACTS: usize = 1000;

fn schema(contract: usize, version: usize) -> String {
    format!(
        r#"{{"type": "object", "title": "contract {contract} version {version}", "additionalProperties": false, "required": ["id"], "properties": {{"id": {{"type": "string", "maxLength": 64}}, "amount": {{"type": "integer", "minimum": 0}}, "note": {{"type": "string", "description": "free text of contract {contract}"}}, "tags": {{"type": "array", "items": {{"type": "string"}}}}}}}}"#
    )
}

async fn commit(store: &SledStore, batch: Batch) -> Result<(), Box<dyn std::error::Error>> {
    let applied = store.apply(batch).await?;
    store.sync(applied.ticket).await?;
    Ok(())
}

async fn fill(dir: &Path, versions: usize) -> Result<(), Box<dyn std::error::Error>> {
    let store = SledStore::open(dir)?;
    if !store.is_empty().await? {
        return Err(format!("{} is not empty", dir.display()).into());
    }
    let per_contract = versions.div_ceil(CONTRACTS);
    let mut sequence = 0u64;
    let mut batch = Batch::default();
    for contract in 0..CONTRACTS {
        let name = ContractName::new(
            format!("component-{}", contract / 10),
            format!("contract-{contract}"),
        )?;
        for minor in 0..per_contract {
            if sequence as usize >= versions {
                break;
            }
            let text = schema(contract, minor);
            let value: serde_json::Value = serde_json::from_str(&text)?;
            let fingerprint = accord_compat::fingerprint(&value);
            sequence += 1;
            let version = semver::Version::new(1, minor as u64, 0);
            let mut event = Event::new(EventKind::Published, Some(&name), version.to_string());
            event.fingerprint = fingerprint.clone();
            batch.events.push(event);
            batch.versions.push(VersionRecord {
                name: name.clone(),
                version,
                fingerprint: fingerprint.clone(),
                created_at: 0,
                bump: None,
                deprecated: None,
                deleted_at: None,
                draft: None,
                published_by: String::new(),
                erased: None,
            });
            batch.schemas.push((fingerprint, Arc::from(text.as_str())));
        }
        if batch.versions.len() >= 1000 {
            commit(&store, std::mem::take(&mut batch)).await?;
        }
    }
    commit(&store, batch).await?;
    println!("filled {} with {sequence} versions", dir.display());
    Ok(())
}

fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

async fn open(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    // The registry first, so that the memory figure is its own.
    let started = Instant::now();
    let registry = Registry::open(Arc::new(SledStore::open(dir)?), Limits::default()).await?;
    let startup = started.elapsed();
    let resident = resident_kib();
    let versions = registry.version_count();
    drop(registry);

    // Baseline: sled alone, reading every value the registry reads.
    let started = Instant::now();
    let mut bytes = 0usize;
    {
        let db = sled::Config::new()
            .path(dir.join("db"))
            .cache_capacity(32 << 20)
            .open()?;
        for tree in ["versions", "schemas", "settings", "revisions"] {
            for item in db.open_tree(tree)?.iter() {
                let (key, value) = item?;
                bytes += key.len() + value.len();
            }
        }
    }
    let baseline = started.elapsed();

    println!("versions:           {versions}");
    println!("registry start-up:  {startup:?}");
    println!(
        "baseline (sled reading the same {} MB): {baseline:?}",
        bytes >> 20
    );
    println!(
        "ratio:              {:.2}",
        startup.as_secs_f64() / baseline.as_secs_f64().max(f64::EPSILON)
    );
    match resident {
        Some(kib) => println!("resident memory after start-up: {} MB", kib / 1024),
        None => println!("resident memory: unknown (no /proc/self/status)"),
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["fill", dir, count] => fill(Path::new(dir), count.parse()?).await,
        ["open", dir] => open(Path::new(dir)).await,
        _ => Err("usage: startup fill DIR VERSIONS | startup open DIR".into()),
    }
}
