//! Offline checks: schema files compared by the engine, no registry needed.

use std::path::Path;

use accord_compat::{Limits, Mode, ParseOptions, Policy, Schema};
use anyhow::{Context, Result, bail};

use crate::{
    locate::Lines,
    report::{CheckReport, FindingOut, Pin, bump_name},
    root::Root,
};

/// Parses the text of the schema file `path`.
pub fn parse(path: &Path, text: &str) -> Result<Schema> {
    parse_with(path, text, false)
}

/// Parses the text of the schema file `path`; `strict_schema` refuses a
/// `$schema` Accord does not know instead of reading it as draft-07. What
/// the engine warns about is printed on stderr, naming the file.
pub fn parse_with(path: &Path, text: &str, strict_schema: bool) -> Result<Schema> {
    let options = ParseOptions {
        limits: Limits::default(),
        strict_schema,
    };
    let schema = Schema::parse_with_options(text, &options)
        .with_context(|| format!("{}: not a usable schema", path.display()))?;
    warn(path, &schema);
    Ok(schema)
}

/// Prints what the engine warns about `schema`, read from `path`.
fn warn(path: &Path, schema: &Schema) {
    for warning in schema.warnings() {
        eprintln!("warning: {}: {warning}", path.display());
    }
}

/// Reads a schema file as text.
pub fn read(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{}: not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

/// `accord check NEW --against OLD [--against OLDER …]`: `against` lists the
/// earlier schemas latest first, as a person types them; `lines`: whether
/// the report gives each finding's line in NEW (the formats that point into
/// the file). The parsed schemas are left allocated for the process's exit
/// to reclaim.
pub fn check(
    new: &Path,
    against: &[&Path],
    mode: Mode,
    policy: Policy,
    strict_schema: bool,
    lines: bool,
) -> Result<CheckReport> {
    if against.is_empty() {
        bail!(
            "nothing to check {} against: give --against OLD.json",
            new.display()
        );
    }
    // The engine wants the oldest first; the command line has the latest first.
    let older: Vec<&Path> = against.iter().rev().copied().collect();
    // One thread: on a machine whose scheduler keeps a process's threads on
    // one CPU, a second one to parse with only adds a heap of its own.
    let new_text = read(new)?;
    let new_schema = parse_with(new, &new_text, strict_schema)?;
    let mut earlier = Vec::with_capacity(older.len());
    for path in &older {
        earlier.push(parse_with(path, &read(path)?, strict_schema)?);
    }
    let names: Vec<String> = older.iter().map(|p| p.display().to_string()).collect();
    let refs: Vec<&Schema> = earlier.iter().collect();
    let report = accord_compat::check(&new_schema, &refs, mode, policy);
    if report.witnesses_timed_out > 0 {
        eprintln!(
            "note: {} breaking finding(s) have no witness: the time for witness search was spent",
            report.witnesses_timed_out
        );
    }
    // The process ends once the report is printed: freeing the documents
    // and their models (tens of thousands of small allocations) would cost
    // more than the rest of this function. `check` runs once per process.
    std::mem::forget(new_schema);
    std::mem::forget(earlier);
    let lines = lines.then(|| Lines::of(&new_text, report.findings.iter().map(|f| f.new_path.as_str())));
    // With a single earlier schema, naming it on every finding is noise.
    let named: &[String] = if names.len() > 1 { &names } else { &[] };
    let shown = Root::of_cwd().show(new);
    Ok(CheckReport {
        contract: shown.clone(),
        schema_file: Some(shown),
        compatible: report.compatible,
        mode: Some(mode.to_string()),
        policy: Some(policy.to_string()),
        required_bump: Some(bump_name(report.required_bump).to_owned()),
        findings: report
            .findings
            .iter()
            .map(|f| FindingOut::from_engine(f, named, lines.as_ref(), policy))
            .collect(),
        registry: None,
        consumer_impacts: None,
        consumer: None,
        error: None,
        pin: Pin::default(),
    })
}

/// `accord diff OLD NEW`: every difference, judged under `mode`.
pub fn diff(
    old: &Path,
    new: &Path,
    mode: Mode,
    policy: Policy,
    strict_schema: bool,
    lines: bool,
) -> Result<CheckReport> {
    let mut report = check(new, &[old], mode, policy, strict_schema, lines)?;
    report.contract = format!("{} → {}", old.display(), new.display());
    Ok(report)
}
