//! [`Outbox`]: the [`Mailer`] the service sends through. A bounded queue in front of a thread
//! of its own that delivers, with retries and exponential backoff, so that sending never
//! blocks or fails a request.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    thread::JoinHandle,
    time::Duration,
};

use auth_core::{MailKind, Mailer, Message};
use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot},
    task::JoinSet,
};

use super::{
    MailCounter, MailOutcome,
    transport::{Connected, Delivered, Transport},
};

/// How the outbox queues and retries. [`DeliveryConfig::default`] is what the server uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeliveryConfig {
    /// Messages that may wait for delivery; a message beyond them is dropped (and counted).
    pub capacity: usize,
    /// Messages delivered at the same time.
    pub concurrency: usize,
    /// Attempts at one message before it counts as failed (a permanent refusal: one).
    pub max_attempts: u32,
    /// The wait before the second attempt; it doubles with each further one...
    pub first_retry: Duration,
    /// ...up to this.
    pub max_retry: Duration,
    /// At shutdown, how long what is queued or being retried may still take.
    pub drain_timeout: Duration,
}

impl Default for DeliveryConfig {
    /// 1000 messages queued: messages a request asks for are limited per account
    /// (`mail.min_interval_secs`, `mail.max_per_account_per_hour`), so that holds every burst
    /// a working relay can take, and when the relay is down a longer queue would only grow
    /// memory and send stale links later. 4 at a time; 6 attempts, 2 s apart and doubling (2,
    /// 4, 8, 16, 32 s: about a minute, after which a user has asked again anyway); 10 s to
    /// drain at shutdown.
    fn default() -> Self {
        Self {
            capacity: 1000,
            concurrency: 4,
            max_attempts: 6,
            first_retry: Duration::from_secs(2),
            max_retry: Duration::from_secs(60),
            drain_timeout: Duration::from_secs(10),
        }
    }
}

impl DeliveryConfig {
    /// The wait after failed attempt number `attempt` (1-based).
    fn backoff(&self, attempt: u32) -> Duration {
        let doubled = self
            .first_retry
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)));
        doubled.min(self.max_retry)
    }
}

/// The queue and its delivery thread. [`Mailer::send`] never waits: it queues the message, or,
/// when the queue is full (or delivery has stopped), drops it, logs it and counts it.
pub struct Outbox {
    queue: mpsc::Sender<Message>,
    capacity: usize,
    counter: MailCounter,
    worker: Mutex<Option<Worker>>,
}

struct Worker {
    stop: oneshot::Sender<()>,
    thread: JoinHandle<()>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl Outbox {
    /// Starts the delivery thread (`mail`) for `transport`. It logs with the subscriber of
    /// the caller's thread.
    ///
    /// # Errors
    /// The thread or its runtime cannot be made, or lettre refuses the SMTP URL.
    pub fn start(
        transport: Transport,
        config: DeliveryConfig,
        counter: MailCounter,
    ) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let connected = {
            let _inside = runtime.enter();
            Arc::new(transport.connect().map_err(anyhow::Error::msg)?)
        };
        let (queue, receiver) = mpsc::channel(config.capacity.max(1));
        let (stop, stopped) = oneshot::channel();
        let dispatch = tracing::dispatcher::get_default(Clone::clone);
        let capacity = config.capacity;
        let delivering = counter.clone();
        let thread = std::thread::Builder::new()
            .name("mail".into())
            .spawn(move || {
                let _log = tracing::dispatcher::set_default(&dispatch);
                runtime.block_on(run(receiver, stopped, connected, config, delivering));
            })?;
        Ok(Self {
            queue,
            capacity,
            counter,
            worker: Mutex::new(Some(Worker { stop, thread })),
        })
    }

    /// Stops taking messages, delivers what is queued or being retried for at most the drain
    /// timeout, counts the rest as dropped, and returns when the thread has ended. Blocking;
    /// a second call does nothing.
    pub fn shutdown(&self) {
        let worker = self.worker.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(Worker { stop, thread }) = worker {
            let _ = stop.send(());
            let _ = thread.join();
        }
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Mailer for Outbox {
    fn send(&self, message: Message) {
        let (kind, domain) = (message.kind(), message.recipient_domain().to_owned());
        match self.queue.try_send(message) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.counter.count(kind, MailOutcome::Dropped);
                tracing::warn!(
                    kind = kind.as_str(),
                    domain,
                    capacity = self.capacity,
                    "mail queue full ({} messages): message dropped",
                    self.capacity
                );
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.counter.count(kind, MailOutcome::Dropped);
                tracing::warn!(
                    kind = kind.as_str(),
                    domain,
                    "mail delivery has stopped: message dropped"
                );
            }
        }
    }
}

/// The delivery thread: takes messages while a delivery slot is free, until told to stop;
/// then drains.
async fn run(
    mut queue: mpsc::Receiver<Message>,
    mut stop: oneshot::Receiver<()>,
    connected: Arc<Connected>,
    config: DeliveryConfig,
    counter: MailCounter,
) {
    let config = Arc::new(config);
    let slots = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let abandoned = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    let spawn = |tasks: &mut JoinSet<()>, message: Message, slot: OwnedSemaphorePermit| {
        let pending = Pending {
            kind: message.kind(),
            counter: counter.clone(),
            abandoned: abandoned.clone(),
            settled: false,
        };
        tasks.spawn(deliver(
            message,
            pending,
            slot,
            connected.clone(),
            config.clone(),
        ));
    };
    loop {
        // A slot first, so that messages wait in the bounded queue, not in tasks.
        let slot = tokio::select! {
            _ = &mut stop => break,
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
        };
        let message = tokio::select! {
            _ = &mut stop => break,
            message = queue.recv() => match message {
                Some(message) => message,
                None => break,
            },
        };
        spawn(&mut tasks, message, slot);
        while tasks.try_join_next().is_some() {}
    }
    queue.close();
    let drain = async {
        loop {
            let slot = slots
                .clone()
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            match queue.recv().await {
                Some(message) => spawn(&mut tasks, message, slot),
                None => break,
            }
        }
        while tasks.join_next().await.is_some() {}
    };
    let drained = tokio::time::timeout(config.drain_timeout, drain)
        .await
        .is_ok();
    if !drained {
        // Aborted tasks count their message as dropped (see `Pending`).
        tasks.shutdown().await;
        while let Ok(message) = queue.try_recv() {
            counter.count(message.kind(), MailOutcome::Dropped);
            abandoned.fetch_add(1, Ordering::Relaxed);
        }
    }
    let left = abandoned.load(Ordering::Relaxed);
    if left > 0 {
        tracing::warn!(
            undelivered = left,
            "mail delivery stopped with {left} message(s) undelivered (counted as dropped)"
        );
    }
}

/// A message being delivered: counted once it is settled, or as dropped if its task is
/// aborted first (shutdown).
struct Pending {
    kind: MailKind,
    counter: MailCounter,
    abandoned: Arc<AtomicUsize>,
    settled: bool,
}

impl Pending {
    fn settle(mut self, outcome: MailOutcome) {
        self.counter.count(self.kind, outcome);
        self.settled = true;
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.settled {
            self.counter.count(self.kind, MailOutcome::Dropped);
            self.abandoned.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Delivers one message, retrying with backoff; logs the outcome with the kind and the
/// recipient's domain, never the address, the subject or a body.
async fn deliver(
    message: Message,
    pending: Pending,
    _slot: OwnedSemaphorePermit,
    connected: Arc<Connected>,
    config: Arc<DeliveryConfig>,
) {
    let kind = message.kind().as_str();
    let domain = message.recipient_domain();
    let mut attempt = 1;
    loop {
        let failure = match connected.deliver(&message).await {
            Ok(Delivered::File(path)) => {
                tracing::info!(
                    kind,
                    file = %path.display(),
                    "mail written to {}",
                    path.display()
                );
                return pending.settle(MailOutcome::Sent);
            }
            Ok(Delivered::Smtp) => {
                tracing::info!(kind, domain, attempt, "mail sent");
                return pending.settle(MailOutcome::Sent);
            }
            Err(failure) => failure,
        };
        if failure.permanent || attempt >= config.max_attempts {
            tracing::warn!(
                kind,
                domain,
                attempts = attempt,
                reason = failure.reason,
                "mail not delivered: {}",
                failure.reason
            );
            return pending.settle(MailOutcome::Failed);
        }
        let wait = config.backoff(attempt);
        tracing::warn!(
            kind,
            domain,
            attempt,
            retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            reason = failure.reason,
            "mail delivery failed, retrying in {wait:?}: {}",
            failure.reason
        );
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_ceiling() {
        let config = DeliveryConfig::default();
        let waits: Vec<u64> = (1..=7).map(|a| config.backoff(a).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(config.backoff(u32::MAX), Duration::from_secs(60));
    }
}
