//! The time zone a report is read in: an IANA zone (`Europe/Berlin`), `UTC`, or the system's.
//!
//! Day, week and month boundaries and `--since/--until` dates are computed with the zone's real
//! rules, so a day in Berlin is 23 hours long on the last Sunday of March and the events of that
//! day are still one row. The ledger asks a [`Zone`] for the offsets in force over a range
//! ([`Zone::segments`]) and groups its (15-minute) rollup buckets with them: every real offset
//! since 1970 is a multiple of 15 minutes, and every transition happens on a 15-minute boundary.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// A time zone for reports: a resolved zone plus the name it is reported under.
#[derive(Clone)]
pub struct Zone {
    tz: TimeZone,
    name: String,
}

impl Zone {
    /// Coordinated Universal Time.
    pub fn utc() -> Self {
        Self {
            tz: TimeZone::UTC,
            name: "UTC".into(),
        }
    }

    /// The system's zone (`TZ`, else `/etc/localtime`). Named by its IANA name when the system
    /// says it; otherwise `system`, which [`Zone::named`] resolves the same way.
    pub fn system() -> Self {
        let tz = TimeZone::system();
        let name = tz.iana_name().unwrap_or("system").to_string();
        Self { tz, name }
    }

    /// A zone by IANA name (`Europe/Berlin`, `America/Los_Angeles`), `UTC` (any case), or
    /// `system`/`local` for the system's zone. An unknown name is an error that says what to
    /// give instead.
    pub fn named(name: &str) -> Result<Self> {
        let name = name.trim();
        if name.eq_ignore_ascii_case("utc") || name.eq_ignore_ascii_case("z") {
            return Ok(Self::utc());
        }
        if name.eq_ignore_ascii_case("system") || name.eq_ignore_ascii_case("local") {
            return Ok(Self::system());
        }
        match jiff::tz::db().get(name) {
            Ok(tz) => Ok(Self {
                name: tz.iana_name().unwrap_or(name).to_string(),
                tz,
            }),
            Err(_) => Err(Error::InvalidInput(format!(
                "unknown time zone '{}'; give an IANA name such as Europe/Berlin or \
                 America/Los_Angeles, or UTC",
                name.escape_debug()
            ))),
        }
    }

    /// The zone's name as reports show it (`Europe/Berlin`, `UTC`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The offset east of UTC, in seconds, in force at `unix_seconds`.
    pub fn offset_seconds_at(&self, unix_seconds: i64) -> i32 {
        Timestamp::from_second(unix_seconds)
            .map(|t| self.tz.to_offset(t).seconds())
            .unwrap_or(0)
    }

    /// The offsets in force over `[from, to]` (Unix seconds): the first segment's start is
    /// `from`; each following one starts at a transition. Always at least one segment.
    pub fn segments(&self, from: i64, to: i64) -> Vec<(i64, i32)> {
        let mut out = vec![(from, self.offset_seconds_at(from))];
        let Ok(start) = Timestamp::from_second(from) else {
            return out;
        };
        for t in self.tz.following(start) {
            let at = t.timestamp().as_second();
            if at > to {
                break;
            }
            let offset = t.offset().seconds();
            if out.last().is_some_and(|&(_, o)| o != offset) {
                out.push((at, offset));
            }
        }
        out
    }

    /// `t` as a local time in this zone (with the offset in force then).
    pub fn local(&self, t: DateTime<Utc>) -> DateTime<FixedOffset> {
        let offset = FixedOffset::east_opt(self.offset_seconds_at(t.timestamp()))
            .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"));
        t.with_timezone(&offset)
    }

    /// The calendar date of `t` in this zone.
    pub fn date_of(&self, t: DateTime<Utc>) -> NaiveDate {
        let local = t.timestamp() + i64::from(self.offset_seconds_at(t.timestamp()));
        days_to_date(local.div_euclid(86_400)).unwrap_or_else(|| t.date_naive())
    }

    /// Today's date in this zone.
    pub fn today(&self) -> NaiveDate {
        self.date_of(Utc::now())
    }

    /// The first instant of `day` in this zone: midnight, or the first time after it that
    /// exists when a transition skips midnight.
    pub fn start_of_day(&self, day: NaiveDate) -> Result<DateTime<Utc>> {
        use chrono::Datelike;
        let out_of_range = || Error::InvalidInput(format!("the date {day} is out of range"));
        let month = i8::try_from(day.month()).map_err(|_| out_of_range())?;
        let dom = i8::try_from(day.day()).map_err(|_| out_of_range())?;
        let year = i16::try_from(day.year()).map_err(|_| out_of_range())?;
        let date = jiff::civil::Date::new(year, month, dom).map_err(|_| out_of_range())?;
        let zoned = date
            .to_zoned(self.tz.clone())
            .and_then(|z| z.start_of_day())
            .map_err(|_| out_of_range())?;
        DateTime::from_timestamp(zoned.timestamp().as_second(), 0).ok_or_else(out_of_range)
    }
}

/// The date `days` days after 1970-01-01.
pub(crate) fn days_to_date(days: i64) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_signed(chrono::Duration::days(days))
}

impl Default for Zone {
    fn default() -> Self {
        Self::utc()
    }
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Zone").field(&self.name).finish()
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Zone {}

impl Serialize for Zone {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.name)
    }
}

impl<'de> Deserialize<'de> for Zone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Zone::named(&name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn names_resolve_and_unknown_ones_say_what_to_give() {
        assert_eq!(Zone::named("utc").expect("utc").name(), "UTC");
        assert_eq!(
            Zone::named("Europe/Berlin").expect("berlin").name(),
            "Europe/Berlin"
        );
        let err = Zone::named("Europe/Atlantis").expect_err("unknown");
        assert_eq!(err.code(), "invalid_input");
        assert!(err.to_string().contains("IANA"), "{err}");
        let json = serde_json::to_string(&Zone::named("Asia/Kolkata").expect("z")).expect("ser");
        assert_eq!(json, "\"Asia/Kolkata\"");
        let back: Zone = serde_json::from_str(&json).expect("de");
        assert_eq!(back.name(), "Asia/Kolkata");
    }

    #[test]
    fn midnights_follow_daylight_saving() {
        let la = Zone::named("America/Los_Angeles").expect("la");
        // PDT in October (the 08:00Z was today's PST offset applied to a PDT date).
        assert_eq!(
            la.start_of_day(day("2026-10-20")).expect("oct"),
            utc("2026-10-20T07:00:00Z")
        );
        assert_eq!(
            la.start_of_day(day("2026-12-20")).expect("dec"),
            utc("2026-12-20T08:00:00Z")
        );
        let berlin = Zone::named("Europe/Berlin").expect("berlin");
        assert_eq!(
            berlin.start_of_day(day("2026-03-29")).expect("spring"),
            utc("2026-03-28T23:00:00Z")
        );
        assert_eq!(
            berlin.start_of_day(day("2026-03-30")).expect("after"),
            utc("2026-03-29T22:00:00Z")
        );
        assert_eq!(
            berlin.date_of(utc("2026-03-29T22:30:00Z")),
            day("2026-03-30")
        );
        assert_eq!(
            berlin.date_of(utc("2026-03-28T22:30:00Z")),
            day("2026-03-28")
        );
        let kolkata = Zone::named("Asia/Kolkata").expect("kolkata");
        assert_eq!(
            kolkata.start_of_day(day("2026-05-01")).expect("ist"),
            utc("2026-04-30T18:30:00Z")
        );
    }

    #[test]
    fn segments_list_the_transitions_in_range() {
        let berlin = Zone::named("Europe/Berlin").expect("berlin");
        let from = utc("2026-01-01T00:00:00Z").timestamp();
        let to = utc("2026-12-31T00:00:00Z").timestamp();
        assert_eq!(
            berlin.segments(from, to),
            [
                (from, 3600),
                (utc("2026-03-29T01:00:00Z").timestamp(), 7200),
                (utc("2026-10-25T01:00:00Z").timestamp(), 3600),
            ]
        );
        assert_eq!(Zone::utc().segments(from, to), [(from, 0)]);
    }
}
