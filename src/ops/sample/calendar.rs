//! Dates and timestamps for sample rows, in the text form COPY reads.
//!
//! Everything is computed from instants the database gave us (its
//! `localtimestamp`), as seconds since the epoch of a zone-less clock, so the
//! generator never reads the machine's own clock or time zone.

use std::fmt;

use time::{Date, Duration, Month, OffsetDateTime};

pub const DAY: i64 = 86_400;

/// A `timestamp without time zone`, as epoch seconds of a zone-less clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp(pub i64);

impl Stamp {
    pub fn date(self) -> Date {
        OffsetDateTime::from_unix_timestamp(self.0).map(|t| t.date()).unwrap_or(Date::MIN)
    }

    /// Midnight starting `date`.
    pub fn at(date: Date) -> Stamp {
        Stamp((date - Date::from_calendar_date(1970, Month::January, 1).expect("valid")).whole_seconds())
    }

    pub fn plus(self, seconds: i64) -> Stamp {
        Stamp(self.0 + seconds)
    }
}

impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let seconds = self.0.rem_euclid(DAY);
        let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
        write!(f, "{} {h:02}:{m:02}:{s:02}", self.date())
    }
}

pub fn add_days(date: Date, days: i64) -> Date {
    date.checked_add(Duration::days(days)).unwrap_or(date)
}

/// `date` plus `months` calendar months, the day clamped to the month's
/// length (Jan 31 + 1 month = Feb 28/29), as PostgreSQL does.
pub fn add_months(date: Date, months: i64) -> Date {
    let total = i64::from(date.year()) * 12 + i64::from(date.month() as u8 - 1) + months;
    let year = total.div_euclid(12) as i32;
    let month = Month::try_from((total.rem_euclid(12) + 1) as u8).expect("1..=12");
    let day = date.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).unwrap_or(date)
}

/// Whole months from `from` to `to` (negative when `to` is earlier).
pub fn months_between(from: Date, to: Date) -> i64 {
    let months = (i64::from(to.year()) - i64::from(from.year())) * 12 + i64::from(to.month() as u8)
        - i64::from(from.month() as u8);
    if to.day() < from.day() {
        months - 1
    } else {
        months
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u8, d: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), d).unwrap()
    }

    #[test]
    fn months_clamp_like_postgres() {
        assert_eq!(add_months(date(2024, 1, 31), 1), date(2024, 2, 29));
        assert_eq!(add_months(date(2024, 11, 15), 3), date(2025, 2, 15));
        assert_eq!(add_months(date(2024, 3, 1), -3), date(2023, 12, 1));
        assert_eq!(months_between(date(2024, 1, 15), date(2024, 4, 14)), 2);
        assert_eq!(months_between(date(2024, 1, 15), date(2024, 4, 15)), 3);
    }

    #[test]
    fn stamps_print_as_postgres_reads_them() {
        let stamp = Stamp::at(date(2025, 3, 1)).plus(3600 * 13 + 65);
        assert_eq!(stamp.to_string(), "2025-03-01 13:01:05");
        assert_eq!(stamp.date(), date(2025, 3, 1));
    }
}
