//! The commands that talk to a registry, through `accord-client`.

use std::{
    io::{BufRead, IsTerminal, Write},
    path::{Path, PathBuf},
    time::SystemTime,
};

use accord_client::{
    Bump, Client, CompatibilityConfig, ConfigChange, ContractName, ContractVersion, EventKind, Version,
    VersionSelector, VersionState,
};
use accord_compat::{Mode, Policy};
use anyhow::{Context, Result, bail};
use futures::StreamExt;
use serde_json::json;

use crate::{
    Outcome,
    access::connect,
    locate::Lines,
    offline,
    report::{CheckReport, ErrorOut, FindingOut, ImpactOut, Pin, RegistryDecision, bump_name},
    root::Root,
};

/// Runs one command's future on a small runtime: the CLI makes a handful of
/// calls, a multi-threaded runtime would only cost start-up time.
pub fn block_on<T>(future: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(future)
}

/// Parses `component/contract`, with the naming rules checked here.
pub fn parse_name(name: &str) -> Result<ContractName> {
    if name.matches('/').count() != 1 {
        bail!("expected COMPONENT/CONTRACT (e.g. orders/order-placed), got {name:?}");
    }
    Ok(name.parse::<ContractName>()?)
}

/// Parses a version, naming it when it is not one.
pub fn parse_version(text: &str) -> Result<Version> {
    Version::parse(text).map_err(|e| anyhow::anyhow!("invalid version {text:?}: {e}"))
}

/// Splits `component/contract[@version]`.
fn parse_target(target: &str) -> Result<(ContractName, Option<Version>)> {
    match target.split_once('@') {
        Some((name, version)) if !version.is_empty() => {
            Ok((parse_name(name)?, Some(parse_version(version)?)))
        }
        Some(_) => bail!("expected COMPONENT/CONTRACT@VERSION, got {target:?}: the version is empty"),
        None => Ok((parse_name(target)?, None)),
    }
}

fn config_names(config: Option<CompatibilityConfig>) -> (Option<String>, Option<String>) {
    (
        config.map(|c| c.mode.to_string()),
        config.map(|c| c.policy.to_string()),
    )
}

fn opt_string<T: ToString>(value: Option<&T>) -> Option<String> {
    value.map(ToString::to_string)
}

fn timestamp(time: Option<SystemTime>) -> Option<String> {
    time.map(|t| humantime::format_rfc3339_seconds(t).to_string())
}

/// Reads a schema file for the registry, parsed locally first so that a
/// broken file is reported against its path rather than by the registry.
fn read_schema(file: &Path) -> Result<String> {
    let text = offline::read(file)?;
    offline::parse(file, &text)?;
    Ok(text)
}

/// One contract to check or publish, from the command line or accord.toml.
#[derive(Debug, Clone)]
pub struct Target {
    /// `component/contract`, as given.
    pub name: String,
    /// The schema file.
    pub file: PathBuf,
    /// The version, as given; `None` lets the registry assign one.
    pub version: Option<String>,
    /// Where the version is pinned, for advice.
    pub pin: Pin,
    /// What an error about the target's own input is prefixed with (the
    /// manifest and the entry); empty on the command line.
    pub origin: String,
}

/// What is done with each target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A dry run: the publish decision, nothing stored.
    Check,
    /// A publish.
    Publish,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::Check => "check",
            Action::Publish => "publish",
        }
    }
}

struct Prepared {
    name: ContractName,
    version: Option<Version>,
    schema: String,
}

fn prepare(target: &Target) -> Result<Prepared> {
    let prepared = (|| {
        Ok(Prepared {
            name: parse_name(&target.name)?,
            version: target.version.as_deref().map(parse_version).transpose()?,
            schema: read_schema(&target.file)?,
        })
    })();
    if target.origin.is_empty() {
        prepared
    } else {
        prepared.with_context(|| target.origin.clone())
    }
}

/// Checks or publishes every target, in order. Whatever fails for one
/// target (its file, a denial, a refusal) is that target's report, and the
/// others go on: one problem never hides another.
pub async fn run_targets(url: &str, targets: &[Target], action: Action, root: &Root) -> Vec<CheckReport> {
    let prepared: Vec<Result<Prepared>> = targets.iter().map(prepare).collect();
    // Connect once, and only when there is something to send.
    let client = if prepared.iter().any(Result::is_ok) {
        Some(connect(url).await.map_err(|e| ErrorOut::of(&e, Some(url))))
    } else {
        None
    };
    let mut reports = Vec::with_capacity(targets.len());
    for (target, prepared) in targets.iter().zip(prepared) {
        let shown = root.show(&target.file);
        let done = match (prepared, &client) {
            (Err(e), _) => Err(ErrorOut::of(&e, Some(url))),
            (Ok(_), Some(Err(e))) => Err(e.clone()),
            (Ok(p), Some(Ok(client))) => {
                let what = || format!("{} {} ({shown})", action.name(), p.name);
                let result = match action {
                    Action::Check => check_one(client, &p, &shown).await,
                    Action::Publish => publish_one(client, &p, &shown).await,
                };
                result.map_err(|e| ErrorOut::of(&e.context(what()), Some(url)))
            }
            (Ok(_), None) => unreachable!("a prepared target means a connection was tried"),
        };
        let mut report =
            done.unwrap_or_else(|error| CheckReport::failed(target.name.clone(), Some(shown.clone()), error));
        report.pin = target.pin;
        reports.push(report);
    }
    reports
}

/// What the registry answered about one change, whichever call it came from.
struct Answer<'a> {
    config: Option<CompatibilityConfig>,
    required_bump: Bump,
    findings: &'a [accord_client::Finding],
    checked_against: &'a [Version],
    impacts: &'a [accord_client::ConsumerImpact],
    /// The registry's warnings about how it read and compared the schema.
    warnings: &'a [String],
}

/// A report of the registry's answer about `p`.
fn registry_report(
    p: &Prepared,
    shown: &str,
    answer: Answer<'_>,
    mut registry: RegistryDecision,
) -> CheckReport {
    let Answer {
        config,
        required_bump,
        findings: found,
        checked_against,
        impacts,
        warnings,
    } = answer;
    for warning in warnings {
        eprintln!("warning: {}: {warning}", p.name);
    }
    registry.checked_against = checked_against.iter().map(ToString::to_string).collect();
    let (mode, policy) = config_names(config);
    let lines = Lines::of(
        &p.schema,
        found.iter().map(|f| f.new_path.as_str()).chain(
            impacts
                .iter()
                .flat_map(|i| i.findings.iter().map(|f| f.old_path.as_str())),
        ),
    );
    CheckReport {
        contract: p.name.to_string(),
        schema_file: Some(shown.to_owned()),
        compatible: registry.accepted(),
        mode,
        policy,
        required_bump: Some(bump_name(required_bump).to_owned()),
        findings: found
            .iter()
            .map(|f| FindingOut::from_registry(f, Some(&lines), config.map(|c| c.policy)))
            .collect(),
        registry: Some(registry),
        consumer_impacts: Some(
            impacts
                .iter()
                .map(|i| ImpactOut::from_registry(i, Some(&lines)))
                .collect(),
        ),
        consumer: None,
        error: None,
        pin: Pin::default(),
    }
}

fn non_empty(text: String) -> Option<String> {
    (!text.trim().is_empty()).then_some(text)
}

/// The publish decision, dry.
async fn check_one(client: &Client, p: &Prepared, shown: &str) -> Result<CheckReport> {
    let outcome = client.check(&p.name, &p.schema, p.version.as_ref()).await?;
    let accepted = outcome.accepted;
    let decision = RegistryDecision {
        verdict: outcome.verdict.as_str().to_owned(),
        explanation: non_empty(outcome.message),
        // A refusal is about the version asked for, if any.
        version: if accepted {
            opt_string(outcome.version.as_ref())
        } else {
            opt_string(p.version.as_ref())
        },
        predecessor_version: opt_string(outcome.predecessor_version.as_ref()),
        smallest_acceptable_version: if accepted {
            None
        } else {
            opt_string(outcome.smallest_acceptable_version.as_ref())
        },
        checked_against: Vec::new(),
    };
    let answer = Answer {
        config: outcome.config,
        required_bump: outcome.required_bump,
        findings: &outcome.findings,
        checked_against: &outcome.checked_against,
        impacts: &outcome.consumer_impacts,
        warnings: &outcome.warnings,
    };
    Ok(registry_report(p, shown, answer, decision))
}

/// A publish: accepted or refused, the same report as a check of the same
/// change would give.
async fn publish_one(client: &Client, p: &Prepared, shown: &str) -> Result<CheckReport> {
    match client.publish(&p.name, &p.schema, p.version.as_ref()).await {
        Ok(outcome) => {
            let verdict = if outcome.created {
                "accepted"
            } else {
                "already_published"
            };
            let decision = RegistryDecision {
                verdict: verdict.to_owned(),
                explanation: non_empty(outcome.message),
                version: Some(outcome.contract.version.to_string()),
                predecessor_version: opt_string(outcome.predecessor_version.as_ref()),
                smallest_acceptable_version: None,
                checked_against: Vec::new(),
            };
            let answer = Answer {
                config: outcome.config,
                required_bump: outcome.required_bump,
                findings: &outcome.findings,
                checked_against: &outcome.checked_against,
                impacts: &outcome.consumer_impacts,
                warnings: &outcome.warnings,
            };
            Ok(registry_report(p, shown, answer, decision))
        }
        Err(e) => {
            let Some(refusal) = e.refusal() else {
                return Err(e.into());
            };
            let decision = RegistryDecision {
                verdict: refusal.verdict.as_str().to_owned(),
                explanation: non_empty(refusal.message),
                version: opt_string(p.version.as_ref()),
                predecessor_version: opt_string(refusal.predecessor_version.as_ref()),
                smallest_acceptable_version: opt_string(refusal.smallest_acceptable_version.as_ref()),
                checked_against: Vec::new(),
            };
            let answer = Answer {
                config: refusal.config,
                required_bump: refusal.required_bump,
                findings: &refusal.findings,
                checked_against: &refusal.checked_against,
                impacts: &refusal.consumer_impacts,
                warnings: &refusal.warnings,
            };
            Ok(registry_report(p, shown, answer, decision))
        }
    }
}

/// `accord diff NAME FROM TO`: two stored versions.
pub async fn diff(
    url: &str,
    name: &str,
    from: &str,
    to: &str,
    mode: Option<Mode>,
    policy: Option<Policy>,
) -> Result<CheckReport> {
    let contract = parse_name(name)?;
    let (from_v, to_v) = (parse_version(from)?, parse_version(to)?);
    let client = connect(url).await?;
    // The registry takes both settings or neither: fill a missing one from
    // the contract's own settings so that one flag alone means what it says.
    let config = if mode.is_some() || policy.is_some() {
        let current = client
            .get_config(Some(&contract))
            .await
            .with_context(|| format!("read the settings of {contract}"))?
            .config;
        Some(CompatibilityConfig {
            mode: mode.unwrap_or(current.mode),
            policy: policy.unwrap_or(current.policy),
        })
    } else {
        None
    };
    let outcome = client
        .diff(&contract, &from_v, &to_v, config)
        .await
        .with_context(|| format!("diff {contract} {from} {to}"))?;
    let (mode, policy) = config_names(outcome.config);
    Ok(CheckReport {
        contract: format!("{contract} {from} → {to}"),
        schema_file: None,
        compatible: outcome.compatible,
        mode,
        policy,
        required_bump: Some(bump_name(outcome.required_bump).to_owned()),
        // Stored versions have no file here: no line to point at.
        findings: outcome
            .findings
            .iter()
            .map(|f| FindingOut::from_registry(f, None, outcome.config.map(|c| c.policy)))
            .collect(),
        registry: None,
        consumer_impacts: None,
        consumer: None,
        error: None,
        pin: Pin::default(),
    })
}

/// `accord get NAME [VERSION]`: the stored schema text, byte for byte.
pub async fn get(url: &str, name: &str, version: Option<&str>) -> Result<Outcome> {
    let contract = parse_name(name)?;
    let selector: VersionSelector = version.unwrap_or_default().parse()?;
    let client = connect(url).await?;
    let stored = client
        .get(&contract, &selector)
        .await
        .with_context(|| format!("get {contract} {selector}"))?;
    if let Some(message) = &stored.deprecation_message {
        eprintln!("warning: {contract}@{} is deprecated: {message}", stored.version);
    }
    // Not through anstream: the schema must come out exactly as stored.
    let mut out = std::io::stdout().lock();
    out.write_all(stored.schema.as_bytes())?;
    out.flush()?;
    Ok(Outcome::Success)
}

fn state_name(state: VersionState) -> &'static str {
    match state {
        VersionState::Active => "active",
        VersionState::Deprecated => "deprecated",
        VersionState::Deleted => "deleted",
        VersionState::Erased => "erased",
    }
}

fn version_json(v: &ContractVersion) -> serde_json::Value {
    json!({
        "version": v.version.to_string(),
        "state": state_name(v.state),
        "fingerprint": v.fingerprint,
        "bump": v.bump.map(bump_name),
        "created_at": timestamp(v.created_at),
        "deprecated_at": timestamp(v.deprecated_at),
        "deprecation_message": v.deprecation_message,
        "deleted_at": timestamp(v.deleted_at),
        "draft": v.draft.map(|d| d.to_string()),
        "published_by": v.published_by,
    })
}

fn print_json(value: &serde_json::Value) -> Result<()> {
    let mut out = crate::buffered_stdout();
    serde_json::to_writer_pretty(&mut out, value).map_err(std::io::Error::from)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// `accord versions NAME`.
pub async fn versions(url: &str, name: &str, include_deleted: bool, as_json: bool) -> Result<Outcome> {
    let contract = parse_name(name)?;
    let client = connect(url).await?;
    let all = client
        .list_versions(&contract, include_deleted)
        .await
        .with_context(|| format!("versions {contract}"))?;
    if as_json {
        let rows: Vec<_> = all.iter().map(version_json).collect();
        print_json(&json!({ "contract": contract.to_string(), "versions": rows }))?;
        return Ok(Outcome::Success);
    }
    let mut out = anstream::stdout().lock();
    let width = all
        .iter()
        .map(|v| v.version.to_string().len())
        .max()
        .unwrap_or(0)
        .max(7);
    writeln!(
        out,
        "{:<width$}  {:<10}  {:<20}  {:<5}  NOTE",
        "VERSION", "STATE", "PUBLISHED", "BUMP"
    )?;
    for v in &all {
        let note = match (&v.deprecation_message, v.deleted_at) {
            (_, Some(deleted)) => format!("deleted {}", humantime::format_rfc3339_seconds(deleted)),
            (Some(message), None) => format!("deprecated: {message}"),
            (None, None) => String::new(),
        };
        let row = format!(
            "{:<width$}  {:<10}  {:<20}  {:<5}  {note}",
            v.version.to_string(),
            state_name(v.state),
            timestamp(v.created_at).unwrap_or_else(|| "-".into()),
            v.bump.map(bump_name).unwrap_or("-"),
        );
        writeln!(out, "{}", row.trim_end())?;
    }
    Ok(Outcome::Success)
}

/// `accord list [COMPONENT]`.
pub async fn list(url: &str, component: Option<&str>, as_json: bool) -> Result<Outcome> {
    let client = connect(url).await?;
    let mut out = anstream::stdout().lock();
    match component {
        None => {
            let components = client.list_components().await.context("list components")?;
            if as_json {
                let rows: Vec<_> = components
                    .iter()
                    .map(|c| json!({ "component": c.name, "contracts": c.contract_count }))
                    .collect();
                print_json(&json!({ "components": rows }))?;
            } else {
                for c in &components {
                    writeln!(out, "{}  ({})", c.name, count(c.contract_count, "contract"))?;
                }
            }
        }
        Some(component) => {
            let contracts = client
                .list_contracts(component)
                .await
                .with_context(|| format!("list {component}"))?;
            if as_json {
                let rows: Vec<_> = contracts
                    .iter()
                    .map(|c| {
                        json!({
                            "contract": c.name.to_string(),
                            "latest_version": c.latest_version.as_ref().map(ToString::to_string),
                            "versions": c.version_count,
                        })
                    })
                    .collect();
                print_json(&json!({ "component": component, "contracts": rows }))?;
            } else {
                for c in &contracts {
                    writeln!(
                        out,
                        "{}  {}  ({})",
                        c.name,
                        opt_string(c.latest_version.as_ref()).unwrap_or_default(),
                        count(c.version_count, "version")
                    )?;
                }
            }
        }
    }
    out.flush()?;
    Ok(Outcome::Success)
}

fn count(n: u32, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn print_config(
    name: Option<&ContractName>,
    setting: accord_client::ConfigSetting,
    as_json: bool,
) -> Result<()> {
    let scope = name.map_or_else(|| "global".to_owned(), ToString::to_string);
    let (mode, policy) = (setting.config.mode, setting.config.policy);
    let breaks = setting.consumer_breaks.as_str();
    if as_json {
        return print_json(&json!({
            "scope": scope,
            "mode": mode,
            "policy": policy,
            "consumer_breaks": breaks,
            "inherited": setting.inherited,
        }));
    }
    let note = if setting.inherited {
        " (inherited from the global settings)"
    } else {
        ""
    };
    let mut out = anstream::stdout().lock();
    writeln!(
        out,
        "{scope}: mode {mode}, policy {policy}, consumer breaks {breaks}{note}"
    )?;
    Ok(())
}

fn scope_name(name: Option<&ContractName>) -> String {
    name.map_or_else(|| "(global)".to_owned(), ToString::to_string)
}

fn optional_name(name: Option<&str>) -> Result<Option<ContractName>> {
    name.map(parse_name).transpose()
}

/// `accord config get [NAME]`.
pub async fn config_get(url: &str, name: Option<&str>, as_json: bool) -> Result<Outcome> {
    let name = optional_name(name)?;
    let client = connect(url).await?;
    let setting = client
        .get_config(name.as_ref())
        .await
        .with_context(|| format!("config get {}", scope_name(name.as_ref())))?;
    print_config(name.as_ref(), setting, as_json)?;
    Ok(Outcome::Success)
}

/// `accord config set [NAME] [--mode M] [--policy P] [--consumer-breaks B] [--clear]`.
pub async fn config_set(
    url: &str,
    name: Option<&str>,
    change: ConfigChange,
    as_json: bool,
) -> Result<Outcome> {
    let name = optional_name(name)?;
    let client = connect(url).await?;
    let setting = client
        .set_config(name.as_ref(), change)
        .await
        .with_context(|| format!("config set {}", scope_name(name.as_ref())))?;
    print_config(name.as_ref(), setting, as_json)?;
    Ok(Outcome::Success)
}

/// `accord deprecate NAME@VERSION --message M [--force --reason R]`.
pub async fn deprecate(
    url: &str,
    target: &str,
    message: &str,
    force: Option<&str>,
    as_json: bool,
) -> Result<Outcome> {
    let (name, version) = parse_target(target)?;
    let Some(version) = version else {
        bail!("deprecate needs COMPONENT/CONTRACT@VERSION, got {target:?}");
    };
    if message.trim().is_empty() {
        bail!("--message must say why {target} is deprecated and what to use instead");
    }
    let client = connect(url).await?;
    let stored = match force {
        Some(reason) => client.deprecate_forced(&name, &version, message, reason).await,
        None => client.deprecate(&name, &version, message).await,
    }
    .with_context(|| format!("deprecate {target}"))?;
    if as_json {
        print_json(&json!({ "contract": name.to_string(), "version": version_json(&stored) }))?;
    } else {
        let mut out = anstream::stdout().lock();
        writeln!(
            out,
            "deprecated {name}@{}: {}",
            stored.version,
            stored.deprecation_message.as_deref().unwrap_or(message)
        )?;
    }
    Ok(Outcome::Success)
}

/// Asks on the terminal before a delete; refuses when nobody can answer.
pub fn confirm_delete(target: &str, hard: bool) -> Result<bool> {
    // Check the target before asking: a typo should not need a "yes" first.
    parse_target(target)?;
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!("refusing to delete {target} without confirmation: stdin is not a terminal; pass --yes");
    }
    let how = if hard {
        "erase for good (cannot be undone)"
    } else {
        "delete (restorable)"
    };
    eprint!("{how} {target}? [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

/// `accord delete NAME[@VERSION] [--hard] [--force --reason R]`.
pub async fn delete(
    url: &str,
    target: &str,
    hard: bool,
    force: Option<&str>,
    as_json: bool,
) -> Result<Outcome> {
    let (name, version) = parse_target(target)?;
    let client = connect(url).await?;
    let deleted = match (&version, force) {
        (Some(version), Some(reason)) => {
            vec![client.delete_version_forced(&name, version, hard, reason).await]
        }
        (Some(version), None) => vec![client.delete_version(&name, version, hard).await],
        (None, _) => match match force {
            Some(reason) => client.delete_contract_forced(&name, hard, reason).await,
            None => client.delete_contract(&name, hard).await,
        } {
            Ok(versions) => versions.into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        },
    }
    .into_iter()
    .map(|r| r.map(|v| v.to_string()))
    .collect::<Result<Vec<_>, _>>()
    .with_context(|| format!("delete {target}"))?;
    if as_json {
        print_json(&json!({ "contract": name.to_string(), "hard": hard, "deleted": deleted }))?;
    } else {
        let how = if hard { "erased" } else { "deleted (restorable)" };
        let mut out = anstream::stdout().lock();
        writeln!(out, "{how} {name}: {}", deleted.join(", "))?;
    }
    Ok(Outcome::Success)
}

/// `accord restore NAME[@VERSION]`.
pub async fn restore(url: &str, target: &str, as_json: bool) -> Result<Outcome> {
    let (name, version) = parse_target(target)?;
    let client = connect(url).await?;
    let restored: Vec<String> = client
        .restore(&name, version.as_ref())
        .await
        .with_context(|| format!("restore {target}"))?
        .iter()
        .map(ToString::to_string)
        .collect();
    if as_json {
        print_json(&json!({ "contract": name.to_string(), "restored": restored }))?;
    } else {
        let mut out = anstream::stdout().lock();
        if restored.is_empty() {
            writeln!(out, "nothing to restore in {name}")?;
        } else {
            writeln!(out, "restored {name}: {}", restored.join(", "))?;
        }
    }
    Ok(Outcome::Success)
}

fn kind_name(kind: EventKind) -> &'static str {
    kind.as_str()
}

/// `accord watch [--from SEQ]`: one line per event, flushed at once so a
/// pipe reader sees each event as it happens. The registry never ends the
/// stream by itself: when it ends, the registry went away, and that is an
/// error that says where to resume.
pub async fn watch(url: &str, from: u64, component: Option<&str>, as_json: bool) -> Result<Outcome> {
    let client = connect(url).await?;
    let mut stream = client.watch(from, component).await.context("watch")?;
    let mut last = from;
    while let Some(item) = stream.next().await {
        let event = item.with_context(|| format!("watch (resume with --from {last})"))?;
        last = event.sequence;
        let mut out = anstream::stdout().lock();
        let (mode, policy) = config_names(event.config);
        if as_json {
            let row = json!({
                "sequence": event.sequence,
                "kind": kind_name(event.kind),
                "time": timestamp(event.time),
                "contract": event.name.as_ref().map(ToString::to_string),
                "version": event.version.as_ref().map(ToString::to_string),
                "fingerprint": event.fingerprint,
                "message": (!event.message.is_empty()).then_some(&event.message),
                "mode": mode,
                "policy": policy,
                "hard": event.hard,
                "consumer": event.consumer,
                "waiver_id": event.waiver_id,
            });
            serde_json::to_writer(&mut out, &row).map_err(std::io::Error::from)?;
            writeln!(out)?;
        } else {
            let mut target = event
                .name
                .as_ref()
                .map_or_else(|| "(global)".to_owned(), ToString::to_string);
            if let Some(version) = &event.version {
                target = format!("{target}@{version}");
            }
            // The registry's message usually says it all; the settings are
            // spelled out only when it says nothing.
            let mut detail = event.message.trim().to_owned();
            if detail.is_empty()
                && let (Some(mode), Some(policy)) = (&mode, &policy)
            {
                detail = format!("mode {mode}, policy {policy}");
            }
            if event.hard {
                detail = format!("(hard) {detail}");
            }
            let line = format!(
                "{:>6}  {}  {:<14}  {target}  {detail}",
                event.sequence,
                timestamp(event.time).unwrap_or_else(|| "-".into()),
                kind_name(event.kind),
            );
            writeln!(out, "{}", line.trim_end())?;
        }
        out.flush()?;
    }
    Err(accord_client::Error::Unreachable {
        url: url.to_owned(),
        message: format!("it ended the event stream (stopped or restarted); resume with --from {last}"),
    }
    .into())
}
