//! Consumers through the real `accord` binary against a real registry:
//! registering readings, can-i-deploy in every format, check and publish
//! reporting what a version does to each consumer, waivers and their
//! expiry, the `[[consumes]]` entries of accord.toml, and the guard of
//! deprecations. Witnesses are checked with a real validator.

mod common;

use std::time::Duration;

use accord_tests::TestServer;
use common::{Workdir, accord_at, fenced, junit_tally, sarif};
use serde_json::Value;

/// Closed: only `id`.
const CLOSED: &str = r#"{"type": "object", "additionalProperties": false, "properties": {"id": {"type": "string"}}, "required": ["id"]}"#;
/// CLOSED with an optional `note`: version to version, a minor change.
const WITH_NOTE: &str = r#"{"type": "object", "additionalProperties": false, "properties": {"id": {"type": "string"}, "note": {"type": "string"}}, "required": ["id"]}"#;
/// WITH_NOTE with a title: an annotation more.
const TITLED: &str = r#"{"type": "object", "title": "placed", "additionalProperties": false, "properties": {"id": {"type": "string"}, "note": {"type": "string"}}, "required": ["id"]}"#;

/// A registry with orders/placed 1.0.0 (CLOSED), and a working directory
/// with the schemas; billing registered with CLOSED as its reader when
/// `billing`.
async fn setup(billing: bool) -> (TestServer, String, Workdir) {
    let server = TestServer::start().await;
    let url = server.url();
    let work = Workdir::new();
    work.write("closed.json", CLOSED);
    work.write("note.json", WITH_NOTE);
    work.write("titled.json", TITLED);
    accord_at(
        &work,
        &url,
        &["publish", "orders/placed", "closed.json", "--version", "1.0.0"],
        0,
    )
    .await;
    if billing {
        let run = accord_at(
            &work,
            &url,
            &[
                "consumer",
                "register",
                "billing",
                "--reads",
                "orders/placed@^1",
                "--reader",
                "closed.json",
            ],
            0,
        )
        .await;
        assert_contains(&run.stdout, "billing registered as a reader");
    }
    (server, url, work)
}

#[track_caller]
fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "{part:?} not in:\n{text}");
}

/// Asserts that `witness` is accepted by `accepting` and rejected by
/// `rejecting`.
#[track_caller]
fn shows_the_break(witness: &Value, accepting: &str, rejecting: &str) {
    let compile = |text: &str| jsonschema::validator_for(&serde_json::from_str(text).unwrap()).unwrap();
    assert!(compile(accepting).is_valid(witness), "{witness}");
    assert!(!compile(rejecting).is_valid(witness), "{witness}");
}

/// `accord check FILE --contract orders/placed --format json`, its exit
/// code asserted, its report.
async fn check_json(work: &Workdir, url: &str, file: &str, code: i32) -> Value {
    let args = ["check", file, "--contract", "orders/placed", "--format", "json"];
    accord_at(work, url, &args, code).await.json()
}

fn impact<'a>(report: &'a Value, consumer: &str) -> &'a Value {
    report["consumer_impacts"]
        .as_array()
        .unwrap_or_else(|| panic!("no consumer_impacts in {report}"))
        .iter()
        .find(|i| i["consumer"] == consumer)
        .unwrap_or_else(|| panic!("no impact for {consumer} in {report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_that_breaks_a_registered_closed_reader_is_refused_naming_it_in_every_format() {
    let (_server, url, work) = setup(true).await;
    let publish = accord_at(&work, &url, &["publish", "orders/placed", "note.json"], 1).await;
    assert_contains(&publish.stdout, "refused: breaks registered consumer(s) billing");
    assert_contains(
        &publish.stdout,
        "billing  ^1  BREAKS its reader  refuses the publish",
    );
    assert_contains(&publish.stdout, "smallest acceptable version: 2.0.0");
    // Nothing was stored.
    let versions = accord_at(&work, &url, &["versions", "orders/placed", "--format", "json"], 0).await;
    assert_eq!(versions.json()["versions"].as_array().unwrap().len(), 1);

    let json = check_json(&work, &url, "note.json", 1).await;
    assert_eq!(json["registry"]["verdict"], "incompatible");
    assert_eq!(json["registry"]["smallest_acceptable_version"], "2.0.0");
    let billing = impact(&json, "billing");
    assert_eq!(billing["outcome"], "BREAKS");
    assert_eq!(billing["refuses"], true);
    assert_eq!(billing["reader"], true);
    shows_the_break(&billing["findings"][0]["witness"], WITH_NOTE, CLOSED);
    // A check and a publish give the same report.
    let refused = accord_at(
        &work,
        &url,
        &["publish", "orders/placed", "note.json", "--format", "json"],
        1,
    )
    .await
    .json();
    assert_eq!(refused["consumer_impacts"], json["consumer_impacts"]);

    let github = accord_at(
        &work,
        &url,
        &[
            "check",
            "note.json",
            "--contract",
            "orders/placed",
            "--format",
            "github",
        ],
        1,
    )
    .await;
    let errors: Vec<&str> = github
        .stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert_eq!(errors.len(), 1, "{}", github.stdout);
    assert_contains(errors[0], "title=orders/placed%3A breaks consumer billing::");
    assert_contains(errors[0], "accord waiver create");

    let junit = accord_at(
        &work,
        &url,
        &[
            "check",
            "note.json",
            "--contract",
            "orders/placed",
            "--format",
            "junit",
        ],
        1,
    )
    .await;
    // The contract's case (refused) and billing's (broken).
    assert_eq!(junit_tally(&junit.stdout), (2, 2, 0), "{}", junit.stdout);
    assert_contains(&junit.stdout, "orders/placed → consumer billing");

    let log = accord_at(
        &work,
        &url,
        &[
            "check",
            "note.json",
            "--contract",
            "orders/placed",
            "--format",
            "sarif",
        ],
        1,
    )
    .await;
    sarif(&log.stdout);
    let raw: Value = serde_json::from_str(&log.stdout).unwrap();
    let results = raw["runs"][0]["results"].as_array().unwrap();
    let broken: Vec<&Value> = results
        .iter()
        .filter(|r| r["ruleId"] == "CONSUMER_BREAKS")
        .collect();
    assert_eq!(broken.len(), 1);
    assert_eq!(broken[0]["level"], "error");
    assert_eq!(broken[0]["properties"]["consumer"], "billing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiver_lets_the_break_through_as_waived_and_once_expired_the_break_counts_again() {
    let (_server, url, work) = setup(true).await;
    let created = accord_at(
        &work,
        &url,
        &[
            "waiver",
            "create",
            "orders/placed",
            "--consumer",
            "billing",
            "--reason",
            "billing deploys its new reader first",
            "--expires",
            "3s",
            "--format",
            "json",
        ],
        0,
    )
    .await
    .json();
    let id = created["waiver"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["waiver"]["approver"], "anonymous");
    assert_eq!(created["waiver"]["state"], "active");

    let published = accord_at(
        &work,
        &url,
        &["publish", "orders/placed", "note.json", "--format", "json"],
        0,
    )
    .await
    .json();
    assert_eq!(published["registry"]["version"], "1.1.0");
    let billing = impact(&published, "billing");
    assert_eq!(billing["outcome"], "WAIVED");
    assert_eq!(billing["waivers"][0]["id"], id.as_str());
    assert_eq!(
        billing["waivers"][0]["expires_at"],
        created["waiver"]["expires_at"]
    );

    // After the expiry, the next break of billing is refused again: the
    // check is polled, bounded, past the expiry.
    let mut refused = None;
    for _ in 0..300 {
        let run = common::run_async(common::accord(
            &work,
            &url,
            &[
                "check",
                "titled.json",
                "--contract",
                "orders/placed",
                "--format",
                "json",
            ],
        ))
        .await;
        if run.code == 1 {
            refused = Some(run.json());
            break;
        }
        assert_eq!(run.code, 0, "{}", run.stderr);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refused = refused.expect("the break never counted again");
    assert_eq!(impact(&refused, "billing")["outcome"], "BREAKS");
    let listed = accord_at(&work, &url, &["waiver", "list", "--all", "--format", "json"], 0)
        .await
        .json();
    assert_eq!(listed["waivers"][0]["state"], "expired");
    let active = accord_at(&work, &url, &["waiver", "list", "--format", "json"], 0)
        .await
        .json();
    assert_eq!(active["waivers"], serde_json::json!([]));

    // A waiver of every consumer, for the rule that fires, covers the
    // break again until it is revoked.
    let rule = impact(&refused, "billing")["findings"][0]["rule"]
        .as_str()
        .unwrap()
        .to_owned();
    let every = accord_at(
        &work,
        &url,
        &[
            "waiver",
            "create",
            "orders/placed",
            "--all-consumers",
            "--rule",
            &rule,
            "--reason",
            "nobody reads the title",
            "--expires",
            "2099-12-31",
            "--format",
            "json",
        ],
        0,
    )
    .await
    .json();
    assert_eq!(every["waiver"]["consumer"], Value::Null);
    assert_eq!(every["waiver"]["rules"], serde_json::json!([rule]));
    assert_eq!(every["waiver"]["expires_at"], "2099-12-31T23:59:59Z");
    let waived = check_json(&work, &url, "titled.json", 0).await;
    assert_eq!(impact(&waived, "billing")["outcome"], "WAIVED");
    let id = every["waiver"]["id"].as_str().unwrap();
    let revoked = accord_at(&work, &url, &["waiver", "revoke", id], 0).await;
    assert_contains(&revoked.stdout, "revoked waiver");
    check_json(&work, &url, "titled.json", 1).await;
    let err = accord_at(
        &work,
        &url,
        &[
            "waiver",
            "create",
            "orders/placed",
            "--reason",
            "r",
            "--expires",
            "1d",
        ],
        2,
    )
    .await;
    assert_contains(&err.stderr, "--consumer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_major_version_is_not_affected_for_caret_one_consumers() {
    let (_server, url, work) = setup(true).await;
    let published = accord_at(
        &work,
        &url,
        &[
            "publish",
            "orders/placed",
            "note.json",
            "--version",
            "2.0.0",
            "--format",
            "json",
        ],
        0,
    )
    .await
    .json();
    assert_eq!(impact(&published, "billing")["outcome"], "NOT_AFFECTED");
    let text = accord_at(
        &work,
        &url,
        &[
            "check",
            "titled.json",
            "--contract",
            "orders/placed",
            "--version",
            "2.0.1",
        ],
        0,
    )
    .await;
    assert_contains(&text.stdout, "billing  ^1  NOT_AFFECTED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn can_i_deploy_fails_for_a_reader_that_rejects_a_live_version_in_every_format() {
    let (_server, url, work) = setup(false).await;
    accord_at(
        &work,
        &url,
        &["publish", "orders/placed", "note.json", "--version", "1.1.0"],
        0,
    )
    .await;
    let args = |format: &'static str| {
        vec![
            "can-i-deploy",
            "billing",
            "--reads",
            "orders/placed@^1",
            "--reader",
            "closed.json",
            "--format",
            format,
        ]
    };
    let text = accord_at(&work, &url, &args("text"), 1).await;
    assert_contains(
        &text.stdout,
        "billing reads orders/placed ^1 with reader closed.json: billing cannot deploy",
    );
    assert_contains(&text.stdout, "1.0.0 OK, 1.1.0 BREAKS");
    assert_contains(&text.stdout, "for example, 1.1.0 accepts and the reader rejects");

    let json = accord_at(&work, &url, &args("json"), 1).await.json();
    assert_eq!(json["compatible"], false);
    assert_eq!(json["consumer"]["consumer"], "billing");
    assert_eq!(json["consumer"]["resolves_to"], "1.1.0");
    assert_eq!(
        json["consumer"]["versions"],
        serde_json::json!([{"version": "1.0.0", "outcome": "OK"}, {"version": "1.1.0", "outcome": "BREAKS"}])
    );
    assert_eq!(json["findings"][0]["against"], "1.1.0");
    shows_the_break(&json["findings"][0]["witness"], WITH_NOTE, CLOSED);

    let github = accord_at(&work, &url, &args("github"), 1).await;
    assert!(github.stdout.starts_with("::error file=closed.json,line=1,title=orders/placed%3A PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"), "{}", github.stdout);
    assert_contains(&github.stdout, "The reader rejects documents 1.1.0 accepts");
    assert_eq!(
        junit_tally(&accord_at(&work, &url, &args("junit"), 1).await.stdout),
        (1, 1, 0)
    );
    let log = accord_at(&work, &url, &args("sarif"), 1).await;
    assert_eq!(sarif(&log.stdout).runs[0].results.as_ref().unwrap().len(), 1);

    // The reader that reads notes may deploy; so may a ~1.0 reading.
    accord_at(
        &work,
        &url,
        &[
            "can-i-deploy",
            "billing",
            "--reads",
            "orders/placed@^1",
            "--reader",
            "note.json",
        ],
        0,
    )
    .await;
    accord_at(
        &work,
        &url,
        &[
            "can-i-deploy",
            "billing",
            "--reads",
            "orders/placed@~1.0",
            "--reader",
            "closed.json",
        ],
        0,
    )
    .await;
    // Errors are exit 2, in the format asked for.
    let bad = accord_at(
        &work,
        &url,
        &[
            "can-i-deploy",
            "billing",
            "--reads",
            "orders/placed",
            "--format",
            "json",
        ],
        2,
    )
    .await;
    assert_contains(
        &bad.json()["error"]["message"].to_string(),
        "requirement is missing",
    );
    let unknown = accord_at(
        &work,
        &url,
        &[
            "can-i-deploy",
            "billing",
            "--reads",
            "orders/nothing@^1",
            "--format",
            "json",
        ],
        2,
    )
    .await;
    assert_eq!(unknown.json()["error"]["kind"], "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_repository_checks_its_readings_and_registers_them_from_accord_toml() {
    let (_server, url, work) = setup(false).await;
    work.write(
        "accord.toml",
        "consumer = \"billing\"\n\n[[consumes]]\ncontract = \"orders/placed\"\nrequirement = \"^1\"\nreader = \"closed.json\"\n\n[[consumes]]\ncontract = \"orders/placed\"\nrequirement = \"^1\"\nconsumer = \"audit\"\n",
    );
    let check = accord_at(&work, &url, &["check"], 0).await;
    assert_contains(
        &check.stdout,
        "billing reads orders/placed ^1 with reader closed.json: billing can deploy",
    );
    assert_contains(&check.stdout, "2 entries: 2 accepted, 0 refused, 0 errors");
    // Nothing is registered by a check.
    let listed = accord_at(
        &work,
        &url,
        &["consumers", "orders/placed", "--format", "json"],
        0,
    )
    .await
    .json();
    assert_eq!(listed["consumers"], serde_json::json!([]));
    let publish = accord_at(&work, &url, &["publish", "--format", "json"], 0)
        .await
        .json();
    assert_eq!(publish["contracts"][0]["consumer"]["registered"], true);
    let table = accord_at(&work, &url, &["consumers", "orders/placed"], 0).await;
    let lines: Vec<&str> = table.stdout.lines().collect();
    assert!(
        lines[0].starts_with("CONSUMER  CONTRACT       REQUIREMENT  RESOLVES TO  READER  LAST REGISTERED"),
        "{}",
        table.stdout
    );
    assert!(
        lines[1].starts_with("audit     orders/placed  ^1           1.0.0        no"),
        "{}",
        table.stdout
    );
    assert!(
        lines[2].starts_with("billing   orders/placed  ^1           1.0.0        yes"),
        "{}",
        table.stdout
    );
    // Publishing again registers nothing new.
    let again = accord_at(&work, &url, &["publish"], 0).await;
    assert_contains(&again.stdout, "billing was registered already");
    // And producers now see them.
    let checked = check_json(&work, &url, "note.json", 1).await;
    assert_eq!(impact(&checked, "billing")["outcome"], "BREAKS");
    assert_eq!(impact(&checked, "audit")["against_version"], "1.0.0");
    let by = accord_at(
        &work,
        &url,
        &["consumers", "--consumer", "billing", "--format", "json"],
        0,
    )
    .await
    .json();
    assert_eq!(by["consumers"][0]["contract"], "orders/placed");
    accord_at(
        &work,
        &url,
        &["consumer", "unregister", "audit", "--reads", "orders/placed"],
        0,
    )
    .await;
    let left = accord_at(
        &work,
        &url,
        &["consumers", "orders/placed", "--format", "json"],
        0,
    )
    .await
    .json();
    assert_eq!(left["consumers"].as_array().unwrap().len(), 1);
    // A manifest entry without a consumer is an error naming it.
    work.write(
        "bad/accord.toml",
        "[[consumes]]\ncontract = \"orders/placed\"\nrequirement = \"^1\"\n",
    );
    let bad = accord_at(&work, &url, &["check", "--manifest", "bad/accord.toml"], 2).await;
    assert_contains(&bad.stderr, "no consumer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deprecating_the_last_version_a_consumer_reads_needs_force_with_a_reason() {
    let (_server, url, work) = setup(true).await;
    let refused = accord_at(
        &work,
        &url,
        &["deprecate", "orders/placed@1.0.0", "-m", "use 2.x"],
        2,
    )
    .await;
    assert_contains(&refused.stderr, "billing (^1)");
    let usage = accord_at(
        &work,
        &url,
        &["deprecate", "orders/placed@1.0.0", "-m", "use 2.x", "--force"],
        2,
    )
    .await;
    assert_contains(&usage.stderr, "--reason");
    accord_at(
        &work,
        &url,
        &[
            "deprecate",
            "orders/placed@1.0.0",
            "-m",
            "use 2.x",
            "--force",
            "--reason",
            "billing moves this week",
        ],
        0,
    )
    .await;
    let refused = accord_at(
        &work,
        &url,
        &["delete", "orders/placed@1.0.0", "--hard", "--yes"],
        2,
    )
    .await;
    assert_contains(&refused.stderr, "billing");
    // Setting the contract to warn: the break is accepted and reported.
    let set = accord_at(
        &work,
        &url,
        &[
            "config",
            "set",
            "orders/placed",
            "--consumer-breaks",
            "warn",
            "--format",
            "json",
        ],
        0,
    )
    .await
    .json();
    assert_eq!(set["consumer_breaks"], "warn");
    let published = accord_at(
        &work,
        &url,
        &["publish", "orders/placed", "note.json", "--format", "github"],
        0,
    )
    .await;
    assert_contains(
        &published.stdout,
        "::warning file=note.json,line=1,title=orders/placed%3A breaks consumer billing::",
    );
}

/// The fenced blocks of `lang` in the README section "Producers and
/// consumers", in order.
fn walkthrough_blocks(lang: &str) -> Vec<String> {
    fenced(common::readme_part("\n## Producers and consumers\n"), lang)
}

/// The producer's manifest: the one of the README's CI example.
fn producer_manifest() -> String {
    fenced(common::readme_part("What a break looks like."), "toml").remove(0)
}

/// What a console block shows after `$ command`, up to the next prompt.
fn console_output(blocks: &[String], command: &str) -> Vec<String> {
    let block = blocks
        .iter()
        .find(|b| b.lines().any(|l| l == format!("$ {command}")))
        .unwrap_or_else(|| panic!("no console block runs {command:?}"));
    block
        .lines()
        .skip_while(|l| *l != format!("$ {command}"))
        .skip(1)
        .take_while(|l| !l.starts_with("$ "))
        .map(str::to_owned)
        .collect()
}

/// Witnesses (the engine's choice) and times (the clock's) compared by
/// their place only.
fn normalised(line: &str) -> String {
    let line = match (line.find("e.g. {"), line.find("}. ")) {
        (Some(start), Some(end)) if start < end => {
            format!("{}e.g. <witness>{}", &line[..start], &line[end + 1..])
        }
        _ => line.to_owned(),
    };
    line.split("  ")
        .map(|cell| {
            if cell.trim().len() == 20 && cell.trim().ends_with('Z') && cell.contains('T') {
                "<time>"
            } else {
                cell
            }
        })
        .collect::<Vec<_>>()
        .join("  ")
}

#[track_caller]
fn assert_console(out: &str, shown: &[String]) {
    let got: Vec<String> = out.lines().map(normalised).collect();
    let want: Vec<String> = shown.iter().map(|l| normalised(l)).collect();
    assert_eq!(
        got,
        want,
        "the README shows:\n{}\naccord printed:\n{out}",
        shown.join("\n")
    );
}

/// The two repositories of the walkthrough, with the registry: orders has
/// published 1.0.0 (billing's reader is a copy of it), billing has checked
/// and registered its reading, and orders' pull request adds `currency`.
struct Walkthrough {
    _server: TestServer,
    url: String,
    orders: Workdir,
    billing: Workdir,
    console: Vec<String>,
}

async fn walkthrough() -> Walkthrough {
    let (toml, json, console) = (
        walkthrough_blocks("toml"),
        walkthrough_blocks("json"),
        walkthrough_blocks("console"),
    );
    assert_eq!(
        (toml.len(), json.len(), console.len()),
        (1, 2, 3),
        "the walkthrough changed shape"
    );
    let server = TestServer::start().await;
    let url = server.url();
    let (orders, billing) = (Workdir::new(), Workdir::new());
    orders.write("accord.toml", &producer_manifest());
    orders.write("schemas/order-placed.json", &json[0]);
    accord_at(&orders, &url, &["publish"], 0).await;
    billing.write("accord.toml", &toml[0]);
    billing.write("schemas/order-placed.reader.json", &json[0]);
    let check = accord_at(&billing, &url, &["check"], 0).await;
    assert_console(&check.stdout, &console_output(&console, "accord check"));
    accord_at(&billing, &url, &["publish"], 0).await;
    let listed = accord_at(&orders, &url, &["consumers", "orders/order-placed"], 0).await;
    assert_console(
        &listed.stdout,
        &console_output(&console, "accord consumers orders/order-placed"),
    );
    orders.write("schemas/order-placed.json", &json[1]);
    let refused = accord_at(&orders, &url, &["check", "--format", "github"], 1).await;
    assert_console(
        &refused.stdout,
        &console_output(&console, "accord check --format github"),
    );
    Walkthrough {
        _server: server,
        url,
        orders,
        billing,
        console,
    }
}

/// Runs a README `sh` block as written, with this build's `accord` first
/// on the PATH and the registry in `ACCORD_REGISTRY`.
async fn run_block(work: &Workdir, url: &str, block: &str) -> common::Run {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_accord"))
        .parent()
        .unwrap()
        .to_owned();
    let path = std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let mut cmd = std::process::Command::new("sh");
    cmd.args(["-ec", block])
        .current_dir(work.path())
        .env("PATH", path)
        .env("ACCORD_REGISTRY", url)
        .env_remove("ACCORD_TOKEN")
        .stdin(std::process::Stdio::null());
    common::run_async(cmd).await
}

/// The README's producers-and-consumers walkthrough, as written: both
/// repositories' manifests, schemas and commands, the output it shows, and
/// each of the four ways forward it promises.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_walkthrough_of_both_repositories_runs_as_written() {
    // The consumer goes first: a reader that accepts currency can deploy,
    // and once registered, the producer's change passes.
    let w = walkthrough().await;
    let json = walkthrough_blocks("json");
    w.billing.write("schemas/order-placed.reader.json", &json[1]);
    accord_at(&w.billing, &w.url, &["check"], 0).await;
    let registered = accord_at(&w.billing, &w.url, &["publish"], 0).await;
    assert_contains(&registered.stdout, "billing registered as a reader");
    let passed = accord_at(&w.orders, &w.url, &["check", "--format", "json"], 0)
        .await
        .json();
    assert_eq!(impact(&passed["contracts"][0], "billing")["outcome"], "OK");
    assert_eq!(w.console.len(), 3);

    // A major version: billing, on ^1, is not affected.
    let w = walkthrough().await;
    let manifest = format!("{}version = \"2.0.0\"\n", producer_manifest());
    w.orders.write("accord.toml", &manifest);
    let major = accord_at(&w.orders, &w.url, &["publish", "--format", "json"], 0)
        .await
        .json();
    assert_eq!(
        impact(&major["contracts"][0], "billing")["outcome"],
        "NOT_AFFECTED"
    );

    // A waiver, created as the README writes it: the publish goes through
    // and reports billing WAIVED, naming the waiver.
    let w = walkthrough().await;
    let sh = walkthrough_blocks("sh");
    assert_eq!(sh.len(), 1, "the walkthrough's waiver command");
    let created = run_block(&w.orders, &w.url, &sh[0]).await.expect_code(0);
    assert_contains(&created.stdout, "created waiver w-");
    let waived = accord_at(&w.orders, &w.url, &["publish", "--format", "json"], 0)
        .await
        .json();
    let billing = impact(&waived["contracts"][0], "billing");
    assert_eq!(billing["outcome"], "WAIVED");
    assert!(
        created
            .stdout
            .contains(billing["waivers"][0]["id"].as_str().unwrap())
    );
    let audit = accord_at(&w.orders, &w.url, &["audit", "--format", "json"], 0)
        .await
        .json();
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"UseWaiver"), "{actions:?}");

    // Warn instead: the break is a warning, the publish accepted.
    let w = walkthrough().await;
    accord_at(
        &w.orders,
        &w.url,
        &[
            "config",
            "set",
            "orders/order-placed",
            "--consumer-breaks",
            "warn",
        ],
        0,
    )
    .await;
    let warned = accord_at(&w.orders, &w.url, &["check", "--format", "github"], 0).await;
    assert_contains(
        &warned.stdout,
        "::warning file=schemas/order-placed.json,line=7,title=orders/order-placed%3A breaks consumer billing::",
    );
    // And the last version billing reads cannot be deprecated unforced.
    let guarded = accord_at(
        &w.orders,
        &w.url,
        &["deprecate", "orders/order-placed@1.0.0", "--message", "use 2.x"],
        2,
    )
    .await;
    assert_contains(&guarded.stderr, "billing (^1)");
}
