//! The real `accord-registry` binary: `token create|list|revoke`, the
//! warning of an open registry, and a served token file.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Output, Stdio},
};

use accord_proto::v1::{ListComponentsRequest, registry_service_client::RegistryServiceClient};

const BIN: &str = env!("CARGO_BIN_EXE_accord-registry");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("ACCORD_AUTH_FILE")
        .output()
        .expect("run accord-registry")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_lists_the_access_control_flags_and_commands() {
    let serve = text(&run(&["serve", "--help"]).stdout);
    for flag in [
        "--auth-file",
        "ACCORD_AUTH_FILE",
        "--tls-cert",
        "--tls-key",
        "--tls-client-ca",
    ] {
        assert!(serve.contains(flag), "serve --help lacks {flag}:\n{serve}");
    }
    let token = text(&run(&["token", "create", "--help"]).stdout);
    for needle in ["--name", "--role", "--scope", "reader", "publisher", "admin"] {
        assert!(
            token.contains(needle),
            "token create --help lacks {needle}:\n{token}"
        );
    }
}

#[test]
fn tokens_are_created_listed_and_revoked_and_only_hashes_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokens.json");
    let file = file.to_str().unwrap();

    let created = run(&[
        "token",
        "create",
        "--auth-file",
        file,
        "--name",
        "ci-orders",
        "--role",
        "publisher",
        "--scope",
        "orders",
        "--scope",
        "billing-*",
    ]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    let token = text(&created.stdout);
    let token = token.trim();
    assert!(
        token.starts_with("accord_") && !token.contains(char::is_whitespace),
        "{token:?}"
    );
    assert!(
        !std::fs::read_to_string(file).unwrap().contains(token),
        "the token is stored in clear"
    );

    let listed = run(&["token", "list", "--auth-file", file]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let listing = text(&listed.stdout);
    assert!(
        listing.contains("ci-orders\tpublisher\torders,billing-*\t"),
        "{listing}"
    );
    assert!(!listing.contains(token), "{listing}");

    let bad_role = run(&[
        "token",
        "create",
        "--auth-file",
        file,
        "--name",
        "x",
        "--role",
        "root",
    ]);
    assert_eq!(bad_role.status.code(), Some(2));
    assert!(
        text(&bad_role.stderr).contains("root"),
        "{}",
        text(&bad_role.stderr)
    );
    let dup = run(&[
        "token",
        "create",
        "--auth-file",
        file,
        "--name",
        "ci-orders",
        "--role",
        "reader",
    ]);
    assert!(!dup.status.success());
    assert!(
        text(&dup.stderr).contains("already exists"),
        "{}",
        text(&dup.stderr)
    );

    let revoked = run(&["token", "revoke", "--auth-file", file, "--name", "ci-orders"]);
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    assert!(!text(&run(&["token", "list", "--auth-file", file]).stdout).contains("ci-orders"));
    let again = run(&["token", "revoke", "--auth-file", file, "--name", "ci-orders"]);
    assert!(!again.status.success());
    assert!(
        text(&again.stderr).contains("no token named"),
        "{}",
        text(&again.stderr)
    );
}

/// Starts `serve` on an ephemeral port with `extra` flags; returns the
/// process, the address it logged once listening, and the log lines before.
fn serve(data_dir: &Path, extra: &[&str]) -> (Child, String, Vec<String>) {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--data-dir",
        ])
        .arg(data_dir)
        .args(extra)
        .env_remove("ACCORD_AUTH_FILE")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn accord-registry serve");
    let Some(stderr) = child.stderr.take() else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("no stderr to read the log from");
    };
    let mut lines = BufReader::new(stderr);
    let mut seen = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).unwrap_or(0) == 0 {
            let status = child.wait();
            panic!("the server exited before listening: {status:?}\n{seen:?}");
        }
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if entry["fields"]["message"] == "accord-registry listening" {
            let addr = entry["fields"]["addr"].as_str().unwrap_or_default().to_owned();
            return (child, addr, seen);
        }
        seen.push(line.clone());
    }
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn list(addr: &str, token: Option<&str>) -> Result<(), tonic::Status> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let mut client = RegistryServiceClient::connect(format!("http://{addr}"))
                .await
                .unwrap();
            let mut request = tonic::Request::new(ListComponentsRequest::default());
            if let Some(token) = token {
                request
                    .metadata_mut()
                    .insert("authorization", format!("Bearer {token}").parse().unwrap());
            }
            client.list_components(request).await.map(drop)
        })
}

#[test]
fn an_open_registry_warns_at_start_up_and_a_token_file_is_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let (child, _addr, log) = serve(&dir.path().join("open"), &[]);
    let warning = log.iter().find(|l| l.contains("NO ACCESS CONTROL"));
    stop(child);
    let warning = warning.unwrap_or_else(|| panic!("no warning of an open registry in {log:?}"));
    assert!(warning.contains("\"WARN\""), "{warning}");

    let file = dir.path().join("tokens.json");
    let file = file.to_str().unwrap();
    let created = run(&[
        "token",
        "create",
        "--auth-file",
        file,
        "--name",
        "dash",
        "--role",
        "reader",
    ]);
    let token = text(&created.stdout).trim().to_owned();
    let (child, addr, log) = serve(&dir.path().join("secured"), &["--auth-file", file]);
    let open_warning = log.iter().any(|l| l.contains("NO ACCESS CONTROL"));
    let anonymous = list(&addr, None);
    let with_token = list(&addr, Some(&token));
    stop(child);
    assert!(!open_warning, "{log:?}");
    assert_eq!(anonymous.unwrap_err().code(), tonic::Code::Unauthenticated);
    with_token.expect("the token from `token create` is accepted");
}
