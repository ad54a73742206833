//! Turns audit records into events, classifies attempts by channel, and groups events into
//! attempts. Pure: no I/O and no clock; everything it needs is passed in.

pub mod attempts;
pub mod calendar;
pub mod calibration;
pub mod event;
pub mod funnel;
pub mod helpdesk;
pub mod ip_history;
pub mod network;
pub mod pseudonym;
pub mod reach;
pub mod rules;
pub mod window;
