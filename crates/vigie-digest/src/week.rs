//! ISO weeks (`2026-W47`): Monday 00:00 UTC to the next Monday.

use std::fmt;
use std::str::FromStr;

use time::{Date, Duration, OffsetDateTime, Weekday};
use vigie_store::Timestamp;

use crate::DigestError;

/// One ISO 8601 week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoWeek {
    monday: Date,
}

impl IsoWeek {
    /// The week holding this date.
    pub fn containing(date: Date) -> IsoWeek {
        let back = date.weekday().number_days_from_monday();
        IsoWeek {
            monday: date - Duration::days(i64::from(back)),
        }
    }

    /// The last full week before `now` (the digest's default).
    pub fn last_full(now: Timestamp) -> IsoWeek {
        let date = OffsetDateTime::from_unix_timestamp(now.unix_seconds())
            .map_or(OffsetDateTime::UNIX_EPOCH.date(), |t| t.date());
        IsoWeek::containing(date).previous()
    }

    /// The week before.
    pub fn previous(self) -> IsoWeek {
        IsoWeek {
            monday: self.monday - Duration::days(7),
        }
    }

    /// Monday 00:00 UTC.
    pub fn start(self) -> Timestamp {
        Timestamp(self.monday.midnight().assume_utc().unix_timestamp() * 1000)
    }

    /// The next Monday 00:00 UTC (exclusive).
    pub fn end(self) -> Timestamp {
        Timestamp(self.start().0 + 7 * 86_400_000)
    }

    /// Whether a time falls in the week.
    pub fn contains(self, t: Timestamp) -> bool {
        t >= self.start() && t < self.end()
    }

    /// The Monday, as `YYYY-MM-DD`.
    pub fn monday(self) -> String {
        format_date(self.monday)
    }

    /// The Sunday, as `YYYY-MM-DD`.
    pub fn sunday(self) -> String {
        format_date(self.monday + Duration::days(6))
    }
}

fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

impl fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, week, _) = self.monday.to_iso_week_date();
        write!(f, "{year:04}-W{week:02}")
    }
}

impl FromStr for IsoWeek {
    type Err = DigestError;

    fn from_str(s: &str) -> Result<IsoWeek, DigestError> {
        let bad = || DigestError::BadWeek(s.to_string());
        let (year, week) = s.trim().split_once("-W").ok_or_else(bad)?;
        let year: i32 = year.parse().map_err(|_| bad())?;
        let week: u8 = week.parse().map_err(|_| bad())?;
        let monday = Date::from_iso_week_date(year, week, Weekday::Monday).map_err(|_| bad())?;
        Ok(IsoWeek { monday })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_parse_print_and_bound() {
        let w: IsoWeek = "2026-W47".parse().unwrap();
        assert_eq!(w.to_string(), "2026-W47");
        assert_eq!(w.monday(), "2026-11-16");
        assert_eq!(w.sunday(), "2026-11-22");
        assert_eq!(w.start(), Timestamp::parse("2026-11-16").unwrap());
        assert_eq!(w.previous().to_string(), "2026-W46");
        // 2026-11-23 is a Monday: the last full week is W47.
        assert_eq!(
            IsoWeek::last_full(Timestamp::parse("2026-11-23T10:00:00Z").unwrap()),
            w
        );
        // Year boundary: 2027-01-01 is in 2026-W53.
        let d = IsoWeek::containing(time::macros::date!(2027 - 01 - 01));
        assert_eq!(d.to_string(), "2026-W53");
        assert!("2026-W54".parse::<IsoWeek>().is_err());
        assert!("2026-47".parse::<IsoWeek>().is_err());
        assert!(w.contains(Timestamp::parse("2026-11-22T23:59:59Z").unwrap()));
        assert!(!w.contains(Timestamp::parse("2026-11-23").unwrap()));
    }
}
