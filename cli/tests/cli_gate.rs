//! `accord` as a CI gate, through the real binary against a real registry:
//! a break fails unless its version announces it, every outcome comes in
//! the format asked for, a manifest run reports every contract, and the
//! reports say what to do.

mod common;

use accord_registry::auth::{Role, tokens};
use accord_tests::TestServer;
use common::{Workdir, accord, accord_at, dead_address, junit_tally, run_async as run, sarif};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

/// A closed object with `id` of type `id_type`.
fn order(id_type: &str) -> String {
    format!(
        "{{\n  \"type\": \"object\",\n  \"additionalProperties\": false,\n  \"properties\": {{\n    \"id\": {{ \"type\": \"{id_type}\" }}\n  }},\n  \"required\": [\"id\"]\n}}\n"
    )
}

/// `order("string")` with an optional `note`: a compatible (minor) change.
const WITH_NOTE: &str = r#"{"type": "object", "additionalProperties": false, "properties": {"id": {"type": "string"}, "note": {"type": "string"}}, "required": ["id"]}"#;

const OTHER: &str = r#"{"type": "string", "maxLength": 10}"#;

/// A registry and a working directory holding `files`.
async fn setup(files: &[(&str, &str)]) -> (TestServer, String, Workdir) {
    let server = TestServer::start().await;
    let url = server.url();
    let work = Workdir::new();
    for (name, text) in files {
        work.write(name, text);
    }
    (server, url, work)
}

#[track_caller]
fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "{part:?} not in:\n{text}");
}

#[track_caller]
fn assert_starts(text: &str, start: &str) {
    assert!(text.starts_with(start), "does not start with {start:?}:\n{text}");
}

#[track_caller]
fn assert_ends(text: &str, end: &str) {
    assert!(text.ends_with(end), "does not end with {end:?}:\n{text}");
}

/// The lines of `out` that are workflow commands.
fn commands(out: &str) -> Vec<&str> {
    out.lines().filter(|l| l.starts_with("::")).collect()
}

/// The fenced blocks of `lang` in the README's "In CI" example, in order.
fn readme_blocks(lang: &str) -> Vec<String> {
    common::fenced(common::readme_part("What a break looks like."), lang)
}

/// What a console block shows after `$ command`, up to the next prompt.
fn console_output<'a>(block: &'a str, command: &str) -> Vec<&'a str> {
    block
        .lines()
        .skip_while(|l| *l != format!("$ {command}"))
        .skip(1)
        .take_while(|l| !l.starts_with("$ "))
        .collect()
}

/// Witnesses are the engine's choice: compared by their place only.
fn without_witness(line: &str) -> String {
    match (line.find("e.g. "), line.find("}. ")) {
        (Some(start), Some(end)) if start < end => {
            format!("{}e.g. <witness>{}", &line[..start], &line[end + 1..])
        }
        _ => line.to_owned(),
    }
}

#[track_caller]
fn assert_console(out: &str, shown: &[&str]) {
    let got: Vec<String> = out.lines().map(without_witness).collect();
    let want: Vec<String> = shown.iter().map(|l| without_witness(l)).collect();
    assert_eq!(
        got,
        want,
        "the README shows:\n{}\naccord printed:\n{out}",
        shown.join("\n")
    );
}

/// The README's CI example, run as written: the manifest and schema it
/// shows, the commands it shows, the output it shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_ci_flow_fails_on_a_break_and_passes_once_it_is_announced() {
    let toml = readme_blocks("toml");
    let json = readme_blocks("json");
    let console = readme_blocks("console");
    assert_eq!(
        (toml.len(), json.len(), console.len()),
        (1, 1, 2),
        "the README's CI example changed shape"
    );
    let (manifest, after) = (&toml[0], &json[0]);
    let before = after.replace("\"integer\"", "\"number\"");
    assert_ne!(
        &before, after,
        "the example changes a type from number to integer"
    );

    let (_server, url, work) =
        setup(&[("schemas/order-placed.json", &before), ("accord.toml", manifest)]).await;
    let first = accord_at(&work, &url, &["publish"], 0).await;
    assert_starts(
        &first.stdout,
        "✓ orders/order-placed (schemas/order-placed.json): published as 1.0.0\n",
    );

    // The pull request's change: the check fails as the README shows.
    work.write("schemas/order-placed.json", after);
    let check = accord_at(&work, &url, &["check", "--format", "github"], 1).await;
    assert_console(
        &check.stdout,
        &console_output(&console[0], "accord check --format github"),
    );
    // On merge, the unpinned break is not published either.
    let publish = accord_at(&work, &url, &["publish"], 1).await;
    assert_starts(
        &publish.stdout,
        "✗ orders/order-placed (schemas/order-placed.json): refused: needs a major version\n",
    );
    let latest = accord_at(&work, &url, &["get", "orders/order-placed"], 0).await;
    assert_eq!(latest.stdout, before, "nothing was stored");

    // The version announces the break: the check passes with a warning,
    // and the publish stores 2.0.0.
    work.write("accord.toml", &format!("{manifest}version = \"2.0.0\"\n"));
    let check = accord_at(&work, &url, &["check", "--format", "github"], 0).await;
    assert_console(
        &check.stdout,
        &console_output(&console[1], "accord check --format github"),
    );
    let publish = accord_at(&work, &url, &["publish"], 0).await;
    let shown: Vec<&str> = console_output(&console[1], "accord publish")
        .into_iter()
        .take_while(|l| l.trim() != "…")
        .collect();
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert_console(
        &publish
            .stdout
            .lines()
            .take(shown.len())
            .collect::<Vec<_>>()
            .join("\n"),
        &shown,
    );
    let latest = accord_at(&work, &url, &["get", "orders/order-placed"], 0).await;
    assert_eq!(&latest.stdout, after);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_contract_of_a_manifest_runs_and_the_worst_outcome_wins() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tokens.json");
    let ci = tokens::create(&file, "ci", Role::Publisher, &["orders".into()]).unwrap();
    let admin = tokens::create(&file, "ops", Role::Admin, &[]).unwrap();
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), move |c| {
        c.security.auth_file = Some(file);
    })
    .await;
    let url = server.url();
    let work = Workdir::new();
    work.write("order.json", &order("string"));
    work.write("other.json", OTHER);
    let mut setup = accord(
        &work,
        &url,
        &["publish", "orders/late", "order.json", "--version", "1.2.0"],
    );
    setup.env("ACCORD_TOKEN", &admin);
    run(setup).await.expect_code(0);
    work.write(
        "accord.toml",
        r#"
[[contract]]
name = "orders/late"
schema = "order.json"
version = "1.1.0"

[[contract]]
name = "billing/invoice"
schema = "other.json"
version = "1.0.0"

[[contract]]
name = "orders/broken"
schema = "missing.json"

[[contract]]
name = "orders/placed"
schema = "order.json"
version = "1.0.0"
"#,
    );
    let as_ci = |args: &[&str]| {
        let mut cmd = accord(&work, &url, args);
        cmd.env("ACCORD_TOKEN", &ci);
        cmd
    };

    // The refusal, the denial and the bad file do not stop the last one.
    let published = run(as_ci(&["publish"])).await.expect_code(2);
    assert_ends(
        &published.stdout,
        "\n4 contracts: 1 accepted, 1 refused, 2 errors\n",
    );
    assert_contains(
        &published.stdout,
        "✓ orders/placed (order.json): published as 1.0.0",
    );
    assert_contains(&published.stderr, "\"billing\"");
    assert_contains(&published.stderr, "missing.json");
    accord_at(&work, &url, &["--token", &ci, "get", "orders/placed"], 0).await;

    let junit = run(as_ci(&["check", "--format", "junit"])).await.expect_code(2);
    assert_eq!(junit_tally(&junit.stdout), (4, 1, 2), "{}", junit.stdout);

    let json = run(as_ci(&["check", "--format", "json"]))
        .await
        .expect_code(2)
        .json();
    assert_eq!(json["compatible"], false);
    assert_eq!(
        json["summary"],
        serde_json::json!({"contracts": 4, "accepted": 1, "refused": 1, "errors": 2})
    );
    let contracts = json["contracts"].as_array().unwrap();
    assert_eq!(contracts[0]["registry"]["verdict"], "version_too_low");
    assert_eq!(contracts[1]["error"]["kind"], "permission_denied");
    assert_eq!(contracts[2]["error"]["kind"], "invalid_input");
    assert_eq!(contracts[3]["registry"]["verdict"], "already_published");
    assert_eq!(json["error"], Value::Null);

    let github = run(as_ci(&["check", "--format", "github"])).await.expect_code(2);
    assert!(
        github
            .stdout
            .lines()
            .any(|l| l.starts_with("::error file=other.json,title=billing/invoice%3A not checked::")),
        "{}",
        github.stdout
    );

    let log = run(as_ci(&["check", "--format", "sarif"])).await.expect_code(2);
    sarif(&log.stdout);
    let raw: Value = serde_json::from_str(&log.stdout).unwrap();
    let invocation = &raw["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert_eq!(
        invocation["toolExecutionNotifications"].as_array().map(Vec::len),
        Some(2),
        "{invocation}"
    );
}

#[test]
fn errors_still_make_a_well_formed_report_in_every_format() {
    let work = Workdir::new();
    work.write("order.json", &order("string"));
    let (_socket, address) = dead_address();
    let single = ["check", "order.json", "--contract", "orders/placed", "--format"];
    let with = |format: &str| {
        let mut args = vec!["--registry", address.as_str()];
        args.extend_from_slice(&single);
        args.push(format);
        work.run(&args).expect_code(2)
    };

    let json_run = with("json");
    // The message is on stderr as well, for a person reading the log.
    assert_contains(
        &json_run.stderr,
        &format!("cannot reach the registry at {address}"),
    );
    let json = json_run.json();
    assert_eq!(json["error"]["kind"], "unreachable");
    let message = json["error"]["message"].as_str().unwrap();
    assert!(message.contains(&address), "{message}");
    assert_eq!(json["contract"], "orders/placed");
    assert_eq!(json["schema_file"], "order.json");

    let junit = with("junit");
    assert_eq!(junit_tally(&junit.stdout), (1, 0, 1), "{}", junit.stdout);
    assert_contains(&junit.stdout, r#"type="unreachable""#);

    let log = with("sarif");
    sarif(&log.stdout);
    let raw: Value = serde_json::from_str(&log.stdout).unwrap();
    assert_eq!(raw["runs"][0]["invocations"][0]["executionSuccessful"], false);
    let text = raw["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]
        .as_str()
        .unwrap();
    assert!(
        text.starts_with("orders/placed: cannot reach the registry"),
        "{text}"
    );
    assert_eq!(raw["runs"][0]["tool"]["driver"].get("informationUri"), None);

    let github = with("github");
    assert_starts(
        &github.stdout,
        "::error file=order.json,title=orders/placed%3A not checked::cannot reach the registry",
    );

    // A manifest: one test case per contract, each with the error.
    work.write(
        "accord.toml",
        "[[contract]]\nname = \"orders/a\"\nschema = \"order.json\"\n\n[[contract]]\nname = \"orders/b\"\nschema = \"order.json\"\n",
    );
    let junit = work
        .run(&["--registry", &address, "check", "--format", "junit"])
        .expect_code(2);
    assert_eq!(junit_tally(&junit.stdout), (2, 0, 2), "{}", junit.stdout);

    // No manifest at all: the run's error, still in the format asked for.
    std::fs::remove_file(work.path().join("accord.toml")).unwrap();
    let junit = work.run(&["check", "--format", "junit"]).expect_code(2);
    assert_eq!(junit_tally(&junit.stdout), (1, 0, 1), "{}", junit.stdout);
    assert_contains(&junit.stdout, r#"name="accord.toml""#);
    let json = work.run(&["publish", "--format", "json"]).expect_code(2).json();
    assert_eq!(json["error"]["kind"], "invalid_input");
    assert!(
        json["error"]["message"].as_str().unwrap().contains("accord.toml"),
        "{json}"
    );

    // A mistyped flag: the report still comes, and says what was wrong.
    let junit = work
        .run(&["check", "--format", "junit", "--manifets", "x.toml"])
        .expect_code(2);
    assert_eq!(junit_tally(&junit.stdout), (1, 0, 1), "{}", junit.stdout);
    assert_contains(&junit.stdout, "--manifets");
    let json = work
        .run(&["check", "--bogus", "--format=json"])
        .expect_code(2)
        .json();
    assert_eq!(json["error"]["kind"], "usage");

    // Other commands with --format json answer errors in JSON too.
    let json = work
        .run(&["--registry", &address, "list", "--format", "json"])
        .expect_code(2)
        .json();
    assert_eq!(json["error"]["kind"], "unreachable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_are_relative_to_the_repository_root() {
    let (_server, url, work) = setup(&[
        ("repo/contracts/schemas/order.json", &order("string")),
        (
            "repo/contracts/accord.toml",
            "[[contract]]\nname = \"orders/placed\"\nschema = \"schemas/order.json\"\nversion = \"1.0.0\"\n",
        ),
    ])
    .await;
    let manifest = ["--manifest", "repo/contracts/accord.toml"];
    let mut args = vec!["publish"];
    args.extend(manifest);
    run(accord(&work, &url, &args)).await.expect_code(0);
    work.write("repo/contracts/schemas/order.json", &order("integer"));
    work.write(
        "repo/contracts/accord.toml",
        "[[contract]]\nname = \"orders/placed\"\nschema = \"schemas/order.json\"\nversion = \"1.1.0\"\n",
    );
    let check = |format: &'static str, workspace: Option<std::path::PathBuf>| {
        let mut args = vec!["check", "--format", format];
        args.extend(manifest);
        let mut cmd = accord(&work, &url, &args);
        if let Some(dir) = workspace {
            cmd.env("GITHUB_WORKSPACE", dir);
        }
        run(cmd)
    };

    // Without GITHUB_WORKSPACE, the manifest's directory is the root.
    let github = check("github", None).await.expect_code(1);
    assert_starts(&github.stdout, "::error file=schemas/order.json,line=5,");
    // With it, paths start at the workspace, wherever accord runs.
    let repo = work.path().join("repo");
    let github = check("github", Some(repo.clone())).await.expect_code(1);
    assert_starts(
        &github.stdout,
        "::error file=contracts/schemas/order.json,line=5,",
    );
    let log = check("sarif", Some(repo.clone())).await.expect_code(1);
    let raw: Value = serde_json::from_str(&log.stdout).unwrap();
    assert_eq!(
        raw["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "contracts/schemas/order.json"
    );
    let junit = check("junit", Some(repo.clone())).await.expect_code(1);
    assert_contains(&junit.stdout, r#"file="contracts/schemas/order.json""#);

    // A file named on the command line: relative to the workspace too.
    let absolute = repo.join("contracts/schemas/order.json");
    let mut cmd = accord(
        &work,
        &url,
        &[
            "check",
            absolute.to_str().unwrap(),
            "--contract",
            "orders/placed",
            "--version",
            "1.1.0",
            "--format",
            "github",
        ],
    );
    cmd.env("GITHUB_WORKSPACE", &repo);
    let github = run(cmd).await.expect_code(1);
    assert_starts(
        &github.stdout,
        "::error file=contracts/schemas/order.json,line=5,",
    );
}

/// Every situation answered by a check and then by a publish of the same
/// change: the two JSON reports are the same, field for field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_and_publish_report_the_same_situation_alike() {
    let (_server, url, work) = setup(&[
        ("v1.json", &order("string")),
        ("note.json", WITH_NOTE),
        ("broken.json", &order("integer")),
    ])
    .await;
    accord_at(
        &work,
        &url,
        &["publish", "orders/placed", "v1.json", "--version", "1.0.0"],
        0,
    )
    .await;
    for (file, version, code, verdict) in [
        ("note.json", Some("1.1.0"), 0, "accepted"),
        ("note.json", Some("1.1.0"), 0, "already_published"),
        ("v1.json", Some("1.0.5"), 1, "version_too_low"),
        ("broken.json", Some("1.1.0"), 1, "version_exists"),
        ("broken.json", None, 1, "incompatible"),
        ("broken.json", Some("1.2.0"), 1, "incompatible"),
        ("note.json", None, 0, "already_published"),
    ] {
        let mut args = vec![file];
        if let Some(version) = version {
            args.extend(["--version", version]);
        }
        args.extend(["--format", "json"]);
        let mut check_args = vec!["check"];
        check_args.extend(&args);
        check_args.extend(["--contract", "orders/placed"]);
        let mut publish_args = vec!["publish", "orders/placed"];
        publish_args.extend(&args);
        let checked = run(accord(&work, &url, &check_args))
            .await
            .expect_code(code)
            .json();
        let published = run(accord(&work, &url, &publish_args))
            .await
            .expect_code(code)
            .json();
        assert_eq!(checked["registry"]["verdict"], verdict, "{checked}");
        assert_eq!(checked, published, "{file} {version:?}");
    }
}

/// Where `value` holds an empty string, witnesses aside (a document that
/// shows a break may well hold one).
fn empty_strings(value: &Value, at: &str, out: &mut Vec<String>) {
    match value {
        Value::String(s) if s.is_empty() => out.push(at.to_owned()),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                empty_strings(v, &format!("{at}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map.iter().filter(|(k, _)| *k != "witness") {
                empty_strings(v, &format!("{at}/{k}"), out);
            }
        }
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absent_values_are_null_never_empty_strings() {
    let (_server, url, work) =
        setup(&[("v1.json", &order("string")), ("broken.json", &order("integer"))]).await;
    let mut reports = Vec::new();
    let first = accord_at(
        &work,
        &url,
        &["publish", "orders/placed", "v1.json", "--format", "json"],
        0,
    )
    .await
    .json();
    assert_eq!(first["registry"]["predecessor_version"], Value::Null);
    assert_eq!(first["registry"]["smallest_acceptable_version"], Value::Null);
    reports.push(first);
    let refused = accord_at(
        &work,
        &url,
        &[
            "check",
            "broken.json",
            "--contract",
            "orders/placed",
            "--format",
            "json",
        ],
        1,
    )
    .await
    .json();
    assert_eq!(
        refused["registry"]["version"],
        Value::Null,
        "no version was asked"
    );
    reports.push(refused);
    accord_at(
        &work,
        &url,
        &["publish", "orders/placed", "broken.json", "--version", "2.0.0"],
        0,
    )
    .await;
    let diff = accord_at(
        &work,
        &url,
        &["diff", "orders/placed", "1.0.0", "2.0.0", "--format", "json"],
        1,
    )
    .await
    .json();
    let findings = diff["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    assert!(
        findings.iter().all(|f| f["line"] == Value::Null),
        "stored versions have no file, so no line: {diff}"
    );
    reports.push(diff);
    let offline = work
        .run(&["check", "broken.json", "--against", "v1.json", "--format", "json"])
        .expect_code(1)
        .json();
    assert_eq!(offline["registry"], Value::Null);
    reports.push(offline);
    for report in &reports {
        let mut found = Vec::new();
        empty_strings(report, "", &mut found);
        assert!(found.is_empty(), "empty strings at {found:?} in {report}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_says_the_verdict_in_words() {
    let (_server, url, work) = setup(&[
        ("v1.json", &order("string")),
        ("note.json", WITH_NOTE),
        ("broken.json", &order("integer")),
    ])
    .await;
    let mut all = String::new();
    let first = accord_at(&work, &url, &["publish", "orders/placed", "v1.json"], 0).await;
    assert_starts(
        &first.stdout,
        "✓ orders/placed (v1.json): published as 1.0.0\n  under BACKWARD (STRICT) (first version)\n",
    );
    all.push_str(&first.stdout);
    let second = accord_at(&work, &url, &["publish", "orders/placed", "note.json"], 0).await;
    assert_starts(
        &second.stdout,
        "✓ orders/placed (note.json): published as 1.1.0\n  under BACKWARD (STRICT), compared with 1.0.0\n",
    );
    all.push_str(&second.stdout);
    let again = accord_at(
        &work,
        &url,
        &["check", "note.json", "--contract", "orders/placed"],
        0,
    )
    .await;
    assert_contains(&again.stdout, ": already published as 1.1.0\n");
    all.push_str(&again.stdout);
    let refused = accord_at(
        &work,
        &url,
        &["check", "broken.json", "--contract", "orders/placed"],
        1,
    )
    .await;
    assert_starts(
        &refused.stdout,
        "✗ orders/placed (broken.json): refused: needs a major version\n",
    );
    assert_contains(
        &refused.stdout,
        "smallest acceptable version: 2.0.0 (publish with --version 2.0.0)",
    );
    all.push_str(&refused.stdout);
    let exists = accord_at(
        &work,
        &url,
        &[
            "check",
            "broken.json",
            "--contract",
            "orders/placed",
            "--version",
            "1.0.0",
        ],
        1,
    )
    .await;
    assert_starts(
        &exists.stdout,
        "✗ orders/placed (broken.json): refused: 1.0.0 is already taken by other content\n",
    );
    all.push_str(&exists.stdout);
    assert_eq!(all.matches("(first version)").count(), 1, "{all}");
    for name in [
        "already_published",
        "version_too_low",
        "version_exists",
        "accepted\n",
    ] {
        assert!(!all.contains(name), "{name:?} in\n{all}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strict_break_that_lenient_accepts_says_so_with_the_flag() {
    let open = r#"{"type": "object", "properties": {"id": {"type": "string"}}}"#;
    let with_note =
        r#"{"type": "object", "properties": {"id": {"type": "string"}, "note": {"type": "string"}}}"#;
    let work = Workdir::new();
    work.write("open.json", open);
    work.write("note.json", with_note);

    // Offline: the flag is --policy.
    let text = work
        .run(&["check", "note.json", "--against", "open.json"])
        .expect_code(1);
    assert_contains(&text.stdout, "LENIENT accepts this change: --policy lenient");
    let report = work
        .run(&["check", "note.json", "--against", "open.json", "--format", "json"])
        .expect_code(1)
        .json();
    let found = report["findings"].as_array().unwrap();
    assert!(
        found
            .iter()
            .any(|f| f["compatible"] == false && f["lenient_accepts"] == true),
        "{report}"
    );
    // And the flag does what it says.
    work.run(&[
        "check",
        "note.json",
        "--against",
        "open.json",
        "--policy",
        "lenient",
    ])
    .expect_code(0);
    // A break LENIENT refuses too does not claim otherwise.
    work.write(
        "int.json",
        r#"{"type": "object", "properties": {"id": {"type": "integer"}}}"#,
    );
    let report = work
        .run(&["check", "int.json", "--against", "open.json", "--format", "json"])
        .expect_code(1)
        .json();
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["lenient_accepts"] == false),
        "{report}"
    );

    // Against a registry: the flag is the contract's setting.
    let server = TestServer::start().await;
    let url = server.url();
    accord_at(
        &work,
        &url,
        &["publish", "orders/open", "open.json", "--version", "1.0.0"],
        0,
    )
    .await;
    let github = accord_at(
        &work,
        &url,
        &[
            "check",
            "note.json",
            "--contract",
            "orders/open",
            "--version",
            "1.1.0",
            "--format",
            "github",
        ],
        1,
    )
    .await;
    assert_contains(
        &github.stdout,
        "LENIENT accepts this change: accord config set orders/open --policy lenient.",
    );
    accord_at(
        &work,
        &url,
        &["config", "set", "orders/open", "--policy", "lenient"],
        0,
    )
    .await;
    accord_at(
        &work,
        &url,
        &[
            "check",
            "note.json",
            "--contract",
            "orders/open",
            "--version",
            "1.1.0",
        ],
        0,
    )
    .await;
}

#[test]
fn forward_findings_speak_of_old_readers_of_new_data() {
    let work = Workdir::new();
    work.write("v1.json", r#"{"type": "string", "maxLength": 10}"#);
    work.write("longer.json", r#"{"type": "string", "maxLength": 20}"#);
    let github = work
        .run(&[
            "check",
            "longer.json",
            "--against",
            "v1.json",
            "--mode",
            "forward",
            "--format",
            "github",
        ])
        .expect_code(1);
    let errors = commands(&github.stdout);
    assert_eq!(errors.len(), 1, "{}", github.stdout);
    assert_contains(errors[0], "Old readers reject new data, e.g. \"");
    assert_ends(errors[0], "The change needs a major version.");
    let text = work
        .run(&[
            "check",
            "longer.json",
            "--against",
            "v1.json",
            "--mode",
            "forward",
        ])
        .expect_code(1);
    assert_contains(&text.stdout, "forward: about old readers of new data");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_fails_when_the_registry_goes_away() {
    let (server, url, work) = setup(&[("v1.json", &order("string"))]).await;
    accord_at(&work, &url, &["publish", "orders/placed", "v1.json"], 0).await;
    let mut child = tokio::process::Command::from(accord(&work, &url, &["watch"]))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn accord watch");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().expect("an event");
    assert!(first.contains("published"), "{first}");
    let sequence = first.split_whitespace().next().unwrap().to_owned();
    server.stop().await;
    let out = child.wait_with_output().await.expect("accord watch ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("ended the event stream"), "{stderr}");
    assert!(
        stderr.contains(&format!("resume with --from {sequence}")),
        "{stderr}"
    );
}
