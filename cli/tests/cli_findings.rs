//! Offline checks with real differences: verdicts, exit codes, the required
//! bump and every output format, through the real binary and the engine.

mod common;

use common::{Workdir, junit_counts, sarif, sarif_schema_errors};
use serde_json::Value;

fn schema(max_length: Option<u32>, description: &str) -> String {
    let limit = max_length
        .map(|n| format!(",\n      \"maxLength\": {n}"))
        .unwrap_or_default();
    format!(
        "{{\n  \"description\": \"{description}\",\n  \"type\": \"object\",\n  \"properties\": {{\n    \"name\": {{\n      \"type\": \"string\"{limit}\n    }}\n  }}\n}}\n"
    )
}

fn workdir() -> Workdir {
    let w = Workdir::new();
    w.write("v1.json", &schema(Some(10), "orders"));
    w.write("shorter.json", &schema(Some(5), "orders"));
    w.write("longer.json", &schema(Some(20), "orders"));
    w.write("described.json", &schema(Some(10), "orders, as placed"));
    w
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().expect("findings is an array")
}

#[test]
fn a_breaking_change_exits_1_with_the_finding_and_a_major_bump() {
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
    let report = run.json();
    assert_eq!(report["compatible"], false);
    assert_eq!(report["required_bump"], "major");
    let found = findings(&report);
    let breaking: Vec<&Value> = found.iter().filter(|f| f["compatible"] == false).collect();
    assert_eq!(breaking.len(), 1, "{found:?}");
    let f = breaking[0];
    assert_eq!(f["rule"], "MAX_LENGTH_DECREASED");
    assert!(
        f["new_path"].as_str().unwrap().starts_with("#/properties/name"),
        "{f}"
    );
    assert_eq!(f["direction"], "backward");
    // `maxLength` is on line 7 of the new file.
    assert_eq!(f["line"], 7, "{f}");
    assert!(f["message"].as_str().unwrap().contains('5'), "{f}");
}

#[test]
fn compatible_changes_exit_0_with_the_bump_they_need() {
    let w = workdir();
    let report = w
        .run(&["check", "longer.json", "--against", "v1.json", "--format", "json"])
        .expect_code(0)
        .json();
    assert_eq!(report["compatible"], true);
    assert_eq!(report["required_bump"], "minor");
    assert!(
        findings(&report)
            .iter()
            .any(|f| f["rule"] == "MAX_LENGTH_INCREASED" && f["compatible"] == true),
        "{report}"
    );

    let report = w
        .run(&[
            "check",
            "described.json",
            "--against",
            "v1.json",
            "--format",
            "json",
        ])
        .expect_code(0)
        .json();
    assert_eq!(report["required_bump"], "patch");
}

#[test]
fn forward_mode_swaps_the_direction() {
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
    let report = run.json();
    assert_eq!(report["mode"], "FORWARD");
    assert!(
        findings(&report)
            .iter()
            .any(|f| f["compatible"] == false && f["direction"] == "forward"),
        "{report}"
    );
}

#[test]
fn transitive_modes_check_every_earlier_file_and_name_it() {
    let w = workdir();
    // shorter.json is identical to the latest (v2) but breaks v1.
    w.write("v2.json", &schema(Some(5), "orders"));
    let latest_only = w
        .run(&[
            "check",
            "shorter.json",
            "--against",
            "v2.json",
            "--against",
            "v1.json",
        ])
        .expect_code(0);
    assert!(
        latest_only.stdout.contains("compatible"),
        "{}",
        latest_only.stdout
    );

    let report = w
        .run(&[
            "check",
            "shorter.json",
            "--against",
            "v2.json",
            "--against",
            "v1.json",
            "--mode",
            "BACKWARD_TRANSITIVE",
            "--format",
            "json",
        ])
        .expect_code(1)
        .json();
    let breaking: Vec<&Value> = findings(&report)
        .iter()
        .filter(|f| f["compatible"] == false)
        .collect();
    assert!(!breaking.is_empty(), "{report}");
    assert!(breaking.iter().all(|f| f["against"] == "v1.json"), "{report}");
}

#[test]
fn text_marks_breaking_findings_and_names_the_bump() {
    let w = workdir();
    let run = w
        .run(&["check", "shorter.json", "--against", "v1.json"])
        .expect_code(1);
    assert!(run.stdout.contains("✗ incompatible"), "{}", run.stdout);
    assert!(run.stdout.contains("breaking (1)"), "{}", run.stdout);
    assert!(run.stdout.contains("✗ MAX_LENGTH_DECREASED"), "{}", run.stdout);
    assert!(run.stdout.contains("required bump: major"), "{}", run.stdout);

    let diff = w.run(&["diff", "v1.json", "longer.json"]).expect_code(0);
    assert!(diff.stdout.contains("✓ MAX_LENGTH_INCREASED"), "{}", diff.stdout);
    assert!(diff.stdout.contains("required bump: minor"), "{}", diff.stdout);
    let diff = w.run(&["diff", "v1.json", "shorter.json"]).expect_code(1);
    assert!(diff.stdout.contains("v1.json → shorter.json"), "{}", diff.stdout);
}

#[test]
fn github_annotations_point_at_the_schema_file_and_line() {
    let w = workdir();
    let run = w
        .run(&[
            "check",
            "shorter.json",
            "--against",
            "v1.json",
            "--format",
            "github",
        ])
        .expect_code(1);
    let errors: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(errors.len(), 1, "{}", run.stdout);
    assert!(
        errors[0].starts_with("::error file=shorter.json,line=7,title="),
        "{}",
        errors[0]
    );
    assert!(errors[0].contains("MAX_LENGTH_DECREASED"), "{}", errors[0]);
}

#[test]
fn junit_has_one_failing_case_for_the_contract() {
    let w = workdir();
    let run = w
        .run(&[
            "check",
            "shorter.json",
            "--against",
            "v1.json",
            "--format",
            "junit",
        ])
        .expect_code(1);
    assert_eq!(junit_counts(&run.stdout), (1, 1));
    assert!(run.stdout.contains("MAX_LENGTH_DECREASED"), "{}", run.stdout);
}

#[test]
fn sarif_has_one_result_per_finding_and_the_rule_table() {
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
    let log = sarif(&run.stdout);
    let json_report = w
        .run(&[
            "check",
            "shorter.json",
            "--against",
            "v1.json",
            "--format",
            "json",
        ])
        .json();
    let results = log.runs[0].results.as_ref().expect("results");
    assert_eq!(results.len(), findings(&json_report).len());

    let raw: Value = serde_json::from_str(&run.stdout).unwrap();
    let rules = raw["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    let rule = rules
        .iter()
        .find(|r| r["id"] == "MAX_LENGTH_DECREASED")
        .expect("the rule that fired is in the table");
    let meta = accord_compat::rule("MAX_LENGTH_DECREASED").expect("a registered rule");
    assert_eq!(rule["shortDescription"]["text"], meta.purpose);
    let result = raw["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "MAX_LENGTH_DECREASED")
        .unwrap();
    assert_eq!(result["level"], "error");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        7
    );
}

#[test]
fn a_reference_outside_the_document_is_an_error_naming_the_file() {
    let w = workdir();
    w.write(
        "external.json",
        r#"{"type": "object", "properties": {"name": {"$ref": "https://example.com/name.json"}}}"#,
    );
    let run = w
        .run(&["check", "external.json", "--against", "v1.json"])
        .expect_code(2);
    assert!(run.stderr.contains("external.json"), "{}", run.stderr);
    assert!(
        run.stderr.contains("https://example.com/name.json"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
}

#[test]
fn the_sarif_schema_check_can_fail() {
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
    let mut log: Value = serde_json::from_str(&run.stdout).unwrap();
    let Some(errors) = sarif_schema_errors(&log) else {
        common::skip(
            module_path!(),
            "serde-sarif's schema.json not found in Cargo's package sources",
        );
        return;
    };
    assert!(errors.is_empty(), "{errors:?}");
    // A rule index below -1 and an unknown level are refused by the schema.
    log["runs"][0]["results"][0]["ruleIndex"] = serde_json::json!(-5);
    log["runs"][0]["results"][0]["level"] = serde_json::json!("fatal");
    let errors = sarif_schema_errors(&log).unwrap();
    assert_eq!(errors.len(), 2, "{errors:?}");
}
