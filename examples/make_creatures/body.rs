//! Body-plan helpers the species share: a four-legged frame, eyes, blobs, spots and bands.

use glam::{Quat, Vec3};

use crate::creature::Creature;
use crate::rng::Rng;
use crate::shape::{
    capsule, cone, ellipsoid, ellipsoid_along, ellipsoid_normal, ellipsoid_surface, Detail,
    Surface, BODY, HEAD, LIMB, SMALL,
};

/// Shorthand for `Vec3::new`.
pub fn v(x: f32, y: f32, z: f32) -> Vec3 {
    Vec3::new(x, y, z)
}

/// `p` with its x mirrored to `side` (+1 left, -1 right).
pub fn side(p: Vec3, side: f32) -> Vec3 {
    v(p.x * side, p.y, p.z)
}

/// An ellipsoid with world semi-axes `r`, lying along Z: its texture wraps around the Z axis.
pub fn blob(r: Vec3, at: Vec3, detail: Detail) -> Surface {
    ellipsoid_along(v(r.x, r.z, r.y), Vec3::Z, at, detail)
}

/// An upright ellipsoid with world semi-axes `r` (poles on the Y axis).
pub fn egg(r: Vec3, at: Vec3, detail: Detail) -> Surface {
    ellipsoid(r, detail).placed(Quat::IDENTITY, at)
}

/// A small sphere.
pub fn ball(r: f32, at: Vec3) -> Surface {
    egg(Vec3::splat(r), at, SMALL)
}

/// A flat disc-like ellipsoid of radius `r` and thickness `thick` whose flat side faces `normal`.
pub fn disc(r: f32, thick: f32, normal: Vec3, at: Vec3) -> Surface {
    ellipsoid_along(v(r, thick, r), normal, at, SMALL)
}

/// The point of the ellipsoid `(centre, radii)` in direction `dir`, at `depth` times the way out.
pub fn on(centre: Vec3, radii: Vec3, dir: Vec3, depth: f32) -> Vec3 {
    centre + ellipsoid_surface(radii, dir) * depth
}

/// Two eyes on a head: an eyeball and a pupil in front of it, looking along `dir` (left eye).
pub struct Eyes {
    /// Eyeball material.
    pub ball: usize,
    /// Pupil material.
    pub pupil: usize,
    /// Eyeball radius.
    pub size: f32,
    /// Direction from the head's centre to the left eye.
    pub dir: Vec3,
}

impl Eyes {
    /// Adds both eyes to the head `(centre, radii)`.
    pub fn add(&self, c: &mut Creature, centre: Vec3, radii: Vec3) {
        let spot = |s: f32| on(centre, radii, side(self.dir, s), 0.95);
        let out = |s: f32| ellipsoid_normal(radii, spot(s) - centre);
        c.add_pair("eye", self.ball, |s| ball(self.size, spot(s)));
        c.add_pair("pupil", self.pupil, |s| {
            ball(self.size * 0.55, spot(s) + out(s) * self.size * 0.6)
        });
    }
}

/// Proportions of a four-legged creature.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Body semi-axes (half width, half height, half length).
    pub body: Vec3,
    /// Leg length below the body.
    pub leg: f32,
    /// Leg radius at the top.
    pub leg_r: f32,
    /// Neck length; 0 puts the head on the body.
    pub neck: f32,
    /// Neck slope: 0 points forward, 1 straight up.
    pub neck_up: f32,
    /// Head semi-axes.
    pub head: Vec3,
}

impl Plan {
    /// The same plan with every length scaled by a random factor near 1.
    pub fn jittered(mut self, rng: &mut Rng) -> Plan {
        self.body *= v(rng.jitter(1.0, 0.08), rng.jitter(1.0, 0.08), rng.jitter(1.0, 0.1));
        self.leg = rng.jitter(self.leg, 0.1);
        self.neck = rng.jitter(self.neck, 0.1);
        self.head *= rng.jitter(1.0, 0.08);
        self
    }
}

/// Where a four-legged frame put things, for the species to add details.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    /// Body centre.
    pub body_c: Vec3,
    /// Head centre.
    pub head_c: Vec3,
    /// Foot centres: front left, front right, back left, back right.
    pub feet: [Vec3; 4],
    /// Where a tail starts.
    pub rump: Vec3,
}

/// Adds body, four legs, neck (if any) and head; returns where they went.
pub fn quadruped(c: &mut Creature, p: &Plan, coat: usize, head: usize) -> Frame {
    let body_c = v(0.0, p.leg + p.body.y * 0.6, 0.0);
    c.add("body", coat, blob(p.body, body_c, BODY));

    // Legs taper a little and end on y = 0 (the cap reaches down by the foot radius).
    let mut feet = [Vec3::ZERO; 4];
    let corners = [("front_left", 1.0, 1.0), ("front_right", -1.0, 1.0)];
    let corners = corners.into_iter().chain([("back_left", 1.0, -1.0), ("back_right", -1.0, -1.0)]);
    for (k, (name, sx, sz)) in corners.enumerate() {
        let top = body_c + v(sx * p.body.x * 0.55, 0.0, sz * p.body.z * 0.6);
        feet[k] = v(top.x, p.leg_r * 0.85, top.z);
        c.add(&format!("leg_{name}"), coat, cone(top, feet[k], p.leg_r, p.leg_r * 0.85, LIMB));
    }

    // Neck and head.
    let shoulder = body_c + v(0.0, p.body.y * 0.45, p.body.z * 0.7);
    let head_c = if p.neck > 0.0 {
        let top = shoulder + v(0.0, p.neck_up, 1.0 - p.neck_up).normalize() * p.neck;
        c.add("neck", coat, capsule(shoulder, top, p.head.x * 0.6, LIMB));
        top + v(0.0, p.head.y * 0.2, p.head.z * 0.45)
    } else {
        body_c + v(0.0, p.body.y * 0.55, p.body.z * 0.85 + p.head.z * 0.4)
    };
    c.add("head", head, blob(p.head, head_c, HEAD));

    let rump = body_c + v(0.0, p.body.y * 0.4, -p.body.z * 0.85);
    Frame { body_c, head_c, feet, rump }
}

/// Adds `count` flat spots on the upper half of the ellipsoid `(centre, radii)`.
pub fn spots(c: &mut Creature, rng: &mut Rng, mat: usize, body: (Vec3, Vec3), count: usize) {
    let (centre, radii) = body;
    let size = radii.min_element() * 0.35;
    for k in 0..count {
        let dir = v(rng.range(-1.0, 1.0), rng.range(0.1, 1.0), rng.range(-0.8, 0.8));
        let at = on(centre, radii, dir, 1.0);
        let normal = ellipsoid_normal(radii, at - centre);
        let r = rng.jitter(size, 0.35);
        c.add(&format!("spot_{k}"), mat, disc(r, r * 0.3, normal, at - normal * r * 0.1));
    }
}

/// Adds a band around a body lying along Z (see [`blob`]) at `z` from its centre, `width` wide.
pub fn band(c: &mut Creature, mat: usize, body: (Vec3, Vec3), z: f32, width: f32, name: &str) {
    let (centre, radii) = body;
    let k = (1.0 - (z / radii.z).powi(2)).max(0.05).sqrt() * 1.06;
    c.add(name, mat, blob(v(radii.x * k, radii.y * k, width), centre + v(0.0, 0.0, z), HEAD));
}

/// A paw, hoof or foot: a squashed sphere on the ground under a leg.
pub fn foot(r: f32, at: Vec3, forward: f32) -> Surface {
    egg(v(r, r * 0.6, r * (1.0 + forward)), v(at.x, r * 0.6, at.z + r * forward * 0.5), SMALL)
}

/// Level of detail of big secondary parts (wings, bellies).
pub const PANEL: Detail = HEAD;
