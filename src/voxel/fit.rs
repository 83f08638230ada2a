//! Fitting a model into a cube grid: one uniform scale so the longest extent fills the room left
//! by the margin, centred on every axis, aspect ratio kept.

use rayon::prelude::*;

use crate::mesh::{Mesh, Triangle};

/// How far (in voxels) a fitted mesh is pulled in from the edges of its room, so that faces lying
/// exactly on the bounding box fall inside the outer voxel layer instead of on a voxel boundary.
/// An axis-aligned cube then fills exactly `room` voxels per axis, not `room + 1`.
const MESH_INSET: f64 = 1e-3;

/// Shift (in voxels, less than [`MESH_INSET`]) added to every fitted mesh coordinate, so a face
/// lying exactly on a voxel boundary belongs to the voxel above it only, as a rasterizer's
/// tie-break rule does: a flat sheet centred in an even grid stays one voxel thick.
const MESH_NUDGE: f64 = 4e-4;

/// An affine map from model space to grid space: `grid = model * scale + offset`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Fit {
    scale: f64,
    offset: [f64; 3],
}

impl Fit {
    /// Fits the box `lo..=hi` into an `n`-cube so its longest extent spans `room - 2 * inset`
    /// voxels, centred. A box with no extent is centred at scale 1.
    pub(crate) fn new(lo: [f64; 3], hi: [f64; 3], n: usize, room: usize, inset: f64) -> Fit {
        let extent = (0..3).map(|a| hi[a] - lo[a]).fold(0.0, f64::max);
        let span = (room as f64 - 2.0 * inset).max(0.0);
        let scale = if extent > 0.0 && extent.is_finite() { span / extent } else { 1.0 };
        let centre = n as f64 / 2.0;
        let offset = std::array::from_fn(|a| centre - (lo[a] + hi[a]) / 2.0 * scale);
        Fit { scale, offset }
    }

    /// The fit for a mesh with corners in `lo..=hi`: pulled in by [`MESH_INSET`] and nudged by
    /// [`MESH_NUDGE`].
    pub(crate) fn for_mesh(lo: [f64; 3], hi: [f64; 3], n: usize, room: usize) -> Fit {
        let mut fit = Fit::new(lo, hi, n, room, MESH_INSET);
        fit.offset = fit.offset.map(|o| o + MESH_NUDGE);
        fit
    }

    /// Grid voxels per model unit.
    pub(crate) fn scale(&self) -> f64 {
        self.scale
    }

    /// Where model coordinate `value` along `axis` lands in the grid.
    #[inline]
    pub(crate) fn map(&self, axis: usize, value: f64) -> f64 {
        value * self.scale + self.offset[axis]
    }

    /// Where the model point `p` lands in the grid.
    #[inline]
    pub(crate) fn apply(&self, p: [f32; 3]) -> [f32; 3] {
        std::array::from_fn(|a| self.map(a, p[a] as f64) as f32)
    }
}

/// True when every corner coordinate of `t` is finite.
pub(crate) fn is_finite(t: &Triangle) -> bool {
    t.positions.iter().flatten().all(|c| c.is_finite())
}

/// Bounds of the corners of every triangle whose corners are all finite, or `None` when there is
/// no such triangle. Non-finite triangles are left out so one NaN cannot spoil the fit.
pub(crate) fn finite_bounds(mesh: &Mesh) -> Option<([f64; 3], [f64; 3])> {
    // Per-axis min and max in f32 are exact, so converting afterwards changes nothing.
    let none = || ([f32::INFINITY; 3], [f32::NEG_INFINITY; 3]);
    let (lo, hi) = mesh
        .triangles
        .par_iter()
        .filter(|t| is_finite(t))
        .fold(none, |(mut lo, mut hi), t| {
            for p in &t.positions {
                for a in 0..3 {
                    (lo[a], hi[a]) = (lo[a].min(p[a]), hi[a].max(p[a]));
                }
            }
            (lo, hi)
        })
        .reduce(none, |(lo, hi), (l, h)| {
            (std::array::from_fn(|a| lo[a].min(l[a])), std::array::from_fn(|a| hi[a].max(h[a])))
        });
    (lo[0] <= hi[0]).then(|| (lo.map(f64::from), hi.map(f64::from)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_extent_fills_the_room_centred() {
        let fit = Fit::new([0.0, 0.0, 0.0], [2.0, 1.0, 1.0], 32, 32, 0.0);
        assert_eq!(fit.scale(), 16.0);
        assert_eq!(fit.apply([0.0, 0.0, 0.0]), [0.0, 8.0, 8.0]);
        assert_eq!(fit.apply([2.0, 1.0, 1.0]), [32.0, 24.0, 24.0]);
    }

    #[test]
    fn margin_and_inset_shrink_the_span() {
        let fit = Fit::new([-1.0; 3], [1.0; 3], 32, 28, 0.5);
        assert_eq!(fit.scale(), 13.5);
        assert_eq!(fit.apply([-1.0; 3]), [2.5; 3]);
        assert_eq!(fit.apply([1.0; 3]), [29.5; 3]);
    }

    #[test]
    fn mesh_fit_keeps_faces_inside_the_outer_layers() {
        let fit = Fit::for_mesh([0.0; 3], [1.0, 1.0, 0.0], 8, 8);
        let [lo, hi] = [[0.0; 3], [1.0; 3]].map(|p| fit.apply(p));
        assert!(lo[0] > 0.0 && lo[0] < 0.01 && hi[0] < 8.0 && hi[0] > 7.99);
        // The flat axis is centred on the boundary 4.0 and nudged into voxel 4.
        assert!(lo[2] > 4.0 && lo[2] < 4.001);
    }

    #[test]
    fn flat_and_empty_boxes_stay_finite() {
        let flat = Fit::new([0.0, 0.0, 5.0], [4.0, 2.0, 5.0], 16, 16, 0.0);
        assert_eq!(flat.apply([4.0, 2.0, 5.0]), [16.0, 12.0, 8.0]);
        let point = Fit::new([3.0; 3], [3.0; 3], 16, 16, 0.0);
        assert_eq!(point.scale(), 1.0);
        assert_eq!(point.apply([3.0; 3]), [8.0; 3]);
    }

    #[test]
    fn bounds_skip_non_finite_triangles() {
        let tri = |positions| Triangle { positions, colors: None, uvs: None, material: 0 };
        let mesh = Mesh {
            triangles: vec![
                tri([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 2.0, 0.0]]),
                tri([[f32::NAN, 0.0, 0.0], [9.0, 9.0, 9.0], [0.0, 0.0, 0.0]]),
                tri([[0.0, 0.0, -1.0], [f32::INFINITY, 0.0, 0.0], [0.0, 0.0, 0.0]]),
            ],
            ..Default::default()
        };
        assert_eq!(finite_bounds(&mesh), Some(([0.0; 3], [1.0, 2.0, 0.0])));
        assert_eq!(finite_bounds(&Mesh::default()), None);
    }
}
