//! An unknown `$schema` offline: read as draft-07 with a warning on stderr,
//! or refused with `--strict-schema`.

mod common;

use common::Workdir;

fn workdir() -> Workdir {
    let w = Workdir::new();
    let schema = |max: u32| {
        format!(r#"{{"$schema":"https://example.com/dialect/v1","type":"string","maxLength":{max}}}"#)
    };
    w.write("v1.json", &schema(10));
    w.write("v2.json", &schema(20));
    w
}

#[test]
fn an_unknown_schema_uri_is_read_with_a_warning_naming_the_file() {
    let w = workdir();
    let run = w
        .run(&["check", "v2.json", "--against", "v1.json"])
        .expect_code(0);
    assert!(
        run.stderr.contains("warning: v2.json: #/$schema"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("warning: v1.json: #/$schema"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("https://example.com/dialect/v1"),
        "{}",
        run.stderr
    );
    // The JSON on stdout stays one document.
    let run = w
        .run(&["diff", "v1.json", "v2.json", "--format", "json"])
        .expect_code(0);
    let _: serde_json::Value = serde_json::from_str(&run.stdout).expect("stdout is JSON");
}

#[test]
fn strict_schema_refuses_it() {
    let w = workdir();
    let run = w
        .run(&["check", "v2.json", "--against", "v1.json", "--strict-schema"])
        .expect_code(2);
    assert!(
        run.stderr.contains("v2.json: not a usable schema"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("unknown `$schema`"), "{}", run.stderr);
    w.run(&["diff", "v1.json", "v2.json", "--strict-schema"])
        .expect_code(2);
    // A registry reads schemas its own way: the flag is refused there.
    let run = w
        .run(&["diff", "orders/placed", "1.0.0", "2.0.0", "--strict-schema"])
        .expect_code(2);
    assert!(
        run.stderr.contains("--strict-schema applies to offline"),
        "{}",
        run.stderr
    );
}
