//! PRC working days for the licence-decision period: Monday to Friday, minus
//! the public holidays, plus the weekend days worked in exchange ("调休"), as
//! the State Council General Office publishes them each year. Only the years
//! whose notice was read are data here; for any other year weekdays are
//! counted as working days and a margin of [`MARGIN`] working days is
//! added, so a deadline is never later than the true one (the dossier says
//! so).

use jiff::civil::{Date, Weekday, date};

/// One year's holiday notice: the holiday breaks (first and last day, both
/// inclusive) and the weekend days that are working days.
pub struct Schedule {
    pub year: i16,
    /// The notice, as cited in the dossier.
    pub notice: &'static str,
    /// Where its text was read.
    pub url: &'static str,
    pub breaks: &'static [Break],
    /// Weekend days worked in exchange (month, day).
    pub working_weekends: &'static [(i8, i8)],
}

/// A holiday break: name, first and last day (month, day), days in total as
/// the notice counts them (checked against the dates by a test).
pub struct Break {
    pub name: &'static str,
    pub from: (i8, i8),
    pub to: (i8, i8),
    pub days: u8,
}

const fn b(name: &'static str, from: (i8, i8), to: (i8, i8), days: u8) -> Break {
    Break {
        name,
        from,
        to,
        days,
    }
}

/// The verified schedules, oldest first.
pub const SCHEDULES: &[Schedule] = &[
    Schedule {
        year: 2025,
        notice: "State Council General Office, Notice on the arrangement of certain holidays in 2025 (国务院办公厅关于2025年部分节假日安排的通知, 国办发明电〔2024〕12号), 12 November 2024, as published by Xinhua",
        url: "https://m.gmw.cn/2024-11/12/content_1303894933.htm",
        breaks: &[
            b("New Year's Day (元旦)", (1, 1), (1, 1), 1),
            b("Spring Festival (春节)", (1, 28), (2, 4), 8),
            b("Qingming (清明节)", (4, 4), (4, 6), 3),
            b("Labour Day (劳动节)", (5, 1), (5, 5), 5),
            b("Dragon Boat Festival (端午节)", (5, 31), (6, 2), 3),
            b(
                "National Day and Mid-Autumn (国庆节、中秋节)",
                (10, 1),
                (10, 8),
                8,
            ),
        ],
        working_weekends: &[(1, 26), (2, 8), (4, 27), (9, 28), (10, 11)],
    },
    Schedule {
        year: 2026,
        notice: "State Council General Office, Notice on the arrangement of certain holidays in 2026 (国务院办公厅关于2026年部分节假日安排的通知), 4 November 2025, as published by Xinhua",
        url: "https://politics.gmw.cn/2025-11/04/content_38391083.htm",
        breaks: &[
            b("New Year's Day (元旦)", (1, 1), (1, 3), 3),
            b("Spring Festival (春节)", (2, 15), (2, 23), 9),
            b("Qingming (清明节)", (4, 4), (4, 6), 3),
            b("Labour Day (劳动节)", (5, 1), (5, 5), 5),
            b("Dragon Boat Festival (端午节)", (6, 19), (6, 21), 3),
            b("Mid-Autumn (中秋节)", (9, 25), (9, 27), 3),
            b("National Day (国庆节)", (10, 1), (10, 7), 7),
        ],
        working_weekends: &[(1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10)],
    },
];

/// Working days added when a period reaches a year without a verified
/// schedule. The counted stretch is then at most 57 weekdays (about 80
/// days); in the verified years no stretch of 90 days holds more than 10
/// weekdays off (a test checks it: Spring Festival, Qingming and Labour Day
/// 2026 are the worst case), so the margin covers a year like them with
/// two days to spare.
pub const MARGIN: u32 = 12;

/// The schedule of a year, if verified.
pub fn schedule(year: i16) -> Option<&'static Schedule> {
    SCHEDULES.iter().find(|s| s.year == year)
}

fn md(d: Date) -> (i8, i8) {
    (d.month(), d.day())
}

fn weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// Whether `d` is a working day: `Some` from the year's notice, `None` when
/// the year has no verified schedule.
pub fn verified_working_day(d: Date) -> Option<bool> {
    let s = schedule(d.year())?;
    let x = md(d);
    if s.working_weekends.contains(&x) {
        return Some(true);
    }
    if s.breaks.iter().any(|b| b.from <= x && x <= b.to) {
        return Some(false);
    }
    Some(!weekend(d))
}

/// Whether `d` counts as a working day, and whether that was assumed (a
/// year without a schedule: weekdays count, worked weekends do not).
fn counts(d: Date) -> (bool, bool) {
    match verified_working_day(d) {
        Some(w) => (w, false),
        None => (!weekend(d), true),
    }
}

/// A date found by counting working days, with what the count assumed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counted {
    pub date: Date,
    /// Years the count crossed that have no verified schedule (sorted).
    pub unverified_years: Vec<i16>,
    /// Working days added for them (0 or [`MARGIN`]).
    pub margin: u32,
}

fn note_year(years: &mut Vec<i16>, d: Date) {
    if !years.contains(&d.year()) {
        years.push(d.year());
    }
}

/// Steps from `from` one day at a time in `dir` (+1 or -1) until `n`
/// working days have been passed, and returns the `n`-th; `None` at the
/// ends of the calendar.
fn walk(from: Date, n: u32, forward: bool, years: &mut Vec<i16>) -> Option<Date> {
    walk_with(from, n, forward, years, &counts)
}

/// [`walk`] over any calendar (`counts` says whether a day is a working day
/// and whether that was assumed): the tests compare with made-up years.
fn walk_with(
    from: Date,
    n: u32,
    forward: bool,
    years: &mut Vec<i16>,
    counts: &impl Fn(Date) -> (bool, bool),
) -> Option<Date> {
    let mut d = from;
    let mut seen = 0;
    while seen < n {
        d = if forward {
            d.tomorrow().ok()?
        } else {
            d.yesterday().ok()?
        };
        let (working, assumed) = counts(d);
        if assumed {
            note_year(years, d);
        }
        if working {
            seen += 1;
        }
    }
    Some(d)
}

/// The latest working day on which to file so that a decision period of `n`
/// working days, counted from the first working day after filing, ends
/// before `ship` (on the working day before it at the latest). When the
/// count reaches a year without a verified schedule, `n + MARGIN` working
/// days are counted instead: the date given is then earlier than, or equal
/// to, the true one.
pub fn latest_filing_day(ship: Date, n: u32) -> Option<Counted> {
    let attempt = |need: u32| -> Option<(Date, Vec<i16>)> {
        let mut years = Vec::new();
        // The period's first working day, `need` working days before the ship date...
        let first = walk(ship, need, false, &mut years)?;
        // ...and the working day before it: the day to file.
        let file = walk(first, 1, false, &mut years)?;
        years.sort_unstable();
        Some((file, years))
    };
    let (d, years) = attempt(n)?;
    if years.is_empty() {
        return Some(Counted {
            date: d,
            unverified_years: years,
            margin: 0,
        });
    }
    let (d, mut years) = attempt(n + MARGIN)?;
    // Years the first count crossed stay named even if the longer one did too.
    years.dedup();
    Some(Counted {
        date: d,
        unverified_years: years,
        margin: MARGIN,
    })
}

/// The last day of a decision period of `n` working days for an application
/// filed on `filed` (counted from the first working day after it). In a
/// year without a verified schedule `MARGIN` working days are added: the
/// date given is then later than, or equal to, the true one.
pub fn decision_due(filed: Date, n: u32) -> Option<Counted> {
    let mut years = Vec::new();
    let d = walk(filed, n, true, &mut years)?;
    if years.is_empty() {
        return Some(Counted {
            date: d,
            unverified_years: years,
            margin: 0,
        });
    }
    let mut years = Vec::new();
    let d = walk(filed, n + MARGIN, true, &mut years)?;
    years.sort_unstable();
    Some(Counted {
        date: d,
        unverified_years: years,
        margin: MARGIN,
    })
}

/// The first and last day with a verified schedule.
pub fn verified_span() -> (Date, Date) {
    let first = SCHEDULES.first().map_or(2025, |s| s.year);
    let last = SCHEDULES.last().map_or(2026, |s| s.year);
    (date(first, 1, 1), date(last, 12, 31))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    /// Every working weekend is a weekend day, every break has the number of
    /// days its notice states, and no working weekend lies inside a break.
    #[test]
    fn schedules_match_their_notices() {
        for s in SCHEDULES {
            for &(m, dd) in s.working_weekends {
                let x = date(s.year, m, dd);
                assert!(weekend(x), "{x} is not a weekend day");
                assert_eq!(verified_working_day(x), Some(true));
            }
            for br in s.breaks {
                let (a, z) = (
                    date(s.year, br.from.0, br.from.1),
                    date(s.year, br.to.0, br.to.1),
                );
                let days = (z - a).get_days() + 1;
                assert_eq!(days, i32::from(br.days), "{}", br.name);
                let mut x = a;
                while x <= z {
                    assert_eq!(verified_working_day(x), Some(false), "{x}");
                    x = x.tomorrow().unwrap();
                }
            }
        }
    }

    /// The margin covers the worst stretch of the verified years: no 90
    /// consecutive days (more than the 57 weekdays counted with the margin
    /// span) hold more weekdays off than `MARGIN` minus two.
    #[test]
    fn the_margin_covers_the_worst_holiday_stretch() {
        let (first, last) = verified_span();
        let mut worst = 0;
        let mut start = first;
        while start <= last {
            let mut off = 0;
            let mut x = start;
            for _ in 0..90 {
                if x > last {
                    break;
                }
                if !weekend(x) && verified_working_day(x) == Some(false) {
                    off += 1;
                }
                x = x.tomorrow().unwrap();
            }
            worst = worst.max(off);
            start = start.tomorrow().unwrap();
        }
        assert_eq!(worst, 10);
        assert!(worst + 2 <= MARGIN);
    }

    #[test]
    fn weekdays_weekends_holidays_and_worked_weekends() {
        assert_eq!(verified_working_day(d("2026-06-01")), Some(true)); // Monday
        assert_eq!(verified_working_day(d("2026-06-06")), Some(false)); // Saturday
        assert_eq!(verified_working_day(d("2026-10-05")), Some(false)); // National Day, Monday
        assert_eq!(verified_working_day(d("2026-10-10")), Some(true)); // worked Saturday
        assert_eq!(verified_working_day(d("2026-02-14")), Some(true)); // worked Saturday
        assert_eq!(verified_working_day(d("2025-10-08")), Some(false)); // Wednesday, merged break
        assert_eq!(verified_working_day(d("2027-03-01")), None);
    }

    /// No holiday in the stretch: 45 weekdays before the ship date are nine
    /// weeks; the day to file is the working day before them.
    #[test]
    fn plain_weeks() {
        // Ship Monday 2026-09-14. Working days before it: Fri 11 Sep back...
        // 45 weekdays from Mon 13 Jul to Fri 11 Sep (no holiday; Mid-Autumn
        // starts 25 Sep). The day to file: Fri 10 Jul.
        let c = latest_filing_day(d("2026-09-14"), 45).unwrap();
        assert_eq!(c.date, d("2026-07-10"));
        assert_eq!((c.margin, c.unverified_years.len()), (0, 0));
        // Forward: filed Fri 10 Jul, the 45th working day after is Fri 11 Sep.
        assert_eq!(
            decision_due(d("2026-07-10"), 45).unwrap().date,
            d("2026-09-11")
        );
    }

    /// Holidays are skipped and worked weekends count. Ship Mon 2026-10-12:
    /// working days before it (back from Sun 11 Oct): Sat 10 Oct (worked),
    /// Fri 9, Thu 8, then 1-7 Oct off, Wed 30 Sep ... Mid-Autumn 25-27 Sep
    /// off, Sun 20 Sep worked.
    #[test]
    fn holidays_and_worked_weekends() {
        let c = latest_filing_day(d("2026-10-12"), 45).unwrap();
        // Count by brute force over the verified calendar.
        let mut x = c.date.tomorrow().unwrap();
        let mut n = 0;
        while x < d("2026-10-12") {
            if verified_working_day(x) == Some(true) {
                n += 1;
            }
            x = x.tomorrow().unwrap();
        }
        assert_eq!(n, 45, "{}", c.date);
        assert_eq!(verified_working_day(c.date), Some(true));
        // Without the holidays (plain weekdays) it would have been later.
        assert_eq!(c.date, d("2026-08-03"));
        // Spring Festival 2026: Mon 2 Mar ship date; the break (6 weekdays)
        // and two worked Saturdays (14, 28 Feb) are inside the period.
        let c = latest_filing_day(d("2026-03-02"), 45).unwrap();
        assert_eq!(c.date, d("2025-12-19"));
        assert_eq!(c.margin, 0);
    }

    /// A period reaching into a year without a schedule: the margin is
    /// added and the year named; the date is never later than the true one
    /// whatever that year's holidays turn out to be (at most `MARGIN`
    /// weekdays off in the stretch).
    #[test]
    fn year_without_a_schedule_gets_the_margin() {
        let c = latest_filing_day(d("2027-03-15"), 45).unwrap();
        assert_eq!(c.unverified_years, vec![2027]);
        assert_eq!(c.margin, MARGIN);
        // 55 plain weekdays back from Mon 15 Mar 2027 reach into 2026's
        // verified December; the result is a working day of 2026.
        assert_eq!(verified_working_day(c.date), Some(true));
        let plain = latest_filing_day_plain(d("2027-03-15"), 45);
        assert!(c.date < plain, "{} vs {plain}", c.date);
        // Worst case: every one of MARGIN weekdays of 2027 in the stretch is
        // a holiday; the true day to file is still on or after ours.
        let mut x = c.date.tomorrow().unwrap();
        let mut counted = 0;
        while x < d("2027-03-15") {
            if counts(x).0 {
                counted += 1;
            }
            x = x.tomorrow().unwrap();
        }
        assert!(counted >= 45 + MARGIN);
        // Forward: the decision may come later than plain counting says.
        let due = decision_due(d("2026-12-01"), 45).unwrap();
        assert_eq!(
            (due.margin, due.unverified_years.clone()),
            (MARGIN, vec![2027])
        );
    }

    /// Whatever a year without a schedule turns out to be, the date given is
    /// not later than the true one, as long as the year is no worse than the
    /// verified ones: here 2027 is given 2026's holidays and worked weekends
    /// (the worst stretch of the verified years), then 2025's, shifted to
    /// the same days, and every ship date of 2027 is checked.
    #[test]
    fn the_margin_is_never_later_than_a_year_like_the_verified_ones() {
        for pattern in [2026, 2025] {
            let truth = |d: Date| -> (bool, bool) {
                if d.year() != 2027 {
                    return (counts(d).0, false);
                }
                // The same month and day in the pattern year (29 Feb cannot occur in 2027).
                let same = date(pattern, d.month(), d.day());
                let s = schedule(pattern).unwrap();
                let x = md(same);
                let w = if s.working_weekends.contains(&x) {
                    weekend(d)
                } else if s.breaks.iter().any(|b| b.from <= x && x <= b.to) {
                    false
                } else {
                    !weekend(d)
                };
                (w, false)
            };
            let mut ship = d("2027-01-01");
            while ship.year() == 2027 {
                let ours = latest_filing_day(ship, 45).unwrap();
                let mut y = Vec::new();
                let first = walk_with(ship, 45, false, &mut y, &truth).unwrap();
                let true_day = walk_with(first, 1, false, &mut y, &truth).unwrap();
                assert!(
                    ours.date <= true_day,
                    "ship {ship}: {} is later than the true {true_day} (pattern {pattern})",
                    ours.date
                );
                let filed = ship;
                let due = decision_due(filed, 45).unwrap();
                let true_due = walk_with(filed, 45, true, &mut y, &truth).unwrap();
                assert!(
                    due.date >= true_due,
                    "filed {filed}: {} < {true_due}",
                    due.date
                );
                ship = ship.tomorrow().unwrap();
            }
        }
    }

    /// Counting 45 weekdays with no holidays at all, for comparison.
    fn latest_filing_day_plain(ship: Date, n: u32) -> Date {
        let mut x = ship;
        let mut seen = 0;
        while seen < n + 1 {
            x = x.yesterday().unwrap();
            if !weekend(x) {
                seen += 1;
            }
        }
        x
    }

    /// A ship date very close (or in the past) still gives a date: the
    /// caller compares it with the dossier's date and warns.
    #[test]
    fn ship_date_already_too_close() {
        let c = latest_filing_day(d("2026-12-01"), 45).unwrap();
        assert!(c.date < d("2026-11-30"));
        assert_eq!(c.margin, 0);
        // The ends of the calendar give None, never a panic.
        assert_eq!(latest_filing_day(Date::MIN, 45), None);
        assert_eq!(decision_due(Date::MAX, 45), None);
    }
}
