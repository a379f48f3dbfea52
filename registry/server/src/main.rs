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
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
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
        None => serve(cli.serve).await,
        Some(Command::Serve(config)) => serve(config).await,
        Some(Command::Export { data_dir, output }) => {
            let store = accord_registry::store::SledStore::open(&data_dir)
                .with_context(|| format!("cannot open the store in {}", data_dir.display()))?;
            let mut out: Box<dyn Write> = if is_stdio(&output) {
                Box::new(BufWriter::new(std::io::stdout().lock()))
            } else {
                let path = output.unwrap_or_default();
                let file =
                    File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
                Box::new(BufWriter::new(file))
            };
            let counts = accord_registry::backup::export(&store, &mut out)?;
            tracing::info!(?counts, "exported");
            Ok(())
        }
        Some(Command::Import { data_dir, input }) => {
            let store = accord_registry::store::SledStore::open(&data_dir)
                .with_context(|| format!("cannot open the store in {}", data_dir.display()))?;
            let counts = if is_stdio(&input) {
                accord_registry::backup::import(&store, &mut std::io::stdin().lock())?
            } else {
                let path = input.unwrap_or_default();
                let file = File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
                accord_registry::backup::import(&store, &mut BufReader::new(file))?
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
