//! Tests against a real PostgreSQL server: each in a database of its own.
//!
//! The server is named by `ACCORD_TEST_POSTGRES_URL` (CI sets it, and fails
//! when the server cannot be reached). Without it, a test that needs one
//! says by name that it skipped and why, on standard error, and passes.

use std::sync::atomic::{AtomicU32, Ordering};

use tokio_postgres::NoTls;

/// The variable that names the test server.
pub const URL_VARIABLE: &str = "ACCORD_TEST_POSTGRES_URL";

/// The test server's URL, or `None` after saying that `test` is skipped.
pub fn url_or_skip(test: &str) -> Option<String> {
    match std::env::var(URL_VARIABLE) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!(
                "SKIPPED {test}: {URL_VARIABLE} is not set (CI sets it; locally, e.g. \
                 {URL_VARIABLE}=postgres://postgres@127.0.0.1:5432/test)"
            );
            None
        }
    }
}

/// A database created for one test, dropped with it.
#[derive(Debug)]
pub struct TestDatabase {
    /// The URL of the new database.
    pub url: String,
    name: String,
    server: String,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// `url` with its database replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..].find('/').map(|i| i + scheme_end);
    let host = match path_start {
        Some(i) => &base[..i],
        None => base,
    };
    match query {
        Some(q) => format!("{host}/{database}?{q}"),
        None => format!("{host}/{database}"),
    }
}

impl TestDatabase {
    /// Creates a fresh, empty database for `test`, or `None` (skipped) when
    /// no test server is configured. Panics when one is configured but
    /// cannot be reached: that is a broken set-up, not a skip.
    pub async fn create(test: &str) -> Option<Self> {
        let server = url_or_skip(test)?;
        let name = format!(
            "accord_t_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            test.chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .take(20)
                .collect::<String>()
                .to_ascii_lowercase()
        );
        let (client, connection) = tokio_postgres::connect(&server, NoTls)
            .await
            .unwrap_or_else(|e| panic!("{URL_VARIABLE}={server} cannot be reached: {e}"));
        tokio::spawn(connection);
        // CREATE DATABASE copies a template that must have no other
        // session at that instant: tests creating theirs at once retry.
        let mut attempt = 0;
        loop {
            attempt += 1;
            match client.batch_execute(&format!("CREATE DATABASE {name}")).await {
                Ok(()) => break,
                Err(e) if attempt < 50 => {
                    let _ = e;
                    tokio::time::sleep(std::time::Duration::from_millis(20 * attempt)).await;
                }
                Err(e) => panic!(
                    "cannot create database {name}: {}",
                    e.as_db_error()
                        .map_or_else(|| e.to_string(), |d| d.message().to_owned())
                ),
            }
        }
        Some(Self {
            url: with_database(&server, &name),
            name,
            server,
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let server = self.server.clone();
        let name = self.name.clone();
        // Dropped from async tests too: a runtime of its own, on a thread.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                return;
            };
            runtime.block_on(async {
                if let Ok((client, connection)) = tokio_postgres::connect(&server, NoTls).await {
                    tokio::spawn(connection);
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        assert_eq!(
            with_database("postgres://u@127.0.0.1:5432/test", "x"),
            "postgres://u@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h:1/test?sslmode=disable", "x"),
            "postgres://u@h:1/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h:1", "x"), "postgres://u@h:1/x");
    }
}
