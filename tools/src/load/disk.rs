//! One real agent beside the load: the library's [`Agent`], writing a
//! project to a directory (atomic writes, `fsync` on), while an editor types
//! into that project at the load's rate. Each keystroke's latency runs from
//! the editor's edit to the agent's rename of `src/App.tsx` holding it, read
//! back from the disk (the file's size) when the agent reports the write.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use uuid::Uuid;
use velocity_sync::FilePath;

use super::peer::{Peer, PeerError, token};
use super::{GRACE, LoadOptions, Report, Typed, editor_run};
use velocity_sync_agent::{Agent, AgentEvent, AgentOptions, Reporter};

/// The measured project (apart from the sessions' `project_of(n)`).
const PROJECT: Uuid = Uuid::from_u128(0x10ad_0000_0000_4000_8000_d15c_0000_0000);

/// The file the editor types into.
const FILE: &str = "src/App.tsx";

/// How often the arrivals are looked at while waiting (the latencies
/// themselves are taken when the agent reports its write).
const POLL: Duration = Duration::from_millis(5);

/// When the agent reported a write of [`FILE`], and the file's size then.
type Arrivals = Arc<Mutex<Vec<(Instant, u64)>>>;

/// Runs the measured project: its editor (client id `clients`) types
/// `keystrokes` from `first_key`, one per `interval`; its agent (id
/// `clients + 1`) writes into `root`. Returns a report whose latencies are
/// keystroke → file changed on disk.
pub(super) async fn session(
    options: &LoadOptions,
    root: &Path,
    clients: u64,
    first_key: Instant,
    interval: Duration,
    keystrokes: usize,
) -> Result<Report, PeerError> {
    let setup = |e: &dyn std::fmt::Display| PeerError::Setup(format!("disk agent: {e}"));
    let path = FilePath::parse(FILE).map_err(|e| setup(&e))?;
    let mut editor = Peer::join(options.addr, PROJECT, &options.secret, "editor", clients).await?;
    let id = editor
        .file_or_create(&path, b"export default function App() {}\n")
        .await?;
    let base = editor.client.text(&id).map_or(0, |text| text.len()) as u64;

    let arrivals: Arrivals = Arc::default();
    let sink = arrivals.clone();
    let file = root.join(FILE);
    let mut agent_options = AgentOptions::new(
        &format!("http://{}", options.addr),
        PROJECT,
        &token(PROJECT, &options.secret, "agent", clients + 1)?,
        root.to_path_buf(),
    );
    // Drift repair is not what is measured.
    agent_options.drift_every = Duration::from_secs(24 * 3600);
    let mut agent = Agent::open(agent_options)
        .map_err(|e| setup(&e))?
        .with_reporter(Reporter::quiet())
        .with_observer(move |event| {
            if let AgentEvent::Applied { written, .. } = event
                && written.iter().any(|p| p == FILE)
            {
                let at = Instant::now();
                let size = std::fs::metadata(&file).map_or(0, |m| m.len());
                if let Ok(mut arrivals) = sink.lock() {
                    arrivals.push((at, size));
                }
            }
        });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        agent
            .run(async {
                let _ = stopped.await;
            })
            .await
    });
    // Typing starts once the agent wrote the file as it is now.
    let file = root.join(FILE);
    let deadline = Instant::now() + GRACE;
    while std::fs::metadata(&file).map_or(0, |m| m.len()) != base {
        if Instant::now() > deadline || running.is_finished() {
            return Err(PeerError::Timeout("the disk agent's hydration"));
        }
        tokio::time::sleep(POLL).await;
    }

    let typed = Mutex::new(Typed::default());
    editor_run(
        &mut editor,
        id,
        keystrokes,
        first_key.max(Instant::now()),
        interval,
        &typed,
    )
    .await?;
    let give_up = Instant::now() + GRACE;
    let on_disk = |arrivals: &Arrivals| {
        arrivals
            .lock()
            .map_or(0, |a| a.last().map_or(0, |(_, size)| *size))
            .saturating_sub(base)
    };
    while on_disk(&arrivals) < keystrokes as u64 && Instant::now() < give_up {
        // Keep reading the editor's socket (acks) while waiting.
        let _ = tokio::time::timeout(POLL, editor.next_frame()).await;
    }
    let _ = stop.send(());
    running
        .await
        .map_err(|e| setup(&e))?
        .map_err(|e| setup(&e))?;
    editor.settle().await?;

    let sent = typed
        .lock()
        .map_err(|_| PeerError::Setup("poisoned".into()))?
        .sent
        .clone();
    let arrivals = arrivals
        .lock()
        .map_err(|_| PeerError::Setup("poisoned".into()))?
        .clone();
    Ok(Report::of_session(
        sent.len(),
        latencies(&sent, &arrivals, base),
    ))
}

/// Keystroke `k` (typed at `sent[k]`, one ASCII byte) is on disk at the
/// first arrival whose size reaches `base + k + 1`.
fn latencies(sent: &[Instant], arrivals: &[(Instant, u64)], base: u64) -> Vec<Duration> {
    let mut out = Vec::with_capacity(sent.len());
    for &(at, size) in arrivals {
        let arrived = usize::try_from(size.saturating_sub(base)).unwrap_or(usize::MAX);
        while out.len() < arrived.min(sent.len()) {
            out.push(at.saturating_duration_since(sent[out.len()]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keystroke_counts_at_the_first_write_that_holds_it() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let sent = [ms(0), ms(10), ms(20)];
        // Keystrokes 0 and 1 land together at 15 ms, 2 at 40 ms; a
        // repeated size adds nothing.
        let arrivals = [(ms(15), 102), (ms(30), 102), (ms(40), 103)];
        assert_eq!(
            latencies(&sent, &arrivals, 100),
            [
                Duration::from_millis(15),
                Duration::from_millis(5),
                Duration::from_millis(20)
            ]
        );
        // Nothing past what was typed, nothing before the base.
        assert_eq!(latencies(&sent[..1], &arrivals, 100).len(), 1);
        assert!(latencies(&sent, &[(ms(5), 90)], 100).is_empty());
    }
}
