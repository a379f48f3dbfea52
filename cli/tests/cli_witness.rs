//! Witnesses in every output of an offline check: a document the reader's
//! old view accepts and the new one rejects, under the finding.

mod common;

use common::Workdir;
use serde_json::Value;

fn schema(max_length: u32) -> String {
    format!(
        r#"{{"type":"object","properties":{{"name":{{"type":"string","maxLength":{max_length}}}}},"required":["name"]}}"#
    )
}

fn workdir() -> Workdir {
    let w = Workdir::new();
    w.write("v1.json", &schema(10));
    w.write("shorter.json", &schema(5));
    w.write("longer.json", &schema(20));
    // Confluent reports `anyOf` → `oneOf` as breaking even when no document
    // matches both alternatives, so no document can show it.
    // No string starts with both letters, so the alternatives exclude each
    // other and no document shows a break; Accord does not decide patterns
    // against each other, so it reports one.
    w.write(
        "any.json",
        r#"{"anyOf":[{"type":"string","pattern":"^a"},{"type":"string","pattern":"^b"}]}"#,
    );
    w.write(
        "one.json",
        r#"{"oneOf":[{"type":"string","pattern":"^a"},{"type":"string","pattern":"^b"}]}"#,
    );
    w
}

fn breaking(report: &Value) -> Vec<Value> {
    report["findings"]
        .as_array()
        .expect("findings is an array")
        .iter()
        .filter(|f| f["compatible"] == false)
        .cloned()
        .collect()
}

fn name_length(witness: &Value) -> usize {
    witness["name"].as_str().expect("a string name").chars().count()
}

#[test]
fn json_has_a_witness_the_old_schema_accepts_and_the_new_one_rejects() {
    let w = workdir();
    let run = w
        .run(&[
            "check",
            "shorter.json",
            "--against",
            "v1.json",
            "--format",
            "json",
        ])
        .expect_code(1);
    let found = breaking(&run.json());
    assert_eq!(found.len(), 1, "{found:?}");
    let n = name_length(&found[0]["witness"]);
    assert!((6..=10).contains(&n), "{}", found[0]);
}

#[test]
fn a_forward_witness_is_one_the_new_schema_accepts() {
    let w = workdir();
    let run = w
        .run(&[
            "check",
            "longer.json",
            "--against",
            "v1.json",
            "--mode",
            "forward",
            "--format",
            "json",
        ])
        .expect_code(1);
    let found = breaking(&run.json());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["direction"], "forward");
    let n = name_length(&found[0]["witness"]);
    assert!((11..=20).contains(&n), "{}", found[0]);
}

#[test]
fn text_shows_the_witness_under_the_finding_or_says_there_is_none() {
    let w = workdir();
    let run = w
        .run(&["check", "shorter.json", "--against", "v1.json"])
        .expect_code(1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("MAX_LENGTH_DECREASED"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    let example = lines[at + 1..]
        .iter()
        .find(|l| l.contains("for example, the old schema accepts and the new one rejects:"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    let doc: Value =
        serde_json::from_str(example.rsplit_once(": ").expect("a document").1).expect("the witness is JSON");
    assert!((6..=10).contains(&name_length(&doc)), "{}", run.stdout);

    let run = w
        .run(&["check", "one.json", "--against", "any.json"])
        .expect_code(1);
    assert!(run.stdout.contains("COMBINED_TYPE_CHANGED"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("no document could be built to show the break"),
        "{}",
        run.stdout
    );
}

#[test]
fn sarif_carries_the_witness_in_the_result_properties() {
    let w = workdir();
    let run = w
        .run(&[
            "check",
            "shorter.json",
            "--against",
            "v1.json",
            "--format",
            "sarif",
        ])
        .expect_code(1);
    let log: Value = serde_json::from_str(&run.stdout).expect("SARIF is JSON");
    let results = log["runs"][0]["results"].as_array().expect("results");
    let witness = results
        .iter()
        .find(|r| r["ruleId"] == "MAX_LENGTH_DECREASED")
        .map(|r| &r["properties"]["witness"])
        .unwrap_or_else(|| panic!("{log}"));
    assert!((6..=10).contains(&name_length(witness)), "{log}");
}

#[test]
fn a_witness_without_a_note_is_a_document_even_when_it_is_null() {
    // `{}` accepts every document; requiring an object rejects `null`,
    // numbers, strings... The JSON report cannot tell a witness `null` from
    // none by the value alone: a breaking finding without a witness says why
    // in `witness_note`, so a finding without a note carries a document,
    // which the old schema accepts and the new one rejects.
    let w = Workdir::new();
    let old = serde_json::json!({});
    let new = serde_json::json!({"type": "object"});
    w.write("old.json", &old.to_string());
    w.write("new.json", &new.to_string());
    let run = w
        .run(&["check", "new.json", "--against", "old.json", "--format", "json"])
        .expect_code(1);
    let found = breaking(&run.json());
    assert!(!found.is_empty(), "{}", run.json());
    for f in found {
        assert!(f.get("witness_note").is_none(), "{f}");
        let witness = &f["witness"];
        assert!(jsonschema::is_valid(&old, witness), "{f}");
        assert!(!jsonschema::is_valid(&new, witness), "{f}");
    }
}
