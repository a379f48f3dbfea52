//! The consumer side: `can-i-deploy`, `consumer register|unregister`,
//! `consumers`, `waiver create|list|revoke`, and the `[[consumes]]` entries
//! of accord.toml (checked by `check`, registered by `publish`).

use std::{
    io::Write,
    path::PathBuf,
    time::{Duration, SystemTime},
};

use accord_client::{
    Client, ConsumerCheck, ContractName, ImpactOutcome, VersionCheck, VersionReq, Waiver, WaiverRequest,
    WaiverState,
};
use anyhow::{Context, Result, bail};
use serde_json::json;

use crate::{
    Outcome,
    access::connect,
    locate::Lines,
    offline,
    online::{Action, parse_name},
    report::{CheckReport, ConsumerOut, ErrorOut, FindingOut, Pin, VersionCheckOut, rfc3339},
    root::Root,
};

/// One consumer's reading of a contract, from the command line or from a
/// `[[consumes]]` table of accord.toml.
#[derive(Debug, Clone)]
pub struct Reading {
    /// The consuming component.
    pub consumer: String,
    /// `COMPONENT/CONTRACT@REQUIREMENT`, as given (checked when run).
    pub reads: String,
    /// The reader schema file, if any.
    pub reader: Option<PathBuf>,
    /// What an error about the reading's own input is prefixed with (the
    /// manifest and the entry); empty on the command line.
    pub origin: String,
}

/// Splits `COMPONENT/CONTRACT@REQUIREMENT`; the requirement follows the
/// registry's rules (`^1.2`, `~1.4`, `>=1, <3`, `*`).
pub fn parse_reads(reads: &str) -> Result<(ContractName, VersionReq)> {
    let Some((name, requirement)) = reads.split_once('@') else {
        bail!(
            "expected COMPONENT/CONTRACT@REQUIREMENT (e.g. orders/order-placed@^1), got {reads:?}: \
             the requirement is missing"
        );
    };
    Ok((parse_name(name)?, accord_client::parse_requirement(requirement)?))
}

struct Prepared {
    contract: ContractName,
    requirement: VersionReq,
    /// The reader's text, sent to the registry and read for annotations.
    reader: Option<String>,
}

fn prepare(reading: &Reading) -> Result<Prepared> {
    let prepared = (|| {
        accord_client::name::validate_name("consumer", &reading.consumer)?;
        let (contract, requirement) = parse_reads(&reading.reads)?;
        let reader = match &reading.reader {
            Some(file) => {
                let text = offline::read(file)?;
                offline::parse(file, &text)?;
                Some(text)
            }
            None => None,
        };
        Ok(Prepared {
            contract,
            requirement,
            reader,
        })
    })();
    if reading.origin.is_empty() {
        prepared
    } else {
        prepared.with_context(|| reading.origin.clone())
    }
}

fn outcome_name(outcome: ImpactOutcome) -> &'static str {
    outcome.as_str()
}

/// What the registry answered about a reading.
struct Answer<'a> {
    checks: &'a [VersionCheck],
    resolves_to: Option<&'a accord_client::Version>,
    compatible: bool,
    registered: Option<bool>,
    explanation: String,
}

/// The report of a reading checked against the live versions it reads.
fn reading_report(reading: &Reading, p: &Prepared, shown: Option<String>, answer: Answer<'_>) -> CheckReport {
    let Answer {
        checks,
        resolves_to,
        compatible,
        registered,
        explanation,
    } = answer;
    let found = || checks.iter().flat_map(|c| c.findings.iter());
    let lines = p
        .reader
        .as_ref()
        .map(|text| Lines::of(text, found().map(|f| f.new_path.as_str())));
    let findings: Vec<FindingOut> = found()
        .map(|f| FindingOut::from_registry(f, lines.as_ref(), None))
        .collect();
    CheckReport {
        contract: p.contract.to_string(),
        schema_file: shown,
        compatible,
        mode: None,
        policy: None,
        required_bump: None,
        findings,
        registry: None,
        consumer_impacts: None,
        consumer: Some(ConsumerOut {
            consumer: reading.consumer.clone(),
            requirement: p.requirement.to_string(),
            reader: p.reader.is_some(),
            resolves_to: resolves_to.map(ToString::to_string),
            registered,
            versions: checks
                .iter()
                .map(|c| VersionCheckOut {
                    version: c.version.to_string(),
                    outcome: outcome_name(c.outcome),
                })
                .collect(),
            explanation: Some(explanation),
        }),
        error: None,
        pin: Pin::default(),
    }
}

/// can-i-deploy: the reading checked, nothing stored.
async fn check_one(
    client: &Client,
    reading: &Reading,
    p: &Prepared,
    shown: Option<String>,
) -> Result<CheckReport> {
    let reader = p.reader.as_deref();
    let ConsumerCheck {
        ok,
        checks,
        resolves_to,
        message,
    } = client.check_consumer(&p.contract, &p.requirement, reader).await?;
    let answer = Answer {
        checks: &checks,
        resolves_to: resolves_to.as_ref(),
        compatible: ok,
        registered: None,
        explanation: message,
    };
    Ok(reading_report(reading, p, shown, answer))
}

/// A registration: it is stored whatever it reads; the versions it cannot
/// read are reported (as warnings: can-i-deploy is the gate).
async fn register_one(
    client: &Client,
    reading: &Reading,
    p: &Prepared,
    shown: Option<String>,
) -> Result<CheckReport> {
    let reader = p.reader.as_deref();
    let registration = client
        .register_consumer(&reading.consumer, &p.contract, &p.requirement, reader)
        .await?;
    let broken: Vec<String> = registration
        .checks
        .iter()
        .filter(|c| c.outcome == ImpactOutcome::Breaks)
        .map(|c| c.version.to_string())
        .collect();
    let mut explanation = if registration.created {
        format!("{} now reads {} {}", reading.consumer, p.contract, p.requirement)
    } else {
        format!(
            "{} already read {} {}: nothing changed",
            reading.consumer, p.contract, p.requirement
        )
    };
    if !broken.is_empty() {
        explanation.push_str(&format!(
            "; but it rejects documents of live version(s) {}",
            broken.join(", ")
        ));
    }
    let answer = Answer {
        checks: &registration.checks,
        resolves_to: registration.consumer.resolves_to.as_ref(),
        compatible: true,
        registered: Some(registration.created),
        explanation,
    };
    Ok(reading_report(reading, p, shown, answer))
}

/// Checks (can-i-deploy) or registers every reading, in order; whatever
/// fails for one is that reading's report, and the others go on.
pub async fn run_readings(url: &str, readings: &[Reading], action: Action, root: &Root) -> Vec<CheckReport> {
    let prepared: Vec<Result<Prepared>> = readings.iter().map(prepare).collect();
    let client = if prepared.iter().any(Result::is_ok) {
        Some(connect(url).await.map_err(|e| ErrorOut::of(&e, Some(url))))
    } else {
        None
    };
    let mut reports = Vec::with_capacity(readings.len());
    for (reading, prepared) in readings.iter().zip(prepared) {
        let shown = reading.reader.as_deref().map(|f| root.show(f));
        let name = reading.reads.split('@').next().unwrap_or_default().to_owned();
        let done = match (prepared, &client) {
            (Err(e), _) => Err(ErrorOut::of(&e, Some(url))),
            (Ok(_), Some(Err(e))) => Err(e.clone()),
            (Ok(p), Some(Ok(client))) => {
                let what = || match action {
                    Action::Check => format!("can-i-deploy {} reading {}", reading.consumer, reading.reads),
                    Action::Publish => format!("register {} reading {}", reading.consumer, reading.reads),
                };
                let result = match action {
                    Action::Check => check_one(client, reading, &p, shown.clone()).await,
                    Action::Publish => register_one(client, reading, &p, shown.clone()).await,
                };
                result.map_err(|e| ErrorOut::of(&e.context(what()), Some(url)))
            }
            (Ok(_), None) => unreachable!("a prepared reading means a connection was tried"),
        };
        reports.push(done.unwrap_or_else(|error| {
            let mut failed = CheckReport::failed(name, shown, error);
            failed.consumer = Some(ConsumerOut {
                consumer: reading.consumer.clone(),
                requirement: reading
                    .reads
                    .split_once('@')
                    .map(|(_, r)| r.to_owned())
                    .unwrap_or_default(),
                reader: reading.reader.is_some(),
                resolves_to: None,
                registered: None,
                versions: Vec::new(),
                explanation: None,
            });
            failed
        }));
    }
    reports
}

fn print_json(value: &serde_json::Value) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value).map_err(std::io::Error::from)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

fn time(t: Option<SystemTime>) -> Option<String> {
    t.map(rfc3339)
}

/// `accord consumer unregister CONSUMER --reads C/K[@REQ]`.
pub async fn unregister(url: &str, consumer: &str, reads: &str, as_json: bool) -> Result<Outcome> {
    let name = parse_name(reads.split('@').next().unwrap_or_default())?;
    let client = connect(url).await?;
    client
        .unregister_consumer(consumer, &name)
        .await
        .with_context(|| format!("unregister {consumer} reading {name}"))?;
    if as_json {
        print_json(&json!({ "consumer": consumer, "contract": name.to_string(), "unregistered": true }))?;
    } else {
        writeln!(anstream::stdout(), "{consumer} no longer reads {name}")?;
    }
    Ok(Outcome::Success)
}

/// `accord consumers C/K` or `accord consumers --consumer NAME`.
pub async fn list(
    url: &str,
    contract: Option<&str>,
    consumer: Option<&str>,
    as_json: bool,
) -> Result<Outcome> {
    let client = connect(url).await?;
    let (rows, of) = match (contract, consumer) {
        (Some(contract), None) => {
            let name = parse_name(contract)?;
            let rows = client
                .list_consumers(&name)
                .await
                .with_context(|| format!("consumers {name}"))?;
            (rows, json!({ "contract": name.to_string() }))
        }
        (None, Some(consumer)) => {
            let rows = client
                .list_readings(consumer)
                .await
                .with_context(|| format!("consumers --consumer {consumer}"))?;
            (rows, json!({ "consumer": consumer }))
        }
        _ => bail!("consumers takes COMPONENT/CONTRACT, or --consumer NAME"),
    };
    if as_json {
        let mut value = of;
        value["consumers"] = rows
            .iter()
            .map(|c| {
                json!({
                    "consumer": c.consumer,
                    "contract": c.contract.to_string(),
                    "requirement": c.requirement.to_string(),
                    "resolves_to": c.resolves_to.as_ref().map(ToString::to_string),
                    "reader": c.has_reader,
                    "reader_fingerprint": c.reader_fingerprint,
                    "registered_by": c.registered_by,
                    "registered_at": time(c.registered_at),
                })
            })
            .collect();
        print_json(&value)?;
        return Ok(Outcome::Success);
    }
    let table: Vec<[String; 6]> = rows
        .iter()
        .map(|c| {
            [
                c.consumer.clone(),
                c.contract.to_string(),
                c.requirement.to_string(),
                c.resolves_to
                    .as_ref()
                    .map_or_else(|| "-".into(), ToString::to_string),
                if c.has_reader { "yes" } else { "no" }.into(),
                time(c.registered_at).unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let header = [
        "CONSUMER",
        "CONTRACT",
        "REQUIREMENT",
        "RESOLVES TO",
        "READER",
        "LAST REGISTERED",
    ];
    print_table(&header, &table)?;
    Ok(Outcome::Success)
}

/// Prints rows under a header, columns padded to their widest cell.
fn print_table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> Result<()> {
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = anstream::stdout().lock();
    let line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            text.push_str(&format!("{cell:<width$}", width = widths[i]));
        }
        text.trim_end().to_owned()
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for row in rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    out.flush()?;
    Ok(())
}

/// Reads `--expires`: an RFC 3339 time, a date (the waiver then lasts
/// until the end of that day, UTC), or a duration from now (`14d`).
pub fn parse_expires(text: &str) -> Result<SystemTime, String> {
    if let Ok(time) = humantime::parse_rfc3339_weak(text) {
        return Ok(time);
    }
    if text.len() == 10
        && let Ok(day) = humantime::parse_rfc3339_weak(&format!("{text}T23:59:59Z"))
    {
        return Ok(day);
    }
    let ahead: Duration = humantime::parse_duration(text.trim_start_matches('+')).map_err(|_| {
        format!(
            "{text:?} is neither a time (2026-12-31T18:00:00Z), a date (2026-12-31) nor a duration from now (14d)"
        )
    })?;
    Ok(SystemTime::now() + ahead)
}

fn state_name(state: WaiverState) -> &'static str {
    match state {
        WaiverState::Active => "active",
        WaiverState::Expired => "expired",
        WaiverState::Revoked => "revoked",
    }
}

fn waiver_json(w: &Waiver) -> serde_json::Value {
    json!({
        "id": w.id,
        "contract": w.contract.to_string(),
        "consumer": w.consumer,
        "rules": w.rules,
        "reason": w.reason,
        "expires_at": time(w.expires_at),
        "approver": w.approver,
        "created_at": time(w.created_at),
        "state": state_name(w.state),
        "revoked_by": w.revoked_by,
        "revoked_at": time(w.revoked_at),
    })
}

fn waiver_line(w: &Waiver) -> String {
    let consumer = w
        .consumer
        .as_deref()
        .map_or_else(|| "every consumer".to_owned(), |c| format!("consumer {c}"));
    let rules = if w.rules.is_empty() {
        "every rule".to_owned()
    } else {
        w.rules.join(", ")
    };
    format!(
        "waiver {} of {} for {consumer} ({rules}) until {}, approved by {}: {}",
        w.id,
        w.contract,
        time(w.expires_at).unwrap_or_else(|| "-".into()),
        w.approver,
        w.reason
    )
}

/// What `accord waiver create` asks for.
#[derive(Debug)]
pub struct NewWaiver {
    /// COMPONENT/CONTRACT.
    pub contract: String,
    /// The consumer; `None` with `all_consumers`.
    pub consumer: Option<String>,
    /// Rule ids (none: every rule).
    pub rules: Vec<String>,
    /// Why.
    pub reason: String,
    /// When it expires.
    pub expires: SystemTime,
}

/// `accord waiver create`.
pub async fn create_waiver(url: &str, new: NewWaiver, as_json: bool) -> Result<Outcome> {
    let contract = parse_name(&new.contract)?;
    if new.reason.trim().is_empty() {
        bail!("--reason must say why the break is acceptable");
    }
    let client = connect(url).await?;
    let waiver = client
        .create_waiver(&WaiverRequest {
            contract: contract.clone(),
            consumer: new.consumer,
            rules: new.rules,
            reason: new.reason,
            expires_at: new.expires,
        })
        .await
        .with_context(|| format!("waiver create {contract}"))?;
    if as_json {
        print_json(&json!({ "waiver": waiver_json(&waiver) }))?;
    } else {
        writeln!(anstream::stdout(), "created {}", waiver_line(&waiver))?;
    }
    Ok(Outcome::Success)
}

/// `accord waiver list [C/K] [--all]`.
pub async fn list_waivers(url: &str, contract: Option<&str>, all: bool, as_json: bool) -> Result<Outcome> {
    let contract = contract.map(parse_name).transpose()?;
    let client = connect(url).await?;
    let waivers = client
        .list_waivers(contract.as_ref(), all)
        .await
        .context("waiver list")?;
    if as_json {
        let rows: Vec<_> = waivers.iter().map(waiver_json).collect();
        print_json(&json!({ "waivers": rows }))?;
        return Ok(Outcome::Success);
    }
    let rows: Vec<[String; 7]> = waivers
        .iter()
        .map(|w| {
            [
                w.id.clone(),
                w.contract.to_string(),
                w.consumer.clone().unwrap_or_else(|| "*".into()),
                if w.rules.is_empty() {
                    "*".into()
                } else {
                    w.rules.join(",")
                },
                time(w.expires_at).unwrap_or_else(|| "-".into()),
                state_name(w.state).into(),
                format!("{}: {}", w.approver, w.reason),
            ]
        })
        .collect();
    print_table(
        &[
            "ID", "CONTRACT", "CONSUMER", "RULES", "EXPIRES", "STATE", "APPROVED",
        ],
        &rows,
    )?;
    Ok(Outcome::Success)
}

/// `accord waiver revoke ID`.
pub async fn revoke_waiver(url: &str, id: &str, as_json: bool) -> Result<Outcome> {
    let client = connect(url).await?;
    let waiver = client
        .revoke_waiver(id)
        .await
        .with_context(|| format!("waiver revoke {id}"))?;
    if as_json {
        print_json(&json!({ "waiver": waiver_json(&waiver) }))?;
    } else {
        writeln!(
            anstream::stdout(),
            "revoked {} (by {})",
            waiver_line(&waiver),
            waiver.revoked_by.as_deref().unwrap_or("-")
        )?;
    }
    Ok(Outcome::Success)
}
