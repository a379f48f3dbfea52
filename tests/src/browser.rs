//! Headless Chromium (Debian's `chromium` package) for the web view's tests:
//! `--dump-dom` to read a page as the browser built it, `--screenshot` to
//! keep what it showed when a check fails.
//!
//! [`Browser::find`] gives the browser, or `None` after saying on standard
//! error which test is skipped and why; with `ACCORD_REQUIRE_TOOLS=1` (CI
//! sets it) a missing browser fails the test instead. With
//! `ACCORD_SCREENSHOTS=DIR` every checked page is also saved in `DIR`
//! (how the pictures in `docs/screenshots/` are made).

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

/// The variable that turns a missing tool into a failure.
pub const REQUIRE_TOOLS: &str = "ACCORD_REQUIRE_TOOLS";

/// The variable naming a directory where every checked page is saved.
pub const SCREENSHOTS: &str = "ACCORD_SCREENSHOTS";

/// How long one browser run may take before it counts as hung. Not a
/// measure of anything: a guard so that a stuck browser fails the test
/// instead of holding CI until its own limit.
const HUNG_AFTER: Duration = Duration::from_secs(180);

/// A headless browser; every run gets a fresh profile.
#[derive(Debug)]
pub struct Browser {
    program: PathBuf,
    profiles: tempfile::TempDir,
    screenshots: PathBuf,
}

/// Where a program is on the PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

impl Browser {
    /// The browser, saving screenshots of failed checks under `screenshots`;
    /// `None` (after saying so) when it is not installed and not required.
    pub fn find(test: &str, screenshots: &Path) -> Option<Self> {
        let program = ["chromium", "chromium-browser"].into_iter().find_map(on_path);
        let Some(program) = program else {
            let why =
                "`chromium` is not installed (Debian: apt-get install -y chromium; .ci/run installs it)";
            if std::env::var(REQUIRE_TOOLS).is_ok_and(|v| v == "1") {
                panic!("{test}: {why}, and {REQUIRE_TOOLS}=1 requires it");
            }
            eprintln!("SKIPPED {test}: {why}");
            return None;
        };
        std::fs::create_dir_all(screenshots).expect("create the screenshot directory");
        Some(Self {
            program,
            profiles: tempfile::tempdir().expect("a directory for browser profiles"),
            screenshots: screenshots.to_owned(),
        })
    }

    async fn run(&self, what: &[String], url: &str) -> Vec<u8> {
        let profile = tempfile::tempdir_in(self.profiles.path()).expect("a fresh browser profile");
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-dev-shm-usage",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(what)
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", self.program.display()));
        let output = tokio::time::timeout(HUNG_AFTER, child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("the browser did not finish with {url} (hung)"))
            .expect("wait for the browser");
        assert!(
            output.status.success(),
            "the browser failed on {url}: {}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    }

    /// The page at `url` as the browser built it (the DOM, serialised).
    pub async fn dump_dom(&self, url: &str) -> String {
        String::from_utf8_lossy(&self.run(&["--dump-dom".to_owned()], url).await).into_owned()
    }

    /// A screenshot of `url`, saved as `NAME.png`; returns its path.
    pub async fn screenshot(&self, url: &str, name: &str) -> PathBuf {
        let path = self.screenshots.join(format!("{name}.png"));
        self.run(
            &[
                format!("--screenshot={}", path.display()),
                "--window-size=1280,900".to_owned(),
                "--hide-scrollbars".to_owned(),
            ],
            url,
        )
        .await;
        path
    }

    /// Reads the page at `url` and runs `check` on its DOM; when the check
    /// fails, saves a screenshot named `name`, prints its path and fails.
    pub async fn check(
        &self,
        url: &str,
        name: &str,
        check: impl FnOnce(&str) -> Result<(), String>,
    ) -> String {
        let dom = self.dump_dom(url).await;
        if let Some(dir) = std::env::var_os(SCREENSHOTS) {
            let path = Path::new(&dir).join(format!("{name}.png"));
            let made = self.screenshot(url, name).await;
            std::fs::copy(&made, &path).unwrap_or_else(|e| panic!("copy to {}: {e}", path.display()));
        }
        if let Err(problem) = check(&dom) {
            let shot = self.screenshot(url, name).await;
            panic!("{url}: {problem}\nscreenshot: {}\nDOM:\n{dom}", shot.display());
        }
        dom
    }
}
