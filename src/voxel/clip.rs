//! Exact triangle/cell overlap by clipping: a triangle is cut into the pieces that lie inside
//! each grid cell (Sutherland–Hodgman against the cells' axis-aligned planes), layer by layer,
//! then row by row, then cell by cell. A cell is visited exactly when its closed box
//! `[i, i + 1]³` meets the triangle, so a triangle that only touches a cell still counts and
//! thin parts never vanish; the work follows the number of cells visited, not the bounding box.
//!
//! Each piece keeps its corners in grid space and in the triangle's barycentric coordinates
//! `(b1, b2)` (the point is `v0 + b1 (v1 - v0) + b2 (v2 - v0)`), so its area and centroid give
//! the colour over exactly that part of the triangle.

/// Most corners a triangle clipped by six planes can have (three plus one per plane).
const MAX_CORNERS: usize = 9;

/// A convex polygon: part of one triangle.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Piece {
    pos: [[f32; 3]; MAX_CORNERS],
    bary: [[f32; 2]; MAX_CORNERS],
    len: usize,
}

impl Piece {
    /// Makes this the whole triangle with corners `v` (in grid space).
    fn set_triangle(&mut self, v: [[f32; 3]; 3]) {
        self.pos[..3].copy_from_slice(&v);
        self.bary[..3].copy_from_slice(&[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]);
        self.len = 3;
    }

    /// True when nothing is left.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The corners in barycentric coordinates.
    pub(crate) fn corners(&self) -> &[[f32; 2]] {
        &self.bary[..self.len]
    }

    /// Smallest and largest coordinate of the corners along `axis`.
    #[inline]
    fn extent(&self, axis: usize) -> (f32, f32) {
        let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
        for p in &self.pos[..self.len] {
            lo = lo.min(p[axis]);
            hi = hi.max(p[axis]);
        }
        (lo, hi)
    }

    /// An empty piece, to clip into.
    fn empty() -> Self {
        Piece { pos: [[0.0; 3]; MAX_CORNERS], bary: [[0.0; 2]; MAX_CORNERS], len: 0 }
    }

    /// The part with `lo <= coordinate <= hi` along `axis`, given the piece's own extent there:
    /// `self` when it lies inside already, else the clipped part, built in `buf` (with `mid`
    /// for a part cut on both sides).
    #[inline]
    fn cut<'a>(
        &'a self,
        axis: usize,
        lo: f32,
        hi: f32,
        extent: (f32, f32),
        buf: &'a mut Piece,
        mid: &mut Piece,
    ) -> &'a Piece {
        match (extent.0 < lo, extent.1 > hi) {
            (false, false) => self,
            (true, false) => {
                self.keep_into(axis, lo, 1.0, buf);
                buf
            }
            (false, true) => {
                self.keep_into(axis, hi, -1.0, buf);
                buf
            }
            (true, true) => {
                self.keep_into(axis, lo, 1.0, mid);
                mid.keep_into(axis, hi, -1.0, buf);
                buf
            }
        }
    }

    /// Writes to `out` the part where `sign * (coordinate - bound) >= 0` along `axis`. New
    /// corners lie exactly on the plane.
    #[inline]
    fn keep_into(&self, axis: usize, bound: f32, sign: f32, out: &mut Piece) {
        out.len = 0;
        let Some(last) = self.len.checked_sub(1) else { return };
        let mut a = last;
        let mut fa = sign * (self.pos[a][axis] - bound);
        for b in 0..self.len {
            let fb = sign * (self.pos[b][axis] - bound);
            if (fa >= 0.0) != (fb >= 0.0) && out.len < MAX_CORNERS {
                // The edge from a to b crosses the plane.
                let t = fa / (fa - fb);
                let (pa, pb) = (self.pos[a], self.pos[b]);
                let mut p = [0, 1, 2].map(|k| pa[k] + t * (pb[k] - pa[k]));
                p[axis] = bound;
                let (ba, bb) = (self.bary[a], self.bary[b]);
                out.pos[out.len] = p;
                out.bary[out.len] = [ba[0] + t * (bb[0] - ba[0]), ba[1] + t * (bb[1] - ba[1])];
                out.len += 1;
            }
            if fb >= 0.0 && out.len < MAX_CORNERS {
                out.pos[out.len] = self.pos[b];
                out.bary[out.len] = self.bary[b];
                out.len += 1;
            }
            (a, fa) = (b, fb);
        }
    }

    /// Area in barycentric units (the whole triangle has 0.5) and the area centroid. A piece
    /// with no area (the triangle only touches the cell) reports the mean of its corners.
    pub(crate) fn area_and_centroid(&self) -> (f32, [f32; 2]) {
        let c = self.corners();
        let Some(&last) = c.last() else {
            return (0.0, [1.0 / 3.0; 2]);
        };
        let (mut area2, mut cx, mut cy) = (0.0f32, 0.0f32, 0.0f32);
        let mut a = last;
        for &b in c {
            let cr = a[0] * b[1] - b[0] * a[1];
            area2 += cr;
            cx += (a[0] + b[0]) * cr;
            cy += (a[1] + b[1]) * cr;
            a = b;
        }
        if area2.abs() <= 1e-12 {
            let n = c.len() as f32;
            let sum = c.iter().fold([0.0, 0.0], |s, p| [s[0] + p[0], s[1] + p[1]]);
            return (0.0, [sum[0] / n, sum[1] / n]);
        }
        (0.5 * area2.abs(), [cx / (3.0 * area2), cy / (3.0 * area2)])
    }
}

/// First and last cell of an `n`-grid whose closed range `[i, i + 1]` meets `[min, max]`:
/// `i + 1 >= min` and `i <= max`. Out-of-grid spans give first > last.
#[inline]
pub(crate) fn cell_range(min: f32, max: f32, n: usize) -> (i32, i32) {
    // Rounding through integer conversion (which truncates and saturates, NaN to 0) rather than
    // `ceil` and `floor`, which are library calls on baseline x86-64.
    let (lo, hi) = (min as i32, max as i32);
    let ceil = if (lo as f32) < min { lo.saturating_add(1) } else { lo };
    let floor = if (hi as f32) > max { hi.saturating_sub(1) } else { hi };
    (ceil.saturating_sub(1).max(0), floor.min(n as i32 - 1))
}

/// Calls `visit` with every cell `[x, y, z]` of an `n`-grid that the grid-space triangle `v`
/// meets and whose z lies in `z0..=z1`, and the part of the triangle inside that cell.
#[cfg(test)]
pub(crate) fn for_each_piece(
    v: [[f32; 3]; 3],
    n: usize,
    z0: i32,
    z1: i32,
    visit: impl FnMut([usize; 3], &Piece),
) {
    Clipper::default().for_each_piece(v, n, z0, z1, visit);
}

/// The pieces being cut, kept from triangle to triangle so they are not set up each time.
#[derive(Clone, Debug)]
pub(crate) struct Clipper {
    tri: Piece,
    layer: Piece,
    row: Piece,
    cell: Piece,
    mid: Piece,
}

impl Default for Clipper {
    fn default() -> Self {
        let empty = Piece::empty();
        Clipper { tri: empty, layer: empty, row: empty, cell: empty, mid: empty }
    }
}

impl Clipper {
    /// Calls `visit` with every cell `[x, y, z]` of an `n`-grid that the grid-space triangle
    /// `v` meets and whose z lies in `z0..=z1`, and the part of the triangle inside that cell.
    pub(crate) fn for_each_piece(
        &mut self,
        v: [[f32; 3]; 3],
        n: usize,
        z0: i32,
        z1: i32,
        mut visit: impl FnMut([usize; 3], &Piece),
    ) {
        let Clipper { tri, layer: layer_buf, row: row_buf, cell: cell_buf, mid } = self;
        tri.set_triangle(v);
        let tri = &*tri;
        let ez = tri.extent(2);
        let (za, zb) = cell_range(ez.0, ez.1, n);
        for z in za.max(z0)..=zb.min(z1) {
            let layer = tri.cut(2, z as f32, z as f32 + 1.0, ez, layer_buf, mid);
            if layer.is_empty() {
                continue;
            }
            let ey = layer.extent(1);
            let (ya, yb) = cell_range(ey.0, ey.1, n);
            for y in ya..=yb {
                let row = layer.cut(1, y as f32, y as f32 + 1.0, ey, row_buf, mid);
                if row.is_empty() {
                    continue;
                }
                let ex = row.extent(0);
                let (xa, xb) = cell_range(ex.0, ex.1, n);
                for x in xa..=xb {
                    let piece = row.cut(0, x as f32, x as f32 + 1.0, ex, cell_buf, mid);
                    if !piece.is_empty() {
                        visit([x as usize, y as usize, z as usize], piece);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voxel::overlap::tests::Rng;
    use crate::voxel::overlap::tests::TriBox;
    use std::collections::BTreeSet;

    /// Every cell visited, checking none comes twice, and the summed piece areas.
    fn visit_all(v: [[f32; 3]; 3], n: usize) -> (BTreeSet<[usize; 3]>, f64) {
        let mut cells = BTreeSet::new();
        let mut total = 0.0f64;
        for_each_piece(v, n, i32::MIN, i32::MAX, |c, piece| {
            assert!(cells.insert(c), "cell {c:?} visited twice");
            total += piece.area_and_centroid().0 as f64;
        });
        (cells, total)
    }

    fn piece_in(v: [[f32; 3]; 3], cell: [usize; 3]) -> Piece {
        let mut found = None;
        for_each_piece(v, 16, i32::MIN, i32::MAX, |c, p| {
            if c == cell {
                found = Some(*p);
            }
        });
        found.expect("cell not visited")
    }

    #[test]
    fn triangle_inside_one_cell_is_whole() {
        let piece = piece_in([[2.1, 3.1, 4.5], [2.9, 3.1, 4.5], [2.1, 3.9, 4.5]], [2, 3, 4]);
        assert_eq!(piece.corners().len(), 3);
        let (area, centroid) = piece.area_and_centroid();
        assert!((area - 0.5).abs() < 1e-6);
        assert!((centroid[0] - 1.0 / 3.0).abs() < 1e-6 && (centroid[1] - 1.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn square_cut_from_a_big_triangle() {
        // Flat at z = 0.5, legs 4 long (area 8): cell (1, 1, 0) lies fully inside it.
        let v = [[0.0, 0.0, 0.5], [4.0, 0.0, 0.5], [0.0, 4.0, 0.5]];
        let (area, centroid) = piece_in(v, [1, 1, 0]).area_and_centroid();
        // One square voxel out of a triangle of area 8: 1/8 of the barycentric 0.5.
        assert!((area * 16.0 - 1.0).abs() < 1e-5, "area {area}");
        // The square's centre (1.5, 1.5) is b1 = b2 = 1.5 / 4.
        assert!((centroid[0] - 0.375).abs() < 1e-5 && (centroid[1] - 0.375).abs() < 1e-5);
        // A cell the hypotenuse halves.
        let (half, _) = piece_in(v, [2, 1, 0]).area_and_centroid();
        assert!((half * 16.0 - 0.5).abs() < 1e-5, "area {half}");
    }

    #[test]
    fn pieces_over_all_cells_add_up_to_the_triangle() {
        let mut rng = Rng(12345);
        for _ in 0..50 {
            let v = [(); 3].map(|_| [(); 3].map(|_| 1.0 + rng.next_f32() * 10.0));
            let (_, total) = visit_all(v, 16);
            assert!((total - 0.5).abs() < 1e-4, "sum {total} for {v:?}");
        }
    }

    #[test]
    fn axis_aligned_triangle_touches_its_layer_only() {
        let v = [[1.2, 1.2, 2.5], [3.7, 1.2, 2.5], [1.2, 3.7, 2.5]];
        let expected: BTreeSet<_> =
            [[1, 1, 2], [2, 1, 2], [3, 1, 2], [1, 2, 2], [2, 2, 2], [1, 3, 2]].into();
        assert_eq!(visit_all(v, 8).0, expected);
    }

    #[test]
    fn face_on_a_cell_boundary_touches_both_layers() {
        let v = [[0.5, 0.5, 2.0], [1.5, 0.5, 2.0], [0.5, 1.5, 2.0]];
        let layers: BTreeSet<_> = visit_all(v, 4).0.iter().map(|c| c[2]).collect();
        assert_eq!(layers, [1, 2].into());
    }

    #[test]
    fn cells_match_the_separating_axis_test() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut checked = 0;
        for _ in 0..300 {
            let scale = if rng.next_f32() < 0.5 { 3.0 } else { 12.0 };
            let v = [(); 3].map(|_| [(); 3].map(|_| 1.0 + rng.next_f32() * scale));
            let Ok(t) = TriBox::new(v, 16) else { continue };
            let mut sat = BTreeSet::new();
            for z in 0..16 {
                for y in 0..16 {
                    for x in 0..16 {
                        if t.overlaps([x, y, z]) {
                            sat.insert([x as usize, y as usize, z as usize]);
                        }
                    }
                }
            }
            assert_eq!(visit_all(v, 16).0, sat, "triangle {v:?}");
            checked += 1;
        }
        assert!(checked > 250);
    }

    #[test]
    fn z_window_limits_the_walk() {
        let v = [[0.5, 0.5, 0.5], [7.5, 0.7, 7.5], [0.6, 7.5, 3.5]];
        let all = visit_all(v, 8).0;
        let mut part = BTreeSet::new();
        for_each_piece(v, 8, 2, 4, |c, _| {
            part.insert(c);
        });
        let expected: BTreeSet<_> = all.into_iter().filter(|c| (2..=4).contains(&c[2])).collect();
        assert!(!part.is_empty());
        assert_eq!(part, expected);
    }

    #[test]
    fn cell_ranges_round_like_ceil_and_floor() {
        assert_eq!(cell_range(1.0, 2.0, 8), (0, 2));
        assert_eq!(cell_range(1.5, 2.5, 8), (1, 2));
        assert_eq!(cell_range(-0.5, 0.5, 8), (0, 0));
        assert_eq!(cell_range(6.2, 9.7, 8), (6, 7));
        // Spans outside the grid give first > last.
        let (a, b) = cell_range(-5.0, -3.0, 8);
        assert!(a > b);
        let (a, b) = cell_range(1e10, 1e12, 8);
        assert!(a > b);
    }

    #[test]
    fn sliver_still_touches_cells() {
        let v = [[0.1, 0.5, 0.5], [7.9, 0.5001, 0.5], [4.0, 0.5, 0.5001]];
        assert_eq!(visit_all(v, 8).0.len(), 8);
    }

    #[test]
    fn triangle_outside_the_grid_visits_nothing() {
        let v = [[20.0, 20.0, 20.0], [21.0, 20.0, 20.0], [20.0, 21.0, 20.5]];
        assert!(visit_all(v, 8).0.is_empty());
    }
}
