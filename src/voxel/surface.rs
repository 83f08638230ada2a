//! Surface voxels: every cell a triangle overlaps (exact test), coloured by the mean of the
//! triangle colours over each overlap weighted by the overlap's area, in linear space.
//!
//! Work is split into z-slabs, a few per worker thread; a triangle is handed to every slab its
//! bounding box reaches and clipped into cell pieces there ([`super::clip`]). A triangle inside
//! a single cell needs no clipping. Each worker keeps a dense slot map for the slab it works on
//! and a short list of running sums, so the full grid is never touched here: the result is the
//! list of surface cells.

use rayon::prelude::*;

use super::clip::for_each_piece;
use super::color::{to_srgb, TriShade};
use super::fit::Fit;
use super::overlap::{place, Placed, Reject};
use crate::error::{Error, Result};
use crate::mesh::Mesh;

/// Slabs per worker thread: enough for load balance, few enough that a triangle rarely reaches
/// two (it is then clipped in both).
const SLABS_PER_THREAD: usize = 4;

/// Weight added to every overlap so a cell the surface only touches (zero area) still gets a
/// colour.
const TOUCH_WEIGHT: f32 = 1e-6;

/// The corners of a whole triangle in its own barycentric coordinates.
const WHOLE: [[f32; 2]; 3] = [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]];

/// Counts of triangles left out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Skipped {
    /// Triangles with (nearly) collinear corners.
    pub degenerate: usize,
    /// Triangles with a NaN or infinite corner.
    pub non_finite: usize,
}

/// The surface: every filled cell as `(index, colour)`, by increasing index.
pub(crate) type Surface = Vec<(u32, [u8; 3])>;

/// Rasterizes `mesh` through `fit` into an `n`-cube: every cell a triangle overlaps, with the
/// area-weighted mean colour. Fails when no triangle is usable.
pub(crate) fn rasterize(mesh: &Mesh, fit: &Fit, n: usize) -> Result<(Surface, Skipped)> {
    let placed: Vec<Result<Prepared, Reject>> = mesh
        .triangles
        .par_iter()
        .map(|t| {
            let placed = place(t.positions.map(|p| fit.apply(p)), n)?;
            Ok(Prepared { placed, shade: TriShade::new(mesh, t) })
        })
        .collect();
    let skipped = count_skipped(&placed);
    if skipped.degenerate + skipped.non_finite == placed.len() {
        return Err(nothing_usable(skipped, placed.len()));
    }
    if skipped != Skipped::default() {
        tracing::debug!(?skipped, "left out triangles the voxelizer cannot use");
    }
    let slabs = (rayon::current_num_threads() * SLABS_PER_THREAD).clamp(1, n);
    let height = n.div_ceil(slabs);
    let bins = Bins::new(&placed, height, n.div_ceil(height));
    let uniform = uniform_colour(&placed);
    let surface: Vec<Surface> = (0..n.div_ceil(height))
        .into_par_iter()
        .map(|s| {
            let z0 = s * height;
            // Copied out in index order, so the slab works on its own compact list.
            let tris: Vec<Prepared> = bins
                .get(s)
                .iter()
                .filter_map(|&i| placed[i as usize].as_ref().ok())
                .copied()
                .collect();
            let slab = Slab { n, z0, z1: (z0 + height).min(n) - 1, uniform };
            ACCUMULATOR.with_borrow_mut(|acc| slab.run(&tris, acc))
        })
        .collect();
    Ok((surface.concat(), skipped))
}

/// The error for a mesh of `total` triangles, all `skipped`.
fn nothing_usable(skipped: Skipped, total: usize) -> Error {
    let (d, f) = (skipped.degenerate, skipped.non_finite);
    Error::invalid(
        "mesh",
        format!("no usable triangle ({d} degenerate, {f} not finite, of {total})"),
    )
}

fn count_skipped(placed: &[Result<Prepared, Reject>]) -> Skipped {
    let mut skipped = Skipped::default();
    for p in placed {
        match p {
            Err(Reject::Degenerate) => skipped.degenerate += 1,
            Err(Reject::NonFinite) => skipped.non_finite += 1,
            Ok(_) => {}
        }
    }
    skipped
}

/// The single colour of a mesh whose usable triangles are all flat and alike: then overlap
/// areas do not change any voxel's colour and clipping can be skipped.
fn uniform_colour(placed: &[Result<Prepared, Reject>]) -> Option<[f32; 3]> {
    let usable = || placed.par_iter().filter_map(|p| p.as_ref().ok());
    let colour = usable().find_first(|_| true)?.shade.flat()?;
    usable().all(|p| p.shade.flat() == Some(colour)).then_some(colour)
}

/// A usable triangle ready for its slabs: where it lies in the grid and its colour inputs.
#[derive(Clone, Copy)]
struct Prepared<'a> {
    placed: Placed,
    shade: TriShade<'a>,
}

/// Triangle indices grouped by the z-slabs they reach (a counting sort).
struct Bins {
    starts: Vec<usize>,
    items: Vec<u32>,
}

impl Bins {
    fn new(placed: &[Result<Prepared, Reject>], height: usize, slabs: usize) -> Self {
        let last = slabs as i32 - 1;
        // The slabs each triangle reaches, worked out in parallel from the large records once.
        let spans: Vec<(u16, u16)> = placed
            .par_iter()
            .map(|p| match p {
                Ok(Prepared { placed: Placed { lo, hi, .. }, .. }) if lo[2] <= hi[2] => (
                    (lo[2] / height as i32).clamp(0, last) as u16,
                    (hi[2] / height as i32).clamp(0, last) as u16 + 1,
                ),
                _ => (0, 0),
            })
            .collect();
        let range = |&(a, b): &(u16, u16)| a..b;
        let mut starts = vec![0usize; slabs + 1];
        for span in &spans {
            for slab in range(span) {
                starts[slab as usize + 1] += 1;
            }
        }
        for s in 0..slabs {
            starts[s + 1] += starts[s];
        }
        let mut fill = starts.clone();
        let mut items = vec![0u32; starts[slabs]];
        for (i, span) in spans.iter().enumerate() {
            for slab in range(span) {
                items[fill[slab as usize]] = i as u32;
                fill[slab as usize] += 1;
            }
        }
        Bins { starts, items }
    }

    fn get(&self, slab: usize) -> &[u32] {
        &self.items[self.starts[slab]..self.starts[slab + 1]]
    }
}

/// One z-slab `z0..=z1` of an `n`-cube.
struct Slab {
    n: usize,
    z0: usize,
    z1: usize,
    uniform: Option<[f32; 3]>,
}

/// One worker's running sums: a dense map from a slab's cells to their slot in `sums`
/// ([`NONE`] where untouched), reused from slab to slab.
#[derive(Default)]
struct Accumulator {
    slot: Vec<u32>,
    /// `(cell index in the slab, [r·w, g·w, b·w, w])`.
    sums: Vec<(u32, [f32; 4])>,
}

thread_local! {
    /// Each worker thread's accumulator, kept for the next slab and the next mesh so its slot
    /// map is allocated and cleared once.
    static ACCUMULATOR: std::cell::RefCell<Accumulator> = std::cell::RefCell::default();
}

/// An untouched cell in [`Accumulator::slot`].
const NONE: u32 = u32::MAX;

impl Accumulator {
    /// Readies the map for a slab of `cells` cells.
    fn start(&mut self, cells: usize) {
        if self.slot.len() < cells {
            self.slot.resize(cells, NONE);
        }
        self.sums.clear();
    }

    /// Adds `weight × rgb` to the sums of the slab's cell `local`.
    #[inline]
    fn add(&mut self, local: usize, weight: f32, rgb: [f32; 3]) {
        let mut slot = self.slot[local];
        if slot == NONE {
            slot = self.sums.len() as u32;
            self.slot[local] = slot;
            self.sums.push((local as u32, [0.0; 4]));
        }
        let sum = &mut self.sums[slot as usize].1;
        for i in 0..3 {
            sum[i] += rgb[i] * weight;
        }
        sum[3] += weight;
    }

    /// The touched cells by increasing index, with their mean colours; clears the map.
    fn finish(&mut self, first: u32) -> Surface {
        self.sums.sort_unstable_by_key(|(local, _)| *local);
        let slot = &mut self.slot;
        self.sums
            .drain(..)
            .map(|(local, sum)| {
                slot[local as usize] = NONE;
                (first + local, to_srgb([0, 1, 2].map(|i| sum[i] / sum[3])))
            })
            .collect()
    }
}

impl Slab {
    /// Rasterizes the triangles `tris` into this slab and lists the cells it filled, by
    /// increasing index.
    fn run(&self, tris: &[Prepared], acc: &mut Accumulator) -> Surface {
        let layer = self.n * self.n;
        acc.start((self.z1 + 1 - self.z0) * layer);
        let local = |c: [usize; 3]| c[0] + self.n * c[1] + layer * (c[2] - self.z0);
        // In the order of their first cells, so the slot map is walked nearly in order.
        let mut order: Vec<(u32, u32)> = (tris.iter().enumerate())
            .map(|(i, t)| {
                let lo = t.placed.lo.map(|c| c.max(0) as usize);
                (local([lo[0], lo[1], lo[2].max(self.z0)]) as u32, i as u32)
            })
            .collect();
        order.sort_unstable();
        for (_, i) in order {
            let Prepared { placed, shade } = &tris[i as usize];
            // A triangle inside one cell (common at low resolution) needs no clipping.
            if let Some(cell) = placed.single_cell() {
                let (weight, rgb) = match self.uniform {
                    Some(rgb) => (1.0, rgb),
                    None => (placed.area, shade.mean(&WHOLE, 0.5, [1.0 / 3.0; 2])),
                };
                acc.add(local(cell), weight + TOUCH_WEIGHT, rgb);
                continue;
            }
            for_each_piece(placed.v, self.n, self.z0 as i32, self.z1 as i32, |cell, piece| {
                let (weight, rgb) = match self.uniform {
                    Some(rgb) => (1.0, rgb),
                    None => {
                        let (area, centroid) = piece.area_and_centroid();
                        let weight = area * 2.0 * placed.area + TOUCH_WEIGHT;
                        (weight, shade.mean(piece.corners(), area, centroid))
                    }
                };
                acc.add(local(cell), weight, rgb);
            });
        }
        acc.finish((self.z0 * layer) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::{Material, Triangle};

    fn tri(positions: [[f32; 3]; 3], material: usize) -> Triangle {
        Triangle { positions, colors: None, uvs: None, material }
    }

    fn material(rgb: [f32; 3]) -> Material {
        Material { base_color: [rgb[0], rgb[1], rgb[2], 1.0], ..Default::default() }
    }

    #[test]
    fn overlaps_are_averaged_by_area() {
        // Two flat triangles at z = 0.5 in an 8-grid with identity fit: a red one covering most
        // of cell (0, 0, 0) and a blue sliver covering a tenth of it.
        let mesh = Mesh {
            triangles: vec![
                tri([[0.0, 0.0, 0.5], [1.0, 0.0, 0.5], [0.0, 1.8, 0.5]], 0),
                tri([[1.0, 0.0, 0.5], [1.0, 0.2, 0.5], [0.0, 0.0, 0.5]], 1),
            ],
            materials: vec![material([1.0, 0.0, 0.0]), material([0.0, 0.0, 1.0])],
            images: vec![],
        };
        let fit = Fit::new([0.0; 3], [8.0; 3], 8, 8, 0.0);
        let (surface, skipped) = rasterize(&mesh, &fit, 8).unwrap();
        let cells: std::collections::BTreeMap<u32, [u8; 3]> = surface.iter().copied().collect();
        assert_eq!(skipped, Skipped::default());
        let listed: Vec<u32> = surface.iter().map(|(i, _)| *i).collect();
        assert_eq!(listed, vec![0, 1, 8]);
        assert_eq!(surface[2].1, [255, 0, 0]);
        // In cell (0, 0, 0) red covers the part of its triangle with y <= 1, area
        // 1 - 1 / 3.6 = 0.7222; blue covers 0.1.
        let (r, b) = (0.7222 / 0.8222, 0.1 / 0.8222);
        let (got, want) = (cells[&0], to_srgb([r, 0.0, b]));
        assert!((0..3).all(|i| got[i].abs_diff(want[i]) <= 1), "{got:?} vs {want:?}");
        // Red also reaches (0, 1, 0); both touch (1, 0, 0) along x = 1 with no area.
        assert_eq!(cells[&8], [255, 0, 0]);
        assert_eq!(cells[&1], to_srgb([0.5, 0.0, 0.5]));
    }

    #[test]
    fn slabs_cover_triangles_spanning_many_layers() {
        // A slanted triangle through a 128-grid, reaching every slab.
        let mesh = Mesh {
            triangles: vec![tri([[1.0, 1.0, 1.0], [120.0, 2.0, 127.0], [3.0, 110.0, 60.0]], 0)],
            materials: vec![material([0.0, 1.0, 0.0])],
            images: vec![],
        };
        let fit = Fit::new([0.0; 3], [128.0; 3], 128, 128, 0.0);
        let (surface, _) = rasterize(&mesh, &fit, 128).unwrap();
        let mut expected = Vec::new();
        for_each_piece(mesh.triangles[0].positions, 128, 0, 127, |c, _| {
            expected.push((c[0] + 128 * (c[1] + 128 * c[2])) as u32);
        });
        expected.sort_unstable();
        let got: Vec<u32> = surface.iter().map(|(i, _)| *i).collect();
        assert_eq!(got, expected);
        assert!(surface.iter().all(|(_, c)| *c == [0, 255, 0]));
    }

    #[test]
    fn reports_when_nothing_is_usable() {
        let mesh =
            Mesh { triangles: vec![tri([[0.0; 3], [1.0; 3], [2.0; 3]], 0)], ..Default::default() };
        let fit = Fit::new([0.0; 3], [2.0; 3], 8, 8, 0.0);
        let err = rasterize(&mesh, &fit, 8).unwrap_err().to_string();
        assert_eq!(err, "invalid mesh: no usable triangle (1 degenerate, 0 not finite, of 1)");
    }
}
