//! Voxel grids and everything that makes or reshapes them: fitting a mesh into a grid, surface
//! overlap, solid fill, colour, resampling.
//!
//! [`voxelize`] runs four stages: fit the mesh into the grid (`fit`), mark and colour every voxel
//! a triangle overlaps (`surface`, using `overlap` and `clip`), fill the inside (`fill`) and
//! colour it from the nearest surface voxel (`spread`). [`fit_voxels`] resamples voxel models
//! (`resample`).

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

use std::time::Instant;

use crate::error::{Error, Result};
use crate::mesh::Mesh;

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
    let start = Instant::now();
    let (surface, _) = surface::rasterize(mesh, &fit, n)?;
    let surface_at = start.elapsed();
    if cfg.shell {
        let grid = surface_grid(n, &surface)?;
        tracing::debug!(n, total = ?start.elapsed(), "voxelized mesh");
        return Ok(grid);
    }
    // The column links for the interior colour need only the surface, so they are made while
    // the fill runs its serial flood. The solid lies within the surface's layers: the fill only
    // adds voxels the surface encloses.
    let layers = surface::layers(&surface, n);
    let (solid, chains) =
        rayon::join(|| fill::fill(&surface, n), || spread::Chains::new(&surface, n, layers));
    let fill_at = start.elapsed();
    let grid = if solid.interior == 0 {
        surface_grid(n, &surface)?
    } else {
        // The colour list (every solid voxel: the interior and the surface) is allocated while
        // the occupancy is copied out of the fill's box.
        let filled = solid.interior + surface.len();
        let (bits, colours) = rayon::join(|| solid.occupancy(), || vec![[0u8; 3]; filled]);
        let mut grid = VoxelGrid::with_colours([n; 3], bits, Some(colours))?;
        spread::spread(&mut grid, &solid, &surface, &chains);
        grid
    };
    let interior = solid.interior;
    tracing::debug!(n, interior, ?surface_at, ?fill_at, total = ?start.elapsed(), "voxelized mesh");
    Ok(grid)
}

/// The grid holding just the `surface` cells of an `n`-cube, with their colours.
fn surface_grid(n: usize, surface: &surface::Surface) -> Result<VoxelGrid> {
    let wpr = n.div_ceil(64);
    let mut bits = vec![0u64; wpr * n * n];
    for ([x, y, z], _) in surface::cells(surface, n) {
        bits[(y + n * z) * wpr + x / 64] |= 1 << (x % 64);
    }
    let mut grid = VoxelGrid::from_occupancy([n; 3], bits)?;
    // The surface lists its cells by increasing index, the order colours are stored in.
    for (slot, (_, rgb)) in grid.parts_mut().2.iter_mut().zip(surface) {
        *slot = *rgb;
    }
    Ok(grid)
}
