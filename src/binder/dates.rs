//! DateTime conversion as pwsh users write dates: US culture (`7/22/2012 6:00:00 AM`) and ISO 8601.

use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeZone, Utc};

const US_FORMATS: &[&str] = &[
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
];

const ISO_LOCAL_FORMATS: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
];

/// Parses a date the way `[datetime]` conversion does for the formats Lync scripts use. Times
/// without a zone are local time, as in PowerShell; `Z` or an offset is honoured.
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Some(stripped) = s.strip_suffix('Z') {
        for f in ISO_LOCAL_FORMATS {
            if let Ok(n) = NaiveDateTime::parse_from_str(stripped, f) {
                return Some(Utc.from_utc_datetime(&n));
            }
        }
    }
    let naive = US_FORMATS
        .iter()
        .chain(ISO_LOCAL_FORMATS)
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| {
            ["%m/%d/%Y", "%Y-%m-%d"]
                .iter()
                .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    Local
        .from_local_datetime(&naive)
        .earliest()
        .map(|d| d.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_with_zone_is_exact() {
        let d = parse_datetime("2012-07-22T06:00:00Z").unwrap();
        assert_eq!(d.to_rfc3339(), "2012-07-22T06:00:00+00:00");
        let d = parse_datetime("2012-07-22T08:00:00+02:00").unwrap();
        assert_eq!(d.to_rfc3339(), "2012-07-22T06:00:00+00:00");
    }

    #[test]
    fn us_formats_parse_as_local_time() {
        let expect = |s: &str, y, mo, d, h, mi| {
            let got = parse_datetime(s)
                .unwrap()
                .with_timezone(&Local)
                .naive_local();
            let want = NaiveDate::from_ymd_opt(y, mo, d)
                .unwrap()
                .and_hms_opt(h, mi, 0)
                .unwrap();
            assert_eq!(got, want, "{s}");
        };
        expect("7/22/2012 6:00:00 AM", 2012, 7, 22, 6, 0);
        expect("7/21/2012 1:00:00 PM", 2012, 7, 21, 13, 0);
        expect("7/1/2012", 2012, 7, 1, 0, 0);
        expect("2012-07-01", 2012, 7, 1, 0, 0);
        expect("7/22/2012 18:30", 2012, 7, 22, 18, 30);
    }

    #[test]
    fn nonsense_is_refused() {
        for s in ["", "tomorrow", "13/45/2012", "7/22/2012 25:00:00"] {
            assert!(parse_datetime(s).is_none(), "{s}");
        }
    }
}
