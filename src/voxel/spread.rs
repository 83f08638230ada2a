//! Interior colour: every voxel takes the colour of its nearest surface voxel in the city-block
//! metric, the distance a 6-neighbour multi-source flood from the surface would give.
//!
//! The city-block distance transform separates by axis, so it is computed as a forward and a
//! backward min-plus sweep along x, then y, then z. Each packed word carries its distance in the
//! top byte, so one unsigned `min` picks the nearer colour, ties going to the smaller sRGB value.
//! Rows (x), slices (y) and chunks of a slice (z) run in parallel.

use rayon::prelude::*;

/// One voxel of distance in a packed word.
const STEP: u32 = 1 << 24;

/// Cells per parallel task in the z sweep.
const Z_CHUNK: usize = 8192;

/// The nearer of a cell's own word and its neighbour's word one step further on.
#[inline(always)]
fn relax(cell: &mut u32, neighbour: u32) {
    *cell = (*cell).min(neighbour.saturating_add(STEP));
}

/// Spreads the colours of `words` (an `n`-cube of packed words, surface cells at distance 0)
/// through the box `lo..=hi`. Distances saturate at 255 voxels, beyond any grid.
pub(crate) fn spread(words: &mut [u32], n: usize, lo: [usize; 3], hi: [usize; 3]) {
    let slice = n * n;
    let part = &mut words[lo[2] * slice..(hi[2] + 1) * slice];
    part.par_chunks_mut(slice).for_each(|s| sweep_x(s, n, lo, hi));
    part.par_chunks_mut(slice).for_each(|s| sweep_y(s, n, lo, hi));
    sweep_z(words, n, lo, hi);
}

/// Forward and backward along every row of one z-slice.
fn sweep_x(slice: &mut [u32], n: usize, lo: [usize; 3], hi: [usize; 3]) {
    for y in lo[1]..=hi[1] {
        let row = &mut slice[y * n + lo[0]..=y * n + hi[0]];
        for x in 1..row.len() {
            let prev = row[x - 1];
            relax(&mut row[x], prev);
        }
        for x in (0..row.len().saturating_sub(1)).rev() {
            let next = row[x + 1];
            relax(&mut row[x], next);
        }
    }
}

/// Forward and backward across the rows of one z-slice, a whole row at a time.
fn sweep_y(slice: &mut [u32], n: usize, lo: [usize; 3], hi: [usize; 3]) {
    let cols = lo[0]..hi[0] + 1;
    for y in lo[1] + 1..=hi[1] {
        let (before, after) = slice.split_at_mut(y * n);
        relax_row(&mut after[cols.clone()], &before[(y - 1) * n..][cols.clone()]);
    }
    for y in (lo[1]..hi[1]).rev() {
        let (before, after) = slice.split_at_mut((y + 1) * n);
        relax_row(&mut before[y * n..][cols.clone()], &after[cols.clone()]);
    }
}

/// Forward and backward across z-slices, each slice split into parallel chunks.
fn sweep_z(words: &mut [u32], n: usize, lo: [usize; 3], hi: [usize; 3]) {
    let slice = n * n;
    let rows = lo[1] * n..(hi[1] + 1) * n;
    let step = |dst: &mut [u32], src: &[u32]| {
        dst[rows.clone()]
            .par_chunks_mut(Z_CHUNK)
            .zip(src[rows.clone()].par_chunks(Z_CHUNK))
            .for_each(|(d, s)| relax_row(d, s));
    };
    for z in lo[2] + 1..=hi[2] {
        let (before, after) = words.split_at_mut(z * slice);
        step(&mut after[..slice], &before[(z - 1) * slice..]);
    }
    for z in (lo[2]..hi[2]).rev() {
        let (before, after) = words.split_at_mut((z + 1) * slice);
        step(&mut before[z * slice..], &after[..slice]);
    }
}

/// Relaxes every cell of `dst` against the cell at the same place in `src`.
#[inline]
fn relax_row(dst: &mut [u32], src: &[u32]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        relax(d, s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voxel::color::{pack, unpack, EMPTY};
    use crate::voxel::overlap::tests::Rng;

    /// Brute force: nearest seed in the city-block metric, ties to the smaller colour.
    fn nearest(words: &[u32], n: usize, p: [usize; 3]) -> u32 {
        let mut best = EMPTY;
        for (i, &w) in words.iter().enumerate() {
            if w == EMPTY {
                continue;
            }
            let q = [i % n, (i / n) % n, i / (n * n)];
            let d: usize = (0..3).map(|a| p[a].abs_diff(q[a])).sum();
            best = best.min(w + ((d as u32) << 24));
        }
        best
    }

    #[test]
    fn matches_brute_force_nearest() {
        let n = 9;
        let mut rng = Rng(77);
        let mut words = vec![EMPTY; n * n * n];
        for _ in 0..6 {
            let i = (rng.next_f32() * (n * n * n) as f32) as usize;
            let c = [(); 3].map(|_| (rng.next_f32() * 255.0) as u8);
            words[i] = pack(c);
        }
        let seeds = words.clone();
        spread(&mut words, n, [0; 3], [n - 1; 3]);
        for z in 0..n {
            for y in 0..n {
                for x in 0..n {
                    let got = words[x + n * (y + n * z)];
                    assert_eq!(got, nearest(&seeds, n, [x, y, z]), "at {x},{y},{z}");
                }
            }
        }
    }

    #[test]
    fn stays_inside_its_box() {
        let n = 6;
        let mut words = vec![EMPTY; n * n * n];
        words[2 + n * (2 + n * 2)] = pack([9, 8, 7]);
        spread(&mut words, n, [1; 3], [3; 3]);
        assert_eq!(unpack(words[3 + n * (3 + n * 3)]), [9, 8, 7]);
        assert_eq!(words[3 + n * (3 + n * 3)] >> 24, 3);
        assert_eq!(words[4 + n * (2 + n * 2)], EMPTY);
        assert_eq!(words[0], EMPTY);
    }
}
