//! A damaged embedded store: the real binary refuses to serve it (saying
//! what is wrong) rather than answer NOT_FOUND for acknowledged versions,
//! `verify` lists every problem, and `export --salvage` gets out what is
//! intact. Random byte flips in the database file never panic the server
//! and never make it serve less than was acknowledged.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::Arc,
};

use accord_registry::{Limits, Registry, model::Actor, service::PublishInput, store::sled::SledStore};
use rand::{Rng, SeedableRng};

const BIN: &str = env!("CARGO_BIN_EXE_accord-registry");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("ACCORD_DATA_DIR")
        .env_remove("ACCORD_STORE")
        .output()
        .expect("run accord-registry")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn schema(n: u64) -> String {
    format!(r#"{{"type":"object","title":"version {n}","properties":{{"id":{{"type":"string"}}}}}}"#)
}

/// Publishes 1.0.`from`..1.0.`to` (exclusive) into the store in `dir`.
fn publish(dir: &Path, range: std::ops::Range<u64>) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let registry = Registry::open(Arc::new(SledStore::open(dir).unwrap()), Limits::default())
            .await
            .unwrap();
        for n in range {
            let text = schema(n);
            let version = format!("1.0.{n}");
            registry
                .publish(
                    PublishInput {
                        component: "orders",
                        contract: "placed",
                        schema: &text,
                        version: &version,
                    },
                    Actor::system("test"),
                )
                .await
                .unwrap();
        }
        registry.flush().await.unwrap();
    });
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The first lines a server writes before it listens or exits, and whether
/// it exited.
fn start_or_refuse(dir: &Path) -> Result<std::process::Child, String> {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    let mut seen = String::new();
    loop {
        match lines.next() {
            Some(Ok(line)) => {
                seen.push_str(&line);
                seen.push('\n');
                if line.contains("accord-registry listening") {
                    // Keep draining, so that the server never blocks on it.
                    std::thread::spawn(move || for _ in lines.by_ref() {});
                    return Ok(child);
                }
            }
            _ => {
                let status = child.wait().unwrap();
                return Err(format!("{status}\n{seen}"));
            }
        }
    }
}

#[test]
fn a_store_that_lost_acknowledged_writes_is_refused_verified_and_salvaged() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("data");
    publish(&dir, 0..5);
    let early = work.path().join("early-db");
    copy_dir(&dir.join("db"), &early);
    publish(&dir, 5..10);
    // The database comes back as it was after five publishes: what a log
    // that lost its tail looks like. The seal beside it says ten.
    std::fs::remove_dir_all(dir.join("db")).unwrap();
    copy_dir(&early, &dir.join("db"));

    let refused = start_or_refuse(&dir).expect_err("a store that lost writes is not served");
    assert!(refused.contains("acknowledged writes are missing"), "{refused}");
    assert!(refused.contains("export --salvage"), "{refused}");
    assert!(!refused.contains("panicked"), "{refused}");

    let verified = run(&["verify", "--data-dir", dir.to_str().unwrap()]);
    assert_eq!(verified.status.code(), Some(1), "{}", text(&verified.stderr));
    let report = text(&verified.stdout);
    assert!(
        report.contains("problem: ") && report.contains("acknowledged writes are missing"),
        "{report}"
    );

    let dump = work.path().join("salvage.jsonl");
    let salvaged = run(&[
        "export",
        "--salvage",
        "--data-dir",
        dir.to_str().unwrap(),
        "-o",
        dump.to_str().unwrap(),
    ]);
    assert!(salvaged.status.success(), "{}", text(&salvaged.stderr));
    let copy = work.path().join("copy");
    let imported = run(&[
        "import",
        "--data-dir",
        copy.to_str().unwrap(),
        "-i",
        dump.to_str().unwrap(),
    ]);
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    let whole = run(&["verify", "--data-dir", copy.to_str().unwrap()]);
    assert_eq!(whole.status.code(), Some(0), "{}", text(&whole.stdout));
    assert!(
        text(&whole.stdout).contains("5 versions"),
        "{}",
        text(&whole.stdout)
    );
}

#[test]
fn a_changed_value_is_refused_with_its_key_and_left_out_of_a_salvage() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("data");
    publish(&dir, 0..3);
    {
        // One byte of one stored version changes on disk.
        let db = sled::open(dir.join("db")).unwrap();
        let tree = db.open_tree("versions").unwrap();
        let (key, value) = tree.iter().nth(1).unwrap().unwrap();
        let mut bad = value.to_vec();
        let at = bad.len() / 2;
        bad[at] ^= 0x20;
        tree.insert(key, bad).unwrap();
        db.flush().unwrap();
    }
    let refused = start_or_refuse(&dir).expect_err("a changed value is not served");
    assert!(refused.contains("checksum mismatch"), "{refused}");
    assert!(refused.contains("orders/placed/1.0.1"), "{refused}");
    let verified = run(&["verify", "--data-dir", dir.to_str().unwrap()]);
    assert_eq!(verified.status.code(), Some(1));
    let salvaged = run(&["export", "--salvage", "--data-dir", dir.to_str().unwrap()]);
    assert!(salvaged.status.success(), "{}", text(&salvaged.stderr));
    assert!(
        text(&salvaged.stderr).contains("left out"),
        "{}",
        text(&salvaged.stderr)
    );
    let out = text(&salvaged.stdout);
    let versions: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with(r#"{"record":"version""#))
        .collect();
    assert_eq!(versions.len(), 2, "{out}");
    assert!(
        versions[0].contains(r#""version":"1.0.0""#) && versions[1].contains(r#""version":"1.0.2""#),
        "{out}"
    );
}

/// Every file of the database, with its size.
fn database_files(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.join("db")];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else {
                out.push((entry.path(), entry.metadata().unwrap().len()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn flipped_bits_never_panic_the_server_nor_make_it_serve_less_than_it_acknowledged() {
    let seed: u64 = std::env::var("ACCORD_DAMAGE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    eprintln!("damage test seed: {seed} (replay with ACCORD_DAMAGE_SEED={seed})");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let trials: usize = std::env::var("ACCORD_DAMAGE_TRIALS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    for trial in 0..trials {
        let work = tempfile::tempdir().unwrap();
        let dir = work.path().join("data");
        publish(&dir, 0..30);
        let files: Vec<_> = database_files(&dir)
            .into_iter()
            .filter(|(_, len)| *len > 0)
            .collect();
        let (file, len) = &files[rng.random_range(0..files.len())];
        let offset = rng.random_range(0..*len);
        let mut bytes = std::fs::read(file).unwrap();
        bytes[offset as usize] ^= 1 << rng.random_range(0..8);
        std::fs::write(file, bytes).unwrap();
        let what = format!("trial {trial}: bit flipped in {} at {offset}", file.display());
        match start_or_refuse(&dir) {
            Err(refused) => {
                assert!(!refused.contains("panicked"), "{what}: a panic\n{refused}");
                assert!(refused.contains("error: "), "{what}: no clear error\n{refused}");
            }
            Ok(mut child) => {
                // It serves: then it serves every acknowledged version, as published.
                let _ = child.kill();
                let _ = child.wait();
                let served = runtime.block_on(async {
                    let registry =
                        Registry::open(Arc::new(SledStore::open(&dir).unwrap()), Limits::default())
                            .await
                            .unwrap();
                    (0..30)
                        .map(|n| {
                            registry
                                .get("orders", "placed", &format!("1.0.{n}"))
                                .map(|v| v.schema.to_string())
                        })
                        .collect::<Vec<_>>()
                });
                for (n, got) in served.iter().enumerate() {
                    assert_eq!(
                        got.as_deref().ok(),
                        Some(schema(n as u64).as_str()),
                        "{what}: 1.0.{n}"
                    );
                }
            }
        }
    }
}
