//! The password-hashing pool: a few dedicated threads, at a lower OS priority than the HTTP
//! workers, behind a bounded queue.
//!
//! Every operation that runs bcrypt (login, registration, password changes, current-password
//! checks, dummy verifies) runs whole on this pool, so store calls for other routes (on tokio's
//! blocking pool) never wait behind hashes, and request handling wins the CPU. When the queue
//! is full the operation is refused at once ([`AuthError::Overloaded`]) instead of queueing for
//! seconds: load shedding.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
        mpsc::{Sender, channel},
    },
    thread,
};

use tokio::sync::oneshot;

use crate::error::AuthError;

type Job = Box<dyn FnOnce() + Send>;

/// Size of the hashing pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashPoolConfig {
    /// Threads that run bcrypt.
    pub threads: usize,
    /// Operations that may wait for a busy thread; beyond them, new ones are refused.
    pub max_queued: usize,
}

impl Default for HashPoolConfig {
    /// One thread per core, and 512 waiting operations (at cost 12, about a minute of work on
    /// two cores: ordinary bursts are never refused).
    fn default() -> Self {
        Self {
            threads: thread::available_parallelism().map_or(2, usize::from),
            max_queued: 512,
        }
    }
}

/// The pool. Dropping the last handle lets its threads finish the queue and end.
pub(crate) struct HashPool {
    sender: Sender<Job>,
    // Operations submitted and not yet finished (running or waiting).
    in_flight: Arc<AtomicUsize>,
    threads: usize,
    capacity: usize,
}

// The niceness of the hashing threads: a crossplatform priority of 23 of 99 is nice 9 on
// Linux, so that HTTP workers (nice 0) get about nine times their share of the CPU.
const HASH_THREAD_PRIORITY: u8 = 23;

impl HashPool {
    pub(crate) fn new(config: HashPoolConfig) -> Result<Self, AuthError> {
        let (sender, receiver) = channel::<Job>();
        let receiver = Arc::new(std::sync::Mutex::new(receiver));
        let threads = config.threads.max(1);
        for n in 0..threads {
            let receiver = Arc::clone(&receiver);
            thread::Builder::new()
                .name(format!("auth-hash-{n}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        // Hold the receiver only to take one job.
                        let job = match receiver.lock() {
                            Ok(receiver) => receiver.recv(),
                            Err(poisoned) => poisoned.into_inner().recv(),
                        };
                        let Ok(job) = job else { return };
                        job();
                    }
                })
                .map_err(AuthError::internal)?;
        }
        Ok(Self {
            sender,
            in_flight: Arc::new(AtomicUsize::new(0)),
            threads,
            capacity: threads + config.max_queued,
        })
    }

    /// Operations waiting for a thread (about: those running are not counted).
    pub(crate) fn queued(&self) -> usize {
        self.in_flight
            .load(Ordering::Acquire)
            .saturating_sub(self.threads)
    }

    /// Runs `work` on the pool. It is queued at once (not when the future is first polled);
    /// [`AuthError::Overloaded`] at once when the queue is full.
    pub(crate) fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = Result<T, AuthError>> + Send + 'static {
        let (done, result) = oneshot::channel();
        let in_flight = Arc::clone(&self.in_flight);
        let job: Job = Box::new(move || {
            let outcome = work();
            // Free the place before answering, so that the caller's next request finds it.
            in_flight.fetch_sub(1, Ordering::AcqRel);
            let _ = done.send(outcome);
        });
        let submitted = if self.in_flight.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            Err(AuthError::Overloaded { retry_after: 1 })
        } else if self.sender.send(job).is_err() {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            Err(AuthError::internal("the hashing pool has stopped"))
        } else {
            Ok(result)
        };
        async move {
            submitted?
                .await
                .map_err(|_| AuthError::internal("a hashing job panicked"))
        }
    }
}

fn lower_priority() {
    use thread_priority::{ThreadPriority, ThreadPriorityValue, set_current_thread_priority};
    let Ok(value) = ThreadPriorityValue::try_from(HASH_THREAD_PRIORITY) else {
        return;
    };
    if let Err(e) = set_current_thread_priority(ThreadPriority::Crossplatform(value)) {
        tracing::warn!(error = ?e, "cannot lower the priority of a hashing thread");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_queue_refuses_at_once_and_the_pool_goes_on() {
        let pool = HashPool::new(HashPoolConfig {
            threads: 1,
            max_queued: 1,
        })
        .unwrap();
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (started, running) = std::sync::mpsc::channel::<()>();
        // One job holds the thread, one waits in the queue, the third is refused.
        let busy = pool.run(move || {
            started.send(()).unwrap();
            wait.recv().unwrap();
            1
        });
        running.recv().unwrap();
        let queued = pool.run(|| 2);
        assert_eq!(pool.queued(), 1);
        assert!(matches!(
            pool.run(|| 3).await,
            Err(AuthError::Overloaded { retry_after: 1 })
        ));
        release.send(()).unwrap();
        assert_eq!(busy.await.unwrap(), 1);
        assert_eq!(queued.await.unwrap(), 2);
        assert_eq!(pool.run(|| 4).await.unwrap(), 4);
    }
}
