//! Training rounds: when the data changed and is big enough, train (continuing the run) and
//! sample new creatures in a background thread, then publish them under `out/generated/`.

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use anyhow::Context;
use tracing::{debug, info, warn};

use super::daemon::{Daemon, Msg};
use super::manifest::Round;
use super::status::unix_ms;
use super::{Jobs, Layout, WatchConfig};
use crate::format::atomic::write_bytes;

/// News a round thread sends to the main loop.
pub(crate) enum RoundEvent {
    /// Training ended; sampling began.
    Sampling(u32),
    /// The round is over.
    Finished(Box<RoundOutcome>),
}

/// How a round ended.
pub(crate) enum RoundOutcome {
    /// Trained and sampled.
    Done(Round),
    /// Stopped by the cancel flag; nothing sampled.
    Cancelled(u32),
    /// Training or sampling failed.
    Failed {
        /// The round's number.
        number: u32,
        /// The dataset it tried to train on.
        dataset: String,
        /// Why, in one line.
        reason: String,
    },
}

/// The round the background thread is running.
pub(crate) struct RunningRound {
    /// Its number.
    pub number: u32,
    /// Whether it has moved on to sampling.
    pub sampling: bool,
    handle: JoinHandle<()>,
}

/// Everything a round thread needs.
struct RoundJob {
    number: u32,
    dataset: String,
    shapes: Vec<PathBuf>,
    layout: Layout,
    cfg: WatchConfig,
    jobs: Arc<dyn Jobs>,
    cancel: Arc<AtomicBool>,
    tx: Sender<Msg>,
}

impl Daemon {
    /// Starts a round in the background when one is due.
    pub(super) fn maybe_start_round(&mut self) -> anyhow::Result<()> {
        if !std::mem::take(&mut self.round_check) {
            return Ok(());
        }
        let Some((shapes, dataset)) = self.round_due() else { return Ok(()) };
        self.manifest.rounds_started += 1;
        let number = self.manifest.rounds_started;
        self.manifest_changed()?;
        self.save_manifest()?;
        let job = RoundJob {
            number,
            dataset,
            shapes,
            layout: self.layout.clone(),
            cfg: self.cfg.clone(),
            jobs: Arc::clone(&self.jobs),
            cancel: Arc::clone(&self.cancel),
            tx: self.tx.clone(),
        };
        let handle = std::thread::Builder::new()
            .name(format!("voxgen-round-{number}"))
            .spawn(move || job.run())
            .context("cannot start the training thread")?;
        self.round = Some(RunningRound { number, sampling: false, handle });
        self.publish()
    }

    /// The shapes and dataset fingerprint for a new round, when one is due: no round runs,
    /// no file is still settling, there are enough shapes, and they changed since the last
    /// round or the run has no checkpoint. The daemon does not retry a dataset whose round
    /// failed until it changes; `--once` does.
    fn round_due(&self) -> Option<(Vec<PathBuf>, String)> {
        let busy = self.round.is_some() || self.cancelled() || !self.waiting_for().is_empty();
        if busy || (self.once && self.rounds_this_run > 0) {
            return None;
        }
        let shapes = self.manifest.shapes(&self.layout.voxels);
        let dataset = self.manifest.dataset_fingerprint(&self.dataset_key());
        let trained = self.manifest.last_round.as_ref().is_some_and(|r| r.dataset == dataset);
        if trained && self.has_checkpoint() {
            return None;
        }
        if !self.once && self.manifest.failed_dataset.as_ref() == Some(&dataset) {
            return None;
        }
        if shapes.len() < self.cfg.min_shapes {
            debug!("{} shapes; training waits for {}", shapes.len(), self.cfg.min_shapes);
            return None;
        }
        Some((shapes, dataset))
    }

    /// Whether the run folder holds anything (a checkpoint) to continue from.
    fn has_checkpoint(&self) -> bool {
        let dir = self.layout.run_dir(&self.cfg);
        std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some())
    }

    /// The settings a dataset fingerprint includes besides the data: the run it trains.
    fn dataset_key(&self) -> String {
        format!("{} run={}", self.cfg.voxel_key(), self.cfg.run_name())
    }

    /// Records how a round ended and lets its thread go.
    pub(super) fn round_finished(&mut self, outcome: RoundOutcome) -> anyhow::Result<()> {
        if let Some(round) = self.round.take() {
            if round.handle.join().is_err() {
                warn!("training round {} thread panicked", round.number);
            }
        }
        self.rounds_this_run += 1;
        self.round_check = true;
        match outcome {
            RoundOutcome::Done(round) => {
                self.manifest.failed_dataset = None;
                self.manifest.last_round = Some(round);
            }
            RoundOutcome::Cancelled(number) => info!("training round {number} stopped early"),
            RoundOutcome::Failed { number, dataset, reason } => {
                let reason = format!("training round {number} failed: {reason}");
                warn!("{reason}");
                self.manifest.failed_dataset = Some(dataset);
                self.last_error = Some(reason.clone());
                self.round_failure = Some(reason);
            }
        }
        self.manifest_changed()?;
        self.save_manifest()?;
        self.publish()
    }
}

impl RoundJob {
    /// The thread body: runs the round, catching errors and panics, and reports the outcome.
    fn run(self) {
        let (number, dataset) = (self.number, self.dataset.clone());
        let result = catch_unwind(AssertUnwindSafe(|| self.train_and_sample()));
        let outcome = match result {
            Ok(Ok(Some(round))) => RoundOutcome::Done(round),
            Ok(Ok(None)) => RoundOutcome::Cancelled(number),
            Ok(Err(err)) => RoundOutcome::Failed { number, dataset, reason: one_line(&err) },
            Err(_) => RoundOutcome::Failed { number, dataset, reason: "panicked".into() },
        };
        let _ = self.tx.send(Msg::Round(RoundEvent::Finished(Box::new(outcome))));
    }

    /// Trains, samples into `out/generated/round-NNNN/` and copies the files to `latest/`.
    /// `None` when cancelled before sampling.
    fn train_and_sample(&self) -> anyhow::Result<Option<Round>> {
        let started = Instant::now();
        let run_dir = self.layout.run_dir(&self.cfg);
        fs::create_dir_all(&run_dir).with_context(|| run_dir.display().to_string())?;
        info!(
            "training round {} on {} shapes ({} epochs) in out/{}",
            self.number,
            self.shapes.len(),
            self.cfg.epochs,
            self.layout.out_rel(&run_dir)
        );
        self.jobs.train(&self.shapes, &run_dir, &self.cfg, &self.cancel).context("training")?;
        if self.cancel.load(Ordering::SeqCst) {
            return Ok(None);
        }
        info!("trained round {} ({:.1} s)", self.number, started.elapsed().as_secs_f64());
        let _ = self.tx.send(Msg::Round(RoundEvent::Sampling(self.number)));
        let files = self.sample(&run_dir)?;
        Ok(Some(self.record(files, started)))
    }

    fn sample(&self, run_dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
        let started = Instant::now();
        let dir = self.round_dir();
        fs::create_dir_all(&dir).with_context(|| dir.display().to_string())?;
        let seed = self.cfg.seed.wrapping_add(u64::from(self.number));
        let files = self.jobs.sample(run_dir, &dir, seed, &self.cfg).context("sampling")?;
        let creatures = files.iter().filter(|f| has_extension(f, "vox")).count();
        info!(
            "sampled {creatures} creatures -> out/{} ({:.1} s)",
            self.layout.out_rel(&dir),
            started.elapsed().as_secs_f64()
        );
        publish_latest(&files, &self.layout.generated.join("latest"))?;
        Ok(files)
    }

    fn round_dir(&self) -> PathBuf {
        self.layout.generated.join(format!("round-{:04}", self.number))
    }

    fn record(&self, files: Vec<PathBuf>, started: Instant) -> Round {
        let mut files: Vec<String> = files.iter().map(|f| self.layout.out_rel(f)).collect();
        files.sort();
        Round {
            number: self.number,
            dataset: self.dataset.clone(),
            shapes: self.shapes.len(),
            dir: self.layout.out_rel(&self.round_dir()),
            files,
            finished_unix_ms: unix_ms(),
            seconds: started.elapsed().as_secs_f64(),
        }
    }
}

/// Copies `files` into `latest` (each one replaced atomically), then removes what the
/// previous round left there.
fn publish_latest(files: &[PathBuf], latest: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(latest).with_context(|| latest.display().to_string())?;
    let mut names = Vec::with_capacity(files.len());
    for file in files {
        let Some(name) = file.file_name() else { continue };
        let bytes = fs::read(file).with_context(|| file.display().to_string())?;
        write_bytes(&latest.join(name), &bytes)?;
        names.push(name.to_os_string());
    }
    for old in fs::read_dir(latest).with_context(|| latest.display().to_string())?.flatten() {
        if !names.contains(&old.file_name()) && old.path().is_file() {
            fs::remove_file(old.path()).with_context(|| old.path().display().to_string())?;
        }
    }
    Ok(())
}

fn has_extension(path: &Path, ext: &str) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

fn one_line(err: &anyhow::Error) -> String {
    format!("{err:#}").split_whitespace().collect::<Vec<_>>().join(" ")
}
