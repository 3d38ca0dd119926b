//! Request counts and latencies by route and status, in Prometheus text format.
//! A few dozen lines instead of a metrics framework: we need one counter and one histogram.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Debug, Default, Clone)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// The collected request metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(String, String, String), Series>>,
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The methods this API serves; any other method string a client makes up is counted as
/// `other`, so clients cannot add series (each series costs memory and every scrape).
const KNOWN_METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// The statuses this server answers, each its own series; anything else is counted under
/// its class (`2xx` … `5xx`, `other`).
const KNOWN_STATUSES: [u16; 22] = [
    200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 405, 408, 409, 413, 415, 422, 429, 431, 500,
    502, 503, 504,
];

/// The method as a bounded label.
pub fn method_label(method: &str) -> &'static str {
    KNOWN_METHODS
        .iter()
        .find(|known| **known == method)
        .copied()
        .unwrap_or("other")
}

/// The status as a bounded label.
pub fn status_label(status: u16) -> String {
    if KNOWN_STATUSES.contains(&status) {
        return status.to_string();
    }
    match status {
        100..=599 => format!("{}xx", status / 100),
        _ => "other".to_owned(),
    }
}

impl Metrics {
    /// Records one finished request. `route` must be a matched route pattern (or a fixed
    /// word such as `unmatched`), never a raw path: labels are bounded by the code, not by
    /// what clients send.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let key = (
            method_label(method).to_owned(),
            route.to_owned(),
            status_label(status),
        );
        let mut series = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let entry = series.entry(key).or_default();
        entry.count += 1;
        entry.sum += seconds;
        for (bucket, bound) in entry.buckets.iter_mut().zip(BUCKETS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let series = self
            .series
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut out = String::new();
        out.push_str(
            "# HELP canvass_http_requests_total HTTP requests by method, route and status.\n",
        );
        out.push_str("# TYPE canvass_http_requests_total counter\n");
        for ((method, route, status), s) in &series {
            let _ = writeln!(
                out,
                "canvass_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {}",
                escape(method),
                escape(route),
                s.count
            );
        }
        out.push_str("# HELP canvass_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE canvass_http_request_duration_seconds histogram\n");
        for ((method, route, status), s) in &series {
            let labels = format!(
                "method=\"{}\",route=\"{}\",status=\"{status}\"",
                escape(method),
                escape(route)
            );
            for (bound, count) in BUCKETS.iter().zip(s.buckets) {
                let _ = writeln!(
                    out,
                    "canvass_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "canvass_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "canvass_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "canvass_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_methods_and_odd_statuses_share_bounded_series() {
        let metrics = Metrics::default();
        for n in 0..300 {
            metrics.observe(&format!("BREW{n}"), "unmatched", 405, 0.001);
        }
        metrics.observe("GET", "/healthz", 299, 0.001);
        let text = metrics.render();
        assert!(text.contains(
            "canvass_http_requests_total{method=\"other\",route=\"unmatched\",status=\"405\"} 300"
        ));
        assert!(text.contains("status=\"2xx\""));
        assert!(!text.contains("BREW"));
    }

    #[test]
    fn a_request_shows_up_in_count_sum_and_cumulative_buckets() {
        let metrics = Metrics::default();
        metrics.observe("GET", "/healthz", 200, 0.003);
        metrics.observe("GET", "/healthz", 200, 0.3);
        let text = metrics.render();
        assert!(text.contains(
            "canvass_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
        ));
        assert!(text.contains("route=\"/healthz\",status=\"200\",le=\"0.005\"} 1"));
        assert!(text.contains("route=\"/healthz\",status=\"200\",le=\"0.5\"} 2"));
        assert!(text.contains("canvass_http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"));
    }
}
