//! `accord`: the command-line interface of the Accord contract registry.
//!
//! - `main.rs`: the command line (clap), dispatch and exit codes.
//! - [`access`]: the token and TLS settings of registry calls, and `audit`.
//! - [`consumers`]: `can-i-deploy`, `consumer`, `consumers`, `waiver`, and
//!   the `[[consumes]]` entries of accord.toml.
//! - [`offline`]: `check --against` and `diff OLD NEW` through the engine.
//! - [`online`]: the commands that talk to a registry through `accord-client`.
//! - [`manifest`]: `accord.toml`, contracts as code.
//! - [`report`]: the shape every check, diff and publish result takes,
//!   errors included, and the exit code of a run.
//! - [`render`]: text, JSON, GitHub, JUnit and SARIF output.
//! - [`rules`]: rule metadata for SARIF.
//! - [`locate`]: the line of a JSON pointer in a schema file, for annotations.
//! - [`root`]: the repository root that report paths are relative to.

mod access;
mod consumers;
mod locate;
mod manifest;
mod offline;
mod online;
mod render;
mod report;
mod root;
mod rules;

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::ExitCode,
};

use accord_compat::{Mode, Policy};
use clap::{Args, Parser, Subcommand};

use crate::{
    render::{Format, Kind},
    report::{ErrorOut, RunReport},
    root::Root,
};

const STRICT_SCHEMA_HELP: &str = "Refuse a schema file whose `$schema` names no draft Accord \
    knows (4, 6, 7, 2019-09, 2020-12). Without it such a file is read as draft-07 and a warning \
    names it on stderr. Offline only: a registry applies its own setting.";

const EXIT_CODES: &str = "\
Exit codes:
  0  success; the change is compatible (can-i-deploy: the reader reads every live version)
  1  breaking changes found: a check or publish refused (a break not announced, or a
     registered consumer broken), a diff with breaking findings, can-i-deploy refused
  2  any other error: bad input, unreadable file, not found, registry unreachable,
     permission denied (with accord.toml: any contract that could not be checked)

With --format json, junit, sarif or github an error still writes a report that
carries it; with accord.toml every contract is run and the worst outcome wins.";

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
            test case per contract. sarif: SARIF 2.1.0, one result per finding. check, diff, \
            publish, can-i-deploy and consumer register take all five (a consumer that a \
            version breaks is one more annotation, test case or result); the other commands \
            text or json (watch: one JSON object per line); get always prints the schema. An error is reported in the \
            format asked for too (JSON {\"error\": …}, a JUnit <error>, a SARIF \
            notification, a GitHub ::error), so a report file is never left empty. Paths in \
            reports are relative to the repository root: GITHUB_WORKSPACE when set, else \
            the manifest's directory (or the current one for a FILE)."
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

// Each command's arguments are defined when that command is the one run
// (`defer`): every start used to build all of them for the one it parses,
// some 0.1 M instructions and a 48 KB stack frame, page by page.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
enum Command {
    /// Check a schema for compatibility: offline against files, or as a dry-run publish.
    #[command(after_help = concat!(
        "Examples:\n",
        "  accord check order-placed.v2.json --against order-placed.v1.json\n",
        "  accord check new.json --against v3.json --against v2.json --mode backward_transitive\n",
        "  accord check new.json --contract orders/order-placed --version 1.5.0 --format github\n",
        "  accord check                 # every contract of ./accord.toml, against the registry\n",
        "\n",
        "Exit codes: 0 compatible, 1 incompatible or refused, 2 error."
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
                assigns the next patch or minor version, as publish does; a change that \
                needs a major version is refused (exit 1), naming the version to announce."
        )]
        version: Option<String>,

        /// The contracts-as-code manifest.
        ///
        /// Used when no schema file is given: one [[contract]] table per contract,
        /// with name (component/contract), schema (a path relative to the manifest)
        /// and version (optional for patch and minor changes). Every contract is
        /// run, and a summary line counts accepted, refused and errors.
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
        "  accord publish orders/order-placed order-placed.json    # the next patch or minor\n",
        "  accord publish               # every contract of ./accord.toml not yet registered\n",
        "\n",
        "Exit codes: 0 published (or already there), 1 refused, 2 error."
    ))]
    Publish {
        /// COMPONENT/CONTRACT (none: the contracts listed in accord.toml).
        name: Option<String>,

        /// The schema file.
        #[arg(requires = "name")]
        file: Option<PathBuf>,

        /// The version to publish (default: the next patch or minor one).
        ///
        /// A version whose bump over its predecessor is smaller than the change
        /// requires is refused (exit 1), and the answer names the smallest one
        /// that would be accepted. Without --version the registry assigns the
        /// next patch or minor version; a break is never assigned a major one:
        /// it is refused until --version announces it.
        #[arg(long)]
        version: Option<String>,

        /// The contracts-as-code manifest.
        ///
        /// Used when no schema file is given: one [[contract]] table per contract,
        /// with name (component/contract), schema (a path relative to the manifest)
        /// and version (optional for patch and minor changes). Every contract is
        /// run, and a summary line counts accepted, refused and errors.
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
        #[command(flatten)]
        force: Force,
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
        #[command(flatten)]
        force: Force,
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

    /// Can this consumer deploy? Its reader checked against every live version it would read.
    #[command(
        name = "can-i-deploy",
        after_help = concat!(
            "Examples:\n",
            "  accord can-i-deploy billing --reads orders/order-placed@^1 --reader schemas/order-placed.reader.json\n",
            "  accord can-i-deploy billing --reads orders/order-placed@^1 --format github\n",
            "\n",
            "Exit codes: 0 the reader accepts every document of every live (not deleted)\n",
            "version that satisfies the requirement, 1 it rejects some (the findings, per\n",
            "version, say which documents), 2 error. Without --reader, the version the\n",
            "requirement resolves to must read the others, and the requirement must resolve."
        )
    )]
    CanIDeploy {
        /// The consuming component.
        consumer: String,
        /// COMPONENT/CONTRACT@REQUIREMENT: the contract read and the versions accepted.
        #[arg(long, value_name = "COMPONENT/CONTRACT@REQUIREMENT")]
        reads: String,
        /// The JSON Schema the consumer validates documents with.
        #[arg(long, value_name = "FILE")]
        reader: Option<PathBuf>,
    },

    /// Register or unregister what a component reads.
    #[command(subcommand)]
    Consumer(ConsumerCommand),

    /// The registered consumers of a contract, or what one consumer reads.
    #[command(
        after_help = "Examples:\n  accord consumers orders/order-placed\n  accord consumers --consumer billing --format json"
    )]
    Consumers {
        /// COMPONENT/CONTRACT: its consumers.
        #[arg(required_unless_present = "consumer")]
        contract: Option<String>,
        /// A consuming component: the contracts it reads.
        #[arg(long, conflicts_with = "contract")]
        consumer: Option<String>,
    },

    /// Create, list and revoke waivers of consumer breaks.
    #[command(subcommand)]
    Waiver(WaiverCommand),

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

// Forcing past registered consumers, flattened into `deprecate` and
// `delete`. Not a doc comment: with deferred commands, a flattened
// struct's doc would replace the command's own description.
#[derive(Debug, Args)]
struct Force {
    /// Deprecate or erase even the last version a registered consumer can use.
    ///
    /// The registry refuses to deprecate, or to erase (--hard), the last
    /// version that satisfies a registered consumer's requirement, naming the
    /// consumers. --force does it anyway; it needs --reason, which the audit
    /// log keeps.
    #[arg(long, requires = "reason")]
    force: bool,
    /// Why forcing is right (with --force); kept in the audit log.
    #[arg(long, requires = "force", value_name = "TEXT")]
    reason: Option<String>,
}

impl Force {
    fn reason(&self) -> Option<&str> {
        self.force.then(|| self.reason.as_deref().unwrap_or_default())
    }
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
enum ConsumerCommand {
    /// Register what a component reads: a contract, the versions it accepts, its reader schema.
    #[command(after_help = concat!(
        "Examples:\n",
        "  accord consumer register billing --reads orders/order-placed@^1 --reader schemas/order-placed.reader.json\n",
        "  accord consumer register billing --reads 'orders/order-placed@>=1.2, <3'\n",
        "\n",
        "Every later publish of a version that satisfies the requirement is checked against\n",
        "the reader (without one: against the version the requirement resolves to) and\n",
        "refused if it breaks it, unless a waiver covers the break. Needs the publisher role\n",
        "on CONSUMER."
    ))]
    Register {
        /// The consuming component.
        consumer: String,
        /// COMPONENT/CONTRACT@REQUIREMENT: the contract read and the versions accepted.
        #[arg(long, value_name = "COMPONENT/CONTRACT@REQUIREMENT")]
        reads: String,
        /// The JSON Schema the consumer validates documents with.
        ///
        /// Without it, a new version is checked against the version the
        /// requirement resolves to, the one the consumer fetched.
        #[arg(long, value_name = "FILE")]
        reader: Option<PathBuf>,
    },
    /// Remove a component's reading of a contract.
    #[command(after_help = "Example:
  accord consumer unregister billing --reads orders/order-placed")]
    Unregister {
        /// The consuming component.
        consumer: String,
        /// COMPONENT/CONTRACT (an @REQUIREMENT after it is ignored).
        #[arg(long, value_name = "COMPONENT/CONTRACT")]
        reads: String,
    },
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
enum WaiverCommand {
    /// Accept a consumer's break for a while (admin): publishes it covers go through.
    #[command(after_help = concat!(
        "Examples:\n",
        "  accord waiver create orders/order-placed --consumer billing --reason 'billing deploys its new reader first' --expires 7d\n",
        "  accord waiver create orders/order-placed --all-consumers --rule PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL \\\n",
        "      --reason 'the note field is ignored' --expires 2026-12-31\n",
        "\n",
        "The token's name is recorded as the approver. A publish the waiver lets through\n",
        "reports the consumer WAIVED, naming the waiver and its expiry; after the expiry\n",
        "the break counts again."
    ))]
    Create {
        /// COMPONENT/CONTRACT whose publishes it covers.
        contract: String,
        /// The consumer whose breaks it covers.
        #[arg(long, required_unless_present = "all_consumers")]
        consumer: Option<String>,
        /// Cover the breaks of every consumer of the contract.
        #[arg(long, conflicts_with = "consumer")]
        all_consumers: bool,
        /// A rule id it covers (repeat for more); none: every rule.
        #[arg(long = "rule", value_name = "RULE")]
        rules: Vec<String>,
        /// Why the break is acceptable.
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// When it expires: RFC 3339, a date (until the end of that day, UTC), or a duration from now (7d).
        #[arg(long, value_name = "DATE", value_parser = consumers::parse_expires)]
        expires: std::time::SystemTime,
    },
    /// List waivers: the active ones, or all with --all.
    #[command(after_help = "Examples:
  accord waiver list
  accord waiver list orders/order-placed --all --format json")]
    List {
        /// Only the waivers of this COMPONENT/CONTRACT.
        contract: Option<String>,
        /// Also expired and revoked waivers.
        #[arg(long)]
        all: bool,
    },
    /// Revoke a waiver before its expiry (admin).
    #[command(after_help = "Example:
  accord waiver revoke w-3f9a1c2b7d4e")]
    Revoke {
        /// The waiver's id, as `waiver list` shows it.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
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
        /// What a break of a registered consumer does: refuse (the default) or warn.
        ///
        /// With warn, a publish that breaks a registered consumer is accepted and
        /// the break reported; with refuse, it is refused unless a waiver covers it.
        #[arg(long, value_name = "refuse|warn", value_parser = parse_consumer_breaks)]
        consumer_breaks: Option<accord_client::ConsumerBreaks>,
        /// Remove the contract's own settings so that it inherits the global ones.
        ///
        /// Later changes of the global settings then apply to the contract again.
        #[arg(long, conflicts_with_all = ["mode", "policy", "consumer_breaks"])]
        clear: bool,
    },
}

fn parse_consumer_breaks(s: &str) -> Result<accord_client::ConsumerBreaks, String> {
    s.parse()
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
    /// Exit 2: an error, already reported.
    Failed,
}

impl Outcome {
    fn of(run: &RunReport) -> Self {
        match run.exit_code() {
            0 => Outcome::Success,
            1 => Outcome::Breaking,
            _ => Outcome::Failed,
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
            if !e.use_stderr() {
                return ExitCode::SUCCESS;
            }
            // A CI step that asked for a report gets one, carrying the error.
            if let Some(format) = format_in_args().filter(|f| *f != Format::Text) {
                let message = e.to_string();
                let first = message.lines().next().unwrap_or_default();
                let error = ErrorOut {
                    kind: "usage",
                    message: first.trim_start_matches("error: ").to_owned(),
                };
                let _ = emit_report(&RunReport::failed(error, true), format, Kind::Other);
            }
            return ExitCode::from(2);
        }
    };
    if cli.no_color {
        anstream::ColorChoice::Never.write_global();
    }
    let (format, registry) = (cli.format, cli.registry.clone());
    match run(cli) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Breaking) => ExitCode::from(1),
        Ok(Outcome::Failed) => ExitCode::from(2),
        // A reader that closed the pipe early (`accord watch | head -3`)
        // wanted no more output: that is not a failure to report.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let error = ErrorOut::of(&e, Some(&registry));
            if format != Format::Text {
                let _ = emit_report(&RunReport::failed(error.clone(), true), format, Kind::Other);
            }
            print_error(&error.message);
            ExitCode::from(2)
        }
    }
}

/// The `--format` of a command line that clap refused, if it names one.
fn format_in_args() -> Option<Format> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = args
        .iter()
        .enumerate()
        .find_map(|(i, arg)| match arg.strip_prefix("--format") {
            Some("") => args.get(i + 1).cloned(),
            Some(rest) => rest.strip_prefix('=').map(str::to_owned),
            None => None,
        })?;
    <Format as clap::ValueEnum>::from_str(&value, true).ok()
}

fn print_error(message: &str) {
    let mut err = anstream::stderr();
    let style = anstyle::AnsiColor::Red.on_default().bold();
    let _ = writeln!(err, "{style}error:{style:#} {message}");
}

/// Standard output behind one 64 KiB buffer: stdout itself writes each
/// line as it comes, and a report or listing can have thousands.
fn buffered_stdout() -> std::io::BufWriter<std::io::StdoutLock<'static>> {
    std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock())
}

/// Writes `run` to stdout in `format`, buffered. In colour it goes through
/// the colour adapter; without, it is written with no styles at all, since
/// stripping them again costs more than writing the report.
fn emit_report(run: &RunReport, format: Format, kind: Kind) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let choice = anstream::AutoStream::choice(&stdout);
    if choice == anstream::ColorChoice::Never {
        let mut out = buffered_stdout();
        return render::write(&mut out, run, format, kind, &render::Palette::PLAIN)
            .and_then(|()| out.flush());
    }
    let buffered: Box<dyn Write> = Box::new(buffered_stdout());
    let mut out = anstream::AutoStream::new(buffered, choice);
    render::write(&mut out, run, format, kind, &render::Palette::COLOUR).and_then(|()| out.flush())
}

/// Prints a run of check, diff or publish: the report on stdout, each error
/// once on stderr; the outcome says how to exit.
fn report(run: &RunReport, format: Format, kind: Kind) -> anyhow::Result<Outcome> {
    match emit_report(run, format, kind) {
        // The verdict stands even if nobody read all of it.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other?,
    }
    let mut said = std::collections::HashSet::new();
    for (_, error) in run.errors() {
        if said.insert(&error.message) {
            print_error(&error.message);
        }
    }
    Ok(Outcome::of(run))
}

/// The run of one contract from the command line: its report, or one that
/// carries the error that kept it from being checked.
fn single(result: anyhow::Result<report::CheckReport>, file: &Path, registry: Option<&str>) -> RunReport {
    let report = result.unwrap_or_else(|e| {
        let shown = Root::of_cwd().show(file);
        report::CheckReport::failed(shown.clone(), Some(shown), ErrorOut::of(&e, registry))
    });
    RunReport {
        reports: vec![report],
        error: None,
        single: true,
        file: None,
    }
}

/// Every contract of a manifest, checked or published; a manifest that
/// cannot be read is the run's error.
fn manifest_run(registry: &str, path: &Path, action: online::Action) -> RunReport {
    let root = Root::of_manifest(path);
    match manifest::Manifest::load(path) {
        Ok(manifest) => RunReport {
            reports: online::block_on(async {
                let mut reports = Vec::new();
                if !manifest.contracts.is_empty() {
                    reports.extend(online::run_targets(registry, &manifest.targets(), action, &root).await);
                }
                if !manifest.consumes.is_empty() {
                    reports
                        .extend(consumers::run_readings(registry, &manifest.consumes, action, &root).await);
                }
                Ok(reports)
            })
            .unwrap_or_else(|e| {
                // Only the runtime itself can fail here.
                vec![report::CheckReport::failed(
                    root.show(path),
                    None,
                    ErrorOut::of(&e, None),
                )]
            }),
            error: None,
            single: false,
            file: Some(root.show(path)),
        },
        Err(e) => RunReport {
            file: Some(root.show(path)),
            ..RunReport::failed(ErrorOut::of(&e, None), false)
        },
    }
}

/// One contract given on the command line, checked or published.
fn target_run(
    registry: &str,
    name: String,
    file: PathBuf,
    version: Option<String>,
    action: online::Action,
) -> RunReport {
    let target = online::Target {
        name,
        file: file.clone(),
        version,
        pin: report::Pin::Flag,
        origin: String::new(),
    };
    let reports = online::block_on(async {
        Ok(online::run_targets(registry, std::slice::from_ref(&target), action, &Root::of_cwd()).await)
    });
    match reports {
        Ok(reports) => RunReport {
            reports,
            error: None,
            single: true,
            file: None,
        },
        Err(e) => single(Err(e), &file, None),
    }
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
        Command::Check { .. } | Command::Diff { .. } | Command::Publish { .. } | Command::CanIDeploy { .. }
    );
    if !takes_reports && !matches!(format, Format::Text | Format::Json) {
        anyhow::bail!(
            "--format {} applies to check, diff, publish and can-i-deploy; this command prints text or json",
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
        } => {
            let run = match (file, contract) {
                (Some(file), None) => {
                    let against: Vec<&Path> = against.iter().map(PathBuf::as_path).collect();
                    let checked = offline::check(
                        &file,
                        &against,
                        judgement.mode.unwrap_or(Mode::Backward),
                        judgement.policy.unwrap_or_default(),
                        strict_schema,
                        format.shows_lines(),
                    );
                    single(checked, &file, None)
                }
                (Some(file), Some(contract)) => {
                    refuse_judgement(&judgement, "check --contract")?;
                    refuse_strict_schema(strict_schema)?;
                    target_run(&registry, contract, file, version, online::Action::Check)
                }
                (None, Some(_)) => anyhow::bail!("--contract needs the schema FILE to check"),
                (None, None) => {
                    refuse_judgement(&judgement, "check with accord.toml")?;
                    refuse_strict_schema(strict_schema)?;
                    manifest_run(&registry, &manifest, online::Action::Check)
                }
            };
            report(&run, format, Kind::Check)
        }
        Command::Diff {
            args,
            judgement,
            strict_schema,
        } => {
            let run = match args.as_slice() {
                [old, new] => {
                    let diffed = offline::diff(
                        old.as_ref(),
                        new.as_ref(),
                        judgement.mode.unwrap_or(Mode::Backward),
                        judgement.policy.unwrap_or_default(),
                        strict_schema,
                        format.shows_lines(),
                    );
                    single(diffed, new.as_ref(), None)
                }
                [name, from, to] => {
                    refuse_strict_schema(strict_schema)?;
                    stored_diff(&registry, name, from, to, &judgement)
                }
                _ => anyhow::bail!("diff takes OLD.json NEW.json, or COMPONENT/CONTRACT FROM TO"),
            };
            report(&run, format, Kind::Diff)
        }
        command => registry_command(&registry, format, json, command),
    }
}

/// `accord diff COMPONENT/CONTRACT FROM TO`: two stored versions, compared
/// by the registry. Out of [`run`] for the size of its future.
#[inline(never)]
fn stored_diff(registry: &str, name: &str, from: &str, to: &str, judgement: &Judgement) -> RunReport {
    let diffed = online::block_on(online::diff(
        registry,
        name,
        from,
        to,
        judgement.mode,
        judgement.policy,
    ));
    let failed = |e: anyhow::Error| {
        report::CheckReport::failed(
            format!("{name} {from} → {to}"),
            None,
            ErrorOut::of(&e, Some(registry)),
        )
    };
    RunReport {
        reports: vec![diffed.unwrap_or_else(failed)],
        error: None,
        single: true,
        file: None,
    }
}

/// The commands that only talk to a registry. Kept out of [`run`], whose
/// frame every command pays for on the stack: their futures are large.
#[inline(never)]
fn registry_command(registry: &str, format: Format, json: bool, command: Command) -> anyhow::Result<Outcome> {
    match command {
        Command::Check { .. } | Command::Diff { .. } => unreachable!("run reads check and diff itself"),
        Command::Publish {
            name,
            file,
            version,
            manifest,
        } => {
            let run = match (name, file) {
                (Some(name), Some(file)) => {
                    target_run(registry, name, file, version, online::Action::Publish)
                }
                (Some(name), None) => {
                    anyhow::bail!("publish {name} needs the schema FILE to publish")
                }
                (None, _) => {
                    if version.is_some() {
                        anyhow::bail!(
                            "--version applies to one contract; accord.toml gives each its version"
                        );
                    }
                    manifest_run(registry, &manifest, online::Action::Publish)
                }
            };
            report(&run, format, Kind::Publish)
        }
        Command::Get { name, version } => online::block_on(online::get(registry, &name, version.as_deref())),
        Command::Versions {
            name,
            include_deleted,
        } => online::block_on(online::versions(registry, &name, include_deleted, json)),
        Command::List { component } => online::block_on(online::list(registry, component.as_deref(), json)),
        Command::Config(ConfigCommand::Get { name }) => {
            online::block_on(online::config_get(registry, name.as_deref(), json))
        }
        Command::Config(ConfigCommand::Set {
            name,
            judgement,
            consumer_breaks,
            clear,
        }) => {
            let change = accord_client::ConfigChange {
                mode: judgement.mode,
                policy: judgement.policy,
                consumer_breaks,
                clear,
            };
            if change == accord_client::ConfigChange::default() {
                anyhow::bail!("config set needs --mode, --policy, --consumer-breaks or --clear");
            }
            online::block_on(online::config_set(registry, name.as_deref(), change, json))
        }
        Command::Deprecate {
            target,
            message,
            force,
        } => online::block_on(online::deprecate(
            registry,
            &target,
            &message,
            force.reason(),
            json,
        )),
        Command::Delete {
            target,
            hard,
            yes,
            force,
        } => {
            if !yes && !online::confirm_delete(&target, hard)? {
                anyhow::bail!("not deleted: the deletion was not confirmed");
            }
            online::block_on(online::delete(registry, &target, hard, force.reason(), json))
        }
        Command::CanIDeploy {
            consumer,
            reads,
            reader,
        } => {
            let run = reading_run(registry, consumer, reads, reader, online::Action::Check)?;
            report(&run, format, Kind::CanIDeploy)
        }
        Command::Consumer(ConsumerCommand::Register {
            consumer,
            reads,
            reader,
        }) => {
            let run = reading_run(registry, consumer, reads, reader, online::Action::Publish)?;
            report(&run, format, Kind::Register)
        }
        Command::Consumer(ConsumerCommand::Unregister { consumer, reads }) => {
            online::block_on(consumers::unregister(registry, &consumer, &reads, json))
        }
        Command::Consumers { contract, consumer } => online::block_on(consumers::list(
            registry,
            contract.as_deref(),
            consumer.as_deref(),
            json,
        )),
        Command::Waiver(WaiverCommand::Create {
            contract,
            consumer,
            all_consumers,
            rules,
            reason,
            expires,
        }) => {
            let consumer = if all_consumers { None } else { consumer };
            let new = consumers::NewWaiver {
                contract,
                consumer,
                rules,
                reason,
                expires,
            };
            online::block_on(consumers::create_waiver(registry, new, json))
        }
        Command::Waiver(WaiverCommand::List { contract, all }) => {
            online::block_on(consumers::list_waivers(registry, contract.as_deref(), all, json))
        }
        Command::Waiver(WaiverCommand::Revoke { id }) => {
            online::block_on(consumers::revoke_waiver(registry, &id, json))
        }
        Command::Restore { target } => online::block_on(online::restore(registry, &target, json)),
        Command::Watch { from, component } => {
            online::block_on(online::watch(registry, from, component.as_deref(), json))
        }
        Command::Audit { since } => online::block_on(access::audit(registry, since, json)),
    }
}

/// One reading from the command line, checked (can-i-deploy) or registered.
fn reading_run(
    registry: &str,
    consumer: String,
    reads: String,
    reader: Option<PathBuf>,
    action: online::Action,
) -> anyhow::Result<RunReport> {
    let reading = consumers::Reading {
        consumer,
        reads,
        reader,
        origin: String::new(),
    };
    let reports = online::block_on(async {
        Ok(consumers::run_readings(registry, std::slice::from_ref(&reading), action, &Root::of_cwd()).await)
    })?;
    Ok(RunReport {
        reports,
        error: None,
        single: true,
        file: None,
    })
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

/// A check allocates tens of thousands of small values (the documents, their
/// models) in a few milliseconds: mimalloc serves them with less work, and
/// far fewer page faults, than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
