//! The `ssprlens` binary: parse arguments, set up logging, run the command, map errors to exit
//! codes.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use ssprlens::cli::{Cli, LogFormat};
use ssprlens::error::exit;

#[global_allocator]
static ALLOCATOR: ssprlens::allocator::Allocator = ssprlens::allocator::Allocator;

fn main() -> ExitCode {
    ssprlens::allocator::return_freed_memory_promptly();
    let cli = Cli::parse();
    init_logging(cli.quiet, cli.log_format);
    match ssprlens::pipeline::run(cli) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(err) => {
            tracing::error!("{err}");
            ExitCode::from(err.exit_code())
        }
    }
}

/// Diagnostics go to standard error: warnings and our summaries by default (the libraries'
/// own summaries, such as delta-rs's, only from warnings up), errors only with `--quiet`, JSON
/// objects with `--log-format json`; `SSPRLENS_LOG` (a tracing filter such as `debug`)
/// overrides the level.
fn init_logging(quiet: bool, format: LogFormat) {
    let default = if quiet { "error" } else { "warn,ssprlens=info" };
    let filter =
        EnvFilter::try_from_env("SSPRLENS_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder
            .without_time()
            .with_ansi(std::io::stderr().is_terminal())
            .init(),
    }
}
