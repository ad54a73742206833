//! Fetch progress for people and for logs: a live line on a terminal (indicatif), plain log lines
//! every few pages otherwise, nothing with `--quiet`.

use std::io::IsTerminal;
use std::time::Duration;

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use tracing::info;

use crate::fetcher::graph::pager::FetchStats;

/// Pages between two plain progress lines.
const PAGES_PER_LINE: u32 = 10;

pub enum Progress {
    Bar(ProgressBar),
    Lines,
    Silent,
}

impl Progress {
    /// A bar on an interactive terminal with text logs, lines otherwise, nothing when quiet.
    pub fn choose(quiet: bool, text_logs: bool) -> Progress {
        if quiet {
            Progress::Silent
        } else if text_logs && std::io::stderr().is_terminal() {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                    .expect("a valid template"),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            Progress::Bar(bar)
        } else {
            Progress::Lines
        }
    }

    pub fn update(&self, stats: &FetchStats, stored: u64, reached: Option<DateTime<Utc>>) {
        let text = || {
            format!(
                "pages {}, records {} ({} new), back to {}, throttled {}x, waited {:.0}s",
                stats.pages,
                stats.records,
                stored,
                reached.map_or_else(
                    || "-".to_owned(),
                    |t| t.format("%Y-%m-%d %H:%M").to_string()
                ),
                stats.throttled,
                stats.waited.as_secs_f64()
            )
        };
        match self {
            Progress::Bar(bar) => bar.set_message(text()),
            Progress::Lines if stats.pages % PAGES_PER_LINE == 1 => info!("{}", text()),
            Progress::Lines | Progress::Silent => {}
        }
    }

    pub fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}
