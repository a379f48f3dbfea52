//! Shared helpers of the integration tests: finding the Confluent corpus,
//! reading hand-written schemas and listing their findings.

#![allow(dead_code)]

use serde_json::Value;
use std::path::PathBuf;

/// The corpus directory, or `None` (after saying so) when it is absent and
/// `ACCORD_REQUIRE_CONFORMANCE` is not set.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/confluent-jsonschema");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("ACCORD_REQUIRE_CONFORMANCE").is_ok_and(|v| v == "1") {
        panic!(
            "the conformance corpus is required (ACCORD_REQUIRE_CONFORMANCE=1) but {} is missing",
            dir.display()
        );
    }
    eprintln!("skipped: conformance corpus not found at {}", dir.display());
    None
}

/// Drops commas that directly precede `}` or `]` outside strings: one corpus
/// file was written for a lenient reader.
pub fn strip_trailing_commas(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            out.push(c);
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        if c == ',' {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if matches!(next, Some('}') | Some(']')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// The four `diff-*` files.
pub const DIFF_FILES: [&str; 4] = [
    "diff-schema-examples.json",
    "diff-schema-examples-2020-12.json",
    "diff-combined-schema-examples.json",
    "diff-combined-schema-examples-2020-12.json",
];

/// One case: (file, index, case object).
pub fn cases(dir: &std::path::Path) -> Vec<(String, usize, Value)> {
    let mut all = Vec::new();
    for file in DIFF_FILES {
        let text = std::fs::read_to_string(dir.join(file)).expect("corpus file is readable");
        let value: Value = serde_json::from_str(&strip_trailing_commas(&text)).expect("corpus file is JSON");
        let Value::Array(cases) = value else {
            panic!("{file} is not an array")
        };
        for (i, case) in cases.into_iter().enumerate() {
            all.push((file.to_string(), i, case));
        }
    }
    all
}

/// A hand-written schema, read as the engine reads it.
pub fn schema(v: Value) -> accord_compat::Schema {
    accord_compat::Schema::from_value(v).expect("a valid schema")
}

/// The findings from `old` to `new` under STRICT, as "RULE path".
pub fn rules_of(old: &accord_compat::Schema, new: &accord_compat::Schema) -> Vec<String> {
    accord_compat::diff(old, new, accord_compat::Policy::Strict)
        .into_iter()
        .map(|f| format!("{} {}", f.rule, f.old_path))
        .collect()
}
