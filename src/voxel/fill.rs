//! Solid fill: which empty voxels lie inside the surface.
//!
//! The rule is a morphological closing of the surface followed by a flood of the outside:
//! 1. grow the surface by [`CLOSE`] voxels in every direction (a cube, so diagonals count);
//! 2. flood the outside from the grid's border through the voxels the grown surface leaves free;
//! 3. grow that outside back by the same [`CLOSE`] voxels;
//! 4. everything the grown-back outside does not reach is solid (the surface always is).
//!
//! A gap in a closed surface up to `2 * CLOSE + 1` voxels wide (a missing triangle, a small
//! hole) is sealed in step 1, so the inside still fills; step 3 undoes the growth wherever the
//! outside really reaches, so open sheets stay sheets and an open box, whose opening is wider,
//! stays hollow. The price is that a groove or slot at most `2 * CLOSE` voxels wide and
//! enclosed on all but its thin side can fill too, as closing does.
//!
//! Everything works on bit rows along x (one bit per voxel, 64 to a word) in the surface's
//! bounding box padded by `CLOSE + 1` on every side, so the padding is always outside and the
//! flood can start there; the rest of the grid is outside anyway.

use rayon::prelude::*;

use super::grid::{bit_bounds, last_mask};
use super::surface::{cells, Surface};

/// Closing radius in voxels.
pub(crate) const CLOSE: usize = 1;

/// Padding around the box: the grown surface never reaches the outermost layer.
const PAD: usize = CLOSE + 1;

/// A box of bits, `dims` cells, stored as rows along x of `wpr` words; row `y + dims[1] * z`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Bits {
    dims: [usize; 3],
    wpr: usize,
    data: Vec<u64>,
}

impl Bits {
    fn new(dims: [usize; 3]) -> Self {
        let wpr = dims[0].div_ceil(64);
        Bits { dims, wpr, data: vec![0; wpr * dims[1] * dims[2]] }
    }

    #[inline]
    fn row(&self, r: usize) -> &[u64] {
        &self.data[r * self.wpr..(r + 1) * self.wpr]
    }

    /// Words in one z-slice.
    fn slice_len(&self) -> usize {
        self.wpr * self.dims[1]
    }

    #[cfg(test)]
    fn get(&self, x: usize, y: usize, z: usize) -> bool {
        let word = self.data[(y + self.dims[1] * z) * self.wpr + x / 64];
        word >> (x % 64) & 1 == 1
    }

    #[inline]
    fn set(&mut self, x: usize, y: usize, z: usize) {
        self.data[(y + self.dims[1] * z) * self.wpr + x / 64] |= 1 << (x % 64);
    }

    /// Bits of the last word of each row that lie inside the box.
    fn last_mask(&self) -> u64 {
        last_mask(self.dims[0])
    }

    /// Flips every bit inside the box.
    fn invert(&mut self) {
        let (mask, wpr) = (self.last_mask(), self.wpr);
        let slice = self.slice_len();
        self.data.par_chunks_mut(slice).for_each(|slice| {
            for row in slice.chunks_mut(wpr) {
                row.iter_mut().for_each(|w| *w = !*w);
                row[wpr - 1] &= mask;
            }
        });
    }

    fn count(&self) -> usize {
        self.data.iter().map(|w| w.count_ones() as usize).sum()
    }
}

/// The solid voxels of an `n`-cube, kept in a padded box of it.
#[derive(Clone, Debug)]
pub(crate) struct Solid {
    n: usize,
    /// The box, whose cell `[PAD; 3]` is the grid's cell `origin`.
    bits: Bits,
    origin: [usize; 3],
    /// Solid voxels that are not surface voxels.
    pub interior: usize,
    /// Inclusive bounds of the solid voxels, `None` when there are none.
    pub bounds: Option<([usize; 3], [usize; 3])>,
}

impl Solid {
    /// True when `(x, y, z)` of the grid is solid.
    #[cfg(test)]
    pub(crate) fn contains(&self, x: usize, y: usize, z: usize) -> bool {
        let p = [x, y, z];
        let b: Vec<usize> = (0..3).map(|a| (p[a] + PAD).wrapping_sub(self.origin[a])).collect();
        (0..3).all(|a| b[a] < self.bits.dims[a]) && self.bits.get(b[0], b[1], b[2])
    }

    /// A solid filling the whole `n`-cube, for tests.
    #[cfg(test)]
    pub(crate) fn full(n: usize) -> Solid {
        let mut bits = Bits::new([n + 2 * PAD; 3]);
        for z in 0..n {
            for y in 0..n {
                for x in 0..n {
                    bits.set(x + PAD, y + PAD, z + PAD);
                }
            }
        }
        let bounds = Some(([0; 3], [n - 1; 3]));
        Solid { n, bits, origin: [0; 3], interior: n * n * n, bounds }
    }

    /// A solid made of the voxels `xs` of row `(y, z)`, for tests.
    #[cfg(test)]
    pub(crate) fn from_row(n: usize, y: usize, z: usize, xs: &[usize]) -> Solid {
        let mut bits = Bits::new([n + 2 * PAD; 3]);
        for &x in xs {
            bits.set(x + PAD, y + PAD, z + PAD);
        }
        let (lo, hi) = (xs.iter().min().copied(), xs.iter().max().copied());
        let bounds = lo.zip(hi).map(|(lo, hi)| ([lo, y, z], [hi, y, z]));
        Solid { n, bits, origin: [0; 3], interior: xs.len(), bounds }
    }

    /// The solid voxels as [`super::VoxelGrid`] occupancy of the whole grid: rows along x of
    /// `ceil(n / 64)` words, row `y + n * z`.
    pub(crate) fn occupancy(&self) -> Vec<u64> {
        let (n, [ox, oy, oz]) = (self.n, self.origin);
        let (wpr, mask) = (n.div_ceil(64), last_mask(n));
        let [_, my, mz] = self.bits.dims;
        let mut out = vec![0u64; wpr * n * n];
        out.par_chunks_mut(wpr * n).enumerate().for_each(|(z, slice)| {
            // Box slice and row `i + PAD` hold grid slice and row `o + i`.
            let Some(bz) = (z + PAD).checked_sub(oz).filter(|&bz| bz < mz) else { return };
            for (y, dst) in slice.chunks_exact_mut(wpr).enumerate() {
                let Some(by) = (y + PAD).checked_sub(oy).filter(|&by| by < my) else { continue };
                let src = self.bits.row(by + my * bz);
                // Grid bit x is box bit x + PAD - ox.
                shifted_copy(src, PAD as isize - ox as isize, dst);
                dst[wpr - 1] &= mask;
            }
        });
        out
    }
}

/// Writes into `dst` the bits of `src` from bit `offset` on (bit `j` of `dst` is bit
/// `j + offset` of `src`, zero past either end).
fn shifted_copy(src: &[u64], offset: isize, dst: &mut [u64]) {
    let (words, bits) = (offset.div_euclid(64), offset.rem_euclid(64) as u32);
    let get = |i: isize| usize::try_from(i).ok().and_then(|i| src.get(i)).copied().unwrap_or(0);
    for (i, d) in dst.iter_mut().enumerate() {
        let at = i as isize + words;
        let high = if bits == 0 { 0 } else { get(at + 1) << (64 - bits) };
        *d = get(at) >> bits | high;
    }
}

/// Fills the inside of `surface` (the filled cells of an `n`-cube) by the rule in the module
/// comment.
pub(crate) fn fill(surface: &Surface, n: usize) -> Solid {
    let Some((lo, hi)) = cell_bounds(surface, n) else {
        let bits = Bits::new([1; 3]);
        return Solid { n, bits, origin: [0; 3], interior: 0, bounds: None };
    };
    let dims = [0, 1, 2].map(|a| hi[a] + 1 - lo[a] + 2 * PAD);
    let mut bits = Bits::new(dims);
    for ([x, y, z], _) in cells(surface, n) {
        bits.set(x + PAD - lo[0], y + PAD - lo[1], z + PAD - lo[2]);
    }
    // The list holds each cell once.
    let shell = surface.len();
    let mut scratch = Bits::new(dims);
    dilate(&mut bits, &mut scratch, CLOSE);
    bits.invert();
    let mut outside = flood(&bits);
    dilate(&mut outside, &mut scratch, CLOSE);
    outside.invert();
    let solid = outside;
    // The solid holds the surface and lies inside the surface's box (the padding is outside by
    // construction, and the outside grown back reaches every voxel next to it), so its bounds
    // are the box's.
    debug_assert_eq!(
        bit_bounds(&solid.data, solid.wpr, dims[1]),
        Some(([PAD; 3], [0, 1, 2].map(|a| dims[a] - 1 - PAD)))
    );
    let interior = solid.count().saturating_sub(shell);
    Solid { n, origin: lo, interior, bits: solid, bounds: Some((lo, hi)) }
}

/// Smallest box `(min, max)` (inclusive) holding every cell of an `n`-cube's `surface`.
fn cell_bounds(surface: &Surface, n: usize) -> Option<([usize; 3], [usize; 3])> {
    let (mut lo, mut hi) = ([usize::MAX; 3], [0; 3]);
    for (c, _) in cells(surface, n) {
        for a in 0..3 {
            (lo[a], hi[a]) = (lo[a].min(c[a]), hi[a].max(c[a]));
        }
    }
    (!surface.is_empty()).then_some((lo, hi))
}

/// Grows `bits` by `k` voxels along every axis at once (a cube of edge `2k + 1`) as three
/// one-axis passes; `scratch` is a buffer of the same size.
fn dilate(bits: &mut Bits, scratch: &mut Bits, k: usize) {
    let (wpr, mask) = (bits.wpr, bits.last_mask());
    let slice = bits.slice_len();
    bits.data.par_chunks_mut(slice).for_each(|slice| {
        for row in slice.chunks_mut(wpr) {
            for _ in 0..k {
                spread_row(row);
            }
            row[wpr - 1] &= mask;
        }
    });
    let [_, my, mz] = bits.dims;
    or_shifted(bits, scratch, k, 1, my);
    or_shifted(scratch, bits, k, my, mz);
}

/// Writes into `dst` each row of `src` ORed with its neighbours `1..=k` rows away (rows
/// `stride` apart) within one line of `len` rows: `stride` 1 and `len` the box's height grow
/// along y, `stride` the height and `len` the depth along z.
fn or_shifted(src: &Bits, dst: &mut Bits, k: usize, stride: usize, len: usize) {
    let (my, wpr, slice_len) = (src.dims[1], src.wpr, src.slice_len());
    // One z-slice of rows per task.
    dst.data.par_chunks_mut(slice_len).enumerate().for_each(|(z, slice)| {
        slice.copy_from_slice(&src.data[z * slice_len..][..slice_len]);
        for (dy, row) in slice.chunks_mut(wpr).enumerate() {
            let r = dy + my * z;
            let pos = (r / stride) % len;
            for p in pos.saturating_sub(k)..=(pos + k).min(len - 1) {
                if p == pos {
                    continue;
                }
                let other = &src.data[(r - pos * stride + p * stride) * wpr..][..wpr];
                row.iter_mut().zip(other).for_each(|(d, s)| *d |= s);
            }
        }
    });
}

/// Sets each bit's neighbours along the row (one voxel left and right), across words.
fn spread_row(row: &mut [u64]) {
    let mut below = 0u64;
    for i in 0..row.len() {
        let cur = row[i];
        let above = row.get(i + 1).copied().unwrap_or(0);
        row[i] = cur | cur << 1 | below >> 63 | cur >> 1 | above << 63;
        below = cur;
    }
}

/// The voxels of `free` connected (6-neighbour) to the corner voxel `(0, 0, 0)`, which lies in
/// the padding and so is free. A scanline flood: each row is filled along x in word steps, then
/// passes its bits to the four neighbouring rows, which are queued when they gain bits.
fn flood(free: &Bits) -> Bits {
    let ([_, my, mz], wpr) = (free.dims, free.wpr);
    let mut out = Bits::new(free.dims);
    let mut queued = vec![false; my * mz];
    let mut stack = vec![0usize];
    out.data[0] = 1;
    queued[0] = true;
    let mut seeds = vec![0u64; wpr];
    while let Some(r) = stack.pop() {
        queued[r] = false;
        seeds.copy_from_slice(out.row(r));
        fill_runs(&seeds, free.row(r), &mut out.data[r * wpr..(r + 1) * wpr]);
        let (y, z) = (r % my, r / my);
        let neighbours = [
            (y > 0).then(|| r - 1),
            (y + 1 < my).then(|| r + 1),
            (z > 0).then(|| r - my),
            (z + 1 < mz).then(|| r + my),
        ];
        for nb in neighbours.into_iter().flatten() {
            let mut gained = false;
            for i in 0..wpr {
                let new = out.data[r * wpr + i] & free.data[nb * wpr + i] & !out.data[nb * wpr + i];
                if new != 0 {
                    out.data[nb * wpr + i] |= new;
                    gained = true;
                }
            }
            if gained && !queued[nb] {
                queued[nb] = true;
                stack.push(nb);
            }
        }
    }
    out
}

/// Writes into `out` every bit of `free` in a run (along the row, across words) that holds a
/// bit of `seeds`.
///
/// Upward: adding the seeds to the free bits carries through each seeded run and clears it, so
/// `(free + seeds) ^ free` restricted to `free` is the run above each seed; the carry out of a
/// word seeds the next. Downward is the same on bit-reversed words, last word first.
fn fill_runs(seeds: &[u64], free: &[u64], out: &mut [u64]) {
    let mut carry = false;
    for i in 0..free.len() {
        let (f, s) = (free[i], seeds[i] & free[i]);
        let (sum, c1) = f.overflowing_add(s);
        let (sum, c2) = sum.overflowing_add(carry as u64);
        out[i] = ((sum ^ f) & f) | s;
        carry = c1 || c2;
    }
    carry = false;
    for i in (0..free.len()).rev() {
        let (f, s) = (free[i].reverse_bits(), (seeds[i] & free[i]).reverse_bits());
        let (sum, c1) = f.overflowing_add(s);
        let (sum, c2) = sum.overflowing_add(carry as u64);
        out[i] |= (((sum ^ f) & f) | s).reverse_bits();
        carry = c1 || c2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The surface list of an `n`-cube with the given cells set.
    fn cells(n: usize, set: impl IntoIterator<Item = [usize; 3]>) -> Vec<(u32, [u8; 3])> {
        let mut list: Vec<_> =
            set.into_iter().map(|[x, y, z]| ((x + n * (y + n * z)) as u32, [1, 2, 3])).collect();
        list.sort();
        list
    }

    /// The walls of the box `lo..=hi`, leaving out the faces named in `open` (0..6 = -x, +x,
    /// -y, +y, -z, +z) and the cells in `holes`.
    fn box_walls(lo: usize, hi: usize, open: &[usize], holes: &[[usize; 3]]) -> Vec<[usize; 3]> {
        let mut out = vec![];
        for z in lo..=hi {
            for y in lo..=hi {
                for x in lo..=hi {
                    let p = [x, y, z];
                    let faces: Vec<usize> = (0..3)
                        .flat_map(|a| {
                            [(p[a] == lo).then_some(2 * a), (p[a] == hi).then_some(2 * a + 1)]
                        })
                        .flatten()
                        .collect();
                    let on_wall = !faces.is_empty();
                    let open_only = faces.iter().all(|f| open.contains(f));
                    if on_wall && !(open_only && faces.len() == 1) && !holes.contains(&p) {
                        out.push(p);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn fill_runs_covers_seeded_runs_across_words() {
        let free = [u64::MAX << 60, 0b1111 | 0b1 << 10, u64::MAX];
        let seeds = [0, 0b10, 0];
        let mut out = [0; 3];
        fill_runs(&seeds, &free, &mut out);
        assert_eq!(out, [u64::MAX << 60, 0b1111, 0]);
        let seeds = [0, 0, 1 << 40];
        fill_runs(&seeds, &free, &mut out);
        assert_eq!(out, [0, 0, u64::MAX]);
        let seeds = [1 << 62, 1 << 10, 0];
        fill_runs(&seeds, &free, &mut out);
        assert_eq!(out, [u64::MAX << 60, 0b1111 | 1 << 10, 0]);
    }

    #[test]
    fn dilate_grows_a_cube() {
        let dims = [70, 9, 11];
        let mut b = Bits::new(dims);
        b.set(64, 5, 5);
        let mut d = b.clone();
        dilate(&mut d, &mut Bits::new(dims), 2);
        assert_eq!(d.count(), 125);
        assert!(d.get(62, 3, 3) && d.get(66, 7, 7) && !d.get(67, 5, 5) && !d.get(61, 5, 5));
        assert_eq!(bit_bounds(&d.data, d.wpr, dims[1]), Some(([62, 3, 3], [66, 7, 7])));
    }

    #[test]
    fn shifted_copy_moves_bits_both_ways_across_words() {
        let src = [1u64 << 63 | 1, 0b101];
        let mut dst = [0u64; 2];
        shifted_copy(&src, 0, &mut dst);
        assert_eq!(dst, src);
        shifted_copy(&src, 63, &mut dst);
        assert_eq!(dst, [0b1011, 0]);
        shifted_copy(&src, -2, &mut dst);
        assert_eq!(dst, [0b100, 1 << 1 | 0b10100]);
        shifted_copy(&src, -64, &mut dst);
        assert_eq!(dst, [0, 1 << 63 | 1]);
    }

    #[test]
    fn solid_in_a_box_off_the_corner() {
        // A closed box away from the grid's corner and edges, so the fill works in a cropped
        // box: the occupancy maps back to the same grid cells.
        let n = 100;
        let walls: Vec<[usize; 3]> = box_walls(0, 5, &[], &[])
            .into_iter()
            .map(|[x, y, z]| [x + 70, y + 3, z + 40])
            .collect();
        let solid = fill(&cells(n, walls.iter().copied()), n);
        assert_eq!(solid.interior, 4 * 4 * 4);
        assert_eq!(solid.bounds, Some(([70, 3, 40], [75, 8, 45])));
        let occupancy = solid.occupancy();
        let wpr = n.div_ceil(64);
        let mut filled = vec![];
        for (w, &word) in occupancy.iter().enumerate() {
            for b in 0..64 {
                if word >> b & 1 == 1 {
                    let (row, x) = (w / wpr, (w % wpr) * 64 + b);
                    filled.push([x, row % n, row / n]);
                }
            }
        }
        assert_eq!(filled.len(), 6 * 6 * 6);
        assert!(filled.iter().all(|c| (70..76).contains(&c[0])
            && (3..9).contains(&c[1])
            && (40..46).contains(&c[2])));
        assert!(
            solid.contains(72, 5, 42) && !solid.contains(69, 5, 42) && !solid.contains(0, 0, 0)
        );
    }

    #[test]
    fn closed_box_fills() {
        let n = 12;
        let solid = fill(&cells(n, box_walls(2, 9, &[], &[])), n);
        assert_eq!(solid.interior, 6 * 6 * 6);
        assert!(solid.contains(5, 5, 5) && !solid.contains(1, 5, 5));
        let row: Vec<usize> = (0..n).filter(|&x| solid.contains(x, 5, 9)).collect();
        assert_eq!(row, (2..=9).collect::<Vec<_>>());
        assert_eq!(solid.bounds, Some(([2; 3], [9; 3])));
    }

    #[test]
    fn small_holes_are_sealed() {
        let n = 14;
        let holes = [[5, 5, 11], [6, 5, 11], [5, 6, 11], [6, 6, 11], [7, 6, 11], [2, 6, 6]];
        let solid = fill(&cells(n, box_walls(2, 11, &[], &holes)), n);
        // Inside (8³) plus the hole cells, which the closing seals.
        assert_eq!(solid.interior, 8 * 8 * 8 + holes.len());
    }

    #[test]
    fn open_box_and_sheet_stay_thin() {
        let n = 12;
        let walls = box_walls(2, 9, &[5], &[]);
        let solid = fill(&cells(n, walls.iter().copied()), n);
        assert_eq!(solid.interior, 0);
        assert!(!solid.contains(5, 5, 5));
        let sheet: Vec<_> = (1..11).flat_map(|x| (1..11).map(move |y| [x, y, 6])).collect();
        assert_eq!(fill(&cells(n, sheet), n).interior, 0);
    }

    #[test]
    fn surface_touching_the_border_still_fills() {
        let n = 8;
        let solid = fill(&cells(n, box_walls(0, 7, &[], &[])), n);
        assert_eq!(solid.interior, 6 * 6 * 6);
        assert_eq!(solid.bounds, Some(([0; 3], [7; 3])));
    }

    #[test]
    fn wide_holes_let_the_outside_in() {
        let n = 16;
        let hole: Vec<[usize; 3]> = (5..9).flat_map(|x| (5..9).map(move |y| [x, y, 13])).collect();
        let solid = fill(&cells(n, box_walls(2, 13, &[], &hole)), n);
        assert_eq!(solid.interior, 0);
    }
}
