//! `voxgen.toml`: the daemon's settings, their defaults and the ranges they are checked against.

use std::fmt::Display;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::cli::ModelKind;
use crate::error::{Error, Result};

/// The settings file's name inside the watched folder.
pub const CONFIG_FILE: &str = "voxgen.toml";

/// Everything `voxgen.toml` can set. Every key is optional; an unknown key is an error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WatchConfig {
    /// Grid edge in voxels (8 to 256; a power of two for the VAE).
    pub resolution: usize,
    /// Empty voxels kept on each side of a shape (less than half the resolution).
    pub margin: usize,
    /// Keep only the surface voxels instead of filling the inside.
    pub shell: bool,
    /// Model family to train.
    pub model: ModelKind,
    /// Passes over the data in each training round (1 to 100000).
    pub epochs: usize,
    /// Shapes per optimizer step (1 to 1024).
    pub batch_size: usize,
    /// Size of the latent vector (1 to 4096).
    pub latent: usize,
    /// Adam learning rate (above 0, at most 1).
    pub lr: f64,
    /// Random seed; round `n` samples with `seed + n`.
    pub seed: u64,
    /// Creatures sampled after each training round (1 to 1000).
    pub samples: usize,
    /// Shapes needed before the first training round (1 to 1000000).
    pub min_shapes: usize,
    /// Frames in each turntable GIF (1 to 360).
    pub frames: usize,
    /// Width and height of each GIF frame in pixels (16 to 4096).
    pub image_size: u32,
    /// A file is processed once its size and mtime stayed the same this long (10 to 600000 ms).
    pub stable_ms: u64,
    /// File events closer together than this are merged (10 to 60000 ms).
    pub debounce_ms: u64,
    /// The inbox is scanned again at least this often, events or not (50 to 3600000 ms).
    pub rescan_ms: u64,
    /// Longest wait for a file that keeps changing: after it, training goes ahead without the
    /// file and `--once` skips it (100 to 86400000 ms).
    pub max_wait_ms: u64,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            resolution: 32,
            margin: 0,
            shell: false,
            model: ModelKind::Vae,
            epochs: 50,
            batch_size: 8,
            latent: 64,
            lr: 1e-3,
            seed: 0,
            samples: 8,
            min_shapes: 4,
            frames: 36,
            image_size: 256,
            stable_ms: 1000,
            debounce_ms: 250,
            rescan_ms: 10_000,
            max_wait_ms: 60_000,
        }
    }
}

impl WatchConfig {
    /// Reads `DIR/voxgen.toml`, or the defaults when the file does not exist, and checks ranges.
    pub fn load(dir: &Path) -> Result<WatchConfig> {
        let path = dir.join(CONFIG_FILE);
        if !path.exists() {
            return Ok(WatchConfig::default());
        }
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        WatchConfig::parse(&text, &path)
    }

    /// Parses and checks the text of a settings file; errors are one line naming `path`.
    pub fn parse(text: &str, path: &Path) -> Result<WatchConfig> {
        let cfg: WatchConfig =
            toml::from_str(text).map_err(|e| Error::parse(path, toml_reason(&e, text)))?;
        cfg.validate().map_err(|reason| Error::parse(path, reason))?;
        Ok(cfg)
    }

    /// Checks every setting against its range; the error names the key and the bad value.
    pub fn validate(&self) -> std::result::Result<(), String> {
        in_range("resolution", self.resolution, 8, 256)?;
        if self.model == ModelKind::Vae && !self.resolution.is_power_of_two() {
            return Err(format!(
                "resolution must be a power of two for the vae, got {}",
                self.resolution
            ));
        }
        in_range("margin", self.margin, 0, (self.resolution - 1) / 2)?;
        in_range("epochs", self.epochs, 1, 100_000)?;
        in_range("batch_size", self.batch_size, 1, 1024)?;
        in_range("latent", self.latent, 1, 4096)?;
        if !(self.lr > 0.0 && self.lr <= 1.0) {
            return Err(format!("lr must be above 0 and at most 1, got {}", self.lr));
        }
        in_range("samples", self.samples, 1, 1000)?;
        in_range("min_shapes", self.min_shapes, 1, 1_000_000)?;
        in_range("frames", self.frames, 1, 360)?;
        in_range("image_size", self.image_size, 16, 4096)?;
        self.validate_timing()
    }

    fn validate_timing(&self) -> std::result::Result<(), String> {
        in_range("stable_ms", self.stable_ms, 10, 600_000)?;
        in_range("debounce_ms", self.debounce_ms, 10, 60_000)?;
        in_range("rescan_ms", self.rescan_ms, 50, 3_600_000)?;
        in_range("max_wait_ms", self.max_wait_ms, 100, 86_400_000)
    }

    /// The settings that shape the per-file outputs: when they change, every file is redone.
    pub fn voxel_key(&self) -> String {
        format!(
            "resolution={} margin={} shell={} frames={} image_size={}",
            self.resolution, self.margin, self.shell, self.frames, self.image_size
        )
    }

    /// The folder name of the training run these settings continue (model, grid and latent).
    pub fn run_name(&self) -> String {
        let model = format!("{:?}", self.model).to_lowercase();
        format!("{model}-r{}-z{}", self.resolution, self.latent)
    }
}

/// Fails with "NAME must be between LO and HI, got V" when `value` is outside `lo..=hi`.
fn in_range<T: PartialOrd + Display>(
    name: &str,
    value: T,
    lo: T,
    hi: T,
) -> std::result::Result<(), String> {
    if value < lo || value > hi {
        return Err(format!("{name} must be between {lo} and {hi}, got {value}"));
    }
    Ok(())
}

/// A TOML error as one line: "line N: message".
fn toml_reason(err: &toml::de::Error, text: &str) -> String {
    let message = err.message().split_whitespace().collect::<Vec<_>>().join(" ");
    match err.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {message}")
        }
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<WatchConfig> {
        WatchConfig::parse(text, Path::new("w/voxgen.toml"))
    }

    #[test]
    fn empty_file_gives_defaults() {
        let cfg = parse("").unwrap();
        assert_eq!(cfg, WatchConfig::default());
        assert_eq!(cfg.resolution, 32);
        assert_eq!(cfg.model, ModelKind::Vae);
    }

    #[test]
    fn keys_override_defaults() {
        let cfg = parse("resolution = 16\nmodel = \"vae\"\nepochs = 3\nmin_shapes = 2\n").unwrap();
        assert_eq!((cfg.resolution, cfg.epochs, cfg.min_shapes), (16, 3, 2));
        assert_eq!(cfg.samples, 8);
    }

    #[test]
    fn unknown_key_is_named_with_file_and_line() {
        let err = parse("resolution = 16\ncolour = 3\n").unwrap_err().to_string();
        assert!(err.starts_with("w/voxgen.toml: line 2: unknown field `colour`"), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn wrong_type_and_unknown_model_are_one_line_errors() {
        let err = parse("resolution = \"big\"").unwrap_err().to_string();
        assert!(err.starts_with("w/voxgen.toml: line 1: "), "{err}");
        assert!(!err.contains('\n'), "{err}");
        let err = parse("model = \"gan\"").unwrap_err().to_string();
        assert!(err.contains("unknown variant `gan`"), "{err}");
    }

    #[test]
    fn ranges_are_checked() {
        let err = parse("resolution = 4").unwrap_err().to_string();
        assert_eq!(err, "w/voxgen.toml: resolution must be between 8 and 256, got 4");
        let err = parse("resolution = 20").unwrap_err().to_string();
        assert_eq!(err, "w/voxgen.toml: resolution must be a power of two for the vae, got 20");
        let err = parse("resolution = 16\nmargin = 8").unwrap_err().to_string();
        assert_eq!(err, "w/voxgen.toml: margin must be between 0 and 7, got 8");
        let err = parse("lr = 0.0").unwrap_err().to_string();
        assert_eq!(err, "w/voxgen.toml: lr must be above 0 and at most 1, got 0");
        let err = parse("stable_ms = 1").unwrap_err().to_string();
        assert_eq!(err, "w/voxgen.toml: stable_ms must be between 10 and 600000, got 1");
    }

    #[test]
    fn missing_file_gives_defaults() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(WatchConfig::load(dir.path()).unwrap(), WatchConfig::default());
    }
}
