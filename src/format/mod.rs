//! Writers for the output formats, one file per format, and the atomic-write helper they share.
//!
//! - [`vox`]: MagicaVoxel `.vox`, one model or a scene of several, with a quantized palette.
//! - [`glb`]: binary glTF with a watertight, greedily merged surface and vertex colours.
//! - [`palette`] and [`greedy`]: the colour quantizer and the mesher behind them.
//!
//! Scenes of several creatures share one layout: cells of equal size (the largest creature plus
//! [`SCENE_GAP`] voxels) on the floor, the whole block centred on the origin.

use std::path::Path;

use crate::error::{Error, Result};
use crate::voxel::VoxelGrid;

pub mod atomic;
pub mod glb;
pub mod greedy;
pub mod palette;
pub mod vox;

/// Empty voxels left between neighbouring creatures in a scene file.
pub const SCENE_GAP: usize = 4;

/// The error for a grid (or every grid of a scene) without a single voxel.
pub(crate) fn empty_error(path: &Path) -> Error {
    Error::Empty { path: path.to_path_buf(), what: "nothing to write: grid is empty".into() }
}

/// Fails with [`empty_error`] when `grid` holds no voxel.
pub(crate) fn ensure_filled(grid: &VoxelGrid, path: &Path) -> Result<()> {
    if grid.is_empty() {
        return Err(empty_error(path));
    }
    Ok(())
}

/// Fails with [`empty_error`] when no creature of a scene holds a voxel.
pub(crate) fn ensure_scene_filled(creatures: &[(String, VoxelGrid)], path: &Path) -> Result<()> {
    if creatures.iter().all(|(_, g)| g.is_empty()) {
        return Err(empty_error(path));
    }
    Ok(())
}

/// Where each creature's footprint starts (its `x`, `y` minimum corner, in voxels) when `dims`
/// are laid out `columns` to a row on the floor, centred on the origin.
pub(crate) fn scene_offsets(dims: &[[usize; 3]], columns: usize) -> Vec<[i64; 2]> {
    let columns = columns.clamp(1, dims.len().max(1));
    let rows = dims.len().div_ceil(columns);
    let widest = |axis: usize| dims.iter().map(|d| d[axis]).max().unwrap_or(0) as i64;
    let pitch = [widest(0) + SCENE_GAP as i64, widest(1) + SCENE_GAP as i64];
    let extent = [pitch[0] * columns as i64, pitch[1] * rows as i64];
    dims.iter()
        .enumerate()
        .map(|(k, d)| {
            let cell = [(k % columns) as i64, (k / columns) as i64];
            [0, 1].map(|a| cell[a] * pitch[a] - extent[a] / 2 + (pitch[a] - d[a] as i64) / 2)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scene_cells_do_not_overlap_and_keep_the_gap() {
        let dims = [[10, 6, 4], [8, 8, 8], [3, 3, 3], [10, 10, 2], [1, 1, 1]];
        let at = scene_offsets(&dims, 3);
        for i in 0..dims.len() {
            for j in i + 1..dims.len() {
                let apart = (0..2).any(|a| {
                    let (lo_i, hi_i) = (at[i][a], at[i][a] + dims[i][a] as i64);
                    let (lo_j, hi_j) = (at[j][a], at[j][a] + dims[j][a] as i64);
                    hi_i + SCENE_GAP as i64 <= lo_j || hi_j + SCENE_GAP as i64 <= lo_i
                });
                assert!(apart, "{i} and {j} at {:?} {:?}", at[i], at[j]);
            }
        }
        // Cells are 14 x 14; three columns and two rows centred on the origin.
        assert_eq!(at[0], [-21 + 2, -14 + 4]);
        assert_eq!(at[4], [-7 + 6, 6]);
    }

    #[test]
    fn one_row_is_centred() {
        let at = scene_offsets(&[[4, 4, 4], [4, 4, 4]], 2);
        assert_eq!(at, vec![[-6, -2], [2, -2]]);
    }
}
