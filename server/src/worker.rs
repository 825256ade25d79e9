//! One thread per store (database connection) running its blocking calls,
//! so the async executor never waits on the database, and **group commit
//! across projects**: the ordering steps of every project queued while the
//! previous transaction ran are committed together
//! ([`Store::order_many`]), so many projects' edits share one WAL flush.

use std::sync::mpsc;

use tokio::sync::oneshot;

use super::store::{Job, StorageError, Store};

/// Steps committed in one transaction at most.
const MAX_JOBS: usize = 256;

/// A blocking call to run on the store's thread.
type Call = Box<dyn FnOnce(&mut dyn Store) + Send>;

enum Request {
    Order(Box<dyn Job>),
    Call(Call),
}

/// A handle on a store's thread; cloning it is cheap. The thread (and the
/// store) ends once every handle is dropped.
#[derive(Clone)]
pub struct StoreHandle {
    tx: mpsc::Sender<Request>,
}

impl std::fmt::Debug for StoreHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreHandle").finish_non_exhaustive()
    }
}

impl StoreHandle {
    /// Moves `store` onto a thread of its own.
    ///
    /// # Errors
    /// When the thread cannot be spawned.
    pub fn spawn(store: impl Store, name: &str) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || serve(store, &rx))?;
        Ok(Self { tx })
    }

    /// Runs `f` on the store's thread and returns its result.
    ///
    /// # Errors
    /// `f`'s error, or [`StorageError::Worker`] when the thread is gone.
    pub async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Store) -> Result<T, StorageError> + Send + 'static,
    ) -> Result<T, StorageError> {
        let (reply, answer) = oneshot::channel();
        let request = Request::Call(Box::new(move |store: &mut dyn Store| {
            let _ = reply.send(f(store));
        }));
        self.tx
            .send(request)
            .map_err(|_| StorageError::Worker("store thread gone".to_owned()))?;
        answer
            .await
            .map_err(|_| StorageError::Worker("store thread gone".to_owned()))?
    }

    /// Queues an ordering step; the job hears its result through
    /// [`Job::finish`]. False when the thread is gone (the job is dropped
    /// unfinished).
    pub fn order(&self, job: Box<dyn Job>) -> bool {
        self.tx.send(Request::Order(job)).is_ok()
    }
}

fn serve(mut store: impl Store, rx: &mpsc::Receiver<Request>) {
    while let Ok(first) = rx.recv() {
        let mut jobs = Vec::new();
        let mut next = Some(first);
        while let Some(request) = next.take() {
            match request {
                Request::Order(job) => jobs.push(job),
                Request::Call(call) => call(&mut store),
            }
            if jobs.len() < MAX_JOBS {
                next = rx.try_recv().ok();
            }
        }
        if !jobs.is_empty() {
            store.order_many(jobs);
        }
    }
}
