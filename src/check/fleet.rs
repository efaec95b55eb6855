//! Many targets at once, for `check --targets` and `serve`'s rounds, in memory bounded
//! by the concurrency rather than by the number of targets.
//!
//! Targets are pulled from a stream (a targets file is read line by line), at most
//! `concurrency` checks run at once, and each finished check is handed on in input order.
//! Results that finish before an earlier, slower target wait in a reorder window of
//! `window(concurrency)` targets; when the window is full no further check starts until
//! the slow head finishes (back-pressure), so nothing is dropped and nothing piles up.
//! Each check is turned into what its consumer keeps (rendered text, compact metric
//! values) on the worker that ran it, so the window holds that, not whole reports.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;

use super::Settings;
use crate::report::{Report, Status, Summary};
use crate::target::Target;

/// Targets in the reorder window per concurrent check. A target that takes the whole
/// timeout holds back the output behind it; with 32 × concurrency the others go on for
/// about 32 checks' time per slot before they wait for it.
pub const WINDOW_PER_SLOT: usize = 32;

/// The most targets whose results are held at once, for `concurrency`.
pub fn window(concurrency: usize) -> usize {
    concurrency.max(1).saturating_mul(WINDOW_PER_SLOT)
}

/// One entry of a target list.
#[derive(Debug, Clone)]
pub enum Listed {
    Target(Target),
    /// A line that is not a target (found while the list is read lazily): reported as an
    /// UNKNOWN report with this error, in its place.
    Unusable {
        input: String,
        error: String,
    },
}

/// `--shard INDEX/COUNT`: this replica's part of a target list. A target belongs to shard
/// `u64::from_be_bytes(SHA-256(target)[..8]) % COUNT`, over the target as written (without
/// surrounding whitespace): the same split on every replica and every run, whatever the
/// order of the list, and one anyone can recompute (`sha256sum`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// `0/1`: every target.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// `INDEX/COUNT`, with COUNT ≥ 1 and INDEX < COUNT.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let usage = "give INDEX/COUNT, e.g. 0/3 for the first of three replicas";
        let (index, count) = text.split_once('/').ok_or(usage)?;
        let number = |part: &str, what: &str| {
            part.trim()
                .parse::<u64>()
                .map_err(|_| format!("{what} {part:?} is not a whole number; {usage}"))
        };
        let (index, count) = (number(index, "INDEX")?, number(count, "COUNT")?);
        if count == 0 {
            return Err(format!("COUNT must be at least 1; {usage}"));
        }
        if index >= count {
            return Err(format!(
                "INDEX counts from 0 and must be below COUNT ({index} is not below {count}); {usage}"
            ));
        }
        Ok(Shard { index, count })
    }

    /// The shard `target` (as written) falls in, of `count`.
    pub fn number_of(target: &str, count: u64) -> u64 {
        let digest =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, target.trim().as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest.as_ref()[..8]);
        u64::from_be_bytes(first) % count.max(1)
    }

    /// Whether `target` (as written) is this shard's.
    pub fn holds(&self, target: &str) -> bool {
        self.count <= 1 || Shard::number_of(target, self.count) == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Counts of each status; the exit code is the worst one present.
pub fn count(summary: &mut Summary, status: Status) {
    match status {
        Status::Ok => summary.ok += 1,
        Status::Warning => summary.warning += 1,
        Status::Critical => summary.critical += 1,
        Status::Unknown => summary.unknown += 1,
    }
}

/// The exit code of a run with these counts (0 OK … 3 UNKNOWN, the worst present); 0
/// for none (a shard of a short list may hold no target).
pub fn exit_code(summary: &Summary) -> i32 {
    if total(summary) == 0 {
        return Status::Ok.exit_code();
    }
    let statuses = [
        (summary.ok, Status::Ok),
        (summary.warning, Status::Warning),
        (summary.critical, Status::Critical),
        (summary.unknown, Status::Unknown),
    ];
    Status::worst(
        statuses
            .into_iter()
            .filter(|(n, _)| *n > 0)
            .map(|(_, status)| status),
    )
    .exit_code()
}

pub fn total(summary: &Summary) -> usize {
    summary.ok + summary.warning + summary.critical + summary.unknown
}

/// Checks `targets` (at most `concurrency` at once), turns each report into a `T` with
/// `keep(index, report)` on the worker that checked it, and hands the `T`s to `sink` in
/// input order; `progress` ticks as each check finishes. A check that panics becomes that
/// target's UNKNOWN report ("internal error"); the others carry on. Returns the status
/// counts, or the first error of `sink` (e.g. a closed stdout), which stops the run.
pub async fn check_stream<T, K, S>(
    targets: impl futures_util::Stream<Item = Listed>,
    settings: Arc<Settings>,
    concurrency: usize,
    progress: Option<indicatif::ProgressBar>,
    keep: K,
    mut sink: S,
) -> std::io::Result<Summary>
where
    T: Send + 'static,
    K: Fn(usize, Report) -> T + Send + Sync + 'static,
    S: FnMut(T) -> std::io::Result<()>,
{
    let keep = Arc::new(keep);
    let bar = progress.clone();
    let work = move |index: usize, listed: Listed| {
        let settings = settings.clone();
        let keep = keep.clone();
        let progress = progress.clone();
        async move {
            let report = match listed {
                Listed::Target(target) => checked(&target, &settings).await,
                Listed::Unusable { input, error } => Report::failed(input, None, None, error),
            };
            if let Some(progress) = progress {
                progress.inc(1);
            }
            let status = report.status;
            (status, keep(index, report))
        }
    };
    let mut summary = Summary::default();
    let result = ordered(
        targets,
        concurrency,
        window(concurrency),
        work,
        |(status, kept)| {
            count(&mut summary, status);
            sink(kept)
        },
    )
    .await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    result.map(|()| summary)
}

/// Checks every target and returns the reports in input order (for callers that need
/// them all, e.g. tests; fleets use `check_stream`).
pub async fn check_all(
    targets: Vec<Target>,
    settings: Arc<Settings>,
    concurrency: usize,
    progress: Option<indicatif::ProgressBar>,
) -> Vec<Report> {
    let mut reports = Vec::with_capacity(targets.len());
    let _ = check_stream(
        futures_util::stream::iter(targets.into_iter().map(Listed::Target)),
        settings,
        concurrency,
        progress,
        |_, report| report,
        |report| {
            reports.push(report);
            Ok(())
        },
    )
    .await;
    reports
}

/// `check`, with a panic turned into the target's UNKNOWN report.
async fn checked(target: &Target, settings: &Settings) -> Report {
    match AssertUnwindSafe(super::check(target, settings))
        .catch_unwind()
        .await
    {
        Ok(report) => report,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "the check panicked".into());
            Report::failed(
                target.input.clone(),
                Some(target.host.to_string()),
                Some(target.port),
                format!("internal error: {message}"),
            )
        }
    }
}

/// The pipeline: runs `work(index, item)` for each item, at most `concurrency` at once and
/// at most `window` items between the oldest unwritten one and the newest started, and
/// gives each output to `sink` in item order. Items are pulled only as the window
/// allows, and while the oldest item is still running, so a list read from a pipe is
/// read as the run goes and a finished head is written without waiting for the next
/// line. A `sink` error aborts what is in flight and ends the run.
pub async fn ordered<X, T, W, Fut, S>(
    items: impl futures_util::Stream<Item = X>,
    concurrency: usize,
    window: usize,
    work: W,
    mut sink: S,
) -> std::io::Result<()>
where
    W: Fn(usize, X) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
    S: FnMut(T) -> std::io::Result<()>,
{
    use futures_util::StreamExt;

    enum Step<T, X> {
        Finished(Result<T, tokio::task::JoinError>),
        Next(Option<X>),
    }
    let limit = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let window = window.max(1);
    let mut pending: VecDeque<tokio::task::JoinHandle<T>> = VecDeque::new();
    let mut items = std::pin::pin!(items);
    let mut more = true;
    let mut next_index = 0;
    loop {
        let waiting = !pending.is_empty();
        let may_start = more && pending.len() < window;
        let head = async {
            match pending.front_mut() {
                Some(task) => task.await,
                None => std::future::pending().await,
            }
        };
        let step = tokio::select! {
            // Write what is finished before reading further.
            biased;
            finished = head, if waiting => Step::Finished(finished),
            item = items.next(), if may_start => Step::Next(item),
            else => return Ok(()),
        };
        match step {
            Step::Next(Some(item)) => {
                let limit = limit.clone();
                let job = work(next_index, item);
                next_index += 1;
                // The semaphore is fair: checks start in input order.
                pending.push_back(tokio::spawn(async move {
                    let _permit = limit.acquire_owned().await;
                    job.await
                }));
            }
            Step::Next(None) => more = false,
            Step::Finished(finished) => {
                pending.pop_front();
                let written = match finished {
                    Ok(output) => sink(output),
                    Err(e) => Err(std::io::Error::other(format!("internal error: {e}"))),
                };
                if let Err(e) = written {
                    for task in pending {
                        task.abort();
                    }
                    return Err(e);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    /// A slow first item: the output keeps input order and loses nothing, no more than
    /// `window` items are ever started ahead of the one written last, and at most
    /// `concurrency` run at once.
    #[test]
    fn a_slow_head_holds_the_window_and_order_is_kept() {
        let (concurrency, window, count) = (3, 8, 50);
        let started = Arc::new(AtomicUsize::new(0));
        let running = Arc::new(AtomicUsize::new(0));
        let most_running = Arc::new(AtomicUsize::new(0));
        let mut written = Vec::new();
        let mut furthest_ahead = 0;
        let work = {
            let (started, running, most_running) =
                (started.clone(), running.clone(), most_running.clone());
            move |index: usize, item: usize| {
                let (started, running, most_running) =
                    (started.clone(), running.clone(), most_running.clone());
                async move {
                    started.fetch_max(index + 1, Ordering::SeqCst);
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most_running.fetch_max(now, Ordering::SeqCst);
                    let pause = if index == 0 { 300 } else { 2 };
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    item * 10
                }
            }
        };
        runtime()
            .block_on(ordered(
                stream::iter(0..count),
                concurrency,
                window,
                work,
                |out| {
                    let index = written.len();
                    // Items started beyond this one: never more than the window allows.
                    furthest_ahead = furthest_ahead.max(started.load(Ordering::SeqCst) - index);
                    written.push(out);
                    Ok(())
                },
            ))
            .unwrap();
        assert_eq!(written, (0..count).map(|i| i * 10).collect::<Vec<_>>());
        assert!(furthest_ahead <= window, "{furthest_ahead} started ahead");
        assert!(most_running.load(Ordering::SeqCst) <= concurrency);
    }

    /// While the head is slow the window fills and the pipeline waits: item `window` does
    /// not start before item 0 has been written.
    #[test]
    fn back_pressure_waits_for_the_head() {
        let window = 4;
        let head_written = Arc::new(AtomicUsize::new(0));
        let started_early = Arc::new(AtomicUsize::new(0));
        let work = {
            let (head_written, started_early) = (head_written.clone(), started_early.clone());
            move |index: usize, _: ()| {
                let (head_written, started_early) = (head_written.clone(), started_early.clone());
                async move {
                    if index >= window && head_written.load(Ordering::SeqCst) == 0 {
                        started_early.fetch_add(1, Ordering::SeqCst);
                    }
                    if index == 0 {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
        };
        runtime()
            .block_on(ordered(
                stream::iter(std::iter::repeat_n((), 20)),
                2,
                window,
                work,
                |()| {
                    head_written.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                },
            ))
            .unwrap();
        assert_eq!(head_written.load(Ordering::SeqCst), 20);
        assert_eq!(started_early.load(Ordering::SeqCst), 0);
    }

    /// A failing sink (a closed stdout) ends the run with its error, and pulls no more items.
    #[test]
    fn a_sink_error_stops_the_run() {
        let pulled = AtomicUsize::new(0);
        let items = (0..10_000).inspect(|_| {
            pulled.fetch_add(1, Ordering::SeqCst);
        });
        let mut calls = 0;
        let result = runtime().block_on(ordered(
            stream::iter(items),
            4,
            16,
            |_, i| async move { i },
            |_| {
                calls += 1;
                if calls == 3 {
                    Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
                } else {
                    Ok(())
                }
            },
        ));
        assert_eq!(result.unwrap_err().kind(), std::io::ErrorKind::BrokenPipe);
        assert!(pulled.load(Ordering::SeqCst) <= 3 + 16);
    }

    #[test]
    fn shards_are_disjoint_cover_every_target_and_are_stable() {
        let targets: Vec<String> = (0..5000)
            .map(|i| format!("127.0.0.1:{}", 20000 + i))
            .chain((0..500).map(|i| format!("host-{i}.example.com")))
            .collect();
        for count in 1..=8u64 {
            let mut sizes = vec![0usize; count as usize];
            for target in &targets {
                let holders: Vec<u64> = (0..count)
                    .filter(|&index| Shard { index, count }.holds(target))
                    .collect();
                assert_eq!(holders.len(), 1, "{target} in {holders:?} of {count}");
                sizes[holders[0] as usize] += 1;
            }
            // Even enough that N replicas share the work: within 10 % of the mean.
            let mean = targets.len() / count as usize;
            for size in sizes {
                assert!(
                    size.abs_diff(mean) * 10 <= mean,
                    "{size} vs {mean} of {count}"
                );
            }
        }
        // Fixed values: the split must not change between versions (replicas of different
        // versions during a rollout split the same way). SHA-256("a") begins ca978112ca1bbdca.
        assert_eq!(Shard::number_of("a", u64::MAX), 0xca978112ca1bbdca);
        assert_eq!(Shard::number_of(" a ", 7), Shard::number_of("a", 7));
        assert!(Shard::ALL.holds("anything"));
    }

    #[test]
    fn shard_arguments_are_checked() {
        assert_eq!(Shard::parse("2/3"), Ok(Shard { index: 2, count: 3 }));
        assert_eq!(Shard::parse("0/1"), Ok(Shard::ALL));
        for bad in ["3/3", "0/0", "1", "a/2", "-1/2", "1/", "/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn exit_code_is_the_worst_status_counted() {
        let mut summary = Summary::default();
        assert_eq!(exit_code(&summary), 0);
        count(&mut summary, Status::Ok);
        count(&mut summary, Status::Warning);
        assert_eq!(exit_code(&summary), 1);
        count(&mut summary, Status::Unknown);
        count(&mut summary, Status::Critical);
        assert_eq!(exit_code(&summary), 3);
        assert_eq!(total(&summary), 4);
    }
}
