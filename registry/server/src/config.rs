//! Server settings: every flag has an `ACCORD_*` environment fallback.

use std::{net::SocketAddr, path::PathBuf};

/// Default of `--shutdown-grace-secs`.
pub const DEFAULT_SHUTDOWN_GRACE_SECS: u64 = 10;
/// Default of `--max-request-bytes`: 4 MiB.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;
/// Default of `--max-schema-bytes`: 1 MiB.
pub const DEFAULT_MAX_SCHEMA_BYTES: usize = 1024 * 1024;
/// Default of `--max-schema-depth`.
pub const DEFAULT_MAX_SCHEMA_DEPTH: usize = 64;
/// Default of `--max-ref-hops`.
pub const DEFAULT_MAX_REF_HOPS: usize = 32;
/// Default of `--max-batch-size`.
pub const DEFAULT_MAX_BATCH_SIZE: usize = 1000;
/// Default of `--audit-retention`: a year.
pub const DEFAULT_AUDIT_RETENTION: std::time::Duration = std::time::Duration::from_secs(365 * 24 * 3600);
/// Default of `--audit-max-entries`.
pub const DEFAULT_AUDIT_MAX_ENTRIES: u64 = 10_000_000;

/// Settings of the registry server.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address to listen on.
    ///
    /// The gRPC API, health (grpc.health.v1) and reflection are all served
    /// on this one address, in plain HTTP/2.
    #[arg(long, env = "ACCORD_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,

    /// Address of the HTTP port: Prometheus metrics and a read-only web view.
    ///
    /// Off when unset. `/metrics` is for Prometheus; `/` lets a browser walk
    /// components, contracts and versions, read schemas and diff any two
    /// versions. Nothing can be changed through it. With --auth-file or
    /// --auth-db both need a reader token: `Authorization: Bearer TOKEN`, or
    /// the token as the password of the browser's login prompt. It is plain
    /// HTTP: give it an internal address, or put a TLS proxy in front.
    #[arg(long, env = "ACCORD_HTTP_LISTEN", value_name = "ADDR")]
    pub http_listen: Option<SocketAddr>,

    /// Directory of the embedded store (created if missing).
    ///
    /// Holds one database; only one server may use it at a time. Back it up
    /// with `accord-registry export` while no server runs on it. Ignored
    /// with --store.
    #[arg(long, env = "ACCORD_DATA_DIR", default_value = "./accord-data")]
    pub data_dir: PathBuf,

    /// Free space the embedded store's disk must keep, e.g. `64MiB`, `1GiB`.
    ///
    /// A change is refused with RESOURCE_EXHAUSTED, saying so, when less is
    /// free (audit records alone need a quarter of it), and writes resume by
    /// themselves once space is freed: the store never runs the disk full,
    /// which it could not recover from without a restart. Health reports
    /// the service `accord.writes` NOT_SERVING meanwhile.
    #[arg(long, env = "ACCORD_MIN_FREE_DISK", default_value = "64MiB", value_parser = parse_bytes)]
    pub min_free_disk: u64,

    /// A PostgreSQL database to keep the registry in, shared by replicas.
    ///
    /// `postgres://USER[:PASSWORD]@HOST:PORT/DATABASE`. Any number of
    /// registry processes may serve the same database, on any hosts; each
    /// answers reads from memory and follows the others' writes. The tables
    /// are created (or migrated) at start-up. Without it, the embedded store
    /// in --data-dir is used.
    #[arg(long, env = "ACCORD_STORE", value_name = "URL")]
    pub store: Option<String>,

    /// Seconds to let in-flight calls finish after SIGINT or SIGTERM.
    ///
    /// Watch streams end at once; unary calls get this long, then the
    /// remaining connections are closed and the store is flushed.
    #[arg(long, env = "ACCORD_SHUTDOWN_GRACE_SECS", default_value_t = DEFAULT_SHUTDOWN_GRACE_SECS)]
    pub shutdown_grace_secs: u64,

    /// Size limits applied to requests.
    #[command(flatten)]
    pub limits: Limits,

    /// Limits on connections and streams.
    #[command(flatten)]
    pub connections: Connections,

    /// Access control and TLS.
    #[command(flatten)]
    pub security: crate::auth::Security,
}

/// Reads a size in bytes: a number, optionally followed by `K`, `M`, `G`
/// (powers of 1000) or `KiB`, `MiB`, `GiB` (powers of 1024).
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?} is not a size: give bytes, e.g. 67108864, 64MiB or 1GiB"))?;
    let factor: u64 = match unit.trim() {
        "" | "B" => 1,
        "K" | "KB" => 1_000,
        "M" | "MB" => 1_000_000,
        "G" | "GB" => 1_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        other => {
            return Err(format!(
                "unknown size unit {other:?}: use K, M, G, KiB, MiB or GiB"
            ));
        }
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("{text:?} is too large"))
}

impl Config {
    /// Settings with every limit at its default.
    pub fn new(listen: SocketAddr, data_dir: impl Into<PathBuf>) -> Self {
        Self {
            listen,
            http_listen: None,
            data_dir: data_dir.into(),
            store: None,
            min_free_disk: crate::store::sled::DEFAULT_MIN_FREE_DISK,
            shutdown_grace_secs: DEFAULT_SHUTDOWN_GRACE_SECS,
            limits: Limits::default(),
            connections: Connections::default(),
            security: crate::auth::Security::default(),
        }
    }
}

/// Default of `--max-connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1000;
/// Default of `--idle-timeout`.
pub const DEFAULT_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);
/// Default of `--max-streams-per-connection`.
pub const DEFAULT_MAX_STREAMS_PER_CONNECTION: u32 = 256;
/// Default of `--max-watch-streams`.
pub const DEFAULT_MAX_WATCH_STREAMS: usize = 4096;
impl Connections {
    /// How often the server pings an HTTP/2 connection, and how long it
    /// waits for the answer before closing it: every 30 s, 10 s, or more
    /// often with a short idle timeout, so that a live peer always answers
    /// within it.
    pub fn keepalive(&self) -> (std::time::Duration, std::time::Duration) {
        let interval = std::time::Duration::from_secs(30).min(self.idle_timeout / 3);
        let timeout = std::time::Duration::from_secs(10).min(self.idle_timeout / 6);
        (interval, timeout)
    }
}

/// Limits that keep one peer from holding the server's connections,
/// file descriptors and memory.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Connections {
    /// Most connections open at once; more are closed as they arrive.
    ///
    /// Keep it below the process's file-descriptor limit (`ulimit -n`). A
    /// refused client sees its connection reset (UNAVAILABLE); the server
    /// logs a warning at most once a second.
    #[arg(long, env = "ACCORD_MAX_CONNECTIONS", default_value_t = DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,

    /// Close a connection from which nothing was read for this long, e.g. `5m`.
    ///
    /// The server pings every HTTP/2 connection every 30 s (or every third
    /// of a shorter timeout) and closes it when no answer comes, so a live
    /// client always answers well within the timeout: only silent or dead
    /// peers are cut.
    #[arg(long, env = "ACCORD_IDLE_TIMEOUT", default_value = "5m", value_parser = humantime::parse_duration)]
    pub idle_timeout: std::time::Duration,

    /// Most concurrent calls (HTTP/2 streams) on one connection.
    #[arg(long, env = "ACCORD_MAX_STREAMS_PER_CONNECTION", default_value_t = DEFAULT_MAX_STREAMS_PER_CONNECTION)]
    pub max_streams_per_connection: u32,

    /// Most WatchEvents streams open at once; more are RESOURCE_EXHAUSTED.
    #[arg(long, env = "ACCORD_MAX_WATCH_STREAMS", default_value_t = DEFAULT_MAX_WATCH_STREAMS)]
    pub max_watch_streams: usize,
}

impl Default for Connections {
    fn default() -> Self {
        Self {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_streams_per_connection: DEFAULT_MAX_STREAMS_PER_CONNECTION,
            max_watch_streams: DEFAULT_MAX_WATCH_STREAMS,
        }
    }
}

/// Limits that keep hostile or mistaken requests from exhausting the server
/// (going over one is answered with RESOURCE_EXHAUSTED), and how the engine
/// reads a schema without `$schema`.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Limits {
    /// Largest accepted gRPC request, in bytes.
    ///
    /// A bigger message is refused by the transport before it is decoded.
    #[arg(long, env = "ACCORD_MAX_REQUEST_BYTES", default_value_t = DEFAULT_MAX_REQUEST_BYTES)]
    pub max_request_bytes: usize,

    /// Largest accepted schema document, in bytes of JSON text.
    #[arg(long, env = "ACCORD_MAX_SCHEMA_BYTES", default_value_t = DEFAULT_MAX_SCHEMA_BYTES)]
    pub max_schema_bytes: usize,

    /// Deepest accepted nesting of JSON arrays and objects in a schema.
    ///
    /// Checked on the text before it is parsed, so that a deeply nested
    /// document costs nothing.
    #[arg(long, env = "ACCORD_MAX_SCHEMA_DEPTH", default_value_t = DEFAULT_MAX_SCHEMA_DEPTH)]
    pub max_schema_depth: usize,

    /// Longest accepted chain of `$ref`s pointing straight at another `$ref`.
    ///
    /// References resolve only inside the document; this bounds the work a
    /// hostile chain of them can cause.
    #[arg(long, env = "ACCORD_MAX_REF_HOPS", default_value_t = DEFAULT_MAX_REF_HOPS)]
    pub max_ref_hops: usize,

    /// Most selectors in one BatchGetContracts call.
    #[arg(long, env = "ACCORD_MAX_BATCH_SIZE", default_value_t = DEFAULT_MAX_BATCH_SIZE)]
    pub max_batch_size: usize,

    /// JSON Schema draft of a schema without `$schema`: 4, 6, 7, 2019-09 or 2020-12.
    ///
    /// A schema that names its draft in `$schema` is always read in that
    /// draft. One without it is read in this one, as Confluent Schema
    /// Registry reads it in draft-07 by default. The setting applies to
    /// stored versions too when they are compared with, so changing it on a
    /// registry that holds schemas without `$schema` changes what they mean.
    /// Also accepts a draft's meta-schema URI.
    #[arg(long, env = "ACCORD_DEFAULT_DRAFT", default_value_t = accord_compat::Draft::D7)]
    pub default_draft: accord_compat::Draft,

    /// How long the audit log keeps an entry, e.g. `90d`, `1y`.
    ///
    /// Older entries are removed in the background (every ten minutes, and
    /// at start-up), so that the log cannot grow without bound.
    #[arg(long, env = "ACCORD_AUDIT_RETENTION", default_value = "365d", value_parser = humantime::parse_duration)]
    pub audit_retention: std::time::Duration,

    /// The most entries the audit log keeps; the oldest beyond go first.
    #[arg(long, env = "ACCORD_AUDIT_MAX_ENTRIES", default_value_t = DEFAULT_AUDIT_MAX_ENTRIES)]
    pub audit_max_entries: u64,

    /// The most time a request's compatibility comparisons may take, e.g. `10s`.
    ///
    /// A call's own deadline, when shorter, bounds them too; so do the
    /// engine's bounds on steps (500,000) and findings (100,000). Going over
    /// one is RESOURCE_EXHAUSTED naming it; a comparison also stops when
    /// its caller goes away or the server shuts down.
    #[arg(long, env = "ACCORD_CHECK_TIME", default_value = "10s", value_parser = positive_duration)]
    pub check_time: std::time::Duration,

    /// The time one comparison may spend finding documents that show its
    /// breaks, e.g. `200ms`.
    ///
    /// Cheap findings are served first; a report says how many breaking
    /// findings got no document because the time ran out. `0s` finds none.
    #[arg(long, env = "ACCORD_WITNESS_TIME", default_value = "200ms", value_parser = humantime::parse_duration)]
    pub witness_time: std::time::Duration,

    /// Refuse a schema whose `$schema` is not a known draft's meta-schema.
    ///
    /// Without it, such a schema is read in --default-draft and the reply
    /// carries a warning that says so.
    #[arg(long, env = "ACCORD_STRICT_SCHEMA")]
    pub strict_schema: bool,
}

/// A duration greater than zero, e.g. `10s`, `250ms`.
fn positive_duration(text: &str) -> Result<std::time::Duration, String> {
    match humantime::parse_duration(text) {
        Ok(d) if d.is_zero() => Err("must be greater than zero (it bounds the work of every request)".into()),
        Ok(d) => Ok(d),
        Err(e) => Err(e.to_string()),
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            max_schema_bytes: DEFAULT_MAX_SCHEMA_BYTES,
            max_schema_depth: DEFAULT_MAX_SCHEMA_DEPTH,
            max_ref_hops: DEFAULT_MAX_REF_HOPS,
            max_batch_size: DEFAULT_MAX_BATCH_SIZE,
            default_draft: accord_compat::Draft::D7,
            audit_retention: DEFAULT_AUDIT_RETENTION,
            audit_max_entries: DEFAULT_AUDIT_MAX_ENTRIES,
            check_time: std::time::Duration::from_secs(10),
            witness_time: std::time::Duration::from_millis(200),
            strict_schema: false,
        }
    }
}

impl Limits {
    /// The limits the engine applies when it parses a published schema.
    pub fn schema(&self) -> accord_compat::Limits {
        accord_compat::Limits {
            max_bytes: self.max_schema_bytes,
            max_depth: self.max_schema_depth,
            max_ref_hops: self.max_ref_hops,
            default_draft: self.default_draft,
        }
    }

    /// How the engine reads a published schema: the limits, and whether an
    /// unknown `$schema` is refused.
    pub fn parse_options(&self) -> accord_compat::ParseOptions {
        accord_compat::ParseOptions {
            limits: self.schema(),
            strict_schema: self.strict_schema,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_bytes;

    #[test]
    fn sizes_read_with_their_units() {
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert_eq!(parse_bytes("64MiB"), Ok(64 << 20));
        assert_eq!(parse_bytes("2G"), Ok(2_000_000_000));
        assert!(parse_bytes("lots").is_err());
        assert!(parse_bytes("5TB").is_err());
    }
}
