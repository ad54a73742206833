//! Turns audit records into events, classifies attempts by channel, and groups events into
//! attempts. Pure: no I/O and no clock; everything it needs is passed in.

pub mod attempts;
pub mod event;
pub mod rules;
