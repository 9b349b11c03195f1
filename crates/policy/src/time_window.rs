//! Whether an instant is inside a `time_window` rule's window.
//!
//! Local time comes from jiff with its bundled copy of the IANA time-zone
//! database (`tzdb-bundle-always`), so the answer does not depend on the
//! host's `/usr/share/zoneinfo` and daylight-saving changes are applied from
//! the rules, not from a fixed offset. Zones are resolved before evaluation:
//! custom windows carry theirs (`TimeZoneName::zone`, resolved when the policy
//! was parsed) and America/New_York is resolved once per process
//! ([`new_york`]), so checking an instant only converts a timestamp to a civil
//! date and time (a binary search in the zone's transitions) and never
//! allocates.
//!
//! - `us_market`: Monday to Friday, 09:30 <= t < 16:00 America/New_York,
//!   minus the listed holidays (New York dates). 09:30 New York is 14:30 UTC
//!   in winter (EST, UTC-5) and 13:30 UTC in summer (EDT, UTC-4).
//! - `crypto_24_7`: always inside.
//! - custom: `days` from `start_minute` (inclusive) to `end_minute`
//!   (exclusive) in the rule's zone; `end <= start` wraps past midnight and the
//!   wrapped part belongs to the day the window starts on (its weekday and its
//!   holiday status decide), so a Friday 22:00-02:00 window is open Saturday
//!   01:00 and closed Monday 01:00. `start == end` is a 24-hour window
//!   starting at `start`.
//!
//! A local time that a DST change skips never occurs; a repeated one (the
//! November fall-back hour) is inside or outside by its wall-clock reading,
//! both times.
use std::sync::OnceLock;

use jiff::civil::Date as CivilDate;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::rules::{Date, TimeWindow};

/// NYSE regular session, minutes after local midnight.
pub(crate) const US_MARKET_OPEN_MINUTE: u16 = 9 * 60 + 30;
pub(crate) const US_MARKET_CLOSE_MINUTE: u16 = 16 * 60;

/// Why an instant is inside or outside (static text for decision records).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WindowCheck {
    Inside,
    /// A day of the week the window is closed.
    ClosedDay,
    /// An open day, outside the hours.
    OutsideHours,
    /// Inside the hours of a day listed as a holiday.
    Holiday,
    /// The instant or the zone could not be converted (out of jiff's range,
    /// or the bundled database lacks America/New_York): evaluated as an error.
    Unavailable,
}

impl WindowCheck {
    pub(crate) const fn detail(self) -> &'static str {
        match self {
            WindowCheck::Inside => "inside the window",
            WindowCheck::ClosedDay => "outside the window (closed day)",
            WindowCheck::OutsideHours => "outside the window (outside hours)",
            WindowCheck::Holiday => "outside the window (holiday)",
            WindowCheck::Unavailable => "local time unavailable",
        }
    }
}

/// America/New_York from the bundled database, resolved on first use and
/// kept for the process (`None` only if the bundle lacked it).
pub(crate) fn new_york() -> Option<&'static TimeZone> {
    static NEW_YORK: OnceLock<Option<TimeZone>> = OnceLock::new();
    NEW_YORK.get_or_init(|| TimeZone::get("America/New_York").ok()).as_ref()
}

fn to_civil(date: CivilDate) -> Date {
    Date { year: date.year(), month: date.month(), day: date.day() }
}

fn is_holiday(holidays: &[Date], date: CivilDate) -> bool {
    let d = to_civil(date);
    holidays.contains(&d)
}

/// Whether `now_us` (microseconds since the Unix epoch) is inside `window`.
pub(crate) fn check(window: &TimeWindow, now_us: u64) -> WindowCheck {
    let (zone, days, start, end, holidays): (&TimeZone, [bool; 7], u16, u16, &[Date]) = match window {
        TimeWindow::Crypto24x7 => return WindowCheck::Inside,
        TimeWindow::UsMarket { holidays } => {
            let Some(zone) = new_york() else { return WindowCheck::Unavailable };
            (
                zone,
                [true, true, true, true, true, false, false],
                US_MARKET_OPEN_MINUTE,
                US_MARKET_CLOSE_MINUTE,
                holidays,
            )
        }
        TimeWindow::Custom { timezone, days, start_minute, end_minute, holidays } => {
            (&timezone.zone, *days, *start_minute, *end_minute, holidays)
        }
    };
    let Ok(micros) = i64::try_from(now_us) else { return WindowCheck::Unavailable };
    let Ok(ts) = Timestamp::from_microsecond(micros) else { return WindowCheck::Unavailable };
    let local = zone.to_datetime(ts);
    let date = local.date();
    // Minutes after local midnight by the wall clock (0..1440).
    let minute = (local.hour() as u16) * 60 + local.minute() as u16;
    let weekday = usize::from(local.weekday().to_monday_zero_offset() as u8);

    if start < end {
        if !days[weekday] {
            return WindowCheck::ClosedDay;
        }
        if minute < start || minute >= end {
            return WindowCheck::OutsideHours;
        }
        if is_holiday(holidays, date) {
            return WindowCheck::Holiday;
        }
        return WindowCheck::Inside;
    }

    // Wrapping window: [start, 24:00) on an open day D and [00:00, end) on D + 1.
    if minute >= start {
        if !days[weekday] {
            return WindowCheck::ClosedDay;
        }
        if is_holiday(holidays, date) {
            return WindowCheck::Holiday;
        }
        return WindowCheck::Inside;
    }
    if minute < end {
        // The part after midnight belongs to the previous day's window.
        let previous = (weekday + 6) % 7;
        if !days[previous] {
            return WindowCheck::ClosedDay;
        }
        let Ok(yesterday) = date.yesterday() else { return WindowCheck::Unavailable };
        if is_holiday(holidays, yesterday) {
            return WindowCheck::Holiday;
        }
        return WindowCheck::Inside;
    }
    if days[weekday] {
        WindowCheck::OutsideHours
    } else {
        WindowCheck::ClosedDay
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::TimeZoneName;

    fn utc_us(s: &str) -> u64 {
        let ts: Timestamp = s.parse().unwrap();
        ts.as_microsecond() as u64
    }

    #[test]
    fn us_market_dst() {
        let w = TimeWindow::UsMarket { holidays: vec![] };
        // Friday 2026-03-06 (EST): opens 14:30 UTC.
        assert_eq!(check(&w, utc_us("2026-03-06T14:29:59Z")), WindowCheck::OutsideHours);
        assert_eq!(check(&w, utc_us("2026-03-06T14:30:00Z")), WindowCheck::Inside);
        // Monday 2026-03-09 (EDT after the 03-08 change): opens 13:30 UTC.
        assert_eq!(check(&w, utc_us("2026-03-09T13:29:59Z")), WindowCheck::OutsideHours);
        assert_eq!(check(&w, utc_us("2026-03-09T13:30:00Z")), WindowCheck::Inside);
        assert_eq!(check(&w, utc_us("2026-03-09T19:59:59Z")), WindowCheck::Inside);
        assert_eq!(check(&w, utc_us("2026-03-09T20:00:00Z")), WindowCheck::OutsideHours);
        // Sunday of the change: closed day.
        assert_eq!(check(&w, utc_us("2026-03-08T15:00:00Z")), WindowCheck::ClosedDay);
    }

    #[test]
    fn custom_wraps_past_midnight() {
        let zone = TimeZoneName { name: "UTC".into(), zone: TimeZone::UTC };
        // Fridays only, 22:00 - 02:00.
        let w = TimeWindow::Custom {
            timezone: zone,
            days: [false, false, false, false, true, false, false],
            start_minute: 22 * 60,
            end_minute: 2 * 60,
            holidays: vec![Date { year: 2026, month: 1, day: 16 }],
        };
        assert_eq!(check(&w, utc_us("2026-01-09T22:00:00Z")), WindowCheck::Inside); // Fri
        assert_eq!(check(&w, utc_us("2026-01-10T01:59:59Z")), WindowCheck::Inside); // Sat, Fri's window
        assert_eq!(check(&w, utc_us("2026-01-10T02:00:00Z")), WindowCheck::ClosedDay);
        assert_eq!(check(&w, utc_us("2026-01-09T01:00:00Z")), WindowCheck::ClosedDay); // Fri early = Thu's
        assert_eq!(check(&w, utc_us("2026-01-09T21:59:59Z")), WindowCheck::OutsideHours);
        // Holiday Friday 01-16: its window (incl. Saturday's early hours) is closed.
        assert_eq!(check(&w, utc_us("2026-01-16T23:00:00Z")), WindowCheck::Holiday);
        assert_eq!(check(&w, utc_us("2026-01-17T01:00:00Z")), WindowCheck::Holiday);
    }
}
