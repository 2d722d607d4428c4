//! DateTime conversion as pwsh binds a string to a cmdlet's DateTime parameter: in the current
//! culture (on Unix taken from `LC_ALL`, `LC_TIME` or `LANG`, e.g. `ko_KR.UTF-8` -> ko-KR), with
//! .NET's date and time patterns for that culture, and ISO 8601 always. Microsoft: "The
//! EffectiveDate must be formatted to match your server's region and language settings".

use chrono::{DateTime, Datelike, Local, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};

/// The order of day, month and year in a culture's short date pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    Mdy,
    Dmy,
    Ymd,
}

/// What cscert knows of a .NET culture: its short-date order, its AM/PM designators, and one
/// example in its general ("G") pattern for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Culture {
    pub name: &'static str,
    order: Order,
    am: &'static [&'static str],
    pm: &'static [&'static str],
    /// 2026-07-22 06:00:00 in the culture's "G" pattern (.NET: ShortDatePattern LongTimePattern).
    pub example: &'static str,
}

/// The invariant culture (pwsh under `LANG=C`/`POSIX` or no locale): MM/dd/yyyy HH:mm:ss.
pub const INVARIANT: Culture = Culture {
    name: "Invariant",
    order: Order::Mdy,
    am: &["AM"],
    pm: &["PM"],
    example: "07/22/2026 06:00:00",
};

/// .NET's patterns (NLS and ICU agree on the order; both forms of ko-KR and ja-JP are read):
/// en-US M/d/yyyy h:mm:ss tt; en-GB and fr-FR dd/MM/yyyy HH:mm:ss; de-DE dd.MM.yyyy HH:mm:ss;
/// ja-JP yyyy/MM/dd H:mm:ss; ko-KR yyyy-MM-dd tt h:mm:ss (ICU: yyyy. M. d. tt h:mm:ss).
pub const CULTURES: &[Culture] = &[
    Culture {
        name: "en-US",
        order: Order::Mdy,
        am: &["AM"],
        pm: &["PM"],
        example: "7/22/2026 6:00:00 AM",
    },
    Culture {
        name: "en-GB",
        order: Order::Dmy,
        am: &["AM", "am"],
        pm: &["PM", "pm"],
        example: "22/07/2026 06:00:00",
    },
    Culture {
        name: "de-DE",
        order: Order::Dmy,
        am: &["AM", "vorm."],
        pm: &["PM", "nachm."],
        example: "22.07.2026 06:00:00",
    },
    Culture {
        name: "fr-FR",
        order: Order::Dmy,
        am: &["AM"],
        pm: &["PM"],
        example: "22/07/2026 06:00:00",
    },
    Culture {
        name: "ja-JP",
        order: Order::Ymd,
        am: &["午前", "AM"],
        pm: &["午後", "PM"],
        example: "2026/07/22 6:00:00",
    },
    Culture {
        name: "ko-KR",
        order: Order::Ymd,
        am: &["오전", "AM"],
        pm: &["오후", "PM"],
        example: "2026-07-22 오전 6:00:00",
    },
];

/// The ISO 8601 example every error names.
pub const ISO_EXAMPLE: &str = "2026-07-22T06:00:00";

/// The culture pwsh would use, and where it came from (`LANG=ko_KR.UTF-8`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CurrentCulture {
    Known(Culture, Option<String>),
    /// A locale cscert has no patterns for: only ISO 8601 is read.
    Unknown(String, String),
}

/// `ko_KR.UTF-8` -> `ko-KR`; `C`, `POSIX` and empty -> None (the invariant culture).
pub fn culture_name(locale: &str) -> Option<String> {
    let base = locale.split(['.', '@']).next().unwrap_or("").trim();
    if base.is_empty() || base == "C" || base == "POSIX" {
        return None;
    }
    Some(base.replace('_', "-"))
}

/// The culture from the environment as on Unix: the first non-empty of LC_ALL, LC_TIME, LANG.
pub fn current_culture() -> CurrentCulture {
    current_culture_from(|k| std::env::var(k).ok())
}

fn current_culture_from(get: impl Fn(&str) -> Option<String>) -> CurrentCulture {
    for var in ["LC_ALL", "LC_TIME", "LANG"] {
        let Some(v) = get(var).filter(|v| !v.is_empty()) else {
            continue;
        };
        let source = format!("{var}={v}");
        return match culture_name(&v) {
            None => CurrentCulture::Known(INVARIANT, Some(source)),
            Some(name) => match CULTURES.iter().find(|c| c.name.eq_ignore_ascii_case(&name)) {
                Some(c) => CurrentCulture::Known(*c, Some(source)),
                None => CurrentCulture::Unknown(name, source),
            },
        };
    }
    CurrentCulture::Known(INVARIANT, None)
}

/// Why a date was not read: the hint a binding error adds after PowerShell's own sentence.
pub fn hint(culture: &CurrentCulture) -> String {
    match culture {
        CurrentCulture::Known(c, source) => format!(
            "cscert reads dates in the culture {}{}, e.g. '{}', or as ISO 8601, e.g. '{ISO_EXAMPLE}'.",
            c.name,
            source.as_deref().map(|s| format!(" (from {s})")).unwrap_or_default(),
            c.example
        ),
        CurrentCulture::Unknown(name, source) => format!(
            "The culture {name} (from {source}) is not one cscert has date patterns for ({}): give the date as ISO 8601, e.g. '{ISO_EXAMPLE}'.",
            CULTURES.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// A parameter's date: ISO 8601, else the current culture's patterns.
pub fn parse_in_current_culture(s: &str) -> Result<DateTime<Utc>, String> {
    let culture = current_culture();
    let parsed = match &culture {
        CurrentCulture::Known(c, _) => parse_in(s, c),
        CurrentCulture::Unknown(..) => parse_iso(s),
    };
    parsed.ok_or_else(|| hint(&culture))
}

const ISO_LOCAL_FORMATS: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
];

/// .NET's DateTime range, and no leap second (chrono reads `:60` as one; .NET refuses it).
fn in_range(d: NaiveDateTime) -> Option<NaiveDateTime> {
    ((1..=9999).contains(&d.year()) && d.nanosecond() < 1_000_000_000).then_some(d)
}

/// Times without a zone are local time, as in PowerShell.
fn local(n: NaiveDateTime) -> Option<DateTime<Utc>> {
    Local
        .from_local_datetime(&in_range(n)?)
        .earliest()
        .map(|d| d.with_timezone(&Utc))
}

/// ISO 8601: with `Z` or an offset exact, without a zone local time; a date alone is midnight.
pub fn parse_iso(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        in_range(d.naive_utc())?;
        return Some(d.with_timezone(&Utc));
    }
    if let Some(stripped) = s.strip_suffix('Z') {
        for f in ISO_LOCAL_FORMATS {
            if let Ok(n) = NaiveDateTime::parse_from_str(stripped, f) {
                return Some(Utc.from_utc_datetime(&in_range(n)?));
            }
        }
    }
    let naive = ISO_LOCAL_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    local(naive)
}

/// .NET's two-digit year rule (Calendar.TwoDigitYearMax = 2049): 00-49 -> 20xx, 50-99 -> 19xx.
fn four_digit_year(digits: &str) -> Option<i32> {
    let y: i32 = digits.parse().ok()?;
    Some(match digits.len() {
        1 | 2 if y <= 49 => 2000 + y,
        1 | 2 => 1900 + y,
        4 => y,
        _ => return None,
    })
}

/// Parses ISO 8601, then the culture's short date with an optional time (`h:mm[:ss]`) and AM/PM
/// designator before or after it (ko-KR and ja-JP put it before).
pub fn parse_in(s: &str, c: &Culture) -> Option<DateTime<Utc>> {
    if let Some(d) = parse_iso(s) {
        return Some(d);
    }
    // ICU's ko-KR short date is "2026. 7. 22.": join its parts before splitting on spaces.
    let mut joined = String::with_capacity(s.len());
    let mut chars = s.trim().chars().peekable();
    while let Some(ch) = chars.next() {
        joined.push(ch);
        if ch == '.' {
            while chars.peek() == Some(&' ') {
                let mut ahead = chars.clone();
                ahead.next();
                if ahead.peek().is_some_and(|c| c.is_ascii_digit()) {
                    chars.next();
                } else {
                    break;
                }
            }
        }
    }
    let mut tokens = joined.split_whitespace();
    let date = tokens.next()?.trim_end_matches('.');
    let parts: Vec<&str> = date.split(['/', '.', '-']).collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    // A four-digit first part is a year in every culture (.NET reads yyyy/MM/dd everywhere).
    let order = if parts[0].len() == 4 {
        Order::Ymd
    } else {
        c.order
    };
    let (y, m, d) = match order {
        Order::Mdy => (parts[2], parts[0], parts[1]),
        Order::Dmy => (parts[2], parts[1], parts[0]),
        Order::Ymd => (parts[0], parts[1], parts[2]),
    };
    if m.len() > 2 || d.len() > 2 || y.len() == 3 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(four_digit_year(y)?, m.parse().ok()?, d.parse().ok()?)?;

    let mut time: Option<(u32, u32, u32)> = None;
    let mut pm: Option<bool> = None;
    for t in tokens {
        if c.am.iter().any(|a| a.eq_ignore_ascii_case(t)) && pm.is_none() {
            pm = Some(false);
        } else if c.pm.iter().any(|p| p.eq_ignore_ascii_case(t)) && pm.is_none() {
            pm = Some(true);
        } else if time.is_none() && t.contains(':') {
            let f: Vec<&str> = t.split(':').collect();
            let num = |x: &str| -> Option<u32> {
                (!x.is_empty() && x.len() <= 2 && x.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| x.parse().ok())
                    .flatten()
            };
            time = Some(match f.as_slice() {
                [h, mi] => (num(h)?, num(mi)?, 0),
                [h, mi, sec] => (num(h)?, num(mi)?, num(sec)?),
                _ => return None,
            });
        } else {
            return None;
        }
    }
    let (mut h, mi, sec) = match (time, pm) {
        (Some(t), _) => t,
        (None, None) => (0, 0, 0),
        (None, Some(_)) => return None,
    };
    if mi > 59 || sec > 59 {
        return None;
    }
    match pm {
        Some(is_pm) => {
            if !(1..=12).contains(&h) {
                return None;
            }
            h = match (h, is_pm) {
                (12, false) => 0,
                (12, true) => 12,
                (h, true) => h + 12,
                (h, false) => h,
            };
        }
        None if h > 23 => return None,
        None => {}
    }
    local(date.and_hms_opt(h, mi, sec)?)
}

/// The clock override (`CSCERT_NOW`) and other culture-independent dates: ISO 8601, or the
/// invariant culture (US order), as scripts write them.
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    parse_in(s, &INVARIANT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn culture(name: &str) -> Culture {
        *CULTURES.iter().find(|c| c.name == name).unwrap()
    }

    /// The local wall-clock time a string means (tests run in any TZ).
    fn wall(s: &str, c: &Culture) -> Option<NaiveDateTime> {
        parse_in(s, c).map(|d| d.with_timezone(&Local).naive_local())
    }

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Option<NaiveDateTime> {
        NaiveDate::from_ymd_opt(y, mo, d)?.and_hms_opt(h, mi, s)
    }

    #[test]
    fn iso_with_zone_is_exact() {
        let d = parse_datetime("2012-07-22T06:00:00Z").unwrap();
        assert_eq!(d.to_rfc3339(), "2012-07-22T06:00:00+00:00");
        let d = parse_datetime("2012-07-22T08:00:00+02:00").unwrap();
        assert_eq!(d.to_rfc3339(), "2012-07-22T06:00:00+00:00");
    }

    #[test]
    fn us_formats_parse_as_local_time() {
        let us = culture("en-US");
        assert_eq!(wall("7/22/2012 6:00:00 AM", &us), at(2012, 7, 22, 6, 0, 0));
        assert_eq!(wall("7/21/2012 1:00:00 PM", &us), at(2012, 7, 21, 13, 0, 0));
        assert_eq!(wall("7/1/2012", &us), at(2012, 7, 1, 0, 0, 0));
        assert_eq!(wall("2012-07-01", &us), at(2012, 7, 1, 0, 0, 0));
        assert_eq!(wall("7/22/2012 18:30", &us), at(2012, 7, 22, 18, 30, 0));
        assert_eq!(wall("7/31/2027 8:00 AM", &us), at(2027, 7, 31, 8, 0, 0));
        assert_eq!(wall("7/31/2027 12:00 AM", &us), at(2027, 7, 31, 0, 0, 0));
        assert_eq!(wall("7/31/2027 12:30 PM", &us), at(2027, 7, 31, 12, 30, 0));
    }

    /// Issue 11 item 8. Each culture's own "G" form, as .NET formats 2026-07-22 06:00:00
    /// (CultureInfo(name).DateTimeFormat: ShortDatePattern + LongTimePattern), and ISO 8601 in
    /// every culture. Source: Set-CsCertificate docs: "The EffectiveDate must be formatted to match
    /// your server's region and language settings"; .NET culture data (en-US M/d/yyyy h:mm:ss tt,
    /// en-GB and fr-FR dd/MM/yyyy HH:mm:ss, de-DE dd.MM.yyyy HH:mm:ss, ja-JP yyyy/MM/dd H:mm:ss,
    /// ko-KR yyyy-MM-dd tt h:mm:ss with 오전/오후, ICU's ko-KR yyyy. M. d.).
    #[test]
    fn item_08_each_culture_reads_its_own_pattern() {
        let six = at(2026, 7, 22, 6, 0, 0);
        let eighteen = at(2026, 7, 22, 18, 0, 0);
        for c in CULTURES {
            assert_eq!(wall(c.example, c), six, "{} example {}", c.name, c.example);
            assert_eq!(wall("2026-07-22T06:00:00", c), six, "ISO in {}", c.name);
        }
        assert_eq!(wall(INVARIANT.example, &INVARIANT), six);
        let cases: &[(&str, &str, Option<NaiveDateTime>)] = &[
            ("en-GB", "22/07/2026 18:00:00", eighteen),
            ("en-GB", "22/07/2026", at(2026, 7, 22, 0, 0, 0)),
            ("fr-FR", "22/07/2026 18:00", eighteen),
            ("de-DE", "22.07.2026 18:00:00", eighteen),
            ("de-DE", "22.7.2026", at(2026, 7, 22, 0, 0, 0)),
            ("ja-JP", "2026/07/22 18:00:00", eighteen),
            ("ja-JP", "2026/07/22 午後 6:00:00", eighteen),
            ("ko-KR", "2026-07-22 오후 6:00:00", eighteen),
            ("ko-KR", "2026. 7. 22. 오전 6:00:00", six),
            (
                "ko-KR",
                "2026-07-22 오전 12:30:00",
                at(2026, 7, 22, 0, 30, 0),
            ),
            // The other order is not this culture's: day 22 is no month.
            ("en-US", "22/07/2026", None),
            ("en-GB", "7/22/2026 6:00:00 AM", None),
            ("de-DE", "07/22/2026", None),
            ("ko-KR", "2026-07-22 오전 13:00:00", None),
            ("en-US", "7/22/2026 6:00:00 XM", None),
        ];
        for (name, s, want) in cases {
            assert_eq!(wall(s, &culture(name)), *want, "{name} {s}");
        }
        // The same digits mean different days in different cultures.
        assert_eq!(
            wall("01/02/2026", &culture("en-US")),
            at(2026, 1, 2, 0, 0, 0)
        );
        assert_eq!(
            wall("01/02/2026", &culture("en-GB")),
            at(2026, 2, 1, 0, 0, 0)
        );
    }

    #[test]
    fn item_08_culture_comes_from_lc_all_lc_time_lang() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            current_culture_from(move |k| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            })
        };
        assert_eq!(culture_name("ko_KR.UTF-8").as_deref(), Some("ko-KR"));
        assert_eq!(culture_name("de_DE@euro").as_deref(), Some("de-DE"));
        assert_eq!(culture_name("C.UTF-8"), None);
        match env(&[("LANG", "ko_KR.UTF-8")]) {
            CurrentCulture::Known(c, Some(src)) => {
                assert_eq!(c.name, "ko-KR");
                assert_eq!(src, "LANG=ko_KR.UTF-8");
            }
            other => panic!("{other:?}"),
        }
        // LC_ALL wins over LC_TIME, which wins over LANG.
        let c = env(&[
            ("LC_ALL", "en_GB.UTF-8"),
            ("LC_TIME", "de_DE.UTF-8"),
            ("LANG", "ko_KR.UTF-8"),
        ]);
        assert!(matches!(
            c,
            CurrentCulture::Known(Culture { name: "en-GB", .. }, _)
        ));
        let c = env(&[("LC_TIME", "de_DE.UTF-8"), ("LANG", "ko_KR.UTF-8")]);
        assert!(matches!(
            c,
            CurrentCulture::Known(Culture { name: "de-DE", .. }, _)
        ));
        assert!(matches!(env(&[]), CurrentCulture::Known(INVARIANT, None)));
        assert!(matches!(
            env(&[("LANG", "C")]),
            CurrentCulture::Known(INVARIANT, _)
        ));
        let unknown = env(&[("LANG", "es_ES.UTF-8")]);
        assert!(matches!(&unknown, CurrentCulture::Unknown(n, _) if n == "es-ES"));
        let h = hint(&unknown);
        assert!(h.contains("es-ES") && h.contains(ISO_EXAMPLE), "{h}");
        let h = hint(&env(&[("LANG", "ko_KR.UTF-8")]));
        assert!(
            h.contains("ko-KR")
                && h.contains("LANG=ko_KR.UTF-8")
                && h.contains("오전")
                && h.contains(ISO_EXAMPLE),
            "{h}"
        );
    }

    /// Issue 10 defect 12: .NET's two-digit-year rule. Calendar.TwoDigitYearMax is 2049 for the
    /// Gregorian calendar, and ToFourDigitYear maps yy to the year in (2049-100, 2049]:
    /// 00-49 -> 2000-2049, 50-99 -> 1950-1999.
    #[test]
    fn issue10_defect_12_two_digit_year() {
        let us = culture("en-US");
        assert_eq!(wall("01/01/70", &us), at(1970, 1, 1, 0, 0, 0));
        assert_eq!(wall("01/01/50", &us), at(1950, 1, 1, 0, 0, 0));
        assert_eq!(wall("01/01/49", &us), at(2049, 1, 1, 0, 0, 0));
        assert_eq!(wall("01/01/00", &us), at(2000, 1, 1, 0, 0, 0));
        assert_eq!(wall("7/22/26 6:00:00 AM", &us), at(2026, 7, 22, 6, 0, 0));
        assert_eq!(
            wall("22.07.99", &culture("de-DE")),
            at(1999, 7, 22, 0, 0, 0)
        );
        // Three-digit years are not a .NET short-date form.
        assert_eq!(wall("01/01/070", &us), None);
    }

    /// Issue 10 defect 12: a leap second (`:60`) is refused, in every form (chrono alone would
    /// read it, and print it as `:60`), as is a year beyond .NET's DateTime range.
    #[test]
    fn issue10_defect_12_leap_second() {
        for s in [
            "2016-12-31T23:59:60Z",
            "2016-12-31T23:59:60+00:00",
            "2016-12-31T23:59:60",
            "2016-12-31 23:59:60",
            "12/31/2016 23:59:60",
            "12/31/2016 11:59:60 PM",
        ] {
            assert_eq!(parse_in(s, &culture("en-US")), None, "{s}");
        }
        assert_eq!(parse_datetime("+10000-01-01T00:00:00Z"), None);
        assert_eq!(parse_datetime("0000-01-01T00:00:00Z"), None);
        assert!(parse_datetime("9999-12-31T23:59:59Z").is_some());
    }

    #[test]
    fn nonsense_is_refused() {
        for s in [
            "",
            "tomorrow",
            "13/45/2012",
            "7/22/2012 25:00:00",
            "7/22/2012 6:00:00 AM PM",
            "1/2/3/4",
        ] {
            assert!(parse_datetime(s).is_none(), "{s}");
        }
    }
}
