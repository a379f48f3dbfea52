//! The load driver: `concurrency` workers share a few connections and call
//! until the time or the request budget runs out; latencies are kept per
//! call and summarised as percentiles.

use std::{
    future::Future,
    time::{Duration, Instant},
};

use accord_proto::v1::registry_service_client::RegistryServiceClient;
use tonic::transport::Channel;

/// What one measurement yields.
#[derive(Debug, Default)]
pub struct Stats {
    /// Calls that succeeded.
    pub ok: u64,
    /// Calls that failed, and the first failure.
    pub errors: u64,
    /// The first failure's status, to print.
    pub first_error: Option<String>,
    /// Wall time of the measurement.
    pub elapsed: Duration,
    /// Latency of each successful call, in microseconds, sorted.
    pub latencies_us: Vec<u32>,
}

impl Stats {
    /// Successful calls per second.
    pub fn throughput(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// The `q`-quantile (0..=1) latency in milliseconds; 0 with no samples.
    pub fn percentile_ms(&self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let rank = ((q * self.latencies_us.len() as f64).ceil() as usize).clamp(1, self.latencies_us.len());
        f64::from(self.latencies_us[rank - 1]) / 1000.0
    }
}

/// Connects `count` separate HTTP/2 connections to `url`: one connection
/// multiplexes every stream through one socket and one task on each side,
/// which would measure that socket rather than the service.
pub async fn connect(url: &str, count: usize) -> anyhow::Result<Vec<Channel>> {
    let mut channels = Vec::with_capacity(count);
    for _ in 0..count.max(1) {
        let channel = tonic::transport::Endpoint::from_shared(url.to_owned())?
            .tcp_nodelay(true)
            .connect()
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to {url}: {e}"))?;
        channels.push(channel);
    }
    Ok(channels)
}

/// Runs `call(client, worker, n)` from `concurrency` workers until
/// `duration` has passed or `max_requests` calls were made in all.
pub async fn drive<F, Fut>(
    channels: &[Channel],
    concurrency: usize,
    duration: Duration,
    max_requests: u64,
    call: F,
) -> Stats
where
    F: Fn(RegistryServiceClient<Channel>, usize, u64) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), tonic::Status>> + Send,
{
    let concurrency = concurrency.max(1);
    let per_worker = max_requests.div_ceil(concurrency as u64).max(1);
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = Vec::with_capacity(concurrency);
    for worker in 0..concurrency {
        let client = RegistryServiceClient::new(channels[worker % channels.len()].clone())
            .max_decoding_message_size(64 << 20);
        let call = call.clone();
        workers.push(tokio::spawn(async move {
            let mut stats = Stats::default();
            for n in 0..per_worker {
                if Instant::now() >= deadline {
                    break;
                }
                let sent = Instant::now();
                match call(client.clone(), worker, n).await {
                    Ok(()) => {
                        stats.ok += 1;
                        let us = sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                        stats.latencies_us.push(us);
                    }
                    Err(status) => {
                        stats.errors += 1;
                        if stats.first_error.is_none() {
                            stats.first_error = Some(format!("{:?}: {}", status.code(), status.message()));
                        }
                    }
                }
            }
            stats
        }));
    }
    let mut total = Stats::default();
    for worker in workers {
        match worker.await {
            Ok(stats) => {
                total.ok += stats.ok;
                total.errors += stats.errors;
                if total.first_error.is_none() {
                    total.first_error = stats.first_error;
                }
                total.latencies_us.extend(stats.latencies_us);
            }
            Err(e) => {
                total.errors += 1;
                total
                    .first_error
                    .get_or_insert_with(|| format!("worker failed: {e}"));
            }
        }
    }
    total.elapsed = started.elapsed();
    total.latencies_us.sort_unstable();
    total
}
