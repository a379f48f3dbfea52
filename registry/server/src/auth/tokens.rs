//! The token file (`--auth-file`): named bearer tokens with a role and
//! optional component scopes, stored as salted hashes only.
//!
//! The file is JSON, rewritten whole and atomically (a temporary file
//! renamed over it) by `token create` and `token revoke`, so a server that
//! reads it concurrently sees the old or the new contents, never half of one.

use std::{
    fmt,
    io::Write,
    path::{Path, PathBuf},
    sync::Arc,
    time::SystemTime,
};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{AuthError, Role, validate_pattern};

/// The format of the token file this code reads and writes.
pub const FILE_FORMAT: u32 = 1;

/// Prefix of every token, so that a leaked one is recognisable in logs and
/// by secret scanners.
pub const TOKEN_PREFIX: &str = "accord_";

const SALT_BYTES: usize = 16;
const ID_BYTES: usize = 8;
const TOKEN_BYTES: usize = 32;

/// One token as stored: never the token itself.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenEntry {
    /// The token's unique name, recorded in the audit log as the principal.
    pub name: String,
    /// The token's public identifier, also written in the token itself
    /// (`accord_<id>_<secret>`), so that a call costs one hash, not one per
    /// token in the file.
    pub id: String,
    /// What the token may do.
    pub role: Role,
    /// Component name patterns the token is limited to; empty: every component.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Random per-token salt, hex.
    pub salt: String,
    /// SHA-256 of salt then token, hex.
    pub hash: String,
    /// When the token was created, RFC 3339.
    pub created_at: String,
}

impl fmt::Debug for TokenEntry {
    // The hash is not a secret in itself, but it has no business in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenEntry")
            .field("name", &self.name)
            .field("id", &self.id)
            .field("role", &self.role)
            .field("scopes", &self.scopes)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

impl TokenEntry {
    fn matches(&self, token: &str) -> bool {
        let (Ok(salt), Ok(expected)) = (hex::decode(&self.salt), hex::decode(&self.hash)) else {
            return false;
        };
        let actual = digest(&salt, token);
        // Compare without an early exit so that timing says nothing about
        // how much of the hash matched.
        actual.len() == expected.len()
            && actual
                .iter()
                .zip(&expected)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// The contents of a token file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenFile {
    /// [`FILE_FORMAT`].
    pub format: u32,
    /// The tokens, in creation order.
    pub tokens: Vec<TokenEntry>,
}

// SHA-256 with a per-token random salt is enough here, unlike for passwords:
// a token carries 256 bits from the operating system's CSPRNG, so guessing it
// from its hash is out of reach however fast the hash is, while a slow
// password hash (argon2, bcrypt) would cost milliseconds of CPU on every call.
fn digest(salt: &[u8], token: &str) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(token.as_bytes());
    hasher.finalize().to_vec()
}

fn random_bytes<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| AuthError::Random(e.to_string()))?;
    Ok(bytes)
}

/// Token names follow the component naming rules, so that they read well in
/// the audit log and need no quoting.
fn validate_token_name(name: &str) -> Result<(), AuthError> {
    crate::model::validate_name("token", name).map_err(|e| AuthError::Invalid(e.to_string()))
}

impl TokenFile {
    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<Self, AuthError> {
        let text = std::fs::read_to_string(path).map_err(|e| AuthError::File {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        Self::parse(path, &text)
    }

    /// Reads the file at `path`, or an empty one when it does not exist yet.
    pub fn load_or_new(path: &Path) -> Result<Self, AuthError> {
        if path.exists() {
            Self::load(path)
        } else {
            Ok(Self {
                format: FILE_FORMAT,
                tokens: Vec::new(),
            })
        }
    }

    fn parse(path: &Path, text: &str) -> Result<Self, AuthError> {
        let bad = |reason: String| AuthError::File {
            path: path.to_owned(),
            reason,
        };
        let file: TokenFile =
            serde_json::from_str(text).map_err(|e| bad(format!("not a token file: {e}")))?;
        if file.format != FILE_FORMAT {
            return Err(bad(format!(
                "token file format {}, this build reads format {FILE_FORMAT}",
                file.format
            )));
        }
        let mut names = std::collections::BTreeSet::new();
        let mut ids = std::collections::BTreeSet::new();
        for entry in &file.tokens {
            validate_token_name(&entry.name).map_err(|e| bad(e.to_string()))?;
            if !names.insert(entry.name.as_str()) {
                return Err(bad(format!("the token name {:?} appears twice", entry.name)));
            }
            for scope in &entry.scopes {
                validate_pattern(scope).map_err(|e| bad(format!("token {:?}: {e}", entry.name)))?;
            }
            if hex::decode(&entry.id).map(|i| i.len()) != Ok(ID_BYTES) || !ids.insert(entry.id.as_str()) {
                return Err(bad(format!(
                    "token {:?}: its id is not 16 hex digits, or not unique",
                    entry.name
                )));
            }
            if hex::decode(&entry.salt).is_err() || hex::decode(&entry.hash).map(|h| h.len()) != Ok(32) {
                return Err(bad(format!(
                    "token {:?}: the salt or hash is not valid hex",
                    entry.name
                )));
            }
        }
        Ok(file)
    }

    /// Writes the file atomically, readable by its owner only.
    pub fn save(&self, path: &Path) -> Result<(), AuthError> {
        let err = |reason: String| AuthError::File {
            path: path.to_owned(),
            reason,
        };
        let text = serde_json::to_string_pretty(self).map_err(|e| err(e.to_string()))?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        let file_name = path
            .file_name()
            .ok_or_else(|| err("the path names no file".into()))?
            .to_string_lossy();
        let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&tmp).and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()
        });
        if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(err(e.to_string()));
        }
        Ok(())
    }

    /// The entry that `token` authenticates, if any.
    pub fn find(&self, token: &str) -> Option<&TokenEntry> {
        let (id, _) = token.strip_prefix(TOKEN_PREFIX)?.split_once('_')?;
        self.tokens
            .iter()
            .find(|e| e.id == id)
            .filter(|e| e.matches(token))
    }
}

/// A new token named `name` for a registry whose current tokens are
/// `existing`: the token itself, shown once, and the entry that stores only
/// its salted hash.
pub fn issue(
    existing: &TokenFile,
    name: &str,
    role: Role,
    scopes: &[String],
) -> Result<(String, TokenEntry), AuthError> {
    validate_token_name(name)?;
    for scope in scopes {
        validate_pattern(scope)?;
    }
    if existing.tokens.iter().any(|e| e.name == name) {
        return Err(AuthError::Invalid(format!(
            "a token named {name:?} already exists; revoke it first to replace it"
        )));
    }
    let id = loop {
        let id = hex::encode(random_bytes::<ID_BYTES>()?);
        if existing.tokens.iter().all(|e| e.id != id) {
            break id;
        }
    };
    let token = format!(
        "{TOKEN_PREFIX}{id}_{}",
        hex::encode(random_bytes::<TOKEN_BYTES>()?)
    );
    let salt = random_bytes::<SALT_BYTES>()?;
    let entry = TokenEntry {
        name: name.to_owned(),
        id,
        role,
        scopes: scopes.to_vec(),
        salt: hex::encode(salt),
        hash: hex::encode(digest(&salt, &token)),
        created_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
    };
    Ok((token, entry))
}

/// Adds a token named `name` to the file at `path` (created if missing) and
/// returns the token, which is stored nowhere in clear.
pub fn create(path: &Path, name: &str, role: Role, scopes: &[String]) -> Result<String, AuthError> {
    let mut file = TokenFile::load_or_new(path)?;
    let (token, entry) = issue(&file, name, role, scopes)?;
    file.tokens.push(entry);
    file.save(path)?;
    Ok(token)
}

/// Removes the token named `name` from the file at `path`.
pub fn revoke(path: &Path, name: &str) -> Result<(), AuthError> {
    let mut file = TokenFile::load(path)?;
    let before = file.tokens.len();
    file.tokens.retain(|e| e.name != name);
    if file.tokens.len() == before {
        return Err(AuthError::Invalid(format!(
            "no token named {name:?} in {}",
            path.display()
        )));
    }
    file.save(path)
}

/// What identifies one version of the file on disk: a rewrite renames a new
/// file over the old one, so the inode changes even when the modification
/// time, whose granularity can be coarse, does not.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    #[cfg(unix)]
    inode: (u64, u64),
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Self {
        Self {
            modified: meta.modified().ok(),
            len: meta.len(),
            #[cfg(unix)]
            inode: {
                use std::os::unix::fs::MetadataExt;
                (meta.dev(), meta.ino())
            },
        }
    }
}

#[derive(Debug)]
struct Loaded {
    stamp: Stamp,
    file: Arc<TokenFile>,
}

/// The token file of a running server, read again when it changes on disk.
///
/// Calls read the current snapshot without a lock; a change swaps in a new
/// one (two calls that both see the change both read the file, harmlessly).
#[derive(Debug)]
pub struct TokenSource {
    path: PathBuf,
    loaded: arc_swap::ArcSwap<Loaded>,
}

impl TokenSource {
    /// Reads the file at `path`; a missing or invalid file is an error, so
    /// that a server never starts with access control it cannot apply.
    pub fn open(path: &Path) -> Result<Self, AuthError> {
        let (stamp, file) = Self::read(path)?;
        Ok(Self {
            path: path.to_owned(),
            loaded: arc_swap::ArcSwap::from_pointee(Loaded {
                stamp,
                file: Arc::new(file),
            }),
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(path: &Path) -> Result<(Stamp, TokenFile), AuthError> {
        let err = |e: std::io::Error| AuthError::File {
            path: path.to_owned(),
            reason: e.to_string(),
        };
        let before = std::fs::metadata(path).map_err(err)?;
        let file = TokenFile::load(path)?;
        Ok((Stamp::of(&before), file))
    }

    /// The current tokens. Checked against the file's metadata on each call
    /// (one `stat`), read again only when it changed. A file that became
    /// unreadable or invalid is an error: the server refuses calls rather
    /// than keep honouring tokens that may have been revoked.
    pub fn current(&self) -> Result<Arc<TokenFile>, AuthError> {
        let meta = std::fs::metadata(&self.path).map_err(|e| AuthError::File {
            path: self.path.clone(),
            reason: e.to_string(),
        })?;
        let loaded = self.loaded.load();
        if loaded.stamp == Stamp::of(&meta) {
            return Ok(loaded.file.clone());
        }
        let (stamp, file) = Self::read(&self.path)?;
        tracing::info!(path = %self.path.display(), tokens = file.tokens.len(), "token file reloaded");
        let file = Arc::new(file);
        self.loaded.store(Arc::new(Loaded {
            stamp,
            file: file.clone(),
        }));
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_token_authenticates_and_is_stored_only_hashed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        let token = create(&path, "ci", Role::Publisher, &["orders".into()]).unwrap();
        assert!(token.starts_with(TOKEN_PREFIX));
        let text = std::fs::read_to_string(&path).unwrap();
        let secret = token.rsplit('_').next().unwrap();
        assert_eq!(secret.len(), 2 * TOKEN_BYTES);
        assert!(!text.contains(secret), "the token is stored in clear");
        let file = TokenFile::load(&path).unwrap();
        let entry = file.find(&token).expect("the token is found");
        assert_eq!((entry.name.as_str(), entry.role), ("ci", Role::Publisher));
        assert!(file.find(&format!("{token}x")).is_none());
        assert!(file.find("").is_none());
        // The right id with another secret is refused.
        let (head, _) = token.rsplit_once('_').unwrap();
        assert!(file.find(&format!("{head}_{}", "0".repeat(64))).is_none());
    }

    #[test]
    fn two_tokens_differ_and_have_different_salts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        let a = create(&path, "a", Role::Reader, &[]).unwrap();
        let b = create(&path, "b", Role::Reader, &[]).unwrap();
        assert_ne!(a, b);
        let file = TokenFile::load(&path).unwrap();
        assert_ne!(file.tokens[0].salt, file.tokens[1].salt);
        assert_eq!(file.find(&b).map(|e| e.name.as_str()), Some("b"));
    }

    #[test]
    fn duplicate_names_bad_names_and_bad_scopes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        create(&path, "ci", Role::Reader, &[]).unwrap();
        let dup = create(&path, "ci", Role::Admin, &[]).unwrap_err();
        assert!(dup.to_string().contains("already exists"), "{dup}");
        let bad = create(&path, "Bad Name", Role::Reader, &[]).unwrap_err();
        assert!(bad.to_string().contains("Bad Name"), "{bad}");
        let scope = create(&path, "x", Role::Reader, &["Orders/*".into()]).unwrap_err();
        assert!(scope.to_string().contains("Orders/*"), "{scope}");
        assert_eq!(TokenFile::load(&path).unwrap().tokens.len(), 1);
    }

    #[test]
    fn revoke_removes_the_token_and_names_an_unknown_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        let token = create(&path, "ci", Role::Reader, &[]).unwrap();
        revoke(&path, "ci").unwrap();
        assert!(TokenFile::load(&path).unwrap().find(&token).is_none());
        let err = revoke(&path, "ci").unwrap_err();
        assert!(err.to_string().contains("no token named \"ci\""), "{err}");
    }

    #[test]
    fn a_source_sees_rewrites_and_refuses_a_broken_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        let first = create(&path, "one", Role::Reader, &[]).unwrap();
        let source = TokenSource::open(&path).unwrap();
        assert!(source.current().unwrap().find(&first).is_some());
        let second = create(&path, "two", Role::Reader, &[]).unwrap();
        assert!(source.current().unwrap().find(&second).is_some());
        revoke(&path, "one").unwrap();
        assert!(source.current().unwrap().find(&first).is_none());
        std::fs::write(&path, "{not json").unwrap();
        let err = source.current().unwrap_err();
        assert!(err.to_string().contains("not a token file"), "{err}");
    }

    #[test]
    fn a_missing_or_foreign_file_is_refused_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let missing = TokenSource::open(&dir.path().join("none.json")).unwrap_err();
        assert!(missing.to_string().contains("none.json"), "{missing}");
        let path = dir.path().join("future.json");
        std::fs::write(&path, r#"{"format": 9, "tokens": []}"#).unwrap();
        let err = TokenSource::open(&path).unwrap_err();
        assert!(err.to_string().contains("format 9"), "{err}");
    }
}
