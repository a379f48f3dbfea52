//! Export and import of a store as JSON lines, for backup and migration.
//!
//! The first line is a header with the store format; then the settings, the
//! schema texts, the versions and the event log, one record per line.
//! Importing an export into an empty store reproduces it exactly, event
//! sequences included.

use std::{
    collections::HashSet,
    io::{BufRead, Write},
    sync::Arc,
};

use serde::{Deserialize, Serialize};

use crate::{
    model::{CompatConfig, ContractName, Event, VersionRecord, validate_name},
    store::{Batch, FORMAT_VERSION, Store, StoreError},
};

/// Records committed per store transaction during an import.
const IMPORT_CHUNK: usize = 1000;

/// One line of an export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    /// The first line.
    Header {
        /// The store format of the export.
        format: u8,
    },
    /// Settings; no contract for the global ones.
    Config {
        /// The contract, if not global.
        contract: Option<ContractName>,
        /// The settings.
        config: CompatConfig,
    },
    /// A schema text.
    Schema {
        /// Its fingerprint.
        fingerprint: String,
        /// The text as published.
        text: String,
    },
    /// A version.
    Version(VersionRecord),
    /// An event.
    Event(Event),
}

/// Why an export or import failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// Reading or writing the file failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A line of the input is not a valid record.
    #[error("line {line}: {reason}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// Import only fills an empty store, so that the result is exact.
    #[error("the target store is not empty; import into a new data directory")]
    NotEmpty,
}

/// What an export or import moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Schema texts.
    pub schemas: usize,
    /// Versions.
    pub versions: usize,
    /// Events.
    pub events: usize,
}

fn write_record(out: &mut dyn Write, record: &Record) -> Result<(), BackupError> {
    serde_json::to_writer(&mut *out, record).map_err(std::io::Error::from)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Writes the whole store to `out` as JSON lines.
pub fn export(store: &dyn Store, out: &mut dyn Write) -> Result<Counts, BackupError> {
    let contents = store.load()?;
    let mut counts = Counts::default();
    write_record(
        out,
        &Record::Header {
            format: FORMAT_VERSION,
        },
    )?;
    for (contract, config) in contents.configs {
        write_record(out, &Record::Config { contract, config })?;
    }
    for (fingerprint, text) in contents.schemas {
        counts.schemas += 1;
        write_record(
            out,
            &Record::Schema {
                fingerprint,
                text: text.to_string(),
            },
        )?;
    }
    for version in contents.versions {
        counts.versions += 1;
        write_record(out, &Record::Version(version))?;
    }
    let mut after = 0;
    loop {
        let events = store.events_after(after, IMPORT_CHUNK)?;
        let Some(last) = events.last() else { break };
        after = last.sequence;
        for event in events {
            counts.events += 1;
            write_record(out, &Record::Event(event))?;
        }
    }
    out.flush()?;
    Ok(counts)
}

/// Fills an empty store from an export. Every line is read and checked
/// before anything is written.
pub fn import(store: &dyn Store, input: &mut dyn BufRead) -> Result<Counts, BackupError> {
    if !store.is_empty()? {
        return Err(BackupError::NotEmpty);
    }
    let mut records = Vec::new();
    let mut fingerprints = HashSet::new();
    let mut last_sequence = 0;
    let mut counts = Counts::default();
    for (at, line) in input.lines().enumerate() {
        let line_no = at + 1;
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |reason: String| BackupError::Line {
            line: line_no,
            reason,
        };
        let record: Record =
            serde_json::from_str(&line).map_err(|e| bad(format!("not an export record: {e}")))?;
        match &record {
            Record::Header { format } => {
                if line_no != 1 {
                    return Err(bad("a header after the first line".into()));
                }
                if *format != FORMAT_VERSION {
                    return Err(bad(format!(
                        "export of store format {format}; this build imports format {FORMAT_VERSION}"
                    )));
                }
                continue;
            }
            _ if line_no == 1 => return Err(bad("the first line must be the export header".into())),
            Record::Config { contract, .. } => {
                if let Some(name) = contract {
                    check_name(name).map_err(bad)?;
                }
            }
            Record::Schema { fingerprint, text } => {
                let value: serde_json::Value =
                    serde_json::from_str(text).map_err(|e| bad(format!("schema text is not JSON: {e}")))?;
                let actual = accord_compat::fingerprint(&value);
                if &actual != fingerprint {
                    return Err(bad(format!(
                        "schema fingerprint {fingerprint} does not match its text ({actual})"
                    )));
                }
                fingerprints.insert(fingerprint.clone());
                counts.schemas += 1;
            }
            Record::Version(v) => {
                check_name(&v.name).map_err(bad)?;
                if !fingerprints.contains(&v.fingerprint) {
                    return Err(bad(format!(
                        "version {}@{} uses schema {} that no earlier line holds",
                        v.name, v.version, v.fingerprint
                    )));
                }
                counts.versions += 1;
            }
            Record::Event(e) => {
                if e.sequence <= last_sequence {
                    return Err(bad(format!("event {} is out of sequence", e.sequence)));
                }
                last_sequence = e.sequence;
                counts.events += 1;
            }
        }
        records.push(record);
    }
    for chunk in records.chunks(IMPORT_CHUNK) {
        let mut batch = Batch::default();
        for record in chunk {
            match record {
                Record::Header { .. } => {}
                Record::Config { contract, config } => batch.configs.push((contract.clone(), Some(*config))),
                Record::Schema { fingerprint, text } => batch
                    .schemas
                    .push((fingerprint.clone(), Arc::from(text.as_str()))),
                Record::Version(v) => batch.versions.push(v.clone()),
                Record::Event(e) => batch.events.push(e.clone()),
            }
        }
        store.commit(&batch)?;
    }
    Ok(counts)
}

fn check_name(name: &ContractName) -> Result<(), String> {
    validate_name("component", &name.component)
        .and_then(|()| validate_name("contract", &name.contract))
        .map_err(|e| e.to_string())
}
