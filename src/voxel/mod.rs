//! Voxel grids and everything that makes or reshapes them: fitting a mesh into a grid, surface
//! overlap, solid fill, colour, resampling.
//!
//! [`voxelize`] runs four stages: fit the mesh into the grid (`fit`), mark and colour every voxel
//! a triangle overlaps (`surface`, using `overlap` and `clip`), fill the inside (`fill`) and
//! colour it from the nearest surface voxel (`spread`). [`fit_voxels`] resamples voxel models
//! (`resample`).

mod alloc;
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

/// One grid cell: empty, or an sRGB colour.
pub(crate) type Cell = Option<[u8; 3]>;

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
    // The fill runs on one thread, so the cell buffer is made beside it.
    let (solid, mut cells) = rayon::join(
        || (!cfg.shell).then(|| fill::fill(&surface, n)),
        || {
            let mut cells = alloc::empty_cells(n * n * n);
            for &(i, rgb) in &surface {
                cells[i as usize] = Some(rgb);
            }
            cells
        },
    );
    let fill_at = start.elapsed();
    if let Some(solid) = solid {
        spread::spread(&mut cells, n, &solid, &surface);
        let interior = solid.interior;
        tracing::debug!(n, interior, ?surface_at, ?fill_at, "filled");
    }
    tracing::debug!(n, total = ?start.elapsed(), "voxelized mesh");
    VoxelGrid::from_cells([n; 3], cells)
}
