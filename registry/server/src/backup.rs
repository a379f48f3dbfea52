//! Export and import of a store as JSON lines, for backup and migration.
//!
//! The first line is a header with the store format; then the settings, the
//! schema texts, the versions, the consumers, the waivers and the event log,
//! one record per line.
//! Importing an export into an empty store reproduces it exactly, event
//! sequences included.

use std::{
    collections::HashSet,
    io::{BufRead, Write},
    sync::Arc,
};

use serde::{Deserialize, Serialize};

use crate::{
    model::{CompatConfig, Consumption, ContractName, Event, Settings, VersionRecord, Waiver},
    store::{Batch, Snapshot, Store, StoreError},
};

/// The export format this build writes: 2 adds settings that inherit field
/// by field, tombstones, drafts and epochs; 3 adds consumers and waivers.
/// Exports of formats 1 and 2 are read too.
pub const EXPORT_FORMAT: u8 = 3;

/// Records committed per store transaction during an import.
const IMPORT_CHUNK: usize = 1000;

/// One line of an export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    /// The first line.
    Header {
        /// The export format.
        format: u8,
    },
    /// Settings (format 1): both fields, no contract for the global ones.
    Config {
        /// The contract, if not global.
        contract: Option<ContractName>,
        /// The settings.
        config: CompatConfig,
    },
    /// Settings (format 2): for a contract, unset fields follow the global
    /// ones; no contract for the global ones.
    Settings {
        /// The contract, if not global.
        contract: Option<ContractName>,
        /// The settings.
        settings: Settings,
    },
    /// A schema text.
    Schema {
        /// Its fingerprint.
        fingerprint: String,
        /// The text as published.
        text: String,
    },
    /// A version (a tombstone, when erased).
    Version(VersionRecord),
    /// A registered consumption (format 3).
    Consumer(Consumption),
    /// A waiver (format 3).
    Waiver(Waiver),
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
    #[error("the target store is not empty; import into a new data directory or database")]
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
    /// Registered consumptions.
    pub consumers: usize,
    /// Waivers.
    pub waivers: usize,
}

fn write_record(out: &mut dyn Write, record: &Record) -> Result<(), BackupError> {
    serde_json::to_writer(&mut *out, record).map_err(std::io::Error::from)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// Writes the whole store to `out` as JSON lines.
pub async fn export(store: &dyn Store, out: &mut dyn Write) -> Result<Counts, BackupError> {
    let mut counts = write_state(store.load().await?, out)?;
    let mut after = 0;
    loop {
        let events = store.events_after(after, IMPORT_CHUNK).await?;
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

/// Writes the header and the state of `snapshot`, in the same order from
/// either store, so that exports compare line by line.
fn write_state(mut snapshot: Snapshot, out: &mut dyn Write) -> Result<Counts, BackupError> {
    snapshot.schemas.sort_by(|a, b| a.0.cmp(&b.0));
    snapshot.settings.sort_by(|a, b| a.0.cmp(&b.0));
    snapshot
        .versions
        .sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    snapshot
        .consumers
        .sort_by(|a, b| (&a.contract, &a.consumer).cmp(&(&b.contract, &b.consumer)));
    snapshot.waivers.sort_by(|a, b| a.id.cmp(&b.id));
    let mut counts = Counts::default();
    write_record(
        out,
        &Record::Header {
            format: EXPORT_FORMAT,
        },
    )?;
    if let Some(global) = snapshot.global {
        write_record(
            out,
            &Record::Settings {
                contract: None,
                settings: Settings::full(global),
            },
        )?;
    }
    for (contract, settings) in snapshot.settings {
        write_record(
            out,
            &Record::Settings {
                contract: Some(contract),
                settings,
            },
        )?;
    }
    for (fingerprint, text) in snapshot.schemas {
        counts.schemas += 1;
        write_record(
            out,
            &Record::Schema {
                fingerprint,
                text: text.to_string(),
            },
        )?;
    }
    for version in snapshot.versions {
        counts.versions += 1;
        write_record(out, &Record::Version(version))?;
    }
    for consumer in snapshot.consumers {
        counts.consumers += 1;
        write_record(out, &Record::Consumer(consumer))?;
    }
    for waiver in snapshot.waivers {
        counts.waivers += 1;
        write_record(out, &Record::Waiver(waiver))?;
    }
    Ok(counts)
}

/// Writes what `export --salvage` could read of a damaged embedded store,
/// as an export that imports like any other.
pub fn export_salvaged(
    salvage: crate::store::sled::Salvage,
    out: &mut dyn Write,
) -> Result<Counts, BackupError> {
    let mut counts = write_state(salvage.snapshot, out)?;
    for event in salvage.events {
        counts.events += 1;
        write_record(out, &Record::Event(event))?;
    }
    out.flush()?;
    Ok(counts)
}

/// Fills an empty store from an export. Every line is read and checked
/// before anything is written; events keep their sequences.
pub async fn import(store: &dyn Store, input: &mut dyn BufRead) -> Result<Counts, BackupError> {
    if !store.is_empty().await? {
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
                if !(1..=EXPORT_FORMAT).contains(format) {
                    return Err(bad(format!(
                        "export of format {format}; this build imports formats 1 to {EXPORT_FORMAT}"
                    )));
                }
                continue;
            }
            _ if line_no == 1 => return Err(bad("the first line must be the export header".into())),
            Record::Config { .. } | Record::Settings { .. } => {}
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
                if v.erased.is_none() && !fingerprints.contains(&v.fingerprint) {
                    return Err(bad(format!(
                        "version {}@{} uses schema {} that no earlier line holds",
                        v.name, v.version, v.fingerprint
                    )));
                }
                counts.versions += 1;
            }
            Record::Consumer(_) => counts.consumers += 1,
            Record::Waiver(_) => counts.waivers += 1,
            Record::Event(e) => {
                if e.sequence != last_sequence + 1 {
                    return Err(bad(format!(
                        "event {} does not follow event {last_sequence}: the event log must have no gap",
                        e.sequence
                    )));
                }
                last_sequence = e.sequence;
                counts.events += 1;
            }
        }
        records.push(record);
    }
    let texts: std::collections::HashMap<String, Arc<str>> = records
        .iter()
        .filter_map(|r| match r {
            Record::Schema { fingerprint, text } => Some((fingerprint.clone(), Arc::from(text.as_str()))),
            _ => None,
        })
        .collect();
    let mut batch = Batch::default();
    for record in &records {
        match record {
            Record::Header { .. } | Record::Schema { .. } => {}
            Record::Config { contract, config } => batch
                .settings
                .push((contract.clone(), Some(Settings::mode_and_policy(*config)))),
            Record::Settings { contract, settings } => {
                batch.settings.push((contract.clone(), Some(*settings)))
            }
            Record::Version(v) => {
                if v.erased.is_none()
                    && let Some(text) = texts.get(&v.fingerprint)
                    && !batch.schemas.iter().any(|(f, _)| f == &v.fingerprint)
                {
                    batch.schemas.push((v.fingerprint.clone(), text.clone()));
                }
                batch.versions.push(v.clone());
            }
            Record::Consumer(c) => {
                batch
                    .consumers
                    .push((c.contract.clone(), c.consumer.clone(), Some(c.clone())))
            }
            Record::Waiver(w) => batch.waivers.push(w.clone()),
            Record::Event(e) => batch.events.push(e.clone()),
        }
        let size = batch.versions.len()
            + batch.events.len()
            + batch.settings.len()
            + batch.consumers.len()
            + batch.waivers.len();
        if size >= IMPORT_CHUNK {
            commit(store, std::mem::take(&mut batch)).await?;
        }
    }
    commit(store, batch).await?;
    Ok(counts)
}

/// Applies and syncs one chunk of an import. The store numbers events
/// itself: an export's gap-free log from 1 gets the same numbers back.
async fn commit(store: &dyn Store, batch: Batch) -> Result<(), BackupError> {
    let expected: Vec<u64> = batch.events.iter().map(|e| e.sequence).collect();
    let applied = store.apply(batch).await?;
    let got: Vec<u64> = applied.events.iter().map(|e| e.sequence).collect();
    if got != expected {
        return Err(BackupError::Store(StoreError::corrupt(
            "events",
            format!("{:?}", expected.first()),
            "the store numbered the imported events differently",
        )));
    }
    store.sync(applied.ticket).await?;
    Ok(())
}
