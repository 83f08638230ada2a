//! Surface voxels: every cell a triangle overlaps (exact test), coloured by the mean of the
//! triangle colours over each overlap weighted by the overlap's area, in linear space.
//!
//! Work is split into z-slabs, one rayon task each; a triangle is handed to every slab its
//! bounding box reaches and prepared for the overlap tests there, so only its grid corners and
//! bounds are kept per triangle. A triangle inside a single cell skips the tests. A slab writes
//! only its own cells, and uses them as the index into a small list of accumulators while it
//! works, so no task needs a dense buffer either.

use rayon::prelude::*;

use super::clip::{clip_axis, Piece};
use super::color::{to_srgb, TriShade};
use super::fit::Fit;
use super::overlap::{place, Placed, Reject, TriBox};
use super::Cell;
use crate::error::{Error, Result};
use crate::mesh::Mesh;

/// Target number of slabs: enough for load balance on many cores, few enough that a triangle
/// rarely spans two.
const SLABS: usize = 64;

/// Weight added to every overlap so a cell the surface only touches (zero area) still gets a
/// colour.
const TOUCH_WEIGHT: f32 = 1e-6;

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

/// Rasterizes `mesh` through `fit` into `cells` (an empty `n`-cube, x-fastest): every cell a
/// triangle overlaps gets the mean colour. Also lists those cells. Fails when no triangle is
/// usable.
pub(crate) fn rasterize(
    mesh: &Mesh,
    fit: &Fit,
    n: usize,
    cells: &mut [Cell],
) -> Result<(Surface, Skipped)> {
    let placed: Vec<Result<Placed, Reject>> =
        mesh.triangles.par_iter().map(|t| place(t.positions.map(|p| fit.apply(p)), n)).collect();
    let skipped = count_skipped(&placed);
    if skipped.degenerate + skipped.non_finite == placed.len() {
        return Err(nothing_usable(skipped, placed.len()));
    }
    if skipped != Skipped::default() {
        tracing::debug!(?skipped, "left out triangles the voxelizer cannot use");
    }
    let height = n.div_ceil(SLABS);
    let bins = Bins::new(&placed, height, n.div_ceil(height));
    let uniform = uniform_colour(mesh, &placed);
    let slabs: Vec<Surface> = cells
        .par_chunks_mut(height * n * n)
        .enumerate()
        .map_init(Vec::new, |acc, (s, out)| {
            let z0 = s * height;
            let slab = Slab { mesh, placed: &placed, n, z0, z1: (z0 + height).min(n) - 1, uniform };
            slab.run(bins.get(s), out, acc)
        })
        .collect();
    Ok((slabs.concat(), skipped))
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
fn uniform_colour(mesh: &Mesh, placed: &[Result<Placed, Reject>]) -> Option<[f32; 3]> {
    let usable = || mesh.triangles.par_iter().zip(placed).filter(|(_, p)| p.is_ok());
    let (first, _) = usable().find_first(|_| true)?;
    let colour = TriShade::new(mesh, first).flat()?;
    usable().all(|(t, _)| TriShade::new(mesh, t).flat() == Some(colour)).then_some(colour)
}

/// Triangle indices grouped by the z-slabs they reach (a counting sort).
struct Bins {
    starts: Vec<usize>,
    items: Vec<u32>,
}

impl Bins {
    fn new(placed: &[Result<Placed, Reject>], height: usize, slabs: usize) -> Self {
        let last = slabs as i32 - 1;
        let range = |p: &Result<Placed, Reject>| match p {
            Ok(Placed { lo, hi, .. }) if lo[2] <= hi[2] => {
                (lo[2] / height as i32).clamp(0, last)..(hi[2] / height as i32).clamp(0, last) + 1
            }
            _ => 0..0,
        };
        let mut starts = vec![0usize; slabs + 1];
        for p in placed {
            for slab in range(p) {
                starts[slab as usize + 1] += 1;
            }
        }
        for s in 0..slabs {
            starts[s + 1] += starts[s];
        }
        let mut fill = starts.clone();
        let mut items = vec![0u32; starts[slabs]];
        for (i, p) in placed.iter().enumerate() {
            for slab in range(p) {
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
struct Slab<'a> {
    mesh: &'a Mesh,
    placed: &'a [Result<Placed, Reject>],
    n: usize,
    z0: usize,
    z1: usize,
    uniform: Option<[f32; 3]>,
}

/// Running sums for one cell: `(cell index in the slab, [r·w, g·w, b·w, w])`.
type Acc = (u32, [f32; 4]);

/// A slab's accumulator index, stored in a touched cell while the slab is being rasterized. A
/// slab has at most `4 · 256²` cells, well within three bytes.
fn slot_to_cell(slot: usize) -> Cell {
    let b = (slot as u32).to_le_bytes();
    Some([b[0], b[1], b[2]])
}

fn cell_to_slot(b: [u8; 3]) -> usize {
    u32::from_le_bytes([b[0], b[1], b[2], 0]) as usize
}

impl Slab<'_> {
    /// Rasterizes the triangles `tris` into `out` (this slab's cells) and lists the cells it
    /// filled. While it runs, a touched cell holds its index into `acc` ([`slot_to_cell`]); at
    /// the end, its mean colour.
    fn run(&self, tris: &[u32], out: &mut [Cell], acc: &mut Vec<Acc>) -> Surface {
        acc.clear();
        for &i in tris {
            let Ok(placed) = &self.placed[i as usize] else { continue };
            let shade = TriShade::new(self.mesh, &self.mesh.triangles[i as usize]);
            // A triangle inside one cell (common at low resolution) needs no overlap tests.
            if let Some(cell) = placed.single_cell() {
                let (weight, rgb) = match self.uniform {
                    Some(rgb) => (1.0, rgb),
                    None => (placed.area, shade.mean(&Piece::whole(), 0.5, [1.0 / 3.0; 2])),
                };
                self.add(out, acc, cell, weight + TOUCH_WEIGHT, rgb);
                continue;
            }
            let Ok(tri) = TriBox::new(placed.v, self.n) else { continue };
            let mut column = Column::new(&tri);
            tri.for_each_cell(self.z0 as i32, self.z1 as i32, |cell| {
                let (weight, rgb) = match self.uniform {
                    Some(rgb) => (1.0, rgb),
                    None => column.sample(&shade, cell),
                };
                self.add(out, acc, cell, weight, rgb);
            });
        }
        acc.sort_unstable_by_key(|(local, _)| *local);
        let first = (self.z0 * self.n * self.n) as u32;
        acc.drain(..)
            .map(|(local, sum)| {
                let rgb = to_srgb([0, 1, 2].map(|i| sum[i] / sum[3]));
                out[local as usize] = Some(rgb);
                (first + local, rgb)
            })
            .collect()
    }

    /// Adds `weight × rgb` to the sums of `cell`, claiming an accumulator on first touch.
    #[inline]
    fn add(
        &self,
        out: &mut [Cell],
        acc: &mut Vec<Acc>,
        cell: [usize; 3],
        weight: f32,
        rgb: [f32; 3],
    ) {
        let local = cell[0] + self.n * (cell[1] + self.n * (cell[2] - self.z0));
        let slot = match out[local] {
            Some(bytes) => cell_to_slot(bytes),
            None => {
                out[local] = slot_to_cell(acc.len());
                acc.push((local as u32, [0.0; 4]));
                acc.len() - 1
            }
        };
        let sum = &mut acc[slot].1;
        for i in 0..3 {
            sum[i] += rgb[i] * weight;
        }
        sum[3] += weight;
    }
}

/// Clipping shared along a column of the cell walk: the triangle clipped to the column's two
/// cross slabs is kept while the walk stays in the column, so each cell clips only along the
/// walk axis.
struct Column<'a> {
    tri: &'a TriBox,
    axes: [usize; 3],
    key: Option<[usize; 2]>,
    piece: Piece,
}

impl<'a> Column<'a> {
    fn new(tri: &'a TriBox) -> Self {
        let w = tri.walk_axis();
        Column { tri, axes: [(w + 1) % 3, (w + 2) % 3, w], key: None, piece: Piece::whole() }
    }

    /// Weight (overlap area in square voxels) and mean linear colour of the triangle inside
    /// `cell`.
    fn sample(&mut self, shade: &TriShade, cell: [usize; 3]) -> (f32, [f32; 3]) {
        let [u, v, w] = self.axes;
        let key = [cell[u], cell[v]];
        if self.key != Some(key) {
            self.piece = Piece::whole();
            clip_axis(self.tri, &mut self.piece, cell[u], u);
            clip_axis(self.tri, &mut self.piece, cell[v], v);
            self.key = Some(key);
        }
        let mut piece = self.piece;
        clip_axis(self.tri, &mut piece, cell[w], w);
        let (area, centroid) = piece.area_and_centroid();
        let weight = area * 2.0 * self.tri.area + TOUCH_WEIGHT;
        (weight, shade.mean(&piece, area, centroid))
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
        let mut cells = vec![None; 512];
        let (surface, skipped) = rasterize(&mesh, &fit, 8, &mut cells).unwrap();
        assert_eq!(skipped, Skipped::default());
        let listed: Vec<u32> = surface.iter().map(|(i, _)| *i).collect();
        assert_eq!(listed, vec![0, 1, 8]);
        assert_eq!(surface[2].1, [255, 0, 0]);
        // In cell (0, 0, 0) red covers the part of its triangle with y <= 1, area
        // 1 - 1 / 3.6 = 0.7222; blue covers 0.1.
        let (r, b) = (0.7222 / 0.8222, 0.1 / 0.8222);
        let (got, want) = (cells[0].unwrap(), to_srgb([r, 0.0, b]));
        assert!((0..3).all(|i| got[i].abs_diff(want[i]) <= 1), "{got:?} vs {want:?}");
        // Red also reaches (0, 1, 0); both touch (1, 0, 0) along x = 1 with no area.
        let filled: Vec<usize> = (0..cells.len()).filter(|&i| cells[i].is_some()).collect();
        assert_eq!(filled, vec![0, 1, 8]);
        assert_eq!(cells[8], Some([255, 0, 0]));
        assert_eq!(cells[1], Some(to_srgb([0.5, 0.0, 0.5])));
    }

    #[test]
    fn slabs_cover_triangles_spanning_many_layers() {
        // A slanted triangle through a 128-grid: 2 layers per slab.
        let mesh = Mesh {
            triangles: vec![tri([[1.0, 1.0, 1.0], [120.0, 2.0, 127.0], [3.0, 110.0, 60.0]], 0)],
            materials: vec![material([0.0, 1.0, 0.0])],
            images: vec![],
        };
        let fit = Fit::new([0.0; 3], [128.0; 3], 128, 128, 0.0);
        let mut cells = vec![None; 128 * 128 * 128];
        rasterize(&mesh, &fit, 128, &mut cells).unwrap();
        let t = TriBox::new(mesh.triangles[0].positions, 128).unwrap();
        let mut expected = 0;
        t.for_each_cell(0, 127, |c| {
            expected += 1;
            assert!(cells[c[0] + 128 * (c[1] + 128 * c[2])].is_some(), "{c:?}");
        });
        assert_eq!(cells.iter().filter(|c| c.is_some()).count(), expected);
        assert!(cells.iter().flatten().all(|&c| c == [0, 255, 0]));
    }

    #[test]
    fn reports_when_nothing_is_usable() {
        let mesh =
            Mesh { triangles: vec![tri([[0.0; 3], [1.0; 3], [2.0; 3]], 0)], ..Default::default() };
        let fit = Fit::new([0.0; 3], [2.0; 3], 8, 8, 0.0);
        let err = rasterize(&mesh, &fit, 8, &mut [None; 512]).unwrap_err().to_string();
        assert_eq!(err, "invalid mesh: no usable triangle (1 degenerate, 0 not finite, of 1)");
    }
}
