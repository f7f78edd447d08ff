//! Poll a future so that the wake-ups it gives itself while it is being
//! polled cost nothing.
//!
//! hyper's connections wake their own task while that task runs: on the
//! server, a handler reading the request body asks hyper for more and hyper's
//! "want" signal wakes the connection's waker; on the client, the connection,
//! the answer and its body wake one another as they hand data over. Tokio
//! reschedules a task woken during its own poll behind the others and wakes an
//! idle worker thread to take it: on every request, a futile wake-up of
//! another thread (a futex call) and often a move of the task to that thread.
//!
//! A [`Relay`] polls with a waker of its own instead. A wake-up that comes
//! while the poll runs is noted, and the future is polled again at once, in
//! the same poll of the task (up to four times: once tokio's cooperative
//! budget is spent, every resource answers `Pending` and wakes the task at
//! once, and only the scheduler gives a new budget). A wake-up that comes
//! after the poll goes to the task, as usual. [`Relayed`] is the same for one
//! whole future.
//!
//! ```
//! use plugin_relay::Relayed;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let (sender, receiver) = tokio::sync::oneshot::channel();
//! let answer = tokio::spawn(Relayed::new(receiver));
//! sender.send(7).unwrap();
//! assert_eq!(answer.await.unwrap(), Ok(7));
//! # }
//! ```
//!
//! This is the one home of the relay that both sides of the wire use:
//! `plugin-server` around each connection's task, `plugin-transport` around
//! each pooled connection a call drives. It has no dependencies.

#![cfg_attr(
    not(test),
    warn(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::print_stdout,
        clippy::print_stderr
    )
)]

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

/// How many times one poll of the task polls again for wake-ups that came
/// during it.
const REPOLLS: usize = 4;

/// `State::flags`: the future is being polled right now ...
const BUSY: u8 = 1;
/// ... and was woken meanwhile.
const MISSED: u8 = 2;

/// Polls with a waker of its own, taking the wake-ups that come during the
/// poll by polling again. Keep one per thing polled (a connection, say): its
/// waker is made once, here.
///
/// ```
/// use std::task::Poll;
/// use plugin_relay::Relay;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let relay = Relay::new();
/// let (sender, mut receiver) = tokio::sync::oneshot::channel();
/// sender.send(7).unwrap();
/// let answer = std::future::poll_fn(|cx| relay.poll(cx, |cx| std::pin::Pin::new(&mut receiver).poll(cx))).await;
/// assert_eq!(answer, Ok(7));
/// # }
/// # use std::future::Future;
/// ```
pub struct Relay {
    state: Arc<State>,
    /// The waker `poll` lends its closure: it wakes `state`'s task.
    waker: Waker,
}

/// What the relay's waker and its poller share.
struct State {
    /// [`BUSY`] and [`MISSED`], changed in one atomic step each, so that a
    /// wake-up either finds the poll running (and is taken by it) or finds it
    /// over (and wakes the task): never neither.
    flags: AtomicU8,
    /// The task the wake-ups after a poll go to: the one that polled last.
    task: Mutex<Option<Waker>>,
}

impl Wake for State {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.flags.fetch_or(MISSED, Ordering::AcqRel) & BUSY == 0 {
            // Woken under the lock: a waker that is this relay's own would
            // be the only way back here, and the relay never registers it.
            if let Some(task) = &*self.task.lock().unwrap_or_else(PoisonError::into_inner) {
                task.wake_by_ref();
            }
        }
    }
}

impl Relay {
    /// A relay with no task yet.
    pub fn new() -> Self {
        let state = Arc::new(State {
            flags: AtomicU8::new(0),
            task: Mutex::new(None),
        });
        Self {
            waker: Waker::from(Arc::clone(&state)),
            state,
        }
    }

    /// Polls `poll` with the relay's waker, and again, within this call,
    /// while it was woken during the poll (at most four times, then `cx` is
    /// woken to be polled again by the scheduler). Wake-ups that come after
    /// the call go to `cx`'s task.
    pub fn poll<T>(
        &self,
        cx: &mut Context<'_>,
        mut poll: impl FnMut(&mut Context<'_>) -> Poll<T>,
    ) -> Poll<T> {
        self.register(cx.waker());
        let mut relayed = Context::from_waker(&self.waker);
        for _ in 0..REPOLLS {
            // A wake-up before this point woke the task; forget it.
            self.state.flags.store(BUSY, Ordering::Release);
            let polled = poll(&mut relayed);
            let flags = self.state.flags.swap(0, Ordering::AcqRel);
            if polled.is_ready() {
                return polled;
            }
            // A wake-up after the swap goes to the task itself.
            if flags & MISSED == 0 {
                return Poll::Pending;
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Forgets the task: wake-ups reach no task until the next
    /// [`poll`](Self::poll) (a connection idle in a pool has nobody to wake).
    pub fn forget_task(&self) {
        let task = self
            .state
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        // Dropped outside the lock.
        drop(task);
    }

    fn register(&self, waker: &Waker) {
        let mut task = self
            .state
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match &mut *task {
            Some(task) if task.will_wake(waker) => {}
            slot => *slot = Some(waker.clone()),
        }
    }
}

impl Default for Relay {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Relay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relay").finish_non_exhaustive()
    }
}

/// `future`, polled through a [`Relay`]: polled again within the same poll
/// of the task when it wakes itself.
pub struct Relayed<F> {
    // Boxed, so that `Relayed` is `Unpin` without unsafe code.
    future: Pin<Box<F>>,
    relay: Relay,
}

impl<F: Future> Relayed<F> {
    /// Wraps `future`.
    pub fn new(future: F) -> Self {
        Self {
            future: Box::pin(future),
            relay: Relay::new(),
        }
    }
}

impl<F: Future> Future for Relayed<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let future = &mut this.future;
        this.relay.poll(cx, |cx| future.as_mut().poll(cx))
    }
}

impl<F> fmt::Debug for Relayed<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relayed").finish_non_exhaustive()
    }
}

#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Counts the wake-ups the task receives.
    #[derive(Default)]
    struct Task(AtomicUsize);

    impl Wake for Task {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl Task {
        fn woken(&self) -> usize {
            self.0.load(Ordering::SeqCst)
        }
    }

    /// Wakes itself during each of its first `times` polls, then is ready
    /// with the number of polls it took.
    struct SelfWaking {
        times: usize,
        polls: usize,
    }

    impl Future for SelfWaking {
        type Output = usize;

        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
            self.polls += 1;
            if self.polls > self.times {
                return Poll::Ready(self.polls);
            }
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    #[test]
    fn wake_ups_during_the_poll_are_taken_by_polling_again() {
        let task = Arc::new(Task::default());
        let waker = Waker::from(Arc::clone(&task));
        let mut future = Relayed::new(SelfWaking { times: 3, polls: 0 });
        let polled = Pin::new(&mut future).poll(&mut Context::from_waker(&waker));
        assert_eq!(polled, Poll::Ready(4));
        assert_eq!(task.woken(), 0, "the task was never woken");
    }

    #[test]
    fn a_future_that_always_wakes_itself_yields_to_the_scheduler() {
        let task = Arc::new(Task::default());
        let waker = Waker::from(Arc::clone(&task));
        let mut future = Relayed::new(SelfWaking {
            times: usize::MAX,
            polls: 0,
        });
        let polled = Pin::new(&mut future).poll(&mut Context::from_waker(&waker));
        assert_eq!(polled, Poll::Pending);
        assert_eq!(future.future.polls, REPOLLS);
        assert_eq!(task.woken(), 1, "woken once, to run again");
    }

    #[test]
    fn a_wake_up_after_the_poll_reaches_the_last_task_that_polled() {
        let relay = Relay::new();
        let (first, second) = (Arc::new(Task::default()), Arc::new(Task::default()));
        let mut lent = None;
        for task in [&first, &second] {
            let waker = Waker::from(Arc::clone(task));
            let polled = relay.poll(&mut Context::from_waker(&waker), |cx| {
                lent = Some(cx.waker().clone());
                Poll::<()>::Pending
            });
            assert_eq!(polled, Poll::Pending);
        }
        lent.expect("the closure ran").wake();
        assert_eq!((first.woken(), second.woken()), (0, 1));
    }

    #[test]
    fn a_forgotten_task_is_not_woken() {
        let relay = Relay::new();
        let task = Arc::new(Task::default());
        let waker = Waker::from(Arc::clone(&task));
        let mut lent = None;
        let _ = relay.poll(&mut Context::from_waker(&waker), |cx| {
            lent = Some(cx.waker().clone());
            Poll::<()>::Pending
        });
        relay.forget_task();
        lent.expect("the closure ran").wake();
        assert_eq!(task.woken(), 0);
    }

    #[tokio::test]
    async fn wake_ups_after_the_poll_reach_the_task() {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let waiting = tokio::spawn(Relayed::new(receiver));
        tokio::task::yield_now().await;
        sender.send(7).unwrap();
        let answered = tokio::time::timeout(std::time::Duration::from_secs(10), waiting).await;
        assert_eq!(
            answered.expect("the wake-up reached the task").unwrap(),
            Ok(7)
        );
    }
}
