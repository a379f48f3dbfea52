//! `accord.toml`: the contracts a repository owns, as code.
//!
//! ```toml
//! [[contract]]
//! name = "orders/order-placed"
//! schema = "schemas/order-placed.json"   # relative to accord.toml
//! version = "1.4.0"                      # optional for patch and minor changes
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::{online::Target, report::Pin};

/// A parsed manifest.
#[derive(Debug)]
pub struct Manifest {
    /// The file it was read from.
    pub path: PathBuf,
    /// The contracts, in file order (publish order).
    pub contracts: Vec<Entry>,
}

/// One `[[contract]]` table.
#[derive(Debug)]
pub struct Entry {
    /// `component/contract`.
    pub name: String,
    /// The schema file resolved against the manifest's directory (so
    /// annotations point at it from where accord runs).
    pub schema: PathBuf,
    /// The version to publish; `None` lets the registry assign a patch or
    /// minor version (a change that needs a major one is refused).
    pub version: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    contract: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    name: String,
    schema: String,
    #[serde(default)]
    version: Option<String>,
}

impl Manifest {
    /// Reads and checks a manifest; every error names the file and the entry.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read {} (give a schema FILE, or a manifest with --manifest)",
                path.display()
            )
        })?;
        let raw: Raw = toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.to_string().trim_end()))?;
        if raw.contract.is_empty() {
            bail!("{}: no [[contract]] table", path.display());
        }
        let base = path.parent().unwrap_or(Path::new(""));
        let mut seen = std::collections::HashSet::new();
        let mut contracts = Vec::with_capacity(raw.contract.len());
        for (i, entry) in raw.contract.into_iter().enumerate() {
            let at = || format!("{}: contract #{} ({:?})", path.display(), i + 1, entry.name);
            crate::online::parse_name(&entry.name).with_context(at)?;
            let version = entry.version.clone();
            if !seen.insert((entry.name.clone(), version.clone())) {
                bail!("{}: listed twice", at());
            }
            if entry.schema.trim().is_empty() {
                bail!("{}: empty schema path", at());
            }
            contracts.push(Entry {
                schema: base.join(&entry.schema),
                name: entry.name,
                version,
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            contracts,
        })
    }

    /// The contracts as targets of a check or publish, in file order.
    pub fn targets(&self) -> Vec<Target> {
        self.contracts
            .iter()
            .map(|entry| Target {
                name: entry.name.clone(),
                file: entry.schema.clone(),
                version: entry.version.clone(),
                pin: Pin::Manifest,
                origin: format!("{}: {}", self.path.display(), entry.name),
            })
            .collect()
    }
}
