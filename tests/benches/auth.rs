//! The cost of access control on the hot path: one `GetContract` over
//! loopback from a registry that checks a bearer token (the caller's entry
//! first, and last of 100), and one served over TLS, against the baseline
//! of the same call to an open plaintext registry, measured in the same run.
//!
//! `cargo bench -p accord-tests --bench auth`

use accord_client::{Client, ClientBuilder, ContractName, VersionSelector};
use accord_registry::auth::{Role, tokens};
use accord_tests::{TestServer, pki::TestCa};
use criterion::{Criterion, criterion_group, criterion_main};
use tonic::transport::{Certificate, ClientTlsConfig};

const SCHEMA: &str = r#"{"type": "object", "properties": {"id": {"type": "string"}}}"#;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let name: ContractName = "orders/placed".parse().expect("name");
    let latest = VersionSelector::Latest;

    // A file of 100 tokens; the benchmark uses the first and the last.
    let file = dir.path().join("tokens.json");
    let mut issued = Vec::new();
    for i in 0..100 {
        issued.push(tokens::create(&file, &format!("t{i}"), Role::Admin, &[]).expect("token"));
    }
    let ca = TestCa::new("bench CA");
    let cert = ca.issue("registry", &["127.0.0.1"]);
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, &cert.cert_pem).expect("write cert");
    std::fs::write(&key_path, &cert.key_pem).expect("write key");

    let (open, secured, tls) = rt.block_on(async {
        let open = TestServer::start().await;
        let auth_file = file.clone();
        let secured = TestServer::start_with(tempfile::tempdir().expect("dir"), move |c| {
            c.security.auth_file = Some(auth_file);
        })
        .await;
        let trust = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca.cert_pem()));
        let tls = TestServer::start_tls(
            tempfile::tempdir().expect("dir"),
            move |c| {
                c.security.tls_cert = Some(cert_path);
                c.security.tls_key = Some(key_path);
            },
            trust,
        )
        .await;
        (open, secured, tls)
    });
    let connect = |builder: ClientBuilder| -> Client {
        let client = rt.block_on(builder.connect()).expect("connect");
        rt.block_on(client.publish(&name, SCHEMA, None)).ok();
        client
    };
    let baseline = connect(ClientBuilder::new(open.url()));
    let first = connect(ClientBuilder::new(secured.url()).token(&issued[0]));
    let last = connect(ClientBuilder::new(secured.url()).token(&issued[99]));
    let over_tls = connect(ClientBuilder::new(tls.url()).tls_ca_pem(ca.cert_pem()));

    let mut group = c.benchmark_group("get_contract");
    for (label, client) in [
        ("baseline_open_plaintext", &baseline),
        ("token_first_of_100", &first),
        ("token_last_of_100", &last),
        ("tls_open", &over_tls),
    ] {
        group.bench_function(label, |b| {
            b.to_async(&rt)
                .iter(|| async { client.get(&name, &latest).await.expect("get") })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
