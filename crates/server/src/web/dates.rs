//! Times as people read them: in the citizen's time zone (the deployment's
//! `time_zone`, `America/Toronto` unless configured), in the page's
//! language, with the zone always shown, so an hour that happens twice when
//! daylight saving time ends is never ambiguous.
//!
//! - English: `Dec 2, 2026, 9:15 a.m. EST`
//! - French: `2 déc. 2026, 9 h 15 HNE` (the Canadian French abbreviations
//!   of the North American zones: HNE, heure normale de l'Est; HAE, heure
//!   avancée de l'Est; ...)
//!
//! A zone whose abbreviation is only an offset (`+03`) is shown as
//! `UTC+3`. Machine-readable times (`<time datetime>`, the JSON documents)
//! stay RFC 3339 in UTC. The zone rules are the system's time zone
//! database, or the copy built into the binary where the system has none.
use jiff::tz::TimeZone;
use jiff::Timestamp;

use super::Locale;

/// The zone of a deployment that names none: Québec's.
pub const DEFAULT_TIME_ZONE: &str = "America/Toronto";

/// Whether `name` is a zone of the time zone database (`America/Toronto`,
/// `America/Vancouver`, `UTC`).
pub fn is_time_zone(name: &str) -> bool {
    TimeZone::get(name).is_ok()
}

const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const MONTHS_FR: [&str; 12] = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juill.", "août", "sept.", "oct.", "nov.",
    "déc.",
];

/// The Canadian French name of a North American zone abbreviation.
fn abbreviation_fr(en: &str) -> Option<&'static str> {
    Some(match en {
        "NST" => "HNT",
        "NDT" => "HAT",
        "AST" => "HNA",
        "ADT" => "HAA",
        "EST" => "HNE",
        "EDT" => "HAE",
        "CST" => "HNC",
        "CDT" => "HAC",
        "MST" => "HNR",
        "MDT" => "HAR",
        "PST" => "HNP",
        "PDT" => "HAP",
        "AKST" => "HNAK",
        "AKDT" => "HAAK",
        _ => return None,
    })
}

/// `UTC+3`, `UTC-3:30`, `UTC`.
fn utc_offset(seconds: i32) -> String {
    if seconds == 0 {
        return "UTC".into();
    }
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    match minutes % 60 {
        0 => format!("UTC{sign}{}", minutes / 60),
        m => format!("UTC{sign}{}:{m:02}", minutes / 60),
    }
}

/// Unix seconds as a date and time in `zone` (falling back to
/// [`DEFAULT_TIME_ZONE`], then UTC, for a name the database lacks), in
/// `locale`, with the zone's abbreviation.
pub fn format(at: i64, locale: Locale, zone: &str) -> String {
    let Ok(ts) = Timestamp::from_second(at) else {
        return String::new();
    };
    let tz = TimeZone::get(zone)
        .or_else(|_| TimeZone::get(DEFAULT_TIME_ZONE))
        .unwrap_or(TimeZone::UTC);
    let info = tz.to_offset_info(ts);
    let abbreviation = info.abbreviation();
    let numeric = abbreviation.starts_with(['+', '-']) || abbreviation.is_empty();
    let zone_shown = match locale {
        _ if numeric => utc_offset(info.offset().seconds()),
        Locale::Fr => abbreviation_fr(abbreviation)
            .map(str::to_owned)
            .unwrap_or_else(|| abbreviation.to_owned()),
        Locale::En => abbreviation.to_owned(),
    };
    let local = ts.to_zoned(tz);
    let month = usize::try_from(local.month() - 1).unwrap_or(0);
    let (hour, minute) = (local.hour(), local.minute());
    match locale {
        Locale::En => {
            let (h12, half) = match hour {
                0 => (12, "a.m."),
                1..=11 => (hour, "a.m."),
                12 => (12, "p.m."),
                _ => (hour - 12, "p.m."),
            };
            format!(
                "{} {}, {}, {h12}:{minute:02} {half} {zone_shown}",
                MONTHS_EN.get(month).copied().unwrap_or_default(),
                local.day(),
                local.year(),
            )
        }
        Locale::Fr => format!(
            "{} {} {}, {hour} h {minute:02} {zone_shown}",
            local.day(),
            MONTHS_FR.get(month).copied().unwrap_or_default(),
            local.year(),
        ),
    }
}

/// The start of the day `date` (`YYYY-MM-DD`) in `zone`, in Unix
/// seconds, or of the next day with `end_of_day` (a day is 23 or 25 hours
/// long when the clocks change); `None` for a date or zone that is not one.
pub fn day_start(date: &str, zone: &str, end_of_day: bool) -> Option<i64> {
    let tz = TimeZone::get(zone).ok()?;
    let mut day: jiff::civil::Date = date.trim().parse().ok()?;
    if end_of_day {
        day = day.tomorrow().ok()?;
    }
    Some(day.to_zoned(tz).ok()?.timestamp().as_second())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TORONTO: &str = "America/Toronto";

    fn unix(rfc3339: &str) -> i64 {
        rfc3339.parse::<Timestamp>().unwrap().as_second()
    }

    #[test]
    fn toronto_in_both_languages() {
        let at = unix("2026-12-02T14:15:00Z");
        assert_eq!(
            format(at, Locale::En, TORONTO),
            "Dec 2, 2026, 9:15 a.m. EST"
        );
        assert_eq!(format(at, Locale::Fr, TORONTO), "2 déc. 2026, 9 h 15 HNE");
        let noon = unix("2026-07-01T16:05:00Z");
        assert_eq!(
            format(noon, Locale::En, TORONTO),
            "Jul 1, 2026, 12:05 p.m. EDT"
        );
        assert_eq!(
            format(noon, Locale::Fr, TORONTO),
            "1 juill. 2026, 12 h 05 HAE"
        );
        let midnight = unix("2026-01-01T05:00:00Z");
        assert_eq!(
            format(midnight, Locale::En, TORONTO),
            "Jan 1, 2026, 12:00 a.m. EST"
        );
    }

    #[test]
    fn daylight_saving_time_boundaries() {
        // 2026-03-08: 2:00 EST becomes 3:00 EDT (07:00 UTC).
        let before = unix("2026-03-08T06:59:00Z");
        assert_eq!(
            format(before, Locale::En, TORONTO),
            "Mar 8, 2026, 1:59 a.m. EST"
        );
        assert_eq!(
            format(before + 60, Locale::En, TORONTO),
            "Mar 8, 2026, 3:00 a.m. EDT"
        );
        assert_eq!(
            format(before + 60, Locale::Fr, TORONTO),
            "8 mars 2026, 3 h 00 HAE"
        );
        // 2026-11-01: 2:00 EDT becomes 1:00 EST (06:00 UTC); 1:30 happens
        // twice, and the zone tells which.
        let first = unix("2026-11-01T05:30:00Z");
        let second = unix("2026-11-01T06:30:00Z");
        assert_eq!(
            format(first, Locale::En, TORONTO),
            "Nov 1, 2026, 1:30 a.m. EDT"
        );
        assert_eq!(
            format(second, Locale::En, TORONTO),
            "Nov 1, 2026, 1:30 a.m. EST"
        );
        assert_eq!(
            format(first, Locale::Fr, TORONTO),
            "1 nov. 2026, 1 h 30 HAE"
        );
        assert_eq!(
            format(second, Locale::Fr, TORONTO),
            "1 nov. 2026, 1 h 30 HNE"
        );
    }

    #[test]
    fn other_zones_and_fallbacks() {
        let at = unix("2026-12-02T14:15:00Z");
        assert_eq!(format(at, Locale::En, "UTC"), "Dec 2, 2026, 2:15 p.m. UTC");
        assert_eq!(
            format(at, Locale::Fr, "America/Vancouver"),
            "2 déc. 2026, 6 h 15 HNP"
        );
        assert_eq!(
            format(at, Locale::En, "America/St_Johns"),
            "Dec 2, 2026, 10:45 a.m. NST"
        );
        // A zone known only by its offset.
        assert_eq!(
            format(at, Locale::En, "Asia/Kolkata"),
            "Dec 2, 2026, 7:45 p.m. IST"
        );
        assert_eq!(
            format(at, Locale::Fr, "America/Sao_Paulo"),
            "2 déc. 2026, 11 h 15 UTC-3"
        );
        // An unknown name: the default zone.
        assert_eq!(
            format(at, Locale::En, "Nowhere/Atlantis"),
            "Dec 2, 2026, 9:15 a.m. EST"
        );
        assert!(is_time_zone(TORONTO));
        assert!(!is_time_zone("Nowhere/Atlantis"));
        assert_eq!(utc_offset(19_800), "UTC+5:30");
    }

    #[test]
    fn days_are_the_citizen_s() {
        // The day clocks spring forward is 23 hours long in Toronto.
        let start = day_start("2026-03-08", TORONTO, false).unwrap();
        assert_eq!(start, unix("2026-03-08T05:00:00Z"));
        assert_eq!(
            day_start("2026-03-08", TORONTO, true).unwrap() - start,
            23 * 3600
        );
        assert_eq!(
            day_start("2026-12-02", "UTC", false),
            Some(unix("2026-12-02T00:00:00Z"))
        );
        assert_eq!(day_start("2026-02-30", TORONTO, false), None);
        assert_eq!(day_start("2026-12-02", "Nowhere/Atlantis", false), None);
    }
}
