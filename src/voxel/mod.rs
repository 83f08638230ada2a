//! Voxel grids and everything that makes or reshapes them: fitting a mesh into a grid, surface
//! overlap, solid fill, colour, resampling.
//!
//! [`voxelize`] runs four stages: fit the mesh into the grid ([`fit`]), mark and colour every
//! voxel a triangle overlaps ([`surface`], using [`overlap`] and [`clip`]), fill the inside
//! ([`fill`]) and colour it from the nearest surface voxel ([`spread`]).

mod clip;
mod color;
mod config;
mod fill;
mod fit;
mod grid;
mod overlap;
mod resample;
mod spread;
mod surface;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::mesh::Mesh;
use color::{unpack, EMPTY};

pub use config::VoxelizeConfig;
pub use grid::{VoxelGrid, MAX_EDGE};
pub use resample::fit_voxels;

/// Voxelizes `mesh` into a `cfg.resolution`-cube: fitted with one uniform scale and centred,
/// every voxel a triangle touches on the surface, the inside filled unless `cfg.shell`.
///
/// Fails on an invalid `cfg` or a mesh with no usable triangle; degenerate and non-finite
/// triangles are left out.
pub fn voxelize(mesh: &Mesh, cfg: &VoxelizeConfig) -> Result<VoxelGrid> {
    cfg.validate()?;
    let n = cfg.resolution;
    let (lo, hi) = fit::finite_bounds(mesh)
        .ok_or_else(|| Error::invalid("mesh", "no triangle with finite corners"))?;
    let fit = fit::Fit::for_mesh(lo, hi, n, cfg.room());
    let (mut words, _) = surface::rasterize(mesh, &fit, n)?;
    if cfg.shell {
        return to_grid(&words, n, |_, _, _, w| w != EMPTY);
    }
    let solid = fill::fill(&words, n);
    if let (Some((lo, hi)), true) = (solid.bounds, solid.interior > 0) {
        spread::spread(&mut words, n, lo, hi);
    }
    tracing::debug!(n, interior = solid.interior, "voxelized mesh");
    to_grid(&words, n, |x, y, z, _| solid.contains(x, y, z))
}

/// Builds an `n`-cube grid from packed words, keeping the cells `keep(x, y, z, word)` accepts.
fn to_grid(
    words: &[u32],
    n: usize,
    keep: impl Fn(usize, usize, usize, u32) -> bool + Sync,
) -> Result<VoxelGrid> {
    let mut grid = VoxelGrid::cube(n)?;
    grid.cells_mut().par_chunks_mut(n).zip(words.par_chunks(n)).enumerate().for_each(
        |(row, (cells, words))| {
            let (y, z) = (row % n, row / n);
            for (x, (cell, &w)) in cells.iter_mut().zip(words).enumerate() {
                *cell = keep(x, y, z, w).then(|| unpack(w));
            }
        },
    );
    Ok(grid)
}
