//! Many targets at once, for `check --targets` and `serve`'s rounds.

use std::sync::Arc;

use super::Settings;
use crate::report::Report;
use crate::target::Target;

/// Checks targets concurrently (at most `concurrency` at once), returning reports in
/// input order; `progress` ticks as each finishes. A check that panics becomes that
/// target's UNKNOWN report ("internal error"); the others carry on.
pub async fn check_all(
    targets: Vec<Target>,
    settings: Arc<Settings>,
    concurrency: usize,
    progress: Option<indicatif::ProgressBar>,
) -> Vec<Report> {
    let limit = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = Vec::with_capacity(targets.len());
    for target in targets {
        let settings = settings.clone();
        let limit = limit.clone();
        let progress = progress.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire_owned().await;
            let report = super::check(&target, &settings).await;
            if let Some(progress) = progress {
                progress.inc(1);
            }
            report
        }));
    }
    let mut reports = Vec::with_capacity(tasks.len());
    for task in tasks {
        reports.push(task.await.unwrap_or_else(|e| {
            Report::failed(String::new(), None, None, format!("internal error: {e}"))
        }));
    }
    if let Some(progress) = progress {
        progress.finish_and_clear();
    }
    reports
}
