//! Start-up fetch of 50 contracts from a real registry on 127.0.0.1: one
//! `BatchGetContracts` call, with and without the on-disk cache (each copy
//! written and flushed to disk), against the baseline of 50 `GetContract`
//! calls in a row, measured in the same run.
//!
//! `cargo bench -p accord-client --bench fetch`

use accord_client::{Client, ClientBuilder, ContractName, VersionSelector};
use accord_tests::TestServer;
use criterion::{Criterion, criterion_group, criterion_main};

const CONTRACTS: usize = 50;

fn schema(i: usize, version: usize) -> String {
    let props: Vec<String> = (0..20)
        .map(|p| format!(r#""field_{p}": {{"type": "string", "maxLength": {}}}"#, 100 + p))
        .collect();
    format!(
        r#"{{"title": "contract {i} v{version}", "type": "object", "properties": {{{}}}}}"#,
        props.join(", ")
    )
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let server = rt.block_on(TestServer::start());
    let client = rt.block_on(Client::connect(&server.url())).expect("connect");
    let mut wanted: Vec<(ContractName, VersionSelector)> = Vec::new();
    rt.block_on(async {
        for i in 0..CONTRACTS {
            let name: ContractName = format!("svc-{}/contract-{i}", i % 5).parse().expect("name");
            for minor in 0..3 {
                let version = format!("1.{minor}.0").parse().expect("version");
                client
                    .publish(&name, &schema(i, minor), Some(&version))
                    .await
                    .expect("seed");
            }
            wanted.push((name, "^1".parse().expect("requirement")));
        }
    });
    let cache_dir = tempfile::tempdir().expect("cache dir");
    let _runtime = rt.enter();
    let cached = ClientBuilder::new(server.url())
        .cache_dir(cache_dir.path())
        .build()
        .expect("client");

    let mut group = c.benchmark_group(format!("fetch_{CONTRACTS}_contracts"));
    group.bench_function("baseline_get_one_by_one", |b| {
        b.to_async(&rt).iter(|| async {
            for (name, selector) in &wanted {
                client.get(name, selector).await.expect("get");
            }
        })
    });
    group.bench_function("fetch_contracts_batch", |b| {
        b.to_async(&rt).iter(|| async {
            let set = client.fetch_contracts(&wanted).await.expect("fetch");
            assert_eq!(set.len(), CONTRACTS);
        })
    });
    group.bench_function("fetch_contracts_batch_with_cache", |b| {
        b.to_async(&rt).iter(|| async {
            let set = cached.fetch_contracts(&wanted).await.expect("fetch");
            assert_eq!(set.len(), CONTRACTS);
        })
    });
    group.finish();
    drop(rt.block_on(server.stop()));
}

criterion_group!(benches, bench);
criterion_main!(benches);
