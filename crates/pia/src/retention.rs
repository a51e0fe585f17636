//! Retention periods: a small ISO 8601 duration parser and the `condition+duration`
//! form the inventory uses.
//!
//! Grammar of an inventory `retention` value:
//!
//! ```text
//! retention = duration                 ; "P30D": kept this long after the trigger
//!           | condition                ; "while-session-active": destroyed when the condition ends
//!           | condition "+" duration   ; "while-account-active+P1Y": kept this long after it ends
//! duration  = "P" [n "Y"] [n "M"] [n "W"] [n "D"] ["T" [n "H"] [n "M"] [n "S"]]
//! ```
//!
//! Components must appear in that order, each at most once, with at least one
//! component; `P0D` means "not kept at all". Fractions and negative values are
//! refused: a retention period is a whole, positive promise.
use std::fmt;
use std::str::FromStr;

/// Why a retention value does not parse. The message quotes the value and
/// says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("retention {value:?}: {reason}")]
pub struct RetentionError {
    /// The text that was parsed.
    pub value: String,
    /// What is wrong with it.
    pub reason: String,
}

fn err(value: &str, reason: impl Into<String>) -> RetentionError {
    RetentionError {
        value: value.to_owned(),
        reason: reason.into(),
    }
}

/// An ISO 8601 duration with calendar components (years and months are not a
/// fixed number of seconds; see [`IsoDuration::add_to_unix`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct IsoDuration {
    pub years: u32,
    pub months: u32,
    pub weeks: u32,
    pub days: u32,
    pub hours: u32,
    pub minutes: u32,
    pub seconds: u32,
}

const DATE_UNITS: [char; 4] = ['Y', 'M', 'W', 'D'];
const TIME_UNITS: [char; 3] = ['H', 'M', 'S'];

impl IsoDuration {
    /// True for `P0D` (and any other spelling of zero).
    pub fn is_zero(&self) -> bool {
        *self == IsoDuration::default()
    }

    fn set(&mut self, in_time: bool, unit: char, n: u32) {
        match (in_time, unit) {
            (false, 'Y') => self.years = n,
            (false, 'M') => self.months = n,
            (false, 'W') => self.weeks = n,
            (false, 'D') => self.days = n,
            (true, 'H') => self.hours = n,
            (true, 'M') => self.minutes = n,
            (true, 'S') => self.seconds = n,
            _ => {}
        }
    }

    /// In words, for people: `P1Y6M` is "1 year 6 months", `PT1H` "1 hour".
    pub fn to_words(&self) -> String {
        if self.is_zero() {
            return "no time".to_owned();
        }
        let parts: Vec<String> = [
            (self.years, "year"),
            (self.months, "month"),
            (self.weeks, "week"),
            (self.days, "day"),
            (self.hours, "hour"),
            (self.minutes, "minute"),
            (self.seconds, "second"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| {
            if *n == 1 {
                format!("1 {unit}")
            } else {
                format!("{n} {unit}s")
            }
        })
        .collect();
        parts.join(" ")
    }

    /// A rough length in seconds (a year as 365 days, a month as 30), for
    /// sorting a retention calendar. Use [`IsoDuration::add_to_unix`] to
    /// compute an actual deadline.
    pub fn approx_seconds(&self) -> u64 {
        let day = 86_400u64;
        u64::from(self.years) * 365 * day
            + u64::from(self.months) * 30 * day
            + u64::from(self.weeks) * 7 * day
            + u64::from(self.days) * day
            + u64::from(self.hours) * 3_600
            + u64::from(self.minutes) * 60
            + u64::from(self.seconds)
    }

    /// The instant this long after `start` (Unix seconds, UTC), adding years
    /// and months on the calendar first (a day that does not exist in the
    /// target month becomes its last day: 29 February plus `P1Y` is 28
    /// February), then weeks, days and time. `None` on overflow.
    pub fn add_to_unix(&self, start: i64) -> Option<i64> {
        let day_number = start.div_euclid(86_400);
        let second_of_day = start.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(day_number)?;
        let total_months = i64::from(year)
            .checked_mul(12)?
            .checked_add(i64::from(month) - 1)?
            .checked_add(i64::from(self.years).checked_mul(12)?)?
            .checked_add(i64::from(self.months))?;
        let new_year = i32::try_from(total_months.div_euclid(12)).ok()?;
        let new_month = u32::try_from(total_months.rem_euclid(12) + 1).ok()?;
        let new_day = day.min(days_in_month(new_year, new_month));
        let days = days_from_civil(new_year, new_month, new_day)
            .checked_add(i64::from(self.weeks) * 7)?
            .checked_add(i64::from(self.days))?;
        days.checked_mul(86_400)?
            .checked_add(second_of_day)?
            .checked_add(i64::from(self.hours) * 3_600)?
            .checked_add(i64::from(self.minutes) * 60)?
            .checked_add(i64::from(self.seconds))
    }
}

impl FromStr for IsoDuration {
    type Err = RetentionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some(body) = s.strip_prefix('P') else {
            return Err(err(
                s,
                "an ISO 8601 duration starts with 'P' (for example P30D, P5Y, PT12H)",
            ));
        };
        if body.is_empty() {
            return Err(err(s, "'P' must be followed by at least one component"));
        }
        let mut out = IsoDuration::default();
        let mut in_time = false;
        let mut digits = String::new();
        let mut any = false;
        let mut any_time = false;
        // Index into DATE_UNITS or TIME_UNITS of the next unit allowed.
        let mut next = 0usize;
        for c in body.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
                continue;
            }
            if c == 'T' {
                if in_time {
                    return Err(err(s, "'T' may appear only once"));
                }
                if !digits.is_empty() {
                    return Err(err(s, format!("number {digits} has no unit before 'T'")));
                }
                in_time = true;
                next = 0;
                continue;
            }
            let units: &[char] = if in_time { &TIME_UNITS } else { &DATE_UNITS };
            let Some(position) = units.iter().position(|u| *u == c) else {
                let expected = if in_time {
                    "H, M or S after 'T'"
                } else {
                    "Y, M, W or D before 'T' (hours go after 'T': PT12H)"
                };
                return Err(err(s, format!("unexpected {c:?}; expected {expected}")));
            };
            if digits.is_empty() {
                return Err(err(s, format!("unit {c:?} has no number before it")));
            }
            if position < next {
                return Err(err(
                    s,
                    format!(
                        "unit {c:?} is repeated or out of order (order: {})",
                        if in_time { "H, M, S" } else { "Y, M, W, D" }
                    ),
                ));
            }
            let n: u32 = digits
                .parse()
                .map_err(|_| err(s, format!("number {digits} is too large")))?;
            out.set(in_time, c, n);
            digits.clear();
            next = position + 1;
            any = true;
            any_time |= in_time;
        }
        if !digits.is_empty() {
            return Err(err(s, format!("number {digits} has no unit after it")));
        }
        if in_time && !any_time {
            return Err(err(s, "'T' must be followed by H, M or S"));
        }
        if !any {
            return Err(err(s, "no component"));
        }
        Ok(out)
    }
}

impl fmt::Display for IsoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("P0D");
        }
        f.write_str("P")?;
        for (n, u) in [
            (self.years, 'Y'),
            (self.months, 'M'),
            (self.weeks, 'W'),
            (self.days, 'D'),
        ] {
            if n > 0 {
                write!(f, "{n}{u}")?;
            }
        }
        if self.hours + self.minutes + self.seconds > 0 {
            f.write_str("T")?;
            for (n, u) in [(self.hours, 'H'), (self.minutes, 'M'), (self.seconds, 'S')] {
                if n > 0 {
                    write!(f, "{n}{u}")?;
                }
            }
        }
        Ok(())
    }
}

/// A state whose end starts the retention clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Condition {
    /// Until the account is closed (or, for a citizen who never enrols, until
    /// their last enrolment code has expired).
    AccountActive,
    /// Until the enrolment code is spent, revoked or expired.
    CodeValid,
    /// Until the passkey is removed by the citizen or the account is closed.
    CredentialRegistered,
    /// Until the session is logged out, revoked or expired.
    SessionActive,
    /// Until the consent is withdrawn or expires.
    ConsentValid,
    /// Until the grant (token family) is revoked or expires.
    GrantValid,
    /// Until the request, complaint or incident file is closed.
    RequestOpen,
    /// Until the member of staff leaves (their account is disabled).
    StaffActive,
}

impl Condition {
    /// Every condition, in declaration order.
    pub const ALL: [Condition; 8] = [
        Condition::AccountActive,
        Condition::CodeValid,
        Condition::CredentialRegistered,
        Condition::SessionActive,
        Condition::ConsentValid,
        Condition::GrantValid,
        Condition::RequestOpen,
        Condition::StaffActive,
    ];

    /// The spelling used in `inventory.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::AccountActive => "while-account-active",
            Condition::CodeValid => "while-code-valid",
            Condition::CredentialRegistered => "while-credential-registered",
            Condition::SessionActive => "while-session-active",
            Condition::ConsentValid => "while-consent-valid",
            Condition::GrantValid => "while-grant-valid",
            Condition::RequestOpen => "while-request-open",
            Condition::StaffActive => "while-staff-active",
        }
    }

    /// What ends the condition, in words, for the rendered calendar.
    pub fn ends_when(self) -> &'static str {
        match self {
            Condition::AccountActive => {
                "the account is closed (or the last enrolment code expired unused)"
            }
            Condition::CodeValid => "the code is spent, revoked or expired",
            Condition::CredentialRegistered => "the passkey is removed or the account closed",
            Condition::SessionActive => "the session ends (logout, revocation or expiry)",
            Condition::ConsentValid => "the consent is withdrawn or expires",
            Condition::GrantValid => "the grant is revoked or expires",
            Condition::RequestOpen => "the file is closed",
            Condition::StaffActive => "the member of staff leaves (their account is disabled)",
        }
    }
}

impl FromStr for Condition {
    type Err = RetentionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Condition::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<_> = Condition::ALL.iter().map(|c| c.as_str()).collect();
                err(s, format!("unknown condition; known: {}", known.join(", ")))
            })
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How long an element is kept: optionally while a condition holds, then for
/// `after` once it ends (or once the element's trigger occurs, without a
/// condition).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Retention {
    pub condition: Option<Condition>,
    pub after: IsoDuration,
}

impl Retention {
    /// When a record must be destroyed, given the Unix time at which its
    /// trigger occurred (the condition ended, or the record was created when
    /// there is no condition). `None` on overflow.
    pub fn destroy_at(&self, trigger: i64) -> Option<i64> {
        self.after.add_to_unix(trigger)
    }

    /// The retention in whole days (a year as 365 days, a month as 30, a
    /// part day rounded up), for a retention that starts at a record's own
    /// time: `None` with a condition or when nothing is kept.
    pub fn fixed_days(&self) -> Option<u32> {
        if self.condition.is_some() || self.after.is_zero() {
            return None;
        }
        u32::try_from(self.after.approx_seconds().div_ceil(86_400)).ok()
    }

    /// True when nothing is kept once the trigger occurs (`P0D`, or a bare
    /// condition).
    pub fn is_immediate(&self) -> bool {
        self.after.is_zero()
    }
}

impl FromStr for Retention {
    type Err = RetentionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s_trim = s.trim();
        if s_trim != s || s.is_empty() {
            return Err(err(s, "must be non-empty and without surrounding spaces"));
        }
        let wrap = |e: RetentionError| err(s, e.reason);
        if !s.starts_with('P') && !s.starts_with("while-") {
            return Err(err(
                s,
                "expected an ISO 8601 duration, which starts with 'P' (P30D, P5Y, PT1H), or a condition such as while-account-active, optionally followed by +duration",
            ));
        }
        if s.starts_with('P') {
            return Ok(Retention {
                condition: None,
                after: s.parse().map_err(wrap)?,
            });
        }
        let (condition, after) = match s.split_once('+') {
            Some((c, d)) => {
                let after: IsoDuration = d.parse().map_err(wrap)?;
                (c, after)
            }
            None => (s, IsoDuration::default()),
        };
        let condition: Condition = condition
            .parse()
            .map_err(|e: RetentionError| err(s, format!("{:?}: {}", condition, e.reason)))?;
        Ok(Retention {
            condition: Some(condition),
            after,
        })
    }
}

impl fmt::Display for Retention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.condition {
            None => write!(f, "{}", self.after),
            Some(c) if self.after.is_zero() => write!(f, "{c}"),
            Some(c) => write!(f, "{c}+{}", self.after),
        }
    }
}

// Howard Hinnant's civil-calendar algorithms (proleptic Gregorian, UTC).
fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> Option<(i32, u32, u32)> {
    let z = z.checked_add(719_468)?;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    Some((
        i32::try_from(y).ok()?,
        u32::try_from(m).ok()?,
        u32::try_from(d).ok()?,
    ))
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> IsoDuration {
        s.parse().unwrap()
    }

    #[test]
    fn durations_parse_and_print_canonically() {
        assert_eq!(
            d("P5Y"),
            IsoDuration {
                years: 5,
                ..Default::default()
            }
        );
        assert_eq!(d("P30D").days, 30);
        assert_eq!(d("PT12H").hours, 12);
        assert_eq!(d("PT1H").hours, 1);
        let all = d("P1Y2M3W4DT5H6M7S");
        assert_eq!(
            (
                all.years,
                all.months,
                all.weeks,
                all.days,
                all.hours,
                all.minutes,
                all.seconds
            ),
            (1, 2, 3, 4, 5, 6, 7)
        );
        for text in ["P5Y", "P30D", "PT12H", "P1Y6M", "P1Y2M3W4DT5H6M7S", "P0D"] {
            assert_eq!(d(text).to_string(), text);
        }
        assert!(d("P0D").is_zero());
        assert_eq!(d("P1Y6M").to_words(), "1 year 6 months");
        assert_eq!(d("PT1H").to_words(), "1 hour");
        assert_eq!(d("P90D").to_words(), "90 days");
        assert_eq!(d("PT0S").to_string(), "P0D");
        assert!(d("P1M").approx_seconds() > d("P4W").approx_seconds());
    }

    #[test]
    fn bad_durations_are_named_precisely() {
        let cases = [
            ("30D", "starts with 'P'"),
            ("P", "at least one component"),
            ("P5X", "unexpected 'X'"),
            ("P5H", "hours go after 'T'"),
            ("PT5D", "H, M or S after 'T'"),
            ("PD", "no number before it"),
            ("P5", "no unit after it"),
            ("P1D1Y", "out of order"),
            ("P1Y1Y", "repeated"),
            ("P1DT", "'T' must be followed"),
            ("P1DTT1H", "only once"),
            ("P99999999999D", "too large"),
            ("P1.5Y", "unexpected '.'"),
            ("P-1D", "unexpected '-'"),
        ];
        for (text, needle) in cases {
            let e = text.parse::<IsoDuration>().unwrap_err();
            let message = e.to_string();
            assert!(message.contains(needle), "{text}: {message}");
            assert!(message.contains(&format!("{text:?}")), "{message}");
        }
    }

    #[test]
    fn retention_forms() {
        let r: Retention = "while-account-active+P1Y".parse().unwrap();
        assert_eq!(r.condition, Some(Condition::AccountActive));
        assert_eq!(r.after, d("P1Y"));
        assert_eq!(r.to_string(), "while-account-active+P1Y");
        let r: Retention = "P30D".parse().unwrap();
        assert_eq!(r.condition, None);
        let r: Retention = "while-session-active".parse().unwrap();
        assert!(r.is_immediate());
        assert_eq!(r.to_string(), "while-session-active");
        for c in Condition::ALL {
            assert_eq!(c.as_str().parse::<Condition>().unwrap(), c);
        }

        let e = "while-forever+P1Y".parse::<Retention>().unwrap_err();
        assert!(e.to_string().contains("unknown condition"), "{e}");
        assert!(e.to_string().contains("while-account-active"), "{e}");
        let e = "while-account-active+1Y".parse::<Retention>().unwrap_err();
        assert!(e.to_string().contains("starts with 'P'"), "{e}");
        assert!(e.to_string().contains("while-account-active+1Y"), "{e}");
        assert!(" P1D".parse::<Retention>().is_err());
        assert!("".parse::<Retention>().is_err());
        let e = "forever".parse::<Retention>().unwrap_err();
        assert!(e.to_string().contains("starts with 'P'"), "{e}");
    }

    #[test]
    fn deadlines_follow_the_calendar() {
        // 2024-02-29T12:00:00Z
        let leap = days_from_civil(2024, 2, 29) * 86_400 + 12 * 3_600;
        assert_eq!(
            civil_from_days(leap.div_euclid(86_400)),
            Some((2024, 2, 29))
        );
        let next = d("P1Y").add_to_unix(leap).unwrap();
        assert_eq!(
            civil_from_days(next.div_euclid(86_400)),
            Some((2025, 2, 28))
        );
        assert_eq!(next.rem_euclid(86_400), 12 * 3_600);
        // 2026-01-31 + P1M = 2026-02-28; + P30D from 2026-11-23 = 2026-12-23
        let jan31 = days_from_civil(2026, 1, 31) * 86_400;
        let feb = d("P1M").add_to_unix(jan31).unwrap();
        assert_eq!(civil_from_days(feb.div_euclid(86_400)), Some((2026, 2, 28)));
        let today = days_from_civil(2026, 11, 23) * 86_400;
        let later = d("P30D").add_to_unix(today).unwrap();
        assert_eq!(
            civil_from_days(later.div_euclid(86_400)),
            Some((2026, 12, 23))
        );
        assert_eq!(d("PT1H").add_to_unix(0), Some(3_600));
        assert_eq!(
            d("P5Y").add_to_unix(0),
            Some(days_from_civil(1975, 1, 1) * 86_400)
        );
        assert_eq!(d("P1D").add_to_unix(i64::MAX), None);
        let r: Retention = "while-code-valid+P90D".parse().unwrap();
        assert_eq!(r.destroy_at(0), Some(90 * 86_400));
        // Days before 1970 work too.
        assert_eq!(civil_from_days(-1), Some((1969, 12, 31)));
        assert_eq!(d("P1Y").add_to_unix(i64::MAX - 86_400), None);
    }
}
