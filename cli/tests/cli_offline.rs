//! The offline commands (`check --against`, `diff OLD NEW`) and the
//! behaviour shared by every command, run through the real binary.

mod common;

use common::{Workdir, dead_address, junit_counts, sarif};

const OLD: &str = r#"{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "properties": { "id": { "type": "string" }, "amount": { "type": "number" } },
  "required": ["id"]
}"#;

/// `OLD` written differently: same keywords, other order and spacing.
const OLD_REFORMATTED: &str = r#"{"required":["id"],"properties":{"amount":{"type":"number"},"id":{"type":"string"}},
"type":"object","$schema":"http://json-schema.org/draft-07/schema#"}"#;

fn workdir() -> Workdir {
    let w = Workdir::new();
    w.write("old.json", OLD);
    w.write("same.json", OLD_REFORMATTED);
    w
}

#[test]
fn identical_schemas_are_compatible_in_every_format() {
    let w = workdir();
    let text = w
        .run(&["check", "same.json", "--against", "old.json"])
        .expect_code(0);
    assert!(text.stdout.contains("compatible"), "{}", text.stdout);
    assert!(text.stdout.contains("required bump: none"), "{}", text.stdout);
    assert!(
        !text.stdout.contains('\u{1b}'),
        "no colour into a pipe: {:?}",
        text.stdout
    );

    let json = w
        .run(&["check", "same.json", "--against", "old.json", "--format", "json"])
        .expect_code(0)
        .json();
    assert_eq!(json["compatible"], true);
    assert_eq!(json["mode"], "BACKWARD");
    assert_eq!(json["policy"], "STRICT");
    assert_eq!(json["required_bump"], "none");
    assert_eq!(json["findings"], serde_json::json!([]));
    assert_eq!(json["schema_file"], "same.json");

    let github = w
        .run(&[
            "check",
            "same.json",
            "--against",
            "old.json",
            "--format",
            "github",
        ])
        .expect_code(0);
    assert_eq!(github.stdout, "", "nothing to annotate");

    let junit = w
        .run(&["check", "same.json", "--against", "old.json", "--format", "junit"])
        .expect_code(0);
    assert_eq!(junit_counts(&junit.stdout), (1, 0));

    let log = sarif(
        &w.run(&["check", "same.json", "--against", "old.json", "--format", "sarif"])
            .expect_code(0)
            .stdout,
    );
    assert_eq!(log.runs.len(), 1);
    assert_eq!(log.runs[0].results.as_ref().map(Vec::len), Some(0));
}

#[test]
fn mode_and_policy_are_read_case_insensitively_and_echoed() {
    let w = workdir();
    let json = w
        .run(&[
            "check",
            "same.json",
            "--against",
            "old.json",
            "--against",
            "old.json",
            "--mode",
            "full-transitive",
            "--policy",
            "Lenient",
            "--format",
            "json",
        ])
        .expect_code(0)
        .json();
    assert_eq!(json["mode"], "FULL_TRANSITIVE");
    assert_eq!(json["policy"], "LENIENT");
}

#[test]
fn diff_of_identical_schemas_says_so() {
    let w = workdir();
    let run = w.run(&["diff", "old.json", "same.json"]).expect_code(0);
    assert!(run.stdout.contains("no differences"), "{}", run.stdout);
    assert!(run.stdout.contains("old.json → same.json"), "{}", run.stdout);
}

#[test]
fn a_missing_file_is_an_error_that_names_it() {
    let w = workdir();
    let run = w
        .run(&["check", "missing.json", "--against", "old.json"])
        .expect_code(2);
    assert!(run.stderr.contains("missing.json"), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    let run = w.run(&["diff", "old.json", "gone.json"]).expect_code(2);
    assert!(run.stderr.contains("cannot read gone.json"), "{}", run.stderr);
}

#[test]
fn invalid_json_is_an_error_with_file_and_position() {
    let w = workdir();
    w.write(
        "broken.json",
        "{\n  \"type\": \"object\",\n  \"properties\": {\n}",
    );
    let run = w
        .run(&[
            "check",
            "broken.json",
            "--against",
            "old.json",
            "--format",
            "json",
        ])
        .expect_code(2);
    assert!(run.stderr.contains("broken.json"), "{}", run.stderr);
    assert!(run.stderr.contains("invalid JSON at line 4"), "{}", run.stderr);
    // The report asked for still comes, carrying the error.
    let report = run.json();
    assert_eq!(report["error"]["kind"], "invalid_input");
    let message = report["error"]["message"].as_str().unwrap();
    assert!(message.contains("invalid JSON at line 4"), "{message}");
    assert_eq!(report["schema_file"], "broken.json");
    assert_eq!(report["compatible"], false);
    assert_eq!(report["required_bump"], serde_json::Value::Null);
    // As text, stdout stays empty: the error is on stderr.
    let text = w
        .run(&["check", "broken.json", "--against", "old.json"])
        .expect_code(2);
    assert_eq!(text.stdout, "");

    // The earlier schema is checked as carefully as the new one.
    let run = w
        .run(&["check", "old.json", "--against", "broken.json"])
        .expect_code(2);
    assert!(run.stderr.contains("broken.json"), "{}", run.stderr);
}

#[test]
fn a_document_that_is_not_a_schema_is_refused() {
    let w = workdir();
    w.write("list.json", "[1, 2, 3]");
    let run = w
        .run(&["check", "list.json", "--against", "old.json"])
        .expect_code(2);
    assert!(run.stderr.contains("list.json"), "{}", run.stderr);
    assert!(run.stderr.contains("object or a boolean"), "{}", run.stderr);
}

#[test]
fn a_file_that_is_not_utf8_is_refused() {
    let w = workdir();
    let path = w.path().join("latin1.json");
    std::fs::write(&path, b"{\"title\": \"caf\xe9\"}").unwrap();
    let run = w
        .run(&["check", "latin1.json", "--against", "old.json"])
        .expect_code(2);
    assert!(run.stderr.contains("latin1.json: not UTF-8"), "{}", run.stderr);
}

#[test]
fn bad_arguments_exit_2_with_the_reason() {
    let w = workdir();
    let run = w
        .run(&[
            "check",
            "same.json",
            "--against",
            "old.json",
            "--mode",
            "sideways",
        ])
        .expect_code(2);
    assert!(run.stderr.contains("sideways"), "{}", run.stderr);
    let run = w
        .run(&["check", "same.json", "--against", "old.json", "--policy", "loose"])
        .expect_code(2);
    assert!(run.stderr.contains("loose"), "{}", run.stderr);
    let run = w
        .run(&["check", "same.json", "--against", "old.json", "--format", "xml"])
        .expect_code(2);
    assert!(run.stderr.contains("xml"), "{}", run.stderr);
    let run = w.run(&["check", "same.json"]).expect_code(2);
    assert!(run.stderr.contains("--against"), "{}", run.stderr);
    let run = w.run(&["list", "--format", "junit"]).expect_code(2);
    assert!(run.stderr.contains("--format junit applies to"), "{}", run.stderr);
    // --format is global: it may come before the command.
    let json = w
        .run(&["--format", "json", "check", "same.json", "--against", "old.json"])
        .expect_code(0)
        .json();
    assert_eq!(json["compatible"], true);
    let run = w.run(&["diff", "only-one.json"]).expect_code(2);
    assert!(run.stderr.contains("ARGS"), "{}", run.stderr);
}

#[test]
fn colour_follows_the_terminal_and_the_flags() {
    let w = workdir();
    let args = ["check", "same.json", "--against", "old.json"];
    let forced = w.cmd(&args).env("CLICOLOR_FORCE", "1").output().unwrap();
    assert!(String::from_utf8_lossy(&forced.stdout).contains('\u{1b}'));

    let mut no_color_args = args.to_vec();
    no_color_args.push("--no-color");
    let flag = w.cmd(&no_color_args).env("CLICOLOR_FORCE", "1").output().unwrap();
    assert!(!String::from_utf8_lossy(&flag.stdout).contains('\u{1b}'));

    let env = w.cmd(&args).env("NO_COLOR", "1").output().unwrap();
    assert!(!String::from_utf8_lossy(&env.stdout).contains('\u{1b}'));
    assert_eq!(env.status.code(), Some(0));
}

#[test]
fn help_teaches_exit_codes_and_examples() {
    let w = Workdir::new();
    let top = w.run(&["--help"]).expect_code(0);
    assert!(top.stdout.contains("Exit codes:"), "{}", top.stdout);
    assert!(top.stdout.contains("2  any other error"), "{}", top.stdout);
    for command in [
        "check",
        "diff",
        "publish",
        "get",
        "versions",
        "list",
        "deprecate",
        "delete",
        "restore",
        "watch",
    ] {
        let help = w.run(&[command, "--help"]).expect_code(0);
        assert!(
            help.stdout.contains("Example"),
            "`accord {command} --help` has no example:\n{}",
            help.stdout
        );
    }
    for sub in ["get", "set"] {
        let help = w.run(&["config", sub, "--help"]).expect_code(0);
        assert!(help.stdout.contains("Example"), "{}", help.stdout);
    }
    // Long help carries the longer explanation of each flag.
    let long = w.run(&["check", "--help"]).expect_code(0);
    assert!(
        long.stdout.contains("_TRANSITIVE mode checks against each"),
        "{}",
        long.stdout
    );
    let short = w.run(&["check", "-h"]).expect_code(0);
    assert!(short.stdout.len() < long.stdout.len());
}

/// The commands a help text lists, each with its description (continuation
/// lines joined, whitespace collapsed).
fn listed_commands(help: &str) -> Vec<(String, String)> {
    let mut listed: Vec<(String, String)> = Vec::new();
    let section = help
        .split("Commands:\n")
        .nth(1)
        .expect("the help lists commands")
        .split("\n\n")
        .next()
        .unwrap_or_default();
    for line in section.lines() {
        // An entry starts two spaces in; a wrapped description further in.
        if let Some(entry) = line.strip_prefix("  ").filter(|l| !l.starts_with(' ')) {
            let (name, about) = entry.split_once(' ').unwrap_or((entry, ""));
            listed.push((name.to_string(), about.to_string()));
        } else if let Some(last) = listed.last_mut() {
            last.1.push(' ');
            last.1.push_str(line);
        }
    }
    for (_, about) in &mut listed {
        *about = about.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    listed
}

/// Each command's own short help opens with the description the list of
/// commands gives it: nothing a command includes (flags shared with
/// others) may replace it.
#[test]
fn every_command_opens_its_help_with_its_own_description() {
    let w = Workdir::new();
    let mut parents = vec![Vec::<String>::new()];
    let mut checked = 0;
    while let Some(parent) = parents.pop() {
        let mut args: Vec<&str> = parent.iter().map(String::as_str).collect();
        args.push("--help");
        let help = w.run(&args).expect_code(0).stdout;
        for (name, about) in listed_commands(&help) {
            if name == "help" {
                continue;
            }
            let mut args: Vec<&str> = parent.iter().map(String::as_str).collect();
            args.extend([name.as_str(), "-h"]);
            let own = w.run(&args).expect_code(0).stdout;
            let opening = own.split("\n\n").next().unwrap_or_default();
            let opening = opening.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(
                opening,
                about,
                "`accord {}` opens its help with another description",
                args.join(" ")
            );
            checked += 1;
            if own.contains("\nCommands:\n") {
                let mut path = parent.clone();
                path.push(name);
                parents.push(path);
            }
        }
    }
    // 16 commands and the subcommands of config, consumer and waiver.
    assert!(checked >= 23, "only {checked} commands were checked");
}

#[test]
fn an_unreachable_registry_exits_2_naming_the_address() {
    let w = workdir();
    let (_socket, address) = dead_address();
    for args in [
        vec!["get", "orders/order-placed"],
        vec!["list"],
        vec!["check", "same.json", "--contract", "orders/order-placed"],
        vec!["publish", "orders/order-placed", "same.json"],
        vec!["watch"],
    ] {
        let mut full = vec!["--registry", address.as_str()];
        full.extend(args.iter().copied());
        let run = w.run(&full).expect_code(2);
        assert!(
            run.stderr
                .contains(&format!("cannot reach the registry at {address}")),
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(run.stdout, "");
    }
    let run = w.run(&["--registry", "not a url", "list"]).expect_code(2);
    assert!(run.stderr.contains("invalid registry address"), "{}", run.stderr);
    // The address can also come from the environment.
    let run = Run::from(
        w.cmd(&["list"])
            .env("ACCORD_REGISTRY", &address)
            .output()
            .unwrap(),
    )
    .expect_code(2);
    assert!(run.stderr.contains(&address), "{}", run.stderr);
}

use common::Run;

#[test]
fn delete_refuses_without_confirmation_when_nobody_can_answer() {
    let w = workdir();
    // stdin is not a terminal here: without --yes nothing is deleted, and the
    // registry is not even contacted (this address has nothing behind it).
    let (_socket, address) = dead_address();
    let run = w
        .run(&["--registry", &address, "delete", "orders/order-placed"])
        .expect_code(2);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    assert!(!run.stderr.contains("cannot reach"), "{}", run.stderr);
}

#[test]
fn malformed_names_are_refused_before_any_call() {
    let w = workdir();
    let (_socket, address) = dead_address();
    for args in [
        vec!["get", "no-slash"],
        vec!["versions", "a/b/c"],
        vec!["deprecate", "orders/x", "--message", "use y"],
        vec!["delete", "orders/x@", "--yes"],
    ] {
        let mut full = vec!["--registry", address.as_str()];
        full.extend(args.iter().copied());
        let run = w.run(&full).expect_code(2);
        assert!(
            run.stderr.contains("COMPONENT/CONTRACT"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn a_broken_manifest_is_an_error_naming_the_file() {
    let w = workdir();
    let run = w.run(&["check"]).expect_code(2);
    assert!(run.stderr.contains("accord.toml"), "{}", run.stderr);

    w.write("accord.toml", "[[contract]]\nname = \"orders/x\"\nschema = 3\n");
    let run = w.run(&["check"]).expect_code(2);
    assert!(run.stderr.contains("accord.toml"), "{}", run.stderr);
    assert!(run.stderr.contains("schema"), "{}", run.stderr);

    w.write(
        "accord.toml",
        "[[contract]]\nname = \"orders/x\"\nschema = \"old.json\"\nversoin = \"1.0.0\"\n",
    );
    let run = w.run(&["publish"]).expect_code(2);
    assert!(run.stderr.contains("versoin"), "{}", run.stderr);

    w.write(
        "accord.toml",
        "[[contract]]\nname = \"orders-x\"\nschema = \"old.json\"\nversion = \"1.0.0\"\n",
    );
    let run = w.run(&["check"]).expect_code(2);
    assert!(run.stderr.contains("contract #1"), "{}", run.stderr);

    w.write(
        "accord.toml",
        "[[contract]]\nname = \"orders/x\"\nschema = \"old.json\"\nversion = \"1.0\"\n",
    );
    let run = w.run(&["publish"]).expect_code(2);
    assert!(run.stderr.contains("orders/x"), "{}", run.stderr);
    assert!(run.stderr.contains("invalid version \"1.0\""), "{}", run.stderr);

    let twice = "[[contract]]\nname = \"orders/x\"\nschema = \"old.json\"\nversion = \"1.0.0\"\n";
    w.write("accord.toml", &format!("{twice}\n{twice}"));
    let run = w.run(&["publish"]).expect_code(2);
    assert!(run.stderr.contains("listed twice"), "{}", run.stderr);

    w.write(
        "sub/accord.toml",
        "[[contract]]\nname = \"orders/x\"\nschema = \"missing.json\"\nversion = \"1.0.0\"\n",
    );
    let (_socket, address) = dead_address();
    let run = w
        .run(&["--registry", &address, "check", "--manifest", "sub/accord.toml"])
        .expect_code(2);
    assert!(run.stderr.contains("sub/missing.json"), "{}", run.stderr);
}

/// Runs `accord args…` on a pseudo-terminal (util-linux `script`); `None`
/// when `script` is not installed.
fn on_terminal(w: &Workdir, args: &[&str], no_color: bool) -> Option<String> {
    let line = std::iter::once(env!("CARGO_BIN_EXE_accord"))
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-q", "-e", "-c", &line, "/dev/null"])
        .current_dir(w.path())
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("TERM", "xterm-256color")
        .stdin(std::process::Stdio::null());
    if no_color {
        cmd.env("NO_COLOR", "1");
    }
    let out = cmd.output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn text_is_coloured_on_a_terminal_unless_asked_not_to() {
    let w = workdir();
    let args = ["check", "same.json", "--against", "old.json"];
    let Some(coloured) = on_terminal(&w, &args, false) else {
        common::skip(
            module_path!(),
            "`script` (util-linux) is not installed: no pseudo-terminal to test with",
        );
        return;
    };
    assert!(coloured.contains('\u{1b}'), "{coloured:?}");
    let plain = on_terminal(&w, &args, true).expect("script ran a moment ago");
    assert!(plain.contains("compatible"), "{plain:?}");
    assert!(!plain.contains('\u{1b}'), "{plain:?}");
    let mut flagged = args.to_vec();
    flagged.push("--no-color");
    let plain = on_terminal(&w, &flagged, false).expect("script ran a moment ago");
    assert!(plain.contains("compatible"), "{plain:?}");
    assert!(!plain.contains('\u{1b}'), "{plain:?}");
}
