//! Runs the real `accord` binary in a temporary directory.

#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

/// A scratch directory with schema files, where `accord` runs.
pub struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("create a temporary directory"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `text` to `name` (creating parent directories).
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent directory");
        }
        std::fs::write(&path, text).expect("write file");
        path
    }

    /// A command for `accord` in this directory, with a clean environment:
    /// no registry, colour or terminal settings inherited from the caller.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_accord"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_remove("ACCORD_REGISTRY")
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("RUST_LOG")
            .env_remove("GITHUB_WORKSPACE")
            .env_remove("ACCORD_TOKEN")
            .env_remove("ACCORD_TLS_CA")
            .env_remove("ACCORD_CLIENT_CERT")
            .env_remove("ACCORD_CLIENT_KEY")
            .stdin(Stdio::null());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd(args).output().expect("run accord"))
    }
}

/// `accord --registry URL args…` in `work`.
pub fn accord(work: &Workdir, url: &str, args: &[&str]) -> Command {
    let mut full = vec!["--registry", url];
    full.extend_from_slice(args);
    work.cmd(&full)
}

/// Runs `cmd` without blocking the runtime that serves the registry.
pub async fn run_async(cmd: Command) -> Run {
    let out = tokio::process::Command::from(cmd)
        .output()
        .await
        .expect("run accord");
    Run::from(out)
}

/// Runs `accord --registry URL args…` in `work` and asserts its exit code.
pub async fn accord_at(work: &Workdir, url: &str, args: &[&str], code: i32) -> Run {
    run_async(accord(work, url, args)).await.expect_code(code)
}

/// What a run of `accord` left behind.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Self {
        Self {
            code: out
                .status
                .code()
                .expect("accord exited by itself, not by a signal"),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        }
    }
}

impl Run {
    /// Asserts the exit code, showing both streams when it differs.
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// Counts `<testcase>` and `<failure>` elements, failing on malformed XML.
pub fn junit_counts(xml: &str) -> (usize, usize) {
    let (cases, failures, _) = junit_tally(xml);
    (cases, failures)
}

/// Counts `<testcase>`, `<failure>` and `<error>` elements, failing on
/// malformed XML.
pub fn junit_tally(xml: &str) -> (usize, usize, usize) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut counts = [0usize; 3];
    let mut depth = 0usize;
    let mut count = |name: &[u8]| match name {
        b"testcase" => counts[0] += 1,
        b"failure" => counts[1] += 1,
        b"error" => counts[2] += 1,
        _ => {}
    };
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("malformed XML ({e}):\n{xml}"))
        {
            Event::Start(e) => {
                depth += 1;
                count(e.name().as_ref());
            }
            Event::End(_) => depth -= 1,
            Event::Empty(e) => count(e.name().as_ref()),
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "unbalanced XML:\n{xml}");
    (counts[0], counts[1], counts[2])
}

/// Parses a SARIF log into the typed SARIF 2.1.0 model (generated from the
/// official schema by `serde-sarif`), which refuses missing required fields
/// and wrongly typed values; then validates it against the official schema
/// itself, the copy that the `serde-sarif` package ships, when it can be
/// found in Cargo's package sources (it is there whenever the tests built).
pub fn sarif(text: &str) -> serde_sarif::sarif::Sarif {
    let log: serde_sarif::sarif::Sarif =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("not SARIF ({e}):\n{text}"));
    let raw: serde_json::Value = serde_json::from_str(text).expect("SARIF is JSON");
    assert_eq!(raw["version"], "2.1.0");
    match sarif_schema_errors(&raw) {
        Some(errors) => assert!(errors.is_empty(), "not valid SARIF 2.1.0: {errors:#?}\n{text}"),
        None => skip(
            "SARIF schema validation",
            "serde-sarif's schema.json not found in Cargo's package sources (the typed SARIF model check still ran)",
        ),
    }
    log
}

/// The errors of `log` against the official SARIF 2.1.0 schema; `None`
/// when the schema is not available.
pub fn sarif_schema_errors(log: &serde_json::Value) -> Option<Vec<String>> {
    let schema = sarif_schema()?;
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    Some(
        validator
            .iter_errors(log)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect(),
    )
}

/// The official SARIF 2.1.0 JSON Schema, as shipped in the `serde-sarif` package.
fn sarif_schema() -> Option<serde_json::Value> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
    for registry in std::fs::read_dir(cargo_home.join("registry/src")).ok()?.flatten() {
        let Ok(packages) = std::fs::read_dir(registry.path()) else {
            continue;
        };
        for package in packages.flatten() {
            if !package.file_name().to_string_lossy().starts_with("serde-sarif-") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(package.path().join("src/schema.json")) else {
                continue;
            };
            let mut schema: serde_json::Value = serde_json::from_str(&text).ok()?;
            // The published schema's pattern for `language` (in `run` and in
            // `toolComponent`) has a stray `]` that ECMA-262 reads as a literal
            // but Rust regex engines refuse, so the schema would not compile.
            // Our logs never set `language`: that one pattern is dropped, the
            // rest of the schema is used as published.
            drop_pattern(&mut schema, "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$");
            if schema["title"]
                .as_str()
                .is_some_and(|t| t.contains("SARIF) Version 2.1.0"))
            {
                return Some(schema);
            }
        }
    }
    None
}

/// An address on 127.0.0.1 where nothing listens: the port stays bound (so
/// no other process can take it) but never listens, so connections are
/// refused. Keep the socket alive while the address is in use.
pub fn dead_address() -> (tokio::net::TcpSocket, String) {
    let socket = tokio::net::TcpSocket::new_v4().expect("create a TCP socket");
    socket
        .bind("127.0.0.1:0".parse().expect("socket address"))
        .expect("bind 127.0.0.1:0");
    let addr = socket.local_addr().expect("local address");
    (socket, format!("http://{addr}"))
}

fn drop_pattern(value: &mut serde_json::Value, pattern: &str) {
    match value {
        serde_json::Value::Object(map) => {
            if map.get("pattern").and_then(|p| p.as_str()) == Some(pattern) {
                map.remove("pattern");
            }
            map.values_mut().for_each(|v| drop_pattern(v, pattern));
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| drop_pattern(v, pattern)),
        _ => {}
    }
}

/// Says that `test` was skipped and why, on standard error; fails instead
/// when `ACCORD_REQUIRE_TOOLS` is set (CI sets it: nothing is skipped there).
pub fn skip(test: &str, why: &str) {
    if std::env::var_os("ACCORD_REQUIRE_TOOLS").is_some() {
        panic!("{test} cannot run: {why}, and ACCORD_REQUIRE_TOOLS is set");
    }
    eprintln!("SKIPPED {test}: {why}");
}

/// The fenced blocks of `lang` in `text` (a part of the README), in order.
pub fn fenced(text: &str, lang: &str) -> Vec<String> {
    text.split(&format!("```{lang}\n"))
        .skip(1)
        .map(|block| block.split("```").next().unwrap_or_default().to_owned())
        .collect()
}

/// The README from just after `start` to the next `## ` section.
pub fn readme_part(start: &str) -> &'static str {
    let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"));
    let part = readme
        .split_once(start)
        .unwrap_or_else(|| panic!("{start:?} is not in the README"))
        .1;
    part.split("\n## ").next().unwrap_or(part)
}
