//! The orbit camera: an orthographic view of the occupied voxels, turned about the vertical
//! axis.

use glam::Vec3;

/// Blank space left around the occupied box's bounding sphere, as a fraction of its radius.
const MARGIN: f32 = 1.04;

/// What the camera frames, in grid units: the centre of the occupied voxels and the radius of
/// the sphere around them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Framing {
    /// Centre of the occupied box.
    pub center: Vec3,
    /// Half the diagonal of the occupied box.
    pub radius: f32,
}

impl Framing {
    /// The framing of filled voxels lying in the inclusive box `lo..=hi` (voxel `x` spans
    /// `[x, x + 1)`).
    ///
    /// The scale comes from the creature, not from its grid, so a creature that fills only
    /// part of its grid still fills the picture. The box fits in a sphere of that radius
    /// around its own centre, so the creature never leaves the frame at any yaw or elevation,
    /// and every frame of a turntable shares one scale.
    pub fn new(lo: [usize; 3], hi: [usize; 3]) -> Self {
        let lo = Vec3::new(lo[0] as f32, lo[1] as f32, lo[2] as f32);
        let hi = Vec3::new(hi[0] as f32, hi[1] as f32, hi[2] as f32) + Vec3::ONE;
        Framing { center: (lo + hi) * 0.5, radius: ((hi - lo).length() * 0.5).max(0.5) }
    }

    /// Half the width of the view.
    fn view_half_extent(&self) -> f32 {
        self.radius * MARGIN
    }
}

/// An orthographic camera looking at the framing's centre from a yaw and an elevation.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Camera {
    /// Unit vector from the centre towards the viewer.
    pub back: Vec3,
    /// Screen right, a unit vector in the horizontal plane.
    pub right: Vec3,
    /// Screen up, a unit vector whose z component is never negative.
    pub up: Vec3,
    /// Point every ray starts from for the image centre (outside the bounding sphere).
    eye: Vec3,
    /// Grid units covered by one pixel.
    pixel: f32,
    /// Image edge in pixels.
    size: u32,
}

impl Camera {
    /// A camera orbiting `framing` at `yaw` radians about +Z (0 looks along -X) and `elevation`
    /// radians above the horizon, for a square image of `size` pixels.
    pub fn orbit(framing: &Framing, yaw: f32, elevation: f32, size: u32) -> Self {
        let (sy, cy) = yaw.sin_cos();
        let (se, ce) = elevation.sin_cos();
        let back = Vec3::new(ce * cy, ce * sy, se);
        let right = Vec3::new(-sy, cy, 0.0);
        let up = back.cross(right);
        let pixel = 2.0 * framing.view_half_extent() / size.max(1) as f32;
        let eye = framing.center + back * (framing.radius + 2.0);
        Camera { back, right, up, eye, pixel, size }
    }

    /// The ray through image point `(px, py)` (pixels, y down; pixel centres at `i + 0.5`):
    /// its origin outside the bounding sphere and its unit direction.
    pub fn ray(&self, px: f32, py: f32) -> (Vec3, Vec3) {
        let half = self.size as f32 * 0.5;
        let sx = (px - half) * self.pixel;
        let sy = (half - py) * self.pixel;
        (self.eye + self.right * sx + self.up * sy, -self.back)
    }

    /// Where world point `p` lands in the image, in pixels (y down).
    #[cfg(test)]
    pub fn project(&self, p: Vec3) -> (f32, f32) {
        // The eye lies on the view axis through the centre, so offsets from it project alike.
        let d = p - self.eye;
        let half = self.size as f32 * 0.5;
        (half + d.dot(self.right) / self.pixel, half - d.dot(self.up) / self.pixel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cube_framing(n: usize) -> Framing {
        Framing::new([0, 0, 0], [n - 1, n - 1, n - 1])
    }

    #[test]
    fn framing_is_centred_on_the_box_and_scaled_by_it() {
        // The box spans 2 x 2 x 4 voxels.
        let f = Framing::new([2, 4, 6], [3, 5, 9]);
        assert_eq!(f.center, Vec3::new(3.0, 5.0, 8.0));
        assert!((f.radius - 24f32.sqrt() / 2.0).abs() < 1e-5);
    }

    #[test]
    fn basis_is_orthonormal_and_upright() {
        for yaw in [0.0f32, 0.7, 2.0, -2.5] {
            let c = Camera::orbit(&cube_framing(8), yaw, 0.4, 64);
            assert!((c.back.length() - 1.0).abs() < 1e-5);
            assert!((c.up.length() - 1.0).abs() < 1e-5);
            assert!(c.back.dot(c.right).abs() < 1e-6);
            assert!(c.back.dot(c.up).abs() < 1e-6);
            assert!(c.up.z > 0.9, "screen up should point mostly along +z");
            // Right-handed: right x up = back.
            assert!((c.right.cross(c.up) - c.back).length() < 1e-5);
        }
    }

    #[test]
    fn yaw_zero_looks_along_minus_x_with_plus_y_on_the_right() {
        let c = Camera::orbit(&cube_framing(8), 0.0, 0.0, 64);
        assert!((c.back - Vec3::X).length() < 1e-6);
        assert!((c.right - Vec3::Y).length() < 1e-6);
        let (x, y) = c.project(Vec3::new(4.0, 8.0, 8.0));
        assert!(x > 32.0 && y < 32.0, "+y is right and +z is up on screen: {x} {y}");
    }

    #[test]
    fn ray_through_a_pixel_projects_back_onto_it() {
        let c = Camera::orbit(&cube_framing(10), 1.1, 0.5, 100);
        let (o, d) = c.ray(30.5, 70.5);
        let (x, y) = c.project(o + d * 7.0);
        assert!((x - 30.5).abs() < 1e-3 && (y - 70.5).abs() < 1e-3);
    }

    #[test]
    fn every_box_corner_stays_in_frame_at_every_yaw_and_elevation() {
        // A long thin box in a corner of a flat grid.
        let (lo, hi) = ([0, 0, 0], [29, 3, 11]);
        let f = Framing::new(lo, hi);
        for i in 0..36 {
            for elevation in [-1.5f32, -0.3, 0.0, 0.44, 1.2, 1.55] {
                let c = Camera::orbit(&f, i as f32 * 0.1745, elevation, 128);
                for corner in 0..8 {
                    let pick = |bit: usize, a: usize| {
                        if corner & bit == 0 {
                            lo[a] as f32
                        } else {
                            hi[a] as f32 + 1.0
                        }
                    };
                    let (x, y) = c.project(Vec3::new(pick(1, 0), pick(2, 1), pick(4, 2)));
                    assert!((0.0..=128.0).contains(&x) && (0.0..=128.0).contains(&y), "{x} {y}");
                }
            }
        }
    }
}
