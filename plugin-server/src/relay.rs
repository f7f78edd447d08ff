//! A connection's task, polled so that the wake-ups it gives itself cost
//! nothing.
//!
//! hyper's server wakes the connection's own task while that task is running:
//! a handler reading the request body asks hyper for more, and hyper's
//! "want" signal wakes the connection's waker, which is the same task. Tokio
//! reschedules a task woken during its own poll behind the others and wakes
//! an idle worker thread to take it. On every request that is a futile
//! wake-up of another thread (a futex call) and often a move of the
//! connection to that thread, which made a call through an idle plugin two
//! to five times as slow on two workers as on one. [`Relayed`] polls the
//! connection with a waker of its own: a wake-up that comes while the
//! connection is being polled is noted, and the connection is polled again
//! at once, in the same poll of the task.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::task::AtomicWaker;

/// How many times one poll of the task polls the future again for wake-ups
/// that came during it. Bounded: once tokio's cooperative budget is spent,
/// every resource answers Pending and wakes the task at once, and only the
/// scheduler gives a new budget.
const REPOLLS: usize = 4;

/// Forwards wake-ups to the task, except those that come while the task is
/// polling the future, which it takes itself.
#[derive(Default)]
struct Relay {
    task: AtomicWaker,
    /// The future is being polled right now ...
    busy: AtomicBool,
    /// ... and was woken meanwhile.
    missed: AtomicBool,
}

impl Wake for Relay {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.busy.load(Ordering::Acquire) {
            self.missed.store(true, Ordering::Release);
        } else {
            self.task.wake();
        }
    }
}

/// `future`, polled again within the same poll when it wakes itself.
pub(crate) struct Relayed<F> {
    future: Pin<Box<F>>,
    relay: Arc<Relay>,
    waker: Waker,
}

impl<F: Future> Relayed<F> {
    pub(crate) fn new(future: F) -> Self {
        let relay = Arc::new(Relay::default());
        Self {
            future: Box::pin(future),
            waker: Waker::from(Arc::clone(&relay)),
            relay,
        }
    }
}

impl<F: Future> Future for Relayed<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // `Relayed` is `Unpin`: the future is boxed.
        let this = self.get_mut();
        this.relay.task.register(cx.waker());
        let mut relayed = Context::from_waker(&this.waker);
        for _ in 0..REPOLLS {
            this.relay.busy.store(true, Ordering::Release);
            let polled = this.future.as_mut().poll(&mut relayed);
            this.relay.busy.store(false, Ordering::Release);
            if polled.is_ready() {
                return polled;
            }
            // A wake-up after `busy` was cleared went to the task itself.
            if !this.relay.missed.swap(false, Ordering::AcqRel) {
                return Poll::Pending;
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

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
        assert_eq!(task.0.load(Ordering::SeqCst), 0, "the task was never woken");
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
        assert_eq!(task.0.load(Ordering::SeqCst), 1, "woken once, to run again");
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
