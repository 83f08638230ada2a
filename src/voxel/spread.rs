//! Interior colour: every interior voxel takes the colour of its nearest surface voxel in the
//! city-block metric, reached through the solid, the way a 6-neighbour multi-source flood from
//! the surface would spread colours.
//!
//! The city-block distance separates by axis. Along z it comes from the surface voxels of each
//! (x, y) column: a run of slices walks upward keeping, per column, the nearest surface voxel at
//! or below the slice and the first one above it. Within each z-slice, one pass in increasing y
//! takes the column's word and relaxes it against the row before; a pass in decreasing y then
//! relaxes each row against the row after and sweeps it forward and backward along x, writing
//! the colours. Empty voxels are barriers: only runs of solid voxels are visited. Runs of
//! consecutive slices are worked on in parallel. For convex parts this is the exact nearest
//! surface voxel; around concave corners it may pick one a little farther, as a flood confined
//! to the solid does. A word packs `distance << 24 | sRGB`, so one unsigned `min` picks the
//! nearer colour (ties go to the smaller sRGB value).

use rayon::prelude::*;

use super::color::{pack, unpack, EMPTY};
use super::fill::Solid;
use super::grid::Runs;
use super::surface::{cells, prefix_sum, Surface};
use super::VoxelGrid;

/// One voxel of distance in a packed word.
const STEP: u32 = 1 << 24;

/// The colour bits of a packed word or a height word.
const RGB: u64 = 0x00FF_FFFF;

/// Runs of consecutive z-slices per worker thread, for load balance.
const RUNS_PER_THREAD: usize = 4;

/// No surface voxel: in a height word (`z << 32 | sRGB`) or a surface list position.
const NONE: u64 = u64::MAX;
const NO_VOXEL: u32 = u32::MAX;

/// Colours every voxel of `grid` (an `n`-cube whose occupancy is `solid`) from the nearest
/// `surface` voxel; a surface voxel is its own nearest, so it keeps its colour. `chains` is
/// [`Chains::new`] of the same surface.
pub(crate) fn spread(grid: &mut VoxelGrid, solid: &Solid, surface: &Surface, chains: &Chains) {
    let Some((lo, hi)) = solid.bounds else { return };
    debug_assert!(chains.layers.contains(&lo[2]) && chains.layers.contains(&hi[2]));
    let (lo, hi) = ([lo[0], lo[1], chains.layers.start], [hi[0], hi[1], chains.layers.end - 1]);
    let (n, run, firsts) = (grid.dims()[0], chains.run, &chains.firsts);
    let depth = hi[2] + 1 - lo[2];
    let (bits, starts, colours) = grid.parts_mut();
    // The colours of each z-slice are one run of the list, from its first row's start.
    let slice_start = |z: usize| starts[z * n] as usize;
    let mut rest = &mut colours[slice_start(lo[2])..];
    let mut slices = Vec::with_capacity(depth);
    for z in lo[2]..=hi[2] {
        let (slice, after) = rest.split_at_mut(slice_start(z + 1) - slice_start(z));
        slices.push(slice);
        rest = after;
    }
    let wpr = n.div_ceil(64);
    slices.par_chunks_mut(run).enumerate().for_each_init(
        || RunWork::new(n),
        |work, (k, outs)| {
            work.start(chains, surface, k, lo, hi);
            for (dz, out) in outs.iter_mut().enumerate() {
                let z = firsts[k] + dz;
                let slice = Slice {
                    z,
                    rows: (lo[1], hi[1]),
                    bits: &bits[z * n * wpr..(z + 1) * n * wpr],
                    starts: &starts[z * n..=(z + 1) * n],
                };
                work.enter(chains, surface, z);
                work.down(&slice);
                work.up(&slice, out);
            }
        },
    );
}

/// The occupancy of one z-slice, with where each row's colours start.
struct Slice<'a> {
    z: usize,
    /// First and last row holding solid voxels in any slice.
    rows: (usize, usize),
    /// Occupancy words, row after row.
    bits: &'a [u64],
    /// Filled cells before each row of the whole grid, for this slice's rows and the next.
    starts: &'a [u32],
}

impl Slice<'_> {
    fn runs(&self, y: usize) -> Runs<'_> {
        let wpr = self.bits.len() / (self.starts.len() - 1);
        Runs::new(&self.bits[y * wpr..(y + 1) * wpr])
    }
}

/// The surface voxels linked up their columns, and the runs of slices [`spread`] works in.
pub(crate) struct Chains {
    /// The layers worked on.
    layers: std::ops::Range<usize>,
    /// Slices per run.
    run: usize,
    /// The first slice of each run.
    firsts: Vec<usize>,
    /// Per surface voxel (in list order): the height word of the next surface voxel above it in
    /// its column, or [`NONE`].
    above: Vec<u64>,
    /// Per column: the height word of its lowest surface voxel, or [`NONE`].
    lowest: Vec<u64>,
    /// Per run of slices: per column, the list position of the highest surface voxel below the
    /// run, or [`NO_VOXEL`].
    below_run: Vec<Vec<u32>>,
    /// Where each slice's surface voxels start in the list (one more entry than slices).
    slice_starts: Vec<usize>,
}

/// The height word `z << 32 | sRGB` of a surface voxel.
#[inline]
fn height_word(z: usize, rgb: [u8; 3]) -> u64 {
    (z as u64) << 32 | pack(rgb) as u64
}

impl Chains {
    /// Links the surface of an `n`-cube (by increasing index, so by z within each column) and
    /// splits `layers`, which must hold every solid voxel, into runs for the worker threads.
    pub(crate) fn new(surface: &Surface, n: usize, layers: std::ops::Range<usize>) -> Self {
        let layer = n * n;
        let threads = rayon::current_num_threads();
        let run = layers.len().div_ceil(threads * RUNS_PER_THREAD).max(1);
        let firsts: Vec<usize> = layers.clone().step_by(run).collect();
        let mut above = vec![NONE; surface.len()];
        let mut lowest = vec![NONE; layer];
        let mut last = vec![NO_VOXEL; layer];
        let mut below_run = Vec::with_capacity(firsts.len());
        let mut slice_starts = vec![0; n + 1];
        for (i, ([x, y, z], rgb)) in cells(surface, n).enumerate() {
            let column = x + n * y;
            while below_run.len() < firsts.len() && firsts[below_run.len()] <= z {
                below_run.push(last.clone());
            }
            let word = height_word(z, rgb);
            match last[column] {
                NO_VOXEL => lowest[column] = word,
                j => above[j as usize] = word,
            }
            last[column] = i as u32;
            slice_starts[z + 1] += 1;
        }
        while below_run.len() < firsts.len() {
            below_run.push(last.clone());
        }
        prefix_sum(&mut slice_starts);
        Chains { layers, run, firsts, above, lowest, below_run, slice_starts }
    }
}

/// One thread's state for a run of slices: per column the nearest surface voxel at or below the
/// current slice and the first above it, and the packed words of the slice.
struct RunWork {
    n: usize,
    below: Vec<u64>,
    above: Vec<u64>,
    /// Packed words of the slice with one row of margin on each side, [`EMPTY`] everywhere but
    /// at solid voxels being worked on; cell `x + n * y` is at `n + x + n * y`.
    buf: Vec<u32>,
}

impl RunWork {
    fn new(n: usize) -> Self {
        let layer = n * n;
        RunWork {
            n,
            below: vec![NONE; layer],
            above: vec![NONE; layer],
            buf: vec![EMPTY; layer + 2 * n],
        }
    }

    /// Readies the column state for run `k`, inside the solid's bounds `lo..=hi`.
    fn start(
        &mut self,
        chains: &Chains,
        surface: &Surface,
        k: usize,
        lo: [usize; 3],
        hi: [usize; 3],
    ) {
        let n = self.n;
        for y in lo[1]..=hi[1] {
            let columns = y * n + lo[0]..y * n + hi[0] + 1;
            let below = self.below[columns.clone()].iter_mut();
            let above = self.above[columns.clone()].iter_mut();
            let known = chains.below_run[k][columns.clone()].iter().zip(&chains.lowest[columns]);
            for ((b, a), (&j, &lowest)) in below.zip(above).zip(known) {
                (*b, *a) = match j {
                    NO_VOXEL => (NONE, lowest),
                    j => {
                        let (index, rgb) = surface[j as usize];
                        (height_word(index as usize / (n * n), rgb), chains.above[j as usize])
                    }
                };
            }
        }
    }

    /// Moves the column state up to slice `z`: its surface voxels become the nearest below.
    fn enter(&mut self, chains: &Chains, surface: &Surface, z: usize) {
        let first = z * self.n * self.n;
        let voxels = chains.slice_starts[z]..chains.slice_starts[z + 1];
        for (&(index, rgb), &above) in surface[voxels.clone()].iter().zip(&chains.above[voxels]) {
            let column = index as usize - first;
            self.below[column] = height_word(z, rgb);
            self.above[column] = above;
        }
    }

    /// Increasing y: each solid voxel's word from its column, relaxed against the row before.
    fn down(&mut self, slice: &Slice) {
        let (n, z) = (self.n, slice.z as u64);
        for y in slice.rows.0..=slice.rows.1 {
            for run in slice.runs(y) {
                let cells = y * n + run.start..y * n + run.end;
                let (below, above) = (&self.below[cells.clone()], &self.above[cells.clone()]);
                let (before, row) = self.buf[cells.start..n + cells.end].split_at_mut(n);
                for (((word, &prev), &b), &a) in row.iter_mut().zip(&*before).zip(below).zip(above)
                {
                    *word = column_word(b, a, z).min(prev.saturating_add(STEP));
                }
            }
        }
    }

    /// Decreasing y: each solid voxel relaxed against the row after, then forward and backward
    /// along its run; writes the slice's colours to `out` and leaves the buffer [`EMPTY`].
    fn up(&mut self, slice: &Slice, out: &mut [[u8; 3]]) {
        let n = self.n;
        let first = slice.starts[0];
        let (y0, y1) = slice.rows;
        for y in (y0..=y1).rev() {
            let mut slot = (slice.starts[y] - first) as usize;
            for run in slice.runs(y) {
                let cells = n + y * n + run.start..n + y * n + run.end;
                let (head, after) = self.buf[cells.start..cells.end + n].split_at_mut(n);
                let row = &mut head[..cells.len()];
                // The words running along x are carried in 64 bits, where adding a step cannot
                // overflow, so the loop-carried chain is an add and a min; a result never
                // exceeds the voxel's own 32-bit word.
                let step = STEP as u64;
                let mut carried = EMPTY as u64;
                for (word, &next) in row.iter_mut().zip(&*after) {
                    let own = (*word).min(next.saturating_add(STEP)) as u64;
                    carried = own.min(carried + step);
                    *word = carried as u32;
                }
                let mut carried = EMPTY as u64;
                let outs = &mut out[slot..slot + row.len()];
                for (&word, rgb) in row.iter().zip(outs.iter_mut()).rev() {
                    carried = (word as u64).min(carried + step);
                    *rgb = unpack(carried as u32);
                }
                slot += row.len();
            }
            if y < y1 {
                self.clear(slice, y + 1);
            }
        }
        self.clear(slice, y0);
    }

    /// Puts [`EMPTY`] back at the solid voxels of row `y`.
    fn clear(&mut self, slice: &Slice, y: usize) {
        let n = self.n;
        for run in slice.runs(y) {
            self.buf[n + y * n + run.start..n + y * n + run.end].fill(EMPTY);
        }
    }
}

/// The packed word of the nearer of a column's surface voxels at or below height `z` (`below`)
/// and above it (`above`), as height words; [`EMPTY`] when there is neither.
#[inline]
fn column_word(below: u64, above: u64, z: u64) -> u32 {
    let from_below = match below {
        NONE => EMPTY,
        b => ((z - (b >> 32)) << 24 | b & RGB) as u32,
    };
    let from_above = match above {
        NONE => EMPTY,
        a => (((a >> 32) - z) << 24 | a & RGB) as u32,
    };
    from_below.min(from_above)
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
        // Runs of one, two and all slices, so run starts in the middle of columns are covered.
        let n = 9;
        let mut rng = Rng(77);
        let mut seeds: Surface = (0..12u8)
            .map(|k| ((rng.next_f32() * (n * n * n) as f32) as u32, [k, 100 + k, 200 + k]))
            .collect();
        seeds.sort();
        seeds.dedup_by_key(|s| s.0);
        let solid = Solid::full(n);
        for threads in [1, 2, 5] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let mut grid = VoxelGrid::from_occupancy([n; 3], solid.occupancy()).unwrap();
            pool.install(|| spread(&mut grid, &solid, &seeds, &Chains::new(&seeds, n, 0..n)));
            for ([x, y, z], rgb) in grid.voxels() {
                let (d, colours) = nearest(&seeds, n, [x, y, z]);
                assert!(colours.contains(&rgb), "colour at {x},{y},{z} (distance {d})");
                // Ties go to the smallest packed colour.
                assert_eq!(rgb, *colours.iter().min_by_key(|c| pack(**c)).unwrap());
            }
            for &(i, c) in &seeds {
                let i = i as usize;
                assert_eq!(grid.get(i % n, (i / n) % n, i / (n * n)), Some(c));
            }
        }
    }

    #[test]
    fn columns_without_surface_below_or_above() {
        // A full solid with one seed: every voxel takes its colour, above it or below it.
        let n = 6;
        let seeds: Surface = vec![((2 + n * (3 + n * 4)) as u32, [5, 6, 7])];
        let solid = Solid::full(n);
        let mut grid = VoxelGrid::from_occupancy([n; 3], solid.occupancy()).unwrap();
        spread(&mut grid, &solid, &seeds, &Chains::new(&seeds, n, 0..n));
        assert!(grid.voxels().all(|(_, rgb)| rgb == [5, 6, 7]));
        assert_eq!(grid.count(), n * n * n);
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
        spread(&mut grid, &solid, &seeds, &Chains::new(&seeds, n, 0..n));
        let got: Vec<Option<[u8; 3]>> = (0..n).map(|x| grid.get(x, 3, 3)).collect();
        let (l, r) = (Some(left), Some(right));
        assert_eq!(got, vec![l, l, l, None, r, r, r]);
    }
}
