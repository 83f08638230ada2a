//! Generative models on voxel grids, one file per family, plus what the families share: the
//! tensor layout, layers, checkpoints, the device choice and the [`Generator`] seam that
//! `sample` goes through.
//!
//! Adding a family means: a variant in [`ModelKind`] and in [`FamilyConfig`], a file here with
//! the network and its [`Generator`] impl, an arm in [`load_generator`], and a trainer in
//! `crate::train`.

pub mod blocks;
pub mod checkpoint;
pub mod device;
pub mod tensor;
pub mod vae;

use std::collections::VecDeque;
use std::path::Path;

use clap::ValueEnum;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use tch::{Device, Tensor};

use crate::error::Result;
use crate::voxel::VoxelGrid;
use checkpoint::{Checkpoint, Meta};
use vae::{Vae, VaeConfig};

/// Model families voxgen can train.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Variational autoencoder (3D convolutional, residual blocks).
    Vae,
}

/// Where tensors live.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum DeviceChoice {
    /// CUDA when a GPU is there, CPU otherwise.
    #[default]
    Auto,
    /// Always the CPU.
    Cpu,
    /// The first CUDA GPU; an error when there is none.
    Cuda,
}

/// The architecture settings of one family, stored in every checkpoint so a model can be
/// rebuilt from its folder alone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FamilyConfig {
    /// Settings of the variational autoencoder.
    Vae(VaeConfig),
}

impl FamilyConfig {
    /// The family these settings belong to.
    pub fn family(&self) -> ModelKind {
        match self {
            FamilyConfig::Vae(_) => ModelKind::Vae,
        }
    }

    /// The default settings of `family`.
    pub fn default_for(family: ModelKind) -> Self {
        match family {
            ModelKind::Vae => FamilyConfig::Vae(VaeConfig::default()),
        }
    }
}

/// A trained model that makes new shapes. Every family implements [`Generator::generate`];
/// [`Generator::sample`] turns its output into cleaned-up grids the same way for all of them.
pub trait Generator {
    /// Grid edge of the shapes this model makes.
    fn resolution(&self) -> usize;

    /// Makes `n` shapes from `seed`, handing them to `emit` in batches as `[B, 4, N, N, N]`
    /// tensors in the [`tensor`] layout (a cell is filled where channel 0 is above zero).
    /// Shape `i` must depend only on `seed` and `i`, not on `n` or the batch size.
    fn generate(
        &self,
        n: usize,
        seed: u64,
        emit: &mut dyn FnMut(Tensor) -> Result<()>,
    ) -> Result<()>;

    /// Makes `n` grids from `seed`: [`Generator::generate`], then fragments smaller than a few
    /// voxels are dropped. An empty result is kept (and logged as a warning), never replaced.
    fn sample(&self, n: usize, seed: u64) -> Result<Vec<VoxelGrid>> {
        let mut grids = Vec::with_capacity(n);
        self.generate(n, seed, &mut |batch| {
            for i in 0..batch.size()[0] {
                let mut grid = tensor::from_tensor(&batch.get(i))?;
                let dropped = keep_main_parts(&mut grid);
                tracing::debug!(
                    "sample {}: {} voxels, {dropped} in fragments dropped",
                    grids.len(),
                    grid.count()
                );
                if grid.count() == 0 {
                    tracing::warn!("sample {} (seed {seed}) came out empty", grids.len());
                }
                grids.push(grid);
            }
            Ok(())
        })?;
        Ok(grids)
    }
}

/// Builds the generator stored in `checkpoint` on `device`, whatever its family.
pub fn load_generator(checkpoint: &Checkpoint, device: Device) -> Result<Box<dyn Generator>> {
    match &checkpoint.meta.config {
        FamilyConfig::Vae(_) => Ok(Box::new(Vae::load(checkpoint, device)?)),
    }
}

/// Makes `n` new creatures from a trained model.
///
/// `checkpoint` is a run folder (its latest checkpoint is used), a checkpoint folder or a file
/// inside one; family, resolution and latent size come from the checkpoint's metadata. The same
/// checkpoint and seed give the same grids, and shape `i` does not depend on `n`.
pub fn sample(
    checkpoint: &Path,
    n: usize,
    seed: u64,
    device: Device,
) -> Result<(Vec<VoxelGrid>, Meta)> {
    let checkpoint = Checkpoint::open(checkpoint)?;
    let generator = load_generator(&checkpoint, device)?;
    let grids = generator.sample(n, seed)?;
    tracing::info!(
        "sampled {n} shapes from {} (step {}, seed {seed})",
        checkpoint.dir.display(),
        checkpoint.meta.step
    );
    Ok((grids, checkpoint.meta))
}

/// Standard normal noise `[n, dim]` on the CPU, drawn from voxgen's own seeded generator so it
/// is the same on every device and thread, and row `i` does not depend on `n`.
pub fn latent_noise(n: usize, dim: usize, seed: u64) -> Tensor {
    let mut rng = StdRng::seed_from_u64(seed);
    let values: Vec<f32> = (0..n * dim).map(|_| standard_normal(&mut rng)).collect();
    Tensor::from_slice(&values).view([n as i64, dim as i64])
}

/// One standard normal draw (Box-Muller; the first of the pair is enough here).
fn standard_normal(rng: &mut StdRng) -> f32 {
    let u1: f64 = 1.0 - rng.gen::<f64>(); // in (0, 1], so the log is finite
    let u2: f64 = rng.gen();
    ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
}

/// Fragments smaller than this many voxels are always dropped from samples.
const MIN_PART_VOXELS: usize = 6;
/// Parts smaller than this fraction of the largest part are dropped too.
const MIN_PART_FRACTION: f64 = 0.05;

/// Drops floating fragments: of the 26-connected parts, keeps the largest and every other part
/// of at least [`MIN_PART_VOXELS`] and [`MIN_PART_FRACTION`] of the largest. Returns the number
/// of voxels removed.
pub fn keep_main_parts(grid: &mut VoxelGrid) -> usize {
    let (labels, sizes) = label_parts(grid);
    let largest = sizes.iter().copied().max().unwrap_or(0);
    let threshold = MIN_PART_VOXELS.max((largest as f64 * MIN_PART_FRACTION).ceil() as usize);
    let keep: Vec<bool> = sizes.iter().map(|&s| s == largest || s >= threshold).collect();
    if keep.iter().all(|&k| k) {
        return 0;
    }
    let mut cells = grid.to_cells();
    let mut removed = 0;
    for (cell, label) in cells.iter_mut().zip(&labels) {
        if let Some(l) = label {
            if !keep[*l] {
                *cell = None;
                removed += 1;
            }
        }
    }
    *grid = VoxelGrid::from_cells(grid.dims(), &cells).expect("same size as the grid");
    removed
}

/// Labels the 26-connected parts of a grid: a label per cell (`None` when empty) and each
/// part's size.
fn label_parts(grid: &VoxelGrid) -> (Vec<Option<usize>>, Vec<usize>) {
    let mut labels = vec![None; grid.dims().iter().product()];
    let mut sizes = Vec::new();
    let mut queue = VecDeque::new();
    for ([x, y, z], _) in grid.voxels() {
        if labels[grid.index(x, y, z)].is_some() {
            continue;
        }
        let label = sizes.len();
        labels[grid.index(x, y, z)] = Some(label);
        queue.push_back([x as i64, y as i64, z as i64]);
        let mut size = 0;
        while let Some(p) = queue.pop_front() {
            size += 1;
            for q in neighbours(p) {
                if grid.is_filled(q[0], q[1], q[2]) {
                    let i = grid.index(q[0] as usize, q[1] as usize, q[2] as usize);
                    if labels[i].is_none() {
                        labels[i] = Some(label);
                        queue.push_back(q);
                    }
                }
            }
        }
        sizes.push(size);
    }
    (labels, sizes)
}

/// The 26 neighbours of a cell (some may lie outside the grid).
fn neighbours([x, y, z]: [i64; 3]) -> impl Iterator<Item = [i64; 3]> {
    (-1..=1i64).flat_map(move |dx| {
        (-1..=1i64).flat_map(move |dy| {
            (-1..=1i64)
                .filter(move |&dz| (dx, dy, dz) != (0, 0, 0))
                .map(move |dz| [x + dx, y + dy, z + dz])
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_are_dropped_and_the_body_kept() {
        let mut g = VoxelGrid::cube(12).unwrap();
        for x in 0..5 {
            for y in 0..5 {
                for z in 0..5 {
                    g.set(x, y, z, Some([200, 10, 10]));
                }
            }
        }
        g.set(10, 10, 10, Some([1, 2, 3])); // a lone speck
        g.set(5, 5, 5, Some([1, 2, 3])); // touches the body's corner: part of it
        let removed = keep_main_parts(&mut g);
        assert_eq!(removed, 1);
        assert_eq!(g.count(), 126);
        assert_eq!(g.get(10, 10, 10), None);
        assert_eq!(g.get(5, 5, 5), Some([1, 2, 3]));
    }

    #[test]
    fn two_big_parts_both_stay() {
        let mut g = VoxelGrid::cube(10).unwrap();
        for i in 0..8 {
            g.set(i, 0, 0, Some([9, 9, 9]));
            g.set(i, 9, 9, Some([9, 9, 9]));
        }
        assert_eq!(keep_main_parts(&mut g), 0);
        assert_eq!(g.count(), 16);
    }

    #[test]
    fn empty_grid_stays_empty() {
        let mut g = VoxelGrid::cube(4).unwrap();
        assert_eq!(keep_main_parts(&mut g), 0);
    }

    #[test]
    fn noise_is_seeded_and_prefix_stable() {
        let a = latent_noise(3, 5, 7);
        let b = latent_noise(5, 5, 7);
        assert_eq!(a, b.narrow(0, 0, 3));
        assert_ne!(a, latent_noise(3, 5, 8));
        let big = latent_noise(1000, 10, 1);
        let mean = big.mean(tch::Kind::Float).double_value(&[]);
        let std = big.std(true).double_value(&[]);
        assert!(mean.abs() < 0.05, "mean {mean}");
        assert!((std - 1.0).abs() < 0.05, "std {std}");
    }
}
