//! The volume counters: what each exporter has sent under a regime. PIPL counts people per
//! exporter and calendar year in UTC+8; the DSP counts per exporter, party and class over the
//! 366 UTC days ending with the decision's day. [`Tally`] holds the counters a batch of
//! decisions reads and what it adds; [`store`] reads and writes them in the batch's own
//! transaction, under the ledger head lock, so several nodes never lose an increment.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;

use super::Regime;

/// One counter at one period: PIPL's year (`2027`, `party_id` empty), or the DSP's UTC day
/// (`2026-12-02`), whose window is the 366 days ending with it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Counter {
    pub regime: Regime,
    pub exporter: String,
    pub party_id: String,
    pub class: String,
    pub period: String,
}

impl Counter {
    /// The counter's name, without its period.
    pub fn key(&self) -> String {
        match self.regime {
            Regime::Pipl => format!("pipl:{}:{}", self.exporter, self.class),
            _ => format!(
                "{}:{}:{}:{}",
                self.regime, self.exporter, self.party_id, self.class
            ),
        }
    }

    /// The counter named `key` (what [`Counter::key`] writes) at `period`.
    pub fn parse(key: &str, period: &str) -> Option<Counter> {
        let parts: Vec<&str> = key.split(':').collect();
        let (regime, exporter, party_id, class) = match parts.as_slice() {
            ["pipl", e, c] => (Regime::Pipl, *e, "", *c),
            [r, e, p, c] if *r != "pipl" => (Regime::parse(r)?, *e, *p, *c),
            _ => return None,
        };
        Some(Counter {
            regime,
            exporter: exporter.to_owned(),
            party_id: party_id.to_owned(),
            class: class.to_owned(),
            period: period.to_owned(),
        })
    }

    fn series(&self) -> Series {
        (
            self.regime,
            self.exporter.clone(),
            self.party_id.clone(),
            self.class.clone(),
        )
    }
}

/// What the engine reads: a counter's value before the share (for the DSP, the sum of its
/// window).
pub trait Volumes {
    fn before(&self, counter: &Counter) -> i64;
}

/// No counts at all.
pub struct Nothing;

impl Volumes for Nothing {
    fn before(&self, _: &Counter) -> i64 {
        0
    }
}

type Series = (Regime, String, String, String);
/// A series loaded: (regime, exporter, party, PIPL year or empty).
type Mark = (Regime, String, String, String);

/// Counters in memory: those loaded for a batch plus what its approvals added.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Series → period → count.
    counts: HashMap<Series, BTreeMap<String, i64>>,
    /// The DSP window, in days.
    window_days: i64,
    /// Increments not yet written, in order.
    pending: Vec<(Counter, i64)>,
    /// Which (regime, exporter, party, PIPL year) have been loaded.
    loaded: HashSet<Mark>,
}

impl Tally {
    pub fn new(window_days: i64) -> Tally {
        Tally {
            window_days,
            ..Tally::default()
        }
    }

    /// Adds `n` to a counter (an approval's increment, or a stored count while loading).
    fn put(&mut self, counter: &Counter, n: i64) {
        *self
            .counts
            .entry(counter.series())
            .or_default()
            .entry(counter.period.clone())
            .or_default() += n;
    }

    /// Records an approval's increment, to be written with the batch.
    pub fn add(&mut self, counter: Counter, n: i64) {
        self.put(&counter, n);
        self.pending.push((counter, n));
    }

    /// Takes `n` back out of a counter whose series this tally loaded (what was counted after
    /// the instant being judged); a series not loaded is not read, so nothing is taken.
    pub fn unwind(&mut self, counter: &Counter, n: i64) {
        let c = counter;
        if self
            .loaded
            .contains(&Tally::mark(c.regime, &c.exporter, &c.party_id, &c.period))
        {
            self.put(counter, -n);
        }
    }

    /// What [`store::load`] notes as loaded for a counter at `period`: PIPL's series are read
    /// per year; the DSP's once per tally, from the first window's start (a later day's window
    /// starts later still).
    fn mark(regime: Regime, exporter: &str, party_id: &str, period: &str) -> Mark {
        let period = if regime == Regime::Pipl { period } else { "" };
        (
            regime,
            exporter.to_owned(),
            party_id.to_owned(),
            period.to_owned(),
        )
    }

    /// The increments to write, merged per counter.
    pub fn take_pending(&mut self) -> Vec<(Counter, i64)> {
        let mut merged: Vec<(Counter, i64)> = Vec::new();
        for (c, n) in self.pending.drain(..) {
            match merged.iter_mut().find(|(m, _)| *m == c) {
                Some((_, total)) => *total += n,
                None => merged.push((c, n)),
            }
        }
        merged
    }

    fn first_day(&self, day: &str) -> String {
        NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .map(|d| (d - chrono::Duration::days(self.window_days - 1)).to_string())
            .unwrap_or_else(|_| day.to_owned())
    }
}

impl Volumes for Tally {
    fn before(&self, c: &Counter) -> i64 {
        let Some(periods) = self.counts.get(&c.series()) else {
            return 0;
        };
        match c.regime {
            Regime::Pipl => periods.get(&c.period).copied().unwrap_or(0),
            _ => periods
                .range(self.first_day(&c.period)..=c.period.clone())
                .map(|(_, n)| n)
                .sum(),
        }
    }
}

pub mod store {
    //! The `transfer_volumes` table.

    use diesel::prelude::*;

    use super::{Counter, Regime, Tally};
    use crate::db::DbConn;
    use crate::schema::transfer_volumes as tv;

    /// A stored count.
    #[derive(Debug, Clone, Queryable, Selectable, Insertable)]
    #[diesel(table_name = tv)]
    pub struct Row {
        pub regime: Regime,
        pub exporter: String,
        pub party_id: String,
        pub class: String,
        pub period: String,
        pub count: i64,
    }

    impl Row {
        pub fn counter(&self) -> Counter {
            Counter {
                regime: self.regime,
                exporter: self.exporter.clone(),
                party_id: self.party_id.clone(),
                class: self.class.clone(),
                period: self.period.clone(),
            }
        }
    }

    /// Loads into `tally` the counts a share may read: PIPL's for `exporter` in `year`, the
    /// DSP's for `exporter` and `party_id` in the window ending `day`. Each is read once per
    /// tally. Call under the ledger head lock.
    pub fn load(
        conn: &mut DbConn,
        tally: &mut Tally,
        regime: Regime,
        exporter: &str,
        party_id: &str,
        period: &str,
    ) -> QueryResult<()> {
        let first = match regime {
            Regime::Pipl => period.to_owned(),
            _ => tally.first_day(period),
        };
        let mark = Tally::mark(regime, exporter, party_id, period);
        if tally.loaded.contains(&mark) {
            return Ok(());
        }
        let mut q = tv::table
            .filter(tv::regime.eq(regime))
            .filter(tv::exporter.eq(exporter))
            .filter(tv::party_id.eq(party_id))
            .into_boxed();
        q = match regime {
            Regime::Pipl => q.filter(tv::period.eq(period.to_owned())),
            _ => q
                .filter(tv::period.ge(first))
                .filter(tv::period.le(period.to_owned())),
        };
        for row in q.select(Row::as_select()).load(conn)? {
            tally.put(&row.counter(), row.count);
        }
        tally.loaded.insert(mark);
        Ok(())
    }

    /// Writes a batch's increments. Call under the ledger head lock, which serialises every
    /// writer of these rows.
    pub fn write(conn: &mut DbConn, increments: &[(Counter, i64)]) -> QueryResult<()> {
        for (c, n) in increments {
            let key = tv::regime
                .eq(c.regime)
                .and(tv::exporter.eq(&c.exporter))
                .and(tv::party_id.eq(&c.party_id))
                .and(tv::class.eq(&c.class))
                .and(tv::period.eq(&c.period));
            let updated = diesel::update(tv::table.filter(key))
                .set(tv::count.eq(tv::count + n))
                .execute(conn)?;
            if updated == 0 {
                diesel::insert_into(tv::table)
                    .values(Row {
                        regime: c.regime,
                        exporter: c.exporter.clone(),
                        party_id: c.party_id.clone(),
                        class: c.class.clone(),
                        period: c.period.clone(),
                        count: *n,
                    })
                    .execute(conn)?;
            }
        }
        Ok(())
    }

    /// Every stored count, optionally of one exporter or party, in key order.
    pub fn list(
        conn: &mut DbConn,
        exporter: Option<&str>,
        party_id: Option<&str>,
    ) -> QueryResult<Vec<Row>> {
        let mut q = tv::table.into_boxed();
        if let Some(e) = exporter {
            q = q.filter(tv::exporter.eq(e.to_owned()));
        }
        if let Some(p) = party_id {
            q = q.filter(tv::party_id.eq(p.to_owned()));
        }
        q.order((
            tv::regime.asc(),
            tv::exporter.asc(),
            tv::party_id.asc(),
            tv::class.asc(),
            tv::period.asc(),
        ))
        .select(Row::as_select())
        .load(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dsp(day: &str) -> Counter {
        Counter {
            regime: Regime::UsDsp,
            exporter: "acme-us".into(),
            party_id: "p".into(),
            class: "genomic".into(),
            period: day.into(),
        }
    }

    #[test]
    fn the_dsp_window_is_the_366_days_ending_with_the_day() {
        let mut t = Tally::new(366);
        t.add(dsp("2025-12-01"), 5);
        t.add(dsp("2025-12-02"), 7);
        t.add(dsp("2026-12-02"), 11);
        // 2026-12-02 back 365 days is 2025-12-02: that day counts, the day before does not.
        assert_eq!(t.before(&dsp("2026-12-02")), 18);
        assert_eq!(t.before(&dsp("2026-12-01")), 12);
        assert_eq!(t.before(&dsp("2026-12-03")), 11);
    }

    #[test]
    fn pending_increments_merge_per_counter() {
        let mut t = Tally::new(366);
        t.add(dsp("2026-12-02"), 1);
        t.add(dsp("2026-12-02"), 2);
        t.add(dsp("2026-12-03"), 4);
        let p = t.take_pending();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].1, 3);
        assert!(t.take_pending().is_empty());
    }
}
