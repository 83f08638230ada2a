//! The part of a triangle inside one cell: the triangle clipped to the cell's box
//! (Sutherland–Hodgman), kept in barycentric coordinates so corner attributes interpolate
//! directly, with its area and centroid.

use super::overlap::TriBox;

/// Most corners a triangle clipped by six planes can have (three plus one per plane).
const MAX_CORNERS: usize = 9;

/// A convex polygon in the triangle's barycentric coordinates `(b1, b2)`: the point is
/// `v0 + b1 * e1 + b2 * e2`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Piece {
    corners: [[f32; 2]; MAX_CORNERS],
    len: usize,
}

impl Piece {
    /// The whole triangle.
    pub(crate) fn whole() -> Self {
        let mut corners = [[0.0; 2]; MAX_CORNERS];
        corners[1] = [1.0, 0.0];
        corners[2] = [0.0, 1.0];
        Piece { corners, len: 3 }
    }

    /// The corners.
    pub(crate) fn corners(&self) -> &[[f32; 2]] {
        &self.corners[..self.len]
    }

    /// Keeps the part where the affine function `k0 + k1 * b1 + k2 * b2` is not negative.
    fn keep(&mut self, k: [f32; 3]) {
        let mut value = [0.0f32; MAX_CORNERS];
        let (mut inside, mut outside) = (true, true);
        for (v, p) in value.iter_mut().zip(self.corners()) {
            *v = k[0] + k[1] * p[0] + k[2] * p[1];
            inside &= *v >= 0.0;
            outside &= *v < 0.0;
        }
        if inside || outside {
            self.len = if inside { self.len } else { 0 };
            return;
        }
        let mut out = [[0.0; 2]; MAX_CORNERS];
        let mut len = 0;
        for i in 0..self.len {
            let j = if i + 1 == self.len { 0 } else { i + 1 };
            let (a, b, fa, fb) = (self.corners[i], self.corners[j], value[i], value[j]);
            if fa >= 0.0 && len < MAX_CORNERS {
                out[len] = a;
                len += 1;
            }
            if (fa >= 0.0) != (fb >= 0.0) && len < MAX_CORNERS {
                let t = fa / (fa - fb);
                out[len] = [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
                len += 1;
            }
        }
        self.corners = out;
        self.len = len;
    }

    /// Area in barycentric units (the whole triangle has 0.5) and the area centroid. A piece
    /// with no area (the triangle only touches the cell) reports the mean of its corners.
    pub(crate) fn area_and_centroid(&self) -> (f32, [f32; 2]) {
        let c = self.corners();
        if c.is_empty() {
            return (0.0, [1.0 / 3.0; 2]);
        }
        let (mut area2, mut cx, mut cy) = (0.0f32, 0.0f32, 0.0f32);
        for i in 0..c.len() {
            let (a, b) = (c[i], c[(i + 1) % c.len()]);
            let cr = a[0] * b[1] - b[0] * a[1];
            area2 += cr;
            cx += (a[0] + b[0]) * cr;
            cy += (a[1] + b[1]) * cr;
        }
        if area2.abs() <= 1e-12 {
            let n = c.len() as f32;
            let sum = c.iter().fold([0.0, 0.0], |s, p| [s[0] + p[0], s[1] + p[1]]);
            return (0.0, [sum[0] / n, sum[1] / n]);
        }
        (0.5 * area2.abs(), [cx / (3.0 * area2), cy / (3.0 * area2)])
    }
}

/// Clips `tri` to the closed cell `[x, x + 1] × [y, y + 1] × [z, z + 1]`. Planes the triangle
/// does not cross are skipped. (The voxelizer clips axis by axis to share work along columns.)
#[cfg(test)]
pub(crate) fn clip(tri: &TriBox, cell: [usize; 3]) -> Piece {
    let mut piece = Piece::whole();
    for (axis, &c) in cell.iter().enumerate() {
        clip_axis(tri, &mut piece, c, axis);
    }
    piece
}

/// Clips `piece` of `tri` to the slab `[c, c + 1]` along `axis`.
pub(crate) fn clip_axis(tri: &TriBox, piece: &mut Piece, c: usize, axis: usize) {
    let lo = c as f32;
    let hi = lo + 1.0;
    // Position along the axis: v0 + b1 * e1 + b2 * e2.
    let (p0, p1, p2) = (tri.v0[axis], tri.e1[axis], tri.e2[axis]);
    if tri.min[axis] < lo {
        piece.keep([p0 - lo, p1, p2]);
    }
    if tri.max[axis] > hi {
        piece.keep([hi - p0, -p1, -p2]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voxel::overlap::tests::Rng;

    fn tri(v: [[f32; 3]; 3]) -> TriBox {
        TriBox::new(v, 16).unwrap()
    }

    #[test]
    fn triangle_inside_one_cell_is_whole() {
        let t = tri([[2.1, 3.1, 4.5], [2.9, 3.1, 4.5], [2.1, 3.9, 4.5]]);
        let piece = clip(&t, [2, 3, 4]);
        assert_eq!(piece.corners().len(), 3);
        let (area, centroid) = piece.area_and_centroid();
        assert!((area - 0.5).abs() < 1e-6);
        assert!((centroid[0] - 1.0 / 3.0).abs() < 1e-6 && (centroid[1] - 1.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn square_cut_from_a_big_triangle() {
        // Flat at z = 0.5, legs 4 long: cell (1, 1, 0) lies fully inside it.
        let t = tri([[0.0, 0.0, 0.5], [4.0, 0.0, 0.5], [0.0, 4.0, 0.5]]);
        let piece = clip(&t, [1, 1, 0]);
        let (area, centroid) = piece.area_and_centroid();
        // One square voxel out of a triangle of area 8: 1/8 of the barycentric 0.5.
        assert!((area * 2.0 * t.area - 1.0).abs() < 1e-5, "area {area}");
        // The square's centre (1.5, 1.5) is b1 = b2 = 1.5 / 4.
        assert!((centroid[0] - 0.375).abs() < 1e-5 && (centroid[1] - 0.375).abs() < 1e-5);
        // A cell the hypotenuse halves.
        let (half, _) = clip(&t, [2, 1, 0]).area_and_centroid();
        assert!((half * 2.0 * t.area - 0.5).abs() < 1e-5, "area {half}");
    }

    #[test]
    fn pieces_over_all_cells_add_up_to_the_triangle() {
        let mut rng = Rng(12345);
        for _ in 0..50 {
            let v = [(); 3].map(|_| [(); 3].map(|_| 1.0 + rng.next_f32() * 10.0));
            let Ok(t) = TriBox::new(v, 16) else { continue };
            let mut total = 0.0f64;
            t.for_each_cell(0, 15, |c| total += clip(&t, c).area_and_centroid().0 as f64);
            assert!((total - 0.5).abs() < 1e-4, "sum {total} for {v:?}");
        }
    }
}
