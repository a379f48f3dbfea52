//! `accord-bench`: drives a running Accord registry with concurrent clients
//! and reports throughput and latency percentiles next to a baseline
//! measured in the same run.
//!
//! - `seed`: publishes components × contracts × versions of realistic
//!   schemas ([`schemas`]).
//! - `run`: for each call and concurrency, loads the registry, then a bare
//!   tonic service in this process that answers the same call with a reply
//!   of the same size ([`baseline`]), and prints both and their ratio.
//! - `startup`: starts the registry binary on a data directory, times it
//!   to health SERVING and reads its resident memory before and after a
//!   read load; the baseline is the same binary on an empty directory.
//! - `replicas`: the binary as replicas of one PostgreSQL database
//!   ([`replicas`]): publishes/s over 1 and 3 replicas against one
//!   embedded-store registry, GetContract per replica against the bare
//!   tonic baseline, and how long a write takes to show on another replica.
//! - `flood`: refused writes without a token carrying large fields
//!   ([`flood`]): how fast they are refused, how much the data dir grows.
//! - `consumers`: publish latency as the number of registered consumers of
//!   the contract grows ([`consumers`]); the baseline is a contract without
//!   consumers, in the same rounds.
//!
//! [`load`] holds the driver and its statistics.

mod baseline;
mod consumers;
mod flood;
mod load;
mod replicas;
mod schemas;

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use accord_proto::v1::{self as pb, registry_service_client::RegistryServiceClient};
use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use load::Stats;
use prost::Message;
use schemas::Shape;
use tonic::transport::Channel;

#[derive(Debug, Parser)]
#[command(
    name = "accord-bench",
    version,
    about = "Load generator for the Accord registry, with a baseline measured in the same run"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Publish components × contracts × versions of generated schemas.
    Seed {
        /// The registry.
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        registry: String,
        #[command(flatten)]
        shape: ShapeArgs,
        /// Contracts seeded at once.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
    },
    /// Measure calls against the registry and against the baseline.
    Run(RunArgs),
    /// Publish latency with 0, 10 and 100 (or --counts) registered consumers
    /// of the contract.
    Consumers {
        /// The registry (it needs no seed).
        #[arg(long, default_value = "http://127.0.0.1:50051")]
        registry: String,
        /// Consumer counts, comma-separated; the first is the baseline.
        #[arg(long, value_delimiter = ',', default_value = "0,10,100")]
        counts: Vec<usize>,
        /// Measured publishes per count.
        #[arg(long, default_value_t = 200)]
        publishes: usize,
        /// Unmeasured publishes per count first.
        #[arg(long, default_value_t = 20)]
        warmup: usize,
        /// Register the consumers without reader schemas (each is then
        /// checked against the version its requirement resolves to).
        #[arg(long)]
        without_readers: bool,
    },
    /// Time the registry binary to SERVING on a data directory and read its
    /// resident memory.
    Startup {
        /// The `accord-registry` binary.
        #[arg(long, default_value = "target/release/accord-registry")]
        binary: PathBuf,
        /// The data directory to start on (a copy is not made: reads only).
        #[arg(long)]
        data_dir: PathBuf,
        /// Starts of each kind; the report gives the median.
        #[arg(long, default_value_t = 3)]
        rounds: usize,
        /// Read load after start-up, before the second memory reading.
        #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
        load: Duration,
    },
    /// Replicas of one PostgreSQL database: publishes/s, GetContract per
    /// replica, and the time a write takes to show on another replica.
    Replicas(replicas::ReplicasArgs),
    /// Refused writes without a token, carrying large fields: how fast they
    /// are refused and how much the data directory grows.
    Flood(flood::FloodArgs),
}

#[derive(Debug, Clone, Copy, Args)]
struct ShapeArgs {
    /// Components.
    #[arg(long, default_value_t = 10)]
    components: usize,
    /// Contracts per component.
    #[arg(long, default_value_t = 10)]
    contracts: usize,
    /// Versions per contract.
    #[arg(long, default_value_t = 5)]
    versions: usize,
}

impl From<ShapeArgs> for Shape {
    fn from(a: ShapeArgs) -> Self {
        Shape {
            components: a.components,
            contracts: a.contracts,
            versions: a.versions,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Rpc {
    Get,
    Batch,
    Check,
    Publish,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The registry (seeded with the same shape flags).
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    registry: String,
    #[command(flatten)]
    shape: ShapeArgs,
    /// Calls to measure, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "get,batch,check,publish")]
    rpc: Vec<Rpc>,
    /// Concurrent requests, comma-separated: each is measured.
    #[arg(long, value_delimiter = ',', default_value = "64,32")]
    concurrency: Vec<usize>,
    /// Concurrent publishers (publish only).
    #[arg(long, default_value_t = 16)]
    publishers: usize,
    /// Time of each measurement.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Unmeasured calls before each measurement.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    warmup: Duration,
    /// Upper bound of calls in one measurement.
    #[arg(long, default_value_t = 2_000_000)]
    max_requests: u64,
    /// HTTP/2 connections the workers share.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Worker threads of the baseline server (the registry's default is
    /// one per core).
    #[arg(long, default_value_t = std::thread::available_parallelism().map_or(2, |n| n.get()))]
    baseline_threads: usize,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.command {
        Cmd::Seed {
            registry,
            shape,
            concurrency,
        } => runtime.block_on(seed(&registry, shape.into(), concurrency)),
        Cmd::Run(args) => runtime.block_on(run(args)),
        Cmd::Consumers {
            registry,
            counts,
            publishes,
            warmup,
            without_readers,
        } => runtime.block_on(consumers::run(
            &registry,
            consumers::Plan {
                counts,
                publishes,
                warmup,
                readers: !without_readers,
            },
        )),
        Cmd::Startup {
            binary,
            data_dir,
            rounds,
            load,
        } => runtime.block_on(startup(&binary, &data_dir, rounds, load)),
        Cmd::Replicas(args) => runtime.block_on(replicas::run(args)),
        Cmd::Flood(args) => runtime.block_on(flood::run(args)),
    }
}

async fn seed(url: &str, shape: Shape, concurrency: usize) -> anyhow::Result<()> {
    let channels = load::connect(url, 4).await?;
    let names = Arc::new(shape.names());
    let started = Instant::now();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for worker in 0..concurrency.max(1) {
        let mut client = RegistryServiceClient::new(channels[worker % channels.len()].clone());
        let names = names.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((component, contract)) = names.get(i) else {
                    return Ok::<_, anyhow::Error>(());
                };
                for v in 0..shape.versions {
                    client
                        .publish_contract(pb::PublishContractRequest {
                            component: component.clone(),
                            contract: contract.clone(),
                            schema: schemas::schema(component, contract, v),
                            version: String::new(),
                        })
                        .await
                        .with_context(|| format!("publish {component}/{contract} revision {v}"))?;
                }
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    println!(
        "seeded {} contracts × {} versions = {} versions in {:.1?}",
        names.len(),
        shape.versions,
        names.len() * shape.versions,
        started.elapsed()
    );
    Ok(())
}

/// The requests of each measured call, shared by registry and baseline.
struct Requests {
    names: Vec<(String, String)>,
    shape: Shape,
    /// Distinguishes the publish contracts of this run from earlier runs.
    run_id: u64,
}

impl Requests {
    fn get(&self, worker: usize, n: u64) -> pb::GetContractRequest {
        let (component, contract) = &self.names[(worker * 7919 + n as usize) % self.names.len()];
        pb::GetContractRequest {
            component: component.clone(),
            contract: contract.clone(),
            version: String::new(),
            ..Default::default()
        }
    }

    fn batch(&self, worker: usize, n: u64) -> pb::BatchGetContractsRequest {
        let start = worker * 7919 + n as usize * 50;
        pb::BatchGetContractsRequest {
            selectors: (0..50)
                .map(|i| {
                    let (component, contract) = &self.names[(start + i) % self.names.len()];
                    pb::ContractSelector {
                        component: component.clone(),
                        contract: contract.clone(),
                        version: String::new(),
                    }
                })
                .collect(),
            ..Default::default()
        }
    }

    /// A compatible next revision of a seeded contract.
    fn check(&self, worker: usize, n: u64) -> pb::CheckCompatibilityRequest {
        let (component, contract) = &self.names[(worker * 7919 + n as usize) % self.names.len()];
        pb::CheckCompatibilityRequest {
            component: component.clone(),
            contract: contract.clone(),
            schema: schemas::schema(component, contract, self.shape.versions),
            version: String::new(),
            ..Default::default()
        }
    }

    /// A new version of the worker's own contract: its title changes, so
    /// every call stores a patch.
    fn publish(&self, worker: usize, n: u64) -> pb::PublishContractRequest {
        let component = "bench-publish".to_owned();
        let contract = format!("r{}-w{worker}", self.run_id);
        let mut schema = schemas::schema(&component, &contract, 2);
        schema = schema.replacen("An order event", &format!("Revision {n} of an order event"), 1);
        pb::PublishContractRequest {
            component,
            contract,
            schema,
            version: String::new(),
        }
    }
}

async fn measure(
    rpc: Rpc,
    channels: &[Channel],
    requests: &Arc<Requests>,
    concurrency: usize,
    duration: Duration,
    max_requests: u64,
) -> Stats {
    let r = requests.clone();
    match rpc {
        Rpc::Get => {
            load::drive(
                channels,
                concurrency,
                duration,
                max_requests,
                move |mut c, w, n| {
                    let req = r.get(w, n);
                    async move { c.get_contract(req).await.map(drop) }
                },
            )
            .await
        }
        Rpc::Batch => {
            load::drive(
                channels,
                concurrency,
                duration,
                max_requests,
                move |mut c, w, n| {
                    let req = r.batch(w, n);
                    async move {
                        let reply = c.batch_get_contracts(req).await?.into_inner();
                        match reply.results.iter().find(|r| r.error_code != 0) {
                            Some(bad) => Err(tonic::Status::internal(format!(
                                "a selector failed: {}",
                                bad.error_message
                            ))),
                            None => Ok(()),
                        }
                    }
                },
            )
            .await
        }
        Rpc::Check => {
            load::drive(
                channels,
                concurrency,
                duration,
                max_requests,
                move |mut c, w, n| {
                    let req = r.check(w, n);
                    async move { c.check_compatibility(req).await.map(drop) }
                },
            )
            .await
        }
        Rpc::Publish => {
            load::drive(
                channels,
                concurrency,
                duration,
                max_requests,
                move |mut c, w, n| {
                    let req = r.publish(w, n);
                    async move { c.publish_contract(req).await.map(drop) }
                },
            )
            .await
        }
    }
}

/// Captures one reply of each call from the registry, for the baseline.
async fn capture(channel: Channel, requests: &Requests) -> anyhow::Result<baseline::Canned> {
    let mut client = RegistryServiceClient::new(channel).max_decoding_message_size(64 << 20);
    let get = client
        .get_contract(requests.get(0, 0))
        .await
        .context("GetContract of a seeded contract (seed the registry first, with the same shape flags)")?
        .into_inner();
    let batch = client
        .batch_get_contracts(requests.batch(0, 0))
        .await?
        .into_inner();
    let check = client
        .check_compatibility(requests.check(0, 0))
        .await?
        .into_inner();
    if !check.accepted {
        bail!("the measured check is refused: {}", check.message);
    }
    let mut probe = requests.publish(usize::MAX, 0);
    probe.contract = format!("r{}-probe", requests.run_id);
    let publish = client.publish_contract(probe).await?.into_inner();
    Ok(baseline::Canned {
        get,
        batch,
        check,
        publish,
    })
}

fn reply_bytes(rpc: Rpc, canned: &baseline::Canned) -> usize {
    match rpc {
        Rpc::Get => canned.get.encoded_len(),
        Rpc::Batch => canned.batch.encoded_len(),
        Rpc::Check => canned.check.encoded_len(),
        Rpc::Publish => canned.publish.encoded_len(),
    }
}

fn row(rpc: Rpc, concurrency: usize, target: &str, stats: &Stats, ratio: Option<f64>) {
    let ratio = ratio.map_or_else(|| "".to_owned(), |r| format!("{:.0}%", r * 100.0));
    println!(
        "| {rpc:?} | {concurrency} | {target} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {ratio} |",
        stats.throughput(),
        stats.percentile_ms(0.50),
        stats.percentile_ms(0.90),
        stats.percentile_ms(0.99),
        stats.percentile_ms(1.0),
        stats.errors,
    );
    if let Some(e) = &stats.first_error {
        eprintln!("  first error ({target}): {e}");
    }
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let shape: Shape = args.shape.into();
    let names = shape.names();
    if names.is_empty() {
        bail!("the shape has no contracts");
    }
    let requests = Arc::new(Requests {
        names,
        shape,
        run_id: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    });
    let registry = load::connect(&args.registry, args.connections).await?;
    let canned = capture(registry[0].clone(), &requests).await?;
    let baseline_addr = baseline::start(canned.clone(), args.baseline_threads)?;
    let baseline = load::connect(&format!("http://{baseline_addr}"), args.connections).await?;

    println!(
        "registry {}, {} contracts × {} versions, {} connections, {:?} per measurement",
        args.registry,
        requests.names.len(),
        shape.versions,
        args.connections,
        args.duration
    );
    for rpc in &args.rpc {
        println!(
            "\n{rpc:?}: reply {} bytes (baseline answers the same bytes)\n",
            reply_bytes(*rpc, &canned)
        );
        println!(
            "| call | concurrent | server | calls/s | p50 ms | p90 ms | p99 ms | max ms | errors | of baseline |"
        );
        println!("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|");
        let levels = if *rpc == Rpc::Publish {
            vec![args.publishers]
        } else {
            args.concurrency.clone()
        };
        for concurrency in levels {
            let warm = args.max_requests.min(100_000);
            measure(*rpc, &registry, &requests, concurrency, args.warmup, warm).await;
            let measured = measure(
                *rpc,
                &registry,
                &requests,
                concurrency,
                args.duration,
                args.max_requests,
            )
            .await;
            measure(*rpc, &baseline, &requests, concurrency, args.warmup, warm).await;
            let base = measure(
                *rpc,
                &baseline,
                &requests,
                concurrency,
                args.duration,
                args.max_requests,
            )
            .await;
            row(
                *rpc,
                concurrency,
                "registry",
                &measured,
                Some(measured.throughput() / base.throughput().max(f64::EPSILON)),
            );
            row(*rpc, concurrency, "baseline", &base, None);
        }
    }
    Ok(())
}

fn resident_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// A started registry process, killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM, so that the store is closed cleanly for the next start.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// Starts the binary and returns it with the time it took to say SERVING.
async fn start_server(
    binary: &std::path::Path,
    data_dir: &std::path::Path,
) -> anyhow::Result<(Server, Duration)> {
    // The port is picked here and released just before the server binds
    // it; fine for a benchmark on loopback.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let started = Instant::now();
    let child = Command::new(binary)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
        .arg(data_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let mut server = Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let give_up = started + Duration::from_secs(120);
    loop {
        if let Some(status) = server.child.try_wait()? {
            bail!("{} exited before serving: {status}", binary.display());
        }
        if Instant::now() > give_up {
            bail!("{} not SERVING after 120 s", binary.display());
        }
        if let Ok(channel) = tonic::transport::Endpoint::from_shared(server.url.clone())?
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
                return Ok((server, started.elapsed()));
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

async fn startup(
    binary: &std::path::Path,
    data_dir: &std::path::Path,
    rounds: usize,
    load: Duration,
) -> anyhow::Result<()> {
    let empty = std::env::temp_dir().join(format!("accord-bench-empty-{}", std::process::id()));
    let mut full_times = Vec::new();
    let mut empty_times = Vec::new();
    let mut memory = None;
    for round in 0..rounds.max(1) {
        let (server, took) = start_server(binary, data_dir).await?;
        full_times.push(took);
        if round == 0 {
            let pid = server.child.id();
            let after_start = resident_mb(pid);
            // Read every contract while measuring, so that memory after
            // serving includes what reads allocate.
            let channels = load::connect(&server.url, 4).await?;
            let mut client = RegistryServiceClient::new(channels[0].clone());
            let components = client
                .list_components(pb::ListComponentsRequest {
                    page_size: 1000,
                    page_token: String::new(),
                    ..Default::default()
                })
                .await?
                .into_inner();
            let mut names = Vec::new();
            for component in components.components.iter().take(200) {
                let contracts = client
                    .list_contracts(pb::ListContractsRequest {
                        component: component.name.clone(),
                        page_size: 1000,
                        page_token: String::new(),
                        ..Default::default()
                    })
                    .await?
                    .into_inner();
                for c in contracts.contracts {
                    names.push((c.component, c.contract));
                }
            }
            if names.is_empty() {
                bail!("{} holds no contracts", data_dir.display());
            }
            let names = Arc::new(names);
            let stats = load::drive(&channels, 32, load, 1_000_000, move |mut c, w, n| {
                let (component, contract) = names[(w * 7919 + n as usize) % names.len()].clone();
                async move {
                    c.get_contract(pb::GetContractRequest {
                        component,
                        contract,
                        version: String::new(),
                        ..Default::default()
                    })
                    .await
                    .map(drop)
                }
            })
            .await;
            memory = Some((after_start, resident_mb(pid), stats));
        }
        drop(server);
        let (server, took) = start_server(binary, &empty).await?;
        empty_times.push(took);
        drop(server);
    }
    let _ = std::fs::remove_dir_all(&empty);
    let full = median(full_times);
    let base = median(empty_times);
    println!(
        "start-up to SERVING on {}: {full:.2?} (median of {rounds})",
        data_dir.display()
    );
    println!("baseline, the same binary on an empty data dir: {base:.2?}");
    println!(
        "ratio: {:.1}",
        full.as_secs_f64() / base.as_secs_f64().max(f64::EPSILON)
    );
    if let Some((after_start, after_load, stats)) = memory {
        let mb = |m: Option<f64>| m.map_or_else(|| "unknown".to_owned(), |m| format!("{m:.0} MB"));
        println!("resident memory after start-up: {}", mb(after_start));
        println!(
            "resident memory after {load:?} of GetContract at 32 concurrent ({} calls, {} errors, p99 {:.2} ms): {}",
            stats.ok,
            stats.errors,
            stats.percentile_ms(0.99),
            mb(after_load)
        );
    }
    Ok(())
}
