//! Surface voxels: every cell a triangle overlaps (exact test), coloured by the mean of the
//! triangle colours over each overlap weighted by the overlap's area, in linear space.
//!
//! Work is split into z-slabs, one rayon task each; a triangle is handed to every slab its
//! bounding box reaches. A slab writes only its own part of the output, and uses that part as
//! the index into a small list of accumulators while it works, so no task needs a dense buffer.

use rayon::prelude::*;

use super::clip::clip;
use super::color::{pack, to_srgb, TriShade, EMPTY};
use super::fit::Fit;
use super::overlap::{Reject, TriBox};
use crate::error::{Error, Result};
use crate::mesh::Mesh;

/// Target number of slabs: enough for load balance on many cores, few enough that a triangle
/// rarely spans two.
const SLABS: usize = 64;

/// Weight added to every overlap so a cell the surface only touches (zero area) still gets a
/// colour.
const TOUCH_WEIGHT: f32 = 1e-6;

/// A triangle ready for rasterizing and shading.
struct Prepared<'a> {
    tri: TriBox,
    shade: TriShade<'a>,
}

/// Counts of triangles left out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Skipped {
    /// Triangles with (nearly) collinear corners.
    pub degenerate: usize,
    /// Triangles with a NaN or infinite corner.
    pub non_finite: usize,
}

/// Rasterizes `mesh` through `fit` into an `n`-cube: one packed word per cell, x-fastest,
/// [`EMPTY`] where no triangle reaches. Fails when no triangle is usable.
pub(crate) fn rasterize(mesh: &Mesh, fit: &Fit, n: usize) -> Result<(Vec<u32>, Skipped)> {
    let (prepared, skipped) = prepare(mesh, fit, n);
    if prepared.is_empty() {
        return Err(Error::invalid(
            "mesh",
            format!(
                "no usable triangle ({} degenerate, {} not finite, of {})",
                skipped.degenerate,
                skipped.non_finite,
                mesh.triangles.len()
            ),
        ));
    }
    if skipped != Skipped::default() {
        tracing::debug!(?skipped, "left out triangles the voxelizer cannot use");
    }
    let height = n.div_ceil(SLABS).max(1);
    let bins = Bins::new(&prepared, height, n.div_ceil(height));
    let uniform = uniform_colour(&prepared);
    let mut words = vec![EMPTY; n * n * n];
    words.par_chunks_mut(height * n * n).enumerate().for_each_init(Vec::new, |acc, (s, out)| {
        let z0 = s * height;
        let slab = Slab { n, z0, z1: (z0 + height).min(n) - 1, uniform };
        slab.run(bins.get(s).iter().map(|&i| &prepared[i as usize]), out, acc);
    });
    Ok((words, skipped))
}

/// Maps every triangle into the grid and gathers its shading inputs, in parallel.
fn prepare<'a>(mesh: &'a Mesh, fit: &Fit, n: usize) -> (Vec<Prepared<'a>>, Skipped) {
    let results: Vec<Result<Prepared<'a>, Reject>> = mesh
        .triangles
        .par_iter()
        .map(|t| {
            let tri = TriBox::new(t.positions.map(|p| fit.apply(p)), n)?;
            Ok(Prepared { tri, shade: TriShade::new(mesh, t) })
        })
        .collect();
    let mut skipped = Skipped::default();
    let mut prepared = Vec::with_capacity(results.len());
    for r in results {
        match r {
            Ok(p) => prepared.push(p),
            Err(Reject::Degenerate) => skipped.degenerate += 1,
            Err(Reject::NonFinite) => skipped.non_finite += 1,
        }
    }
    (prepared, skipped)
}

/// The single colour of a mesh whose triangles are all flat and alike: then overlap areas do not
/// change any voxel's colour and clipping can be skipped.
fn uniform_colour(prepared: &[Prepared]) -> Option<[f32; 3]> {
    let first = prepared.first()?.shade.flat()?;
    prepared.iter().all(|p| p.shade.flat() == Some(first)).then_some(first)
}

/// Triangle indices grouped by the z-slabs they reach (a counting sort).
struct Bins {
    starts: Vec<usize>,
    items: Vec<u32>,
}

impl Bins {
    fn new(prepared: &[Prepared], height: usize, slabs: usize) -> Self {
        let range = |p: &Prepared| {
            let (z0, z1) = p.tri.z_range();
            let last = slabs as i32 - 1;
            ((z0 / height as i32).clamp(0, last), (z1 / height as i32).clamp(-1, last))
        };
        let mut starts = vec![0usize; slabs + 1];
        for p in prepared {
            let (a, b) = range(p);
            for s in a..=b {
                starts[s as usize + 1] += 1;
            }
        }
        for s in 0..slabs {
            starts[s + 1] += starts[s];
        }
        let mut fill = starts.clone();
        let mut items = vec![0u32; starts[slabs]];
        for (i, p) in prepared.iter().enumerate() {
            let (a, b) = range(p);
            for s in a..=b {
                items[fill[s as usize]] = i as u32;
                fill[s as usize] += 1;
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

/// Running sums for one cell: `(cell index in the slab, [r·w, g·w, b·w, w])`.
type Acc = (u32, [f32; 4]);

impl Slab {
    /// Rasterizes `tris` into `out` (this slab's cells). While it runs, a touched cell of `out`
    /// holds its index into `acc`; at the end it holds the packed mean colour.
    fn run<'a>(
        &self,
        tris: impl Iterator<Item = &'a Prepared<'a>>,
        out: &mut [u32],
        acc: &mut Vec<Acc>,
    ) {
        acc.clear();
        for p in tris {
            p.tri.for_each_cell(self.z0 as i32, self.z1 as i32, |cell| {
                let local = cell[0] + self.n * (cell[1] + self.n * (cell[2] - self.z0));
                let (weight, rgb) = self.sample(p, cell);
                if out[local] == EMPTY {
                    out[local] = acc.len() as u32;
                    acc.push((local as u32, [0.0; 4]));
                }
                let sum = &mut acc[out[local] as usize].1;
                for i in 0..3 {
                    sum[i] += rgb[i] * weight;
                }
                sum[3] += weight;
            });
        }
        for (local, sum) in acc.drain(..) {
            out[local as usize] = pack(to_srgb([0, 1, 2].map(|i| sum[i] / sum[3])));
        }
    }

    /// Weight (overlap area in square voxels) and mean linear colour of `p` inside `cell`.
    #[inline]
    fn sample(&self, p: &Prepared, cell: [usize; 3]) -> (f32, [f32; 3]) {
        if let Some(rgb) = self.uniform {
            return (1.0, rgb);
        }
        let piece = clip(&p.tri, cell);
        let (area, centroid) = piece.area_and_centroid();
        let weight = area * 2.0 * p.tri.area + TOUCH_WEIGHT;
        (weight, p.shade.mean(&piece, area, centroid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::{Material, Triangle};
    use crate::voxel::color::unpack;

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
        let (words, skipped) = rasterize(&mesh, &fit, 8).unwrap();
        assert_eq!(skipped, Skipped::default());
        // In cell (0, 0, 0) red covers the part of its triangle with y <= 1, area
        // 1 - 1 / 3.6 = 0.7222; blue covers 0.1.
        let (r, b) = (0.7222 / 0.8222, 0.1 / 0.8222);
        let (got, want) = (unpack(words[0]), to_srgb([r, 0.0, b]));
        assert!((0..3).all(|i| got[i].abs_diff(want[i]) <= 1), "{got:?} vs {want:?}");
        // Red also reaches (0, 1, 0); both touch (1, 0, 0) along x = 1 with no area.
        let filled: Vec<usize> = (0..words.len()).filter(|&i| words[i] != EMPTY).collect();
        assert_eq!(filled, vec![0, 1, 8]);
        assert_eq!(unpack(words[8]), [255, 0, 0]);
        assert_eq!(unpack(words[1]), to_srgb([0.5, 0.0, 0.5]));
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
        let (words, _) = rasterize(&mesh, &fit, 128).unwrap();
        let t = TriBox::new(mesh.triangles[0].positions, 128).unwrap();
        let mut expected = 0;
        t.for_each_cell(0, 127, |c| {
            expected += 1;
            assert_ne!(words[c[0] + 128 * (c[1] + 128 * c[2])], EMPTY, "{c:?}");
        });
        assert_eq!(words.iter().filter(|&&w| w != EMPTY).count(), expected);
        assert!(words.iter().filter(|&&w| w != EMPTY).all(|&w| unpack(w) == [0, 255, 0]));
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
