//! Shading of a ray hit: a key light that casts shadows, a fill light and a sky/ground ambient,
//! all fixed to the camera like studio lights around a turntable, and per-corner ambient
//! occlusion blended over each face.

use std::sync::OnceLock;

use glam::Vec3;

use super::camera::Camera;
use super::raycast::{Hit, Volume};

/// Light kept at each face corner for 0, 1, 2 or 3 occluding neighbours.
const AO_LEVELS: [f32; 4] = [1.0, 0.76, 0.6, 0.48];

/// Ambient light from the sky (faces pointing up) and the ground (faces pointing down).
const SKY: Vec3 = Vec3::new(0.36, 0.38, 0.42);
const GROUND: Vec3 = Vec3::new(0.16, 0.15, 0.14);
/// Colour and strength of the key and fill lights.
const KEY: Vec3 = Vec3::new(0.82, 0.79, 0.74);
const FILL: Vec3 = Vec3::new(0.3, 0.31, 0.34);

/// Light directions for one camera, as unit vectors pointing towards the lights.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lighting {
    /// The key light: above, in front and to the viewer's left.
    pub key: Vec3,
    /// The fill light: lower, from the viewer's right.
    fill: Vec3,
}

impl Lighting {
    /// Lights placed relative to `camera`, so the same faces stay lit as the turntable turns.
    pub fn for_camera(camera: &Camera) -> Self {
        let ahead = Vec3::new(camera.back.x, camera.back.y, 0.0).normalize_or_zero();
        let key = (ahead * 0.5 - camera.right * 0.55 + Vec3::Z).normalize();
        let fill = (ahead * 0.6 + camera.right + Vec3::Z * 0.15).normalize();
        Lighting { key, fill }
    }

    /// Linear colour of a face with normal `normal` and linear albedo `albedo`, given its
    /// ambient occlusion `ao` (0..=1) and whether the key light reaches it.
    pub fn shade(&self, normal: Vec3, albedo: Vec3, ao: f32, in_key_light: bool) -> Vec3 {
        let ambient = GROUND.lerp(SKY, 0.5 + 0.5 * normal.z);
        let key = if in_key_light { KEY * normal.dot(self.key).max(0.0) } else { Vec3::ZERO };
        let fill = FILL * normal.dot(self.fill).max(0.0);
        albedo * ((ambient + fill) * ao + key * (0.35 + 0.65 * ao))
    }
}

/// The unit normal of the face a hit entered through.
pub(crate) fn normal(hit: &Hit) -> Vec3 {
    let mut n = Vec3::ZERO;
    n[hit.axis] = hit.sign as f32;
    n
}

/// Ambient occlusion at a hit point, Minecraft style: each corner of the face is darkened by the
/// filled cells beside it in the layer just in front of the face, and the four corner values
/// are blended bilinearly across the face.
pub(crate) fn face_ao(volume: &Volume, hit: &Hit) -> f32 {
    let (u, v) = ((hit.axis + 1) % 3, (hit.axis + 2) % 3);
    let mut front = hit.cell;
    front[hit.axis] += hit.sign;
    let probe = |du: i64, dv: i64| {
        let mut c = front;
        c[u] += du;
        c[v] += dv;
        volume.is_filled(c)
    };
    // The four cells beside the face's edges: -u, +u, -v, +v.
    let sides = [probe(-1, 0), probe(1, 0), probe(0, -1), probe(0, 1)];
    let corner = |du: i64, dv: i64| {
        let side_u = sides[usize::from(du > 0)];
        let side_v = sides[2 + usize::from(dv > 0)];
        let count = if side_u && side_v {
            3
        } else {
            usize::from(side_u) + usize::from(side_v) + usize::from(probe(du, dv))
        };
        AO_LEVELS[count]
    };
    let point = hit.point.to_array();
    let fu = (point[u] - hit.cell[u] as f32).clamp(0.0, 1.0);
    let fv = (point[v] - hit.cell[v] as f32).clamp(0.0, 1.0);
    let near = lerp(corner(-1, -1), corner(1, -1), fu);
    let far = lerp(corner(-1, 1), corner(1, 1), fu);
    lerp(near, far, fv)
}

/// True when nothing blocks the way from the hit point to the key light.
pub(crate) fn sees_light(volume: &Volume, hit: &Hit, light: Vec3) -> bool {
    let n = normal(hit);
    n.dot(light) > 0.0 && volume.cast(hit.point + n * 1e-3, light).is_none()
}

fn lerp(a: f32, b: f32, t: f32) -> f32 {
    a + (b - a) * t
}

/// sRGB byte to linear light (from a table built on first use).
pub(crate) fn srgb_to_linear(c: u8) -> f32 {
    static TABLE: OnceLock<[f32; 256]> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        std::array::from_fn(|i| {
            let c = i as f32 / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        })
    });
    table[usize::from(c)]
}

/// Linear light to an sRGB byte (clamped).
pub(crate) fn linear_to_srgb(c: f32) -> u8 {
    let c = c.clamp(0.0, 1.0);
    let s = if c <= 0.003_130_8 { c * 12.92 } else { 1.055 * c.powf(1.0 / 2.4) - 0.055 };
    (s * 255.0 + 0.5) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::camera::Framing;
    use crate::voxel::VoxelGrid;

    #[test]
    fn srgb_round_trips_every_byte() {
        for c in 0..=255u8 {
            assert_eq!(linear_to_srgb(srgb_to_linear(c)), c);
        }
    }

    /// A hit on the top face of volume cell `cell`, at fractions `fu`, `fv` across it.
    fn hit_on_top(cell: [i64; 3], fu: f32, fv: f32) -> Hit {
        let point = Vec3::new(cell[0] as f32 + fu, cell[1] as f32 + fv, cell[2] as f32 + 1.0);
        Hit { cell, axis: 2, sign: 1, t: 0.0, point }
    }

    #[test]
    fn ao_darkens_the_corner_next_to_a_wall() {
        // A floor of 3x3 voxels with one voxel standing on its +x, +y corner.
        let mut g = VoxelGrid::cube(4).unwrap();
        for x in 0..3 {
            for y in 0..3 {
                g.set(x, y, 0, Some([128; 3]));
            }
        }
        g.set(2, 2, 1, Some([128; 3]));
        let v = Volume::new(&g).unwrap();
        // Volume cell of grid (1, 1, 0) is (2, 2, 1): its top face's +x+y corner touches the
        // standing voxel diagonally, the -x-y corner is open.
        let open = face_ao(&v, &hit_on_top([2, 2, 1], 0.0, 0.0));
        let shaded = face_ao(&v, &hit_on_top([2, 2, 1], 1.0, 1.0));
        assert_eq!(open, 1.0);
        assert_eq!(shaded, AO_LEVELS[1]);
        // Grid (2, 1, 0) has the standing voxel beside its +y edge.
        let beside = face_ao(&v, &hit_on_top([3, 2, 1], 0.5, 1.0));
        assert!(beside < 1.0 && beside > AO_LEVELS[3], "{beside}");
    }

    #[test]
    fn lights_make_top_and_sides_differ() {
        let f = Framing::new([0; 3], [0; 3]);
        let cam = Camera::orbit(&f, -0.8, 0.44, 64);
        let l = Lighting::for_camera(&cam);
        let albedo = Vec3::splat(0.5);
        let top = l.shade(Vec3::Z, albedo, 1.0, true);
        let left = l.shade(-Vec3::Y, albedo, 1.0, true);
        let right = l.shade(Vec3::X, albedo, 1.0, true);
        assert!(top.x > left.x && left.x > right.x, "{top} {left} {right}");
        assert!(l.shade(Vec3::Z, albedo, 1.0, false).x < top.x, "shadow darkens");
    }
}
