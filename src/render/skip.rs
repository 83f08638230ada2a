//! Empty-space skipping: for every empty cell, a radius of empty cells around it, so that rays
//! can jump across empty space instead of stepping cell by cell.
//!
//! The radius is the larger of two safe bounds. Near surfaces: the exact Chebyshev distance to
//! the nearest filled cell, capped at a few cells (a windowed min-max transform, one axis at a
//! time). Far from them: the Chebyshev distance from the cell's 4³-cell brick to the nearest
//! brick holding a filled cell (the same transform on a grid 64 times smaller), turned into a
//! guaranteed-empty cube around the cell.

use rayon::prelude::*;

/// Edge of a brick, in cells.
const BRICK: usize = 4;
/// Largest brick distance the transform tracks.
const MAX_BRICKS: u8 = 16;
/// Largest cell distance the exact near-surface transform tracks.
const MAX_NEAR: u8 = 4;

/// Per cell of a box of `dims` cells (x-fastest): 0 when filled, else `r + 1` where every cell
/// within Chebyshev distance `r` of it is empty.
pub(crate) fn skip_distances(filled: &[bool], dims: [usize; 3]) -> Vec<u8> {
    let bricks = dims.map(|d| d.div_ceil(BRICK));
    let brick_distance = brick_distances(filled, dims, bricks);
    let mut near: Vec<u8> = filled.iter().map(|&f| if f { 0 } else { MAX_NEAR }).collect();
    for axis in 0..3 {
        near = min_max_pass(&near, dims, axis);
    }

    let plane = dims[0] * dims[1];
    near.par_chunks_mut(plane).enumerate().for_each(|(z, layer)| {
        for y in 0..dims[1] {
            for x in 0..dims[0] {
                let i = x + dims[0] * y;
                let b = [x, y, z].map(|c| c / BRICK);
                let d = brick_distance[b[0] + bricks[0] * (b[1] + bricks[1] * b[2])];
                if d > 0 {
                    layer[i] = layer[i].max(radius_in_bricks(d, [x, y, z]) + 1);
                }
            }
        }
    });
    near
}

/// The empty radius around cell `c` whose brick lies `d > 0` bricks from any occupied brick:
/// the `d - 1` bricks all around are empty, plus the cells between `c` and its brick's walls.
fn radius_in_bricks(d: u8, c: [usize; 3]) -> u8 {
    let wall = c.iter().map(|&v| (v % BRICK).min(BRICK - 1 - v % BRICK)).min().unwrap_or(0);
    (usize::from(d - 1) * BRICK + wall).min(usize::from(u8::MAX - 1)) as u8
}

/// Chebyshev distance, in bricks, from each brick to the nearest brick holding a filled cell,
/// capped at [`MAX_BRICKS`].
fn brick_distances(filled: &[bool], dims: [usize; 3], bricks: [usize; 3]) -> Vec<u8> {
    let mut distance = vec![MAX_BRICKS; bricks.iter().product()];
    for (i, _) in filled.iter().enumerate().filter(|(_, &f)| f) {
        let c = [i % dims[0], (i / dims[0]) % dims[1], i / (dims[0] * dims[1])];
        let b = c.map(|v| v / BRICK);
        distance[b[0] + bricks[0] * (b[1] + bricks[1] * b[2])] = 0;
    }
    for axis in 0..3 {
        distance = min_max_pass(&distance, bricks, axis);
    }
    distance
}

/// One axis of the Chebyshev distance transform: each cell becomes the smallest
/// `max(|k|, src[cell + k along axis])`. Three passes, one per axis, turn "0 where occupied,
/// a cap elsewhere" into the capped distance to the nearest occupied cell.
fn min_max_pass(src: &[u8], dims: [usize; 3], axis: usize) -> Vec<u8> {
    let plane = dims[0] * dims[1];
    let (stride, len) = ([1, dims[0], plane][axis], dims[axis]);
    let mut dst = vec![0; src.len()];
    dst.par_chunks_mut(plane).enumerate().for_each(|(z, layer)| {
        for y in 0..dims[1] {
            for x in 0..dims[0] {
                let (j, pos) = (x + dims[0] * y, [x, y, z][axis]);
                let i = z * plane + j;
                let mut best = src[i];
                let mut k = 1;
                while (k as u8) < best {
                    if pos >= k {
                        best = best.min(src[i - k * stride].max(k as u8));
                    }
                    if pos + k < len {
                        best = best.min(src[i + k * stride].max(k as u8));
                    }
                    k += 1;
                }
                layer[j] = best;
            }
        }
    });
    dst
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chebyshev distance from `c` to the nearest filled cell, by brute force.
    fn true_distance(filled: &[bool], dims: [usize; 3], c: [usize; 3]) -> usize {
        (0..filled.len())
            .filter(|&i| filled[i])
            .map(|i| {
                let p = [i % dims[0], (i / dims[0]) % dims[1], i / (dims[0] * dims[1])];
                (0..3).map(|a| p[a].abs_diff(c[a])).max().unwrap_or(0)
            })
            .min()
            .unwrap_or(usize::MAX)
    }

    #[test]
    fn skips_never_reach_a_filled_cell() {
        let dims = [37, 22, 30];
        let mut filled = vec![false; dims.iter().product()];
        for &p in &[[0usize, 0, 0], [36, 21, 29], [18, 3, 25], [5, 20, 2]] {
            filled[p[0] + dims[0] * (p[1] + dims[1] * p[2])] = true;
        }
        let skip = skip_distances(&filled, dims);
        let mut largest = 0;
        for (i, &s) in skip.iter().enumerate() {
            let c = [i % dims[0], (i / dims[0]) % dims[1], i / (dims[0] * dims[1])];
            if filled[i] {
                assert_eq!(s, 0);
            } else {
                assert!(s >= 1 && usize::from(s) <= true_distance(&filled, dims, c), "{c:?}");
                largest = largest.max(s);
            }
        }
        assert!(largest >= 8, "open space allows long jumps, not just {largest}");
        // Right next to the filled corner cell the exact near distance is used.
        assert_eq!(skip[1 + dims[0] * 2], 2, "cell (1, 2, 0) is 2 from (0, 0, 0)");
    }

    #[test]
    fn brick_transform_is_exact_chebyshev() {
        let dims = [9, 7, 8];
        let mut src = vec![MAX_BRICKS; dims.iter().product()];
        src[2 + 9 * (3 + 7 * 4)] = 0;
        let mut d = src;
        for axis in 0..3 {
            d = min_max_pass(&d, dims, axis);
        }
        for (i, &v) in d.iter().enumerate() {
            let c = [i % 9, (i / 9) % 7, i / 63];
            let want = c[0].abs_diff(2).max(c[1].abs_diff(3)).max(c[2].abs_diff(4));
            assert_eq!(usize::from(v), want, "{c:?}");
        }
    }
}
