//! The `facteur` binary: `facteur serve` runs the mail system, `facteur admin` manages it.
//!
//! This crate only wires things together: configuration, TLS, listeners, the HTTP router and
//! the admin command line. Protocol logic lives in the `smtp` and `imap` crates, storage in
//! `store`, the web client in `app`.

mod admin;
mod autoconfig;
mod config;
mod http;
mod list_pages;
mod serve;
mod tls;
mod web;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

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

/// glibc's allocator tunings for a long-running server, read by glibc when a process starts:
/// few arenas (each of the many blocking threads would otherwise get its own and keep what it
/// once held), and a fixed mmap threshold, so large buffers (messages, FETCH responses) go back
/// to the system when freed instead of staying in an arena. A process cannot change these for
/// itself once started, so `facteur serve` starts itself again with them set, once.
const MALLOC_TUNING: [(&str, &str); 2] = [("MALLOC_ARENA_MAX", "2"), ("MALLOC_MMAP_THRESHOLD_", "131072")];

/// Replaces the process with itself under [`MALLOC_TUNING`] when they are not set yet (only for
/// `serve`: short commands gain nothing). Returns only if that cannot be done.
fn restart_with_malloc_tuning() {
    use std::os::unix::process::CommandExt;
    let serving = std::env::args().nth(1).as_deref() == Some("serve");
    if !serving || MALLOC_TUNING.iter().all(|(name, _)| std::env::var_os(name).is_some()) {
        return;
    }
    let Ok(binary) = std::env::current_exe() else { return };
    let error = std::process::Command::new(binary).args(std::env::args_os().skip(1)).envs(MALLOC_TUNING).exec();
    eprintln!("facteur: could not restart with the allocator settings ({error}); going on without them");
}

fn main() -> std::process::ExitCode {
    restart_with_malloc_tuning();
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
