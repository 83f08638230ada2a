//! Whole-file operations the CLI and the watch daemon share: write a grid in the format its file
//! name asks for, write a batch of sampled creatures, and the daemon's real [`Jobs`].

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use anyhow::Context;

use crate::dataset;
use crate::error::{Error, Result};
use crate::format::{glb, vox};
use crate::mesh::{self, Loaded, Voxels};
use crate::model::{self, DeviceChoice};
use crate::render::{self, RenderConfig};
use crate::train::{self, TrainConfig};
use crate::voxel::{self, VoxelGrid, VoxelizeConfig, MAX_EDGE};
use crate::watch::{Jobs, Voxelized, WatchConfig};

/// The output formats, picked by file extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind {
    /// MagicaVoxel `.vox`.
    Vox,
    /// Binary glTF `.glb`.
    Glb,
    /// Turntable `.gif`.
    Gif,
    /// Still `.png`.
    Png,
}

impl OutputKind {
    /// The kind `path`'s extension names, or an error listing the ones voxgen writes.
    pub fn of(path: &Path) -> Result<Self> {
        let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase());
        match ext.as_deref() {
            Some("vox") => Ok(OutputKind::Vox),
            Some("glb") => Ok(OutputKind::Glb),
            Some("gif") => Ok(OutputKind::Gif),
            Some("png") => Ok(OutputKind::Png),
            _ => Err(Error::invalid(
                "output",
                format!("{}: extension must be .vox, .glb, .gif or .png", path.display()),
            )),
        }
    }
}

/// Writes `grid` to `path` in the format its extension names.
pub fn write_grid(grid: &VoxelGrid, path: &Path, render_cfg: &RenderConfig) -> Result<()> {
    match OutputKind::of(path)? {
        OutputKind::Vox => vox::write_vox(grid, path),
        OutputKind::Glb => glb::write_glb(grid, path),
        OutputKind::Gif => render::write_gif(grid, path, render_cfg),
        OutputKind::Png => render::write_png(grid, path, render_cfg),
    }
}

/// Writes each grid as `out_dir/PREFIX-NN.vox`, `.glb` and `.gif`; returns the files written.
pub fn write_creatures(
    grids: &[VoxelGrid],
    out_dir: &Path,
    prefix: &str,
    render_cfg: &RenderConfig,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out_dir).map_err(|e| Error::io(out_dir, e))?;
    let mut written = Vec::new();
    for (i, grid) in grids.iter().enumerate() {
        for ext in ["vox", "glb", "gif"] {
            let path = out_dir.join(format!("{prefix}-{i:02}.{ext}"));
            write_grid(grid, &path, render_cfg)?;
            written.push(path);
        }
    }
    Ok(written)
}

/// Writes every grid into one scene file (`.vox` or `.glb`, by extension), side by side, each
/// creature named `PREFIX-NN`.
pub fn write_scene(grids: &[VoxelGrid], path: &Path, prefix: &str) -> Result<()> {
    let named: Vec<(String, VoxelGrid)> =
        grids.iter().enumerate().map(|(i, g)| (format!("{prefix}-{i:02}"), g.clone())).collect();
    match OutputKind::of(path)? {
        OutputKind::Vox => vox::write_vox_scene(&named, path),
        OutputKind::Glb => glb::write_glb_scene(&named, path),
        _ => Err(Error::invalid(
            "output",
            format!("{}: a scene is written as .vox or .glb", path.display()),
        )),
    }
}

/// Reads a `.vox` file into one grid at its own scale: the voxels of every model, placed by the
/// scene graph, keep their size when they fit in 256 per axis, and are fitted into 256³ otherwise.
pub fn read_vox_grid(path: &Path, root: &Path) -> Result<VoxelGrid> {
    let (voxels, lo, dims) = read_voxels(path, root)?;
    if dims.iter().any(|&d| d > MAX_EDGE) {
        let cfg = VoxelizeConfig { resolution: MAX_EDGE, ..VoxelizeConfig::default() };
        return voxel::fit_voxels(&voxels, &cfg);
    }
    place(&voxels, lo, [0; 3], dims)
}

/// Reads back a `.vox` that was voxelized at `cfg.resolution`: its voxels keep their size and
/// are centred in the `resolution`³ grid, so training sees exactly what was written (fitting it
/// again could resample it when a margin is set). A model too large for the grid is fitted.
pub fn read_voxelized(path: &Path, root: &Path, cfg: &VoxelizeConfig) -> Result<VoxelGrid> {
    let n = cfg.resolution;
    let (voxels, lo, dims) = read_voxels(path, root)?;
    if dims.iter().any(|&d| d > n) {
        return voxel::fit_voxels(&voxels, cfg);
    }
    place(&voxels, lo, dims.map(|d| (n - d) / 2), [n; 3])
}

/// The voxels of the `.vox` file at `path`, their lowest corner and their extent per axis.
fn read_voxels(path: &Path, root: &Path) -> Result<(Voxels, [i32; 3], [usize; 3])> {
    let voxels = match mesh::load(path, root)? {
        Loaded::Voxels(v) => v,
        Loaded::Mesh(_) => {
            return Err(Error::invalid("input", format!("{}: not a .vox file", path.display())))
        }
    };
    let (lo, hi) = voxel_bounds(&voxels)
        .ok_or_else(|| Error::Empty { path: path.to_path_buf(), what: "no voxels".into() })?;
    let dims = [0, 1, 2].map(|a| (hi[a] - lo[a] + 1) as usize);
    Ok((voxels, lo, dims))
}

/// A grid of size `dims` holding every voxel, its corner `lo` moved to `offset`; the caller
/// makes sure they fit.
fn place(voxels: &Voxels, lo: [i32; 3], offset: [usize; 3], dims: [usize; 3]) -> Result<VoxelGrid> {
    let mut cells = vec![None; dims.iter().product()];
    for (p, rgb) in &voxels.points {
        let [x, y, z] = [0, 1, 2].map(|a| (p[a] - lo[a]) as usize + offset[a]);
        cells[x + dims[0] * (y + dims[1] * z)] = Some(*rgb);
    }
    VoxelGrid::from_cells(dims, &cells)
}

/// Inclusive bounds of a voxel set, or `None` when it is empty.
fn voxel_bounds(voxels: &Voxels) -> Option<([i32; 3], [i32; 3])> {
    let mut points = voxels.points.iter().map(|(p, _)| *p);
    let first = points.next()?;
    Some(points.fold((first, first), |(lo, hi), p| {
        ([0, 1, 2].map(|a| lo[a].min(p[a])), [0, 1, 2].map(|a| hi[a].max(p[a])))
    }))
}

/// The watch daemon's work, done for real: voxelize, write, train and sample.
pub struct RealJobs {
    /// Where models train and sample.
    pub device: DeviceChoice,
}

impl RealJobs {
    fn voxelize_config(cfg: &WatchConfig) -> VoxelizeConfig {
        VoxelizeConfig { resolution: cfg.resolution, margin: cfg.margin, shell: cfg.shell }
    }

    fn render_config(cfg: &WatchConfig) -> RenderConfig {
        RenderConfig { size: cfg.image_size, frames: cfg.frames, ..RenderConfig::default() }
    }
}

impl Jobs for RealJobs {
    fn voxelize(
        &self,
        input: &Path,
        inbox: &Path,
        out_voxels: &Path,
        name: &str,
        cfg: &WatchConfig,
    ) -> anyhow::Result<Voxelized> {
        let grid = dataset::load_grid(input, inbox, &Self::voxelize_config(cfg))?;
        if grid.count() == 0 {
            anyhow::bail!("{}: no voxels at resolution {}", input.display(), cfg.resolution);
        }
        let mut files = Vec::new();
        for ext in ["vox", "glb", "gif"] {
            let path = out_voxels.join(format!("{name}.{ext}"));
            write_grid(&grid, &path, &Self::render_config(cfg))?;
            files.push(path);
        }
        Ok(Voxelized { files, voxels: Some(grid.count() as u64) })
    }

    fn dependencies(&self, input: &Path, inbox: &Path) -> Vec<PathBuf> {
        mesh::dependencies(input, inbox)
    }

    fn train(
        &self,
        shapes: &[PathBuf],
        run_dir: &Path,
        cfg: &WatchConfig,
        cancel: &AtomicBool,
    ) -> anyhow::Result<()> {
        let vcfg = Self::voxelize_config(cfg);
        let mut grids = Vec::with_capacity(shapes.len());
        for path in shapes {
            let root = path.parent().unwrap_or(Path::new("."));
            grids.push(read_voxelized(path, root, &vcfg)?);
        }
        let tcfg = TrainConfig {
            model: cfg.model,
            resolution: cfg.resolution,
            epochs: cfg.epochs,
            batch_size: cfg.batch_size,
            latent: cfg.latent,
            lr: cfg.lr,
            seed: cfg.seed,
            device: model::device::resolve(self.device)?,
            progress: false,
            ..TrainConfig::default()
        };
        let report = train::train(&grids, &tcfg, run_dir, cancel)
            .with_context(|| format!("training in {}", run_dir.display()))?;
        tracing::info!("trained to step {} ({})", report.step, report.checkpoint.display());
        Ok(())
    }

    fn sample(
        &self,
        run_dir: &Path,
        out_dir: &Path,
        seed: u64,
        cfg: &WatchConfig,
    ) -> anyhow::Result<Vec<PathBuf>> {
        let device = model::device::resolve(self.device)?;
        let (grids, _meta) = model::sample(run_dir, cfg.samples, seed, device)?;
        Ok(write_creatures(&grids, out_dir, "creature", &Self::render_config(cfg))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes an `n`-cube holding a row of `len` voxels along x (at y = 3, z = 2) plus, when
    /// `mark`, one more voxel beside its start, and reads it back through `read_voxelized`.
    fn round_trip(n: usize, len: usize, mark: bool, cfg: &VoxelizeConfig) -> (VoxelGrid, usize) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shape.vox");
        let mut written = VoxelGrid::cube(n).unwrap();
        for x in 0..len {
            written.set(x, 3, 2, Some([200, 10, 10]));
        }
        if mark {
            written.set(0, 4, 2, Some([10, 200, 10]));
        }
        vox::write_vox(&written, &path).unwrap();
        let grid = read_voxelized(&path, dir.path(), cfg).unwrap();
        let refit = dataset::load_grid(&path, dir.path(), cfg).unwrap();
        (grid, refit.count())
    }

    #[test]
    fn voxelized_files_come_back_unscaled_and_centred() {
        // An L of 8 voxels, 7 long: wider than the 6 a margin of 1 leaves in an 8-grid, as a
        // voxelization touching the margin can be.
        let cfg = VoxelizeConfig { resolution: 8, margin: 1, shell: false };
        let (grid, refit) = round_trip(8, 7, true, &cfg);
        assert_eq!(grid.dims(), [8; 3]);
        assert_eq!(grid.count(), 8);
        // x spans 7 of 8 (offset 0), y 2 of 8 (offset 3), z 1 of 8 (offset 3).
        assert_eq!(grid.get(6, 3, 3), Some([200, 10, 10]));
        assert_eq!(grid.get(0, 4, 3), Some([10, 200, 10]));
        // Fitting it again into the 6 voxels the margin leaves would have shrunk it.
        assert!(refit < 8, "refit kept {refit} voxels");
    }

    #[test]
    fn a_model_larger_than_the_grid_is_fitted() {
        let cfg = VoxelizeConfig { resolution: 8, margin: 0, shell: false };
        let (grid, _) = round_trip(16, 16, false, &cfg);
        assert_eq!(grid.dims(), [8; 3]);
        assert_eq!(grid.count(), 8);
    }
}
