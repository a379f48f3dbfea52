//! `accord`: the command-line interface of the Accord contract registry.
//!
//! - `main.rs`: the command line (clap), dispatch and exit codes.
//! - [`access`]: the token and TLS settings of registry calls, and `audit`.
//! - [`offline`]: `check --against` and `diff OLD NEW` through the engine.
//! - [`online`]: the commands that talk to a registry through `accord-client`.
//! - [`manifest`]: `accord.toml`, contracts as code.
//! - [`report`]: the shape every check, diff and publish result takes.
//! - [`render`]: text, JSON, GitHub, JUnit and SARIF output.
//! - [`rules`]: rule metadata for SARIF.
//! - [`locate`]: the line of a JSON pointer in a schema file, for annotations.

mod access;
mod locate;
mod manifest;
mod offline;
mod online;
mod render;
mod report;
mod rules;

use std::{io::Write, path::PathBuf, process::ExitCode};

use accord_compat::{Mode, Policy};
use clap::{Args, Parser, Subcommand};

use crate::render::{Format, Kind};

const STRICT_SCHEMA_HELP: &str = "Refuse a schema file whose `$schema` names no draft Accord \
    knows (4, 6, 7, 2019-09, 2020-12). Without it such a file is read as draft-07 and a warning \
    names it on stderr. Offline only: a registry applies its own setting.";

const EXIT_CODES: &str = "\
Exit codes:
  0  success; the change is compatible
  1  breaking changes found: a check or publish refused, a diff with breaking findings
  2  any other error: bad input, unreadable file, not found, registry unreachable";

/// Work with versioned contracts (JSON Schema) from a terminal or from CI.
#[derive(Debug, Parser)]
#[command(
    name = "accord",
    version,
    after_help = EXIT_CODES,
    long_about = "Work with versioned contracts (JSON Schema) from a terminal or from CI.\n\n\
        Offline, `accord check` and `accord diff` compare schema files with the \
        compatibility engine; no registry is needed. The other commands talk to an \
        Accord registry (--registry)."
)]
struct Cli {
    /// Registry address.
    #[arg(
        long,
        env = "ACCORD_REGISTRY",
        default_value = "http://127.0.0.1:50051",
        global = true,
        long_help = "The gRPC address of the Accord registry, with its scheme, e.g. \
            http://registry.internal:50051. Offline commands ignore it."
    )]
    registry: String,

    /// Bearer token for a registry that requires one.
    #[arg(
        long,
        env = "ACCORD_TOKEN",
        hide_env_values = true,
        global = true,
        long_help = "Bearer token sent with every registry call, as created by \
            `accord-registry token create`. Prefer the ACCORD_TOKEN environment variable: \
            a flag shows in the process list."
    )]
    token: Option<String>,

    /// CA certificate (PEM) to verify an https:// registry.
    #[arg(
        long,
        env = "ACCORD_TLS_CA",
        value_name = "PEM",
        global = true,
        long_help = "PEM file of the CA certificate(s) that an https:// registry's certificate \
            must chain to. Required with an https:// --registry; no system roots are trusted."
    )]
    tls_ca: Option<PathBuf>,

    /// Client certificate (PEM), for a registry that verifies clients.
    #[arg(
        long,
        env = "ACCORD_CLIENT_CERT",
        value_name = "PEM",
        global = true,
        requires = "tls_key"
    )]
    tls_cert: Option<PathBuf>,

    /// Private key (PEM) of --tls-cert.
    #[arg(
        long,
        env = "ACCORD_CLIENT_KEY",
        value_name = "PEM",
        global = true,
        requires = "tls_cert"
    )]
    tls_key: Option<PathBuf>,

    /// Never colour the output.
    #[arg(
        long,
        global = true,
        long_help = "Never colour the output. Text output is coloured only on a terminal; \
            setting NO_COLOR in the environment does the same as this flag, and \
            CLICOLOR_FORCE=1 forces colour into a pipe."
    )]
    no_color: bool,

    /// Output format.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        long_help = "Output format. text: for a person, grouped, breaking findings marked, \
            coloured on a terminal. json: one stable object (see README). github: GitHub \
            Actions workflow commands pointing at the schema file. junit: JUnit XML, one \
            test case per contract. sarif: SARIF 2.1.0, one result per finding. check, diff \
            and publish take all five; the other commands text or json (watch: one JSON \
            object per line); get always prints the schema."
    )]
    format: Format,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct Judgement {
    /// Compatibility mode [default: BACKWARD offline, the contract's own online].
    #[arg(
        long,
        value_parser = parse_mode,
        long_help = "Compatibility mode, case-insensitive: NONE, BACKWARD, BACKWARD_TRANSITIVE, \
            FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE. Offline it defaults to BACKWARD; \
            against a registry, the contract's configured mode applies."
    )]
    mode: Option<Mode>,

    /// Policy: strict or lenient [default: strict offline, the contract's own online].
    #[arg(
        long,
        value_parser = parse_policy,
        long_help = "Which differences count as compatible: STRICT (Confluent's default set) \
            or LENIENT (open content model edits accepted). Offline it defaults to STRICT."
    )]
    policy: Option<Policy>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a schema for compatibility: offline against files, or as a dry-run publish.
    #[command(after_help = concat!(
        "Examples:\n",
        "  accord check order-placed.v2.json --against order-placed.v1.json\n",
        "  accord check new.json --against v3.json --against v2.json --mode backward_transitive\n",
        "  accord check new.json --contract orders/order-placed --version 1.5.0 --format github\n",
        "  accord check                 # every contract of ./accord.toml, against the registry\n",
        "\n",
        "Exit codes: 0 compatible, 1 incompatible, 2 error."
    ))]
    Check {
        /// The new schema file (none: every contract listed in accord.toml).
        #[arg(
            long_help = "The new schema file. Without it, every contract of the manifest \
            (--manifest, default ./accord.toml) is checked against the registry."
        )]
        file: Option<PathBuf>,

        /// An earlier schema file to check against (offline); repeat for older ones.
        #[arg(
            long,
            value_name = "OLD",
            conflicts_with = "contract",
            long_help = "An earlier schema file to check against, with no registry. Repeat \
                it for older versions, latest first: a _TRANSITIVE mode checks against each, \
                the other modes against the first one only."
        )]
        against: Vec<PathBuf>,

        /// The registered contract (component/contract) to dry-run a publish against.
        #[arg(
            long,
            value_name = "COMPONENT/CONTRACT",
            long_help = "Ask the registry whether publishing FILE as this contract would be \
                accepted, without storing anything: exactly the publish decision."
        )]
        contract: Option<String>,

        /// The version that would be published (with --contract).
        #[arg(
            long,
            requires = "contract",
            long_help = "The version that would be published. Without it the registry \
                assigns the next version from the required bump, as publish does."
        )]
        version: Option<String>,

        /// The contracts-as-code manifest.
        ///
        /// Used when no schema file is given: one [[contract]] table per contract,
        /// with name (component/contract), schema (a path relative to the manifest)
        /// and version.
        #[arg(long, default_value = "accord.toml", value_name = "PATH")]
        manifest: PathBuf,

        #[command(flatten)]
        judgement: Judgement,

        /// Refuse a `$schema` Accord does not know (offline).
        #[arg(long, long_help = STRICT_SCHEMA_HELP)]
        strict_schema: bool,
    },

    /// Show every difference between two schemas, breaking ones marked.
    #[command(after_help = concat!(
        "Examples:\n",
        "  accord diff order-placed.v1.json order-placed.v2.json\n",
        "  accord diff orders/order-placed 1.4.0 2.0.0\n",
        "\n",
        "Exit codes: 0 no breaking difference, 1 breaking differences, 2 error."
    ))]
    Diff {
        /// OLD.json NEW.json, or COMPONENT/CONTRACT FROM TO for stored versions.
        #[arg(
            num_args = 2..=3,
            required = true,
            value_name = "ARGS",
            long_help = "Either two schema files, OLD.json NEW.json (offline), or a \
                registered contract and two of its versions: COMPONENT/CONTRACT FROM TO."
        )]
        args: Vec<String>,

        #[command(flatten)]
        judgement: Judgement,

        /// Refuse a `$schema` Accord does not know (offline).
        #[arg(long, long_help = STRICT_SCHEMA_HELP)]
        strict_schema: bool,
    },

    /// Publish a new version of a contract.
    #[command(after_help = concat!(
        "Examples:\n",
        "  accord publish orders/order-placed order-placed.json --version 1.5.0\n",
        "  accord publish orders/order-placed order-placed.json    # the registry picks the version\n",
        "  accord publish               # the contracts of ./accord.toml not yet registered\n",
        "\n",
        "Exit codes: 0 published (or already there), 1 refused as incompatible, 2 error."
    ))]
    Publish {
        /// COMPONENT/CONTRACT (none: the contracts listed in accord.toml).
        name: Option<String>,

        /// The schema file.
        #[arg(requires = "name")]
        file: Option<PathBuf>,

        /// The version to publish (default: the next one the change requires).
        ///
        /// A version whose bump over its predecessor is smaller than the change
        /// requires is refused (exit 1), and the answer names the smallest one
        /// that would be accepted.
        #[arg(long)]
        version: Option<String>,

        /// The contracts-as-code manifest.
        ///
        /// Used when no schema file is given: one [[contract]] table per contract,
        /// with name (component/contract), schema (a path relative to the manifest)
        /// and version.
        #[arg(long, default_value = "accord.toml", value_name = "PATH")]
        manifest: PathBuf,
    },

    /// Print a stored schema: nothing but its JSON on stdout.
    #[command(after_help = concat!(
        "Examples:\n",
        "  accord get orders/order-placed              # the latest release\n",
        "  accord get orders/order-placed 1.4.0\n",
        "  accord get orders/order-placed '^1.2' > order-placed.json"
    ))]
    Get {
        /// COMPONENT/CONTRACT.
        name: String,
        /// An exact version, a semver requirement (^1.2, ~1.4, ">=1, <3"); default the latest.
        version: Option<String>,
    },

    /// List the versions of a contract, oldest first, with dates and deprecations.
    #[command(after_help = "Example:\n  accord versions orders/order-placed --include-deleted")]
    Versions {
        /// COMPONENT/CONTRACT.
        name: String,
        /// Also list soft-deleted versions.
        ///
        /// Soft-deleted versions are hidden from reads but can be restored by an
        /// admin; they are listed with the time they were deleted.
        #[arg(long)]
        include_deleted: bool,
    },

    /// List the components, or the contracts of one component.
    #[command(after_help = "Examples:\n  accord list\n  accord list orders --format json")]
    List {
        /// A component: list its contracts instead of the components.
        component: Option<String>,
    },

    /// Read or change compatibility settings.
    #[command(subcommand)]
    Config(ConfigCommand),

    /// Mark a version as deprecated; it is still served, flagged with the message.
    #[command(
        after_help = "Example:\n  accord deprecate orders/order-placed@1.2.0 --message 'use 2.x: amounts are in cents'"
    )]
    Deprecate {
        /// COMPONENT/CONTRACT@VERSION.
        target: String,
        /// Why, and what to use instead.
        ///
        /// Readers that fetch the version see this message (the client logs it,
        /// `accord get` prints it on stderr), so say what to move to.
        #[arg(long, short)]
        message: String,
    },

    /// Delete a contract or one version: hidden and restorable unless --hard.
    #[command(after_help = concat!(
        "Examples:\n",
        "  accord delete orders/order-placed@1.0.0\n",
        "  accord delete orders/order-placed --hard --yes    # in a script: no prompt"
    ))]
    Delete {
        /// COMPONENT/CONTRACT (every version) or COMPONENT/CONTRACT@VERSION.
        target: String,
        /// Erase for good instead of hiding. Cannot be undone.
        ///
        /// Without it the versions are hidden from reads and can be restored.
        /// With it their schemas are erased from the registry's store.
        #[arg(long)]
        hard: bool,
        /// Do not ask for confirmation (required when stdin is not a terminal).
        ///
        /// On a terminal, delete asks before acting. In a script, where nobody can
        /// answer, it refuses to act unless --yes says the deletion is intended.
        #[arg(long, short)]
        yes: bool,
    },

    /// Bring back soft-deleted versions of a contract: one, or all of them.
    #[command(after_help = concat!(
        "Examples:\n",
        "  accord restore orders/order-placed@1.0.0\n",
        "  accord restore orders/order-placed          # every soft-deleted version"
    ))]
    Restore {
        /// COMPONENT/CONTRACT (every soft-deleted version) or COMPONENT/CONTRACT@VERSION.
        target: String,
    },

    /// Print registry events as they happen, one line each.
    #[command(after_help = concat!(
        "Examples:\n",
        "  accord watch\n",
        "  accord watch --from 120 --component orders --format json   # JSON Lines"
    ))]
    Watch {
        /// Start after this sequence number (0: every event from the start).
        ///
        /// Each event line starts with its sequence number; to resume after an
        /// interruption, pass the last one seen.
        #[arg(long, default_value_t = 0, value_name = "SEQ")]
        from: u64,
        /// Only events of this component.
        ///
        /// Events of other components, and changes of the global settings, are
        /// not printed.
        #[arg(long)]
        component: Option<String>,
    },

    /// List the write attempts the registry recorded, accepted and refused (admin).
    #[command(after_help = concat!(
        "Examples:\n",
        "  accord audit --since 24h\n",
        "  accord audit --since 2026-11-27T09:00:00Z --format json"
    ))]
    Audit {
        /// Only attempts at or after this time: RFC 3339, or a duration before now.
        ///
        /// e.g. 2026-11-27T09:00:00Z, or 90m, 24h, 7d. Without it, the whole log.
        #[arg(long, value_name = "TIME", value_parser = access::parse_since)]
        since: Option<std::time::SystemTime>,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Show the settings in force for a contract, or the global ones.
    #[command(after_help = "Examples:\n  accord config get\n  accord config get orders/order-placed")]
    Get {
        /// COMPONENT/CONTRACT (none: the global default).
        name: Option<String>,
    },
    /// Change the settings of a contract, or the global ones.
    #[command(after_help = concat!(
        "Examples:\n",
        "  accord config set --mode full_transitive\n",
        "  accord config set orders/order-placed --policy lenient\n",
        "  accord config set orders/order-placed --clear     # inherit the global settings again"
    ))]
    Set {
        /// COMPONENT/CONTRACT (none: the global default).
        name: Option<String>,
        #[command(flatten)]
        judgement: Judgement,
        /// Remove the contract's own settings so that it inherits the global ones.
        ///
        /// Later changes of the global settings then apply to the contract again.
        #[arg(long, conflicts_with_all = ["mode", "policy"])]
        clear: bool,
    },
}

fn parse_mode(s: &str) -> Result<Mode, String> {
    s.parse()
}

fn parse_policy(s: &str) -> Result<Policy, String> {
    s.parse()
}

/// What a command that ran to its end concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Success,
    /// Exit 1: breaking changes, a refusal.
    Breaking,
}

impl Outcome {
    fn of(reports: &[report::CheckReport]) -> Self {
        if reports.iter().all(|r| r.compatible) {
            Outcome::Success
        } else {
            Outcome::Breaking
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Usage errors are errors like any other (exit 2); --help and
            // --version are successes.
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    if cli.no_color {
        anstream::ColorChoice::Never.write_global();
    }
    match run(cli) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Breaking) => ExitCode::from(1),
        // A reader that closed the pipe early (`accord watch | head -3`)
        // wanted no more output: that is not a failure to report.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let mut err = anstream::stderr();
            let style = anstyle::AnsiColor::Red.on_default().bold();
            let _ = writeln!(err, "{style}error:{style:#} {}", error_chain(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line. Transport errors repeat their
/// cause in their own message, so a cause already said is not said again.
fn error_chain(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

fn print(
    reports: &[report::CheckReport],
    format: Format,
    kind: Kind,
    single: bool,
) -> anyhow::Result<Outcome> {
    let mut out = anstream::stdout().lock();
    let written = render::write(&mut out, reports, format, kind, single).and_then(|()| out.flush());
    match written {
        // The verdict stands even if nobody read all of it.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other?,
    }
    Ok(Outcome::of(reports))
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let registry = cli.registry;
    access::configure(access::Access {
        token: cli.token,
        tls_ca: cli.tls_ca,
        tls_cert: cli.tls_cert,
        tls_key: cli.tls_key,
    });
    let format = cli.format;
    let takes_reports = matches!(
        cli.command,
        Command::Check { .. } | Command::Diff { .. } | Command::Publish { .. }
    );
    if !takes_reports && !matches!(format, Format::Text | Format::Json) {
        anyhow::bail!(
            "--format {} applies to check, diff and publish; this command prints text or json",
            format.name()
        );
    }
    let json = format == Format::Json;
    match cli.command {
        Command::Check {
            file,
            against,
            contract,
            version,
            manifest,
            judgement,
            strict_schema,
        } => match (file, contract) {
            (Some(file), None) => {
                let against: Vec<&std::path::Path> = against.iter().map(PathBuf::as_path).collect();
                let report = offline::check(
                    &file,
                    &against,
                    judgement.mode.unwrap_or(Mode::Backward),
                    judgement.policy.unwrap_or_default(),
                    strict_schema,
                )?;
                print(&[report], format, Kind::Check, true)
            }
            (Some(file), Some(contract)) => {
                refuse_judgement(&judgement, "check --contract")?;
                refuse_strict_schema(strict_schema)?;
                let report =
                    online::block_on(online::check(&registry, &contract, &file, version.as_deref()))?;
                print(&[report], format, Kind::Check, true)
            }
            (None, Some(_)) => anyhow::bail!("--contract needs the schema FILE to check"),
            (None, None) => {
                refuse_judgement(&judgement, "check with accord.toml")?;
                refuse_strict_schema(strict_schema)?;
                let manifest = manifest::Manifest::load(&manifest)?;
                let reports = online::block_on(online::check_manifest(&registry, &manifest))?;
                print(&reports, format, Kind::Check, false)
            }
        },
        Command::Diff {
            args,
            judgement,
            strict_schema,
        } => match args.as_slice() {
            [old, new] => {
                let report = offline::diff(
                    old.as_ref(),
                    new.as_ref(),
                    judgement.mode.unwrap_or(Mode::Backward),
                    judgement.policy.unwrap_or_default(),
                    strict_schema,
                )?;
                print(&[report], format, Kind::Diff, true)
            }
            [name, from, to] => {
                refuse_strict_schema(strict_schema)?;
                let report = online::block_on(online::diff(
                    &registry,
                    name,
                    from,
                    to,
                    judgement.mode,
                    judgement.policy,
                ))?;
                print(&[report], format, Kind::Diff, true)
            }
            _ => anyhow::bail!("diff takes OLD.json NEW.json, or COMPONENT/CONTRACT FROM TO"),
        },
        Command::Publish {
            name,
            file,
            version,
            manifest,
        } => match (name, file) {
            (Some(name), Some(file)) => {
                let report = online::block_on(online::publish(&registry, &name, &file, version.as_deref()))?;
                print(&[report], format, Kind::Publish, true)
            }
            (Some(name), None) => {
                anyhow::bail!("publish {name} needs the schema FILE to publish")
            }
            (None, _) => {
                if version.is_some() {
                    anyhow::bail!("--version applies to one contract; accord.toml gives each its version");
                }
                let manifest = manifest::Manifest::load(&manifest)?;
                let (reports, outcome) = online::block_on(online::publish_manifest(&registry, &manifest))?;
                // What was published before a failure is printed all the same.
                print(&reports, format, Kind::Publish, false)?;
                outcome
            }
        },
        Command::Get { name, version } => online::block_on(online::get(&registry, &name, version.as_deref())),
        Command::Versions {
            name,
            include_deleted,
        } => online::block_on(online::versions(&registry, &name, include_deleted, json)),
        Command::List { component } => online::block_on(online::list(&registry, component.as_deref(), json)),
        Command::Config(ConfigCommand::Get { name }) => {
            online::block_on(online::config_get(&registry, name.as_deref(), json))
        }
        Command::Config(ConfigCommand::Set {
            name,
            judgement,
            clear,
        }) => {
            if !clear && judgement.mode.is_none() && judgement.policy.is_none() {
                anyhow::bail!("config set needs --mode, --policy or --clear");
            }
            online::block_on(online::config_set(
                &registry,
                name.as_deref(),
                judgement.mode,
                judgement.policy,
                clear,
                json,
            ))
        }
        Command::Deprecate { target, message } => {
            online::block_on(online::deprecate(&registry, &target, &message, json))
        }
        Command::Delete { target, hard, yes } => {
            if !yes && !online::confirm_delete(&target, hard)? {
                anyhow::bail!("not deleted: the deletion was not confirmed");
            }
            online::block_on(online::delete(&registry, &target, hard, json))
        }
        Command::Restore { target } => online::block_on(online::restore(&registry, &target, json)),
        Command::Watch { from, component } => {
            online::block_on(online::watch(&registry, from, component.as_deref(), json))
        }
        Command::Audit { since } => online::block_on(access::audit(&registry, since, json)),
    }
}

/// `--strict-schema` reads local files; a registry reads schemas its own way.
fn refuse_strict_schema(strict_schema: bool) -> anyhow::Result<()> {
    if strict_schema {
        anyhow::bail!("--strict-schema applies to offline checks of schema files");
    }
    Ok(())
}

/// The registry judges with the contract's own settings; a flag that would
/// be silently ignored is refused instead.
fn refuse_judgement(judgement: &Judgement, what: &str) -> anyhow::Result<()> {
    if judgement.mode.is_some() || judgement.policy.is_some() {
        anyhow::bail!(
            "--mode and --policy do not apply to {what}: the registry uses the contract's \
             settings (see `accord config get`)"
        );
    }
    Ok(())
}
