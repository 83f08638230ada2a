//! Training: the loop every model family shares (epochs, shuffling, progress, cancelling,
//! checkpoints, continuing a run), and one trainer per family behind [`Trainer`].

mod data;
mod vae;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Serialize;
use tch::nn::VarStore;
use tch::{Device, Tensor};

use crate::error::{Error, Result};
use crate::model::checkpoint::{self, Checkpoint, Meta, TrainSettings, META_FORMAT};
use crate::model::tensor::CHANNELS;
use crate::model::{device, FamilyConfig, ModelKind};
use crate::voxel::VoxelGrid;
use data::Dataset;

/// Settings of one training session.
#[derive(Clone, Debug)]
pub struct TrainConfig {
    /// Model family; must match the run folder's checkpoints when continuing.
    pub model: ModelKind,
    /// Grid edge in voxels (a power of two from 8 to 256 for the VAE).
    pub resolution: usize,
    /// Passes over the data in this session (added to what the run has done before).
    pub epochs: usize,
    /// Shapes per optimizer step.
    pub batch_size: usize,
    /// Size of the latent vector; must match the run's checkpoints when continuing.
    pub latent: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Random seed (weights of a fresh model, data order, augmentation, noise).
    pub seed: u64,
    /// Where to train.
    pub device: Device,
    /// Draw a progress bar on stderr instead of logging one line per epoch.
    pub progress: bool,
    /// Save a checkpoint every this many epochs (0: only at the end).
    pub save_every: usize,
    /// Mirror each shape across x (x to -x) with probability one half. z stays up, so this
    /// swaps left and right of creatures that face along y, as glTF and OBJ models do after
    /// voxgen's Z-up turn; turn it off for data that faces along x.
    pub flip_x: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            model: ModelKind::Vae,
            resolution: 32,
            epochs: 50,
            batch_size: 8,
            latent: 64,
            lr: 1e-3,
            seed: 0,
            device: Device::Cpu,
            progress: false,
            save_every: 10,
            flip_x: true,
        }
    }
}

/// The loss of one optimizer step: the total and its named parts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepLoss {
    /// The value minimised.
    pub total: f64,
    /// The family's loss terms, for example `occupancy`, `colour`, `kl` for the VAE.
    pub parts: Vec<(&'static str, f64)>,
}

/// Mean losses over one epoch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EpochLoss {
    /// Epoch number in the run, from 1 (continues across sessions).
    pub epoch: usize,
    /// Optimizer steps in this epoch (fewer than a full pass when cancelled).
    pub steps: usize,
    /// Mean total loss.
    pub total: f64,
    /// Mean of each loss term.
    pub parts: Vec<(&'static str, f64)>,
    /// Wall-clock seconds the epoch took.
    pub seconds: f64,
}

impl EpochLoss {
    /// The mean of the loss term `name` (`occupancy`, `colour`, `kl` for the VAE).
    pub fn part(&self, name: &str) -> Option<f64> {
        self.parts.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

/// What a training session did.
#[derive(Clone, Debug, Serialize)]
pub struct TrainReport {
    /// Mean losses of each epoch of this session, in order.
    pub epochs: Vec<EpochLoss>,
    /// The checkpoint folder written last.
    pub checkpoint: PathBuf,
    /// Optimizer steps of the run so far (including earlier sessions).
    pub step: u64,
    /// The step the session started from (0 for a fresh run).
    pub start_step: u64,
    /// True when `cancel` stopped the session early.
    pub cancelled: bool,
    /// Mean wall-clock seconds of one optimizer step (data, forward, backward, update).
    pub step_seconds: f64,
}

/// One family's model and optimizer(s), driven by the shared loop.
pub(crate) trait Trainer {
    /// One optimizer step on `batch` (`[B, 4, N, N, N]` on the training device); `step`
    /// counts the run's steps before this one.
    fn step(&mut self, batch: &Tensor, step: u64) -> Result<StepLoss>;
    /// The weights to save.
    fn vars(&self) -> &VarStore;
    /// The settings to store in a checkpoint taken now; a family may refresh settings that
    /// depend on the weights here (the VAE calibrates its occupancy threshold).
    fn config(&mut self) -> Result<FamilyConfig>;
}

/// Trains a model on `data` (all `resolution`³ grids), continuing the newest checkpoint in
/// `run_dir` when there is one (it must have the same family, resolution and latent size).
///
/// A checkpoint is saved every `save_every` epochs and at the end. When `cancel` becomes true
/// the session stops before the next batch, saves and returns normally.
pub fn train(
    data: &[VoxelGrid],
    cfg: &TrainConfig,
    run_dir: &Path,
    cancel: &AtomicBool,
) -> Result<TrainReport> {
    check_config(cfg)?;
    let data = Dataset::new(data, cfg.resolution)?;
    std::fs::create_dir_all(run_dir).map_err(|e| Error::io(run_dir, e))?;
    let resume = checkpoint::latest(run_dir)?;
    if let Some(checkpoint) = &resume {
        check_compatible(checkpoint, cfg)?;
    }

    tch::manual_seed(cfg.seed as i64);
    let trainer = build_trainer(cfg, resume.as_ref(), &data)?;
    let mut session = Session::new(cfg, &data, trainer, run_dir, resume.as_ref());
    session.run(cancel)
}

/// Rejects settings no family can train with.
fn check_config(cfg: &TrainConfig) -> Result<()> {
    if cfg.batch_size == 0 {
        return Err(Error::invalid("batch size", "0 (must be at least 1)"));
    }
    if !(cfg.lr > 0.0 && cfg.lr.is_finite()) {
        return Err(Error::invalid("learning rate", format!("{} (must be above 0)", cfg.lr)));
    }
    match cfg.model {
        ModelKind::Vae => crate::model::vae::check_resolution(cfg.resolution),
    }
}

/// Checks that the run's checkpoint is one this session can continue.
fn check_compatible(checkpoint: &Checkpoint, cfg: &TrainConfig) -> Result<()> {
    let meta = &checkpoint.meta;
    let clash = |what: &str, theirs: String, ours: String| {
        let reason = format!(
            "{} was trained with {what} {theirs}, not {ours}; \
             use another run folder or the same {what}",
            checkpoint.dir.display()
        );
        Err(Error::invalid("checkpoint", reason))
    };
    let family = |k: ModelKind| format!("{k:?}").to_lowercase();
    if meta.family != cfg.model {
        return clash("model", family(meta.family), family(cfg.model));
    }
    if meta.resolution != cfg.resolution {
        return clash("resolution", meta.resolution.to_string(), cfg.resolution.to_string());
    }
    if meta.latent != cfg.latent {
        return clash("latent", meta.latent.to_string(), cfg.latent.to_string());
    }
    Ok(())
}

/// The trainer of `cfg.model`, fresh or from `resume`.
fn build_trainer(
    cfg: &TrainConfig,
    resume: Option<&Checkpoint>,
    data: &Dataset,
) -> Result<Box<dyn Trainer>> {
    match cfg.model {
        ModelKind::Vae => Ok(Box::new(vae::VaeTrainer::new(
            cfg.device,
            cfg.resolution,
            cfg.latent,
            resume,
            cfg.lr,
            data.pos_weight(),
            data.filled_fraction(),
        )?)),
    }
}

/// The state of a running session.
struct Session<'a> {
    cfg: &'a TrainConfig,
    data: &'a Dataset,
    trainer: Box<dyn Trainer>,
    run_dir: &'a Path,
    rng: StdRng,
    step: u64,
    start_step: u64,
    epoch: usize,
    bar: Option<ProgressBar>,
    step_seconds: f64,
}

impl<'a> Session<'a> {
    fn new(
        cfg: &'a TrainConfig,
        data: &'a Dataset,
        trainer: Box<dyn Trainer>,
        run_dir: &'a Path,
        resume: Option<&Checkpoint>,
    ) -> Self {
        let (step, epoch) = resume.map_or((0, 0), |c| (c.meta.step, c.meta.epoch));
        // A continued run draws a new data order and new noise rather than replaying the first.
        let stream = cfg.seed ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        tch::manual_seed(stream as i64);
        if let Some(c) = resume {
            tracing::info!("continuing {} from step {step}", c.dir.display());
        }
        let steps_per_epoch = data.len().div_ceil(cfg.batch_size);
        let bar = cfg.progress.then(|| progress_bar((cfg.epochs * steps_per_epoch) as u64));
        Session {
            cfg,
            data,
            trainer,
            run_dir,
            rng: StdRng::seed_from_u64(stream),
            step,
            start_step: step,
            epoch,
            bar,
            step_seconds: 0.0,
        }
    }

    /// Runs the epochs, saving on the way and at the end.
    fn run(&mut self, cancel: &AtomicBool) -> Result<TrainReport> {
        let mut epochs = Vec::new();
        let mut cancelled = false;
        for i in 0..self.cfg.epochs {
            let (loss, stopped) = self.run_epoch(cancel)?;
            epochs.extend(loss);
            if stopped {
                cancelled = true;
                tracing::info!("training cancelled at step {}", self.step);
                break;
            }
            // The last epoch is saved below, with the rest of the session.
            let due = self.cfg.save_every > 0 && self.epoch.is_multiple_of(self.cfg.save_every);
            if due && i + 1 < self.cfg.epochs {
                self.save()?;
            }
        }
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        let checkpoint = self.save()?;
        tracing::info!("saved {} (step {}, epoch {})", checkpoint.display(), self.step, self.epoch);
        let steps = self.step - self.start_step;
        Ok(TrainReport {
            epochs,
            checkpoint,
            step: self.step,
            start_step: self.start_step,
            cancelled,
            step_seconds: if steps > 0 { self.step_seconds / steps as f64 } else { 0.0 },
        })
    }

    /// One pass over the data. Returns its mean losses (`None` when cancelled before the first
    /// batch) and whether `cancel` stopped it.
    fn run_epoch(&mut self, cancel: &AtomicBool) -> Result<(Option<EpochLoss>, bool)> {
        let started = Instant::now();
        let mut sum = LossSum::default();
        let mut stopped = false;
        for indices in self.data.shuffled(&mut self.rng).chunks(self.cfg.batch_size) {
            if cancel.load(Ordering::Relaxed) {
                stopped = true;
                break;
            }
            let loss = self.train_batch(indices)?;
            sum.add(&loss);
        }
        if !stopped {
            self.epoch += 1;
        }
        let loss = sum.mean(self.epoch + usize::from(stopped), started.elapsed().as_secs_f64());
        if let Some(loss) = &loss {
            self.report(loss);
        }
        Ok((loss, stopped))
    }

    /// One optimizer step on the shapes `indices`.
    fn train_batch(&mut self, indices: &[usize]) -> Result<StepLoss> {
        let started = Instant::now();
        let batch = self.data.batch(indices, self.cfg.flip_x, &mut self.rng);
        let loss = self.trainer.step(&batch.to_device(self.cfg.device), self.step)?;
        if !loss.total.is_finite() {
            let reason = format!(
                "loss became {} at step {}; try a lower learning rate",
                loss.total, self.step
            );
            return Err(Error::invalid("training", reason));
        }
        self.step += 1;
        self.step_seconds += started.elapsed().as_secs_f64();
        tracing::trace!("step {}: loss {:.5}", self.step, loss.total);
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(format!("epoch {} loss {:.4}", self.epoch + 1, loss.total));
        }
        Ok(loss)
    }

    /// Logs an epoch's losses: one info line, or a debug line under the progress bar.
    fn report(&self, loss: &EpochLoss) {
        let parts: Vec<String> = loss.parts.iter().map(|(n, v)| format!("{n} {v:.4}")).collect();
        let line = format!(
            "epoch {}: loss {:.4} ({}), {} steps in {:.1} s",
            loss.epoch,
            loss.total,
            parts.join(", "),
            loss.steps,
            loss.seconds
        );
        if self.bar.is_some() {
            tracing::debug!("{line}");
        } else {
            tracing::info!("{line}");
        }
    }

    /// Saves a checkpoint of the current weights.
    fn save(&mut self) -> Result<PathBuf> {
        let meta = self.meta()?;
        checkpoint::save(self.run_dir, self.trainer.vars(), &meta)
    }

    /// The metadata of a checkpoint taken now.
    fn meta(&mut self) -> Result<Meta> {
        let cfg = self.cfg;
        Ok(Meta {
            format: META_FORMAT,
            family: cfg.model,
            resolution: cfg.resolution,
            channels: CHANNELS,
            latent: cfg.latent,
            step: self.step,
            epoch: self.epoch,
            config: self.trainer.config()?,
            train: TrainSettings {
                batch_size: cfg.batch_size,
                lr: cfg.lr,
                seed: cfg.seed,
                device: device::name(cfg.device),
                shapes: self.data.len(),
                flip_x: cfg.flip_x,
            },
            voxgen_version: env!("CARGO_PKG_VERSION").to_string(),
            created_unix: Meta::now_unix(),
        })
    }
}

/// A progress bar on stderr over `steps` optimizer steps.
fn progress_bar(steps: u64) -> ProgressBar {
    let bar = ProgressBar::new(steps);
    let template = "{elapsed_precise} [{bar:30}] {pos}/{len} steps, eta {eta}  {msg}";
    match ProgressStyle::with_template(template) {
        Ok(style) => bar.set_style(style.progress_chars("=> ")),
        Err(e) => tracing::debug!("progress bar template rejected: {e}"),
    }
    bar
}

/// Running sums of step losses within an epoch.
#[derive(Default)]
struct LossSum {
    steps: usize,
    total: f64,
    parts: Vec<(&'static str, f64)>,
}

impl LossSum {
    fn add(&mut self, loss: &StepLoss) {
        if self.parts.is_empty() {
            self.parts = loss.parts.iter().map(|(n, _)| (*n, 0.0)).collect();
        }
        for (sum, (_, v)) in self.parts.iter_mut().zip(&loss.parts) {
            sum.1 += v;
        }
        self.total += loss.total;
        self.steps += 1;
    }

    /// The means as epoch `epoch`; `None` when no step was added.
    fn mean(self, epoch: usize, seconds: f64) -> Option<EpochLoss> {
        let n = self.steps as f64;
        (self.steps > 0).then(|| EpochLoss {
            epoch,
            steps: self.steps,
            total: self.total / n,
            parts: self.parts.into_iter().map(|(name, v)| (name, v / n)).collect(),
            seconds,
        })
    }
}
