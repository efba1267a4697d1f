//! Prometheus metrics, kept in process and rendered in the text exposition format. Labels are
//! route patterns, methods, statuses, outcomes and reason codes: never ids, principals or PII.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const BATCH_BUCKETS: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

#[derive(Debug, Clone, Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, buckets: &[f64], value: f64) {
        if self.counts.len() != buckets.len() {
            self.counts = vec![0; buckets.len()];
        }
        for (i, b) in buckets.iter().enumerate() {
            if value <= *b {
                self.counts[i] += 1;
            }
        }
        self.sum += value;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str, buckets: &[f64]) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, b) in buckets.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {}",
                self.counts.get(i).copied().unwrap_or(0)
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), Histogram>,
    outcomes: BTreeMap<&'static str, u64>,
    reasons: BTreeMap<&'static str, u64>,
    batch_size: Histogram,
    commit_seconds: Histogram,
}

/// The process's metrics.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    pub fn request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        if let Ok(mut m) = self.inner.lock() {
            m.requests
                .entry((route.to_owned(), method.to_owned(), status))
                .or_default()
                .observe(&LATENCY_BUCKETS, seconds);
        }
    }

    pub fn decision(&self, outcome: &'static str, reasons: impl Iterator<Item = &'static str>) {
        if let Ok(mut m) = self.inner.lock() {
            *m.outcomes.entry(outcome).or_default() += 1;
            for r in reasons {
                *m.reasons.entry(r).or_default() += 1;
            }
        }
    }

    /// One ledger commit: how many decisions it carried and how long it took.
    pub fn ledger_commit(&self, batch: usize, seconds: f64) {
        if let Ok(mut m) = self.inner.lock() {
            m.batch_size.observe(&BATCH_BUCKETS, batch as f64);
            m.commit_seconds.observe(&LATENCY_BUCKETS, seconds);
        }
    }

    /// The exposition text; `codes` are every reason code, so each has a series from the start.
    /// `ledger` is the node's integrity: whether its checks pass, and how many have failed.
    pub fn render(&self, pool: &crate::db::Pool, codes: &[&str], ledger: (bool, u64)) -> String {
        let mut out = String::with_capacity(8192);
        let Ok(m) = self.inner.lock() else { return out };
        out.push_str("# HELP http_request_duration_seconds HTTP request latency by route pattern, method and status.\n");
        out.push_str("# TYPE http_request_duration_seconds histogram\n");
        for ((route, method, status), h) in &m.requests {
            let labels = format!(
                "route=\"{}\",method=\"{}\",status=\"{status}\"",
                escape(route),
                escape(method)
            );
            h.render(
                &mut out,
                "http_request_duration_seconds",
                &labels,
                &LATENCY_BUCKETS,
            );
        }
        out.push_str("# HELP vendor_registry_decisions_total Sharing decisions by outcome.\n");
        out.push_str("# TYPE vendor_registry_decisions_total counter\n");
        for outcome in ["approved", "denied"] {
            let _ = writeln!(
                out,
                "vendor_registry_decisions_total{{outcome=\"{outcome}\"}} {}",
                m.outcomes.get(outcome).copied().unwrap_or(0)
            );
        }
        out.push_str(
            "# HELP vendor_registry_decision_reasons_total Failed checks by reason code.\n",
        );
        out.push_str("# TYPE vendor_registry_decision_reasons_total counter\n");
        for code in codes {
            let _ = writeln!(
                out,
                "vendor_registry_decision_reasons_total{{code=\"{code}\"}} {}",
                m.reasons.get(code).copied().unwrap_or(0)
            );
        }
        out.push_str(
            "# HELP vendor_registry_ledger_batch_size Decisions written per ledger commit.\n",
        );
        out.push_str("# TYPE vendor_registry_ledger_batch_size histogram\n");
        m.batch_size.render(
            &mut out,
            "vendor_registry_ledger_batch_size",
            "",
            &BATCH_BUCKETS,
        );
        out.push_str("# HELP vendor_registry_ledger_commit_seconds Time to write and commit a ledger batch.\n");
        out.push_str("# TYPE vendor_registry_ledger_commit_seconds histogram\n");
        m.commit_seconds.render(
            &mut out,
            "vendor_registry_ledger_commit_seconds",
            "",
            &LATENCY_BUCKETS,
        );
        out.push_str("# HELP vendor_registry_ledger_integrity_ok 1 while this node's checks find the ledger as signed; 0 is an alarm: no writes, no signing.\n");
        out.push_str("# TYPE vendor_registry_ledger_integrity_ok gauge\n");
        let _ = writeln!(
            out,
            "vendor_registry_ledger_integrity_ok {}",
            u8::from(ledger.0)
        );
        out.push_str("# HELP vendor_registry_ledger_integrity_failures_total Ledger checks that found it altered.\n");
        out.push_str("# TYPE vendor_registry_ledger_integrity_failures_total counter\n");
        let _ = writeln!(
            out,
            "vendor_registry_ledger_integrity_failures_total {}",
            ledger.1
        );
        let state = pool.state();
        out.push_str("# HELP vendor_registry_db_pool_connections Database connections by state.\n");
        out.push_str("# TYPE vendor_registry_db_pool_connections gauge\n");
        let _ = writeln!(
            out,
            "vendor_registry_db_pool_connections{{state=\"idle\"}} {}",
            state.idle_connections
        );
        let _ = writeln!(
            out,
            "vendor_registry_db_pool_connections{{state=\"in_use\"}} {}",
            state.connections - state.idle_connections
        );
        out.push_str("# HELP vendor_registry_db_pool_max Largest pool size.\n");
        out.push_str("# TYPE vendor_registry_db_pool_max gauge\n");
        let _ = writeln!(out, "vendor_registry_db_pool_max {}", pool.max_size());
        out
    }
}

/// Appends one gauge with its help and type lines.
pub fn gauge(out: &mut String, name: &str, help: &str, value: i64) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
    let _ = writeln!(out, "{name} {value}");
}
