//! Surface voxels: every cell a triangle overlaps (exact test), coloured by the mean of the
//! triangle colours over each overlap weighted by the overlap's area, in linear space.
//!
//! Work goes layer by layer (one z of the grid), layers in parallel: a triangle is listed under
//! every layer its bounding box reaches and clipped into cell pieces there ([`super::clip`]). A
//! triangle inside a single cell needs no clipping. Triangles are put in order of their lowest
//! layer first, so a layer's list reads them nearly in sequence. Each worker sums a layer's
//! pieces in a dense map of the layer's cells with a bit per touched cell, so the full grid is
//! never touched here: the result is the list of surface cells.

use std::cell::RefCell;

use rayon::prelude::*;

use super::clip::Clipper;
use super::color::{to_srgb, TriShade};
use super::fit::Fit;
use super::grid::Ones;
use super::overlap::{place, Placed, Reject};
use crate::error::{Error, Result};
use crate::mesh::Mesh;

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

/// The cells of an `n`-cube's `surface` as `([x, y, z], colour)`, in order, found by walking
/// the rows rather than dividing (the list is sorted).
pub(crate) fn cells(
    surface: &Surface,
    n: usize,
) -> impl Iterator<Item = ([usize; 3], [u8; 3])> + '_ {
    let (mut row_start, mut y, mut z) = (0usize, 0usize, 0usize);
    surface.iter().map(move |&(index, rgb)| {
        let index = index as usize;
        while index >= row_start + n {
            row_start += n;
            y += 1;
            if y == n {
                (y, z) = (0, z + 1);
            }
        }
        ([index - row_start, y, z], rgb)
    })
}

/// The layers (z) from the lowest to the highest cell of an `n`-cube's `surface`.
pub(crate) fn layers(surface: &Surface, n: usize) -> std::ops::Range<usize> {
    let z_of = |cell: &(u32, [u8; 3])| cell.0 as usize / (n * n);
    match (surface.first(), surface.last()) {
        (Some(first), Some(last)) => z_of(first)..z_of(last) + 1,
        _ => 0..0,
    }
}

/// Rasterizes `mesh` through `fit` into an `n`-cube: every cell a triangle overlaps, with the
/// area-weighted mean colour. Fails when no triangle is usable.
pub(crate) fn rasterize(mesh: &Mesh, fit: &Fit, n: usize) -> Result<(Surface, Skipped)> {
    let placed: Vec<Result<Placed, Reject>> =
        mesh.triangles.par_iter().map(|t| place(t.positions.map(|p| fit.apply(p)), n)).collect();
    let skipped = count_skipped(&placed);
    if skipped.degenerate + skipped.non_finite == placed.len() {
        return Err(nothing_usable(skipped, placed.len()));
    }
    if skipped != Skipped::default() {
        tracing::debug!(?skipped, "left out triangles the voxelizer cannot use");
    }
    // The layers each triangle reaches (none for one outside the grid), compactly.
    let spans: Vec<(u16, u16)> = placed
        .par_iter()
        .map(|p| match p {
            Ok(p) if (0..3).all(|a| p.lo[a] <= p.hi[a]) => (p.lo[2] as u16, p.hi[2] as u16 + 1),
            _ => (0, 0),
        })
        .collect();
    let layers = Layers::new(&spans, n);
    // Only triangles with layers, so usable ones, are in the order; an exact-size map collects
    // straight into place.
    let tris: Vec<Option<Prepared>> = layers
        .order
        .par_iter()
        .map(|&i| {
            let placed = *placed[i as usize].as_ref().ok()?;
            Some(Prepared { placed, shade: TriShade::new(mesh, &mesh.triangles[i as usize]) })
        })
        .collect();
    let uniform = uniform_colour(&tris);
    let surface: Vec<Surface> = (0..n)
        .into_par_iter()
        .map(|z| {
            let layer = Layer { n, z, uniform };
            WORKER.with_borrow_mut(|worker| layer.run(&tris, layers.get(z), worker))
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

fn count_skipped(placed: &[Result<Placed, Reject>]) -> Skipped {
    let one = |p: &Result<Placed, Reject>| match p {
        Err(Reject::Degenerate) => Skipped { degenerate: 1, non_finite: 0 },
        Err(Reject::NonFinite) => Skipped { degenerate: 0, non_finite: 1 },
        Ok(_) => Skipped::default(),
    };
    placed.par_iter().map(one).reduce(Skipped::default, |a, b| Skipped {
        degenerate: a.degenerate + b.degenerate,
        non_finite: a.non_finite + b.non_finite,
    })
}

/// The single colour of a mesh whose usable triangles are all flat and alike: then overlap
/// areas do not change any voxel's colour and clipping can be skipped.
fn uniform_colour(tris: &[Option<Prepared>]) -> Option<[f32; 3]> {
    let flat = |t: &Option<Prepared>| t.as_ref().and_then(|t| t.shade.flat());
    let colour = flat(tris.first()?)?;
    tris.par_iter().all(|t| flat(t) == Some(colour)).then_some(colour)
}

/// A usable triangle ready for its layers: where it lies in the grid and its colour inputs.
#[derive(Clone, Copy)]
struct Prepared<'a> {
    placed: Placed,
    shade: TriShade<'a>,
}

/// The triangles that reach into the grid in order of their lowest layer, and for each layer
/// the positions in that order of the triangles reaching it (a counting sort each).
struct Layers {
    /// Mesh triangle indices, lowest layer first.
    order: Vec<u32>,
    starts: Vec<usize>,
    items: Vec<u32>,
}

impl Layers {
    /// From the layers `spans[i]` (a half-open range, empty for none) triangle `i` reaches in
    /// an `n`-cube.
    fn new(spans: &[(u16, u16)], n: usize) -> Self {
        let mut by_lowest = vec![0usize; n + 1];
        let mut starts = vec![0usize; n + 1];
        for &(a, b) in spans {
            if a < b {
                by_lowest[a as usize + 1] += 1;
                (a..b).for_each(|z| starts[z as usize + 1] += 1);
            }
        }
        prefix_sum(&mut by_lowest);
        prefix_sum(&mut starts);
        let mut order = vec![0u32; by_lowest[n]];
        for (i, &(a, b)) in spans.iter().enumerate() {
            if a < b {
                order[by_lowest[a as usize]] = i as u32;
                by_lowest[a as usize] += 1;
            }
        }
        let mut fill = starts.clone();
        let mut items = vec![0u32; starts[n]];
        for (k, &i) in order.iter().enumerate() {
            let (a, b) = spans[i as usize];
            for z in a as usize..b as usize {
                items[fill[z]] = k as u32;
                fill[z] += 1;
            }
        }
        Layers { order, starts, items }
    }

    /// Positions in [`Layers::order`] of the triangles reaching layer `z`, increasing.
    fn get(&self, z: usize) -> &[u32] {
        &self.items[self.starts[z]..self.starts[z + 1]]
    }
}

/// Turns counts `[0, c0, c1, ...]` into starts `[0, c0, c0 + c1, ...]`.
pub(crate) fn prefix_sum(counts: &mut [usize]) {
    for i in 1..counts.len() {
        counts[i] += counts[i - 1];
    }
}

/// One layer `z` of an `n`-cube.
struct Layer {
    n: usize,
    z: usize,
    uniform: Option<[f32; 3]>,
}

/// One worker's running sums for a layer: `[r·w, g·w, b·w, w]` per cell, and a bit per cell
/// touched; reused from layer to layer and left all zero.
#[derive(Default)]
struct Sums {
    sums: Vec<[f32; 4]>,
    touched: Vec<u64>,
}

/// What a worker thread keeps from layer to layer: its sums and its clipping buffers.
#[derive(Default)]
struct Worker {
    sums: Sums,
    clipper: Clipper,
}

thread_local! {
    /// Each worker thread's state, kept for the next layer and the next mesh so it is
    /// allocated once.
    static WORKER: RefCell<Worker> = RefCell::default();
}

impl Sums {
    /// Readies the sums for a layer of `cells` cells.
    fn start(&mut self, cells: usize) {
        if self.sums.len() < cells {
            self.sums.resize(cells, [0.0; 4]);
            self.touched.resize(cells.div_ceil(64), 0);
        }
    }

    /// Adds `weight × rgb` to the sums of the layer's cell `local`.
    #[inline]
    fn add(&mut self, local: usize, weight: f32, rgb: [f32; 3]) {
        let sum = &mut self.sums[local];
        for i in 0..3 {
            sum[i] += rgb[i] * weight;
        }
        sum[3] += weight;
        self.touched[local / 64] |= 1 << (local % 64);
    }

    /// The touched cells by increasing index, with their mean colours; clears the sums.
    fn finish(&mut self, first: u32) -> Surface {
        let mut out = Vec::new();
        for (w, word) in self.touched.iter_mut().enumerate() {
            for b in Ones(std::mem::take(word)) {
                let local = w * 64 + b;
                let sum = std::mem::take(&mut self.sums[local]);
                out.push((first + local as u32, to_srgb([0, 1, 2].map(|i| sum[i] / sum[3]))));
            }
        }
        out
    }
}

impl Layer {
    /// Rasterizes the triangles `tris[k]` for `k` in `list` into this layer and lists the cells
    /// it filled, by increasing index.
    fn run(&self, tris: &[Option<Prepared>], list: &[u32], worker: &mut Worker) -> Surface {
        let (n, z) = (self.n, self.z);
        let Worker { sums, clipper } = worker;
        sums.start(n * n);
        let local = |c: [usize; 3]| c[0] + n * c[1];
        for &k in list {
            let Some(Prepared { placed, shade }) = &tris[k as usize] else { continue };
            // A triangle inside one cell (common at low resolution) needs no clipping.
            if let Some(cell) = placed.single_cell() {
                let (weight, rgb) = match self.uniform {
                    Some(rgb) => (1.0, rgb),
                    None => (placed.area, shade.mean(&WHOLE, 0.5, [1.0 / 3.0; 2])),
                };
                sums.add(local(cell), weight + TOUCH_WEIGHT, rgb);
                continue;
            }
            clipper.for_each_piece(placed.v, n, z as i32, z as i32, |cell, piece| {
                let (weight, rgb) = match self.uniform {
                    Some(rgb) => (1.0, rgb),
                    None => {
                        let (area, centroid) = piece.area_and_centroid();
                        let weight = area * 2.0 * placed.area + TOUCH_WEIGHT;
                        (weight, shade.mean(piece.corners(), area, centroid))
                    }
                };
                sums.add(local(cell), weight, rgb);
            });
        }
        sums.finish((z * n * n) as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::{Material, Triangle};
    use crate::voxel::clip::for_each_piece;

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
    fn layers_cover_triangles_spanning_many_layers() {
        // A slanted triangle through a 128-grid, reaching every layer.
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
