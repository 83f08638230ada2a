//! Colour quantization for indexed formats: exact when few colours, k-means in OKLab otherwise.
//!
//! MagicaVoxel files index at most 255 colours. [`quantize`] keeps every colour exactly when a
//! grid has that many or fewer; otherwise it seeds clusters by median cut and refines them with
//! weighted k-means, both in OKLab so that distances follow perceived difference. Everything is
//! deterministic: no random seeds, ties broken by the sRGB value.

use std::collections::HashMap;

use rayon::prelude::*;

/// Most colours a `.vox` palette can index (index 0 means "empty").
pub const MAX_VOX_COLORS: usize = 255;

/// Lloyd iterations at most; clusters usually settle well before.
const KMEANS_ITERATIONS: usize = 24;

/// Above this many distinct colours, k-means runs on a 4-bit-per-channel histogram (at most
/// 4096 bins, each at the weighted mean of its members); every colour is still mapped exactly.
const HISTOGRAM_THRESHOLD: usize = 1 << 14;

/// A palette of at most `max_colors` sRGB colours and the entry each input colour maps to.
#[derive(Clone, Debug)]
pub struct Palette {
    colors: Vec<[u8; 3]>,
    /// Every input colour with its entry, sorted by colour for binary search.
    lookup: Vec<([u8; 3], u8)>,
}

impl Palette {
    /// The palette entries, in index order.
    pub fn colors(&self) -> &[[u8; 3]] {
        &self.colors
    }

    /// The 0-based entry for a colour that was part of the quantized input.
    pub fn index_of(&self, rgb: [u8; 3]) -> Option<u8> {
        let at = self.lookup.binary_search_by_key(&rgb, |&(c, _)| c).ok()?;
        Some(self.lookup[at].1)
    }

    /// True when every input colour is kept exactly.
    pub fn is_exact(&self) -> bool {
        self.lookup.iter().all(|&(rgb, i)| self.colors[usize::from(i)] == rgb)
    }
}

/// Builds a palette of at most `max_colors` entries (clamped to `1..=256`) for `colors`.
///
/// `colors` holds one item per voxel, so frequent colours weigh more in k-means. The result is
/// exact (each colour is its own entry, sorted by sRGB value) when there are few enough distinct
/// colours; otherwise it is the weighted k-means solution in OKLab, seeded by median cut.
pub fn quantize(colors: impl IntoIterator<Item = [u8; 3]>, max_colors: usize) -> Palette {
    let max_colors = max_colors.clamp(1, 256);
    let histogram = count_colors(colors);
    if histogram.len() <= max_colors {
        return exact_palette(&histogram);
    }
    let samples = cluster_samples(&histogram);
    let mut centres = median_cut(&samples, max_colors);
    kmeans(&samples, &mut centres);
    nearest_palette(&histogram, &centres)
}

/// Distinct colours with their counts, sorted by sRGB value (sorting beats hashing here: grids
/// hold millions of voxels but few colours).
fn count_colors(colors: impl IntoIterator<Item = [u8; 3]>) -> Vec<([u8; 3], u64)> {
    let mut packed: Vec<u32> =
        colors.into_iter().map(|[r, g, b]| u32::from_be_bytes([0, r, g, b])).collect();
    packed.sort_unstable();
    let mut histogram: Vec<([u8; 3], u64)> = Vec::new();
    for c in packed {
        let [_, r, g, b] = c.to_be_bytes();
        match histogram.last_mut() {
            Some((last, n)) if *last == [r, g, b] => *n += 1,
            _ => histogram.push(([r, g, b], 1)),
        }
    }
    histogram
}

/// One entry per distinct colour, in sRGB order.
fn exact_palette(histogram: &[([u8; 3], u64)]) -> Palette {
    let colors: Vec<[u8; 3]> = histogram.iter().map(|&(rgb, _)| rgb).collect();
    let lookup = colors.iter().enumerate().map(|(i, &rgb)| (rgb, i as u8)).collect();
    Palette { colors, lookup }
}

/// A weighted point in OKLab.
#[derive(Clone, Copy, Debug)]
struct Sample {
    lab: [f64; 3],
    weight: f64,
}

/// The points k-means clusters: every distinct colour, or a 4-bit histogram when there are many.
fn cluster_samples(histogram: &[([u8; 3], u64)]) -> Vec<Sample> {
    let exact = histogram.iter().map(|&(rgb, n)| (rgb, srgb8_to_oklab(rgb), n as f64));
    if histogram.len() <= HISTOGRAM_THRESHOLD {
        return exact.map(|(_, lab, weight)| Sample { lab, weight }).collect();
    }
    // Each bin holds the weighted mean of its members, so the coarse grid only speeds things up.
    let mut bins: HashMap<[u8; 3], ([f64; 3], f64)> = HashMap::new();
    for (rgb, lab, weight) in exact {
        let (sum, total) = bins.entry(rgb.map(|c| c >> 4)).or_insert(([0.0; 3], 0.0));
        for (acc, v) in sum.iter_mut().zip(lab) {
            *acc += v * weight;
        }
        *total += weight;
    }
    let mut bins: Vec<_> = bins.into_iter().collect();
    bins.sort_unstable_by_key(|&(key, _)| key);
    bins.into_iter()
        .map(|(_, (sum, weight))| Sample { lab: sum.map(|v| v / weight), weight })
        .collect()
}

/// Seeds `k` centres: split the box with the largest weighted spread at its weighted median.
fn median_cut(samples: &[Sample], k: usize) -> Vec<[f64; 3]> {
    let mut boxes = vec![ColorBox::new(samples.to_vec())];
    while boxes.len() < k {
        let splittable = boxes.iter().enumerate().filter(|(_, b)| b.members.len() > 1);
        let widest = splittable.max_by(|(_, a), (_, b)| a.spread.total_cmp(&b.spread));
        let Some((widest, _)) = widest else { break };
        let parent = boxes.swap_remove(widest);
        let (low, high) = split_at_median(parent.members, parent.axis);
        boxes.push(ColorBox::new(low));
        boxes.push(ColorBox::new(high));
    }
    boxes.iter().map(|b| weighted_mean(&b.members)).collect()
}

/// A median-cut box: its samples and the axis along which their weighted variance is largest.
struct ColorBox {
    members: Vec<Sample>,
    axis: usize,
    spread: f64,
}

impl ColorBox {
    fn new(members: Vec<Sample>) -> Self {
        let mean = weighted_mean(&members);
        let spread_along = |axis: usize| -> f64 {
            members.iter().map(|s| s.weight * (s.lab[axis] - mean[axis]).powi(2)).sum()
        };
        let (axis, spread) = (0..3)
            .map(|a| (a, spread_along(a)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((0, 0.0));
        ColorBox { members, axis, spread }
    }
}

/// Splits samples along `axis` so each side holds about half the weight; neither side is empty.
fn split_at_median(mut members: Vec<Sample>, axis: usize) -> (Vec<Sample>, Vec<Sample>) {
    members.sort_by(|a, b| a.lab[axis].total_cmp(&b.lab[axis]));
    let total: f64 = members.iter().map(|s| s.weight).sum();
    let mut acc = 0.0;
    let mut cut = members.len() / 2;
    for (i, s) in members.iter().enumerate() {
        acc += s.weight;
        if acc >= total / 2.0 {
            cut = i + 1;
            break;
        }
    }
    let cut = cut.clamp(1, members.len() - 1);
    let high = members.split_off(cut);
    (members, high)
}

/// Weighted mean of a non-empty sample set.
fn weighted_mean(samples: &[Sample]) -> [f64; 3] {
    let mut sum = [0.0; 3];
    let mut weight = 0.0;
    for s in samples {
        for (acc, v) in sum.iter_mut().zip(s.lab) {
            *acc += v * s.weight;
        }
        weight += s.weight;
    }
    sum.map(|v| v / weight.max(f64::MIN_POSITIVE))
}

/// Weighted Lloyd iterations; an emptied cluster is re-seeded at the worst-fitting sample.
fn kmeans(samples: &[Sample], centres: &mut [[f64; 3]]) {
    let mut assignment = vec![usize::MAX; samples.len()];
    for _ in 0..KMEANS_ITERATIONS {
        let mut changed = false;
        for (slot, s) in assignment.iter_mut().zip(samples) {
            let nearest = nearest(centres, s.lab).0;
            changed |= *slot != nearest;
            *slot = nearest;
        }
        if !changed {
            break;
        }
        update_centres(samples, &assignment, centres);
    }
}

/// Moves each centre to the weighted mean of its members.
fn update_centres(samples: &[Sample], assignment: &[usize], centres: &mut [[f64; 3]]) {
    let mut sums = vec![([0.0f64; 3], 0.0f64); centres.len()];
    for (s, &c) in samples.iter().zip(assignment) {
        for (acc, v) in sums[c].0.iter_mut().zip(s.lab) {
            *acc += v * s.weight;
        }
        sums[c].1 += s.weight;
    }
    for (centre, (sum, weight)) in centres.iter_mut().zip(&sums) {
        if *weight > 0.0 {
            *centre = sum.map(|v| v / weight);
        }
    }
    for empty in (0..centres.len()).filter(|&c| sums[c].1 == 0.0) {
        if let Some(worst) = worst_sample(samples, centres) {
            centres[empty] = worst;
        }
    }
}

/// The sample with the largest weighted distance to its nearest centre.
fn worst_sample(samples: &[Sample], centres: &[[f64; 3]]) -> Option<[f64; 3]> {
    samples
        .iter()
        .map(|s| (s.weight * nearest(centres, s.lab).1, s.lab))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, lab)| lab)
}

/// Index of and squared distance to the centre nearest `lab` (first one on ties).
fn nearest(centres: &[[f64; 3]], lab: [f64; 3]) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (i, c) in centres.iter().enumerate() {
        let d = (c[0] - lab[0]).powi(2) + (c[1] - lab[1]).powi(2) + (c[2] - lab[2]).powi(2);
        if d < best.1 {
            best = (i, d);
        }
    }
    best
}

/// Rounds the centres to sRGB bytes (dropping duplicates) and maps every colour to the nearest.
fn nearest_palette(histogram: &[([u8; 3], u64)], centres: &[[f64; 3]]) -> Palette {
    let mut colors: Vec<[u8; 3]> = centres.iter().map(|&lab| oklab_to_srgb8(lab)).collect();
    colors.sort_unstable();
    colors.dedup();
    let labs: Vec<[f64; 3]> = colors.iter().map(|&rgb| srgb8_to_oklab(rgb)).collect();
    let lookup = histogram
        .par_iter()
        .map(|&(rgb, _)| (rgb, nearest(&labs, srgb8_to_oklab(rgb)).0 as u8))
        .collect();
    Palette { colors, lookup }
}

/// sRGB byte to linear light in `[0, 1]` (the sRGB transfer function).
pub fn srgb_to_linear(c: u8) -> f64 {
    let c = f64::from(c) / 255.0;
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// Linear light to the nearest sRGB byte, clamping out-of-gamut values.
pub fn linear_to_srgb(v: f64) -> u8 {
    let v = v.clamp(0.0, 1.0);
    let c = if v <= 0.0031308 { v * 12.92 } else { 1.055 * v.powf(1.0 / 2.4) - 0.055 };
    (c * 255.0).round() as u8
}

/// sRGB bytes to OKLab (Björn Ottosson's matrices, D65 white).
pub fn srgb8_to_oklab(rgb: [u8; 3]) -> [f64; 3] {
    let [r, g, b] = rgb.map(srgb_to_linear);
    let l = 0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b;
    let m = 0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b;
    let s = 0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b;
    let [l, m, s] = [l.cbrt(), m.cbrt(), s.cbrt()];
    [
        0.2104542553 * l + 0.7936177850 * m - 0.0040720468 * s,
        1.9779984951 * l - 2.4285922050 * m + 0.4505937099 * s,
        0.0259040371 * l + 0.7827717662 * m - 0.8086757660 * s,
    ]
}

/// OKLab to the nearest sRGB bytes, clamping colours outside the sRGB gamut.
pub fn oklab_to_srgb8(lab: [f64; 3]) -> [u8; 3] {
    let [big_l, a, b] = lab;
    let l = (big_l + 0.3963377774 * a + 0.2158037573 * b).powi(3);
    let m = (big_l - 0.1055613458 * a - 0.0638541728 * b).powi(3);
    let s = (big_l - 0.0894841775 * a - 1.2914855480 * b).powi(3);
    [
        4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s,
        -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
        -0.0041960863 * l - 0.7034186147 * m + 1.7076147010 * s,
    ]
    .map(linear_to_srgb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oklab_round_trips_every_grey_and_a_colour_lattice() {
        for v in 0..=255u8 {
            assert_eq!(oklab_to_srgb8(srgb8_to_oklab([v, v, v])), [v, v, v]);
        }
        for r in (0..=255u8).step_by(15) {
            for g in (0..=255u8).step_by(17) {
                for b in (0..=255u8).step_by(51) {
                    assert_eq!(oklab_to_srgb8(srgb8_to_oklab([r, g, b])), [r, g, b]);
                }
            }
        }
    }

    #[test]
    fn oklab_has_known_anchor_values() {
        let white = srgb8_to_oklab([255, 255, 255]);
        assert!((white[0] - 1.0).abs() < 1e-4 && white[1].abs() < 1e-4 && white[2].abs() < 1e-4);
        // Published OKLab of sRGB red: L 0.627955, a 0.224863, b 0.125846.
        let red = srgb8_to_oklab([255, 0, 0]);
        assert!((red[0] - 0.627955).abs() < 1e-4, "{red:?}");
        assert!((red[1] - 0.224863).abs() < 1e-4 && (red[2] - 0.125846).abs() < 1e-4);
    }

    #[test]
    fn srgb_transfer_matches_the_standard() {
        assert_eq!(srgb_to_linear(0), 0.0);
        assert_eq!(srgb_to_linear(255), 1.0);
        assert!((srgb_to_linear(128) - 0.215861).abs() < 1e-6);
        for c in 0..=255u8 {
            assert_eq!(linear_to_srgb(srgb_to_linear(c)), c);
        }
    }

    #[test]
    fn few_colours_are_kept_exactly_in_srgb_order() {
        let input = [[9, 9, 9], [1, 2, 3], [9, 9, 9], [200, 0, 0]];
        let p = quantize(input, 255);
        assert_eq!(p.colors(), &[[1, 2, 3], [9, 9, 9], [200, 0, 0]]);
        assert_eq!(p.index_of([9, 9, 9]), Some(1));
        assert_eq!(p.index_of([4, 4, 4]), None);
        assert!(p.is_exact());
    }

    #[test]
    fn two_tight_clusters_become_two_entries_near_their_means() {
        let mut input = Vec::new();
        for d in 0..10u8 {
            input.push([200 + d, 10, 10]);
            input.push([10, 10, 200 + d]);
        }
        let p = quantize(input.iter().copied(), 2);
        assert_eq!(p.colors().len(), 2);
        let red = p.colors()[usize::from(p.index_of([205, 10, 10]).unwrap())];
        let blue = p.colors()[usize::from(p.index_of([10, 10, 201]).unwrap())];
        assert!(red[0] >= 200 && red[0] <= 209 && red[2] == 10, "{red:?}");
        assert!(blue[2] >= 200 && blue[2] <= 209 && blue[0] == 10, "{blue:?}");
        for rgb in &input[..] {
            let expect = if rgb[0] > 100 { red } else { blue };
            assert_eq!(p.colors()[usize::from(p.index_of(*rgb).unwrap())], expect);
        }
    }

    #[test]
    fn many_colours_fit_in_255_deterministically_with_small_error() {
        let input: Vec<[u8; 3]> = (0..4096u32)
            .map(|i| [(i * 37 % 256) as u8, (i * 101 % 256) as u8, (i / 16) as u8])
            .collect();
        let a = quantize(input.iter().copied(), MAX_VOX_COLORS);
        let b = quantize(input.iter().copied(), MAX_VOX_COLORS);
        assert_eq!(a.colors(), b.colors());
        assert!(a.colors().len() <= MAX_VOX_COLORS && a.colors().len() > 200);
        let worst = input
            .iter()
            .map(|&rgb| {
                let q = a.colors()[usize::from(a.index_of(rgb).unwrap())];
                let (x, y) = (srgb8_to_oklab(rgb), srgb8_to_oklab(q));
                ((x[0] - y[0]).powi(2) + (x[1] - y[1]).powi(2) + (x[2] - y[2]).powi(2)).sqrt()
            })
            .fold(0.0, f64::max);
        // 4096 colours spread over the cube into 255 cells: no colour should be far off.
        assert!(worst < 0.12, "worst OKLab error {worst}");
    }

    #[test]
    fn kmeans_lowers_the_error_of_the_median_cut_seed() {
        let input: Vec<[u8; 3]> = (0..3000u32)
            .map(|i| [(i % 251) as u8, (i * 7 % 253) as u8, (i * 13 % 255) as u8])
            .collect();
        let samples = cluster_samples(&count_colors(input.iter().copied()));
        let error = |centres: &[[f64; 3]]| -> f64 {
            samples.iter().map(|s| s.weight * nearest(centres, s.lab).1).sum()
        };
        let mut centres = median_cut(&samples, 32);
        let seeded = error(&centres);
        kmeans(&samples, &mut centres);
        assert!(error(&centres) < seeded, "{} >= {seeded}", error(&centres));
    }
}
