//! Prometheus metrics of one registry, exposed on `/metrics` by [`crate::web`].
//!
//! Every [`crate::Registry`] owns its [`Metrics`], so that two registries in
//! one process (tests, tools) never mix their figures. What is counted where:
//!
//! - [`GrpcMetricsLayer`], around the gRPC server: requests by RPC and
//!   status code, and their latency (a watch stream's lasts as long as the
//!   stream). The status is read where gRPC puts it: in the headers of an
//!   early error, else in the trailers of the body.
//! - The service: publishes by outcome, engine runs and their time, breaking
//!   findings with or without a witness, open watch streams; the follower of
//!   a shared store: the store's last sequence it has seen.
//! - The stores: how long applying a batch and making it durable take
//!   ([`crate::store::Observer`]).
//! - The gate: failed token authentications, by reason.
//! - Gauges read from the index when scraped: contracts, versions by state,
//!   the applied sequence, the lag, whether the store answers.
//!
//! The names are the contract with dashboards (`docs/grafana-dashboard.json`
//! uses exactly these; a test holds it to them): change one only with the
//! dashboard.

use std::{
    fmt,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use http_body::{Body, Frame, SizeHint};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::{Registry as Prom, Unit},
};

/// The gRPC service whose calls are counted.
const SERVICE_PREFIX: &str = "/accord.v1.RegistryService/";

/// The label value of a path that names no method of the service (bounded
/// cardinality: a caller cannot invent label values).
const UNKNOWN_METHOD: &str = "unknown";

/// Request latency buckets, in seconds: 100 µs to 10 s.
const LATENCY_BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The `outcome` values of `accord_publishes_total`: a new version, an
/// idempotent re-publish, the three refusals of the semver policy, and the
/// errors before a decision (`too_costly`: the comparison went over its
/// work budget).
pub const PUBLISH_OUTCOMES: [&str; 10] = [
    "accepted",
    "already_published",
    "incompatible",
    "version_too_low",
    "version_exists",
    "invalid",
    "too_large",
    "too_costly",
    "unavailable",
    "error",
];

/// Content type of the exposition (OpenMetrics text, which Prometheus reads).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Rpc {
    method: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RpcStatus {
    method: String,
    code: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EngineRun {
    operation: &'static str,
    result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Witness {
    witness: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreStep {
    store: &'static str,
    step: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionState {
    state: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Reason {
    reason: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// Which engine operation ran: the decision of a publish or a check, or a
/// diff of two stored versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `PublishContract`'s decision (run again when the contract moved meanwhile).
    Publish,
    /// `CheckCompatibility`.
    Check,
    /// `DiffVersions` and the web view's diff page.
    Diff,
}

impl Operation {
    fn label(self) -> &'static str {
        match self {
            Operation::Publish => "publish",
            Operation::Check => "check",
            Operation::Diff => "diff",
        }
    }
}

/// Versions by state, counted from the index when scraped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VersionCounts {
    /// Served and not deprecated.
    pub live: u64,
    /// Served, deprecated.
    pub deprecated: u64,
    /// Soft-deleted (restorable).
    pub deleted: u64,
    /// Erased: a tombstone.
    pub erased: u64,
}

/// What the index and the store say when scraped.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauges {
    /// Contracts with at least one served version.
    pub contracts: u64,
    /// Versions by state.
    pub versions: VersionCounts,
    /// The sequence of the last event applied to this replica's index.
    pub applied_sequence: u64,
    /// Whether the store answers.
    pub store_up: bool,
}

/// The metrics of one registry.
pub struct Metrics {
    registry: Prom,
    methods: Vec<String>,
    requests: Family<RpcStatus, Counter>,
    latency: Histograms<Rpc>,
    publishes: Family<Outcome, Counter>,
    engine_runs: Family<EngineRun, Counter>,
    engine_seconds: Histograms<EngineRun>,
    breaking_findings: Family<Witness, Counter>,
    store_seconds: Histograms<StoreStep>,
    contracts: Gauge,
    versions: Family<VersionState, Gauge>,
    consumers: Gauge,
    watch_streams: Gauge,
    auth_failures: Family<Reason, Counter>,
    applied_sequence: Gauge,
    store_sequence: Gauge,
    lag: Gauge,
    store_up: Gauge,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Saturating conversion for gauges, which are signed.
fn signed(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl Metrics {
    /// Every metric registered, at zero.
    pub fn new() -> Self {
        let mut registry = Prom::default();
        let requests = Family::<RpcStatus, Counter>::default();
        registry.register(
            "accord_grpc_requests",
            "Calls of accord.v1.RegistryService, by method and gRPC status code",
            requests.clone(),
        );
        let latency: Histograms<Rpc> = Family::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "accord_grpc_request_duration",
            "Time from a call's arrival to its status, by method (a watch stream: its lifetime)",
            Unit::Seconds,
            latency.clone(),
        );
        let publishes = Family::<Outcome, Counter>::default();
        registry.register(
            "accord_publishes",
            "Publishes that reached the registry, by outcome: accepted, already_published, or the reason of a refusal",
            publishes.clone(),
        );
        let engine_runs = Family::<EngineRun, Counter>::default();
        registry.register(
            "accord_compat_checks",
            "Compatibility engine runs, by operation (publish, check, diff) and result (compatible, incompatible, error)",
            engine_runs.clone(),
        );
        let engine_seconds: Histograms<EngineRun> = Family::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "accord_compat_check_duration",
            "Time in the compatibility engine, by operation and result; an incompatible result includes the search for witness documents",
            Unit::Seconds,
            engine_seconds.clone(),
        );
        let breaking_findings = Family::<Witness, Counter>::default();
        registry.register(
            "accord_compat_breaking_findings",
            "Breaking findings the engine reported, by whether the witness search found a document that shows the break",
            breaking_findings.clone(),
        );
        let store_seconds: Histograms<StoreStep> = Family::new_with_constructor(latency_histogram);
        registry.register_with_unit(
            "accord_store_write_duration",
            "Time of the store's write steps: sled transaction and flush (one flush serves a group of writes), PostgreSQL transaction and commit",
            Unit::Seconds,
            store_seconds.clone(),
        );
        let contracts = Gauge::default();
        registry.register(
            "accord_contracts",
            "Contracts with at least one served version",
            contracts.clone(),
        );
        let versions = Family::<VersionState, Gauge>::default();
        registry.register(
            "accord_versions",
            "Versions by state: live, deprecated, deleted (restorable), erased (tombstones)",
            versions.clone(),
        );
        let consumers = Gauge::default();
        registry.register(
            "accord_consumers",
            "Registered consumers of contracts",
            consumers.clone(),
        );
        let watch_streams = Gauge::default();
        registry.register(
            "accord_watch_streams",
            "Open WatchEvents streams",
            watch_streams.clone(),
        );
        let auth_failures = Family::<Reason, Counter>::default();
        registry.register(
            "accord_auth_failures",
            "Calls refused for their token (gRPC and HTTP), by reason: missing, malformed, unknown (or revoked)",
            auth_failures.clone(),
        );
        let applied_sequence = Gauge::default();
        registry.register(
            "accord_replica_applied_sequence",
            "Sequence of the last event applied to this replica's in-memory index",
            applied_sequence.clone(),
        );
        let store_sequence = Gauge::default();
        registry.register(
            "accord_replica_store_sequence",
            "Last event sequence of the shared store that this replica's follower has seen (0 for a store only this process writes)",
            store_sequence.clone(),
        );
        let lag = Gauge::default();
        registry.register(
            "accord_replica_lag_events",
            "Events of the shared store seen by the follower and not yet applied here",
            lag.clone(),
        );
        let store_up = Gauge::default();
        registry.register(
            "accord_store_up",
            "1 while the store answers, 0 while a shared store is out of reach (reads go on from memory)",
            store_up.clone(),
        );
        // Known label values start at zero, so that a rate over them exists
        // before the first event.
        for outcome in PUBLISH_OUTCOMES {
            drop(publishes.get_or_create(&Outcome { outcome }));
        }
        for reason in ["missing", "malformed", "unknown"] {
            drop(auth_failures.get_or_create(&Reason { reason }));
        }
        for witness in ["found", "none"] {
            drop(breaking_findings.get_or_create(&Witness { witness }));
        }
        Self {
            registry,
            methods: registry_methods(),
            requests,
            latency,
            publishes,
            engine_runs,
            engine_seconds,
            breaking_findings,
            store_seconds,
            contracts,
            versions,
            consumers,
            watch_streams,
            auth_failures,
            applied_sequence,
            store_sequence,
            lag,
            store_up,
        }
    }

    /// The exposition, with the gauges read from `gauges` first.
    pub fn encode(&self, gauges: &Gauges) -> String {
        self.contracts.set(signed(gauges.contracts));
        let v = gauges.versions;
        for (state, n) in [
            ("live", v.live),
            ("deprecated", v.deprecated),
            ("deleted", v.deleted),
            ("erased", v.erased),
        ] {
            self.versions
                .get_or_create(&VersionState { state })
                .set(signed(n));
        }
        self.applied_sequence.set(signed(gauges.applied_sequence));
        let seen = u64::try_from(self.store_sequence.get()).unwrap_or(0);
        self.lag.set(signed(seen.saturating_sub(gauges.applied_sequence)));
        self.store_up.set(i64::from(gauges.store_up));
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    /// Counts a publish that reached the registry.
    pub fn published(&self, outcome: &'static str) {
        self.publishes.get_or_create(&Outcome { outcome }).inc();
    }

    /// Records one engine run that came to a result: its time, whether it
    /// found a break, and the witness search of each breaking finding.
    pub fn engine_ran<'a>(
        &self,
        operation: Operation,
        took: Duration,
        findings: impl IntoIterator<Item = &'a accord_compat::Finding>,
    ) {
        let (mut found, mut none) = (0u64, 0u64);
        for f in findings.into_iter().filter(|f| !f.compatible) {
            if f.witness.is_some() {
                found += 1;
            } else {
                none += 1;
            }
        }
        let result = if found + none == 0 {
            "compatible"
        } else {
            "incompatible"
        };
        self.engine_run(operation, result, took);
        for (witness, n) in [("found", found), ("none", none)] {
            if n > 0 {
                self.breaking_findings
                    .get_or_create(&Witness { witness })
                    .inc_by(n);
            }
        }
    }

    /// Records an engine run that failed (a stored schema that no longer
    /// parses, a limit).
    pub fn engine_failed(&self, operation: Operation, took: Duration) {
        self.engine_run(operation, "error", took);
    }

    fn engine_run(&self, operation: Operation, result: &'static str, took: Duration) {
        let labels = EngineRun {
            operation: operation.label(),
            result,
        };
        self.engine_runs.get_or_create(&labels).inc();
        self.engine_seconds
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// A store observer that records into `accord_store_write_duration_seconds`.
    pub fn store_observer(self: &Arc<Self>) -> crate::store::Observer {
        let metrics = Arc::downgrade(self);
        Arc::new(move |store, step, took| {
            if let Some(m) = metrics.upgrade() {
                m.store_seconds
                    .get_or_create(&StoreStep { store, step })
                    .observe(took.as_secs_f64());
            }
        })
    }

    /// Counts a call refused for its token.
    pub fn auth_failed(&self, reason: &'static str) {
        self.auth_failures.get_or_create(&Reason { reason }).inc();
    }

    /// A watch stream opened; it counts as open until the guard is dropped.
    pub fn watch_opened(self: &Arc<Self>) -> WatchGuard {
        self.watch_streams.inc();
        WatchGuard(self.clone())
    }

    /// The follower saw the shared store's last sequence at `sequence`.
    pub fn store_sequence_seen(&self, sequence: u64) {
        self.store_sequence.set(signed(sequence));
    }

    /// Sets the number of registered consumers (counted from the index when
    /// the metrics are read).
    pub fn set_consumers(&self, consumers: u64) {
        self.consumers.set(signed(consumers));
    }

    /// The label of a request path: the method name, `unknown` for a path
    /// of the registry service that names none, `None` for other services.
    fn method_of(&self, path: &str) -> Option<String> {
        let name = path.strip_prefix(SERVICE_PREFIX)?;
        Some(
            self.methods
                .iter()
                .find(|m| *m == name)
                .cloned()
                .unwrap_or_else(|| UNKNOWN_METHOD.to_owned()),
        )
    }

    fn request_done(&self, method: String, code: &'static str, took: Duration) {
        self.latency
            .get_or_create(&Rpc {
                method: method.clone(),
            })
            .observe(took.as_secs_f64());
        self.requests.get_or_create(&RpcStatus { method, code }).inc();
    }
}

/// The methods of `accord.v1.RegistryService`, from the API's descriptors.
fn registry_methods() -> Vec<String> {
    use prost::Message;
    let Ok(set) = prost_types::FileDescriptorSet::decode(accord_proto::FILE_DESCRIPTOR_SET) else {
        return Vec::new();
    };
    set.file
        .iter()
        .filter(|f| f.package() == "accord.v1")
        .flat_map(|f| f.service.iter())
        .filter(|s| s.name() == "RegistryService")
        .flat_map(|s| s.method.iter().map(|m| m.name().to_owned()))
        .collect()
}

/// An open watch stream; closes it in the gauge when dropped.
#[derive(Debug)]
pub struct WatchGuard(Arc<Metrics>);

impl Drop for WatchGuard {
    fn drop(&mut self) {
        self.0.watch_streams.dec();
    }
}

/// A tower layer that counts and times the calls of the registry service.
#[derive(Debug, Clone)]
pub struct GrpcMetricsLayer(Arc<Metrics>);

impl GrpcMetricsLayer {
    /// A layer recording into `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self(metrics)
    }
}

impl<S> tower::Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetrics {
            inner,
            metrics: self.0.clone(),
        }
    }
}

/// The service of [`GrpcMetricsLayer`].
#[derive(Debug, Clone)]
pub struct GrpcMetrics<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for GrpcMetrics<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: Body + Unpin,
{
    type Response = http::Response<TimedBody<ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<ReqBody>) -> Self::Future {
        let call = self.metrics.method_of(request.uri().path()).map(|method| Call {
            metrics: self.metrics.clone(),
            method,
            started: Instant::now(),
        });
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            let mut call = call;
            // An early error carries its status in the headers
            // ("trailers-only"); a reply carries it in the trailers.
            if let Some(code) = response.headers().get("grpc-status")
                && let Some(call) = call.take()
            {
                call.finish(code_of(code));
            }
            Ok(response.map(|body| TimedBody { body, call }))
        })
    }
}

/// A call being timed, recorded once with its status.
struct Call {
    metrics: Arc<Metrics>,
    method: String,
    started: Instant,
}

impl Call {
    fn finish(self, code: &'static str) {
        self.metrics
            .request_done(self.method, code, self.started.elapsed());
    }
}

fn code_of(value: &http::HeaderValue) -> &'static str {
    crate::auth::audit::code_name(tonic::Code::from_bytes(value.as_bytes()))
}

/// A response body that records its call when the status arrives in the
/// trailers, or as CANCELLED when it is dropped before (the caller went away).
pub struct TimedBody<B> {
    body: B,
    call: Option<Call>,
}

impl<B> fmt::Debug for TimedBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimedBody").finish_non_exhaustive()
    }
}

impl<B> Drop for TimedBody<B> {
    fn drop(&mut self) {
        if let Some(call) = self.call.take() {
            call.finish("CANCELLED");
        }
    }
}

impl<B: Body + Unpin> Body for TimedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(code) = frame.trailers_ref().and_then(|t| t.get("grpc-status"))
                    && let Some(call) = self.call.take()
                {
                    call.finish(code_of(code));
                }
            }
            Poll::Ready(Some(Err(_))) => {
                if let Some(call) = self.call.take() {
                    call.finish("INTERNAL");
                }
            }
            Poll::Ready(None) => {
                if let Some(call) = self.call.take() {
                    call.finish("UNKNOWN");
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_come_from_the_api_and_unknown_paths_share_one_label() {
        let m = Metrics::new();
        assert!(
            m.methods.iter().any(|n| n == "PublishContract"),
            "{:?}",
            m.methods
        );
        assert_eq!(
            m.method_of("/accord.v1.RegistryService/GetContract").as_deref(),
            Some("GetContract")
        );
        assert_eq!(
            m.method_of("/accord.v1.RegistryService/NoSuchThing").as_deref(),
            Some(UNKNOWN_METHOD)
        );
        assert_eq!(m.method_of("/grpc.health.v1.Health/Check"), None);
    }

    #[test]
    fn the_lag_is_what_the_follower_saw_beyond_the_applied_sequence() {
        let m = Metrics::new();
        m.store_sequence_seen(12);
        let text = m.encode(&Gauges {
            applied_sequence: 9,
            store_up: true,
            ..Gauges::default()
        });
        assert!(text.contains("accord_replica_lag_events 3\n"), "{text}");
        let text = m.encode(&Gauges {
            applied_sequence: 15,
            store_up: true,
            ..Gauges::default()
        });
        assert!(text.contains("accord_replica_lag_events 0\n"), "{text}");
        assert!(text.contains("accord_store_up 1\n"), "{text}");
    }
}
