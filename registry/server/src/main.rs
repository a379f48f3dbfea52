//! `accord-registry`: the Accord registry server.

use std::{
    fs::File,
    io::{BufReader, BufWriter, Write},
    path::PathBuf,
    process::ExitCode,
    sync::Arc,
};

use accord_registry::store::{Store, sled::SledStore};
use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Exit codes:
  0  success (serve: stopped cleanly on SIGINT or SIGTERM)
  2  an error, described in one line on standard error";

#[derive(Debug, Parser)]
#[command(
    name = "accord-registry",
    version,
    about = "The Accord contract registry server",
    long_about = "The Accord contract registry server.\n\n\
        Without a subcommand it serves (same as `serve`). Every flag has an \
        ACCORD_* environment fallback; a flag given on the command line wins.\n\n\
        The registry keeps its data in an embedded store in --data-dir (the \
        default: nothing to install), or in a PostgreSQL database given with \
        --store postgres://USER@HOST:PORT/DB, which any number of replicas \
        may serve together.",
    after_help = EXIT_CODES,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    #[command(flatten)]
    serve: accord_registry::Config,

    /// Log format on standard error.
    ///
    /// `text` for people, `json` (one object per line) for log collectors.
    /// The level is set with RUST_LOG (default: info).
    #[arg(long, env = "ACCORD_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Which store a tool works on: a PostgreSQL database, or the embedded one.
#[derive(Debug, Args)]
struct StoreArgs {
    /// Directory of the embedded store.
    #[arg(long, env = "ACCORD_DATA_DIR", default_value = "./accord-data")]
    data_dir: PathBuf,
    /// A PostgreSQL store instead: postgres://USER@HOST:PORT/DATABASE.
    #[arg(long, env = "ACCORD_STORE", value_name = "URL")]
    store: Option<String>,
}

impl StoreArgs {
    async fn open(&self) -> anyhow::Result<Arc<dyn Store>> {
        match &self.store {
            Some(url) => Ok(Arc::new(accord_registry::open_postgres(url).await?)),
            None => {
                let store = SledStore::open(&self.data_dir)?;
                Ok(Arc::new(store))
            }
        }
    }
}

// Parsed once at start-up: the size of the serve variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the registry (the default).
    ///
    /// Stops on SIGINT or SIGTERM: stops accepting, lets in-flight calls
    /// finish, ends watch streams, flushes the store.
    Serve(accord_registry::Config),
    /// Create or migrate the tables of a PostgreSQL store, then exit.
    ///
    /// `serve` does it too at start-up; both take an advisory lock, so that
    /// replicas starting together take turns.
    #[command(
        after_help = "Example:\n  accord-registry migrate --store postgres://accord@db.internal:5432/accord"
    )]
    Migrate {
        /// The PostgreSQL database: postgres://USER@HOST:PORT/DATABASE.
        #[arg(long, env = "ACCORD_STORE", value_name = "URL")]
        store: String,
    },
    /// Write the whole store as JSON lines (backup, migration).
    ///
    /// For the embedded store, no server may be running on the data
    /// directory. The output imports into either store: exporting from
    /// --data-dir and importing into --store postgres://… moves a registry
    /// to PostgreSQL.
    Export {
        #[command(flatten)]
        from: StoreArgs,
        /// File to write; standard output when absent or `-`.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Export what reads back intact from a damaged embedded store,
        /// leaving the rest out; each record left out is named on standard
        /// error. The event log is renumbered when some of it was lost.
        #[arg(long, conflicts_with = "store")]
        salvage: bool,
    },
    /// Check a store offline: every record's checksum and the store's own
    /// invariants; every problem found is printed.
    ///
    /// Exit 0 when the store is whole, 1 when problems were found (see
    /// `export --salvage`), 2 when it cannot be read at all. No server may
    /// be running on the data directory.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Fill an empty store from an export.
    ///
    /// The whole input is checked before anything is written; a store that
    /// already holds data is refused, so that the result equals the export.
    Import {
        #[command(flatten)]
        into: StoreArgs,
        /// File to read; standard input when absent or `-`.
        #[arg(long, short)]
        input: Option<PathBuf>,
    },
    /// Manage bearer tokens: in a token file (--auth-file), or in a
    /// PostgreSQL store's database (--store, for replicas started with --auth-db).
    ///
    /// A running server picks up every change by itself: on its next call
    /// (file), or within a few seconds (database).
    #[command(subcommand)]
    Token(TokenCommand),
}

/// Where tokens are kept.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
struct TokenPlace {
    /// The token file (created if missing by `create`).
    #[arg(long, env = "ACCORD_AUTH_FILE", value_name = "FILE")]
    auth_file: Option<PathBuf>,
    /// The PostgreSQL store whose database keeps the tokens.
    #[arg(long, env = "ACCORD_STORE", value_name = "URL")]
    store: Option<String>,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Add a token and print it, once: only its salted hash is stored.
    #[command(after_help = concat!(
        "Examples:\n",
        "  accord-registry token create --auth-file tokens.json --name ci-orders --role publisher --scope orders\n",
        "  accord-registry token create --store postgres://accord@db:5432/accord --name ops --role admin"
    ))]
    Create {
        #[command(flatten)]
        place: TokenPlace,
        /// A unique name for the token, recorded in the audit log.
        #[arg(long)]
        name: String,
        /// reader (get, list, diff, check, watch), publisher (+ publish,
        /// deprecate) or admin (+ config set, delete, restore, audit).
        #[arg(long)]
        role: accord_registry::auth::Role,
        /// Limit the token to components matching this pattern (`*` = any
        /// characters); repeat for several. None: every component.
        #[arg(long, value_name = "PATTERN")]
        scope: Vec<String>,
    },
    /// List the tokens: name, role, scopes, creation time.
    List {
        #[command(flatten)]
        place: TokenPlace,
    },
    /// Remove a token: calls made with it are refused from then on.
    Revoke {
        #[command(flatten)]
        place: TokenPlace,
        /// The token's name.
        #[arg(long)]
        name: String,
    },
}

async fn token(command: TokenCommand) -> anyhow::Result<()> {
    use accord_registry::auth::tokens;
    let place = match &command {
        TokenCommand::Create { place, .. }
        | TokenCommand::List { place }
        | TokenCommand::Revoke { place, .. } => place,
    };
    let database = match &place.store {
        Some(url) => Some(accord_registry::open_postgres(url).await?),
        None => None,
    };
    let file = place.auth_file.clone().unwrap_or_default();
    match command {
        TokenCommand::Create {
            name, role, scope, ..
        } => {
            let (token, whereto) = match &database {
                Some(db) => {
                    let (token, entry) = tokens::issue(&db.tokens().await?, &name, role, &scope)?;
                    if !db.add_token(&entry).await? {
                        anyhow::bail!("a token named {name:?} already exists; revoke it first to replace it");
                    }
                    (token, db.describe())
                }
                None => (
                    tokens::create(&file, &name, role, &scope)?,
                    file.display().to_string(),
                ),
            };
            // Only the token on stdout, so that a script can capture it.
            println!("{token}");
            eprintln!("token {name:?} ({role}) added to {whereto}; it is not shown again");
        }
        TokenCommand::List { .. } => {
            let file = match &database {
                Some(db) => db.tokens().await?,
                None => tokens::TokenFile::load(&file)?,
            };
            let mut out = std::io::stdout().lock();
            writeln!(out, "NAME\tROLE\tSCOPES\tCREATED")?;
            for t in &file.tokens {
                let scopes = if t.scopes.is_empty() {
                    "*".to_owned()
                } else {
                    t.scopes.join(",")
                };
                writeln!(out, "{}\t{}\t{}\t{}", t.name, t.role, scopes, t.created_at)?;
            }
        }
        TokenCommand::Revoke { name, .. } => {
            match &database {
                Some(db) => {
                    if !db.revoke_token(&name).await? {
                        anyhow::bail!("no token named {name:?} in {}", db.describe());
                    }
                }
                None => tokens::revoke(&file, &name)?,
            }
            eprintln!("token {name:?} revoked");
        }
    }
    Ok(())
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour codes only where a person reads them: a log file or a collector
    // would store them as noise.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
    // A log pipe that breaks (a collector gone) must not bring calls down:
    // the subscriber's own report of a failed write would panic on it.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .log_internal_errors(false)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn is_stdio(path: &Option<PathBuf>) -> bool {
    path.as_ref().is_none_or(|p| p.as_os_str() == "-")
}

/// One line: the error and its causes, each said once.
fn one_line(error: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = runtime.block_on(dispatch(cli));
    // The grace period is over: work still running (a long comparison on a
    // blocking thread) must not keep the process alive.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::from(2)
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Some(Command::Token(command)) => token(command).await,
        None => serve(cli.serve).await,
        Some(Command::Serve(config)) => serve(config).await,
        Some(Command::Migrate { store }) => {
            let store = accord_registry::open_postgres(&store).await?;
            eprintln!("{} is ready", store.describe());
            Ok(())
        }
        Some(Command::Export {
            from,
            output,
            salvage,
        }) => {
            let mut out: Box<dyn Write> = if is_stdio(&output) {
                Box::new(BufWriter::new(std::io::stdout()))
            } else {
                let path = output.unwrap_or_default();
                let file =
                    File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
                Box::new(BufWriter::new(file))
            };
            let counts = if salvage {
                let store = SledStore::open(&from.data_dir)?;
                let salvaged = tokio::task::spawn_blocking(move || store.salvage()).await?;
                for problem in &salvaged.problems {
                    eprintln!("left out: {problem}");
                }
                accord_registry::backup::export_salvaged(salvaged, &mut out)?
            } else {
                let store = from.open().await?;
                accord_registry::backup::export(store.as_ref(), &mut out).await?
            };
            tracing::info!(
                schemas = counts.schemas as u64,
                versions = counts.versions as u64,
                events = counts.events as u64,
                consumers = counts.consumers as u64,
                waivers = counts.waivers as u64,
                "exported"
            );
            Ok(())
        }
        Some(Command::Verify { store }) => verify(store).await,
        Some(Command::Import { into, input }) => {
            let store = into.open().await?;
            let counts = if is_stdio(&input) {
                let mut text = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut text)?;
                accord_registry::backup::import(store.as_ref(), &mut text.as_slice()).await?
            } else {
                let path = input.unwrap_or_default();
                let file = File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
                accord_registry::backup::import(store.as_ref(), &mut BufReader::new(file)).await?
            };
            store.flush().await?;
            tracing::info!(
                schemas = counts.schemas as u64,
                versions = counts.versions as u64,
                events = counts.events as u64,
                consumers = counts.consumers as u64,
                waivers = counts.waivers as u64,
                "imported"
            );
            Ok(())
        }
    }
}

/// Exits 1 (after printing every problem) when the store is damaged.
async fn verify(args: StoreArgs) -> anyhow::Result<()> {
    if let Some(url) = &args.store {
        let store = accord_registry::open_postgres(url).await?;
        let snapshot = store.load().await?;
        println!(
            "{}: {} versions, {} schemas, {} events: readable",
            store.describe(),
            snapshot.versions.len(),
            snapshot.schemas.len(),
            snapshot.last_sequence
        );
        return Ok(());
    }
    let dir = args.data_dir.clone();
    let store = SledStore::open(&dir)?;
    let report = tokio::task::spawn_blocking(move || store.verify()).await?;
    for problem in &report.problems {
        println!("problem: {problem}");
    }
    println!(
        "{}: {} versions, {} schemas, {} events, {} audit records read back; {} problem(s)",
        dir.display(),
        report.versions,
        report.schemas,
        report.events,
        report.audit,
        report.problems.len()
    );
    if report.problems.is_empty() {
        Ok(())
    } else {
        std::process::exit(1);
    }
}

async fn serve(config: accord_registry::Config) -> anyhow::Result<()> {
    let grpc = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let http = match config.http_listen {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} (--http-listen)"))?,
        ),
        None => None,
    };
    let listeners = accord_registry::Listeners { grpc, http };
    accord_registry::run(listeners, config, shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing in-flight calls");
}
