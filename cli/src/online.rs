//! The commands that talk to a registry, through `accord-client`.

use std::{
    io::{BufRead, IsTerminal, Write},
    path::Path,
    time::{Duration, SystemTime},
};

use accord_compat::{Mode, Policy};
use accord_proto::v1 as pb;
use anyhow::{Context, Result, bail};
use serde_json::json;
use tokio_stream::StreamExt;

use crate::{
    Outcome,
    manifest::Manifest,
    offline,
    report::{CheckReport, FindingOut, RegistryDecision, proto_bump_name},
};

type Raw = pb::registry_service_client::RegistryServiceClient<tonic::transport::Channel>;

/// Runs one command's future on a small runtime: the CLI makes a handful of
/// calls, a multi-threaded runtime would only cost start-up time.
pub fn block_on<T>(future: impl Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?
        .block_on(future)
}

/// A connection that remembers the address, so every failure can name it.
struct Registry {
    url: String,
    raw: Raw,
}

impl Registry {
    async fn connect(url: &str) -> Result<Self> {
        let client = accord_client::Client::connect(url).await?;
        Ok(Self {
            url: url.to_owned(),
            raw: client.raw(),
        })
    }

    /// Turns a refusal of the registry into an error that says what was asked.
    fn error(&self, what: &str, status: tonic::Status) -> anyhow::Error {
        match status.code() {
            tonic::Code::Unavailable => {
                anyhow::anyhow!("cannot reach the registry at {}: {}", self.url, status.message())
            }
            code => anyhow::anyhow!("{what}: {}: {}", code_name(code), status.message()),
        }
    }
}

fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code as C;
    match code {
        C::Ok => "ok",
        C::Cancelled => "cancelled",
        C::Unknown => "unknown error",
        C::InvalidArgument => "invalid argument",
        C::DeadlineExceeded => "deadline exceeded",
        C::NotFound => "not found",
        C::AlreadyExists => "already exists",
        C::PermissionDenied => "permission denied",
        C::ResourceExhausted => "too large",
        C::FailedPrecondition => "refused",
        C::Aborted => "aborted",
        C::OutOfRange => "out of range",
        C::Unimplemented => "not supported by this registry",
        C::Internal => "registry internal error",
        C::Unavailable => "unavailable",
        C::DataLoss => "data loss",
        C::Unauthenticated => "unauthenticated",
    }
}

/// Splits `component/contract`.
pub fn split_name(name: &str) -> Result<(&str, &str)> {
    match name.split_once('/') {
        Some((component, contract))
            if !component.is_empty() && !contract.is_empty() && !contract.contains('/') =>
        {
            Ok((component, contract))
        }
        _ => bail!("expected COMPONENT/CONTRACT (e.g. orders/order-placed), got {name:?}"),
    }
}

/// Splits `component/contract[@version]`.
fn split_target(target: &str) -> Result<(&str, &str, Option<&str>)> {
    let (name, version) = match target.split_once('@') {
        Some((name, version)) if !version.is_empty() => (name, Some(version)),
        Some(_) => bail!("expected COMPONENT/CONTRACT@VERSION, got {target:?}: the version is empty"),
        None => (target, None),
    };
    let (component, contract) = split_name(name)?;
    Ok((component, contract, version))
}

/// A prost enum name without its type prefix: `VERDICT_ACCEPTED` → `ACCEPTED`.
fn short(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix).unwrap_or(name).to_owned()
}

fn mode_name(mode: i32) -> String {
    pb::CompatibilityMode::try_from(mode)
        .map(|m| short(m.as_str_name(), "COMPATIBILITY_MODE_"))
        .unwrap_or_else(|_| format!("mode {mode}"))
}

fn policy_name(policy: i32) -> String {
    pb::CompatibilityPolicy::try_from(policy)
        .map(|p| short(p.as_str_name(), "COMPATIBILITY_POLICY_"))
        .unwrap_or_else(|_| format!("policy {policy}"))
}

fn verdict_name(verdict: i32) -> String {
    pb::Verdict::try_from(verdict)
        .map(|v| short(v.as_str_name(), "VERDICT_"))
        .unwrap_or_else(|_| format!("verdict {verdict}"))
}

fn mode_to_proto(mode: Option<Mode>) -> i32 {
    use pb::CompatibilityMode as M;
    let mode = match mode {
        None => M::Unspecified,
        Some(Mode::None) => M::None,
        Some(Mode::Backward) => M::Backward,
        Some(Mode::BackwardTransitive) => M::BackwardTransitive,
        Some(Mode::Forward) => M::Forward,
        Some(Mode::ForwardTransitive) => M::ForwardTransitive,
        Some(Mode::Full) => M::Full,
        Some(Mode::FullTransitive) => M::FullTransitive,
    };
    mode as i32
}

fn policy_to_proto(policy: Option<Policy>) -> i32 {
    use pb::CompatibilityPolicy as P;
    let policy = match policy {
        None => P::Unspecified,
        Some(Policy::Strict) => P::Strict,
        Some(Policy::Lenient) => P::Lenient,
    };
    policy as i32
}

fn config_names(config: Option<&pb::CompatibilityConfig>) -> (String, String) {
    config
        .map(|c| (mode_name(c.mode), policy_name(c.policy)))
        .unwrap_or_default()
}

fn findings(list: &[pb::Finding]) -> Vec<FindingOut> {
    list.iter().map(FindingOut::from_proto).collect()
}

fn timestamp(ts: Option<&prost_types::Timestamp>) -> Option<String> {
    let ts = ts?;
    let secs = u64::try_from(ts.seconds).ok()?;
    let nanos = u32::try_from(ts.nanos).unwrap_or(0);
    let time = SystemTime::UNIX_EPOCH.checked_add(Duration::new(secs, nanos))?;
    Some(humantime::format_rfc3339_seconds(time).to_string())
}

/// `accord check FILE --contract C [--version V]`: the publish decision, dry.
pub async fn check(url: &str, contract: &str, file: &Path, version: Option<&str>) -> Result<CheckReport> {
    let (component, name) = split_name(contract)?;
    // Parse locally first so a broken file is reported against its path.
    offline::load(file)?;
    let schema = offline::read(file)?;
    let mut registry = Registry::connect(url).await?;
    check_one(
        &mut registry,
        component,
        name,
        file,
        schema,
        version.unwrap_or_default(),
    )
    .await
}

async fn check_one(
    registry: &mut Registry,
    component: &str,
    contract: &str,
    file: &Path,
    schema: String,
    version: &str,
) -> Result<CheckReport> {
    let reply = registry
        .raw
        .check_compatibility(pb::CheckCompatibilityRequest {
            component: component.to_owned(),
            contract: contract.to_owned(),
            schema,
            version: version.to_owned(),
        })
        .await
        .map_err(|s| registry.error(&format!("check {component}/{contract}"), s))?
        .into_inner();
    let (mode, policy) = config_names(reply.config.as_ref());
    Ok(CheckReport {
        contract: format!("{component}/{contract}"),
        schema_file: Some(file.display().to_string()),
        compatible: reply.accepted,
        mode,
        policy,
        required_bump: proto_bump_name(reply.required_bump).to_owned(),
        findings: findings(&reply.findings),
        registry: Some(RegistryDecision {
            verdict: verdict_name(reply.verdict),
            explanation: reply.message,
            version: reply.version,
            predecessor_version: reply.predecessor_version,
            smallest_acceptable_version: reply.smallest_acceptable_version,
            checked_against: reply.checked_against,
        }),
    })
}

/// `accord check` with accord.toml: every listed contract, dry.
pub async fn check_manifest(url: &str, manifest: &Manifest) -> Result<Vec<CheckReport>> {
    let mut schemas = Vec::with_capacity(manifest.contracts.len());
    for entry in &manifest.contracts {
        offline::load(&entry.schema)?;
        schemas.push(offline::read(&entry.schema)?);
    }
    let mut registry = Registry::connect(url).await?;
    let mut reports = Vec::with_capacity(schemas.len());
    for (entry, schema) in manifest.contracts.iter().zip(schemas) {
        let (component, contract) = split_name(&entry.name)?;
        reports.push(
            check_one(
                &mut registry,
                component,
                contract,
                &entry.schema,
                schema,
                &entry.version,
            )
            .await?,
        );
    }
    Ok(reports)
}

/// `accord publish NAME FILE [--version V]`.
pub async fn publish(url: &str, name: &str, file: &Path, version: Option<&str>) -> Result<CheckReport> {
    let (component, contract) = split_name(name)?;
    offline::load(file)?;
    let schema = offline::read(file)?;
    let mut registry = Registry::connect(url).await?;
    publish_one(
        &mut registry,
        component,
        contract,
        file,
        schema,
        version.unwrap_or_default(),
    )
    .await
}

async fn publish_one(
    registry: &mut Registry,
    component: &str,
    contract: &str,
    file: &Path,
    schema: String,
    version: &str,
) -> Result<CheckReport> {
    let what = format!("publish {component}/{contract}");
    let reply = registry
        .raw
        .publish_contract(pb::PublishContractRequest {
            component: component.to_owned(),
            contract: contract.to_owned(),
            schema,
            version: version.to_owned(),
        })
        .await;
    let full_name = format!("{component}/{contract}");
    match reply {
        Ok(reply) => {
            let reply = reply.into_inner();
            let config = registry
                .raw
                .get_compatibility_config(pb::GetCompatibilityConfigRequest {
                    component: component.to_owned(),
                    contract: contract.to_owned(),
                })
                .await
                .map_err(|s| registry.error(&format!("read the settings of {full_name}"), s))?
                .into_inner();
            let (mode, policy) = config_names(config.config.as_ref());
            let stored = reply.contract.unwrap_or_default();
            let verdict = if reply.created {
                "ACCEPTED"
            } else {
                "ALREADY_PUBLISHED"
            };
            let explanation = if reply.created {
                format!("published {full_name}@{}", stored.version)
            } else {
                format!(
                    "{full_name}@{} was already published with this content",
                    stored.version
                )
            };
            Ok(CheckReport {
                contract: full_name,
                schema_file: Some(file.display().to_string()),
                compatible: true,
                mode,
                policy,
                required_bump: proto_bump_name(reply.required_bump).to_owned(),
                findings: findings(&reply.findings),
                registry: Some(RegistryDecision {
                    verdict: verdict.to_owned(),
                    explanation,
                    version: stored.version,
                    predecessor_version: reply.predecessor_version,
                    smallest_acceptable_version: String::new(),
                    checked_against: Vec::new(),
                }),
            })
        }
        Err(status) => match accord_proto::details::violation_of(&status) {
            Some(violation) => {
                let (mode, policy) = config_names(violation.config.as_ref());
                Ok(CheckReport {
                    contract: full_name,
                    schema_file: Some(file.display().to_string()),
                    compatible: false,
                    mode,
                    policy,
                    required_bump: proto_bump_name(violation.required_bump).to_owned(),
                    findings: findings(&violation.findings),
                    registry: Some(RegistryDecision {
                        verdict: verdict_name(violation.verdict),
                        explanation: status.message().to_owned(),
                        version: version.to_owned(),
                        predecessor_version: violation.predecessor_version,
                        smallest_acceptable_version: violation.smallest_acceptable_version,
                        checked_against: Vec::new(),
                    }),
                })
            }
            None => Err(registry.error(&what, status)),
        },
    }
}

/// `accord publish` with accord.toml: publishes in order, stops at the
/// first refusal (exit 1) or error (exit 2), after printing what was done.
pub async fn publish_manifest(url: &str, manifest: &Manifest) -> Result<(Vec<CheckReport>, Result<Outcome>)> {
    let mut schemas = Vec::with_capacity(manifest.contracts.len());
    for entry in &manifest.contracts {
        offline::load(&entry.schema)?;
        schemas.push(offline::read(&entry.schema)?);
    }
    let mut registry = Registry::connect(url).await?;
    let mut reports = Vec::new();
    for (entry, schema) in manifest.contracts.iter().zip(schemas) {
        let (component, contract) = split_name(&entry.name)?;
        match publish_one(
            &mut registry,
            component,
            contract,
            &entry.schema,
            schema,
            &entry.version,
        )
        .await
        {
            Ok(report) => {
                let refused = !report.compatible;
                reports.push(report);
                if refused {
                    return Ok((reports, Ok(Outcome::Breaking)));
                }
            }
            Err(e) => {
                let e = e.context(format!("{}: {}", manifest.path.display(), entry.name));
                return Ok((reports, Err(e)));
            }
        }
    }
    Ok((reports, Ok(Outcome::Success)))
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
    let (component, contract) = split_name(name)?;
    let mut registry = Registry::connect(url).await?;
    let reply = registry
        .raw
        .diff_versions(pb::DiffVersionsRequest {
            component: component.to_owned(),
            contract: contract.to_owned(),
            from_version: from.to_owned(),
            to_version: to.to_owned(),
            mode: mode_to_proto(mode),
            policy: policy_to_proto(policy),
        })
        .await
        .map_err(|s| registry.error(&format!("diff {name} {from} {to}"), s))?
        .into_inner();
    let (mode, policy) = config_names(reply.config.as_ref());
    Ok(CheckReport {
        contract: format!("{name} {from} → {to}"),
        schema_file: None,
        compatible: reply.compatible,
        mode,
        policy,
        required_bump: proto_bump_name(reply.required_bump).to_owned(),
        findings: findings(&reply.findings),
        registry: None,
    })
}

/// `accord get NAME [VERSION]`: the stored schema text, byte for byte.
pub async fn get(url: &str, name: &str, version: Option<&str>) -> Result<Outcome> {
    let (component, contract) = split_name(name)?;
    let mut registry = Registry::connect(url).await?;
    let what = match version {
        Some(v) => format!("get {name} {v}"),
        None => format!("get {name}"),
    };
    let reply = registry
        .raw
        .get_contract(pb::GetContractRequest {
            component: component.to_owned(),
            contract: contract.to_owned(),
            version: version.unwrap_or_default().to_owned(),
        })
        .await
        .map_err(|s| registry.error(&what, s))?
        .into_inner();
    let stored = reply
        .contract
        .context("the registry answered without the contract")?;
    if stored.state == pb::VersionState::Deprecated as i32 {
        eprintln!(
            "warning: {name}@{} is deprecated: {}",
            stored.version, stored.deprecation_message
        );
    }
    // Not through anstream: the schema must come out exactly as stored.
    let mut out = std::io::stdout().lock();
    out.write_all(stored.schema.as_bytes())?;
    out.flush()?;
    Ok(Outcome::Success)
}

fn version_json(v: &pb::ContractVersion) -> serde_json::Value {
    json!({
        "version": v.version,
        "state": pb::VersionState::try_from(v.state)
            .map(|s| short(s.as_str_name(), "VERSION_STATE_"))
            .unwrap_or_default(),
        "fingerprint": v.fingerprint,
        "bump": proto_bump_name(v.bump),
        "created_at": timestamp(v.created_at.as_ref()),
        "deprecated_at": timestamp(v.deprecated_at.as_ref()),
        "deprecation_message": (!v.deprecation_message.is_empty()).then_some(&v.deprecation_message),
        "deleted_at": timestamp(v.deleted_at.as_ref()),
    })
}

fn print_json(value: &serde_json::Value) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// `accord versions NAME`.
pub async fn versions(url: &str, name: &str, include_deleted: bool, as_json: bool) -> Result<Outcome> {
    let (component, contract) = split_name(name)?;
    let mut registry = Registry::connect(url).await?;
    let mut all = Vec::new();
    let mut page_token = String::new();
    loop {
        let reply = registry
            .raw
            .list_versions(pb::ListVersionsRequest {
                component: component.to_owned(),
                contract: contract.to_owned(),
                page_size: 0,
                page_token: page_token.clone(),
                include_deleted,
            })
            .await
            .map_err(|s| registry.error(&format!("versions {name}"), s))?
            .into_inner();
        all.extend(reply.versions);
        if reply.next_page_token.is_empty() || reply.next_page_token == page_token {
            break;
        }
        page_token = reply.next_page_token;
    }
    let rows: Vec<serde_json::Value> = all.iter().map(version_json).collect();
    if as_json {
        print_json(&json!({ "contract": name, "versions": rows }))?;
        return Ok(Outcome::Success);
    }
    let mut out = anstream::stdout().lock();
    let width = all.iter().map(|v| v.version.len()).max().unwrap_or(7).max(7);
    writeln!(
        out,
        "{:<width$}  {:<10}  {:<20}  {:<5}  NOTE",
        "VERSION", "STATE", "PUBLISHED", "BUMP"
    )?;
    for (v, row) in all.iter().zip(&rows) {
        let mut note = String::new();
        if !v.deprecation_message.is_empty() {
            note = format!("deprecated: {}", v.deprecation_message);
        }
        if let Some(deleted) = row["deleted_at"].as_str() {
            note = format!("deleted {deleted}");
        }
        writeln!(
            out,
            "{:<width$}  {:<10}  {:<20}  {:<5}  {note}",
            v.version,
            row["state"].as_str().unwrap_or_default().to_ascii_lowercase(),
            row["created_at"].as_str().unwrap_or("-"),
            proto_bump_name(v.bump),
        )?;
    }
    Ok(Outcome::Success)
}

/// `accord list [COMPONENT]`.
pub async fn list(url: &str, component: Option<&str>, as_json: bool) -> Result<Outcome> {
    let mut registry = Registry::connect(url).await?;
    let mut page_token = String::new();
    let mut rows = Vec::new();
    loop {
        let next = match component {
            None => {
                let reply = registry
                    .raw
                    .list_components(pb::ListComponentsRequest {
                        page_size: 0,
                        page_token: page_token.clone(),
                    })
                    .await
                    .map_err(|s| registry.error("list components", s))?
                    .into_inner();
                rows.extend(
                    reply
                        .components
                        .iter()
                        .map(|c| json!({ "component": c.name, "contracts": c.contract_count })),
                );
                reply.next_page_token
            }
            Some(component) => {
                let reply = registry
                    .raw
                    .list_contracts(pb::ListContractsRequest {
                        component: component.to_owned(),
                        page_size: 0,
                        page_token: page_token.clone(),
                    })
                    .await
                    .map_err(|s| registry.error(&format!("list {component}"), s))?
                    .into_inner();
                rows.extend(reply.contracts.iter().map(|c| {
                    json!({
                        "contract": format!("{}/{}", c.component, c.contract),
                        "latest_version": c.latest_version,
                        "versions": c.version_count,
                    })
                }));
                reply.next_page_token
            }
        };
        if next.is_empty() || next == page_token {
            break;
        }
        page_token = next;
    }
    if as_json {
        let key = if component.is_some() {
            "contracts"
        } else {
            "components"
        };
        print_json(&json!({ key: rows }))?;
        return Ok(Outcome::Success);
    }
    let mut out = anstream::stdout().lock();
    for row in &rows {
        match component {
            None => writeln!(
                out,
                "{}  ({} contracts)",
                row["component"].as_str().unwrap_or_default(),
                row["contracts"]
            )?,
            Some(_) => writeln!(
                out,
                "{}  {}  ({} versions)",
                row["contract"].as_str().unwrap_or_default(),
                row["latest_version"].as_str().unwrap_or_default(),
                row["versions"]
            )?,
        }
    }
    Ok(Outcome::Success)
}

fn split_optional(name: Option<&str>) -> Result<(String, String)> {
    match name {
        None => Ok((String::new(), String::new())),
        Some(name) => {
            let (component, contract) = split_name(name)?;
            Ok((component.to_owned(), contract.to_owned()))
        }
    }
}

fn print_config(
    name: Option<&str>,
    config: Option<&pb::CompatibilityConfig>,
    inherited: bool,
    as_json: bool,
) -> Result<()> {
    let (mode, policy) = config_names(config);
    let scope = name.unwrap_or("global");
    if as_json {
        return print_json(&json!({
            "scope": scope,
            "mode": mode,
            "policy": policy,
            "inherited": inherited,
        }));
    }
    let note = if inherited {
        " (inherited from the global settings)"
    } else {
        ""
    };
    let mut out = anstream::stdout().lock();
    writeln!(out, "{scope}: mode {mode}, policy {policy}{note}")?;
    Ok(())
}

/// `accord config get [NAME]`.
pub async fn config_get(url: &str, name: Option<&str>, as_json: bool) -> Result<Outcome> {
    let (component, contract) = split_optional(name)?;
    let mut registry = Registry::connect(url).await?;
    let reply = registry
        .raw
        .get_compatibility_config(pb::GetCompatibilityConfigRequest { component, contract })
        .await
        .map_err(|s| registry.error(&format!("config get {}", name.unwrap_or("(global)")), s))?
        .into_inner();
    print_config(name, reply.config.as_ref(), reply.inherited, as_json)?;
    Ok(Outcome::Success)
}

/// `accord config set [NAME] [--mode M] [--policy P] [--clear]`.
pub async fn config_set(
    url: &str,
    name: Option<&str>,
    mode: Option<Mode>,
    policy: Option<Policy>,
    clear: bool,
    as_json: bool,
) -> Result<Outcome> {
    let (component, contract) = split_optional(name)?;
    let mut registry = Registry::connect(url).await?;
    let reply = registry
        .raw
        .set_compatibility_config(pb::SetCompatibilityConfigRequest {
            component,
            contract,
            mode: mode_to_proto(mode),
            policy: policy_to_proto(policy),
            clear,
        })
        .await
        .map_err(|s| registry.error(&format!("config set {}", name.unwrap_or("(global)")), s))?
        .into_inner();
    print_config(name, reply.config.as_ref(), reply.inherited, as_json)?;
    Ok(Outcome::Success)
}

/// `accord deprecate NAME@VERSION --message M`.
pub async fn deprecate(url: &str, target: &str, message: &str, as_json: bool) -> Result<Outcome> {
    let (component, contract, version) = split_target(target)?;
    let Some(version) = version else {
        bail!("deprecate needs COMPONENT/CONTRACT@VERSION, got {target:?}");
    };
    if message.trim().is_empty() {
        bail!("--message must say why {target} is deprecated and what to use instead");
    }
    let mut registry = Registry::connect(url).await?;
    let reply = registry
        .raw
        .deprecate_version(pb::DeprecateVersionRequest {
            component: component.to_owned(),
            contract: contract.to_owned(),
            version: version.to_owned(),
            message: message.to_owned(),
        })
        .await
        .map_err(|s| registry.error(&format!("deprecate {target}"), s))?
        .into_inner();
    let stored = reply.contract.unwrap_or_default();
    if as_json {
        print_json(
            &json!({ "contract": format!("{component}/{contract}"), "version": version_json(&stored) }),
        )?;
    } else {
        let mut out = anstream::stdout().lock();
        writeln!(
            out,
            "deprecated {component}/{contract}@{}: {}",
            stored.version, stored.deprecation_message
        )?;
    }
    Ok(Outcome::Success)
}

/// Asks on the terminal before a delete; refuses when nobody can answer.
pub fn confirm_delete(target: &str, hard: bool) -> Result<bool> {
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

/// `accord delete NAME[@VERSION] [--hard]`.
pub async fn delete(url: &str, target: &str, hard: bool, as_json: bool) -> Result<Outcome> {
    let (component, contract, version) = split_target(target)?;
    let mut registry = Registry::connect(url).await?;
    let what = format!("delete {target}");
    let deleted = match version {
        Some(version) => {
            let reply = registry
                .raw
                .delete_version(pb::DeleteVersionRequest {
                    component: component.to_owned(),
                    contract: contract.to_owned(),
                    version: version.to_owned(),
                    hard,
                })
                .await
                .map_err(|s| registry.error(&what, s))?
                .into_inner();
            vec![reply.version]
        }
        None => {
            registry
                .raw
                .delete_contract(pb::DeleteContractRequest {
                    component: component.to_owned(),
                    contract: contract.to_owned(),
                    hard,
                })
                .await
                .map_err(|s| registry.error(&what, s))?
                .into_inner()
                .versions
        }
    };
    if as_json {
        print_json(&json!({
            "contract": format!("{component}/{contract}"),
            "hard": hard,
            "deleted": deleted,
        }))?;
    } else {
        let how = if hard { "erased" } else { "deleted (restorable)" };
        let mut out = anstream::stdout().lock();
        writeln!(out, "{how} {component}/{contract}: {}", deleted.join(", "))?;
    }
    Ok(Outcome::Success)
}

fn event_json(e: &pb::Event) -> serde_json::Value {
    let (mode, policy) = config_names(e.config.as_ref());
    json!({
        "sequence": e.sequence,
        "kind": pb::EventKind::try_from(e.kind)
            .map(|k| short(k.as_str_name(), "EVENT_KIND_"))
            .unwrap_or_default(),
        "time": timestamp(e.time.as_ref()),
        "component": e.component,
        "contract": e.contract,
        "version": e.version,
        "fingerprint": e.fingerprint,
        "message": e.message,
        "mode": (!mode.is_empty()).then_some(mode),
        "policy": (!policy.is_empty()).then_some(policy),
        "hard": e.hard,
    })
}

/// `accord watch [--from SEQ]`: one line per event, flushed at once so a
/// pipe reader sees each event as it happens.
pub async fn watch(url: &str, from: u64, component: Option<&str>, as_json: bool) -> Result<Outcome> {
    let mut registry = Registry::connect(url).await?;
    let mut stream = registry
        .raw
        .watch_events(pb::WatchEventsRequest {
            after_sequence: from,
            component: component.unwrap_or_default().to_owned(),
        })
        .await
        .map_err(|s| registry.error("watch", s))?
        .into_inner();
    while let Some(item) = stream.next().await {
        let reply = item.map_err(|s| registry.error("watch", s))?;
        let Some(event) = reply.event else { continue };
        let row = event_json(&event);
        let mut out = anstream::stdout().lock();
        if as_json {
            serde_json::to_writer(&mut out, &row)?;
            writeln!(out)?;
        } else {
            let mut target = format!("{}/{}", event.component, event.contract);
            if target == "/" {
                target = "(global)".to_owned();
            }
            if !event.version.is_empty() {
                target = format!("{target}@{}", event.version);
            }
            let mut detail = event.message.clone();
            if let (Some(mode), Some(policy)) = (row["mode"].as_str(), row["policy"].as_str()) {
                detail = format!("mode {mode}, policy {policy} {detail}");
            }
            writeln!(
                out,
                "{:>6}  {}  {:<14}  {target}  {}",
                event.sequence,
                row["time"].as_str().unwrap_or("-"),
                row["kind"].as_str().unwrap_or_default().to_ascii_lowercase(),
                detail.trim()
            )?;
        }
        out.flush()?;
    }
    Ok(Outcome::Success)
}
