//! Group commit: many requests' writes, one round trip.
//!
//! At a school's 8 o'clock peak every exchange writes twice — its scan counters and then its
//! session with the audit row — and answers only once the writes are committed. One commit per
//! write makes the database the bottleneck: SQLite has a single writer and every statement is a
//! round trip to its worker thread; PostgreSQL pays a round trip and a WAL flush per commit. So
//! concurrent writes of one kind queue in a [`Group`] and are written together, in one
//! transaction and one round trip, and each request gets its own answer when its group is
//! committed.
//!
//! There is no timer: at low load a group is one request and nothing waits; under load a group
//! is whatever queued while the previous group was being written. The writer is a task that
//! exists only while there is work — the request that finds nobody writing starts it on the
//! current runtime — so the portal and tests that call [`crate::app`] without [`crate::serve`]
//! need no setup.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// How many groups may be written at once: one on SQLite (it has a single writer), a few on
/// PostgreSQL — enough to keep its commits overlapping, few enough that the groups stay large
/// under load.
pub fn writers_for(kind: crate::db::DbKind) -> usize {
    match kind {
        crate::db::DbKind::Sqlite => 1,
        crate::db::DbKind::Postgres => 4,
    }
}

/// One kind of grouped write.
pub trait GroupWork: Send + Sync + 'static {
    /// A queued request, with whatever it needs to receive its answer.
    type Job: Send + 'static;
    /// The most jobs in one group.
    const MAX: usize;
    /// Whether `next` may join `group` (the group is written in queue order either way).
    fn fits(group: &[Self::Job], next: &Self::Job) -> bool;
    /// Writes the group and answers every job in it.
    fn write(&self, group: Vec<Self::Job>) -> impl Future<Output = ()> + Send;
}

/// A queue of jobs and the writer that drains it in groups. Cheap to share (one `Arc`).
pub struct Group<W: GroupWork> {
    shared: Arc<Shared<W>>,
}

impl<W: GroupWork> std::fmt::Debug for Group<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("queued", &self.shared.lock().len())
            .field("writers", &self.shared.running.load(Ordering::Relaxed))
            .finish()
    }
}

struct Shared<W: GroupWork> {
    work: W,
    queue: Mutex<VecDeque<W::Job>>,
    /// How many writer tasks run, and how many may.
    running: AtomicUsize,
    writers: usize,
    groups: AtomicU64,
    jobs: AtomicU64,
}

/// How many groups were written and how many jobs they held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupStats {
    pub groups: u64,
    pub jobs: u64,
}

impl<W: GroupWork> Group<W> {
    /// A group that writes up to `writers` groups at once ([`writers_for`]).
    pub fn new(writers: usize, work: W) -> Group<W> {
        Group {
            shared: Arc::new(Shared {
                work,
                writers: writers.max(1),
                queue: Mutex::new(VecDeque::new()),
                running: AtomicUsize::new(0),
                groups: AtomicU64::new(0),
                jobs: AtomicU64::new(0),
            }),
        }
    }

    pub fn stats(&self) -> GroupStats {
        GroupStats {
            groups: self.shared.groups.load(Ordering::Relaxed),
            jobs: self.shared.jobs.load(Ordering::Relaxed),
        }
    }

    /// Queues a job; a writer takes it with the next group. The job's own channel answers.
    pub fn push(&self, job: W::Job) {
        self.shared.lock().push_back(job);
        Shared::kick(&self.shared);
    }

    /// Queues the job `make` builds around its reply channel and waits for the answer; a writer
    /// that ends without answering (it panicked, or its runtime stopped) is an error.
    pub async fn ask<T>(
        &self,
        make: impl FnOnce(tokio::sync::oneshot::Sender<Result<T, sqlx::Error>>) -> W::Job,
    ) -> Result<T, sqlx::Error> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.push(make(reply));
        answer.await.unwrap_or(Err(sqlx::Error::WorkerCrashed))
    }
}

/// A writer's place in the count of running writers. A writer that finds the queue empty
/// gives it back itself ([`Running::release`]); if its task ends another way, dropping this
/// gives it back. After a panic in `write` the queued jobs go to a new writer; when the
/// runtime stops (the task is dropped unpolled, or mid-write) nothing new is spawned.
struct Running<W: GroupWork> {
    shared: Arc<Shared<W>>,
    held: bool,
}

impl<W: GroupWork> Running<W> {
    fn release(&mut self) {
        if std::mem::take(&mut self.held) {
            self.shared.running.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl<W: GroupWork> Drop for Running<W> {
    fn drop(&mut self) {
        let held = self.held;
        self.release();
        if held
            && std::thread::panicking()
            && !self.shared.lock().is_empty()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            Shared::kick(&self.shared);
        }
    }
}

impl<W: GroupWork> Shared<W> {
    fn lock(&self) -> MutexGuard<'_, VecDeque<W::Job>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a writer's place if fewer than `writers` run.
    fn claim(&self) -> bool {
        let most = self.writers;
        self.running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < most).then_some(n + 1)
            })
            .is_ok()
    }

    /// Starts a writer task unless as many run as may.
    fn kick(shared: &Arc<Self>) {
        if !shared.claim() {
            return;
        }
        let mut running = Running {
            shared: shared.clone(),
            held: true,
        };
        tokio::spawn(async move {
            let shared = running.shared.clone();
            loop {
                let group = shared.take();
                if !group.is_empty() {
                    shared.groups.fetch_add(1, Ordering::Relaxed);
                    shared.jobs.fetch_add(group.len() as u64, Ordering::Relaxed);
                    shared.work.write(group).await;
                    continue;
                }
                // Nothing queued: stop. A job queued after `take` whose `kick` still counted
                // this writer is seen here, after the place is given back, and taken on.
                running.release();
                if shared.lock().is_empty() || !shared.claim() {
                    return;
                }
                running.held = true;
            }
        });
    }

    /// The next group: queued jobs in order, up to `W::MAX`, stopping at the first that does
    /// not fit.
    fn take(&self) -> Vec<W::Job> {
        let mut queue = self.lock();
        let mut group = Vec::new();
        while group.len() < W::MAX {
            match queue.front() {
                Some(next) if group.is_empty() || W::fits(&group, next) => {
                    group.extend(queue.pop_front());
                }
                _ => break,
            }
        }
        group
    }
}

/// A group's one database error as an answer for each of its jobs: the error itself first, then
/// its message (`sqlx::Error` cannot be cloned).
pub fn fan_out(e: sqlx::Error) -> impl Iterator<Item = sqlx::Error> {
    let msg = e.to_string();
    let mut first = Some(e);
    std::iter::repeat_with(move || {
        first
            .take()
            .unwrap_or_else(|| sqlx::Error::Protocol(msg.clone()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use tokio::sync::{Notify, oneshot};

    /// Jobs are numbers; a group may not hold the same number twice. The first group waits
    /// until the test lets it go, so the others queue meanwhile.
    struct Recorder {
        groups: Mutex<Vec<Vec<u32>>>,
        gate: Notify,
        written: AtomicUsize,
    }

    impl Recorder {
        /// With `gated`, the first group waits until the test notifies `gate`.
        fn new(gated: bool) -> Arc<Recorder> {
            Arc::new(Recorder {
                groups: Mutex::new(Vec::new()),
                gate: Notify::new(),
                written: AtomicUsize::new(if gated { 0 } else { 1 }),
            })
        }
    }

    impl GroupWork for Arc<Recorder> {
        type Job = (u32, oneshot::Sender<usize>);
        const MAX: usize = 3;
        fn fits(group: &[Self::Job], next: &Self::Job) -> bool {
            group.iter().all(|(n, _)| *n != next.0)
        }
        async fn write(&self, group: Vec<Self::Job>) {
            let first = self.written.fetch_add(1, Ordering::SeqCst) == 0;
            if first {
                self.gate.notified().await;
            }
            let index = {
                let mut g = self.groups.lock().unwrap();
                g.push(group.iter().map(|(n, _)| *n).collect());
                g.len() - 1
            };
            for (_, reply) in group {
                let _ = reply.send(index);
            }
        }
    }

    #[tokio::test]
    async fn jobs_queued_while_a_group_is_written_form_the_next_groups() {
        let rec = Recorder::new(true);
        let group = Group::new(1, rec.clone());
        let mut answers = Vec::new();
        for n in [1, 2, 3, 4, 2, 5, 6, 7] {
            let (tx, rx) = oneshot::channel();
            group.push((n, tx));
            answers.push(rx);
            tokio::task::yield_now().await;
        }
        rec.gate.notify_one();
        let mut indexes = Vec::new();
        for rx in answers {
            indexes.push(rx.await.expect("every job is answered"));
        }
        let groups = rec.groups.lock().unwrap().clone();
        assert_eq!(
            groups[0],
            vec![1],
            "the first job is written at once, alone"
        );
        assert_eq!(
            groups[1],
            vec![2, 3, 4],
            "the next ones together, up to MAX"
        );
        assert_eq!(
            groups[2],
            vec![2, 5, 6],
            "a repeated job waits for the next group"
        );
        assert_eq!(groups[3], vec![7]);
        assert_eq!(indexes, vec![0, 1, 1, 1, 2, 2, 2, 3]);
    }

    #[tokio::test]
    async fn a_writer_starts_again_after_the_queue_ran_dry() {
        let rec = Recorder::new(false);
        let group = Group::new(1, rec.clone());
        for n in 0..20 {
            let (tx, rx) = oneshot::channel();
            group.push((n, tx));
            rx.await.expect("answered");
        }
        assert_eq!(rec.groups.lock().unwrap().len(), 20);
    }

    /// The first group waits for the gate and then panics.
    struct Panicky {
        gate: Notify,
        calls: AtomicUsize,
    }

    impl GroupWork for Arc<Panicky> {
        type Job = (u32, oneshot::Sender<u32>);
        const MAX: usize = 1;
        fn fits(_: &[Self::Job], _: &Self::Job) -> bool {
            false
        }
        async fn write(&self, group: Vec<Self::Job>) {
            if self.calls.fetch_add(1, Ordering::SeqCst) == 0 {
                self.gate.notified().await;
                panic!("the first write fails");
            }
            for (n, reply) in group {
                let _ = reply.send(n);
            }
        }
    }

    #[tokio::test]
    async fn a_writer_that_panics_hands_the_queue_to_a_new_writer() {
        let work = Arc::new(Panicky {
            gate: Notify::new(),
            calls: AtomicUsize::new(0),
        });
        let group = Group::new(1, work.clone());
        let (tx1, rx1) = oneshot::channel();
        group.push((1, tx1));
        tokio::task::yield_now().await;
        let (tx2, rx2) = oneshot::channel();
        group.push((2, tx2));
        work.gate.notify_one();
        assert!(
            rx1.await.is_err(),
            "the job of the panicked write is not answered"
        );
        let answer = tokio::time::timeout(std::time::Duration::from_secs(30), rx2).await;
        assert_eq!(
            answer
                .expect("answered in time")
                .expect("a new writer takes the queued job"),
            2
        );
        let (tx3, rx3) = oneshot::channel();
        group.push((3, tx3));
        assert_eq!(rx3.await.expect("writers keep starting"), 3);
    }
}
