//! Resampling voxel models (`.vox`) into a cube grid, fitted the way meshes are: one uniform
//! scale so the longest extent fills the room the margin leaves, centred, aspect kept.
//!
//! - Upsampling (scale >= 1): nearest neighbour; each target cell takes the source voxel its
//!   centre falls in.
//! - Downsampling (scale < 1): each source voxel becomes a box smaller than a cell that overlaps
//!   up to eight cells. A cell is filled when the source voxels cover at least half its volume.
//!   A source voxel none of whose overlapped cells passed that test would vanish, so the cell
//!   holding its centre is filled too: one-voxel-thin lines and walls survive as one cell thin,
//!   while the outline of thick parts follows the volume rule and does not grow. The second rule
//!   looks only at the first rule's result, so it does not depend on the order of the voxels.
//! - Colour: the mean of the overlapping source voxels in linear space, weighted by overlap.
//!
//! Voxels listed twice at one position are both counted.

use std::sync::OnceLock;

use rayon::prelude::*;

use super::color::{pack, to_srgb, unpack, EMPTY};
use super::fit::Fit;
use super::{VoxelGrid, VoxelizeConfig};
use crate::error::{Error, Result};
use crate::mesh::{srgb_to_linear, Voxels};

/// Share of a cell's volume the source must cover to fill it.
const HALF: f32 = 0.5;

/// Flag in a packed word's top byte: covered, but below [`HALF`].
const PARTIAL: u32 = 1 << 24;

/// Resamples `voxels` into a `cfg.resolution`-cube (see the module comment for the rules).
pub fn fit_voxels(voxels: &Voxels, cfg: &VoxelizeConfig) -> Result<VoxelGrid> {
    cfg.validate()?;
    let n = cfg.resolution;
    let (lo, hi) = bounds(voxels).ok_or_else(|| Error::invalid("voxels", "no filled voxel"))?;
    // Voxel p fills the unit box [p, p + 1], so the model spans lo..=hi + 1.
    let fit = Fit::new(lo, hi.map(|h| h + 1.0), n, cfg.room(), 0.0);
    let words =
        if fit.scale() >= 1.0 { upsample(voxels, &fit, n) } else { downsample(voxels, &fit, n) };
    tracing::debug!(voxels = voxels.points.len(), scale = fit.scale(), "resampled voxels");
    // Kept cells have distance byte 0; EMPTY and PARTIAL words do not.
    let cells: Vec<_> = words.par_iter().map(|&w| (w >> 24 == 0).then(|| unpack(w))).collect();
    VoxelGrid::from_cells([n; 3], &cells)
}

/// Inclusive bounds of the voxel positions.
fn bounds(voxels: &Voxels) -> Option<([f64; 3], [f64; 3])> {
    let (first, _) = voxels.points.first()?;
    let (mut lo, mut hi) = (*first, *first);
    for (p, _) in &voxels.points {
        for a in 0..3 {
            lo[a] = lo[a].min(p[a]);
            hi[a] = hi[a].max(p[a]);
        }
    }
    Some((lo.map(f64::from), hi.map(f64::from)))
}

/// The grid interval `[a, b)` source voxel coordinate `p` covers along `axis`.
#[inline]
fn span(fit: &Fit, axis: usize, p: i32) -> (f64, f64) {
    (fit.map(axis, p as f64), fit.map(axis, p as f64 + 1.0))
}

/// Every cell whose centre lies in a source voxel's box takes that voxel's colour.
fn upsample(voxels: &Voxels, fit: &Fit, n: usize) -> Vec<u32> {
    let mut words = vec![EMPTY; n * n * n];
    // Centre c + 0.5 in [a, b) means c in ceil(a - 0.5)..ceil(b - 0.5).
    let cells = |(a, b): (f64, f64)| {
        let first = ((a - 0.5).ceil().max(0.0) as usize).min(n);
        first..((b - 0.5).ceil().max(0.0) as usize).min(n)
    };
    for (p, rgb) in &voxels.points {
        let word = pack(*rgb);
        let [xs, ys, zs] = [0, 1, 2].map(|a| cells(span(fit, a, p[a])));
        for z in zs {
            for y in ys.clone() {
                for x in xs.clone() {
                    words[x + n * (y + n * z)] = word;
                }
            }
        }
    }
    words
}

/// Cells `[c, c + 1)` the interval `[a, b)` overlaps, with the overlap lengths (at most two,
/// since `b - a < 1`).
fn overlaps(a: f64, b: f64, n: usize) -> impl Iterator<Item = (usize, f32)> {
    let first = a.floor().max(0.0) as usize;
    let last = ((b.ceil() as usize).saturating_sub(1)).min(n - 1);
    (first..=last).filter_map(move |c| {
        let len = (b.min(c as f64 + 1.0) - a.max(c as f64)) as f32;
        (len > 0.0).then_some((c, len))
    })
}

/// Area-weighted downsampling with the thin-detail rule.
fn downsample(voxels: &Voxels, fit: &Fit, n: usize) -> Vec<u32> {
    let mut sorted = voxels.points.clone();
    sorted.sort_unstable_by_key(|(p, _)| p[2]);
    let mut words = vec![EMPTY; n * n * n];
    words.par_chunks_mut(n * n).enumerate().for_each_init(
        || vec![[0.0f32; 5]; n * n],
        |acc, (z, layer)| cover_layer(&sorted, fit, n, z, acc, layer),
    );
    let vanished: Vec<usize> = sorted
        .par_iter()
        .filter_map(|(p, _)| {
            let spans = [0, 1, 2].map(|a| span(fit, a, p[a]));
            let kept = overlapping(spans, n).any(|i| words[i] >> 24 == 0);
            (!kept).then(|| home_cell(spans, n))
        })
        .collect();
    for i in vanished {
        if words[i] != EMPTY {
            words[i] &= !(0xFF << 24);
        }
    }
    words
}

/// Accumulates the source voxels reaching layer `z` into `acc` (`[r·v, g·v, b·v, v, _]` per
/// cell, `v` the covered volume) and writes the layer's packed words, [`PARTIAL`] below half.
fn cover_layer(
    sorted: &[([i32; 3], [u8; 3])],
    fit: &Fit,
    n: usize,
    z: usize,
    acc: &mut [[f32; 5]],
    layer: &mut [u32],
) {
    let (top, bottom) = (z as f64, z as f64 + 1.0);
    let first = sorted.partition_point(|(p, _)| span(fit, 2, p[2]).1 <= top);
    let last = sorted.partition_point(|(p, _)| span(fit, 2, p[2]).0 < bottom);
    for (p, rgb) in &sorted[first..last.max(first)] {
        let (a, b) = span(fit, 2, p[2]);
        let dz = (b.min(bottom) - a.max(top)) as f32;
        let lin = rgb.map(linear);
        let (ax, bx) = span(fit, 0, p[0]);
        let (ay, by) = span(fit, 1, p[1]);
        for (y, dy) in overlaps(ay, by, n) {
            for (x, dx) in overlaps(ax, bx, n) {
                let v = dx * dy * dz;
                let cell = &mut acc[x + n * y];
                for i in 0..3 {
                    cell[i] += lin[i] * v;
                }
                cell[3] += v;
            }
        }
    }
    for (cell, word) in acc.iter_mut().zip(layer.iter_mut()) {
        if cell[3] > 0.0 {
            let rgb = to_srgb([0, 1, 2].map(|i| cell[i] / cell[3]));
            *word = pack(rgb) | if cell[3] >= HALF { 0 } else { PARTIAL };
        }
        *cell = [0.0; 5];
    }
}

/// Indices of the cells the box `spans` overlaps.
fn overlapping(spans: [(f64, f64); 3], n: usize) -> impl Iterator<Item = usize> {
    let [(ax, bx), (ay, by), (az, bz)] = spans;
    overlaps(az, bz, n).flat_map(move |(z, _)| {
        overlaps(ay, by, n)
            .flat_map(move |(y, _)| overlaps(ax, bx, n).map(move |(x, _)| x + n * (y + n * z)))
    })
}

/// Index of the cell holding the centre of the box `spans`.
fn home_cell(spans: [(f64, f64); 3], n: usize) -> usize {
    let c = spans.map(|(a, b)| (((a + b) * 0.5).floor().max(0.0) as usize).min(n - 1));
    c[0] + n * (c[1] + n * c[2])
}

/// sRGB byte to linear, through a table.
fn linear(c: u8) -> f32 {
    static TABLE: OnceLock<[f32; 256]> = OnceLock::new();
    TABLE.get_or_init(|| std::array::from_fn(|i| srgb_to_linear(i as f32 / 255.0)))[c as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(resolution: usize) -> VoxelizeConfig {
        VoxelizeConfig { resolution, ..Default::default() }
    }

    fn block(lo: [i32; 3], hi: [i32; 3], rgb: [u8; 3]) -> Vec<([i32; 3], [u8; 3])> {
        let mut out = vec![];
        for z in lo[2]..=hi[2] {
            for y in lo[1]..=hi[1] {
                for x in lo[0]..=hi[0] {
                    out.push(([x, y, z], rgb));
                }
            }
        }
        out
    }

    #[test]
    fn same_size_copies_centred() {
        let voxels = Voxels { points: block([-2, 0, 5], [5, 3, 6], [10, 20, 30]) };
        let grid = fit_voxels(&voxels, &cfg(8)).unwrap();
        assert_eq!(grid.count(), 8 * 4 * 2);
        assert_eq!(grid.bounds(), Some(([0, 2, 3], [7, 5, 4])));
        assert_eq!(grid.get(0, 2, 3), Some([10, 20, 30]));
    }

    #[test]
    fn upsampling_scales_blocks() {
        let mut points = block([0, 0, 0], [3, 1, 1], [200, 0, 0]);
        points[0].1 = [0, 0, 200];
        let grid = fit_voxels(&Voxels { points }, &cfg(8)).unwrap();
        assert_eq!(grid.count(), 8 * 4 * 4);
        assert_eq!(grid.bounds(), Some(([0, 2, 2], [7, 5, 5])));
        assert_eq!(grid.get(1, 3, 3), Some([0, 0, 200]));
        assert_eq!(grid.get(2, 2, 2), Some([200, 0, 0]));
    }

    #[test]
    fn downsampling_averages_in_linear_space() {
        // 16³ of voxels into 8³: every cell holds a 2×2×2 block, half black and half white.
        let mut points = block([0, 0, 0], [15, 15, 15], [255, 255, 255]);
        for (p, rgb) in points.iter_mut() {
            if p[0] % 2 == 0 {
                *rgb = [0, 0, 0];
            }
        }
        let grid = fit_voxels(&Voxels { points }, &cfg(8)).unwrap();
        assert_eq!(grid.count(), 512);
        assert!(grid.voxels().all(|(_, c)| c == to_srgb([0.5; 3])));
        assert_eq!(to_srgb([0.5; 3]), [188; 3]);
    }

    #[test]
    fn half_covered_cells_fill_and_thin_lines_survive() {
        // A 32-long bar 3 voxels thick into 16: 1.5 cells thick, a solid centre cell and two
        // quarter-covered ones; plus a one-voxel line which only the detail rule keeps.
        let mut points = block([0, 0, 0], [31, 2, 2], [0, 255, 0]);
        points.extend(block([0, 20, 0], [31, 20, 0], [255, 0, 0]));
        let grid = fit_voxels(&Voxels { points }, &cfg(16)).unwrap();
        let line: Vec<_> = grid.voxels().filter(|(_, c)| *c == [255, 0, 0]).collect();
        assert_eq!(line.len(), 16, "one cell per two voxels along the line");
        assert!(line.iter().all(|(p, _)| p[1] == line[0].0[1] && p[2] == line[0].0[2]));
        // The bar is 1.5 cells thick in y and z: one full row in y, two 3/4-covered in z.
        assert_eq!(grid.count() - line.len(), 16 * 2);
    }

    #[test]
    fn empty_input_is_an_error() {
        let err = fit_voxels(&Voxels::default(), &cfg(16)).unwrap_err().to_string();
        assert_eq!(err, "invalid voxels: no filled voxel");
        assert!(fit_voxels(&Voxels::default(), &cfg(3)).is_err());
    }
}
