//! [`Reporter`]: hydration progress as a bar on a terminal (indicatif), as
//! plain lines otherwise (a container's log).

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use velocity_sync::hydrate::Progress;

/// Shows hydration progress.
#[derive(Debug)]
pub struct Reporter {
    bar: Option<ProgressBar>,
    /// Last tenth printed in plain mode.
    last_tenth: Option<u64>,
    started: Instant,
    quiet: bool,
}

impl Reporter {
    /// A bar when stderr is a terminal, plain lines otherwise.
    pub fn auto() -> Self {
        Self::new(std::io::stderr().is_terminal())
    }

    /// A bar (`terminal`) or plain lines.
    pub fn new(terminal: bool) -> Self {
        Self {
            bar: terminal.then(ProgressBar::hidden),
            last_tenth: None,
            started: Instant::now(),
            quiet: false,
        }
    }

    /// Prints nothing (an embedding orchestrator reads events instead).
    pub fn quiet() -> Self {
        Self {
            quiet: true,
            ..Self::new(false)
        }
    }

    /// Shows `progress`.
    pub fn update(&mut self, progress: Progress) {
        if self.quiet {
            return;
        }
        if let Some(bar) = &mut self.bar {
            if bar.is_hidden() {
                *bar = ProgressBar::new(progress.bytes_total);
                let style = ProgressStyle::with_template(
                    "hydrating [{bar:30}] {bytes}/{total_bytes} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar());
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_length(progress.bytes_total);
            bar.set_position(progress.bytes_done);
            bar.set_message(format!(
                "{}/{} files",
                progress.files_done, progress.files_total
            ));
            return;
        }
        let tenth = (progress.fraction() * 10.0).floor() as u64;
        if self.last_tenth != Some(tenth) {
            self.last_tenth = Some(tenth);
            eprintln!("{}", line(progress));
        }
    }

    /// Ends the bar (or prints the last line) after `files` in `bytes`.
    pub fn finish(&mut self, files: u64, bytes: u64) {
        if self.quiet {
            return;
        }
        let elapsed = self.started.elapsed();
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        eprintln!(
            "hydrated {files} files, {bytes} bytes in {:.2} s",
            elapsed.as_secs_f64()
        );
        self.last_tenth = None;
    }
}

/// The plain progress line for `progress`.
pub fn line(progress: Progress) -> String {
    format!(
        "hydrating: {}/{} files, {}/{} bytes ({:.0} %)",
        progress.files_done,
        progress.files_total,
        progress.bytes_done,
        progress.bytes_total,
        progress.fraction() * 100.0
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_say_files_bytes_and_percent() {
        let progress = Progress {
            files_done: 3,
            files_total: 12,
            bytes_done: 250,
            bytes_total: 1000,
        };
        assert_eq!(
            line(progress),
            "hydrating: 3/12 files, 250/1000 bytes (25 %)"
        );
    }

    #[test]
    fn plain_mode_prints_once_per_tenth() {
        let mut reporter = Reporter::new(false);
        let mut at = |bytes_done| {
            reporter.update(Progress {
                files_done: 0,
                files_total: 1,
                bytes_done,
                bytes_total: 1000,
            });
            reporter.last_tenth
        };
        assert_eq!(at(10), Some(0));
        assert_eq!(at(90), Some(0));
        assert_eq!(at(510), Some(5));
    }
}
