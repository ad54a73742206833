//! The command line, as clap types; their doc comments are the `--help` text. Nothing here is
//! validated beyond its syntax: `config` does that.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::reporter::export::Format;

/// Measure Entra ID self-service password reset by channel: Windows login screen, web, other,
/// and the helpdesk resets it replaces.
#[derive(Debug, Parser)]
#[command(name = "ssprlens", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Report on exported Entra audit logs (Graph pages, NDJSON, the portal's JSON download,
    /// Azure Monitor diagnostic exports; gzip or not).
    Report(ReportArgs),
    /// Print the built-in channel rules: the start of a rules file of your own.
    Rules,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// An export file, or a directory: every .json, .ndjson, .jsonl and .gz file under it.
    /// Repeat for more inputs. The format is detected from the content.
    #[arg(long, short, required = true, num_args = 1.., value_name = "PATH")]
    pub input: Vec<PathBuf>,

    /// Channel rules (TOML) replacing the built-in ones; see `ssprlens rules`.
    #[arg(long, value_name = "FILE")]
    pub channels: Option<PathBuf>,

    /// The built-in report to run: channels, client_types, unlocks.
    #[arg(long, short, value_name = "NAME", default_value = "channels")]
    pub report: String,

    /// Run your own SQL over the `events`, `attempts` and `channel_order` tables instead.
    #[arg(long, value_name = "FILE.sql", conflicts_with = "report")]
    pub query: Option<PathBuf>,

    /// Output format [default: from the --out extension, else table].
    #[arg(long, short, value_enum)]
    pub format: Option<Format>,

    /// Write to this file (atomically) instead of standard output.
    #[arg(long, short, value_name = "PATH")]
    pub out: Option<PathBuf>,

    /// Only attempts that began at or after this time: RFC 3339, a date (YYYY-MM-DD, UTC), or an
    /// age such as 7d, 12h, 30m, 2w.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only attempts that began at or before this time (same forms; a date means its whole day).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Append every rejected line or record here, verbatim.
    #[arg(long, value_name = "PATH")]
    pub rejects: Option<PathBuf>,

    /// Fail (exit code 4, nothing written) when any input is rejected.
    #[arg(long)]
    pub strict: bool,

    /// Print only errors on standard error.
    #[arg(long, short)]
    pub quiet: bool,
}
