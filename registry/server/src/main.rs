//! `accord-registry`: the Accord registry server.

use std::{
    fs::File,
    io::{BufReader, BufWriter, Write},
    path::PathBuf,
};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "accord-registry",
    version,
    about = "The Accord contract registry server",
    long_about = "The Accord contract registry server.\n\n\
        Without a subcommand it serves (same as `serve`). Every flag has an \
        ACCORD_* environment fallback; a flag given on the command line wins.",
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

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the registry (the default).
    ///
    /// Stops on SIGINT or SIGTERM: stops accepting, lets in-flight calls
    /// finish, ends watch streams, flushes the store.
    Serve(accord_registry::Config),
    /// Write the whole store as JSON lines (backup, migration).
    ///
    /// No server may be running on the data directory.
    Export {
        /// Directory of the store to read.
        #[arg(long, env = "ACCORD_DATA_DIR", default_value = "./accord-data")]
        data_dir: PathBuf,
        /// File to write; standard output when absent or `-`.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Fill an empty store from an export.
    ///
    /// The whole input is checked before anything is written; a store that
    /// already holds data is refused, so that the result equals the export.
    Import {
        /// Directory of the store to fill (created if missing, must be empty).
        #[arg(long, env = "ACCORD_DATA_DIR", default_value = "./accord-data")]
        data_dir: PathBuf,
        /// File to read; standard input when absent or `-`.
        #[arg(long, short)]
        input: Option<PathBuf>,
    },
    /// Manage the bearer tokens of a token file (--auth-file).
    ///
    /// A running server that uses the file picks up every change on its next
    /// call: no restart needed.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Add a token and print it, once: only its salted hash is stored.
    #[command(after_help = concat!(
        "Examples:\n",
        "  accord-registry token create --auth-file tokens.json --name ci-orders --role publisher --scope orders\n",
        "  accord-registry token create --auth-file tokens.json --name ops --role admin"
    ))]
    Create {
        /// The token file (created if missing).
        #[arg(long, env = "ACCORD_AUTH_FILE", value_name = "FILE")]
        auth_file: PathBuf,
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
        /// The token file.
        #[arg(long, env = "ACCORD_AUTH_FILE", value_name = "FILE")]
        auth_file: PathBuf,
    },
    /// Remove a token: calls made with it are refused from then on.
    Revoke {
        /// The token file.
        #[arg(long, env = "ACCORD_AUTH_FILE", value_name = "FILE")]
        auth_file: PathBuf,
        /// The token's name.
        #[arg(long)]
        name: String,
    },
}

fn token(command: TokenCommand) -> anyhow::Result<()> {
    use accord_registry::auth::tokens;
    match command {
        TokenCommand::Create {
            auth_file,
            name,
            role,
            scope,
        } => {
            let token = tokens::create(&auth_file, &name, role, &scope)?;
            // Only the token on stdout, so that a script can capture it.
            println!("{token}");
            eprintln!(
                "token {name:?} ({role}) added to {}; it is not shown again",
                auth_file.display()
            );
        }
        TokenCommand::List { auth_file } => {
            let file = tokens::TokenFile::load(&auth_file)?;
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
        TokenCommand::Revoke { auth_file, name } => {
            tokens::revoke(&auth_file, &name)?;
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
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn is_stdio(path: &Option<PathBuf>) -> bool {
    path.as_ref().is_none_or(|p| p.as_os_str() == "-")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match cli.command {
        Some(Command::Token(command)) => token(command),
        None => serve(cli.serve).await,
        Some(Command::Serve(config)) => serve(config).await,
        Some(Command::Export { data_dir, output }) => {
            let store = accord_registry::store::sled::SledStore::open(&data_dir)
                .with_context(|| format!("cannot open the store in {}", data_dir.display()))?;
            let mut out: Box<dyn Write> = if is_stdio(&output) {
                Box::new(BufWriter::new(std::io::stdout().lock()))
            } else {
                let path = output.unwrap_or_default();
                let file =
                    File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
                Box::new(BufWriter::new(file))
            };
            let counts = accord_registry::backup::export(&store, &mut out).await?;
            tracing::info!(?counts, "exported");
            Ok(())
        }
        Some(Command::Import { data_dir, input }) => {
            let store = accord_registry::store::sled::SledStore::open(&data_dir)
                .with_context(|| format!("cannot open the store in {}", data_dir.display()))?;
            let counts = if is_stdio(&input) {
                let mut text = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut text)?;
                accord_registry::backup::import(&store, &mut text.as_slice()).await?
            } else {
                let path = input.unwrap_or_default();
                let file = File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
                accord_registry::backup::import(&store, &mut BufReader::new(file)).await?
            };
            tracing::info!(?counts, "imported");
            Ok(())
        }
    }
}

async fn serve(config: accord_registry::Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    accord_registry::run(listener, config, shutdown_signal()).await?;
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
