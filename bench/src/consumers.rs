//! `consumers`: the latency of a durable publish as the number of
//! registered consumers of the contract grows. One contract per consumer
//! count, each with that many consumers registered (`^1`, each with a
//! reader of its own); then rounds in which every contract gets one new
//! patch version in turn, so that all counts share the machine's state of
//! the moment. The contract without consumers, measured in the same rounds,
//! is the baseline.

use std::time::{Duration, Instant};

use accord_proto::v1::{self as pb, registry_service_client::RegistryServiceClient};
use anyhow::{Context, bail};
use tonic::transport::Channel;

use crate::{load::Stats, schemas};

/// What is measured.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Consumer counts, one contract each; the first is the baseline.
    pub counts: Vec<usize>,
    /// Measured publishes per contract.
    pub publishes: usize,
    /// Unmeasured publishes per contract first.
    pub warmup: usize,
    /// Whether each consumer registers a reader schema (else it is checked
    /// against the version its requirement resolves to).
    pub readers: bool,
}

const COMPONENT: &str = "bench-consumers";

/// A reader that accepts exactly what version 1.0.0 accepts, a document of
/// its own (its description names it), so that no two consumers share one.
fn reader(contract: &str, i: usize) -> String {
    schemas::schema(COMPONENT, contract, 0).replacen(
        "An order event published by",
        &format!("Reader {i} of an order event published by"),
        1,
    )
}

/// Revision `n` of the contract: a new title, so a patch version, which no
/// consumer's reader rejects.
fn revision(contract: &str, n: usize) -> String {
    schemas::schema(COMPONENT, contract, 0).replacen(
        &format!("\"title\": \"{COMPONENT}/{contract}\""),
        &format!("\"title\": \"revision {n}\""),
        1,
    )
}

async fn publish(
    client: &mut RegistryServiceClient<Channel>,
    contract: &str,
    schema: String,
    version: &str,
) -> anyhow::Result<pb::PublishContractResponse> {
    Ok(client
        .publish_contract(pb::PublishContractRequest {
            component: COMPONENT.into(),
            contract: contract.into(),
            schema,
            version: version.into(),
        })
        .await
        .with_context(|| format!("publish {COMPONENT}/{contract}"))?
        .into_inner())
}

/// Publishes 1.0.0 of one contract per count and registers its consumers.
async fn prepare(
    client: &mut RegistryServiceClient<Channel>,
    plan: &Plan,
    run: u64,
) -> anyhow::Result<Vec<String>> {
    let mut contracts = Vec::new();
    for &count in &plan.counts {
        let contract = format!("r{run}-c{count}");
        publish(
            client,
            &contract,
            schemas::schema(COMPONENT, &contract, 0),
            "1.0.0",
        )
        .await?;
        for i in 0..count {
            client
                .register_consumer(pb::RegisterConsumerRequest {
                    consumer: format!("reader-{i:03}"),
                    component: COMPONENT.into(),
                    contract: contract.clone(),
                    requirement: "^1".into(),
                    reader: if plan.readers {
                        reader(&contract, i)
                    } else {
                        String::new()
                    },
                })
                .await
                .with_context(|| format!("register consumer {i} of {contract}"))?;
        }
        contracts.push(contract);
    }
    Ok(contracts)
}

/// Runs the plan against the registry at `url` and prints the table.
pub async fn run(url: &str, plan: Plan) -> anyhow::Result<()> {
    if plan.counts.is_empty() || plan.publishes == 0 {
        bail!("nothing to measure: give --counts and --publishes");
    }
    let channel = crate::load::connect(url, 1).await?.remove(0);
    let mut client = RegistryServiceClient::new(channel);
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let contracts = prepare(&mut client, &plan, run).await?;
    let mut latencies: Vec<Vec<u32>> = vec![Vec::new(); contracts.len()];
    let mut elapsed = vec![Duration::ZERO; contracts.len()];
    for round in 0..plan.warmup + plan.publishes {
        for (at, contract) in contracts.iter().enumerate() {
            let started = Instant::now();
            let reply = publish(&mut client, contract, revision(contract, round), "").await?;
            let took = started.elapsed();
            if reply.consumer_impacts.len() != plan.counts[at] {
                bail!(
                    "{contract}: {} consumer impacts, expected {}",
                    reply.consumer_impacts.len(),
                    plan.counts[at]
                );
            }
            if round >= plan.warmup {
                latencies[at].push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
                elapsed[at] += took;
            }
        }
    }
    println!(
        "registry {url}: durable PublishContract, one publisher, {} measured publishes per contract \
         after {} unmeasured, consumers {} (^1, one version each publish)",
        plan.publishes,
        plan.warmup,
        if plan.readers {
            "with a reader each"
        } else {
            "without readers"
        }
    );
    println!();
    println!("| consumers | p50 ms | p90 ms | p99 ms | mean ms | p50 of baseline |");
    println!("|---:|---:|---:|---:|---:|---:|");
    let stats: Vec<Stats> = latencies
        .into_iter()
        .zip(elapsed)
        .map(|(mut l, elapsed)| {
            l.sort_unstable();
            Stats {
                ok: l.len() as u64,
                elapsed,
                latencies_us: l,
                ..Stats::default()
            }
        })
        .collect();
    let baseline = stats[0].percentile_ms(0.5).max(f64::EPSILON);
    for (count, s) in plan.counts.iter().zip(&stats) {
        let mean = s.elapsed.as_secs_f64() * 1000.0 / s.ok.max(1) as f64;
        println!(
            "| {count} | {:.2} | {:.2} | {:.2} | {mean:.2} | {:.2}× |",
            s.percentile_ms(0.5),
            s.percentile_ms(0.9),
            s.percentile_ms(0.99),
            s.percentile_ms(0.5) / baseline
        );
    }
    Ok(())
}
