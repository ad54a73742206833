//! The `ssprlens` binary: parse arguments, build the configuration, run, map errors to exit codes.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use ssprlens::cli::{Cli, Command, LogFormat};
use ssprlens::config::{FetchConfig, ImportConfig, ReachConfig, ReportConfig, RunConfig};
use ssprlens::error::{Error, exit};
use ssprlens::fetcher::graph::{Cancel, CancelHandle};
use ssprlens::pipeline::demo::{self, DemoConfig};
use ssprlens::pipeline::{fetch, reach, report};
use ssprlens::transformer::rules::DEFAULT_RULES;

#[global_allocator]
static ALLOCATOR: ssprlens::allocator::Allocator = ssprlens::allocator::Allocator;

fn main() -> ExitCode {
    ssprlens::allocator::return_freed_memory_promptly();
    let cli = Cli::parse();
    init_logging(cli.quiet, cli.log_format);
    match run(cli) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(err) => {
            tracing::error!("{err}");
            ExitCode::from(err.exit_code())
        }
    }
}

fn run(cli: Cli) -> Result<(), Error> {
    let now = chrono::Utc::now();
    let progress = || fetch::progress(cli.quiet, cli.log_format == LogFormat::Text);
    match cli.command {
        Command::Report(args) => report::report(&ReportConfig::from_args(args, now)?).map(drop),
        Command::Fetch(args) => {
            let config = FetchConfig::from_args(args, now)?;
            let outcome = runtime()?.block_on(async {
                fetch::fetch(&config, cancel_on_signals(), &progress()).await
            })?;
            partial(outcome.rejects)
        }
        Command::Import(args) => partial(fetch::import(&ImportConfig::from_args(args)?)?),
        Command::Run(args) => {
            let config = RunConfig::from_args(*args, now)?;
            let outcome = runtime()?
                .block_on(async { fetch::run(&config, cancel_on_signals(), &progress()).await })?;
            partial(outcome.rejects)
        }
        Command::Demo(args) => {
            let config = DemoConfig {
                store: args.store,
                out: args.out,
            };
            runtime()?
                .block_on(async { demo::demo(&config, cancel_on_signals(), &progress()).await })
        }
        Command::Reach(args) => {
            let config = ReachConfig::from_args(*args, now)?;
            runtime()?.block_on(async { reach::reach(&config, cancel_on_signals()).await })
        }
        Command::Rules => {
            print!("{DEFAULT_RULES}");
            Ok(())
        }
    }
}

/// A fetch that rejected records succeeded only in part.
fn partial(rejects: u64) -> Result<(), Error> {
    if rejects > 0 {
        Err(Error::Partial { rejects })
    } else {
        Ok(())
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| Error::Usage(format!("cannot start the async runtime: {err}")))
}

/// A cancellation that SIGINT or SIGTERM triggers; a second signal ends the process at once.
/// Must be called inside the runtime. The handlers are installed before this returns, so a
/// signal at any point of the run that follows stops it cleanly.
fn cancel_on_signals() -> Cancel {
    use tokio::signal::unix::{SignalKind, signal};
    let (handle, cancel): (CancelHandle, Cancel) = Cancel::new();
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return cancel;
    };
    tokio::spawn(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        tracing::warn!("stopping at the next page boundary (a second signal stops at once)");
        handle.cancel();
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        std::process::exit(i32::from(exit::INTERRUPTED));
    });
    cancel
}

/// Diagnostics go to standard error: warnings and summaries by default, errors only with
/// `--quiet`, JSON objects with `--log-format json`; `SSPRLENS_LOG` (a tracing filter such as
/// `debug`) overrides the level.
fn init_logging(quiet: bool, format: LogFormat) {
    let default = if quiet { "error" } else { "info" };
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
