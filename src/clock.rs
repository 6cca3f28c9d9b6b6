//! The one place the wall clock is read: today's date, the last fallback of
//! the evaluation date (docs/format.md §6) for `check` and the server alike.

use jiff::civil::Date;

/// Today's date in the system time zone.
pub fn today() -> Date {
    jiff::ZonedDateTime::now().date()
}
