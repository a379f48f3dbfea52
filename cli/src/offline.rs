//! Offline checks: schema files compared by the engine, no registry needed.

use std::path::Path;

use accord_compat::{Mode, Policy, Schema};
use anyhow::{Context, Result, bail};

use crate::{
    locate::Lines,
    report::{CheckReport, FindingOut, Pin, bump_name},
    root::Root,
};

/// Reads and parses a schema file; errors name the file and the problem.
pub fn load(path: &Path) -> Result<Schema> {
    parse(path, &read(path)?)
}

/// Parses the text of the schema file `path`.
pub fn parse(path: &Path, text: &str) -> Result<Schema> {
    Schema::parse(text).with_context(|| format!("{}: not a usable schema", path.display()))
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
/// earlier schemas latest first, as a person types them.
pub fn check(new: &Path, against: &[&Path], mode: Mode, policy: Policy) -> Result<CheckReport> {
    if against.is_empty() {
        bail!(
            "nothing to check {} against: give --against OLD.json",
            new.display()
        );
    }
    let new_text = read(new)?;
    let new_schema = parse(new, &new_text)?;
    let lines = Lines::of(&new_text);
    // The engine wants the oldest first; the command line has the latest first.
    let mut earlier = Vec::with_capacity(against.len());
    let mut names = Vec::with_capacity(against.len());
    for path in against.iter().rev() {
        earlier.push(load(path)?);
        names.push(path.display().to_string());
    }
    let refs: Vec<&Schema> = earlier.iter().collect();
    let report = accord_compat::check(&new_schema, &refs, mode, policy);
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
pub fn diff(old: &Path, new: &Path, mode: Mode, policy: Policy) -> Result<CheckReport> {
    let mut report = check(new, &[old], mode, policy)?;
    report.contract = format!("{} → {}", old.display(), new.display());
    Ok(report)
}
