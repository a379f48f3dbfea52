//! `replicas`: the registry binary as replicas of one PostgreSQL database.
//!
//! For each replica count: the database's registry tables are dropped, the
//! replicas started, and then measured, each against a baseline from the
//! same run:
//! - durable publishes/s from `publishers` clients spread over the
//!   replicas, each on a contract of its own (the baseline: the same load
//!   on one registry with the embedded store, started the same way);
//! - GetContract on each replica, and on a bare tonic server answering the
//!   same bytes;
//! - how long a write on one replica takes to be visible on another: the
//!   time from a publish's acknowledgement on replica 0 to its event on a
//!   watch stream of replica 1 (an event is sent once the replica's index
//!   holds the version).

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use accord_proto::v1::{self as pb, registry_service_client::RegistryServiceClient};
use anyhow::{Context, bail};

use crate::{baseline, load, load::Stats, schemas};

/// Settings of a `replicas` run.
#[derive(Debug, clap::Args)]
pub struct ReplicasArgs {
    /// The `accord-registry` binary.
    #[arg(long, default_value = "target/release/accord-registry")]
    binary: std::path::PathBuf,
    /// The PostgreSQL database the replicas share; its registry tables are
    /// dropped before each measurement.
    #[arg(long, value_name = "URL")]
    store: String,
    /// Replica counts to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,3")]
    replicas: Vec<usize>,
    /// Concurrent publishers, each on a contract of its own.
    #[arg(long, default_value_t = 16)]
    publishers: usize,
    /// Concurrent GetContract calls per replica.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Time of each measurement.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Writes timed from one replica to another.
    #[arg(long, default_value_t = 200)]
    visibility_samples: usize,
}

/// A replica process, stopped with SIGTERM when dropped.
struct Replica {
    child: Child,
    url: String,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

async fn start(binary: &std::path::Path, store: &[&str]) -> anyhow::Result<Replica> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let child = Command::new(binary)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(store)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let mut replica = Replica {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let give_up = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = replica.child.try_wait()? {
            bail!("{} exited before serving: {status}", binary.display());
        }
        if Instant::now() > give_up {
            bail!("{} not serving after 60 s", binary.display());
        }
        if let Ok(channel) = tonic::transport::Endpoint::from_shared(replica.url.clone())?
            .connect()
            .await
        {
            let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
            if let Ok(reply) = health
                .check(tonic_health::pb::HealthCheckRequest {
                    service: String::new(),
                })
                .await
                && reply.into_inner().status
                    == tonic_health::pb::health_check_response::ServingStatus::Serving as i32
            {
                return Ok(replica);
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn publish_request(worker: usize, n: u64) -> pb::PublishContractRequest {
    let component = "bench-publish".to_owned();
    let contract = format!("w{worker}");
    let schema = schemas::schema(&component, &contract, 2).replacen(
        "An order event",
        &format!("Revision {n} of an order event"),
        1,
    );
    pb::PublishContractRequest {
        component,
        contract,
        schema,
        version: String::new(),
    }
}

/// Publishes from `publishers` workers spread over `replicas`.
async fn publishes(replicas: &[Replica], publishers: usize, duration: Duration) -> anyhow::Result<Stats> {
    let mut channels = Vec::new();
    for r in replicas {
        channels.extend(load::connect(&r.url, 2).await?);
    }
    // Warm up, then measure.
    load::drive(
        &channels,
        publishers,
        Duration::from_secs(1),
        100_000,
        |mut c, w, n| async move {
            c.publish_contract(publish_request(w, n + 1_000_000_000))
                .await
                .map(drop)
        },
    )
    .await;
    Ok(load::drive(
        &channels,
        publishers,
        duration,
        u64::MAX,
        |mut c, w, n| async move { c.publish_contract(publish_request(w, n)).await.map(drop) },
    )
    .await)
}

async fn gets(url: &str, concurrency: usize, duration: Duration) -> anyhow::Result<Stats> {
    let channels = load::connect(url, 4).await?;
    let request = pb::GetContractRequest {
        component: "bench-publish".into(),
        contract: "w0".into(),
        ..Default::default()
    };
    let warm = request.clone();
    load::drive(
        &channels,
        concurrency,
        Duration::from_secs(1),
        100_000,
        move |mut c, _, _| {
            let r = warm.clone();
            async move { c.get_contract(r).await.map(drop) }
        },
    )
    .await;
    Ok(
        load::drive(&channels, concurrency, duration, u64::MAX, move |mut c, _, _| {
            let r = request.clone();
            async move { c.get_contract(r).await.map(drop) }
        })
        .await,
    )
}

/// Microseconds from a publish acknowledged by `writer` to its event on a
/// watch stream of `reader`, for `samples` publishes one after the other.
async fn visibility(writer: &Replica, reader: &Replica, samples: usize) -> anyhow::Result<Vec<u32>> {
    let mut publisher = RegistryServiceClient::connect(writer.url.clone()).await?;
    let mut watcher = RegistryServiceClient::connect(reader.url.clone()).await?;
    let last = publisher
        .publish_contract(pb::PublishContractRequest {
            component: "bench-visible".into(),
            contract: "probe".into(),
            schema: r#"{"type":"object"}"#.into(),
            version: "1.0.0".into(),
        })
        .await?
        .into_inner()
        .sequence;
    let stream = watcher
        .watch_events(pb::WatchEventsRequest {
            components: vec!["bench-visible".into()],
            after_sequence: last,
            ..Default::default()
        })
        .await;
    let mut stream = stream?.into_inner();
    let mut out = Vec::with_capacity(samples);
    for i in 0..samples {
        let request = pb::PublishContractRequest {
            component: "bench-visible".into(),
            contract: "probe".into(),
            schema: format!(r#"{{"type":"object","title":"{i}"}}"#),
            version: format!("1.0.{}", i + 1),
        };
        let sequence = publisher.publish_contract(request).await?.into_inner().sequence;
        let acknowledged = Instant::now();
        loop {
            let message = tokio::time::timeout(Duration::from_secs(10), stream.message())
                .await
                .context("no event within 10 s")??
                .context("the watch stream ended")?;
            if message.event.is_some_and(|e| e.sequence >= sequence) {
                break;
            }
        }
        out.push(u32::try_from(acknowledged.elapsed().as_micros()).unwrap_or(u32::MAX));
    }
    out.sort_unstable();
    Ok(out)
}

fn percentile_ms(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted_us.len() as f64).ceil() as usize).clamp(1, sorted_us.len());
    f64::from(sorted_us[rank - 1]) / 1000.0
}

async fn reset(store: &str) -> anyhow::Result<()> {
    let db = accord_registry::store::postgres::PostgresStore::open(store)
        .await
        .map_err(|e| anyhow::anyhow!("{store}: {e}"))?;
    db.drop_all()
        .await
        .map_err(|e| anyhow::anyhow!("dropping the tables: {e}"))?;
    Ok(())
}

/// Runs the measurements and prints them as Markdown tables.
pub async fn run(args: ReplicasArgs) -> anyhow::Result<()> {
    println!(
        "replicas of {} on one PostgreSQL database; {} publishers, {:?} per measurement\n",
        args.binary.display(),
        args.publishers,
        args.duration
    );
    // The baseline of publishes: one registry on the embedded store.
    let dir = std::env::temp_dir().join(format!("accord-bench-replicas-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let sled_publishes = {
        let dir_arg = dir.to_string_lossy().into_owned();
        let single = start(&args.binary, &["--data-dir", &dir_arg]).await?;
        let stats = publishes(std::slice::from_ref(&single), args.publishers, args.duration).await?;
        drop(single);
        let _ = std::fs::remove_dir_all(&dir);
        stats
    };
    println!("| replicas | publishes/s | p50 ms | p99 ms | errors | of one embedded-store registry |");
    println!("|---:|---:|---:|---:|---:|---:|");
    println!(
        "| 1 (embedded store, baseline) | {:.0} | {:.2} | {:.2} | {} | 100% |",
        sled_publishes.throughput(),
        sled_publishes.percentile_ms(0.5),
        sled_publishes.percentile_ms(0.99),
        sled_publishes.errors
    );
    let mut later = Vec::new();
    for &count in &args.replicas {
        reset(&args.store).await?;
        let mut replicas = Vec::new();
        for _ in 0..count.max(1) {
            replicas.push(start(&args.binary, &["--store", &args.store]).await?);
        }
        let stats = publishes(&replicas, args.publishers, args.duration).await?;
        println!(
            "| {count} | {:.0} | {:.2} | {:.2} | {} | {:.0}% |",
            stats.throughput(),
            stats.percentile_ms(0.5),
            stats.percentile_ms(0.99),
            stats.errors,
            100.0 * stats.throughput() / sled_publishes.throughput().max(f64::EPSILON)
        );
        if let Some(e) = &stats.first_error {
            eprintln!("  first error: {e}");
        }
        later.push(replicas);
    }

    // GetContract on each replica of the largest set, and the baseline.
    let replicas = later.pop().context("no replica count given")?;
    drop(later);
    let mut probe = RegistryServiceClient::connect(replicas[0].url.clone()).await?;
    let get = probe
        .get_contract(pb::GetContractRequest {
            component: "bench-publish".into(),
            contract: "w0".into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    let canned = baseline::Canned {
        get,
        batch: pb::BatchGetContractsResponse::default(),
        check: pb::CheckCompatibilityResponse::default(),
        publish: pb::PublishContractResponse::default(),
    };
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let base_addr = baseline::start(canned, threads)?;
    println!(
        "\n| GetContract, {} concurrent | calls/s | p50 ms | p99 ms | errors | of baseline |",
        args.concurrency
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let base = gets(&format!("http://{base_addr}"), args.concurrency, args.duration).await?;
    for (i, r) in replicas.iter().enumerate() {
        let stats = gets(&r.url, args.concurrency, args.duration).await?;
        println!(
            "| replica {i} of {} | {:.0} | {:.2} | {:.2} | {} | {:.0}% |",
            replicas.len(),
            stats.throughput(),
            stats.percentile_ms(0.5),
            stats.percentile_ms(0.99),
            stats.errors,
            100.0 * stats.throughput() / base.throughput().max(f64::EPSILON)
        );
    }
    println!(
        "| bare tonic baseline | {:.0} | {:.2} | {:.2} | {} | 100% |",
        base.throughput(),
        base.percentile_ms(0.5),
        base.percentile_ms(0.99),
        base.errors
    );

    if replicas.len() >= 2 {
        let sorted = visibility(&replicas[0], &replicas[1], args.visibility_samples).await?;
        println!(
            "\nwrite on replica 0 → event on replica 1 ({} writes): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            sorted.len(),
            percentile_ms(&sorted, 0.5),
            percentile_ms(&sorted, 0.99),
            percentile_ms(&sorted, 1.0)
        );
    }
    Ok(())
}
