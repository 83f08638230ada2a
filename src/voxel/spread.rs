//! Interior colour: every interior voxel takes the colour of its nearest surface voxel in the
//! city-block metric, reached through the solid, the way a 6-neighbour multi-source flood from
//! the surface would spread colours.
//!
//! The city-block distance separates by axis. Along z it is read straight from the surface
//! voxels of each (x, y) column, kept as short sorted lists that a run of slices walks upward
//! with one cursor per column; then each z-slice gets a forward and a backward min-plus sweep
//! along y and along x through its solid voxels only (empty voxels are barriers), in a small
//! buffer. Runs of consecutive slices are worked on in parallel. For convex
//! parts this is the exact nearest surface voxel; around concave corners it may pick one a
//! little farther, as a flood confined to the solid does. A buffer word packs
//! `distance << 24 | sRGB`, so one unsigned `min` picks the nearer colour (ties go to the
//! smaller sRGB value).

use rayon::prelude::*;

use super::color::{unpack, EMPTY};
use super::fill::Solid;
use super::surface::Surface;
use super::VoxelGrid;

/// One voxel of distance in a packed word.
const STEP: u32 = 1 << 24;

/// The colour bits of a packed word.
const RGB: u32 = 0x00FF_FFFF;

/// Colours every voxel of `grid` (an `n`-cube whose occupancy is `solid`) from the nearest
/// `surface` voxel; a surface voxel is its own nearest, so it keeps its colour.
pub(crate) fn spread(grid: &mut VoxelGrid, solid: &Solid, surface: &Surface) {
    let Some((lo, hi)) = solid.bounds else { return };
    let n = grid.dims()[0];
    let columns = Columns::new(surface, n);
    let (starts, colours) = grid.colours_mut();
    // The colours of each z-slice are one run of the list, from its first row's start.
    let slice_start = |z: usize| starts[z * n] as usize;
    let mut rest = &mut colours[slice_start(lo[2])..];
    let mut slices = Vec::with_capacity(hi[2] + 1 - lo[2]);
    for z in lo[2]..=hi[2] {
        let (slice, after) = rest.split_at_mut(slice_start(z + 1) - slice_start(z));
        slices.push(slice);
        rest = after;
    }
    let run = slices.len().div_ceil(rayon::current_num_threads() * RUNS_PER_THREAD);
    slices.par_chunks_mut(run).enumerate().for_each_init(
        || SliceWork::new(n),
        |work, (k, outs)| {
            work.cursors.fill(UNSET);
            for (dz, out) in outs.iter_mut().enumerate() {
                let z = lo[2] + k * run + dz;
                work.gather(solid, z, lo, hi);
                work.nearest(&columns, z);
                work.take(out);
            }
        },
    );
}

/// Runs of consecutive z-slices per worker thread, for load balance.
const RUNS_PER_THREAD: usize = 4;

/// A column cursor not yet placed in this run of slices.
const UNSET: u32 = u32::MAX;

/// One thread's buffers for a z-slice: the solid voxels of each row and the packed words.
struct SliceWork {
    n: usize,
    /// First row gathered.
    y0: usize,
    /// x of the solid voxels, row after row.
    xs: Vec<u16>,
    /// Where each gathered row starts in `xs` (one more entry than rows).
    starts: Vec<usize>,
    /// Packed words of the slice, [`EMPTY`] everywhere but at solid voxels.
    buf: Vec<u32>,
    /// Per column `x + n * y`: where in [`Columns::items`] the first surface voxel above the
    /// last slice looked at lies, or [`UNSET`].
    cursors: Vec<u32>,
}

impl SliceWork {
    fn new(n: usize) -> Self {
        let cells = n * n;
        SliceWork {
            n,
            y0: 0,
            xs: vec![],
            starts: vec![],
            buf: vec![EMPTY; cells],
            cursors: vec![UNSET; cells],
        }
    }

    /// Lists the solid voxels of slice `z` in rows `lo[1]..=hi[1]`.
    fn gather(&mut self, solid: &Solid, z: usize, lo: [usize; 3], hi: [usize; 3]) {
        self.y0 = lo[1];
        self.xs.clear();
        self.starts.clear();
        self.starts.push(0);
        for y in lo[1]..=hi[1] {
            solid.for_each_in_row(y, z, |x| self.xs.push(x as u16));
            self.starts.push(self.xs.len());
        }
    }

    /// Fills the buffer: nearest along z per column, then sweeps along y and x. Slices of one
    /// run come in increasing z.
    fn nearest(&mut self, columns: &Columns, z: usize) {
        let n = self.n;
        for r in 0..self.starts.len() - 1 {
            let y = self.y0 + r;
            for &x in &self.xs[self.starts[r]..self.starts[r + 1]] {
                let column = x as usize + n * y;
                let cursor = &mut self.cursors[column];
                self.buf[column] = columns.nearest(column, z as u32, cursor);
            }
        }
        self.sweep_y();
        self.sweep_x();
    }

    /// Forward and backward along y, each solid voxel against the one before it.
    fn sweep_y(&mut self) {
        let (n, rows) = (self.n, self.starts.len() - 1);
        let relax = |buf: &mut [u32], at: usize, from: usize| {
            buf[at] = buf[at].min(buf[from].saturating_add(STEP));
        };
        for r in 1..rows {
            let y = self.y0 + r;
            for &x in &self.xs[self.starts[r]..self.starts[r + 1]] {
                relax(&mut self.buf, x as usize + n * y, x as usize + n * (y - 1));
            }
        }
        for r in (0..rows.saturating_sub(1)).rev() {
            let y = self.y0 + r;
            for &x in &self.xs[self.starts[r]..self.starts[r + 1]] {
                relax(&mut self.buf, x as usize + n * y, x as usize + n * (y + 1));
            }
        }
    }

    /// Forward and backward along x within each run of solid voxels.
    fn sweep_x(&mut self) {
        let n = self.n;
        for r in 0..self.starts.len() - 1 {
            let row = &mut self.buf[(self.y0 + r) * n..][..n];
            let xs = &self.xs[self.starts[r]..self.starts[r + 1]];
            // The running word stays in a register; a gap in the run starts it afresh.
            let (mut carried, mut last) = (EMPTY, usize::MAX);
            for &x in xs {
                let x = x as usize;
                let own = row[x];
                carried = if x == last.wrapping_add(1) {
                    own.min(carried.saturating_add(STEP))
                } else {
                    own
                };
                row[x] = carried;
                last = x;
            }
            let (mut carried, mut last) = (EMPTY, usize::MAX);
            for &x in xs.iter().rev() {
                let x = x as usize;
                let own = row[x];
                carried = if x.wrapping_add(1) == last {
                    own.min(carried.saturating_add(STEP))
                } else {
                    own
                };
                row[x] = carried;
                last = x;
            }
        }
    }

    /// Writes the colour of every gathered voxel, in index order, to `out` (the slice's run of
    /// colours), and puts [`EMPTY`] back in the buffer so it serves the next slice.
    fn take(&mut self, out: &mut [[u8; 3]]) {
        let n = self.n;
        debug_assert_eq!(self.xs.len(), out.len(), "gathered voxels and colour slots differ");
        let mut slots = out.iter_mut();
        for r in 0..self.starts.len() - 1 {
            let y = self.y0 + r;
            for (&x, slot) in self.xs[self.starts[r]..self.starts[r + 1]].iter().zip(&mut slots) {
                *slot = unpack(std::mem::replace(&mut self.buf[x as usize + n * y], EMPTY));
            }
        }
    }
}

/// Surface voxels grouped by column `x + n * y`, each column by increasing z, packed as
/// `z << 24 | sRGB`.
struct Columns {
    starts: Vec<u32>,
    items: Vec<u32>,
}

impl Columns {
    /// Sorts `surface` (by increasing index, so by z within each column) into columns.
    fn new(surface: &Surface, n: usize) -> Self {
        let slice = n * n;
        let mut starts = vec![0u32; slice + 1];
        for &(i, _) in surface {
            starts[i as usize % slice + 1] += 1;
        }
        for c in 0..slice {
            starts[c + 1] += starts[c];
        }
        let mut next = starts.clone();
        let mut items = vec![0u32; surface.len()];
        for &(i, rgb) in surface {
            let (column, z) = (i as usize % slice, (i as usize / slice) as u32);
            items[next[column] as usize] = z << 24 | super::color::pack(rgb);
            next[column] += 1;
        }
        Columns { starts, items }
    }

    /// The packed word (`|dz| << 24 | sRGB`) of the surface voxel in `column` nearest to height
    /// `z`, or [`EMPTY`] for a column with none.
    ///
    /// `cursor` is where the first voxel above the previous height asked for lies ([`UNSET`] at
    /// first); heights asked for in one column must not decrease.
    #[inline]
    fn nearest(&self, column: usize, z: u32, cursor: &mut u32) -> u32 {
        let (start, end) = (self.starts[column] as usize, self.starts[column + 1] as usize);
        let mut above = match *cursor {
            UNSET => start + self.items[start..end].partition_point(|&item| item >> 24 <= z),
            at => at as usize,
        };
        // Heights are distinct within a column, so the nearest is the last one at or below `z`
        // or the first one above it.
        while above < end && self.items[above] >> 24 <= z {
            above += 1;
        }
        *cursor = above as u32;
        let word = |item: u32| (item >> 24).abs_diff(z) << 24 | item & RGB;
        let below = if above > start { word(self.items[above - 1]) } else { EMPTY };
        below.min(if above < end { word(self.items[above]) } else { EMPTY })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voxel::overlap::tests::Rng;

    /// Brute force: city-block distance to the nearest seed, and the colours at that distance.
    fn nearest(seeds: &Surface, n: usize, p: [usize; 3]) -> (u32, Vec<[u8; 3]>) {
        let mut best = (u32::MAX, vec![]);
        for &(i, c) in seeds {
            let i = i as usize;
            let q = [i % n, (i / n) % n, i / (n * n)];
            let d = (0..3).map(|a| p[a].abs_diff(q[a])).sum::<usize>() as u32;
            if d < best.0 {
                best = (d, vec![]);
            }
            if d == best.0 {
                best.1.push(c);
            }
        }
        best
    }

    #[test]
    fn matches_brute_force_nearest_in_a_full_solid() {
        let n = 9;
        let mut rng = Rng(77);
        let mut seeds: Surface = (0..7u8)
            .map(|k| ((rng.next_f32() * (n * n * n) as f32) as u32, [k, 100 + k, 200 + k]))
            .collect();
        seeds.sort();
        seeds.dedup_by_key(|s| s.0);
        let solid = Solid::full(n);
        let mut expected = Vec::new();
        let columns = Columns::new(&seeds, n);
        let mut work = SliceWork::new(n);
        for z in 0..n {
            work.gather(&solid, z, [0; 3], [n - 1; 3]);
            work.nearest(&columns, z);
            for y in 0..n {
                for x in 0..n {
                    let (d, colours) = nearest(&seeds, n, [x, y, z]);
                    let word = work.buf[x + n * y];
                    assert_eq!(word >> 24, d, "distance at {x},{y},{z}");
                    assert!(colours.contains(&unpack(word)), "colour at {x},{y},{z}");
                }
            }
            let mut slice = vec![[0; 3]; n * n];
            work.take(&mut slice);
            assert!(work.buf.iter().all(|&w| w == EMPTY));
            expected.extend(slice);
        }
        // The whole pass gives the same colours, and the seeds keep their own.
        let mut grid = VoxelGrid::from_occupancy([n; 3], solid.occupancy()).unwrap();
        spread(&mut grid, &solid, &seeds);
        let got: Vec<[u8; 3]> = grid.voxels().map(|(_, c)| c).collect();
        assert_eq!(got, expected);
        for &(i, c) in &seeds {
            let i = i as usize;
            assert_eq!(grid.get(i % n, (i / n) % n, i / (n * n)), Some(c));
        }
    }

    #[test]
    fn empty_voxels_are_barriers() {
        // A row of 7 with surface voxels at x = 0 and x = 4 and a gap at x = 3. Without the
        // gap, x = 2 would tie and take the smaller colour, from x = 4; the gap leaves it the
        // colour of x = 0.
        let n = 7;
        let row = |x: usize| (x + n * (3 + n * 3)) as u32;
        let (left, right) = ([9, 9, 9], [1, 1, 1]);
        let seeds: Surface = vec![(row(0), left), (row(4), right)];
        let solid = Solid::from_row(n, 3, 3, &[0, 1, 2, 4, 5, 6]);
        let mut grid = VoxelGrid::from_occupancy([n; 3], solid.occupancy()).unwrap();
        spread(&mut grid, &solid, &seeds);
        let got: Vec<Option<[u8; 3]>> = (0..n).map(|x| grid.get(x, 3, 3)).collect();
        let (l, r) = (Some(left), Some(right));
        assert_eq!(got, vec![l, l, l, None, r, r, r]);
    }

    #[test]
    fn columns_find_the_nearest_height() {
        let n = 4;
        let at = |z: u32| z * 16 + 5;
        let surface: Surface = vec![(at(0), [1, 1, 1]), (at(2), [2, 2, 2]), (at(3), [3, 3, 3])];
        let columns = Columns::new(&surface, n);
        let fresh = |column: usize, z: u32| columns.nearest(column, z, &mut UNSET.clone());
        assert_eq!(fresh(5, 1), 1 << 24 | 0x010101);
        assert_eq!(fresh(5, 3), 0x030303);
        assert_eq!(fresh(6, 1), EMPTY);
        // A cursor walked upward agrees with fresh look-ups, skipped heights included.
        let mut cursor = UNSET;
        for z in [0, 1, 3, 3] {
            assert_eq!(columns.nearest(5, z, &mut cursor), fresh(5, z), "height {z}");
        }
        assert_eq!(cursor, 3);
    }
}
