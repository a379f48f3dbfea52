//! How the CLI reaches a secured registry (bearer token, TLS), and
//! `accord audit`.

use std::{
    io::Write,
    path::PathBuf,
    sync::OnceLock,
    time::{Duration, SystemTime},
};

use accord_client::{Client, ClientBuilder};
use anyhow::{Context, Result, bail};
use serde_json::json;

use crate::Outcome;

/// The credentials and TLS settings of every registry call of this run.
#[derive(Debug, Default)]
pub struct Access {
    /// The bearer token.
    pub token: Option<String>,
    /// PEM CA certificate(s) that an https:// registry must chain to.
    pub tls_ca: Option<PathBuf>,
    /// PEM client certificate, for registries that require one.
    pub tls_cert: Option<PathBuf>,
    /// Its private key.
    pub tls_key: Option<PathBuf>,
}

// Set once from the command line before any command runs; held here rather
// than threaded through every command, like the process's other settings.
static ACCESS: OnceLock<Access> = OnceLock::new();

/// Records the settings of this run.
pub fn configure(access: Access) {
    let _ = ACCESS.set(access);
}

fn read(what: &str, path: &PathBuf) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read the {what} {}", path.display()))
}

/// Connects now, so that an unreachable registry is reported once, naming
/// the address, before any work is done.
pub async fn connect(url: &str) -> Result<Client> {
    let access = ACCESS.get_or_init(Access::default);
    let mut builder = ClientBuilder::new(url);
    if let Some(token) = &access.token {
        builder = builder.token(token.trim());
    }
    if let Some(ca) = &access.tls_ca {
        builder = builder.tls_ca_pem(read("CA certificate (--tls-ca)", ca)?);
    }
    match (&access.tls_cert, &access.tls_key) {
        (Some(cert), Some(key)) => {
            builder = builder.tls_identity_pem(
                read("client certificate (--tls-cert)", cert)?,
                read("client key (--tls-key)", key)?,
            );
        }
        (None, None) => {}
        _ => bail!("--tls-cert and --tls-key go together"),
    }
    Ok(builder.connect().await?)
}

/// When a call over plain HTTP failed because the port speaks TLS, the
/// advice to use https://. Asked only after a failure: the probe sends the
/// HTTP/2 preface and looks for a TLS record (an alert or a handshake) in
/// the answer.
pub fn tls_hint(error: &accord_client::Error, url: &str) -> Option<String> {
    use std::{
        io::Read,
        net::{TcpStream, ToSocketAddrs},
    };
    if !matches!(
        error,
        accord_client::Error::Rpc { .. }
            | accord_client::Error::Unreachable { .. }
            | accord_client::Error::InvalidResponse { .. }
    ) {
        return None;
    }
    let authority = url.strip_prefix("http://")?.split('/').next()?;
    let addr = authority.to_socket_addrs().ok()?.next()?;
    let wait = Duration::from_secs(1);
    let mut stream = TcpStream::connect_timeout(&addr, wait).ok()?;
    stream.set_read_timeout(Some(wait)).ok()?;
    stream.set_write_timeout(Some(wait)).ok()?;
    stream.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").ok()?;
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).ok()?;
    // Record type 21 (alert) or 22 (handshake), protocol version 3.x.
    (matches!(head[0], 21 | 22) && head[1] == 3)
        .then(|| format!("the registry at {url} speaks TLS: use https://{authority} (with --tls-ca)"))
}

/// Reads `--since`: an RFC 3339 time, or a duration before now (`90m`, `2d`).
pub fn parse_since(text: &str) -> Result<SystemTime, String> {
    if let Ok(time) = humantime::parse_rfc3339_weak(text) {
        return Ok(time);
    }
    let ago: Duration = humantime::parse_duration(text).map_err(|_| {
        format!("{text:?} is neither a time (2026-11-27T09:00:00Z) nor a duration before now (90m, 2d)")
    })?;
    SystemTime::now()
        .checked_sub(ago)
        .ok_or_else(|| format!("{text:?} reaches before the start of time"))
}

/// `accord audit`: the write attempts recorded by the registry, oldest first.
pub async fn audit(url: &str, since: Option<SystemTime>, as_json: bool) -> Result<Outcome> {
    let client = connect(url).await?;
    let entries = client.list_audit_entries(since).await.context("audit")?;
    let time = |t: Option<SystemTime>| t.map(|t| humantime::format_rfc3339_seconds(t).to_string());
    let mut out = anstream::stdout().lock();
    if as_json {
        let rows: Vec<_> = entries
            .iter()
            .map(|e| {
                json!({
                    "time": time(e.time),
                    "principal": e.principal,
                    "action": e.action,
                    "target": e.target,
                    "allowed": e.allowed,
                    "outcome": e.outcome,
                    "message": e.message,
                })
            })
            .collect();
        serde_json::to_writer(&mut out, &json!({ "entries": rows })).map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        for e in &entries {
            let mut line = format!(
                "{}  {}  {}  {}  {}",
                time(e.time).unwrap_or_else(|| "-".into()),
                e.principal,
                e.action,
                e.target,
                e.outcome
            );
            if !e.message.is_empty() {
                line.push_str(": ");
                line.push_str(&e.message);
            }
            writeln!(out, "{line}")?;
        }
    }
    out.flush()?;
    Ok(Outcome::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_reads_times_and_durations() {
        let at = parse_since("2026-11-27T09:00:00Z").unwrap();
        assert_eq!(
            humantime::format_rfc3339_seconds(at).to_string(),
            "2026-11-27T09:00:00Z"
        );
        let ago = parse_since("2h").unwrap();
        let elapsed = SystemTime::now().duration_since(ago).unwrap();
        assert!(elapsed >= Duration::from_secs(7200), "{elapsed:?}");
        let err = parse_since("yesterday").unwrap_err();
        assert!(err.contains("\"yesterday\""), "{err}");
    }
}
