//! TLS against a real registry, with a certificate authority generated in
//! the test: verified connections, a plaintext client refused, a client
//! that does not trust the CA refused, and client-certificate verification.

use std::path::{Path, PathBuf};

use accord_client::{ClientBuilder, ContractName, Error, RetryPolicy};
use accord_registry::auth::{Role, tokens};
use accord_tests::{
    TestServer,
    pki::{Issued, TestCa},
};
use tonic::transport::{Certificate, ClientTlsConfig, Identity};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A TLS server with a certificate for 127.0.0.1 and localhost issued by
/// `ca`; with `client_ca`, it requires client certificates issued by it.
async fn tls_server(
    dir: &Path,
    ca: &TestCa,
    client_ca: Option<&TestCa>,
    harness: ClientTlsConfig,
    auth_file: Option<PathBuf>,
) -> TestServer {
    let issued = ca.issue("registry", &["127.0.0.1", "localhost"]);
    let cert = write(dir, "server.pem", &issued.cert_pem);
    let key = write(dir, "server.key", &issued.key_pem);
    let client_ca = client_ca.map(|c| write(dir, "client-ca.pem", &c.cert_pem()));
    TestServer::start_tls(
        tempfile::tempdir().unwrap(),
        move |c| {
            c.security.tls_cert = Some(cert);
            c.security.tls_key = Some(key);
            c.security.tls_client_ca = client_ca;
            c.security.auth_file = auth_file;
        },
        harness,
    )
    .await
}

fn trusting(ca: &TestCa) -> ClientTlsConfig {
    ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca.cert_pem()))
}

fn no_retry(url: String) -> ClientBuilder {
    ClientBuilder::new(url).retry(RetryPolicy::none())
}

fn name() -> ContractName {
    "orders/placed".parse().unwrap()
}

const SCHEMA: &str = r#"{"type":"object"}"#;

#[tokio::test]
async fn a_client_that_trusts_the_ca_works_and_others_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("accord test CA");
    let server = tls_server(dir.path(), &ca, None, trusting(&ca), None).await;
    assert!(server.url().starts_with("https://"));

    let client = no_retry(server.url())
        .tls_ca_pem(ca.cert_pem())
        .connect()
        .await
        .expect("a client trusting the CA connects");
    client
        .publish(&name(), SCHEMA, None)
        .await
        .expect("publish over TLS");
    let got = client.get(&name(), &"1.0.0".parse().unwrap()).await.unwrap();
    assert_eq!(got.schema, SCHEMA);

    // A plaintext client speaks HTTP/2 to a TLS listener: no call succeeds.
    let plain = no_retry(format!("http://{}", server.addr())).build().unwrap();
    let err = plain
        .get(&name(), &"1.0.0".parse().unwrap())
        .await
        .expect_err("a plaintext client is refused");
    assert!(!matches!(err, Error::NotFound { .. }), "{err}");

    // A client that trusts another CA does not accept the server.
    let other = TestCa::new("another CA");
    let err = no_retry(server.url())
        .tls_ca_pem(other.cert_pem())
        .connect()
        .await
        .expect_err("the server's certificate is not trusted");
    assert!(matches!(err, Error::Unreachable { .. }), "{err}");
}

#[tokio::test]
async fn client_certificates_are_required_when_a_client_ca_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("accord test CA");
    let clients = TestCa::new("accord client CA");
    let Issued { cert_pem, key_pem } = clients.issue("ci", &["ci.example"]);
    let harness = trusting(&ca).identity(Identity::from_pem(&cert_pem, &key_pem));
    let server = tls_server(dir.path(), &ca, Some(&clients), harness, None).await;

    let with_cert = no_retry(server.url())
        .tls_ca_pem(ca.cert_pem())
        .tls_identity_pem(cert_pem, key_pem)
        .connect()
        .await
        .expect("a client with a certificate from the client CA connects");
    with_cert.publish(&name(), SCHEMA, None).await.unwrap();

    let without = no_retry(server.url()).tls_ca_pem(ca.cert_pem()).build().unwrap();
    let err = without
        .get(&name(), &"1.0.0".parse().unwrap())
        .await
        .expect_err("a client without a certificate is refused");
    assert!(!matches!(err, Error::NotFound { .. }), "{err}");

    // A certificate from the server's CA is not one from the client CA.
    let stranger = ca.issue("stranger", &["stranger.example"]);
    let wrong = no_retry(server.url())
        .tls_ca_pem(ca.cert_pem())
        .tls_identity_pem(stranger.cert_pem, stranger.key_pem)
        .build()
        .unwrap();
    assert!(wrong.get(&name(), &"1.0.0".parse().unwrap()).await.is_err());
}

#[tokio::test]
async fn tokens_travel_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokens.json");
    let token = tokens::create(&file, "ci", Role::Publisher, &["orders".into()]).unwrap();
    let ca = TestCa::new("accord test CA");
    let server = tls_server(dir.path(), &ca, None, trusting(&ca), Some(file)).await;

    let anonymous = no_retry(server.url()).tls_ca_pem(ca.cert_pem()).build().unwrap();
    let err = anonymous.publish(&name(), SCHEMA, None).await.unwrap_err();
    assert!(matches!(err, Error::Unauthenticated { .. }), "{err}");

    let ci = no_retry(server.url())
        .tls_ca_pem(ca.cert_pem())
        .token(token)
        .build()
        .unwrap();
    ci.publish(&name(), SCHEMA, None)
        .await
        .expect("the token is accepted over TLS");
    let other: ContractName = "billing/invoice".parse().unwrap();
    let err = ci.publish(&other, SCHEMA, None).await.unwrap_err();
    assert!(matches!(err, Error::PermissionDenied { .. }), "{err}");
}

#[tokio::test]
async fn unusable_tls_files_stop_the_server_with_their_name() {
    let dir = tempfile::tempdir().unwrap();
    let cert = write(dir.path(), "cert.pem", "not a certificate");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config = accord_registry::Config::new(listener.local_addr().unwrap(), dir.path().join("data"));
    config.security.tls_cert = Some(cert);
    config.security.tls_key = Some(dir.path().join("missing.key"));
    let err = accord_registry::run(listener, config, std::future::pending())
        .await
        .expect_err("no server without its TLS files");
    let text = err.to_string();
    assert!(
        text.contains("cert.pem") || text.contains("missing.key"),
        "{text}"
    );
}

/// The server's start-up error with `cert` and `key` as its TLS files.
async fn start_error(dir: &Path, cert: &str, key: &str) -> String {
    let cert = write(dir, "server.pem", cert);
    let key = write(dir, "server.key", key);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config = accord_registry::Config::new(listener.local_addr().unwrap(), dir.join("data"));
    config.security.tls_cert = Some(cert);
    config.security.tls_key = Some(key);
    accord_registry::run(listener, config, std::future::pending())
        .await
        .expect_err("the server refuses these TLS files")
        .to_string()
}

#[tokio::test]
async fn a_ca_certificate_or_a_foreign_key_is_refused_at_start_up_naming_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("test CA");
    let text = start_error(dir.path(), &ca.cert_pem(), &ca.key_pem()).await;
    assert!(text.contains("is a CA certificate"), "{text}");
    assert!(text.contains("server.pem"), "{text}");

    let server = ca.issue("localhost", &["localhost", "127.0.0.1"]);
    let other = ca.issue("other", &["localhost"]);
    let text = start_error(dir.path(), &server.cert_pem, &other.key_pem).await;
    assert!(text.contains("does not match"), "{text}");
    assert!(
        text.contains("server.key") && text.contains("server.pem"),
        "{text}"
    );
}
