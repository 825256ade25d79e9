//! What a load run measured: keystroke latencies and their percentiles.

use std::time::Duration;

/// Latencies and counts of a run (or of one session).
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Keystrokes the editors typed.
    pub sent: usize,
    /// Keystroke → agent latencies, one per keystroke that arrived.
    pub latencies: Vec<Duration>,
    /// Sessions merged into this report.
    pub sessions: usize,
    /// With [`LoadOptions::disk_agent`](super::LoadOptions::disk_agent):
    /// the real agent's project, whose latencies run from keystroke to file
    /// changed on disk.
    pub disk: Option<Box<Self>>,
}

/// Percentiles of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Slowest keystroke.
    pub max: Duration,
}

impl Report {
    /// One session's report.
    pub fn of_session(sent: usize, latencies: Vec<Duration>) -> Self {
        Self {
            sent,
            latencies,
            sessions: 1,
            disk: None,
        }
    }

    /// Adds another report's counts and latencies.
    pub fn merge(&mut self, other: Self) {
        self.sent += other.sent;
        self.sessions += other.sessions;
        self.latencies.extend(other.latencies);
        match (&mut self.disk, other.disk) {
            (Some(mine), Some(theirs)) => mine.merge(*theirs),
            (mine @ None, theirs) => *mine = theirs,
            (Some(_), None) => {}
        }
    }

    /// Keystrokes that reached their agent.
    pub fn received(&self) -> usize {
        self.latencies.len()
    }

    /// Nearest-rank percentiles; `None` when nothing arrived.
    pub fn summary(&self) -> Option<Summary> {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let rank = |p: f64| {
            let index = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
            sorted[index.clamp(1, sorted.len()) - 1]
        };
        (!sorted.is_empty()).then(|| Summary {
            p50: rank(50.0),
            p99: rank(99.0),
            max: sorted[sorted.len() - 1],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let mut report = Report::of_session(100, (1..=100).map(ms).collect());
        report.merge(Report::of_session(1, vec![ms(500)]));
        assert_eq!(report.sessions, 2);
        assert_eq!((report.sent, report.received()), (101, 101));
        let summary = report.summary().unwrap();
        assert_eq!(summary.p50, ms(51));
        assert_eq!(summary.p99, ms(100));
        assert_eq!(summary.max, ms(500));
    }

    #[test]
    fn an_empty_report_has_no_summary() {
        assert_eq!(Report::default().summary(), None);
    }
}
