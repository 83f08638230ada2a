//! [`VoxelGrid`]: occupancy plus an sRGB colour per voxel, Z-up.
//!
//! The grid is stored compactly: one occupancy bit per cell, in rows along x, and the colours of
//! the filled cells only, in index order, with the number of filled cells before each row. A
//! 256³ grid of a solid creature takes about 14 MB instead of the 64 MiB of one colour slot per
//! cell, and making one touches only that much memory. Reading a cell is a bit test plus, for its
//! colour, a count of the filled cells before it in its row.

use crate::error::{Error, Result};

/// Largest edge a grid may have along any axis (MagicaVoxel's limit too).
pub const MAX_EDGE: usize = 256;

/// A box of voxels: each cell is empty or holds an sRGB colour.
///
/// Index `(x, y, z)` with `z` up; cells are ordered x-fastest (`x + nx * (y + ny * z)`), and
/// [`VoxelGrid::voxels`] lists them in that order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoxelGrid {
    dims: [usize; 3],
    /// Occupancy words per row (`ceil(nx / 64)`).
    wpr: usize,
    /// Occupancy, row `y + ny * z` after row; the bits past `nx` in a row's last word are zero.
    bits: Vec<u64>,
    /// Filled cells before each row, and the total at the end (one more entry than rows).
    starts: Vec<u32>,
    /// Colours of the filled cells, in index order.
    colours: Vec<[u8; 3]>,
}

impl VoxelGrid {
    /// An empty grid of the given size. Each edge must be between 1 and [`MAX_EDGE`].
    pub fn new(dims: [usize; 3]) -> Result<Self> {
        check_dims(dims)?;
        let (wpr, rows) = (dims[0].div_ceil(64), dims[1] * dims[2]);
        Ok(VoxelGrid {
            dims,
            wpr,
            bits: vec![0; wpr * rows],
            starts: vec![0; rows + 1],
            colours: Vec::new(),
        })
    }

    /// A grid of the given size from one entry per cell, laid out x-fastest; fails when a size
    /// is out of range or the cell count does not match.
    pub fn from_cells(dims: [usize; 3], cells: &[Option<[u8; 3]>]) -> Result<Self> {
        let expected = dims.iter().product::<usize>();
        if check_dims(dims).is_err() || cells.len() != expected {
            return Err(Error::invalid(
                "grid size",
                format!("{}x{}x{} with {} cells", dims[0], dims[1], dims[2], cells.len()),
            ));
        }
        let mut grid = Self::new(dims)?;
        let wpr = grid.wpr;
        for (r, row) in cells.chunks_exact(dims[0]).enumerate() {
            for (x, cell) in row.iter().enumerate() {
                if let Some(rgb) = cell {
                    grid.bits[r * wpr + x / 64] |= 1 << (x % 64);
                    grid.colours.push(*rgb);
                }
            }
            grid.starts[r + 1] = grid.colours.len() as u32;
        }
        Ok(grid)
    }

    /// A grid with the occupancy `bits` (rows of `ceil(nx / 64)` words, as stored) and every
    /// colour black, for a producer to colour through [`VoxelGrid::parts_mut`].
    pub(crate) fn from_occupancy(dims: [usize; 3], bits: Vec<u64>) -> Result<Self> {
        Self::with_colours(dims, bits, None)
    }

    /// As [`VoxelGrid::from_occupancy`], with the colour list made by the caller (one entry per
    /// set bit), so a large one can be allocated while the bits are being made.
    pub(crate) fn with_colours(
        dims: [usize; 3],
        bits: Vec<u64>,
        colours: Option<Vec<[u8; 3]>>,
    ) -> Result<Self> {
        let mut grid = Self::new(dims)?;
        if bits.len() != grid.bits.len() {
            return Err(Error::invalid("occupancy", format!("{} words", bits.len())));
        }
        let (wpr, mask) = (grid.wpr, last_mask(dims[0]));
        let mut total = 0u32;
        for (r, row) in bits.chunks_exact(wpr).enumerate() {
            if row[wpr - 1] & !mask != 0 {
                return Err(Error::invalid("occupancy", format!("bits past the end of row {r}")));
            }
            total += row.iter().map(|w| w.count_ones()).sum::<u32>();
            grid.starts[r + 1] = total;
        }
        grid.bits = bits;
        grid.colours = match colours {
            Some(c) if c.len() == total as usize => c,
            Some(c) => {
                let why = format!("{} colours for {total} filled cells", c.len());
                return Err(Error::invalid("occupancy", why));
            }
            None => vec![[0; 3]; total as usize],
        };
        Ok(grid)
    }

    /// An empty cube grid of edge `n`.
    pub fn cube(n: usize) -> Result<Self> {
        Self::new([n, n, n])
    }

    /// Size along x, y and z.
    pub fn dims(&self) -> [usize; 3] {
        self.dims
    }

    /// Linear index of `(x, y, z)` in x-fastest order; the caller keeps it in range.
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
        if x >= self.dims[0] || y >= self.dims[1] || z >= self.dims[2] {
            return None;
        }
        let row = y + self.dims[1] * z;
        self.filled_at(row, x).then(|| self.colours[self.slot(row, x)])
    }

    /// True when `(x, y, z)` holds a voxel; signed so neighbours can be probed freely.
    #[inline]
    pub fn is_filled(&self, x: i64, y: i64, z: i64) -> bool {
        self.contains(x, y, z) && self.filled_at(y as usize + self.dims[1] * z as usize, x as usize)
    }

    /// Sets or clears `(x, y, z)`. Out-of-range coordinates are ignored.
    ///
    /// Changing a colour is cheap; filling or clearing a cell moves the colours after it, so
    /// build large grids with [`VoxelGrid::from_cells`] instead.
    pub fn set(&mut self, x: usize, y: usize, z: usize, value: Option<[u8; 3]>) {
        if x >= self.dims[0] || y >= self.dims[1] || z >= self.dims[2] {
            return;
        }
        let row = y + self.dims[1] * z;
        let (word, bit) = (row * self.wpr + x / 64, 1u64 << (x % 64));
        let slot = self.slot(row, x);
        match (self.bits[word] & bit != 0, value) {
            (true, Some(rgb)) => self.colours[slot] = rgb,
            (false, None) => {}
            (false, Some(rgb)) => {
                self.bits[word] |= bit;
                self.colours.insert(slot, rgb);
                self.starts[row + 1..].iter_mut().for_each(|s| *s += 1);
            }
            (true, None) => {
                self.bits[word] &= !bit;
                self.colours.remove(slot);
                self.starts[row + 1..].iter_mut().for_each(|s| *s -= 1);
            }
        }
    }

    /// Number of filled voxels.
    pub fn count(&self) -> usize {
        self.colours.len()
    }

    /// True when no voxel is filled.
    pub fn is_empty(&self) -> bool {
        self.colours.is_empty()
    }

    /// Every cell, x-fastest: a dense copy for code that walks the whole box.
    pub fn to_cells(&self) -> Vec<Option<[u8; 3]>> {
        let mut cells = vec![None; self.dims.iter().product()];
        for ([x, y, z], rgb) in self.voxels() {
            cells[x + self.dims[0] * (y + self.dims[1] * z)] = Some(rgb);
        }
        cells
    }

    /// Iterates over filled voxels as `([x, y, z], colour)`, in index order.
    pub fn voxels(&self) -> impl Iterator<Item = ([usize; 3], [u8; 3])> + '_ {
        let (ny, wpr) = (self.dims[1], self.wpr);
        let cells = self.bits.iter().enumerate().flat_map(move |(w, &word)| {
            let (row, base) = (w / wpr, (w % wpr) * 64);
            Ones(word).map(move |b| [base + b, row % ny, row / ny])
        });
        cells.zip(self.colours.iter().copied())
    }

    /// Smallest box `(min, max)` (inclusive) holding every filled voxel, or `None` when empty.
    pub fn bounds(&self) -> Option<([usize; 3], [usize; 3])> {
        bit_bounds(&self.bits, self.wpr, self.dims[1])
    }

    /// The colours of the filled cells in index order, to write, with the occupancy rows they
    /// belong to and the number of filled cells before each row `y + ny * z` (one more entry
    /// than rows).
    pub(crate) fn parts_mut(&mut self) -> (&[u64], &[u32], &mut [[u8; 3]]) {
        (&self.bits, &self.starts, &mut self.colours)
    }

    #[inline]
    fn filled_at(&self, row: usize, x: usize) -> bool {
        self.bits[row * self.wpr + x / 64] >> (x % 64) & 1 == 1
    }

    /// Where the colour of cell `x` of `row` is (or would be inserted) in `colours`.
    #[inline]
    fn slot(&self, row: usize, x: usize) -> usize {
        let words = &self.bits[row * self.wpr..][..x / 64 + 1];
        let (last, whole) = words.split_last().expect("a row has a word");
        let before: u32 = whole.iter().map(|w| w.count_ones()).sum();
        let below = last & ((1u64 << (x % 64)) - 1);
        (self.starts[row] + before + below.count_ones()) as usize
    }
}

/// Fails unless every edge is between 1 and [`MAX_EDGE`].
fn check_dims(dims: [usize; 3]) -> Result<()> {
    if dims.iter().any(|&d| d == 0 || d > MAX_EDGE) {
        return Err(Error::invalid(
            "grid size",
            format!(
                "{}x{}x{} (each edge must be between 1 and {MAX_EDGE})",
                dims[0], dims[1], dims[2]
            ),
        ));
    }
    Ok(())
}

/// Inclusive bounds `(min, max)` of the set bits in `bits`, rows along x of `wpr` words each,
/// row `y + ny * z`; `None` when no bit is set.
pub(crate) fn bit_bounds(bits: &[u64], wpr: usize, ny: usize) -> Option<([usize; 3], [usize; 3])> {
    let (mut lo, mut hi) = ([usize::MAX; 3], [0; 3]);
    let mut any_x = vec![0u64; wpr];
    for (r, row) in bits.chunks_exact(wpr).enumerate() {
        if row.iter().all(|&w| w == 0) {
            continue;
        }
        let (y, z) = (r % ny, r / ny);
        (lo[1], hi[1]) = (lo[1].min(y), hi[1].max(y));
        (lo[2], hi[2]) = (lo[2].min(z), hi[2].max(z));
        any_x.iter_mut().zip(row).for_each(|(acc, w)| *acc |= w);
    }
    let first = any_x.iter().position(|&w| w != 0)?;
    let last = any_x.iter().rposition(|&w| w != 0)?;
    lo[0] = first * 64 + any_x[first].trailing_zeros() as usize;
    hi[0] = last * 64 + 63 - any_x[last].leading_zeros() as usize;
    Some((lo, hi))
}

/// The bits of a row's last word that lie inside a row of `nx` cells.
pub(crate) fn last_mask(nx: usize) -> u64 {
    match nx % 64 {
        0 => u64::MAX,
        r => (1u64 << r) - 1,
    }
}

/// The runs of consecutive set bits of an occupancy row (its words, lowest bit first), as
/// ranges of x, lowest first.
pub(crate) struct Runs<'a> {
    words: &'a [u64],
    at: usize,
}

impl<'a> Runs<'a> {
    pub(crate) fn new(words: &'a [u64]) -> Self {
        Runs { words, at: 0 }
    }

    /// The first position at or after `from` whose bit differs from `clear` (a set bit when
    /// `clear` is false, a clear one when true).
    #[inline]
    fn next_bit(&self, from: usize, clear: bool) -> Option<usize> {
        let flip = if clear { u64::MAX } else { 0 };
        let mut i = from / 64;
        let mut word = (self.words.get(i)? ^ flip) & u64::MAX << (from % 64);
        while word == 0 {
            i += 1;
            word = self.words.get(i)? ^ flip;
        }
        Some(i * 64 + word.trailing_zeros() as usize)
    }
}

impl Iterator for Runs<'_> {
    type Item = std::ops::Range<usize>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let start = self.next_bit(self.at, false)?;
        let end = self.next_bit(start, true).unwrap_or(self.words.len() * 64);
        self.at = end;
        Some(start..end)
    }
}

/// The positions of the set bits of a word, lowest first.
pub(crate) struct Ones(pub u64);

impl Iterator for Ones {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        (self.0 != 0).then(|| {
            let b = self.0.trailing_zeros() as usize;
            self.0 &= self.0 - 1;
            b
        })
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
    fn set_keeps_colours_in_order_across_words_and_rows() {
        // 130 wide: three words a row. Set out of order, overwrite, clear; compare with a
        // dense copy kept alongside.
        let dims = [130, 3, 2];
        let mut g = VoxelGrid::new(dims).unwrap();
        let mut dense = vec![None; 130 * 6];
        let mut state = 7u32;
        for _ in 0..600 {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let i = (state >> 8) as usize % dense.len();
            let value =
                (!state.is_multiple_of(5)).then_some([(state >> 3) as u8, 1, (i % 256) as u8]);
            let (x, y, z) = (i % 130, (i / 130) % 3, i / 390);
            g.set(x, y, z, value);
            dense[i] = value;
        }
        assert_eq!(g.to_cells(), dense);
        assert_eq!(g, VoxelGrid::from_cells(dims, &dense).unwrap());
        assert_eq!(g.count(), dense.iter().flatten().count());
        for (i, cell) in dense.iter().enumerate() {
            assert_eq!(g.get(i % 130, (i / 130) % 3, i / 390), *cell, "cell {i}");
        }
    }

    #[test]
    fn from_cells_checks_the_count() {
        let g = VoxelGrid::from_cells([2, 1, 1], &[None, Some([1, 2, 3])]).unwrap();
        assert_eq!(g.get(1, 0, 0), Some([1, 2, 3]));
        assert!(VoxelGrid::from_cells([2, 2, 1], &[None]).is_err());
        assert!(VoxelGrid::from_cells([0, 1, 1], &[]).is_err());
    }

    #[test]
    fn occupancy_sets_the_count_and_refuses_stray_bits() {
        let mut bits = vec![0u64; 2 * 2];
        bits[0] = 0b101;
        bits[3] = 1 << 5;
        let mut g = VoxelGrid::from_occupancy([70, 2, 1], bits.clone()).unwrap();
        assert_eq!(g.count(), 3);
        let (_, starts, colours) = g.parts_mut();
        assert_eq!(starts, &[0, 2, 3]);
        colours[2] = [7, 8, 9];
        assert_eq!(g.get(69, 1, 0), Some([7, 8, 9]));
        assert_eq!(g.get(2, 0, 0), Some([0, 0, 0]));
        bits[1] = 1 << 6;
        assert!(VoxelGrid::from_occupancy([70, 2, 1], bits).is_err());
    }

    #[test]
    fn runs_cross_words_and_stop_at_the_row_end() {
        let runs = |words: &[u64]| Runs::new(words).collect::<Vec<_>>();
        assert!(runs(&[0, 0]).is_empty());
        assert_eq!(runs(&[0b1101, 0]), vec![0..1, 2..4]);
        assert_eq!(runs(&[u64::MAX << 62, 0b11]), vec![62..66]);
        assert_eq!(runs(&[1 << 63, u64::MAX]), vec![63..128]);
        assert_eq!(runs(&[u64::MAX]), vec![0..64]);
    }

    #[test]
    fn rejects_absurd_sizes() {
        assert!(VoxelGrid::new([0, 4, 4]).is_err());
        assert!(VoxelGrid::new([257, 4, 4]).is_err());
        assert!(VoxelGrid::cube(256).is_ok());
    }
}
