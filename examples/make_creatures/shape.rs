//! Closed surfaces with sphere topology: every part is a stack of rings between two poles, so
//! it is watertight by construction (each edge is shared by exactly two triangles).

use std::f32::consts::{FRAC_PI_2, PI, TAU};

use glam::{Affine3A, Quat, Vec3};

/// One triangle corner: an index into [`Surface::positions`] and one into [`Surface::uvs`].
/// They differ because the texture seam and the poles need several UVs at one position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Corner {
    /// Index into the positions.
    pub p: u32,
    /// Index into the texture coordinates.
    pub t: u32,
}

/// A closed, outward-facing triangle mesh (counter-clockwise seen from outside).
#[derive(Clone, Debug, Default)]
pub struct Surface {
    /// Vertex positions, Y-up.
    pub positions: Vec<Vec3>,
    /// Texture coordinates, `u` around the part and `v` from pole to pole (v = 0 at the top).
    pub uvs: Vec<[f32; 2]>,
    /// Triangles.
    pub tris: Vec<[Corner; 3]>,
}

/// How finely a part is tessellated: points per ring and number of bands between the poles.
#[derive(Clone, Copy, Debug)]
pub struct Detail {
    /// Vertices around each ring.
    pub slices: usize,
    /// Bands from pole to pole.
    pub stacks: usize,
}

/// Main body.
pub const BODY: Detail = Detail { slices: 24, stacks: 16 };
/// Heads and other large parts.
pub const HEAD: Detail = Detail { slices: 18, stacks: 12 };
/// Legs, tails, necks, ears.
pub const LIMB: Detail = Detail { slices: 10, stacks: 6 };
/// Eyes, spots, claws.
pub const SMALL: Detail = Detail { slices: 8, stacks: 6 };

/// A ring of the surface: `center + ax * c(θ) + az * s(θ)` where `c`, `s` are the cosine and
/// sine raised to `exponent` (1 gives an ellipse, small values a rounded rectangle).
#[derive(Clone, Copy, Debug)]
struct Ring {
    center: Vec3,
    ax: Vec3,
    az: Vec3,
    exponent: f32,
}

impl Ring {
    fn point(&self, theta: f32) -> Vec3 {
        let (s, c) = theta.sin_cos();
        self.center
            + self.ax * signed_pow(c, self.exponent)
            + self.az * signed_pow(s, self.exponent)
    }
}

fn signed_pow(x: f32, e: f32) -> f32 {
    x.signum() * x.abs().powf(e)
}

impl Surface {
    /// Builds the surface through `rings`; the first and last rings are the poles (only their
    /// centres are used).
    fn from_rings(rings: &[Ring], slices: usize) -> Surface {
        let stacks = rings.len() - 1;
        let mut s = Surface::default();

        // Positions: bottom pole, the inner rings, top pole.
        s.positions.push(rings[0].center);
        for ring in &rings[1..stacks] {
            s.positions.extend((0..slices).map(|j| ring.point(TAU * j as f32 / slices as f32)));
        }
        s.positions.push(rings[stacks].center);

        // Texture coordinates: a (stacks + 1) x (slices + 1) grid, the seam column doubled.
        for i in 0..=stacks {
            for j in 0..=slices {
                s.uvs.push([j as f32 / slices as f32, 1.0 - i as f32 / stacks as f32]);
            }
        }

        s.tris = ring_triangles(stacks, slices);
        s.orient_outward();
        s
    }

    /// Signed volume: positive when the triangles face outward.
    pub fn volume(&self) -> f32 {
        let p = |c: Corner| self.positions[c.p as usize];
        self.tris.iter().map(|t| p(t[0]).dot(p(t[1]).cross(p(t[2])))).sum::<f32>() / 6.0
    }

    fn orient_outward(&mut self) {
        if self.volume() < 0.0 {
            for t in &mut self.tris {
                t.swap(1, 2);
            }
        }
    }

    /// The surface moved by `m` (rotation, non-uniform scale, translation).
    pub fn transformed(mut self, m: Affine3A) -> Surface {
        for p in &mut self.positions {
            *p = m.transform_point3(*p);
        }
        self.orient_outward();
        self
    }

    /// The surface turned by `rotation` about the origin, then moved to `position`.
    pub fn placed(self, rotation: Quat, position: Vec3) -> Surface {
        self.transformed(Affine3A::from_rotation_translation(rotation, position))
    }

    /// Area-weighted vertex normals, one per position.
    pub fn normals(&self) -> Vec<Vec3> {
        let mut n = vec![Vec3::ZERO; self.positions.len()];
        for t in &self.tris {
            let [a, b, c] = t.map(|c| self.positions[c.p as usize]);
            let face = (b - a).cross(c - a);
            for corner in t {
                n[corner.p as usize] += face;
            }
        }
        n.into_iter().map(|v| v.try_normalize().unwrap_or(Vec3::Y)).collect()
    }
}

/// Triangles of a ring surface: fans at the poles, two triangles per quad between rings.
fn ring_triangles(stacks: usize, slices: usize) -> Vec<[Corner; 3]> {
    let top = 1 + (stacks - 1) * slices;
    let pos = |i: usize, j: usize| match i {
        0 => 0,
        i if i == stacks => top,
        i => 1 + (i - 1) * slices + j % slices,
    };
    let corner =
        |i: usize, j: usize| Corner { p: pos(i, j) as u32, t: (i * (slices + 1) + j) as u32 };
    let mut tris = Vec::with_capacity(2 * slices * (stacks - 1));
    for j in 0..slices {
        tris.push([corner(0, j), corner(1, j), corner(1, j + 1)]);
        for i in 1..stacks - 1 {
            let (a, b) = (corner(i, j), corner(i, j + 1));
            let (c, d) = (corner(i + 1, j + 1), corner(i + 1, j));
            tris.push([a, d, c]);
            tris.push([a, c, b]);
        }
        tris.push([corner(stacks, j), corner(stacks - 1, j + 1), corner(stacks - 1, j)]);
    }
    tris
}

/// An ellipsoid centred on the origin with semi-axes `radii`; its poles lie on the Y axis.
pub fn ellipsoid(radii: Vec3, detail: Detail) -> Surface {
    superellipsoid(radii, 1.0, detail)
}

/// A superellipsoid: `exponent` 1 is an ellipsoid, about 0.3 a box with rounded edges.
pub fn superellipsoid(radii: Vec3, exponent: f32, detail: Detail) -> Surface {
    let rings: Vec<Ring> = (0..=detail.stacks)
        .map(|i| {
            let (s, c) = (PI * i as f32 / detail.stacks as f32).sin_cos();
            let r = signed_pow(s, exponent);
            Ring {
                center: Vec3::new(0.0, -radii.y * signed_pow(c, exponent), 0.0),
                ax: Vec3::X * radii.x * r,
                az: Vec3::Z * radii.z * r,
                exponent,
            }
        })
        .collect();
    Surface::from_rings(&rings, detail.slices)
}

/// An ellipsoid with semi-axes `radii` whose Y semi-axis points along `axis`, centred at `at`.
pub fn ellipsoid_along(radii: Vec3, axis: Vec3, at: Vec3, detail: Detail) -> Surface {
    ellipsoid(radii, detail).placed(Quat::from_rotation_arc(Vec3::Y, axis.normalize()), at)
}

/// A round tube along `path(s)` for `s` in `[0, 1]` with radius `radius(s)`, closed by
/// hemispherical caps at both ends (the caps stick out past the path's ends by their radius).
pub fn tube(path: impl Fn(f32) -> Vec3, radius: impl Fn(f32) -> f32, detail: Detail) -> Surface {
    const CAP: usize = 2;
    let tangent = |s: f32| {
        let h = 1e-3;
        (path((s + h).min(1.0)) - path((s - h).max(0.0))).normalize()
    };

    // Body rings with parallel-transported frames, so the tube does not twist.
    let body = detail.stacks.max(2);
    let mut normal = any_perpendicular(tangent(0.0));
    let mut frames = Vec::with_capacity(body + 1);
    for m in 0..=body {
        let s = m as f32 / body as f32;
        let t = tangent(s);
        normal = (normal - t * normal.dot(t)).normalize();
        frames.push((path(s), normal, t.cross(normal), radius(s)));
    }
    let ring = |(c, n, b, r): (Vec3, Vec3, Vec3, f32), offset: Vec3, scale: f32| Ring {
        center: c + offset,
        ax: n * r * scale,
        az: b * r * scale,
        exponent: 1.0,
    };

    // Start cap, body, end cap.
    let mut rings = Vec::new();
    let (first, last) = (frames[0], frames[body]);
    for i in 0..CAP {
        let (s, c) = (FRAC_PI_2 * i as f32 / CAP as f32).sin_cos();
        rings.push(ring(first, -tangent(0.0) * first.3 * c, s));
    }
    rings.extend(frames.iter().map(|&f| ring(f, Vec3::ZERO, 1.0)));
    for i in (0..CAP).rev() {
        let (s, c) = (FRAC_PI_2 * i as f32 / CAP as f32).sin_cos();
        rings.push(ring(last, tangent(1.0) * last.3 * c, s));
    }
    Surface::from_rings(&rings, detail.slices)
}

/// A straight capsule from `a` to `b` with radius `r`.
pub fn capsule(a: Vec3, b: Vec3, r: f32, detail: Detail) -> Surface {
    tube(|s| a.lerp(b, s), |_| r, detail)
}

/// A tapering tube from `a` to `b`, radius `r0` at `a` and `r1` at `b`.
pub fn cone(a: Vec3, b: Vec3, r0: f32, r1: f32, detail: Detail) -> Surface {
    tube(|s| a.lerp(b, s), |s| r0 + (r1 - r0) * s, detail)
}

/// A quadratic Bezier through `a`, pulled towards `bend`, ending at `b`.
pub fn bezier(a: Vec3, bend: Vec3, b: Vec3) -> impl Fn(f32) -> Vec3 {
    move |s| a * (1.0 - s) * (1.0 - s) + bend * 2.0 * s * (1.0 - s) + b * s * s
}

fn any_perpendicular(v: Vec3) -> Vec3 {
    let other = if v.x.abs() < 0.9 { Vec3::X } else { Vec3::Y };
    v.cross(other).normalize()
}

/// The point where the ray from the centre of an ellipsoid (semi-axes `radii`) along `dir`
/// leaves it, relative to the centre.
pub fn ellipsoid_surface(radii: Vec3, dir: Vec3) -> Vec3 {
    let d = dir.normalize();
    d / (d / radii).length()
}

/// The outward normal of an ellipsoid (semi-axes `radii`) at surface point `p` (relative).
pub fn ellipsoid_normal(radii: Vec3, p: Vec3) -> Vec3 {
    (p / (radii * radii)).normalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn edge_uses(s: &Surface) -> HashMap<(u32, u32), i32> {
        let mut uses = HashMap::new();
        for t in &s.tris {
            for k in 0..3 {
                *uses.entry((t[k].p, t[(k + 1) % 3].p)).or_insert(0) += 1;
            }
        }
        uses
    }

    #[test]
    fn every_primitive_is_closed_and_outward() {
        let parts = [
            ellipsoid(Vec3::new(1.0, 2.0, 0.5), BODY),
            superellipsoid(Vec3::ONE, 0.3, HEAD),
            capsule(Vec3::ZERO, Vec3::Y, 0.2, LIMB),
            tube(bezier(Vec3::ZERO, Vec3::new(0.0, 1.0, 0.0), Vec3::X), |s| 0.1 - 0.05 * s, LIMB),
        ];
        for s in &parts {
            let uses = edge_uses(s);
            assert!(uses.iter().all(|(&(a, b), &n)| n == 1 && uses.get(&(b, a)) == Some(&1)));
            assert!(s.volume() > 0.0);
        }
    }

    #[test]
    fn ellipsoid_volume_matches_formula() {
        let s = ellipsoid(Vec3::new(1.0, 2.0, 3.0), Detail { slices: 96, stacks: 64 });
        let exact = 4.0 / 3.0 * PI * 6.0;
        assert!((s.volume() - exact).abs() / exact < 0.01, "{}", s.volume());
    }

    #[test]
    fn capsule_reaches_past_its_ends_by_the_radius() {
        let s = capsule(Vec3::ZERO, Vec3::Y, 0.25, LIMB);
        let (lo, hi) =
            s.positions.iter().fold((f32::MAX, f32::MIN), |(lo, hi), p| (lo.min(p.y), hi.max(p.y)));
        assert!((lo + 0.25).abs() < 1e-5 && (hi - 1.25).abs() < 1e-5, "{lo} {hi}");
    }
}
