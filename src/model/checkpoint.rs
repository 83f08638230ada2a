//! Checkpoints: a folder `run_dir/checkpoints/step-NNNNNNNN/` holding `model.safetensors` (the
//! weights, no optimizer state) and `meta.json` (everything needed to rebuild the model), plus
//! the pointer `run_dir/latest.json` naming the newest one.
//!
//! A checkpoint is written into `run_dir/checkpoints/.tmp-...` and then renamed into place, so
//! a reader never sees half of one; the pointer is written atomically after the rename. Only
//! one process may write to a run folder at a time.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tch::nn::VarStore;

use crate::error::{Error, Result};
use crate::format::atomic::write_bytes;
use crate::model::{FamilyConfig, ModelKind};

/// Version of the `meta.json` layout; bumped when a field changes meaning.
pub const META_FORMAT: u32 = 1;
/// Number of checkpoints kept in a run folder; older ones are deleted after a save.
pub const KEEP: usize = 3;
/// File name of the weights inside a checkpoint folder.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// File name of the metadata inside a checkpoint folder.
pub const META_FILE: &str = "meta.json";
/// File name of the pointer to the newest checkpoint inside a run folder.
pub const LATEST_FILE: &str = "latest.json";
/// Folder of the checkpoints inside a run folder.
pub const CHECKPOINTS_DIR: &str = "checkpoints";

/// Everything stored beside a checkpoint's weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Layout version of this file ([`META_FORMAT`]).
    pub format: u32,
    /// Model family.
    pub family: ModelKind,
    /// Grid edge in voxels.
    pub resolution: usize,
    /// Channels per cell (4: occupancy and RGB).
    pub channels: usize,
    /// Size of the latent vector.
    pub latent: usize,
    /// Optimizer steps taken since the run began.
    pub step: u64,
    /// Whole passes over the data completed since the run began.
    pub epoch: usize,
    /// The family's architecture settings.
    pub config: FamilyConfig,
    /// How the last training session ran.
    pub train: TrainSettings,
    /// voxgen version that wrote the checkpoint.
    pub voxgen_version: String,
    /// When the checkpoint was written, in seconds since the Unix epoch.
    pub created_unix: u64,
}

/// Training settings recorded in a checkpoint (from the session that wrote it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    /// Shapes per optimizer step.
    pub batch_size: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Random seed of the session.
    pub seed: u64,
    /// Device trained on (`cpu`, `cuda:0`).
    pub device: String,
    /// Number of training shapes.
    pub shapes: usize,
    /// Whether shapes were randomly mirrored across x.
    pub flip_x: bool,
}

impl Meta {
    /// Seconds since the Unix epoch, for [`Meta::created_unix`].
    pub fn now_unix() -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    }
}

/// A checkpoint on disk: its folder and its metadata.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    /// The `step-NNNNNNNN` folder.
    pub dir: PathBuf,
    /// The contents of its `meta.json`.
    pub meta: Meta,
}

/// The contents of `latest.json`.
#[derive(Debug, Serialize, Deserialize)]
struct Latest {
    /// The checkpoint folder, relative to the run folder.
    checkpoint: PathBuf,
    /// Its step, for people reading the file.
    step: u64,
}

impl Checkpoint {
    /// Opens a checkpoint from a run folder (its latest checkpoint), a checkpoint folder, or
    /// a file inside either (`model.safetensors`, `meta.json`, `latest.json`).
    pub fn open(path: &Path) -> Result<Checkpoint> {
        if path.is_file() {
            // A file names the folder it is in: a checkpoint folder, or a run folder when it
            // is `latest.json`.
            let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            return Self::open(dir);
        }
        if path.join(META_FILE).is_file() {
            return Self::open_dir(path);
        }
        if !path.exists() {
            return Err(Error::io(path, std::io::ErrorKind::NotFound.into()));
        }
        latest(path)?.ok_or_else(|| {
            Error::parse(path, "no checkpoint here (neither a run folder nor a checkpoint)")
        })
    }

    /// Opens the checkpoint folder `dir` (reads and checks its `meta.json`).
    pub fn open_dir(dir: &Path) -> Result<Checkpoint> {
        let meta_path = dir.join(META_FILE);
        let text = fs::read_to_string(&meta_path).map_err(|e| Error::io(&meta_path, e))?;
        let meta: Meta =
            serde_json::from_str(&text).map_err(|e| Error::parse(&meta_path, e.to_string()))?;
        check_meta(&meta, &meta_path)?;
        let weights = dir.join(WEIGHTS_FILE);
        if !weights.is_file() {
            return Err(Error::io(&weights, std::io::ErrorKind::NotFound.into()));
        }
        Ok(Checkpoint { dir: dir.to_path_buf(), meta })
    }

    /// Path of the weights file.
    pub fn weights(&self) -> PathBuf {
        self.dir.join(WEIGHTS_FILE)
    }

    /// Loads the weights into `vars`, whose variables must match the checkpoint's.
    pub fn load_into(&self, vars: &mut VarStore) -> Result<()> {
        let weights = self.weights();
        vars.load(&weights).map_err(|e| Error::parse(&weights, e.to_string()))
    }
}

/// Rejects metadata this version cannot use.
fn check_meta(meta: &Meta, path: &Path) -> Result<()> {
    if meta.format != META_FORMAT {
        let reason = format!("meta format {} (this voxgen reads {META_FORMAT})", meta.format);
        return Err(Error::parse(path, reason));
    }
    if meta.config.family() != meta.family {
        return Err(Error::parse(path, "family and config disagree"));
    }
    if meta.voxgen_version != env!("CARGO_PKG_VERSION") {
        tracing::debug!("{} was written by voxgen {}", path.display(), meta.voxgen_version);
    }
    Ok(())
}

/// The newest checkpoint of a run folder: the one `latest.json` names, or, without that
/// file, the highest-numbered `step-*` folder. `None` for a run folder with no checkpoint.
pub fn latest(run_dir: &Path) -> Result<Option<Checkpoint>> {
    let pointer = run_dir.join(LATEST_FILE);
    if pointer.is_file() {
        let text = fs::read_to_string(&pointer).map_err(|e| Error::io(&pointer, e))?;
        let latest: Latest =
            serde_json::from_str(&text).map_err(|e| Error::parse(&pointer, e.to_string()))?;
        return Checkpoint::open_dir(&run_dir.join(latest.checkpoint)).map(Some);
    }
    match step_dirs(run_dir)?.pop() {
        Some((_, dir)) => {
            tracing::debug!("no {LATEST_FILE} in {}, using {}", run_dir.display(), dir.display());
            Checkpoint::open_dir(&dir).map(Some)
        }
        None => Ok(None),
    }
}

/// Saves `vars` and `meta` as the checkpoint `step-NNNNNNNN` of `run_dir`, points
/// `latest.json` at it and deletes all but the newest [`KEEP`] checkpoints. Returns its folder.
pub fn save(run_dir: &Path, vars: &VarStore, meta: &Meta) -> Result<PathBuf> {
    let root = run_dir.join(CHECKPOINTS_DIR);
    fs::create_dir_all(&root).map_err(|e| Error::io(&root, e))?;
    let name = format!("step-{:08}", meta.step);
    let tmp = root.join(format!(".tmp-{name}-{}", std::process::id()));
    let result = write_folder(&tmp, vars, meta);
    if result.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    result?;

    let dir = root.join(&name);
    replace_dir(&tmp, &dir)?;
    let latest = Latest { checkpoint: Path::new(CHECKPOINTS_DIR).join(&name), step: meta.step };
    let json = serde_json::to_vec_pretty(&latest).map_err(|e| Error::parse(&dir, e.to_string()))?;
    write_bytes(&run_dir.join(LATEST_FILE), &json)?;
    prune(&root, &dir)?;
    tracing::debug!("saved checkpoint {}", dir.display());
    Ok(dir)
}

/// Writes the weights and metadata into the fresh folder `tmp`. The weights file is written
/// in place: the whole folder becomes visible only when it is renamed.
fn write_folder(tmp: &Path, vars: &VarStore, meta: &Meta) -> Result<()> {
    fs::create_dir_all(tmp).map_err(|e| Error::io(tmp, e))?;
    let weights = tmp.join(WEIGHTS_FILE);
    vars.save(&weights).map_err(|e| Error::parse(&weights, e.to_string()))?;
    let meta_path = tmp.join(META_FILE);
    let json =
        serde_json::to_vec_pretty(meta).map_err(|e| Error::parse(&meta_path, e.to_string()))?;
    write_bytes(&meta_path, &json)
}

/// Renames `tmp` to `dir`; an existing `dir` (the same step saved again) is moved aside first
/// and deleted after.
fn replace_dir(tmp: &Path, dir: &Path) -> Result<()> {
    if !dir.exists() {
        return fs::rename(tmp, dir).map_err(|e| Error::io(dir, e));
    }
    let old = tmp.with_extension("old");
    fs::rename(dir, &old).map_err(|e| Error::io(dir, e))?;
    fs::rename(tmp, dir).map_err(|e| Error::io(dir, e))?;
    fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))
}

/// Deletes all but the newest [`KEEP`] checkpoints (never `current`) and leftover temporary
/// folders of earlier, interrupted saves.
fn prune(root: &Path, current: &Path) -> Result<()> {
    let dirs = step_dirs(root.parent().unwrap_or(root))?;
    let excess = dirs.len().saturating_sub(KEEP);
    for (_, dir) in dirs.into_iter().take(excess).filter(|(_, d)| d != current) {
        tracing::debug!("deleting old checkpoint {}", dir.display());
        fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    }
    for entry in fs::read_dir(root).map_err(|e| Error::io(root, e))?.flatten() {
        if entry.file_name().to_string_lossy().starts_with(".tmp-") {
            tracing::debug!("deleting leftover {}", entry.path().display());
            fs::remove_dir_all(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
        }
    }
    Ok(())
}

/// The `step-*` folders of a run folder, oldest first.
fn step_dirs(run_dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let root = run_dir.join(CHECKPOINTS_DIR);
    if !root.is_dir() {
        return Ok(Vec::new());
    }
    let mut dirs: Vec<(u64, PathBuf)> = fs::read_dir(&root)
        .map_err(|e| Error::io(&root, e))?
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let step = name.strip_prefix("step-")?.parse().ok()?;
            entry.path().is_dir().then(|| (step, entry.path()))
        })
        .collect();
    dirs.sort();
    Ok(dirs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::vae::VaeConfig;
    use tch::{nn, Device, Kind};

    fn meta(step: u64) -> Meta {
        Meta {
            format: META_FORMAT,
            family: ModelKind::Vae,
            resolution: 8,
            channels: 4,
            latent: 3,
            step,
            epoch: 1,
            config: FamilyConfig::Vae(VaeConfig::default()),
            train: TrainSettings {
                batch_size: 2,
                lr: 1e-3,
                seed: 0,
                device: "cpu".into(),
                shapes: 2,
                flip_x: false,
            },
            voxgen_version: env!("CARGO_PKG_VERSION").into(),
            created_unix: Meta::now_unix(),
        }
    }

    fn store() -> VarStore {
        let vs = VarStore::new(Device::Cpu);
        let _ = vs.root().var("w", &[2, 3], nn::Init::Randn { mean: 0., stdev: 1. });
        vs
    }

    #[test]
    fn saves_loads_and_keeps_three() {
        let run = tempfile::tempdir().unwrap();
        let vs = store();
        for step in [10, 20, 30, 40] {
            save(run.path(), &vs, &meta(step)).unwrap();
        }
        let steps: Vec<u64> = step_dirs(run.path()).unwrap().iter().map(|(s, _)| *s).collect();
        assert_eq!(steps, vec![20, 30, 40]);
        let ckpt = Checkpoint::open(run.path()).unwrap();
        assert_eq!(ckpt.meta, meta(40).clone_with_time(ckpt.meta.created_unix));
        assert!(ckpt.dir.ends_with("checkpoints/step-00000040"));
        let mut other = VarStore::new(Device::Cpu);
        let w = other.root().var("w", &[2, 3], nn::Init::Const(0.));
        ckpt.load_into(&mut other).unwrap();
        let want = vs.variables()["w"].shallow_clone();
        assert_eq!(w, want);
        assert_eq!(w.kind(), Kind::Float);
    }

    #[test]
    fn opens_by_folder_or_file_and_resaves_a_step() {
        let run = tempfile::tempdir().unwrap();
        let dir = save(run.path(), &store(), &meta(5)).unwrap();
        let again = save(run.path(), &store(), &meta(5)).unwrap();
        assert_eq!(dir, again);
        assert_eq!(Checkpoint::open(&dir).unwrap().meta.step, 5);
        assert_eq!(Checkpoint::open(&dir.join(WEIGHTS_FILE)).unwrap().meta.step, 5);
        assert_eq!(Checkpoint::open(&run.path().join(LATEST_FILE)).unwrap().dir, dir);
        let names: Vec<_> = fs::read_dir(run.path().join(CHECKPOINTS_DIR)).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary folders left");
    }

    #[test]
    fn missing_checkpoint_is_an_error_naming_the_path() {
        let run = tempfile::tempdir().unwrap();
        let err = Checkpoint::open(run.path()).unwrap_err().to_string();
        assert!(err.contains(&run.path().display().to_string()), "{err}");
        assert!(latest(run.path()).unwrap().is_none());
    }

    impl Meta {
        fn clone_with_time(&self, created_unix: u64) -> Meta {
            Meta { created_unix, ..self.clone() }
        }
    }
}
