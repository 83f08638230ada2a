//! The watch daemon: voxelizes what arrives in `DIR/inbox/`, trains in the background and
//! samples new creatures to `DIR/out/generated/`.
//!
//! Layout of the watched folder:
//! - `voxgen.toml`: optional settings ([`WatchConfig`]).
//! - `inbox/`: scanned recursively; every `.obj`, `.gltf`, `.glb` and `.vox` ([`is_input`]) is
//!   an input, other files (MTL, textures, buffers) are its dependencies. Hidden files are skipped.
//! - `out/voxels/NAME.vox|.glb|.gif`: one set per input, `NAME` from its relative path
//!   (`sub dir/cat.obj` gives `sub_dir__cat`).
//! - `out/rejected/REL` and `out/rejected/REL.txt`: inputs that could not be voxelized, moved
//!   there with the reason beside them.
//! - `out/runs/MODEL-rRES-zLATENT/`: the training run, continued by every round.
//! - `out/generated/round-NNNN/`: the creatures of each round; `out/generated/latest/` holds
//!   copies of the last round's files (each replaced atomically).
//! - `out/manifest.json` ([`manifest::Manifest`]) and `out/status.json` ([`status::Status`]).

mod config;
mod daemon;
pub mod manifest;
mod naming;
mod pass;
mod process;
mod round;
mod scan;
mod stable;
pub mod status;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::Context;

pub use config::{WatchConfig, CONFIG_FILE};
pub use scan::{hash_file, is_input, FileStat};

/// The work the daemon drives. The real implementation voxelizes, writes files, trains and
/// samples; tests use a fake. Every method may be called from a background thread.
pub trait Jobs: Send + Sync + 'static {
    /// Voxelizes `input` (inside `inbox`) and writes `out_voxels/NAME.vox`, `.glb` and `.gif`.
    /// An error rejects the input; its message should name the file and the reason.
    fn voxelize(
        &self,
        input: &Path,
        inbox: &Path,
        out_voxels: &Path,
        name: &str,
        cfg: &WatchConfig,
    ) -> anyhow::Result<Voxelized>;

    /// The files `input` references (MTL, textures, buffers), present or not, so that a file
    /// arriving or changing later redoes `input`.
    fn dependencies(&self, input: &Path, inbox: &Path) -> Vec<PathBuf>;

    /// Trains on the given `.vox` files, continuing from the checkpoint in `run_dir` if there
    /// is one. Returns early (with `Ok`) once `cancel` is set.
    fn train(
        &self,
        shapes: &[PathBuf],
        run_dir: &Path,
        cfg: &WatchConfig,
        cancel: &AtomicBool,
    ) -> anyhow::Result<()>;

    /// Samples `cfg.samples` creatures from the checkpoint in `run_dir` with `seed`, writing
    /// `NAME.vox`, `.glb` and `.gif` into `out_dir`; returns the files written.
    fn sample(
        &self,
        run_dir: &Path,
        out_dir: &Path,
        seed: u64,
        cfg: &WatchConfig,
    ) -> anyhow::Result<Vec<PathBuf>>;
}

/// What [`Jobs::voxelize`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Voxelized {
    /// The files written (`NAME.vox` among them).
    pub files: Vec<PathBuf>,
    /// Filled voxels in the grid, for the log line.
    pub voxels: Option<u64>,
}

/// How [`run`] behaves.
#[derive(Clone, Debug, Default)]
pub struct WatchOptions {
    /// Process the inbox, train and sample once if needed, then return.
    pub once: bool,
    /// Make Ctrl-C set `cancel`. The handler is installed by the first such call in a process;
    /// later calls point it at their own `cancel`. A second Ctrl-C exits the process at once.
    pub ctrlc: bool,
    /// Set it to stop: the current file finishes, training stops early, the manifest is saved.
    pub cancel: Arc<AtomicBool>,
}

/// Watches `dir` until `opts.cancel` is set (or, with `opts.once`, until the inbox is done).
///
/// Creates `dir/inbox/` and `dir/out/` when missing and reads `dir/voxgen.toml`. Bad input files
/// are rejected and never make this fail; a bad settings file, an unwritable `out/` or (with
/// `once`) a failed training round or an interruption does.
pub fn run(dir: &Path, opts: &WatchOptions, jobs: Arc<dyn Jobs>) -> anyhow::Result<()> {
    if !dir.is_dir() {
        anyhow::bail!("{}: no such folder", dir.display());
    }
    let cfg = WatchConfig::load(dir)?;
    let mut layout = Layout::new(dir);
    layout.create()?;
    if opts.ctrlc {
        install_ctrlc(&opts.cancel)?;
    }
    daemon::Daemon::new(layout, cfg, jobs, opts)?.run()
}

/// The paths inside a watched folder.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    inbox: PathBuf,
    /// `inbox` with symlinks and `..` resolved (once it exists), as the mesh readers report the
    /// dependencies inside it.
    inbox_resolved: PathBuf,
    out: PathBuf,
    voxels: PathBuf,
    rejected: PathBuf,
    generated: PathBuf,
    manifest: PathBuf,
    status: PathBuf,
}

impl Layout {
    fn new(dir: &Path) -> Self {
        let out = dir.join("out");
        Layout {
            inbox: dir.join("inbox"),
            inbox_resolved: dir.join("inbox"),
            voxels: out.join("voxels"),
            rejected: out.join("rejected"),
            generated: out.join("generated"),
            manifest: out.join("manifest.json"),
            status: out.join("status.json"),
            out,
        }
    }

    fn create(&mut self) -> anyhow::Result<()> {
        for dir in [&self.inbox, &self.out, &self.voxels, &self.generated] {
            std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
        }
        self.inbox_resolved = std::fs::canonicalize(&self.inbox)
            .with_context(|| format!("{}", self.inbox.display()))?;
        Ok(())
    }

    /// `path` relative to the inbox (`/`-separated), whether it is written through the inbox as
    /// given or as resolved; `None` when it lies elsewhere.
    fn inbox_rel(&self, path: &Path) -> Option<String> {
        scan::relative(&self.inbox, path).or_else(|| scan::relative(&self.inbox_resolved, path))
    }

    /// `path` relative to `out/` (`/`-separated), or the whole path when it lies elsewhere.
    fn out_rel(&self, path: &Path) -> String {
        scan::relative(&self.out, path).unwrap_or_else(|| path.display().to_string())
    }

    /// The training run folder for `cfg`.
    fn run_dir(&self, cfg: &WatchConfig) -> PathBuf {
        self.out.join("runs").join(cfg.run_name())
    }
}

/// The cancel flag Ctrl-C sets: the one of the latest [`run`] that asked for it.
static CTRLC_TARGET: Mutex<Option<Arc<AtomicBool>>> = Mutex::new(None);
/// Whether installing the process-wide handler worked (set on the first try).
static CTRLC_INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();

/// Points Ctrl-C at `cancel`, installing the handler on the first call in the process.
fn install_ctrlc(cancel: &Arc<AtomicBool>) -> anyhow::Result<()> {
    *CTRLC_TARGET.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::clone(cancel));
    let installed =
        CTRLC_INSTALLED.get_or_init(|| ctrlc::set_handler(on_ctrlc).map_err(|e| e.to_string()));
    installed.clone().map_err(|e| anyhow::anyhow!("cannot handle ctrl-c: {e}"))
}

fn on_ctrlc() {
    let target = CTRLC_TARGET.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let Some(cancel) = target else { return };
    if cancel.swap(true, Ordering::SeqCst) {
        eprintln!("stopping at once");
        std::process::exit(130);
    }
    tracing::warn!("stopping: finishing the current step (press ctrl-c again to quit at once)");
}
