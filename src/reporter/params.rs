//! The parameters of the reports (`--by`, `--tz`, `--rollout-date`, costs, thresholds), the
//! `params` table's one row, and the assumptions printed under the tables that use them.
//!
//! Cost defaults are Microsoft's account-recovery cost estimator's: $60 for a helpdesk recovery,
//! $2 for a self-service one. Forrester's often-quoted figure is about $70 per password-reset
//! call. The default deflection, 1, counts every completed self-service reset as a call avoided:
//! an upper bound. Every figure and its source is printed with the numbers it made.

use chrono::NaiveDate;

/// Microsoft's account-recovery cost estimator: a helpdesk recovery.
pub const DEFAULT_COST_HELPDESK: f64 = 60.0;
/// Microsoft's account-recovery cost estimator: a self-service recovery.
pub const DEFAULT_COST_SELF_SERVICE: f64 = 2.0;
/// Every completed self-service reset replaced a call.
pub const DEFAULT_DEFLECTION: f64 = 1.0;
pub const DEFAULT_CURRENCY: &str = "USD";
/// The zone of days and periods.
pub const DEFAULT_TIME_ZONE: &str = "UTC";
/// Working hours and days, for after-hours attempts.
pub const DEFAULT_WORKING_HOURS: &str = "08:00-18:00";
pub const DEFAULT_WORKING_DAYS: &str = "mon-fri";
/// An IP address used by at least this many distinct users is flagged.
pub const DEFAULT_IP_USERS: u32 = 5;
/// A user completing at least this many resets within 24 hours is flagged.
pub const DEFAULT_REPEAT_RESETS: u32 = 2;
/// The share of self-service reset attempts in `unknown` above which a report warns.
pub const DEFAULT_UNKNOWN_WARNING: f64 = 0.10;

/// A figure and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Assumption {
    pub value: f64,
    /// `given` (on the command line) or the source of the default.
    pub source: &'static str,
}

const GIVEN: &str = "given";

impl Assumption {
    /// The value given on the command line, else the default with its source.
    pub fn given_or(given: Option<f64>, default: f64, source: &'static str) -> Self {
        match given {
            Some(value) => Assumption {
                value,
                source: GIVEN,
            },
            None => Assumption {
                value: default,
                source,
            },
        }
    }
}

/// What a reset costs, and how many self-service resets replace a call.
#[derive(Debug, Clone, PartialEq)]
pub struct Costs {
    pub deflection: Assumption,
    pub helpdesk: Assumption,
    pub self_service: Assumption,
    pub currency: String,
}

pub const HELPDESK_SOURCE: &str = "default: Microsoft's account-recovery cost estimator ($60 per helpdesk recovery; Forrester's often-quoted figure is about $70 per password-reset call)";
pub const SELF_SERVICE_SOURCE: &str =
    "default: Microsoft's account-recovery cost estimator ($2 per self-service recovery)";
pub const DEFLECTION_SOURCE: &str = "default: every completed self-service reset counts as one call avoided, an upper bound; give your own share with --deflection";

/// Every parameter of the built-in reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameters {
    /// `day`, `week` or `month`.
    pub by: &'static str,
    /// The IANA zone of days and periods.
    pub time_zone: String,
    pub rollout_date: Option<NaiveDate>,
    pub costs: Costs,
    pub ip_users_threshold: u32,
    pub repeat_resets_threshold: u32,
    /// The working hours, days and zone, as given (`08:00-18:00 mon-fri UTC`).
    pub working_hours: String,
}

impl Parameters {
    /// The lines printed under a report's table: the assumptions its numbers rest on.
    pub fn notes_for(&self, report: &str) -> Vec<String> {
        let periods = format!(
            "Periods: {} in {}, labelled by their first day (weeks start on Monday).",
            self.by, self.time_zone
        );
        match report {
            "trend" => vec![periods],
            "helpdesk" | "helpdesk_rollout" | "summary" => {
                let costs = &self.costs;
                let mut notes = vec![
                    format!(
                        "Estimated calls avoided = completed self-service resets x deflection {} ({}).",
                        costs.deflection.value, costs.deflection.source
                    ),
                    format!(
                        "Estimated savings = calls avoided x ({} {} per helpdesk reset - {} {} per self-service reset).",
                        costs.helpdesk.value,
                        costs.currency,
                        costs.self_service.value,
                        costs.currency
                    ),
                    format!("Helpdesk reset cost: {}.", costs.helpdesk.source),
                    format!("Self-service reset cost: {}.", costs.self_service.source),
                ];
                if report == "helpdesk" {
                    notes.push(periods);
                    notes.push(match self.rollout_date {
                        Some(date) => format!("Login-screen rollout: {date} (phases before, rollout, after)."),
                        None => "Give --rollout-date to compare weekly averages before and after the login-screen rollout.".to_owned(),
                    });
                }
                notes
            }
            "ips" => vec![format!(
                "Flagged: an address used by {} or more distinct users (--ip-users); a shared NAT or proxy egress address is flagged too.",
                self.ip_users_threshold
            )],
            "users" => vec![format!(
                "Flagged: {} or more completed resets within 24 hours (--repeat-resets), attempts outside working hours {}, blocked, or insufficient authentication methods.",
                self.repeat_resets_threshold, self.working_hours
            )],
            _ => Vec::new(),
        }
    }
}
