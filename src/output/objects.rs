//! The Lync-shaped output objects. Field order is the property order pwsh shows.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serializer;

/// Dates as `yyyy-MM-ddTHH:mm:ssZ`: ConvertFrom-Json turns exactly this into [datetime].
pub fn ser_date<S: Serializer>(d: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&d.to_rfc3339_opts(SecondsFormat::Secs, true))
}

pub fn ser_opt_date<S: Serializer>(d: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => ser_date(d, s),
        None => s.serialize_none(),
    }
}
