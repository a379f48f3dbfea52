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
    let schema = parse_quietly(path, text, strict_schema)?;
    warn(path, &schema);
    Ok(schema)
}

/// [`parse_with`] without printing the warnings.
fn parse_quietly(path: &Path, text: &str, strict_schema: bool) -> Result<Schema> {
    let options = ParseOptions {
        limits: Limits::default(),
        strict_schema,
    };
    Schema::parse_with_options(text, &options)
        .with_context(|| format!("{}: not a usable schema", path.display()))
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
/// earlier schemas latest first, as a person types them. The parsed schemas
/// are left allocated for the process's exit to reclaim.
pub fn check(
    new: &Path,
    against: &[&Path],
    mode: Mode,
    policy: Policy,
    strict_schema: bool,
) -> Result<CheckReport> {
    if against.is_empty() {
        bail!(
            "nothing to check {} against: give --against OLD.json",
            new.display()
        );
    }
    // The engine wants the oldest first; the command line has the latest first.
    let older: Vec<&Path> = against.iter().rev().copied().collect();
    // The earlier schemas are read on a second thread while this one reads
    // the new schema: parsing is most of a check's time and the files are
    // independent. Errors and warnings come out as if the files were read
    // one after the other, the new one first; the helper stops at its first
    // error.
    let (new_read, earlier_read) = std::thread::scope(|scope| {
        let helper = scope.spawn(|| {
            let mut read_so_far = Vec::with_capacity(older.len());
            for path in &older {
                let schema = read(path).and_then(|text| parse_quietly(path, &text, strict_schema));
                let failed = schema.is_err();
                read_so_far.push(schema);
                if failed {
                    break;
                }
            }
            read_so_far
        });
        let new_read = read(new).and_then(|text| {
            let schema = parse_quietly(new, &text, strict_schema)?;
            Ok((text, schema))
        });
        let earlier_read = helper
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (new_read, earlier_read)
    });
    let (new_text, new_schema) = new_read?;
    warn(new, &new_schema);
    let mut earlier = Vec::with_capacity(older.len());
    for (path, schema) in older.iter().zip(earlier_read) {
        let schema = schema?;
        warn(path, &schema);
        earlier.push(schema);
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
    let lines = Lines::of(&new_text, report.findings.iter().map(|f| f.new_path.as_str()));
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
            .map(|f| FindingOut::from_engine(f, named, Some(&lines), policy))
            .collect(),
        registry: None,
        consumer_impacts: None,
        consumer: None,
        error: None,
        pin: Pin::default(),
    })
}

/// `accord diff OLD NEW`: every difference, judged under `mode`.
pub fn diff(old: &Path, new: &Path, mode: Mode, policy: Policy, strict_schema: bool) -> Result<CheckReport> {
    let mut report = check(new, &[old], mode, policy, strict_schema)?;
    report.contract = format!("{} → {}", old.display(), new.display());
    Ok(report)
}
