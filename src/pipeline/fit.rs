//! Whether the channel rules fit the data: the share of self-service reset attempts that land
//! in `unknown`, and, above `--unknown-warning`, one warning naming that share, the three most
//! frequent raw client type values behind it and the `calibrate` command that teaches
//! ssprlens the tenant's own values.

use tracing::warn;

use crate::error::Error;
use crate::reporter::queries::Tables;
use crate::reporter::sanitize::for_display;

/// Self-service reset attempts, those in `unknown`, and the most frequent raw client type
/// values among the latter (`none` for attempts without one), most frequent first.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownShare {
    pub attempts: u64,
    pub unknown: u64,
    pub top: Vec<(String, u64)>,
}

impl UnknownShare {
    /// The share of attempts in `unknown`; 0 without attempts.
    pub fn share(&self) -> f64 {
        if self.attempts == 0 {
            0.0
        } else {
            self.unknown as f64 / self.attempts as f64
        }
    }
}

const COUNTS: &str = "SELECT COUNT(*) AS attempts, COUNT(*) FILTER (WHERE channel = 'unknown') AS unknown \
                      FROM attempts WHERE kind = 'reset'";
const TOP: &str = "SELECT COALESCE(client_type, 'none') AS value, COUNT(*) AS attempts FROM attempts \
                   WHERE kind = 'reset' AND channel = 'unknown' GROUP BY value \
                   ORDER BY attempts DESC, value LIMIT 3";

/// The share of the attempts the tables hold.
pub fn unknown_share(tables: &mut Tables) -> Result<UnknownShare, Error> {
    let counts = tables.query("unknown share", COUNTS)?;
    let count = |name: &str| -> u64 {
        counts
            .column(name)
            .ok()
            .and_then(|column| column.cast(&polars::prelude::DataType::UInt64).ok())
            .and_then(|column| column.u64().ok().and_then(|values| values.get(0)))
            .unwrap_or_default()
    };
    let (attempts, unknown) = (count("attempts"), count("unknown"));
    let top = tables.query("unknown client types", TOP)?;
    let values = top.column("value").and_then(|column| column.str().cloned());
    let numbers = top
        .column("attempts")
        .and_then(|column| column.cast(&polars::prelude::DataType::UInt64))
        .and_then(|column| column.u64().cloned());
    let top = match (values, numbers) {
        (Ok(values), Ok(numbers)) => values
            .iter()
            .zip(numbers.iter())
            .map(|(value, count)| {
                (
                    value.unwrap_or("none").to_owned(),
                    count.unwrap_or_default(),
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(UnknownShare {
        attempts,
        unknown,
        top,
    })
}

/// The warning for a share above `threshold`, if it is.
pub fn unknown_warning(share: &UnknownShare, threshold: f64) -> Option<String> {
    if share.attempts == 0 || share.share() <= threshold {
        return None;
    }
    let top: Vec<String> = share
        .top
        .iter()
        .map(|(value, count)| format!("`{}` ({count})", for_display(value)))
        .collect();
    Some(format!(
        "{:.1} % of self-service reset attempts ({} of {}) land in channel `unknown` (above --unknown-warning {threshold}); \
         their most frequent client types: {}. The channel rules do not fit this tenant: reset a test account's \
         password once at the Windows sign-in screen and once on the web, then run `ssprlens calibrate \
         --input PATH --user UPN --login-screen TIME --web TIME --out rules.toml` and report with --channels rules.toml",
        share.share() * 100.0,
        share.unknown,
        share.attempts,
        top.join(", ")
    ))
}

/// Warns when the share of the attempts the tables hold is above `threshold`.
pub fn warn_if_unknown(tables: &mut Tables, threshold: f64) -> Result<(), Error> {
    if let Some(warning) = unknown_warning(&unknown_share(tables)?, threshold) {
        warn!("{warning}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_names_share_values_and_the_calibrate_command() {
        let share = UnknownShare {
            attempts: 40,
            unknown: 6,
            top: vec![
                ("Kiosk\u{1b}[31m".into(), 3),
                ("none".into(), 2),
                ("SSPRApp".into(), 1),
            ],
        };
        let warning = unknown_warning(&share, 0.10).unwrap();
        assert!(
            warning.starts_with("15.0 % of self-service reset attempts (6 of 40)"),
            "{warning}"
        );
        assert!(
            warning.contains("`Kiosk` (3), `none` (2), `SSPRApp` (1)"),
            "{warning}"
        );
        assert!(warning.contains("ssprlens calibrate"), "{warning}");
        assert_eq!(unknown_warning(&share, 0.15), None);
        let none = UnknownShare {
            attempts: 0,
            unknown: 0,
            top: Vec::new(),
        };
        assert_eq!(unknown_warning(&none, 0.0), None);
    }
}
