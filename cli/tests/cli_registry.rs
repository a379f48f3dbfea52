//! The registry commands, run through the real binary against a real
//! registry on 127.0.0.1:0 (the `accord-tests` harness).

mod common;

use accord_tests::TestServer;
use common::{Run, Workdir, junit_counts, sarif};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

const V1: &str = "{\n  \"type\": \"object\",\n  \"properties\": {\n    \"id\": { \"type\": \"string\" }\n  },\n  \"required\": [\"id\"]\n}\n";

/// V1 with an optional property in a closed content model: nothing that V1
/// accepted is rejected.
const V1_TITLED: &str = "{\n  \"title\": \"Order placed\",\n  \"type\": \"object\",\n  \"properties\": {\n    \"id\": { \"type\": \"string\" }\n  },\n  \"required\": [\"id\"]\n}\n";

/// A second, unrelated contract.
const OTHER: &str = r#"{"type": "string", "maxLength": 10}"#;

struct Env {
    server: TestServer,
    work: Workdir,
}

impl Env {
    async fn start() -> Self {
        let work = Workdir::new();
        work.write("v1.json", V1);
        work.write("v1-titled.json", V1_TITLED);
        work.write("other.json", OTHER);
        Self {
            server: TestServer::start().await,
            work,
        }
    }

    /// Runs `accord --registry <server> args…` without blocking the runtime
    /// that serves the registry.
    async fn run(&self, args: &[&str]) -> Run {
        let url = self.server.url();
        let mut full = vec!["--registry", url.as_str()];
        full.extend_from_slice(args);
        let cmd = self.work.cmd(&full);
        let out = tokio::process::Command::from(cmd)
            .output()
            .await
            .expect("run accord");
        Run::from(out)
    }
}

fn json(run: &Run) -> Value {
    run.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_then_get_prints_exactly_the_stored_schema() {
    let env = Env::start().await;
    let run = env
        .run(&[
            "publish",
            "orders/order-placed",
            "v1.json",
            "--version",
            "1.0.0",
            "--format",
            "json",
        ])
        .await
        .expect_code(0);
    let report = json(&run);
    assert_eq!(report["compatible"], true);
    assert_eq!(report["registry"]["verdict"], "accepted");
    assert_eq!(report["registry"]["version"], "1.0.0");
    assert_eq!(report["contract"], "orders/order-placed");

    let got = env.run(&["get", "orders/order-placed"]).await.expect_code(0);
    assert_eq!(
        got.stdout, V1,
        "stdout holds the schema as published, nothing else"
    );
    let got = env
        .run(&["get", "orders/order-placed", "1.0.0"])
        .await
        .expect_code(0);
    assert_eq!(got.stdout, V1);
    let got = env
        .run(&["get", "orders/order-placed", "^1"])
        .await
        .expect_code(0);
    assert_eq!(got.stdout, V1);

    // The same version with the same content: an idempotent success.
    let again = env
        .run(&[
            "publish",
            "orders/order-placed",
            "v1.json",
            "--version",
            "1.0.0",
            "--format",
            "json",
        ])
        .await
        .expect_code(0);
    assert_eq!(json(&again)["registry"]["verdict"], "already_published");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_contracts_and_versions_exit_2_naming_them() {
    let env = Env::start().await;
    let run = env.run(&["get", "orders/nothing-here"]).await.expect_code(2);
    assert!(run.stderr.contains("orders/nothing-here"), "{}", run.stderr);
    assert!(run.stderr.contains("not found"), "{}", run.stderr);
    assert_eq!(run.stdout, "");

    env.run(&["publish", "orders/order-placed", "v1.json", "--version", "1.0.0"])
        .await
        .expect_code(0);
    let run = env
        .run(&["get", "orders/order-placed", "7.0.0"])
        .await
        .expect_code(2);
    assert!(run.stderr.contains("7.0.0"), "{}", run.stderr);
    let run = env
        .run(&["get", "orders/order-placed", "not a version"])
        .await
        .expect_code(2);
    assert!(run.stderr.contains("not a version"), "{}", run.stderr);
    let run = env
        .run(&["publish", "orders/order-placed", "missing.json"])
        .await
        .expect_code(2);
    assert!(run.stderr.contains("missing.json"), "{}", run.stderr);
    let run = env
        .run(&["publish", "Orders/Upper", "v1.json"])
        .await
        .expect_code(2);
    assert!(run.stderr.contains("Orders"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_against_the_registry_answers_as_publish_would() {
    let env = Env::start().await;
    env.run(&["publish", "orders/order-placed", "v1.json", "--version", "1.2.0"])
        .await
        .expect_code(0);

    let ok = env
        .run(&[
            "check",
            "v1-titled.json",
            "--contract",
            "orders/order-placed",
            "--version",
            "1.2.1",
            "--format",
            "json",
        ])
        .await
        .expect_code(0);
    let report = json(&ok);
    assert_eq!(report["compatible"], true);
    assert_eq!(report["registry"]["verdict"], "accepted");
    assert_eq!(report["registry"]["predecessor_version"], "1.2.0");
    assert_eq!(report["mode"], "BACKWARD");

    // A version below the latest of its line is refused: exit 1, and the
    // registry says which version would do.
    let low = env
        .run(&[
            "check",
            "v1-titled.json",
            "--contract",
            "orders/order-placed",
            "--version",
            "1.1.0",
            "--format",
            "json",
        ])
        .await
        .expect_code(1);
    let report = json(&low);
    assert_eq!(report["compatible"], false);
    assert_eq!(report["registry"]["verdict"], "version_too_low");

    // Nothing was stored by either check.
    let versions = env
        .run(&["versions", "orders/order-placed", "--format", "json"])
        .await
        .expect_code(0);
    let versions = json(&versions);
    let listed: Vec<&str> = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["1.2.0"]);
    // Each version says the draft it was read in (no $schema: the
    // registry's default, draft 7) and who published it.
    assert_eq!(versions["versions"][0]["draft"], "7");
    assert_eq!(versions["versions"][0]["published_by"], "anonymous");

    // The same refusal in every CI format.
    let base = [
        "check",
        "v1-titled.json",
        "--contract",
        "orders/order-placed",
        "--version",
        "1.1.0",
        "--format",
    ];
    let mut args = base.to_vec();
    args.push("junit");
    let junit = env.run(&args).await.expect_code(1);
    assert_eq!(junit_counts(&junit.stdout), (1, 1));
    args.pop();
    args.push("github");
    let github = env.run(&args).await.expect_code(1);
    assert!(
        github
            .stdout
            .lines()
            .any(|l| l.starts_with("::error file=v1-titled.json,")),
        "{}",
        github.stdout
    );
    args.pop();
    args.push("sarif");
    let log = env.run(&args).await.expect_code(1).stdout;
    assert_eq!(sarif(&log).runs.len(), 1);
    // No finding breaks, yet the refusal is a result all the same.
    let raw: Value = serde_json::from_str(&log).unwrap();
    let results = raw["runs"][0]["results"].as_array().unwrap();
    let refused: Vec<&Value> = results
        .iter()
        .filter(|r| r["ruleId"] == "VERSION_REFUSED")
        .collect();
    assert_eq!(refused.len(), 1, "{log}");
    assert_eq!(refused[0]["level"], "error");
    assert!(
        refused[0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("smallest acceptable version: 1.2.1"),
        "{log}"
    );

    let text = env.run(&base[..base.len() - 1]).await.expect_code(1);
    assert!(
        text.stdout
            .starts_with("✗ orders/order-placed (v1-titled.json): refused: 1.1.0 is too low\n"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("smallest acceptable version: 1.2.1 (publish with --version 1.2.1)"),
        "{}",
        text.stdout
    );
    assert!(!text.stdout.contains("version_too_low"), "{}", text.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_refused_exits_1_with_the_verdict() {
    let env = Env::start().await;
    env.run(&["publish", "orders/order-placed", "v1.json", "--version", "1.2.0"])
        .await
        .expect_code(0);
    let run = env
        .run(&[
            "publish",
            "orders/order-placed",
            "v1-titled.json",
            "--version",
            "1.1.0",
            "--format",
            "json",
        ])
        .await
        .expect_code(1);
    let report = json(&run);
    assert_eq!(report["compatible"], false);
    assert_eq!(report["registry"]["verdict"], "version_too_low");
    assert!(
        !report["registry"]["smallest_acceptable_version"]
            .as_str()
            .unwrap()
            .is_empty()
    );

    // Another content under an existing version is refused, and the answer
    // still says what the change needs: one round trip to the fix.
    let run = env
        .run(&[
            "publish",
            "orders/order-placed",
            "other.json",
            "--version",
            "1.2.0",
            "--format",
            "json",
        ])
        .await
        .expect_code(1);
    let report = json(&run);
    assert_eq!(report["registry"]["verdict"], "version_exists");
    assert_eq!(report["required_bump"], "major", "object to string breaks");
    assert_eq!(report["registry"]["smallest_acceptable_version"], "2.0.0");
    assert_eq!(report["registry"]["predecessor_version"], "1.2.0");
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["compatible"] == false),
        "{report}"
    );
    let fixed = env
        .run(&[
            "publish",
            "orders/order-placed",
            "other.json",
            "--version",
            "2.0.0",
        ])
        .await
        .expect_code(0);
    assert!(fixed.stdout.contains("published as 2.0.0"), "{}", fixed.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_list_config_deprecate_and_delete() {
    let env = Env::start().await;
    env.run(&["publish", "orders/order-placed", "v1.json", "--version", "1.0.0"])
        .await
        .expect_code(0);
    env.run(&[
        "publish",
        "orders/order-placed",
        "v1-titled.json",
        "--version",
        "1.0.1",
    ])
    .await
    .expect_code(0);
    env.run(&["publish", "billing/invoice", "other.json", "--version", "0.1.0"])
        .await
        .expect_code(0);

    let components = json(&env.run(&["list", "--format", "json"]).await.expect_code(0));
    let names: Vec<&str> = components["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["component"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["billing", "orders"]);
    let text = env.run(&["list"]).await.expect_code(0);
    assert!(text.stdout.contains("orders"), "{}", text.stdout);

    let contracts = json(
        &env.run(&["list", "orders", "--format", "json"])
            .await
            .expect_code(0),
    );
    assert_eq!(contracts["contracts"][0]["contract"], "orders/order-placed");
    assert_eq!(contracts["contracts"][0]["latest_version"], "1.0.1");
    assert_eq!(contracts["contracts"][0]["versions"], 2);

    // Settings: inherited, then the contract's own.
    let config = json(
        &env.run(&["config", "get", "orders/order-placed", "--format", "json"])
            .await
            .expect_code(0),
    );
    assert_eq!(config["inherited"], true);
    let set = json(
        &env.run(&[
            "config",
            "set",
            "orders/order-placed",
            "--mode",
            "full_transitive",
            "--format",
            "json",
        ])
        .await
        .expect_code(0),
    );
    assert_eq!(set["mode"], "FULL_TRANSITIVE");
    assert_eq!(set["inherited"], false);
    let text = env
        .run(&["config", "get", "orders/order-placed"])
        .await
        .expect_code(0);
    assert!(text.stdout.contains("mode FULL_TRANSITIVE"), "{}", text.stdout);
    let run = env
        .run(&["config", "set", "orders/order-placed"])
        .await
        .expect_code(2);
    assert!(run.stderr.contains("--mode"), "{}", run.stderr);

    // Deprecation shows in versions and as a warning on get, while stdout
    // stays the schema alone.
    env.run(&["deprecate", "orders/order-placed@1.0.0", "--message", "use 1.0.1"])
        .await
        .expect_code(0);
    let versions = json(
        &env.run(&["versions", "orders/order-placed", "--format", "json"])
            .await
            .expect_code(0),
    );
    assert_eq!(versions["versions"][0]["state"], "deprecated");
    assert_eq!(versions["versions"][0]["deprecation_message"], "use 1.0.1");
    assert_eq!(versions["versions"][1]["state"], "active");
    let got = env
        .run(&["get", "orders/order-placed", "1.0.0"])
        .await
        .expect_code(0);
    assert_eq!(got.stdout, V1);
    assert!(got.stderr.contains("deprecated"), "{}", got.stderr);
    let text = env.run(&["versions", "orders/order-placed"]).await.expect_code(0);
    assert!(text.stdout.contains("deprecated: use 1.0.1"), "{}", text.stdout);
    let run = env
        .run(&["deprecate", "orders/order-placed@9.9.9", "--message", "x"])
        .await
        .expect_code(2);
    assert!(run.stderr.contains("9.9.9"), "{}", run.stderr);

    // Delete one version (soft), then the whole contract.
    let deleted = json(
        &env.run(&["delete", "orders/order-placed@1.0.1", "--yes", "--format", "json"])
            .await
            .expect_code(0),
    );
    assert_eq!(deleted["deleted"], serde_json::json!(["1.0.1"]));
    env.run(&["get", "orders/order-placed", "1.0.1"])
        .await
        .expect_code(2);
    // A soft delete can be undone.
    let restored = json(
        &env.run(&["restore", "orders/order-placed@1.0.1", "--format", "json"])
            .await
            .expect_code(0),
    );
    assert_eq!(restored["restored"], serde_json::json!(["1.0.1"]));
    assert_eq!(
        env.run(&["get", "orders/order-placed", "1.0.1"])
            .await
            .expect_code(0)
            .stdout,
        V1_TITLED
    );
    env.run(&["delete", "billing/invoice", "--hard", "--yes"])
        .await
        .expect_code(0);
    let run = env.run(&["get", "billing/invoice"]).await.expect_code(2);
    assert!(run.stderr.contains("not found"), "{}", run.stderr);
    // A hard delete cannot be undone.
    let run = env.run(&["restore", "billing/invoice"]).await;
    assert_ne!(run.code, 0, "{}", run.stdout);
    env.run(&["get", "billing/invoice"]).await.expect_code(2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_between_stored_versions() {
    let env = Env::start().await;
    env.run(&["publish", "orders/order-placed", "v1.json", "--version", "1.0.0"])
        .await
        .expect_code(0);
    env.run(&[
        "publish",
        "orders/order-placed",
        "v1-titled.json",
        "--version",
        "1.0.1",
    ])
    .await
    .expect_code(0);
    let report = json(
        &env.run(&[
            "diff",
            "orders/order-placed",
            "1.0.0",
            "1.0.1",
            "--format",
            "json",
        ])
        .await
        .expect_code(0),
    );
    assert_eq!(report["compatible"], true);
    assert_eq!(report["mode"], "BACKWARD");
    let lenient = json(
        &env.run(&[
            "diff",
            "orders/order-placed",
            "1.0.0",
            "1.0.1",
            "--policy",
            "lenient",
            "--format",
            "json",
        ])
        .await
        .expect_code(0),
    );
    assert_eq!(lenient["policy"], "LENIENT");
    assert_eq!(lenient["mode"], "BACKWARD", "the contract's own mode is kept");
    let run = env
        .run(&["diff", "orders/order-placed", "1.0.0", "3.0.0"])
        .await
        .expect_code(2);
    assert!(run.stderr.contains("3.0.0"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_prints_events_as_lines() {
    let env = Env::start().await;
    env.run(&["publish", "orders/order-placed", "v1.json", "--version", "1.0.0"])
        .await
        .expect_code(0);
    env.run(&["publish", "billing/invoice", "other.json", "--version", "1.0.0"])
        .await
        .expect_code(0);

    let url = env.server.url();
    let cmd = env
        .work
        .cmd(&["--registry", &url, "watch", "--from", "0", "--format", "json"]);
    let mut child = tokio::process::Command::from(cmd)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn accord watch");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut events = Vec::new();
    // Two events exist already; a third one happens while watching.
    for i in 0..3 {
        if i == 2 {
            env.run(&["deprecate", "orders/order-placed@1.0.0", "--message", "old"])
                .await
                .expect_code(0);
        }
        let line = lines
            .next_line()
            .await
            .expect("read a line")
            .expect("watch is still running");
        events.push(serde_json::from_str::<Value>(&line).expect("each line is JSON"));
    }
    child.kill().await.expect("stop accord watch");
    assert_eq!(events[0]["kind"], "published");
    assert_eq!(events[0]["contract"], "orders/order-placed");
    assert_eq!(events[1]["contract"], "billing/invoice");
    assert_eq!(events[2]["kind"], "deprecated");
    assert_eq!(events[2]["message"], "old");
    let seqs: Vec<u64> = events.iter().map(|e| e["sequence"].as_u64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");

    // --from skips what was already seen.
    let cmd = env
        .work
        .cmd(&["--registry", &url, "watch", "--from", &seqs[1].to_string()]);
    let mut child = tokio::process::Command::from(cmd)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn accord watch");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = lines.next_line().await.unwrap().unwrap();
    child.kill().await.unwrap();
    assert!(line.contains("deprecated"), "{line}");
    assert!(line.contains("orders/order-placed@1.0.0"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accord_toml_checks_and_publishes_in_order() {
    let env = Env::start().await;
    env.work.write("schemas/order.json", V1);
    env.work.write("schemas/invoice.json", OTHER);
    env.work.write(
        "accord.toml",
        r#"
[[contract]]
name = "orders/order-placed"
schema = "schemas/order.json"
version = "1.0.0"

[[contract]]
name = "billing/invoice"
schema = "schemas/invoice.json"
version = "1.0.0"
"#,
    );
    // Check first: both would be accepted, nothing is stored.
    let check = json(&env.run(&["check", "--format", "json"]).await.expect_code(0));
    assert_eq!(check["compatible"], true);
    assert_eq!(check["contracts"].as_array().unwrap().len(), 2);
    let junit = env.run(&["check", "--format", "junit"]).await.expect_code(0);
    assert_eq!(junit_counts(&junit.stdout), (2, 0));
    env.run(&["get", "orders/order-placed"]).await.expect_code(2);

    let published = json(&env.run(&["publish", "--format", "json"]).await.expect_code(0));
    let verdicts: Vec<&str> = published["contracts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["registry"]["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["accepted", "accepted"]);
    assert_eq!(
        env.run(&["get", "billing/invoice"]).await.expect_code(0).stdout,
        OTHER
    );

    // Running it again publishes nothing new.
    let again = json(&env.run(&["publish", "--format", "json"]).await.expect_code(0));
    assert_eq!(again["contracts"][0]["registry"]["verdict"], "already_published");
    assert_eq!(again["contracts"][1]["registry"]["verdict"], "already_published");

    // A refused entry does not stop the run: the one after it is published,
    // and the run exits with the refusal.
    env.run(&[
        "publish",
        "orders/order-placed",
        "v1-titled.json",
        "--version",
        "1.1.0",
    ])
    .await
    .expect_code(0);
    env.work.write(
        "accord.toml",
        r#"
[[contract]]
name = "orders/order-placed"
schema = "schemas/order.json"
version = "1.0.5"

[[contract]]
name = "billing/new-one"
schema = "schemas/invoice.json"
version = "1.0.0"
"#,
    );
    let check = env.run(&["check"]).await.expect_code(1);
    assert!(
        check
            .stdout
            .ends_with("\n2 contracts: 1 accepted, 1 refused, 0 errors\n"),
        "{}",
        check.stdout
    );
    let refused = env.run(&["publish", "--format", "json"]).await.expect_code(1);
    let report = json(&refused);
    assert_eq!(report["compatible"], false);
    assert_eq!(
        report["summary"],
        serde_json::json!({"contracts": 2, "accepted": 1, "refused": 1, "errors": 0})
    );
    assert_eq!(report["contracts"][0]["registry"]["verdict"], "version_too_low");
    assert_eq!(report["contracts"][1]["registry"]["verdict"], "accepted");
    assert_eq!(
        env.run(&["get", "billing/new-one"]).await.expect_code(0).stdout,
        OTHER
    );

    // A registered version whose file changed is refused (versions never
    // change), with what the change needs; the other contract still runs.
    env.work.write(
        "accord.toml",
        r#"
[[contract]]
name = "orders/order-placed"
schema = "schemas/order.json"
version = "1.0.0"

[[contract]]
name = "billing/invoice"
schema = "schemas/invoice.json"
version = "1.0.0"
"#,
    );
    env.work.write("schemas/order.json", V1_TITLED);
    let changed = env.run(&["publish"]).await.expect_code(1);
    assert!(
        changed.stdout.starts_with(
            "✗ orders/order-placed (schemas/order.json): refused: 1.0.0 is already taken by other content\n"
        ),
        "{}",
        changed.stdout
    );
    assert!(
        changed
            .stdout
            .contains("smallest acceptable version: 1.1.1 (set version = \"1.1.1\" in accord.toml)"),
        "{}",
        changed.stdout
    );
    assert!(
        changed
            .stdout
            .contains("✓ billing/invoice (schemas/invoice.json): already published as 1.0.0"),
        "{}",
        changed.stdout
    );
}

/// Runs `accord args…` on a pseudo-terminal (util-linux `script`), typing
/// `answer`; `None` when `script` is not installed.
async fn on_terminal(env: &Env, args: &[&str], answer: &str) -> Option<Run> {
    use tokio::io::AsyncWriteExt;
    let url = env.server.url();
    let mut line = format!("{} --registry {url}", env!("CARGO_BIN_EXE_accord"));
    for arg in args {
        line.push(' ');
        line.push_str(arg);
    }
    let mut child = tokio::process::Command::new("script")
        .args(["-q", "-e", "-c", &line, "/dev/null"])
        .current_dir(env.work.path())
        .env_remove("ACCORD_REGISTRY")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin.write_all(answer.as_bytes()).await.expect("type the answer");
    drop(stdin);
    Some(Run::from(child.wait_with_output().await.expect("script runs")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_asks_for_confirmation_on_a_terminal() {
    let env = Env::start().await;
    env.run(&["publish", "orders/order-placed", "v1.json", "--version", "1.0.0"])
        .await
        .expect_code(0);
    let Some(no) = on_terminal(&env, &["delete", "orders/order-placed@1.0.0"], "n\n").await else {
        common::skip(
            module_path!(),
            "`script` (util-linux) is not installed: no pseudo-terminal to test with",
        );
        return;
    };
    let no = no.expect_code(2);
    assert!(
        no.stdout.contains("[y/N]"),
        "the question is asked: {}",
        no.stdout
    );
    assert!(no.stdout.contains("not deleted"), "{}", no.stdout);
    env.run(&["get", "orders/order-placed", "1.0.0"])
        .await
        .expect_code(0);

    let yes = on_terminal(&env, &["delete", "orders/order-placed@1.0.0"], "y\n")
        .await
        .expect("script ran a moment ago")
        .expect_code(0);
    assert!(yes.stdout.contains("deleted (restorable)"), "{}", yes.stdout);
    env.run(&["get", "orders/order-placed", "1.0.0"])
        .await
        .expect_code(2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_ends_quietly_when_its_reader_goes_away() {
    let env = Env::start().await;
    env.run(&["publish", "orders/order-placed", "v1.json", "--version", "1.0.0"])
        .await
        .expect_code(0);
    let url = env.server.url();
    let cmd = env.work.cmd(&["--registry", &url, "watch"]);
    let mut child = tokio::process::Command::from(cmd)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn accord watch");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().unwrap();
    assert!(first.contains("published"), "{first}");
    // Like `accord watch | head -1`: the reader leaves, then an event comes.
    drop(lines);
    env.run(&["deprecate", "orders/order-placed@1.0.0", "--message", "gone"])
        .await
        .expect_code(0);
    let out = child.wait_with_output().await.expect("accord watch ends");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breaking_change_is_refused_until_the_major_bump_announces_it() {
    let env = Env::start().await;
    env.work
        .write("v2.json", &V1.replace("\"string\"", "\"integer\""));
    env.run(&["publish", "orders/order-placed", "v1.json", "--version", "1.0.0"])
        .await
        .expect_code(0);

    let refused = env
        .run(&[
            "publish",
            "orders/order-placed",
            "v2.json",
            "--version",
            "1.1.0",
            "--format",
            "json",
        ])
        .await
        .expect_code(1);
    let report = json(&refused);
    assert_eq!(report["registry"]["verdict"], "incompatible");
    assert_eq!(report["registry"]["smallest_acceptable_version"], "2.0.0");
    assert_eq!(report["required_bump"], "major");
    let breaking: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["compatible"] == false)
        .collect();
    assert_eq!(breaking.len(), 1, "{report}");
    assert_eq!(breaking[0]["new_path"], "#/properties/id");
    assert_eq!(breaking[0]["line"], 4, "the line of `id` in v2.json");

    let annotations = env
        .run(&[
            "check",
            "v2.json",
            "--contract",
            "orders/order-placed",
            "--version",
            "1.1.0",
            "--format",
            "github",
        ])
        .await
        .expect_code(1);
    assert!(
        annotations
            .stdout
            .starts_with("::error file=v2.json,line=4,title="),
        "{}",
        annotations.stdout
    );

    // Without a version a break is refused all the same: the registry
    // assigns patch and minor versions only, and names the major to announce.
    let dry = env
        .run(&[
            "check",
            "v2.json",
            "--contract",
            "orders/order-placed",
            "--format",
            "github",
        ])
        .await
        .expect_code(1);
    assert!(
        dry.stdout.starts_with("::error file=v2.json,line=4,"),
        "{}",
        dry.stdout
    );
    let unpinned = json(
        &env.run(&["publish", "orders/order-placed", "v2.json", "--format", "json"])
            .await
            .expect_code(1),
    );
    assert_eq!(unpinned["registry"]["verdict"], "incompatible");
    assert_eq!(unpinned["registry"]["smallest_acceptable_version"], "2.0.0");
    let latest = env.run(&["get", "orders/order-placed"]).await.expect_code(0);
    assert_eq!(latest.stdout, V1, "nothing was stored");

    // Announced, the break is published.
    let published = json(
        &env.run(&[
            "publish",
            "orders/order-placed",
            "v2.json",
            "--version",
            "2.0.0",
            "--format",
            "json",
        ])
        .await
        .expect_code(0),
    );
    assert_eq!(published["registry"]["version"], "2.0.0");
    assert_eq!(published["registry"]["predecessor_version"], "1.0.0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_registrys_warnings_are_printed_on_stderr_and_stdout_stays_json() {
    let env = Env::start().await;
    env.work.write(
        "dialect.json",
        r#"{"$schema": "https://example.com/dialect/v1", "type": "object"}"#,
    );
    let run = env
        .run(&[
            "check",
            "dialect.json",
            "--contract",
            "orders/dialect",
            "--format",
            "json",
        ])
        .await
        .expect_code(0);
    assert!(
        run.stderr.contains("warning: orders/dialect: #/$schema"),
        "{}",
        run.stderr
    );
    let _ = json(&run);
    let run = env
        .run(&["publish", "orders/dialect", "dialect.json", "--version", "1.0.0"])
        .await
        .expect_code(0);
    assert!(
        run.stderr.contains("warning: orders/dialect: #/$schema"),
        "{}",
        run.stderr
    );
}
