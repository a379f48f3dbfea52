//! The repository root that paths in reports are relative to: annotations,
//! SARIF locations and JUnit files must name a schema file as the
//! repository knows it, whatever directory `accord` runs in.

use std::path::{Component, Path, PathBuf};

/// The directory report paths are relative to.
#[derive(Debug, Clone)]
pub struct Root {
    dir: Option<PathBuf>,
}

impl Root {
    /// For a manifest: `GITHUB_WORKSPACE` when set, else the manifest's
    /// directory (its paths are written relative to it).
    pub fn of_manifest(manifest: &Path) -> Self {
        Self::workspace().unwrap_or_else(|| Self {
            dir: absolute(manifest.parent().unwrap_or(Path::new(""))),
        })
    }

    /// For files named on the command line: `GITHUB_WORKSPACE` when set,
    /// else the current directory.
    pub fn of_cwd() -> Self {
        Self::workspace().unwrap_or_else(|| Self {
            dir: absolute(Path::new("")),
        })
    }

    fn workspace() -> Option<Self> {
        let dir = std::env::var_os("GITHUB_WORKSPACE").filter(|d| !d.is_empty())?;
        Some(Self {
            dir: Some(absolute(Path::new(&dir))?),
        })
    }

    /// `path` relative to the root, with `/` separators; as given when it is
    /// outside the root (or the root is unknown).
    pub fn show(&self, path: &Path) -> String {
        let relative = self
            .dir
            .as_ref()
            .zip(absolute(path))
            .and_then(|(root, full)| full.strip_prefix(root).ok().map(Path::to_path_buf));
        match relative {
            Some(relative) => relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/"),
            None => path.display().to_string(),
        }
    }
}

/// `path` made absolute: `.` and `..` removed, then symbolic links
/// resolved as far as the path exists (a missing file still has a place).
fn absolute(path: &Path) -> Option<PathBuf> {
    let mut lexical = PathBuf::new();
    for part in std::env::current_dir().ok()?.join(path).components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                lexical.pop();
            }
            other => lexical.push(other),
        }
    }
    let mut existing = lexical.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut out = real;
            out.extend(rest.iter().rev());
            return Some(out);
        }
        rest.push(existing.file_name()?);
        existing = existing.parent()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_shown_relative_to_the_root_or_as_given() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("repo/schemas")).unwrap();
        std::fs::write(dir.path().join("repo/schemas/a.json"), "{}").unwrap();
        let root = Root {
            dir: absolute(&dir.path().join("repo")),
        };
        assert_eq!(
            root.show(&dir.path().join("repo/schemas/a.json")),
            "schemas/a.json"
        );
        // A file that does not exist yet still has its place.
        assert_eq!(root.show(&dir.path().join("repo/schemas/../b.json")), "b.json");
        // Outside the root: as given.
        let outside = dir.path().join("other.json");
        assert_eq!(root.show(&outside), outside.to_string_lossy());
    }
}
