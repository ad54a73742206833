//! One command of the command line, run: its configuration validated, its stages wired, the
//! async runtime and the signal handlers set up for the commands that talk to Graph.

use chrono::Utc;
use clap::CommandFactory;

use super::demo::{self, DemoConfig};
use super::{calibrate, compact, fetch, reach, reconcile, report, workspace};
use crate::cli::{Cli, Command, LogFormat};
use crate::config::{
    CalibrateConfig, CompactConfig, FetchConfig, ImportConfig, ReachConfig, ReconcileConfig,
    ReportConfig, RunConfig,
};
use crate::error::{Error, exit};
use crate::fetcher::graph::{Cancel, CancelHandle};
use crate::reporter::export::write_bytes;
use crate::transformer::rules::DEFAULT_RULES;

/// Runs the command `cli` names.
pub fn run(cli: Cli) -> Result<(), Error> {
    let now = Utc::now();
    let progress = || fetch::progress(cli.quiet, cli.log_format == LogFormat::Text);
    match cli.command {
        Command::Report(args) => report::report(&ReportConfig::from_args(args, now)?).map(drop),
        Command::Fetch(args) => {
            let config = FetchConfig::from_args(args, now)?;
            if config.print_query {
                return print(workspace::first_query(&config).as_bytes());
            }
            let outcome = runtime()?.block_on(async {
                fetch::fetch(&config, cancel_on_signals(), &progress()).await
            })?;
            partial(outcome.rejects)
        }
        Command::Import(args) => {
            let config = ImportConfig::from_args(args)?;
            partial(runtime()?.block_on(fetch::import(&config))?)
        }
        Command::Run(args) => {
            let config = RunConfig::from_args(*args, now)?;
            let outcome = runtime()?
                .block_on(async { fetch::run(&config, cancel_on_signals(), &progress()).await })?;
            partial(outcome.rejects)
        }
        Command::Compact(args) => {
            compact::compact(&CompactConfig::from_args(args, now)?, cli.quiet)
        }
        Command::Demo(args) => {
            let config = DemoConfig {
                store: args.store,
                out: args.out,
                source: args.source,
            };
            runtime()?
                .block_on(async { demo::demo(&config, cancel_on_signals(), &progress()).await })
        }
        Command::Rules => print(DEFAULT_RULES.as_bytes()),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "ssprlens", &mut script);
            print(&script)
        }
        Command::Manpage => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut page)
                .map_err(|err| Error::Runtime(format!("rendering the manual page: {err}")))?;
            print(&page)
        }
        Command::Calibrate(args) => calibrate::calibrate(&CalibrateConfig::from_args(args)?),
        Command::Reach(args) => {
            let config = ReachConfig::from_args(*args, now)?;
            runtime()?.block_on(async { reach::reach(&config, cancel_on_signals()).await })
        }
        Command::Reconcile(args) => {
            let config = ReconcileConfig::from_args(*args)?;
            runtime()?.block_on(async { reconcile::reconcile(&config, cancel_on_signals()).await })
        }
        #[cfg(feature = "lake")]
        Command::Publish(args) => {
            let config = crate::config::PublishConfig::from_args(*args)?;
            runtime()?.block_on(super::publish::publish(&config))
        }
    }
}

/// Writes finished text to standard output (a closed pipe is no error).
fn print(bytes: &[u8]) -> Result<(), Error> {
    Ok(write_bytes(bytes, None)?)
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
        .map_err(|err| Error::Runtime(format!("cannot start the async runtime: {err}")))
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
