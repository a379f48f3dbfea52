//! `accord.toml`: the contracts a repository owns, and those it reads, as
//! code.
//!
//! ```toml
//! consumer = "billing"                   # the component this repository deploys
//!
//! [[contract]]
//! name = "orders/order-placed"
//! schema = "schemas/order-placed.json"   # relative to accord.toml
//! version = "1.4.0"                      # optional for patch and minor changes
//!
//! [[consumes]]
//! contract = "orders/order-placed"
//! requirement = "^1"
//! reader = "schemas/order-placed.reader.json"   # optional
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::{consumers::Reading, online::Target, report::Pin};

/// A parsed manifest.
#[derive(Debug)]
pub struct Manifest {
    /// The file it was read from.
    pub path: PathBuf,
    /// The contracts, in file order (publish order).
    pub contracts: Vec<Entry>,
    /// The readings of other contracts, in file order.
    pub consumes: Vec<Reading>,
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
    /// The consuming component, for every `[[consumes]]` without its own.
    #[serde(default)]
    consumer: Option<String>,
    #[serde(default)]
    contract: Vec<RawEntry>,
    #[serde(default)]
    consumes: Vec<RawConsumes>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConsumes {
    contract: String,
    requirement: String,
    #[serde(default)]
    reader: Option<String>,
    #[serde(default)]
    consumer: Option<String>,
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
        if raw.contract.is_empty() && raw.consumes.is_empty() {
            bail!("{}: no [[contract]] nor [[consumes]] table", path.display());
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
        let mut consumes = Vec::with_capacity(raw.consumes.len());
        let mut read = std::collections::HashSet::new();
        for (i, entry) in raw.consumes.into_iter().enumerate() {
            let at = || format!("{}: consumes #{} ({:?})", path.display(), i + 1, entry.contract);
            let Some(consumer) = entry.consumer.or_else(|| raw.consumer.clone()) else {
                bail!(
                    "{}: no consumer: set consumer = \"COMPONENT\" at the top of the file (the \
                     component this repository deploys) or in the entry",
                    at()
                );
            };
            let reads = format!("{}@{}", entry.contract, entry.requirement);
            crate::consumers::parse_reads(&reads).with_context(at)?;
            if !read.insert((consumer.clone(), entry.contract.clone())) {
                bail!("{}: {consumer} reads it twice", at());
            }
            if entry.reader.as_deref().is_some_and(|r| r.trim().is_empty()) {
                bail!("{}: empty reader path", at());
            }
            consumes.push(Reading {
                origin: format!("{}: consumes {}", path.display(), entry.contract),
                consumer,
                reads,
                reader: entry.reader.map(|r| base.join(r)),
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            contracts,
            consumes,
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
