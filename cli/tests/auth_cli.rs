//! The real `accord` binary against a registry that requires tokens, and
//! one served over TLS: --token / ACCORD_TOKEN, --tls-ca, `accord audit`.

mod common;

use std::{path::PathBuf, process::Command};

use accord_registry::auth::{Role, tokens};
use accord_tests::{TestServer, pki::TestCa};
use common::{Workdir, accord, run_async as run};

const V1: &str = r#"{"type": "object", "properties": {"id": {"type": "string"}}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_from_the_flag_or_the_environment_and_the_audit_command() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokens.json");
    let reader = tokens::create(&file, "dashboard", Role::Reader, &[]).unwrap();
    let publisher = tokens::create(&file, "ci", Role::Publisher, &["orders".into()]).unwrap();
    let admin = tokens::create(&file, "ops", Role::Admin, &[]).unwrap();
    let auth_file = file.clone();
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), move |c| {
        c.security.auth_file = Some(auth_file);
    })
    .await;
    let url = server.url();
    let work = Workdir::new();
    work.write("v1.json", V1);

    let none = run(accord(&work, &url, &["publish", "orders/placed", "v1.json"])).await;
    let none = none.expect_code(2);
    assert!(none.stderr.contains("bearer token"), "{}", none.stderr);
    let report = run(accord(
        &work,
        &url,
        &[
            "check",
            "v1.json",
            "--contract",
            "orders/placed",
            "--format",
            "json",
        ],
    ))
    .await
    .expect_code(2)
    .json();
    assert_eq!(report["error"]["kind"], "unauthenticated", "{report}");

    let mut as_reader = accord(&work, &url, &["publish", "orders/placed", "v1.json"]);
    as_reader.env("ACCORD_TOKEN", &reader);
    let denied = run(as_reader).await.expect_code(2);
    assert!(denied.stderr.contains("publisher role"), "{}", denied.stderr);
    assert!(
        !denied.stderr.contains(&reader),
        "the token leaks: {}",
        denied.stderr
    );

    let out_of_scope = run(accord(
        &work,
        &url,
        &["--token", &publisher, "publish", "billing/invoice", "v1.json"],
    ))
    .await
    .expect_code(2);
    assert!(
        out_of_scope.stderr.contains("\"billing\""),
        "{}",
        out_of_scope.stderr
    );

    let mut as_ci = accord(
        &work,
        &url,
        &["publish", "orders/placed", "v1.json", "--version", "1.0.0"],
    );
    as_ci.env("ACCORD_TOKEN", &publisher);
    run(as_ci).await.expect_code(0);
    let got = run(accord(&work, &url, &["--token", &reader, "get", "orders/placed"]))
        .await
        .expect_code(0);
    assert_eq!(got.stdout.trim(), V1);

    let denied = run(accord(&work, &url, &["--token", &publisher, "audit"]))
        .await
        .expect_code(2);
    assert!(denied.stderr.contains("admin role"), "{}", denied.stderr);
    let text = run(accord(
        &work,
        &url,
        &["--token", &admin, "audit", "--since", "1h"],
    ))
    .await
    .expect_code(0);
    // The attempt without a token is not among them yet: such attempts are
    // counted per peer and written once per interval (the server tests
    // check that entry).
    let lines: Vec<&str> = text.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", text.stdout);
    assert!(
        lines[0].contains("dashboard  PublishContract  orders/placed  PERMISSION_DENIED"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].contains("ci  PublishContract  billing/invoice  PERMISSION_DENIED"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains("ci  PublishContract  orders/placed@1.0.0  OK"),
        "{}",
        lines[2]
    );

    let json = run(accord(
        &work,
        &url,
        &["--token", &admin, "audit", "--format", "json"],
    ))
    .await
    .expect_code(0)
    .json();
    let entries = json["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[2]["principal"], "ci");
    assert_eq!(entries[2]["allowed"], true);
    assert_eq!(entries[0]["outcome"], "PERMISSION_DENIED");

    let future = run(accord(
        &work,
        &url,
        &["--token", &admin, "audit", "--since", "2999-01-01T00:00:00Z"],
    ))
    .await
    .expect_code(0);
    assert!(future.stdout.is_empty(), "{}", future.stdout);
    let bad = run(accord(
        &work,
        &url,
        &["--token", &admin, "audit", "--since", "yesterday"],
    ))
    .await
    .expect_code(2);
    assert!(bad.stderr.contains("yesterday"), "{}", bad.stderr);
}

/// A registry serving TLS with the certificate and key in `cert` and
/// `key`; the harness trusts `ca_pem`.
async fn tls_server(ca_pem: &str, cert: PathBuf, key: PathBuf) -> TestServer {
    let harness = tonic::transport::ClientTlsConfig::new()
        .ca_certificate(tonic::transport::Certificate::from_pem(ca_pem));
    TestServer::start_tls(
        tempfile::tempdir().unwrap(),
        move |c| {
            c.security.tls_cert = Some(cert);
            c.security.tls_key = Some(key);
        },
        harness,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_registry_with_tls_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("accord test CA");
    let issued = ca.issue("registry", &["127.0.0.1", "localhost"]);
    let cert = dir.path().join("server.pem");
    let key = dir.path().join("server.key");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&cert, &issued.cert_pem).unwrap();
    std::fs::write(&key, &issued.key_pem).unwrap();
    std::fs::write(&ca_file, ca.cert_pem()).unwrap();
    let server = tls_server(&ca.cert_pem(), cert, key).await;
    let url = server.url();
    let work = Workdir::new();
    work.write("v1.json", V1);
    let ca_path = ca_file.to_str().unwrap();

    run(accord(
        &work,
        &url,
        &["--tls-ca", ca_path, "publish", "orders/placed", "v1.json"],
    ))
    .await
    .expect_code(0);
    let mut env_ca = accord(&work, &url, &["get", "orders/placed"]);
    env_ca.env("ACCORD_TLS_CA", ca_path);
    assert_eq!(run(env_ca).await.expect_code(0).stdout.trim(), V1);

    let no_ca = run(accord(&work, &url, &["get", "orders/placed"]))
        .await
        .expect_code(2);
    assert!(no_ca.stderr.contains("CA certificate"), "{}", no_ca.stderr);
    let missing = run(accord(
        &work,
        &url,
        &["--tls-ca", "absent.pem", "get", "orders/placed"],
    ))
    .await
    .expect_code(2);
    assert!(missing.stderr.contains("absent.pem"), "{}", missing.stderr);
    // Plain HTTP to the TLS port: the error says to use https://.
    let plain = format!("http://{}", server.addr());
    let wrong_scheme = run(accord(&work, &plain, &["get", "orders/placed"]))
        .await
        .expect_code(2);
    assert!(
        wrong_scheme.stderr.contains(&format!(
            "the registry at {plain} speaks TLS: use https://{} (with --tls-ca)",
            server.addr()
        )),
        "{}",
        wrong_scheme.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_verifies_clients_gets_the_certificate_from_tls_cert() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("accord test CA");
    let clients = TestCa::new("accord client CA");
    let server_cert = ca.issue("registry", &["127.0.0.1"]);
    let client_cert = clients.issue("ci", &["ci.example"]);
    let path = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let cert = path("server.pem", &server_cert.cert_pem);
    let key = path("server.key", &server_cert.key_pem);
    let client_ca = path("client-ca.pem", &clients.cert_pem());
    let ca_file = path("ca.pem", &ca.cert_pem());
    let ci_cert = path("ci.pem", &client_cert.cert_pem);
    let ci_key = path("ci.key", &client_cert.key_pem);
    let harness = tonic::transport::ClientTlsConfig::new()
        .ca_certificate(tonic::transport::Certificate::from_pem(ca.cert_pem()))
        .identity(tonic::transport::Identity::from_pem(
            &client_cert.cert_pem,
            &client_cert.key_pem,
        ));
    let server = TestServer::start_tls(
        tempfile::tempdir().unwrap(),
        move |c| {
            c.security.tls_cert = Some(cert);
            c.security.tls_key = Some(key);
            c.security.tls_client_ca = Some(client_ca);
        },
        harness,
    )
    .await;
    let url = server.url();
    let work = Workdir::new();
    let (ca_path, ci_cert, ci_key) = (
        ca_file.to_str().unwrap(),
        ci_cert.to_str().unwrap(),
        ci_key.to_str().unwrap(),
    );
    let with_cert = [
        "--tls-ca",
        ca_path,
        "--tls-cert",
        ci_cert,
        "--tls-key",
        ci_key,
        "list",
    ];
    run(accord(&work, &url, &with_cert)).await.expect_code(0);
    run(accord(&work, &url, &["--tls-ca", ca_path, "list"]))
        .await
        .expect_code(2);
    let half = run(accord(
        &work,
        &url,
        &["--tls-ca", ca_path, "--tls-cert", ci_cert, "list"],
    ))
    .await
    .expect_code(2);
    assert!(half.stderr.contains("--tls-key"), "{}", half.stderr);
}

/// The README's OpenSSL recipe, run as written (with the registry's address
/// as its name): the real server serves TLS with what it makes, and the
/// real `accord` reaches it trusting the CA it makes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_certificate_recipe_makes_a_working_tls_registry() {
    let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"));
    let recipe = readme
        .split("```sh\n")
        .skip(1)
        .map(|block| block.split("```").next().unwrap_or_default())
        .find(|block| block.contains("openssl req -x509"))
        .expect("the README has an OpenSSL recipe");
    let recipe: String = recipe
        .lines()
        .map(|line| line.trim_start())
        .collect::<Vec<_>>()
        .join("\n");
    let san = "san=\"DNS:registry.internal\"";
    assert!(
        recipe.contains(san),
        "the recipe names the registry in `san`:\n{recipe}"
    );
    let recipe = recipe.replace(san, "san=\"IP:127.0.0.1\"");
    let dir = tempfile::tempdir().unwrap();
    let made = match Command::new("sh")
        .args(["-eu", "-c", &recipe])
        .current_dir(dir.path())
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            eprintln!("skipped: cannot run sh for the OpenSSL recipe ({e})");
            return;
        }
    };
    if !made.status.success() && Command::new("openssl").arg("version").output().is_err() {
        eprintln!("skipped: `openssl` is not installed, the README's recipe cannot run");
        return;
    }
    assert!(
        made.status.success(),
        "the recipe fails:\n{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let ca = std::fs::read_to_string(dir.path().join("ca.pem")).unwrap();
    let (cert, key) = (dir.path().join("server.pem"), dir.path().join("server.key"));
    let server = tls_server(&ca, cert, key).await;
    let work = Workdir::new();
    let ca_path = dir.path().join("ca.pem");
    let listed = run(accord(
        &work,
        &server.url(),
        &["--tls-ca", ca_path.to_str().unwrap(), "list"],
    ))
    .await
    .expect_code(0);
    assert_eq!(listed.stdout, "");
    // The server's own certificate is no CA: trusting it instead fails.
    let server_pem = dir.path().join("server.pem");
    run(accord(
        &work,
        &server.url(),
        &["--tls-ca", server_pem.to_str().unwrap(), "list"],
    ))
    .await
    .expect_code(2);
}
