//! The on-disk cache of last good contract copies, one file per
//! `(contract, selector)` pair.
//!
//! A file is written whole or not at all: the copy goes to a temporary file
//! in the same directory (its name starts with `.`), is flushed to disk, and
//! is renamed over the final name, then the directory itself is flushed.
//! A crash leaves either the old file or the new one, plus perhaps a
//! temporary file that reads never open. A read checks everything it
//! returns: the format, the contract and selector it was stored for, that
//! the version still matches the selector, and that the schema's
//! fingerprint is the one recorded, so a damaged or foreign file is refused
//! rather than served.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{ContractName, ContractVersion, Error, VersionSelector, types::VersionState};

/// The format of cache files; a different number is refused on read.
const FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    format: u32,
    component: String,
    contract: String,
    selector: String,
    version: semver::Version,
    fingerprint: String,
    schema: String,
    state: VersionState,
    deprecation_message: Option<String>,
    fetched_at_unix_ms: u64,
    /// The draft the registry recorded (short name); absent in older copies.
    #[serde(default)]
    draft: Option<String>,
}

/// A copy read back from the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedCopy {
    /// The contract as it was fetched (timestamps other than the fetch time
    /// are not kept).
    pub contract: ContractVersion,
    /// When it was fetched from the registry.
    pub fetched_at: SystemTime,
}

/// A directory of last good copies.
#[derive(Debug, Clone)]
pub struct ContractCache {
    dir: PathBuf,
}

impl ContractCache {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file that holds the copy of `name` for `selector`. The selector
    /// is part of the key, so that a copy fetched for one requirement is
    /// never served for another; it is hashed because requirements hold
    /// characters (`>`, `*`, spaces) that do not belong in file names.
    pub fn path_for(&self, name: &ContractName, selector: &VersionSelector) -> PathBuf {
        let digest = hex::encode(Sha256::digest(selector.to_string().as_bytes()));
        self.dir.join(format!(
            "{}+{}+{}.json",
            name.component(),
            name.contract(),
            &digest[..32]
        ))
    }

    /// Writes `contract`, fetched for `selector`, atomically.
    pub fn store(&self, selector: &VersionSelector, contract: &ContractVersion) -> Result<(), Error> {
        let entry = Entry {
            format: FORMAT,
            component: contract.name.component().to_owned(),
            contract: contract.name.contract().to_owned(),
            selector: selector.to_string(),
            version: contract.version.clone(),
            fingerprint: contract.fingerprint.clone(),
            schema: contract.schema.clone(),
            state: contract.state,
            deprecation_message: contract.deprecation_message.clone(),
            draft: contract.draft.map(|d| d.to_string()),
            fetched_at_unix_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                .unwrap_or(0),
        };
        let bytes = serde_json::to_vec(&entry).map_err(|e| Error::Cache {
            path: self.dir.clone(),
            source: std::io::Error::other(e),
        })?;
        let path = self.path_for(&contract.name, selector);
        write_atomically(&self.dir, &path, &bytes)
    }

    /// Reads the copy of `name` for `selector`: `Ok(None)` when there is
    /// none, `Err` with the reason when there is one that cannot be trusted.
    pub fn load(&self, name: &ContractName, selector: &VersionSelector) -> Result<Option<CachedCopy>, Error> {
        let path = self.path_for(name, selector);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(Error::Cache { path, source }),
        };
        let refuse = |why: String| Error::Cache {
            path: path.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, why),
        };
        let entry: Entry =
            serde_json::from_slice(&bytes).map_err(|e| refuse(format!("unreadable copy: {e}")))?;
        if entry.format != FORMAT {
            return Err(refuse(format!(
                "cache format {} is not the supported {FORMAT}",
                entry.format
            )));
        }
        if entry.component != name.component()
            || entry.contract != name.contract()
            || entry.selector != selector.to_string()
        {
            return Err(refuse(format!(
                "the file holds {}/{}@{}, not {name}@{selector}",
                entry.component, entry.contract, entry.selector
            )));
        }
        if !selector.matches(&entry.version) {
            return Err(refuse(format!(
                "version {} does not match {selector}",
                entry.version
            )));
        }
        let schema: serde_json::Value = serde_json::from_str(&entry.schema)
            .map_err(|e| refuse(format!("the schema is not JSON: {e}")))?;
        let actual = accord_compat::fingerprint(&schema);
        if actual != entry.fingerprint {
            return Err(refuse(format!(
                "the schema's fingerprint is {actual}, the copy records {}",
                entry.fingerprint
            )));
        }
        Ok(Some(CachedCopy {
            contract: ContractVersion {
                name: name.clone(),
                version: entry.version,
                fingerprint: entry.fingerprint,
                schema: entry.schema,
                state: entry.state,
                deprecation_message: entry.deprecation_message,
                created_at: None,
                deprecated_at: None,
                deleted_at: None,
                bump: None,
                draft: entry.draft.as_deref().and_then(|d| d.parse().ok()),
                published_by: None,
            },
            fetched_at: UNIX_EPOCH + Duration::from_millis(entry.fetched_at_unix_ms),
        }))
    }
}

fn write_atomically(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Cache { path, source }
    };
    fs::create_dir_all(dir).map_err(io(dir))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Unique per process and call, so concurrent writers (threads here,
    // or another process on the same directory) never share one.
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let serial = NEXT.fetch_add(1, Ordering::Relaxed);
    let temp = dir.join(format!(".{file_name}.{}.{serial}.tmp", std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&temp).map_err(io(&temp))?;
        file.write_all(bytes).map_err(io(&temp))?;
        file.sync_all().map_err(io(&temp))?;
        drop(file);
        fs::rename(&temp, path).map_err(io(path))?;
        // The rename is durable only once the directory entry is.
        #[cfg(unix)]
        fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(version: &str, schema: &str) -> ContractVersion {
        let value: serde_json::Value = serde_json::from_str(schema).unwrap();
        ContractVersion {
            name: "orders/order-placed".parse().unwrap(),
            version: version.parse().unwrap(),
            fingerprint: accord_compat::fingerprint(&value),
            schema: schema.to_owned(),
            state: VersionState::Active,
            deprecation_message: None,
            created_at: None,
            deprecated_at: None,
            deleted_at: None,
            bump: None,
            draft: None,
            published_by: None,
        }
    }

    #[test]
    fn a_copy_is_served_only_for_its_own_selector_and_when_intact() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ContractCache::new(dir.path().join("cache"));
        let name: ContractName = "orders/order-placed".parse().unwrap();
        let caret: VersionSelector = "^1.2".parse().unwrap();
        let contract = sample("1.4.0", r#"{"type": "object"}"#);
        assert_eq!(cache.load(&name, &caret).unwrap(), None);
        cache.store(&caret, &contract).unwrap();
        let copy = cache.load(&name, &caret).unwrap().unwrap();
        assert_eq!(copy.contract.version, contract.version);
        assert_eq!(copy.contract.schema, contract.schema);
        // Another requirement has its own key.
        assert_eq!(cache.load(&name, &"^1.4".parse().unwrap()).unwrap(), None);
        assert_eq!(cache.load(&name, &VersionSelector::Latest).unwrap(), None);

        // A file whose schema no longer matches its fingerprint is refused.
        let path = cache.path_for(&name, &caret);
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, text.replace("object", "string")).unwrap();
        let err = cache.load(&name, &caret).unwrap_err().to_string();
        assert!(err.contains("fingerprint"), "{err}");

        // A torn file is refused, not half-read.
        fs::write(&path, &text.as_bytes()[..text.len() / 2]).unwrap();
        let err = cache.load(&name, &caret).unwrap_err().to_string();
        assert!(err.contains("unreadable"), "{err}");

        // A copy moved under another key is refused.
        let latest_path = cache.path_for(&name, &VersionSelector::Latest);
        fs::write(&latest_path, &text).unwrap();
        let err = cache
            .load(&name, &VersionSelector::Latest)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not orders/order-placed@latest"), "{err}");
    }

    #[test]
    fn no_temporary_file_is_left_behind() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ContractCache::new(dir.path());
        cache
            .store(&VersionSelector::Latest, &sample("1.0.0", "{}"))
            .unwrap();
        cache
            .store(&VersionSelector::Latest, &sample("1.1.0", "true"))
            .unwrap();
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        let name = "orders/order-placed".parse().unwrap();
        let copy = cache.load(&name, &VersionSelector::Latest).unwrap().unwrap();
        assert_eq!(copy.contract.version.to_string(), "1.1.0");
        // Writers of the same copy at the same time each use their own
        // temporary file; the last rename wins and nothing is torn.
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let cache = cache.clone();
                std::thread::spawn(move || {
                    cache.store(&VersionSelector::Latest, &sample(&format!("1.{i}.0"), "{}"))
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap().unwrap();
        }
        assert!(cache.load(&name, &VersionSelector::Latest).unwrap().is_some());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
