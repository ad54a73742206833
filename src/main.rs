//! The `ssprlens` binary: parse arguments, build the configuration, run, map errors to exit codes.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use ssprlens::cli::{Cli, Command, ReportArgs};
use ssprlens::config::ReportConfig;
use ssprlens::error::{Error, exit};
use ssprlens::pipeline;
use ssprlens::transformer::rules::DEFAULT_RULES;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let quiet = matches!(
        &cli.command,
        Command::Report(ReportArgs { quiet: true, .. })
    );
    init_logging(quiet);
    match run(cli) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(err) => {
            eprintln!("ssprlens: error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}

fn run(cli: Cli) -> Result<(), Error> {
    match cli.command {
        Command::Report(args) => {
            pipeline::report(&ReportConfig::from_args(args, chrono::Utc::now())?).map(drop)
        }
        Command::Rules => {
            print!("{DEFAULT_RULES}");
            Ok(())
        }
    }
}

/// Diagnostics go to standard error: warnings and the run summary by default, errors only with
/// `--quiet`; `SSPRLENS_LOG` (a tracing filter such as `debug`) overrides both.
fn init_logging(quiet: bool) {
    let default = if quiet { "error" } else { "info" };
    let filter =
        EnvFilter::try_from_env("SSPRLENS_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
