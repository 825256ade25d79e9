//! Group commit across projects: every project task hands its new events to
//! one committer thread, which writes everything queued meanwhile in one
//! transaction (one fsync) and then answers each task. With a thousand
//! projects typing at once, the ops log costs one fsync per batch of all of
//! them, not one per project.

use std::sync::{Arc, mpsc};
use std::thread;

use tokio::sync::oneshot;
use uuid::Uuid;
use velocity_sync::protocol::Event;

use super::project::SharedStore;
use super::store::StorageError;

/// One project's events waiting to be committed.
struct Request {
    project: Uuid,
    events: Vec<Event>,
    done: oneshot::Sender<Result<(), Arc<StorageError>>>,
}

/// The handle project tasks commit through; cheap to clone. The thread
/// ends when the last handle is dropped.
#[derive(Debug, Clone)]
pub struct Committer {
    tx: mpsc::Sender<Request>,
}

/// Most requests written in one transaction.
const MAX_GROUP: usize = 4096;

impl Committer {
    /// Starts the committer thread over `store`.
    ///
    /// # Errors
    /// When the thread cannot be spawned.
    pub fn start(store: SharedStore) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<Request>();
        thread::Builder::new()
            .name("velocity-sync-commit".into())
            .spawn(move || {
                while let Ok(first) = rx.recv() {
                    let mut group = vec![first];
                    while group.len() < MAX_GROUP {
                        match rx.try_recv() {
                            Ok(request) => group.push(request),
                            Err(_) => break,
                        }
                    }
                    let result = write(&store, &group).map_err(Arc::new);
                    tracing::trace!(requests = group.len(), "group committed");
                    for request in group {
                        let _ = request.done.send(result.clone());
                    }
                }
            })?;
        Ok(Self { tx })
    }

    /// Commits `events` of `project`; returns once they are durable.
    ///
    /// # Errors
    /// The store's error (shared by every request of the failed group), or
    /// [`StorageError::Stopped`] when the committer is gone.
    pub async fn append(&self, project: Uuid, events: Vec<Event>) -> Result<(), Arc<StorageError>> {
        let (done, answer) = oneshot::channel();
        self.tx
            .send(Request {
                project,
                events,
                done,
            })
            .map_err(|_| Arc::new(StorageError::Stopped))?;
        answer.await.map_err(|_| Arc::new(StorageError::Stopped))?
    }
}

fn write(store: &SharedStore, group: &[Request]) -> Result<(), StorageError> {
    let batch: Vec<(Uuid, &[Event])> = group
        .iter()
        .map(|request| (request.project, request.events.as_slice()))
        .collect();
    let mut store = store.lock().map_err(|_| StorageError::Stopped)?;
    store.append_many(&batch)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Mutex;

    use velocity_sync::protocol::EventChange;
    use velocity_sync::{FileId, ManifestLimits, TextOp};

    use super::*;
    use crate::server::store::{SqliteStore, Store};

    fn text_event(n: u64) -> Event {
        Event {
            n,
            client: Some(1),
            seq: Some(n),
            change: EventChange::Text {
                id: FileId::derive("commit-test", b"a.txt"),
                rev: n,
                op: TextOp::from_splice(0, 0, 0, "x").unwrap(),
            },
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_projects_are_all_durable() {
        let dir = std::env::temp_dir().join(format!("vs-commit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("sync.db");
        let store: SharedStore = Arc::new(Mutex::new(SqliteStore::open(&db, Uuid::nil()).unwrap()));
        let committer = Committer::start(Arc::clone(&store)).unwrap();
        let projects: Vec<Uuid> = (0..40u128).map(Uuid::from_u128).collect();
        let mut tasks = tokio::task::JoinSet::new();
        for project in projects.clone() {
            let committer = committer.clone();
            tasks.spawn(async move {
                for n in 1..=5 {
                    committer
                        .append(project, vec![text_event(n)])
                        .await
                        .unwrap();
                }
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
        drop(committer);
        drop(store);
        // A fresh connection sees every event of every project, in order.
        let mut reopened = SqliteStore::open(&db, Uuid::nil()).unwrap();
        for project in projects {
            let loaded = reopened.load(project, ManifestLimits::default()).unwrap();
            let numbers: Vec<u64> = loaded.events.iter().map(|e| e.n).collect();
            assert_eq!(numbers, vec![1, 2, 3, 4, 5], "{project}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
