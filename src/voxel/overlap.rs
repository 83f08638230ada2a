//! Checking and placing triangles in grid space: which are usable, how large they are, which
//! cells their bounding boxes reach. The exact overlap itself is found by clipping
//! ([`super::clip`]); the separating-axis test kept in `tests` is the reference it is checked
//! against.

use super::clip::cell_range;

/// Why a triangle cannot be rasterized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reject {
    /// A corner is NaN or infinite.
    NonFinite,
    /// The corners are (nearly) collinear: no area, no normal.
    Degenerate,
}

/// Relative size below which a normal counts as zero: `|n| <= DEGENERATE * longest_edge²`.
const DEGENERATE: f64 = 1e-7;

/// The length of the normal of `v` (twice its area, computed in `f64`); or why it cannot be
/// rasterized.
fn normal_length(v: [[f32; 3]; 3]) -> Result<f64, Reject> {
    if v.iter().flatten().any(|c| !c.is_finite()) {
        return Err(Reject::NonFinite);
    }
    let v = v.map(|c| c.map(f64::from));
    let f = [sub(v[1], v[0]), sub(v[2], v[1]), sub(v[0], v[2])];
    let normal = cross(f[0], f[1]);
    let longest = f.iter().map(|e| dot(*e, *e)).fold(0.0, f64::max);
    let len = dot(normal, normal).sqrt();
    if len <= DEGENERATE * longest || len == 0.0 {
        return Err(Reject::Degenerate);
    }
    Ok(len)
}

/// A grid-space triangle that passed the checks: its corners, area and the cells its bounding
/// box touches.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Placed {
    /// Corners in grid space.
    pub v: [[f32; 3]; 3],
    /// Area in square voxels.
    pub area: f32,
    /// First cell per axis.
    pub lo: [i32; 3],
    /// Last cell per axis.
    pub hi: [i32; 3],
}

impl Placed {
    /// The one cell holding the whole triangle, when there is one.
    pub(crate) fn single_cell(&self) -> Option<[usize; 3]> {
        (self.lo == self.hi).then(|| self.lo.map(|c| c as usize))
    }
}

/// Checks the grid-space triangle `v` and finds the cells of an `n`-grid its bounding box
/// touches: the cheap part of [`TriBox::new`].
pub(crate) fn place(v: [[f32; 3]; 3], n: usize) -> Result<Placed, Reject> {
    let len = normal_length(v)?;
    let (lo, hi) = bounds(&v, n);
    Ok(Placed { v, area: (0.5 * len) as f32, lo, hi })
}

/// First and last cell per axis the corners `v` span.
fn bounds(v: &[[f32; 3]; 3], n: usize) -> ([i32; 3], [i32; 3]) {
    let range: [(i32, i32); 3] = std::array::from_fn(|a| {
        cell_range(v[0][a].min(v[1][a]).min(v[2][a]), v[0][a].max(v[1][a]).max(v[2][a]), n)
    });
    (range.map(|r| r.0), range.map(|r| r.1))
}

fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small deterministic generator (xorshift) so tests need no extra crate.
    pub(crate) struct Rng(pub u64);

    impl Rng {
        pub(crate) fn next_f32(&mut self) -> f32 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 40) as f32 / (1u64 << 24) as f32
        }
    }

    /// One of the nine axes `e_k × f` (box axis `k`, triangle edge `f`). Only its components on
    /// axes `k + 1` and `k + 2` are non-zero; a cell centre `c` passes when
    /// `lo <= p * c[k + 1] + q * c[k + 2] <= hi`.
    #[derive(Clone, Copy, Debug, Default, PartialEq)]
    struct EdgeAxis {
        p: f32,
        q: f32,
        lo: f32,
        hi: f32,
    }

    impl EdgeAxis {
        /// The axis `e_k × f` for a triangle with corners `v`.
        fn new(k: usize, f: [f64; 3], v: &[[f64; 3]; 3]) -> Self {
            let (k1, k2) = ((k + 1) % 3, (k + 2) % 3);
            let (p, q) = (-f[k2], f[k1]);
            let proj = v.map(|c| p * c[k1] + q * c[k2]);
            let (min, max) = (
                proj.iter().copied().fold(f64::MAX, f64::min),
                proj.iter().copied().fold(f64::MIN, f64::max),
            );
            let r = 0.5 * (p.abs() + q.abs());
            EdgeAxis { p: p as f32, q: q as f32, lo: (min - r) as f32, hi: (max + r) as f32 }
        }

        /// True when the cell centred at `(a, b)` (components on axes `k + 1`, `k + 2`) is not
        /// separated along this axis.
        #[inline(always)]
        fn passes(&self, a: f32, b: f32) -> bool {
            let s = self.p * a + self.q * b;
            s >= self.lo && s <= self.hi
        }
    }

    /// A triangle in grid space, prepared for many cell tests.
    #[derive(Clone, Debug, PartialEq)]
    pub(crate) struct TriBox {
        /// First corner.
        pub v0: [f32; 3],
        /// Second corner minus the first.
        pub e1: [f32; 3],
        /// Third corner minus the first.
        pub e2: [f32; 3],
        /// Smallest corner coordinate per axis.
        pub min: [f32; 3],
        /// Largest corner coordinate per axis.
        pub max: [f32; 3],
        /// Area in square voxels.
        pub area: f32,
        normal: [f32; 3],
        plane_lo: f32,
        plane_hi: f32,
        /// `edges[k][j]`: box axis `k` crossed with triangle edge `j`.
        edges: [[EdgeAxis; 3]; 3],
        /// Dominant axis of the normal.
        w: usize,
        /// First and last cell per axis the triangle's bounding box touches, clamped to the grid.
        lo: [i32; 3],
        hi: [i32; 3],
    }

    impl TriBox {
        /// Prepares the grid-space triangle `v` for a grid of edge `n`.
        pub(crate) fn new(v: [[f32; 3]; 3], n: usize) -> Result<Self, Reject> {
            let len = normal_length(v)?;
            let (lo, hi) = bounds(&v, n);
            let v = v.map(|c| c.map(f64::from));
            let f = [sub(v[1], v[0]), sub(v[2], v[1]), sub(v[0], v[2])];
            let normal = cross(f[0], f[1]);
            let d = dot(normal, v[0]);
            let rn = 0.5 * normal.iter().map(|c| c.abs()).sum::<f64>();
            let w = (0..3)
                .fold(0, |best, a| if normal[a].abs() > normal[best].abs() { a } else { best });
            let min: [f64; 3] = std::array::from_fn(|a| v[0][a].min(v[1][a]).min(v[2][a]));
            let max: [f64; 3] = std::array::from_fn(|a| v[0][a].max(v[1][a]).max(v[2][a]));
            Ok(TriBox {
                v0: to_f32(v[0]),
                e1: to_f32(sub(v[1], v[0])),
                e2: to_f32(sub(v[2], v[0])),
                min: to_f32(min),
                max: to_f32(max),
                area: (0.5 * len) as f32,
                normal: to_f32(normal),
                plane_lo: (d - rn) as f32,
                plane_hi: (d + rn) as f32,
                edges: std::array::from_fn(|k| std::array::from_fn(|j| EdgeAxis::new(k, f[j], &v))),
                w,
                lo,
                hi,
            })
        }

        /// The full thirteen-axis test for the closed cell at `cell` (the reference the column walk
        /// is checked against).
        pub(crate) fn overlaps(&self, cell: [i32; 3]) -> bool {
            let c = cell.map(|i| i as f32 + 0.5);
            let in_box = (0..3).all(|a| self.min[a] <= c[a] + 0.5 && self.max[a] >= c[a] - 0.5);
            in_box && self.plane_passes(c) && (0..3).all(|k| self.edges_pass(k, c))
        }

        #[inline(always)]
        fn plane_passes(&self, c: [f32; 3]) -> bool {
            let s = self.normal[0] * c[0] + self.normal[1] * c[1] + self.normal[2] * c[2];
            s >= self.plane_lo && s <= self.plane_hi
        }

        #[inline(always)]
        fn edges_pass(&self, k: usize, c: [f32; 3]) -> bool {
            let (a, b) = (c[(k + 1) % 3], c[(k + 2) % 3]);
            self.edges[k].iter().all(|e| e.passes(a, b))
        }
    }

    fn to_f32(a: [f64; 3]) -> [f32; 3] {
        a.map(|c| c as f32)
    }

    #[test]
    fn separating_axes_find_the_cells_of_a_flat_triangle() {
        let t = TriBox::new([[1.2, 1.2, 2.5], [3.7, 1.2, 2.5], [1.2, 3.7, 2.5]], 8).unwrap();
        assert!(t.overlaps([1, 1, 2]) && t.overlaps([3, 1, 2]) && t.overlaps([1, 3, 2]));
        // Cells the bounding box covers but the hypotenuse (x + y = 4.9) misses.
        assert!(!t.overlaps([3, 3, 2]) && !t.overlaps([2, 3, 2]) && !t.overlaps([3, 2, 2]));
        assert!(!t.overlaps([1, 1, 1]) && !t.overlaps([1, 1, 3]));
    }

    #[test]
    fn rejects_degenerate_and_non_finite() {
        let line = [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [2.0, 2.0, 2.0]];
        assert_eq!(place(line, 8), Err(Reject::Degenerate));
        let point = [[3.0; 3]; 3];
        assert_eq!(place(point, 8), Err(Reject::Degenerate));
        let nan = [[0.0, f32::NAN, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
        assert_eq!(place(nan, 8), Err(Reject::NonFinite));
    }

    #[test]
    fn placing_finds_the_cells_the_bounding_box_reaches() {
        let p = place([[0.5, 0.5, 2.0], [1.5, 0.5, 2.0], [0.5, 1.5, 2.0]], 4).unwrap();
        assert_eq!((p.lo, p.hi), ([0, 0, 1], [1, 1, 2]));
        assert!((p.area - 0.5).abs() < 1e-6);
        assert_eq!(p.single_cell(), None);
        let inside = place([[2.1, 3.1, 1.5], [2.9, 3.1, 1.5], [2.1, 3.9, 1.5]], 4).unwrap();
        assert_eq!(inside.single_cell(), Some([2, 3, 1]));
    }
}
