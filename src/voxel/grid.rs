//! [`VoxelGrid`]: occupancy plus an sRGB colour per voxel, Z-up.

use crate::error::{Error, Result};

/// Largest edge a grid may have along any axis (MagicaVoxel's limit too).
pub const MAX_EDGE: usize = 256;

/// A box of voxels: each cell is empty or holds an sRGB colour.
///
/// Index `(x, y, z)` with `z` up; cells are stored x-fastest (`x + nx * (y + ny * z)`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoxelGrid {
    dims: [usize; 3],
    cells: Vec<Option<[u8; 3]>>,
}

impl VoxelGrid {
    /// An empty grid of the given size. Each edge must be between 1 and [`MAX_EDGE`].
    pub fn new(dims: [usize; 3]) -> Result<Self> {
        if dims.iter().any(|&d| d == 0 || d > MAX_EDGE) {
            return Err(Error::invalid(
                "grid size",
                format!(
                    "{}x{}x{} (each edge must be between 1 and {MAX_EDGE})",
                    dims[0], dims[1], dims[2]
                ),
            ));
        }
        Ok(VoxelGrid { dims, cells: vec![None; dims[0] * dims[1] * dims[2]] })
    }

    /// A grid of the given size from cells laid out x-fastest; fails when a size is out of range
    /// or the cell count does not match. Lets a producer fill the cells in parallel first.
    pub(crate) fn from_cells(dims: [usize; 3], cells: Vec<Option<[u8; 3]>>) -> Result<Self> {
        let expected = dims.iter().product::<usize>();
        if dims.iter().any(|&d| d == 0 || d > MAX_EDGE) || cells.len() != expected {
            return Err(Error::invalid(
                "grid size",
                format!("{}x{}x{} with {} cells", dims[0], dims[1], dims[2], cells.len()),
            ));
        }
        Ok(VoxelGrid { dims, cells })
    }

    /// An empty cube grid of edge `n`.
    pub fn cube(n: usize) -> Result<Self> {
        Self::new([n, n, n])
    }

    /// Size along x, y and z.
    pub fn dims(&self) -> [usize; 3] {
        self.dims
    }

    /// Linear index of `(x, y, z)`; the caller keeps it in range.
    #[inline]
    pub fn index(&self, x: usize, y: usize, z: usize) -> usize {
        x + self.dims[0] * (y + self.dims[1] * z)
    }

    /// True when `(x, y, z)` lies inside the grid.
    #[inline]
    pub fn contains(&self, x: i64, y: i64, z: i64) -> bool {
        x >= 0
            && y >= 0
            && z >= 0
            && (x as usize) < self.dims[0]
            && (y as usize) < self.dims[1]
            && (z as usize) < self.dims[2]
    }

    /// The colour at `(x, y, z)`, or `None` when empty or outside the grid.
    #[inline]
    pub fn get(&self, x: usize, y: usize, z: usize) -> Option<[u8; 3]> {
        if x < self.dims[0] && y < self.dims[1] && z < self.dims[2] {
            self.cells[self.index(x, y, z)]
        } else {
            None
        }
    }

    /// True when `(x, y, z)` holds a voxel; signed so neighbours can be probed freely.
    #[inline]
    pub fn is_filled(&self, x: i64, y: i64, z: i64) -> bool {
        self.contains(x, y, z)
            && self.cells[self.index(x as usize, y as usize, z as usize)].is_some()
    }

    /// Sets or clears `(x, y, z)`. Out-of-range coordinates are ignored.
    #[inline]
    pub fn set(&mut self, x: usize, y: usize, z: usize, value: Option<[u8; 3]>) {
        if x < self.dims[0] && y < self.dims[1] && z < self.dims[2] {
            let i = self.index(x, y, z);
            self.cells[i] = value;
        }
    }

    /// All cells, x-fastest.
    pub fn cells(&self) -> &[Option<[u8; 3]>] {
        &self.cells
    }

    /// All cells, x-fastest, mutable.
    pub fn cells_mut(&mut self) -> &mut [Option<[u8; 3]>] {
        &mut self.cells
    }

    /// Number of filled voxels.
    pub fn count(&self) -> usize {
        self.cells.iter().filter(|c| c.is_some()).count()
    }

    /// Iterates over filled voxels as `([x, y, z], colour)`.
    pub fn voxels(&self) -> impl Iterator<Item = ([usize; 3], [u8; 3])> + '_ {
        let [nx, ny, _] = self.dims;
        self.cells
            .iter()
            .enumerate()
            .filter_map(move |(i, c)| c.map(|rgb| ([i % nx, (i / nx) % ny, i / (nx * ny)], rgb)))
    }

    /// Smallest box `(min, max)` (inclusive) holding every filled voxel, or `None` when empty.
    pub fn bounds(&self) -> Option<([usize; 3], [usize; 3])> {
        let mut it = self.voxels();
        let (first, _) = it.next()?;
        let (mut lo, mut hi) = (first, first);
        for (p, _) in it {
            for a in 0..3 {
                lo[a] = lo[a].min(p[a]);
                hi[a] = hi[a].max(p[a]);
            }
        }
        Some((lo, hi))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_round_trips_through_voxels() {
        let mut g = VoxelGrid::new([3, 4, 5]).unwrap();
        g.set(2, 3, 4, Some([1, 2, 3]));
        g.set(0, 1, 2, Some([9, 9, 9]));
        let got: Vec<_> = g.voxels().collect();
        assert_eq!(got, vec![([0, 1, 2], [9, 9, 9]), ([2, 3, 4], [1, 2, 3])]);
        assert_eq!(g.count(), 2);
        assert_eq!(g.bounds(), Some(([0, 1, 2], [2, 3, 4])));
        assert!(!g.is_filled(-1, 0, 0));
    }

    #[test]
    fn from_cells_checks_the_count() {
        let g = VoxelGrid::from_cells([2, 1, 1], vec![None, Some([1, 2, 3])]).unwrap();
        assert_eq!(g.get(1, 0, 0), Some([1, 2, 3]));
        assert!(VoxelGrid::from_cells([2, 2, 1], vec![None]).is_err());
        assert!(VoxelGrid::from_cells([0, 1, 1], vec![]).is_err());
    }

    #[test]
    fn rejects_absurd_sizes() {
        assert!(VoxelGrid::new([0, 4, 4]).is_err());
        assert!(VoxelGrid::new([257, 4, 4]).is_err());
        assert!(VoxelGrid::cube(256).is_ok());
    }
}
