//! What the privacy officer's review of the access register flags.
//!
//! The flags are signals, not verdicts: each says why a look-up deserves a
//! second look, and the privacy officer decides.
use serde::Serialize;

/// One recorded access, as the review sees it.
#[derive(Debug, Clone)]
pub struct ReviewedAccess {
    pub seq: i64,
    pub at: i64,
    pub staff_id: String,
    /// `file.lookup`, `recovery.request`, `complaint.answer`, ...
    pub action: String,
    /// The keyed hash of the citizen's register id.
    pub citizen_ref: Vec<u8>,
}

/// Why an access is flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// One of more than [`BURST_COUNT`] look-ups by the same person within
    /// [`BURST_SECS`].
    Burst,
    /// Outside working hours (before 7:00 or from 19:00, or at a weekend,
    /// local time).
    OffHours,
    /// A look-up after which the same person did nothing on that file within
    /// [`FOLLOW_UP_SECS`] (no request, no complaint answered): a look-up
    /// that served no recorded purpose.
    NoFollowUp,
}

impl Flag {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Burst => "burst",
            Self::OffHours => "off_hours",
            Self::NoFollowUp => "no_follow_up",
        }
    }
}

/// Look-ups by one person that make a burst...
pub const BURST_COUNT: usize = 10;
/// ...within this window.
pub const BURST_SECS: i64 = 600;
/// A follow-up is looked for this long after a look-up.
pub const FOLLOW_UP_SECS: i64 = 24 * 3600;

/// Working hours, in the body's local time.
#[derive(Debug, Clone, Copy)]
pub struct WorkingHours {
    /// Offset of local time from UTC, in seconds (Québec: -5 h, -4 h in
    /// summer).
    pub utc_offset_secs: i64,
    pub start_hour: i64,
    pub end_hour: i64,
}

impl Default for WorkingHours {
    fn default() -> Self {
        Self {
            utc_offset_secs: -5 * 3600,
            start_hour: 7,
            end_hour: 19,
        }
    }
}

impl WorkingHours {
    /// Whether `at` (Unix seconds) is within working hours on a weekday.
    pub fn contains(&self, at: i64) -> bool {
        let local = at + self.utc_offset_secs;
        let hour = local.rem_euclid(86_400) / 3600;
        // 1970-01-01 was a Thursday: day 0 is Thursday, so Saturday is 2
        // and Sunday 3.
        let weekday = local.div_euclid(86_400).rem_euclid(7);
        let weekend = weekday == 2 || weekday == 3;
        !weekend && hour >= self.start_hour && hour < self.end_hour
    }
}

/// The flags of each access (in the order given), judged against all of
/// `accesses` and what happened up to `now`.
pub fn flags(accesses: &[ReviewedAccess], hours: WorkingHours, now: i64) -> Vec<Vec<Flag>> {
    accesses
        .iter()
        .map(|a| {
            let mut out = Vec::new();
            let lookup = a.action == "file.lookup";
            if lookup {
                let nearby = accesses
                    .iter()
                    .filter(|b| {
                        b.staff_id == a.staff_id
                            && b.action == "file.lookup"
                            && (b.at - a.at).abs() <= BURST_SECS
                    })
                    .count();
                if nearby > BURST_COUNT {
                    out.push(Flag::Burst);
                }
            }
            if !hours.contains(a.at) {
                out.push(Flag::OffHours);
            }
            if lookup && now - a.at >= FOLLOW_UP_SECS {
                let followed = accesses.iter().any(|b| {
                    b.staff_id == a.staff_id
                        && b.citizen_ref == a.citizen_ref
                        && b.action != "file.lookup"
                        && b.at >= a.at
                        && b.at - a.at <= FOLLOW_UP_SECS
                });
                if !followed {
                    out.push(Flag::NoFollowUp);
                }
            }
            out
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(seq: i64, at: i64, staff: &str, action: &str, citizen: u8) -> ReviewedAccess {
        ReviewedAccess {
            seq,
            at,
            staff_id: staff.into(),
            action: action.into(),
            citizen_ref: vec![citizen],
        }
    }

    /// Monday 2026-11-30 10:00 in Québec (15:00 UTC).
    const MONDAY_10H: i64 = 1_796_050_800;

    #[test]
    fn working_hours_are_local_weekdays() {
        let h = WorkingHours::default();
        assert!(h.contains(MONDAY_10H));
        assert!(!h.contains(MONDAY_10H + 10 * 3600), "20:00");
        assert!(!h.contains(MONDAY_10H - 4 * 3600), "06:00");
        assert!(!h.contains(MONDAY_10H - 2 * 86_400), "Saturday");
        assert!(!h.contains(MONDAY_10H - 86_400), "Sunday");
    }

    #[test]
    fn bursts_off_hours_and_lookups_without_follow_up_are_flagged() {
        let mut all: Vec<ReviewedAccess> = (0..11)
            .map(|i| access(i, MONDAY_10H + i * 30, "a1", "file.lookup", i as u8))
            .collect();
        all.push(access(20, MONDAY_10H + 3600, "a2", "file.lookup", 50));
        all.push(access(21, MONDAY_10H + 3700, "a2", "recovery.request", 50));
        all.push(access(22, MONDAY_10H + 11 * 3600, "a3", "file.lookup", 51));
        let now = MONDAY_10H + 3 * 86_400;
        let f = flags(&all, WorkingHours::default(), now);
        assert!(f[0].contains(&Flag::Burst) && f[10].contains(&Flag::Burst));
        assert!(f[0].contains(&Flag::NoFollowUp));
        assert_eq!(f[11], vec![], "followed by a request, in hours, alone");
        assert!(f[12].is_empty());
        assert_eq!(f[13], vec![Flag::OffHours, Flag::NoFollowUp]);
        // Too recent to judge the follow-up.
        let soon = flags(&all, WorkingHours::default(), MONDAY_10H + 3600);
        assert!(!soon[0].contains(&Flag::NoFollowUp));
    }
}
