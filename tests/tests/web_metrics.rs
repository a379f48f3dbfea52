//! `/metrics` on the HTTP port, scraped and read with a Prometheus text
//! parser after known traffic: the counters moved by what was done, the
//! gauges say what the registry holds, and the Grafana dashboard in
//! `docs/` names exactly the metrics that are exported.

use std::{collections::BTreeSet, time::Duration};

use accord_proto::v1::{
    CheckCompatibilityRequest, GetContractRequest, WatchEventsRequest,
    registry_service_client::RegistryServiceClient,
};
use accord_tests::{
    TestServer, http,
    postgres::TestDatabase,
    seed::{self, Tokens, with_token},
};
use prometheus_parse::{Sample, Scrape, Value};
use tonic::{Code, Streaming, transport::Channel};

const DASHBOARD: &str = include_str!("../../docs/grafana-dashboard.json");

/// Scrapes `/metrics` with `token` and parses it.
async fn scrape(server: &TestServer, token: Option<&str>) -> Scrape {
    let answer = match token {
        Some(token) => http::get_with_token(server.http_addr(), "/metrics", token).await,
        None => http::get(server.http_addr(), "/metrics", &[]).await,
    };
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        answer
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/openmetrics-text")),
        "{:?}",
        answer.header("content-type")
    );
    Scrape::parse(answer.body.lines().map(|l| Ok(l.to_owned()))).expect("a Prometheus exposition")
}

fn matches(sample: &Sample, metric: &str, labels: &[(&str, &str)]) -> bool {
    sample.metric == metric
        && labels
            .iter()
            .all(|(name, value)| sample.labels.get(name) == Some(*value))
}

/// The value of the one sample of `metric` with (at least) `labels`; 0
/// when there is none. A histogram's value is its count.
fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<&Sample> = scrape
        .samples
        .iter()
        .filter(|s| matches(s, metric, labels))
        .collect();
    assert!(found.len() <= 1, "{metric}{labels:?} matches {found:?}");
    found.first().map_or(0.0, |s| match &s.value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
        Value::Histogram(buckets) => buckets.iter().map(|b| b.count).fold(0.0, f64::max),
        Value::Summary(_) => panic!("{metric} is a summary"),
    })
}

/// The sum of every sample of `metric` with (at least) `labels`.
fn total(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| matches(s, metric, labels))
        .map(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            other => panic!("{metric}: {other:?}"),
        })
        .sum()
}

/// A registry with a token file after known traffic (see the body), and
/// the watch stream still open.
struct Traffic {
    server: TestServer,
    tokens: Tokens,
    _watch: Streaming<accord_proto::v1::WatchEventsResponse>,
}

async fn traffic() -> Traffic {
    let tokens = Tokens::create();
    let file = tokens.file.clone();
    let server = TestServer::start_web(tempfile::tempdir().unwrap(), move |c| {
        c.security.auth_file = Some(file);
    })
    .await;
    let mut client: RegistryServiceClient<Channel> = server.client().await;
    let ci = Some(tokens.publisher.as_str());
    // 4 publishes accepted, 1 deprecation: 5 events.
    seed::seed(&mut client, ci).await;
    let placed = ("orders", "order-placed");
    // Already published: the same content, the same version.
    seed::publish(
        &mut client,
        ci,
        placed,
        &seed::order_placed("integer", false),
        "2.0.0",
    )
    .await
    .expect("an idempotent re-publish");
    // Incompatible: integer → string is a break, and no major was named.
    let refused = seed::publish(&mut client, ci, placed, &seed::order_placed("string", false), "")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused}");
    // Invalid: not JSON.
    let invalid = seed::publish(&mut client, ci, placed, "{not json", "")
        .await
        .unwrap_err();
    assert_eq!(invalid.code(), Code::InvalidArgument, "{invalid}");
    // No token: refused before the registry decides anything.
    let anonymous = seed::publish(&mut client, None, placed, "{}", "")
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated, "{anonymous}");
    // A compatible check.
    let checked = client
        .check_compatibility(with_token(
            Some(&tokens.reader),
            CheckCompatibilityRequest {
                component: "orders".into(),
                contract: "order-placed".into(),
                schema: seed::order_placed("integer", false),
                ..Default::default()
            },
        ))
        .await
        .expect("a check");
    assert!(checked.into_inner().accepted);
    // Not found, then an unknown token.
    let get = |token: &str| {
        with_token(
            Some(token),
            GetContractRequest {
                component: "orders".into(),
                contract: "order-shipped".into(),
                ..Default::default()
            },
        )
    };
    let missing = client.get_contract(get(&tokens.reader)).await.unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let forged = client.get_contract(get("forged")).await.unwrap_err();
    assert_eq!(forged.code(), Code::Unauthenticated);
    // A watch stream, held open.
    let watch = client
        .watch_events(with_token(Some(&tokens.reader), WatchEventsRequest::default()))
        .await
        .expect("a watch stream")
        .into_inner();
    Traffic {
        server,
        tokens,
        _watch: watch,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_and_gauges_move_with_known_traffic() {
    let t = traffic().await;
    let s = scrape(&t.server, Some(&t.tokens.reader)).await;
    let calls = "accord_grpc_requests_total";
    for (method, code, n) in [
        ("PublishContract", "OK", 5.0),
        ("PublishContract", "FAILED_PRECONDITION", 1.0),
        ("PublishContract", "INVALID_ARGUMENT", 1.0),
        ("PublishContract", "UNAUTHENTICATED", 1.0),
        ("DeprecateVersion", "OK", 1.0),
        ("CheckCompatibility", "OK", 1.0),
        ("GetContract", "NOT_FOUND", 1.0),
        ("GetContract", "UNAUTHENTICATED", 1.0),
    ] {
        assert_eq!(
            value(&s, calls, &[("method", method), ("code", code)]),
            n,
            "{method} {code}"
        );
    }
    // The watch stream has no status yet: it is not counted until it ends.
    assert_eq!(total(&s, calls, &[("method", "WatchEvents")]), 0.0);
    assert_eq!(total(&s, calls, &[]), 12.0);
    let latency = "accord_grpc_request_duration_seconds";
    assert_eq!(value(&s, latency, &[("method", "PublishContract")]), 8.0);
    assert_eq!(value(&s, latency, &[("method", "GetContract")]), 2.0);

    let publishes = "accord_publishes_total";
    for (outcome, n) in [
        ("accepted", 4.0),
        ("already_published", 1.0),
        ("incompatible", 1.0),
        ("invalid", 1.0),
        ("version_too_low", 0.0),
        ("version_exists", 0.0),
    ] {
        assert_eq!(value(&s, publishes, &[("outcome", outcome)]), n, "{outcome}");
    }
    assert_eq!(
        total(&s, publishes, &[]),
        7.0,
        "the unauthenticated one never reached the registry"
    );

    // One engine run per decision: 6 publishes got one (not the invalid
    // JSON), the check one.
    let runs = "accord_compat_checks_total";
    assert_eq!(total(&s, runs, &[("operation", "publish")]), 6.0);
    assert!(value(&s, runs, &[("operation", "publish"), ("result", "incompatible")]) >= 1.0);
    assert_eq!(
        value(&s, runs, &[("operation", "check"), ("result", "compatible")]),
        1.0
    );
    assert_eq!(
        value(
            &s,
            "accord_compat_check_duration_seconds",
            &[("operation", "check"), ("result", "compatible")]
        ),
        1.0
    );
    assert!(
        value(
            &s,
            "accord_compat_breaking_findings_total",
            &[("witness", "found")]
        ) >= 1.0
    );

    let store = "accord_store_write_duration_seconds";
    assert!(value(&s, store, &[("store", "sled"), ("step", "transaction")]) >= 5.0);
    assert!(value(&s, store, &[("store", "sled"), ("step", "flush")]) >= 1.0);

    assert_eq!(value(&s, "accord_contracts", &[]), 2.0);
    assert_eq!(value(&s, "accord_versions", &[("state", "live")]), 3.0);
    assert_eq!(value(&s, "accord_versions", &[("state", "deprecated")]), 1.0);
    assert_eq!(value(&s, "accord_versions", &[("state", "deleted")]), 0.0);
    assert_eq!(value(&s, "accord_consumers", &[]), 0.0);
    assert_eq!(value(&s, "accord_watch_streams", &[]), 1.0);
    assert_eq!(value(&s, "accord_replica_applied_sequence", &[]), 5.0);
    assert_eq!(value(&s, "accord_replica_lag_events", &[]), 0.0);
    assert_eq!(value(&s, "accord_store_up", &[]), 1.0);

    let failures = "accord_auth_failures_total";
    assert_eq!(value(&s, failures, &[("reason", "missing")]), 1.0);
    assert_eq!(value(&s, failures, &[("reason", "unknown")]), 1.0);
    assert_eq!(value(&s, failures, &[("reason", "malformed")]), 0.0);
    // Refused scrapes count too.
    http::get(t.server.http_addr(), "/metrics", &[("Authorization", "Token x")]).await;
    let s = scrape(&t.server, Some(&t.tokens.reader)).await;
    assert_eq!(value(&s, failures, &[("reason", "malformed")]), 1.0);

    // A closed stream is counted with its status, and is no longer open.
    let Traffic {
        server,
        tokens,
        _watch,
    } = t;
    drop(_watch);
    let mut closed = false;
    for _ in 0..200 {
        let s = scrape(&server, Some(&tokens.reader)).await;
        if value(&s, "accord_watch_streams", &[]) == 0.0 {
            // A scrape reads the families one after another, not at one
            // instant: this one may have read the calls just before the
            // stream's status was counted, and the gauge just after it went
            // down. The status is counted before the stream lets go of its
            // place, so a scrape begun now must see it.
            let s = scrape(&server, Some(&tokens.reader)).await;
            assert_eq!(total(&s, calls, &[("method", "WatchEvents")]), 1.0);
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(closed, "the watch stream is still counted as open");
}

/// The metric names in the dashboard's queries.
fn dashboard_names() -> BTreeSet<String> {
    let dashboard: serde_json::Value = serde_json::from_str(DASHBOARD).expect("the dashboard is JSON");
    let mut exprs = Vec::new();
    fn collect(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("expr" | "query", serde_json::Value::String(e)) => out.push(e.clone()),
                        _ => collect(value, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| collect(i, out)),
            _ => {}
        }
    }
    collect(&dashboard, &mut exprs);
    assert!(!exprs.is_empty(), "the dashboard has no queries");
    let mut names = BTreeSet::new();
    for expr in exprs {
        let bytes = expr.as_bytes();
        let mut i = 0;
        while let Some(at) = expr[i..].find("accord_") {
            let start = i + at;
            let end = start
                + expr[start..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(expr.len() - start);
            // A name, not the tail of a longer identifier.
            if start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
                names.insert(expr[start..end].to_owned());
            }
            i = end;
        }
    }
    names
}

/// The names a scrape exposes: each sample's, and a histogram's series.
fn exported_names(scrape: &Scrape) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for sample in &scrape.samples {
        if let Value::Histogram(_) = sample.value {
            for suffix in ["_bucket", "_sum", "_count"] {
                names.insert(format!("{}{suffix}", sample.metric));
            }
        } else {
            names.insert(sample.metric.clone());
        }
    }
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_names_exactly_the_exported_metrics() {
    let t = traffic().await;
    let exported = exported_names(&scrape(&t.server, Some(&t.tokens.reader)).await);
    let shown = dashboard_names();
    let unknown: Vec<_> = shown.difference(&exported).collect();
    assert!(
        unknown.is_empty(),
        "the dashboard names metrics that are not exported: {unknown:?}"
    );
    // Every family is on the dashboard (a histogram by one of its series).
    let family = |name: &str| {
        ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(name)
            .to_owned()
    };
    let shown_families: BTreeSet<String> = shown.iter().map(|n| family(n)).collect();
    let missing: Vec<String> = exported
        .iter()
        .map(|n| family(n))
        .filter(|f| !shown_families.contains(f))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(
        missing.is_empty(),
        "exported but not on the dashboard: {missing:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_reports_the_sequence_it_applied_and_the_store_it_follows() {
    let Some(db) = TestDatabase::create("a_replica_reports_the_sequence_it_applied").await else {
        return;
    };
    let start =
        |url: String| TestServer::start_web(tempfile::tempdir().unwrap(), move |c| c.store = Some(url));
    let writer = start(db.url.clone()).await;
    let follower = start(db.url.clone()).await;
    let mut client = writer.client().await;
    let mut sequence = 0;
    for version in ["1.0.0", "1.1.0"] {
        let schema = seed::order_placed("number", version == "1.0.0");
        sequence = seed::publish(&mut client, None, ("orders", "order-placed"), &schema, version)
            .await
            .expect("publish")
            .sequence;
    }
    // Read the write on the other replica: it has applied it once this answers.
    let mut request = tonic::Request::new(GetContractRequest {
        component: "orders".into(),
        contract: "order-placed".into(),
        version: "1.1.0".into(),
        min_sequence: sequence,
    });
    request.set_timeout(Duration::from_secs(10));
    follower
        .client()
        .await
        .get_contract(request)
        .await
        .expect("the follower reads the write");

    let s = scrape(&follower, None).await;
    let seq = sequence as f64;
    assert_eq!(value(&s, "accord_replica_applied_sequence", &[]), seq);
    assert_eq!(value(&s, "accord_replica_store_sequence", &[]), seq);
    assert_eq!(value(&s, "accord_replica_lag_events", &[]), 0.0);
    assert_eq!(value(&s, "accord_contracts", &[]), 1.0);
    assert_eq!(value(&s, "accord_versions", &[("state", "live")]), 2.0);
    assert_eq!(
        total(&s, "accord_publishes_total", &[]),
        0.0,
        "the follower published nothing"
    );

    let s = scrape(&writer, None).await;
    let store = "accord_store_write_duration_seconds";
    assert!(value(&s, store, &[("store", "postgres"), ("step", "commit")]) >= 2.0);
    assert!(value(&s, store, &[("store", "postgres"), ("step", "transaction")]) >= 2.0);
    assert_eq!(
        value(&s, "accord_publishes_total", &[("outcome", "accepted")]),
        2.0
    );
    assert_eq!(value(&s, "accord_replica_applied_sequence", &[]), seq);
}
