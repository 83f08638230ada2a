//! Exact triangle/box overlap by the separating axis theorem (the thirteen axes of
//! Akenine-Möller's test: three box normals, the triangle normal, nine edge cross products) and a
//! rasterizer that visits every grid cell a triangle overlaps.
//!
//! Cells are closed unit boxes `[i, i + 1]` in grid space, so a triangle that only touches a cell
//! still counts: thin parts never vanish.

/// One of the nine axes `e_k × f` (box axis `k`, triangle edge `f`). Only its components on axes
/// `k + 1` and `k + 2` are non-zero; a cell centre `c` passes when
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

/// Why a triangle cannot be rasterized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reject {
    /// A corner is NaN or infinite.
    NonFinite,
    /// The corners are (nearly) collinear: no area, no normal.
    Degenerate,
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

/// Relative size below which a normal counts as zero: `|n| <= DEGENERATE * longest_edge²`.
const DEGENERATE: f64 = 1e-7;

/// The corners of `v` widened to `f64`, its edges `v1 - v0`, `v2 - v1`, `v0 - v2`, its normal and
/// the normal's length; or why it cannot be rasterized.
fn shape(v: [[f32; 3]; 3]) -> Result<Shape, Reject> {
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
    Ok(Shape { v, f, normal, len })
}

/// What [`shape`] computes.
struct Shape {
    v: [[f64; 3]; 3],
    f: [[f64; 3]; 3],
    normal: [f64; 3],
    len: f64,
}

/// First and last cell of an `n`-grid a closed cell range `[i, i + 1]` meeting `[min, max]` can
/// have: `i + 1 >= min` and `i <= max`. Out-of-grid spans keep first > last (`as` saturates).
fn cell_range(min: f64, max: f64, n: usize) -> (i32, i32) {
    ((min.ceil() - 1.0).max(0.0) as i32, max.floor().min(n as f64 - 1.0) as i32)
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
    let s = shape(v)?;
    let (lo, hi) = bounds(&s.v, n);
    Ok(Placed { v, area: (0.5 * s.len) as f32, lo, hi })
}

/// First and last cell per axis the corners `v` span.
fn bounds(v: &[[f64; 3]; 3], n: usize) -> ([i32; 3], [i32; 3]) {
    let range: [(i32, i32); 3] = std::array::from_fn(|a| {
        cell_range(v[0][a].min(v[1][a]).min(v[2][a]), v[0][a].max(v[1][a]).max(v[2][a]), n)
    });
    (range.map(|r| r.0), range.map(|r| r.1))
}

impl TriBox {
    /// Prepares the grid-space triangle `v` for a grid of edge `n`.
    pub(crate) fn new(v: [[f32; 3]; 3], n: usize) -> Result<Self, Reject> {
        let Shape { v, f, normal, len } = shape(v)?;
        let d = dot(normal, v[0]);
        let rn = 0.5 * normal.iter().map(|c| c.abs()).sum::<f64>();
        let w =
            (0..3).fold(0, |best, a| if normal[a].abs() > normal[best].abs() { a } else { best });
        let min: [f64; 3] = std::array::from_fn(|a| v[0][a].min(v[1][a]).min(v[2][a]));
        let max: [f64; 3] = std::array::from_fn(|a| v[0][a].max(v[1][a]).max(v[2][a]));
        let (lo, hi) = bounds(&v, n);
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

    /// The axis the cell walk runs along: cells come in columns along it, and consecutive cells
    /// of one column differ only in this coordinate.
    pub(crate) fn walk_axis(&self) -> usize {
        self.w
    }

    /// The full thirteen-axis test for the closed cell at `cell` (the reference the column walk
    /// is checked against).
    #[cfg(test)]
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

    /// Calls `visit` with every cell `[x, y, z]` the triangle overlaps whose z lies in
    /// `z0..=z1`.
    ///
    /// Cells are walked in columns along the normal's dominant axis `w`: the three edge axes
    /// perpendicular to `w` are tested once per column, and the plane leaves at most a few
    /// candidate cells per column, so the work follows the triangle's area, not its bounding
    /// box's volume.
    pub(crate) fn for_each_cell(&self, z0: i32, z1: i32, mut visit: impl FnMut([usize; 3])) {
        let (w, u, v) = (self.w, (self.w + 1) % 3, (self.w + 2) % 3);
        let (mut lo, mut hi) = (self.lo, self.hi);
        lo[2] = lo[2].max(z0);
        hi[2] = hi[2].min(z1);
        if (0..3).any(|a| lo[a] > hi[a]) {
            return;
        }
        let (nu, nv, nw) = (self.normal[u], self.normal[v], self.normal[w]);
        let mut c = [0.0f32; 3];
        for cv in lo[v]..=hi[v] {
            c[v] = cv as f32 + 0.5;
            for cu in lo[u]..=hi[u] {
                c[u] = cu as f32 + 0.5;
                if !self.edges_pass(w, c) {
                    continue;
                }
                // The plane slab `plane_lo <= n·c <= plane_hi` bounds c[w]; widen by one cell
                // and let the exact test below decide.
                let rest = nu * c[u] + nv * c[v];
                let (a, b) = ((self.plane_lo - rest) / nw, (self.plane_hi - rest) / nw);
                let (a, b) = if nw > 0.0 { (a, b) } else { (b, a) };
                let k0 = lo[w].max((a - 0.5).floor() as i32);
                let k1 = hi[w].min((b - 0.5).ceil() as i32);
                for cw in k0..=k1 {
                    c[w] = cw as f32 + 0.5;
                    if self.plane_passes(c) && self.edges_pass(u, c) && self.edges_pass(v, c) {
                        let mut cell = [0usize; 3];
                        cell[u] = cu as usize;
                        cell[v] = cv as usize;
                        cell[w] = cw as usize;
                        visit(cell);
                    }
                }
            }
        }
    }
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

fn to_f32(a: [f64; 3]) -> [f32; 3] {
    a.map(|c| c as f32)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::BTreeSet;

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

    fn cells(t: &TriBox) -> BTreeSet<[usize; 3]> {
        let mut out = BTreeSet::new();
        t.for_each_cell(i32::MIN, i32::MAX, |c| {
            assert!(out.insert(c), "cell {c:?} visited twice");
        });
        out
    }

    fn brute(t: &TriBox, n: i32) -> BTreeSet<[usize; 3]> {
        let mut out = BTreeSet::new();
        for z in 0..n {
            for y in 0..n {
                for x in 0..n {
                    if t.overlaps([x, y, z]) {
                        out.insert([x as usize, y as usize, z as usize]);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn axis_aligned_triangle_touches_its_layer_only() {
        let t = TriBox::new([[1.2, 1.2, 2.5], [3.7, 1.2, 2.5], [1.2, 3.7, 2.5]], 8).unwrap();
        let got = cells(&t);
        assert!(got.iter().all(|c| c[2] == 2));
        let expected: BTreeSet<_> =
            [[1, 1, 2], [2, 1, 2], [3, 1, 2], [1, 2, 2], [2, 2, 2], [1, 3, 2]].into();
        assert_eq!(got, expected);
        // Cells the bounding box covers but the hypotenuse (x + y = 4.9) misses.
        assert!(!t.overlaps([3, 3, 2]) && !t.overlaps([2, 3, 2]) && !t.overlaps([3, 2, 2]));
    }

    #[test]
    fn face_on_a_cell_boundary_touches_both_layers() {
        let t = TriBox::new([[0.5, 0.5, 2.0], [1.5, 0.5, 2.0], [0.5, 1.5, 2.0]], 4).unwrap();
        let layers: BTreeSet<_> = cells(&t).iter().map(|c| c[2]).collect();
        assert_eq!(layers, [1, 2].into());
    }

    #[test]
    fn column_walk_matches_the_full_test() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..300 {
            let scale = if rng.next_f32() < 0.5 { 3.0 } else { 12.0 };
            let v = [(); 3].map(|_| [(); 3].map(|_| 1.0 + rng.next_f32() * scale));
            let Ok(t) = TriBox::new(v, 16) else { continue };
            assert_eq!(cells(&t), brute(&t, 16), "triangle {v:?}");
        }
    }

    #[test]
    fn z_window_limits_the_walk() {
        let t = TriBox::new([[0.5, 0.5, 0.5], [7.5, 0.7, 7.5], [0.6, 7.5, 3.5]], 8).unwrap();
        let all = cells(&t);
        let mut part = BTreeSet::new();
        t.for_each_cell(2, 4, |c| {
            part.insert(c);
        });
        let expected: BTreeSet<_> = all.into_iter().filter(|c| (2..=4).contains(&c[2])).collect();
        assert!(!part.is_empty());
        assert_eq!(part, expected);
    }

    #[test]
    fn sliver_still_touches_cells() {
        let t = TriBox::new([[0.1, 0.5, 0.5], [7.9, 0.5001, 0.5], [4.0, 0.5, 0.5001]], 8).unwrap();
        let got = cells(&t);
        assert_eq!(got.len(), 8);
        assert!(t.area < 1e-3);
    }

    #[test]
    fn rejects_degenerate_and_non_finite() {
        let line = [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [2.0, 2.0, 2.0]];
        assert_eq!(TriBox::new(line, 8), Err(Reject::Degenerate));
        let point = [[3.0; 3]; 3];
        assert_eq!(TriBox::new(point, 8), Err(Reject::Degenerate));
        let nan = [[0.0, f32::NAN, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
        assert_eq!(TriBox::new(nan, 8), Err(Reject::NonFinite));
    }

    #[test]
    fn triangle_outside_the_grid_visits_nothing() {
        let t = TriBox::new([[20.0, 20.0, 20.0], [21.0, 20.0, 20.0], [20.0, 21.0, 20.5]], 8);
        assert!(cells(&t.unwrap()).is_empty());
    }
}
