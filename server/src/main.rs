//! The `facteur` binary: `facteur serve` runs the mail system, `facteur admin` manages it.
//!
//! This crate only wires things together: configuration, TLS, listeners, the HTTP router and
//! the admin command line. Protocol logic lives in the `smtp` and `imap` crates, storage in
//! `store`, the web client in `app`.

mod admin;
mod config;
mod http;
mod serve;
mod tls;
mod web;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// See the note on the dependency in Cargo.toml: memory freed after a burst (a big FETCH, a
/// flood of deliveries) goes back to the system instead of staying with the process.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "facteur", version, about = "A complete mail system for an organisation, in one binary.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the mail system: web client, SMTP (MX), IMAP and IMAPS.
    Serve(Box<config::ServeArgs>),
    /// Manage domains, users and aliases. Works on the data folder while the server runs.
    Admin {
        /// The data folder.
        #[arg(long, env = "FACTEUR_DATA", default_value = "data")]
        data: PathBuf,
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("FACTEUR_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in log files or journald.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => serve::run(*args).await,
            Command::Admin { data, command } => admin::run(&data, command).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("facteur: error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
