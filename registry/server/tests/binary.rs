//! The real `accord-registry` binary: help, serve with graceful shutdown on
//! SIGTERM, a refused data directory, and export → import round trips.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Output, Stdio},
};

use accord_proto::v1::{
    GetContractRequest, PublishContractRequest, registry_service_client::RegistryServiceClient,
};
use std::sync::Arc;

use accord_registry::{Limits, Registry, model::Actor, service::PublishInput, store::sled::SledStore};

const BIN: &str = env!("CARGO_BIN_EXE_accord-registry");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("ACCORD_DATA_DIR")
        .env_remove("ACCORD_LISTEN")
        .output()
        .expect("run accord-registry")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn help_explains_every_flag_and_its_environment_variable() {
    let output = run(&["--help"]);
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for needle in [
        "--listen",
        "ACCORD_LISTEN",
        "--data-dir",
        "ACCORD_DATA_DIR",
        "--log-format",
        "ACCORD_LOG_FORMAT",
        "--max-request-bytes",
        "--max-schema-bytes",
        "--max-schema-depth",
        "ACCORD_MAX_SCHEMA_DEPTH",
        "--max-ref-hops",
        "--default-draft",
        "ACCORD_DEFAULT_DRAFT",
        "--shutdown-grace-secs",
        "export",
        "import",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
    }
    // The long help says more than the one-liners.
    assert!(help.contains("costs nothing"), "{help}");
}

#[test]
fn an_unknown_default_draft_is_refused_naming_it_and_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let output = run(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--default-draft",
        "5",
        "--data-dir",
        data_dir.to_str().expect("temp paths are UTF-8"),
    ]);
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(err.contains("\"5\"") && err.contains("2019-09"), "{err}");
    assert!(!data_dir.exists(), "a refused flag must not create the store");
}

/// Starts `serve` on an ephemeral port and returns the process and the
/// address it logged once listening.
fn serve(data_dir: &Path) -> (Child, String, BufReader<std::process::ChildStderr>) {
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
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn accord-registry serve");
    let mut lines = match child.stderr.take() {
        Some(stderr) => BufReader::new(stderr),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("no stderr to read the address from");
        }
    };
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).unwrap_or(0) == 0 {
            let status = child.wait();
            panic!("the server exited before listening: {status:?}");
        }
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if entry["fields"]["message"] == "accord-registry listening" {
            let addr = entry["fields"]["addr"].as_str().unwrap_or_default().to_owned();
            return (child, addr, lines);
        }
    }
}

/// Runs `f` on a runtime of its own, dropped afterwards with the client
/// connections it holds.
fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn sigterm_stops_the_server_gracefully_and_keeps_acknowledged_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr, mut log) = serve(dir.path());
    block_on(async {
        let mut client = RegistryServiceClient::connect(format!("http://{addr}"))
            .await
            .unwrap();
        client
            .publish_contract(PublishContractRequest {
                component: "orders".into(),
                contract: "placed".into(),
                schema: r#"{"type":"object"}"#.into(),
                version: "1.0.0".into(),
            })
            .await
            .unwrap();
    });
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status after SIGTERM: {status}");
    let mut rest = String::new();
    std::io::Read::read_to_string(log.get_mut(), &mut rest).unwrap();
    assert!(rest.contains("accord-registry stopped"), "{rest}");

    // The store is released and holds the write.
    let (mut child, addr, _log) = serve(dir.path());
    let version = block_on(async {
        let mut client = RegistryServiceClient::connect(format!("http://{addr}"))
            .await
            .unwrap();
        client
            .get_contract(GetContractRequest {
                component: "orders".into(),
                contract: "placed".into(),
                version: String::new(),
                ..Default::default()
            })
            .await
            .map(|r| r.into_inner().contract.unwrap_or_default().version)
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(version.unwrap(), "1.0.0");
}

#[test]
fn a_data_dir_of_another_format_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = sled::open(dir.path().join("db")).unwrap();
        db.open_tree("meta").unwrap().insert("format", &[200u8]).unwrap();
        db.flush().unwrap();
    }
    let output = run(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("store format 200"),
        "{}",
        stderr(&output)
    );
}

fn actor() -> Actor {
    Actor::system("test")
}

async fn fill(dir: &Path) {
    let registry = Registry::open(Arc::new(SledStore::open(dir).unwrap()), Limits::default())
        .await
        .unwrap();
    let input = |schema, version| PublishInput {
        component: "orders",
        contract: "placed",
        schema,
        version,
    };
    registry
        .publish(input(r#"{"type":"object"}"#, "1.0.0"), actor())
        .await
        .unwrap();
    registry
        .publish(input(r#"{"type":"object","title":"t"}"#, "1.0.1"), actor())
        .await
        .unwrap();
    registry
        .publish(input(r#"{"type":"object"}"#, "2.0.0-rc.1"), actor())
        .await
        .unwrap();
    registry
        .deprecate("orders", "placed", "1.0.0", "use 1.0.1", None, actor())
        .await
        .unwrap();
    registry
        .delete_version("orders", "placed", "2.0.0-rc.1", false, None, actor())
        .await
        .unwrap();
    registry
        .set_config(
            "orders",
            "placed",
            accord_registry::service::SettingsChange {
                mode: Some(accord_compat::Mode::Full),
                ..Default::default()
            },
            actor(),
        )
        .await
        .unwrap();
}

#[test]
fn export_then_import_into_an_empty_store_reproduces_it_exactly() {
    let source = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(fill(source.path()));

    let work = tempfile::tempdir().unwrap();
    let dump = work.path().join("dump.jsonl");
    let output = run(&[
        "export",
        "--data-dir",
        source.path().to_str().unwrap(),
        "-o",
        dump.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));

    let target = work.path().join("copy");
    let output = run(&[
        "import",
        "--data-dir",
        target.to_str().unwrap(),
        "-i",
        dump.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));

    // The copy exports to the same bytes.
    let again = run(&["export", "--data-dir", target.to_str().unwrap()]);
    assert!(again.status.success(), "{}", stderr(&again));
    let original = std::fs::read_to_string(&dump).unwrap();
    assert_eq!(String::from_utf8_lossy(&again.stdout), original);
    assert_eq!(
        original.lines().count(),
        1 + 1 + 2 + 3 + 6,
        "header, config, schemas, versions, events"
    );

    // And it serves the same registry.
    let copy = runtime
        .block_on(Registry::open(
            Arc::new(SledStore::open(&target).unwrap()),
            Limits::default(),
        ))
        .unwrap();
    let latest = copy.get("orders", "placed", "").unwrap();
    assert_eq!(latest.record.version.to_string(), "1.0.1");
    assert_eq!(&*latest.schema, r#"{"type":"object","title":"t"}"#);
    let old = copy.get("orders", "placed", "1.0.0").unwrap();
    assert_eq!(
        old.record.deprecated.as_ref().map(|d| d.message.as_str()),
        Some("use 1.0.1")
    );
    assert!(
        copy.get("orders", "placed", "2.0.0-rc.1").is_err(),
        "still soft-deleted"
    );
    assert_eq!(
        copy.get_config("orders", "placed").unwrap().config.mode,
        accord_compat::Mode::Full
    );

    // Importing twice is refused: the store is no longer empty.
    drop(copy);
    let output = run(&[
        "import",
        "--data-dir",
        target.to_str().unwrap(),
        "-i",
        dump.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("not empty"), "{}", stderr(&output));
}

#[test]
fn a_damaged_export_is_refused_with_its_line_number_and_nothing_written() {
    let work = tempfile::tempdir().unwrap();
    let dump = work.path().join("dump.jsonl");
    std::fs::write(
        &dump,
        "{\"record\":\"header\",\"format\":1}\n{\"record\":\"schema\",\"fingerprint\":\"abc\",\"text\":\"{}\"}\n",
    )
    .unwrap();
    let target = work.path().join("copy");
    let output = run(&[
        "import",
        "--data-dir",
        target.to_str().unwrap(),
        "-i",
        dump.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("line 2"), "{}", stderr(&output));
    let store = SledStore::open(&target).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    assert!(
        runtime
            .block_on(accord_registry::store::Store::is_empty(&store))
            .unwrap()
    );
}

#[test]
fn a_killed_server_keeps_every_acknowledged_publish() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr, _log) = serve(dir.path());
    let acknowledged = block_on(async {
        let mut client = RegistryServiceClient::connect(format!("http://{addr}"))
            .await
            .unwrap();
        let mut acknowledged = Vec::new();
        for patch in 0..40 {
            let version = format!("1.0.{patch}");
            client
                .publish_contract(PublishContractRequest {
                    component: "orders".into(),
                    contract: "placed".into(),
                    schema: format!(r#"{{"type":"object","title":"v{patch}"}}"#),
                    version: version.clone(),
                })
                .await
                .unwrap();
            acknowledged.push(version);
        }
        acknowledged
    });
    // No graceful shutdown, no final flush.
    child.kill().unwrap();
    let _ = child.wait();

    let store = SledStore::open(dir.path()).unwrap();
    let registry = block_on(Registry::open(Arc::new(store), Limits::default())).unwrap();
    for version in &acknowledged {
        let got = registry.get("orders", "placed", version).unwrap();
        let title = format!("v{}", version.trim_start_matches("1.0."));
        assert!(got.schema.contains(&title), "{version}: {}", got.schema);
    }
    assert_eq!(registry.version_count(), acknowledged.len());
}
