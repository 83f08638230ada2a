//! The daemon's main loop: file events and timers in, passes over the inbox, training rounds
//! started in the background, the status file kept current.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use notify_debouncer_full::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{new_debouncer, DebounceEventResult, Debouncer, RecommendedCache};
use tracing::{debug, info, warn};

use super::manifest::{EntryStatus, Manifest};
use super::pass::Pending;
use super::round::{RoundEvent, RunningRound};
use super::stable::StableTracker;
use super::status::{Counts, State, Status, StatusFile};
use super::{Jobs, Layout, WatchConfig, WatchOptions};

/// Longest sleep between two looks at the cancel flag.
const POLL: Duration = Duration::from_millis(100);
/// Shortest time between two manifest saves while files are being processed.
const SAVE_EVERY: Duration = Duration::from_secs(1);

/// What wakes the main loop.
pub(crate) enum Msg {
    /// The debounced file events of the inbox.
    Fs(DebounceEventResult),
    /// News from the training thread.
    Round(RoundEvent),
}

/// The daemon's state; the passes ([`super::pass`]), file processing ([`super::process`]) and
/// rounds ([`super::round`]) are methods on it too.
pub(crate) struct Daemon {
    pub(super) layout: Layout,
    pub(super) cfg: WatchConfig,
    pub(super) jobs: Arc<dyn Jobs>,
    pub(super) cancel: Arc<AtomicBool>,
    pub(super) once: bool,
    pub(super) manifest: Manifest,
    manifest_dirty: bool,
    last_save: Instant,
    pub(super) stable: StableTracker,
    /// Inputs that were still changing at the last pass.
    pub(super) pending: Vec<Pending>,
    /// Inputs found by the last pass.
    pub(super) inputs_found: usize,
    pub(super) round: Option<RunningRound>,
    /// Rounds finished (or failed) since this run started.
    pub(super) rounds_this_run: u32,
    /// Whether the data or the round state changed since a round was last considered.
    pub(super) round_check: bool,
    /// Why the last round of this run failed, for `--once`.
    pub(super) round_failure: Option<String>,
    pub(super) last_error: Option<String>,
    status_file: StatusFile,
    state: State,
    current: Option<String>,
    pub(super) tx: Sender<Msg>,
    rx: Receiver<Msg>,
    scan_due: bool,
    pub(super) next_rescan: Instant,
}

impl Daemon {
    /// A daemon over `layout`, with the manifest read from `out/manifest.json`.
    pub fn new(
        layout: Layout,
        cfg: WatchConfig,
        jobs: Arc<dyn Jobs>,
        opts: &WatchOptions,
    ) -> anyhow::Result<Daemon> {
        let manifest = Manifest::load(&layout.manifest)?;
        let (tx, rx) = mpsc::channel();
        Ok(Daemon {
            stable: StableTracker::new(Duration::from_millis(cfg.stable_ms)),
            status_file: StatusFile::new(&layout.status),
            layout,
            cfg,
            jobs,
            cancel: Arc::clone(&opts.cancel),
            once: opts.once,
            manifest,
            manifest_dirty: false,
            last_save: Instant::now(),
            pending: Vec::new(),
            inputs_found: 0,
            round: None,
            rounds_this_run: 0,
            round_check: true,
            round_failure: None,
            last_error: None,
            state: State::Idle,
            current: None,
            tx,
            rx,
            scan_due: true,
            next_rescan: Instant::now(),
        })
    }

    /// Runs until cancelled or, with `once`, until everything is done.
    pub fn run(mut self) -> anyhow::Result<()> {
        let _watcher = if self.once { None } else { self.watch_inbox() };
        self.log_start();
        while !self.cancelled() {
            self.drain_messages()?;
            if self.scan_is_due() {
                self.pass()?;
            }
            self.maybe_start_round()?;
            if self.once && self.once_finished() {
                break;
            }
            self.wait()?;
        }
        self.finish()
    }

    fn log_start(&self) {
        let inbox = self.layout.inbox.display();
        if self.once {
            info!("processing {inbox} once");
        } else {
            info!("watching {inbox} (ctrl-c stops)");
        }
    }

    /// Whether the stop flag is set.
    pub(super) fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    /// Starts the debounced watcher on the inbox; `None` (and a warning) when the platform
    /// refuses, in which case the periodic rescan does the work.
    fn watch_inbox(&self) -> Option<Debouncer<RecommendedWatcher, RecommendedCache>> {
        let tx = self.tx.clone();
        let timeout = Duration::from_millis(self.cfg.debounce_ms);
        let handler = move |events: DebounceEventResult| {
            let _ = tx.send(Msg::Fs(events));
        };
        let watched = new_debouncer(timeout, None, handler).and_then(|mut debouncer| {
            debouncer.watch(&self.layout.inbox, RecursiveMode::Recursive)?;
            Ok(debouncer)
        });
        match watched {
            Ok(debouncer) => Some(debouncer),
            Err(err) => {
                warn!(
                    "cannot watch {} ({err}); rescanning every {} ms instead",
                    self.layout.inbox.display(),
                    self.cfg.rescan_ms
                );
                None
            }
        }
    }

    /// Handles every message already waiting.
    fn drain_messages(&mut self) -> anyhow::Result<()> {
        while let Ok(msg) = self.rx.try_recv() {
            self.handle(msg)?;
        }
        Ok(())
    }

    fn handle(&mut self, msg: Msg) -> anyhow::Result<()> {
        match msg {
            Msg::Fs(Ok(events)) => {
                debug!("{} file events", events.len());
                self.scan_due = true;
            }
            Msg::Fs(Err(errors)) => {
                for err in errors {
                    debug!("watcher: {err}");
                }
                self.scan_due = true;
            }
            Msg::Round(RoundEvent::Sampling(number)) => {
                if let Some(round) = self.round.as_mut().filter(|r| r.number == number) {
                    round.sampling = true;
                }
                self.publish()?;
            }
            Msg::Round(RoundEvent::Finished(outcome)) => self.round_finished(*outcome)?,
        }
        Ok(())
    }

    /// Whether to walk the inbox now: an event came, the rescan timer ran out, or a file that
    /// was changing may have settled.
    fn scan_is_due(&self) -> bool {
        let now = Instant::now();
        self.scan_due || now >= self.next_rescan || self.pending.iter().any(|p| now >= p.until)
    }

    /// Marks that the next loop must walk the inbox.
    pub(super) fn scan_done(&mut self) {
        self.scan_due = false;
        self.next_rescan = Instant::now() + Duration::from_millis(self.cfg.rescan_ms);
    }

    /// Sleeps until a message, the next timer or the next look at the cancel flag.
    fn wait(&mut self) -> anyhow::Result<()> {
        let wake = self.pending.iter().map(|p| p.until).fold(self.next_rescan, Instant::min);
        let timeout = wake.saturating_duration_since(Instant::now()).min(POLL);
        match self.rx.recv_timeout(timeout) {
            Ok(msg) => self.handle(msg),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => Ok(()),
        }
    }

    /// `--once` is done when no round runs and no file is worth waiting for any longer.
    fn once_finished(&self) -> bool {
        self.round.is_none() && self.waiting_for().is_empty()
    }

    /// The changing files still worth waiting for (changing for less than `max_wait_ms`).
    pub(super) fn waiting_for(&self) -> Vec<&Pending> {
        let max_wait = Duration::from_millis(self.cfg.max_wait_ms);
        self.pending.iter().filter(|p| p.since.elapsed() < max_wait).collect()
    }

    /// Lets a running round stop, saves the manifest, writes the final status.
    fn finish(mut self) -> anyhow::Result<()> {
        while self.round.is_some() {
            match self.rx.recv() {
                Ok(msg) => self.handle(msg)?,
                Err(_) => break,
            }
        }
        for pending in &self.pending {
            warn!("skipped inbox/{}: still changing", pending.rel);
        }
        self.save_manifest()?;
        self.state = State::Stopped;
        self.publish()?;
        self.log_summary();
        self.once_result()
    }

    fn once_result(&self) -> anyhow::Result<()> {
        if !self.once {
            return Ok(());
        }
        if self.cancelled() {
            anyhow::bail!("interrupted before {} was fully processed", self.layout.inbox.display());
        }
        match &self.round_failure {
            Some(reason) => anyhow::bail!("{reason}"),
            None => Ok(()),
        }
    }

    fn log_summary(&self) {
        let counts = self.counts();
        let how = if self.once && !self.cancelled() { "finished" } else { "stopped" };
        info!(
            "{how}: {} inputs, {} voxelized, {} rejected, {} still changing",
            counts.inputs, counts.done, counts.rejected, counts.pending
        );
    }

    /// Records that the manifest changed; saves it when the last save is old enough.
    pub(super) fn manifest_changed(&mut self) -> anyhow::Result<()> {
        self.manifest_dirty = true;
        if self.last_save.elapsed() >= SAVE_EVERY {
            self.save_manifest()?;
        }
        Ok(())
    }

    /// Records that the manifest changed, leaving the save to the end of the pass.
    pub(super) fn mark_manifest_dirty(&mut self) {
        self.manifest_dirty = true;
    }

    /// Saves the manifest if it changed since the last save.
    pub(super) fn save_manifest(&mut self) -> anyhow::Result<()> {
        if self.manifest_dirty {
            self.manifest.save(&self.layout.manifest)?;
            self.manifest_dirty = false;
            self.last_save = Instant::now();
        }
        Ok(())
    }

    /// Sets what the main loop is doing (and the file it works on) and publishes the status.
    pub(super) fn set_state(
        &mut self,
        state: State,
        current: Option<String>,
    ) -> anyhow::Result<()> {
        self.state = state;
        self.current = current;
        self.publish()
    }

    /// Writes `out/status.json` if anything in it changed.
    pub(super) fn publish(&mut self) -> anyhow::Result<()> {
        let status = Status {
            state: self.shown_state(),
            current: self.current.clone(),
            round: self.round.as_ref().map(|r| r.number),
            counts: self.counts(),
            last_round: self.manifest.last_round.clone(),
            last_error: self.last_error.clone(),
            updated_unix_ms: 0,
        };
        Ok(self.status_file.publish(status)?)
    }

    /// The main loop's state, or the round's when the main loop is idle.
    fn shown_state(&self) -> State {
        match (&self.round, self.state) {
            (Some(round), State::Idle) if round.sampling => State::Sampling,
            (Some(_), State::Idle) => State::Training,
            (_, state) => state,
        }
    }

    fn counts(&self) -> Counts {
        let rejected = self.manifest.inputs.values().filter(|e| e.status == EntryStatus::Rejected);
        Counts {
            inputs: self.inputs_found,
            done: self.manifest.done().count(),
            rejected: rejected.count(),
            pending: self.pending.len(),
        }
    }
}
