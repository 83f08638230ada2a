//! The sixteen default creatures. Each takes its own seeded generator, so proportions and
//! colours vary from species to species but never between runs.

use std::f32::consts::PI;

use glam::Vec3;

use crate::body::{
    ball, band, blob, disc, egg, foot, on, quadruped, side, spots, v, Eyes, Plan, PANEL,
};
use crate::creature::Creature;
use crate::paint::{cells, mix, patches, rosettes, stripes};
use crate::rng::Rng;
use crate::shape::{
    bezier, capsule, cone, ellipsoid_along, superellipsoid, tube, Detail, HEAD, LIMB, SMALL,
};

const BLACK: [u8; 3] = [18, 16, 20];
const WHITE: [u8; 3] = [238, 236, 230];
const PINK: [u8; 3] = [230, 140, 150];

/// A ginger cat with white paws, pointed ears and a tail curving up.
pub fn cat(r: &mut Rng) -> Creature {
    let mut c = Creature::new("cat");
    let fur = c.material("fur", r.tint([214, 137, 62], 25.0));
    let white = c.material("white", WHITE);
    let nose = c.material("nose", PINK);
    let iris = c.material("iris", r.tint([130, 190, 60], 25.0));
    let pupil = c.material("pupil", BLACK);
    let p = Plan {
        body: v(0.15, 0.14, 0.34),
        leg: 0.22,
        leg_r: 0.045,
        neck: 0.0,
        neck_up: 0.0,
        head: v(0.14, 0.13, 0.12),
    }
    .jittered(r);
    let f = quadruped(&mut c, &p, fur, fur);
    for (k, &at) in f.feet.iter().enumerate() {
        c.add(&format!("paw_{k}"), white, foot(p.leg_r * 1.2, at, 0.4));
    }
    c.add_pair("ear", fur, |s| {
        let base = on(f.head_c, p.head, v(0.55 * s, 0.8, -0.1), 0.8);
        cone(base, base + v(0.03 * s, 0.12, -0.01), 0.055, 0.008, LIMB)
    });
    let muzzle = on(f.head_c, p.head, Vec3::Z, 0.8);
    c.add("muzzle", white, blob(v(0.07, 0.05, 0.05), muzzle + v(0.0, -0.03, 0.0), SMALL));
    c.add("nose", nose, ball(0.018, muzzle + v(0.0, 0.01, 0.05)));
    Eyes { ball: iris, pupil, size: 0.03, dir: v(0.45, 0.3, 0.8) }.add(&mut c, f.head_c, p.head);
    let tip = f.rump + v(0.0, 0.4, -0.28);
    let path = bezier(f.rump, f.rump + v(0.0, 0.02, -0.3), tip);
    c.add("tail", fur, tube(path, |s| 0.04 - 0.015 * s, LIMB));
    c
}

/// A squat green frog with bulging eyes, folded hind legs and dark spots.
pub fn frog(r: &mut Rng) -> Creature {
    let mut c = Creature::new("frog");
    let skin = c.material("skin", r.tint([80, 160, 60], 25.0));
    let belly = c.material("belly", r.tint([220, 220, 130], 15.0));
    let dark = c.material("spots", r.tint([40, 90, 35], 10.0));
    let iris = c.material("iris", r.tint([230, 190, 40], 20.0));
    let pupil = c.material("pupil", BLACK);
    let (body_c, body_r) = (v(0.0, 0.13, 0.0), v(0.2, 0.1, 0.22) * r.jitter(1.0, 0.08));
    c.add("body", skin, blob(body_r, body_c, crate::shape::BODY));
    c.add("belly", belly, blob(body_r * v(0.9, 0.8, 0.92), body_c - v(0.0, 0.03, 0.0), PANEL));
    let head_c = body_c + v(0.0, 0.03, body_r.z * 0.8);
    c.add("head", skin, blob(v(0.16, 0.08, 0.12), head_c, HEAD));

    // Eyes sit on top of the head in bumps of skin.
    let eye_r = r.jitter(0.05, 0.1);
    let socket = |s: f32| head_c + v(0.085 * s, 0.07, 0.02);
    c.add_pair("eye_bump", skin, |s| ball(eye_r * 1.1, socket(s)));
    c.add_pair("eye", iris, |s| ball(eye_r, socket(s) + v(0.012 * s, 0.015, 0.015)));
    c.add_pair("pupil", pupil, |s| ball(eye_r * 0.5, socket(s) + v(0.025 * s, 0.04, 0.04)));

    // Front legs straight down, hind legs folded: thigh, shin, webbed foot.
    c.add_pair("arm", skin, |s| {
        capsule(v(0.11 * s, 0.1, 0.13), v(0.16 * s, 0.025, 0.2), 0.025, LIMB)
    });
    c.add_pair("thigh", skin, |s| {
        ellipsoid_along(v(0.055, 0.13, 0.055), v(0.5 * s, -0.2, 0.8), v(0.17 * s, 0.08, -0.1), HEAD)
    });
    c.add_pair("foot", skin, |s| egg(v(0.06, 0.02, 0.11), v(0.25 * s, 0.02, 0.0), SMALL));
    spots(&mut c, r, dark, (body_c, body_r), 7);
    c
}

/// A brown owl: egg body, face disc, big orange eyes, ear tufts and folded wings.
pub fn owl(r: &mut Rng) -> Creature {
    let mut c = Creature::new("owl");
    let feathers = c.material("feathers", r.tint([130, 90, 55], 20.0));
    let chest = c.material("chest", r.tint([225, 200, 160], 15.0));
    let face = c.material("face", r.tint([240, 225, 195], 10.0));
    let iris = c.material("iris", r.tint([245, 150, 30], 15.0));
    let pupil = c.material("pupil", BLACK);
    let beak = c.material("beak", [90, 80, 70]);
    let claws = c.material("feet", r.tint([230, 180, 60], 15.0));
    let body_r = v(0.2, 0.27, 0.18) * r.jitter(1.0, 0.06);
    let body_c = v(0.0, 0.02 + body_r.y, 0.0);
    c.add("body", feathers, egg(body_r, body_c, crate::shape::BODY));
    c.add("chest", chest, egg(body_r * v(0.75, 0.8, 0.6), body_c + v(0.0, -0.02, 0.08), PANEL));
    let (head_c, head_r) = (body_c + v(0.0, body_r.y * 0.95, 0.02), v(0.17, 0.14, 0.15));
    c.add("head", feathers, egg(head_r, head_c, crate::shape::HEAD));
    let face_c = on(head_c, head_r, Vec3::Z, 0.8);
    c.add("face", face, blob(v(0.14, 0.1, 0.04), face_c, HEAD));
    Eyes { ball: iris, pupil, size: 0.045, dir: v(0.45, 0.15, 0.9) }.add(&mut c, head_c, head_r);
    let beak_base = face_c + v(0.0, -0.03, 0.03);
    c.add("beak", beak, cone(beak_base, beak_base + v(0.0, -0.04, 0.04), 0.022, 0.005, SMALL));
    c.add_pair("tuft", feathers, |s| {
        let base = on(head_c, head_r, v(0.6 * s, 0.7, 0.0), 0.85);
        cone(base, base + v(0.05 * s, 0.1, -0.02), 0.04, 0.006, LIMB)
    });
    c.add_pair("wing", feathers, |s| {
        ellipsoid_along(
            v(0.1, 0.22, 0.04),
            v(0.1 * s, 1.0, -0.15),
            body_c + v(0.18 * s, 0.0, -0.02),
            HEAD,
        )
    });
    c.add_pair("foot", claws, |s| foot(0.05, v(0.07 * s, 0.0, 0.06), 0.6));
    for k in 0..6 {
        let at = body_c + v(0.06 * ((k % 3) as f32 - 1.0), -0.12 + 0.07 * (k / 3) as f32, 0.0);
        let at = on(at, body_r * 0.6, Vec3::Z, 1.0) + v(0.0, 0.0, body_r.z * 0.35);
        c.add(&format!("speckle_{k}"), feathers, disc(0.018, 0.006, Vec3::Z, at));
    }
    c
}

/// A round pink pig with a snout, floppy ears, darker spots and a curly tail.
pub fn pig(r: &mut Rng) -> Creature {
    let mut c = Creature::new("pig");
    let skin = c.material("skin", r.tint([240, 170, 170], 15.0));
    let dark = c.material("spots", r.tint([190, 110, 110], 15.0));
    let snout_m = c.material("snout", r.tint([225, 130, 140], 10.0));
    let pupil = c.material("pupil", BLACK);
    let p = Plan {
        body: v(0.2, 0.18, 0.3),
        leg: 0.12,
        leg_r: 0.05,
        neck: 0.0,
        neck_up: 0.0,
        head: v(0.15, 0.14, 0.13),
    }
    .jittered(r);
    let f = quadruped(&mut c, &p, skin, skin);
    let snout = on(f.head_c, p.head, Vec3::Z, 0.85);
    c.add("snout", snout_m, capsule(snout, snout + v(0.0, 0.0, 0.04), 0.055, LIMB));
    c.add_pair("nostril", pupil, |s| ball(0.012, snout + v(0.022 * s, 0.0, 0.09)));
    Eyes { ball: pupil, pupil, size: 0.02, dir: v(0.5, 0.45, 0.75) }.add(&mut c, f.head_c, p.head);
    c.add_pair("ear", skin, |s| {
        let at = on(f.head_c, p.head, v(0.6 * s, 0.75, 0.1), 0.95);
        ellipsoid_along(v(0.06, 0.015, 0.08), v(0.5 * s, 0.6, 0.6), at, SMALL)
    });
    for (k, &at) in f.feet.iter().enumerate() {
        c.add(&format!("trotter_{k}"), dark, foot(p.leg_r * 1.05, at, 0.2));
    }
    let root = f.rump;
    let curl = move |s: f32| {
        let a = 3.0 * PI * s;
        root + v(0.035 * a.sin(), 0.035 * (a.cos() - 1.0) + 0.05 * s, -0.02 - 0.1 * s)
    };
    c.add("tail", skin, tube(curl, |_| 0.016, Detail { slices: 8, stacks: 24 }));
    spots(&mut c, r, dark, (f.body_c, p.body), 5);
    c
}

/// A tiger: striped texture on body, legs, head and tail.
pub fn tiger(r: &mut Rng) -> Creature {
    let mut c = Creature::new("tiger");
    let orange = r.tint([225, 120, 35], 20.0);
    let coat = stripes(r, orange, [25, 20, 20], [240, 232, 215]);
    let fur = c.textured_material("striped_fur", coat);
    let white = c.material("white", WHITE);
    let nose = c.material("nose", [200, 110, 110]);
    let iris = c.material("iris", r.tint([220, 170, 40], 15.0));
    let pupil = c.material("pupil", BLACK);
    let p = Plan {
        body: v(0.17, 0.17, 0.45),
        leg: 0.25,
        leg_r: 0.06,
        neck: 0.0,
        neck_up: 0.0,
        head: v(0.15, 0.14, 0.15),
    }
    .jittered(r);
    let f = quadruped(&mut c, &p, fur, fur);
    c.add_pair("ear", fur, |s| {
        disc(0.05, 0.02, v(0.3 * s, 0.2, 1.0), on(f.head_c, p.head, v(0.6 * s, 0.8, -0.1), 0.95))
    });
    let muzzle = on(f.head_c, p.head, Vec3::Z, 0.75);
    c.add("muzzle", white, blob(v(0.08, 0.055, 0.06), muzzle + v(0.0, -0.03, 0.0), SMALL));
    c.add("nose", nose, ball(0.02, muzzle + v(0.0, 0.01, 0.06)));
    Eyes { ball: iris, pupil, size: 0.028, dir: v(0.45, 0.35, 0.8) }.add(&mut c, f.head_c, p.head);
    for (k, &at) in f.feet.iter().enumerate() {
        c.add(&format!("paw_{k}"), fur, foot(p.leg_r * 1.2, at, 0.4));
    }
    let path = bezier(f.rump, f.rump + v(0.0, -0.3, -0.3), f.rump + v(0.0, -0.05, -0.6));
    c.add("tail", fur, tube(path, |s| 0.045 - 0.012 * s, Detail { slices: 12, stacks: 16 }));
    c
}

/// A slender leopard covered in rosettes, with a long low tail.
pub fn leopard(r: &mut Rng) -> Creature {
    let mut c = Creature::new("leopard");
    let gold = r.tint([215, 165, 75], 15.0);
    let coat = rosettes(r, gold, [45, 32, 22]);
    let fur = c.textured_material("spotted_fur", coat);
    let muzzle_m = c.material("muzzle", [235, 220, 195]);
    let nose = c.material("nose", [120, 70, 60]);
    let iris = c.material("iris", r.tint([180, 200, 70], 20.0));
    let pupil = c.material("pupil", BLACK);
    let p = Plan {
        body: v(0.13, 0.13, 0.42),
        leg: 0.28,
        leg_r: 0.045,
        neck: 0.12,
        neck_up: 0.35,
        head: v(0.11, 0.1, 0.12),
    }
    .jittered(r);
    let f = quadruped(&mut c, &p, fur, fur);
    c.add_pair("ear", fur, |s| {
        disc(0.038, 0.015, v(0.3 * s, 0.2, 1.0), on(f.head_c, p.head, v(0.6 * s, 0.8, -0.1), 0.95))
    });
    let muzzle = on(f.head_c, p.head, Vec3::Z, 0.75);
    c.add("muzzle", muzzle_m, blob(v(0.06, 0.045, 0.05), muzzle + v(0.0, -0.025, 0.0), SMALL));
    c.add("nose", nose, ball(0.016, muzzle + v(0.0, 0.008, 0.05)));
    Eyes { ball: iris, pupil, size: 0.022, dir: v(0.45, 0.35, 0.8) }.add(&mut c, f.head_c, p.head);
    let path = bezier(f.rump, f.rump + v(0.0, -0.35, -0.25), f.rump + v(0.0, -0.2, -0.7));
    c.add("tail", fur, tube(path, |_| 0.032, Detail { slices: 12, stacks: 18 }));
    c
}

/// A ladybird painted per vertex: red shell with black spots and seam, black head and legs.
pub fn ladybug(r: &mut Rng) -> Creature {
    let mut c = Creature::new("ladybug");
    let shell = c.material("shell", r.tint([215, 30, 25], 15.0));
    let black = c.material("black", BLACK);
    let white = c.material("white", WHITE);
    let (body_c, body_r) = (v(0.0, 0.16, 0.0), v(0.21, 0.14, 0.25) * r.jitter(1.0, 0.06));
    c.add("shell", shell, blob(body_r, body_c, Detail { slices: 48, stacks: 32 }));
    c.add("underside", black, blob(body_r * v(0.92, 0.7, 0.95), body_c - v(0.0, 0.03, 0.0), PANEL));
    let head_c = body_c + v(0.0, -0.02, body_r.z * 0.9);
    c.add("head", black, blob(v(0.11, 0.08, 0.08), head_c, HEAD));
    c.add_pair("eye", white, |s| ball(0.022, head_c + v(0.065 * s, 0.035, 0.05)));
    c.add_pair("antenna", black, |s| {
        let a = head_c + v(0.03 * s, 0.05, 0.04);
        tube(bezier(a, a + v(0.02 * s, 0.08, 0.03), a + v(0.07 * s, 0.1, 0.1)), |_| 0.008, SMALL)
    });
    for (k, z) in [0.12, 0.0, -0.12].into_iter().enumerate() {
        c.add_pair(&format!("leg_{k}"), black, |s| {
            let hip = body_c + v(0.1 * s, -0.06, z);
            let knee = v(0.27 * s, 0.1, z * 1.2);
            tube(bezier(hip, knee, v(0.3 * s, 0.02, z * 1.4)), |_| 0.018, LIMB)
        });
    }

    // Spots: seven directions on the upper shell, mirrored pairs plus one at the front centre.
    let mut dirs = vec![v(0.0, 0.7, 0.75)];
    for _ in 0..3 {
        let d = v(r.range(0.3, 0.8), r.range(0.4, 0.9), r.range(-0.8, 0.6));
        dirs.extend([d, side(d, -1.0)]);
    }
    let centres: Vec<Vec3> = dirs.iter().map(|&d| on(body_c, body_r, d, 1.0)).collect();
    c.paint(move |base, part, p| {
        let spotted = centres.iter().any(|&s| s.distance(p) < 0.065);
        let seam = p.x.abs() < 0.012 && p.y > body_c.y && p.z < body_r.z * 0.85;
        if part == "shell" && (spotted || seam) {
            BLACK
        } else {
            base
        }
    });
    c
}

/// A grey elephant with flapping ears, a curled trunk and tusks.
pub fn elephant(r: &mut Rng) -> Creature {
    let mut c = Creature::new("elephant");
    let skin = c.material("skin", r.tint([150, 150, 158], 12.0));
    let ivory = c.material("ivory", [245, 238, 215]);
    let inner = c.material("inner_ear", r.tint([215, 160, 165], 10.0));
    let pupil = c.material("pupil", BLACK);
    let p = Plan {
        body: v(0.3, 0.28, 0.42),
        leg: 0.3,
        leg_r: 0.1,
        neck: 0.0,
        neck_up: 0.0,
        head: v(0.21, 0.22, 0.19),
    }
    .jittered(r);
    let f = quadruped(&mut c, &p, skin, skin);
    c.add_pair("ear", skin, |s| {
        ellipsoid_along(
            v(0.21, 0.025, 0.23),
            v(0.95 * s, 0.0, -0.35),
            f.head_c + v(0.2 * s, 0.04, -0.08),
            HEAD,
        )
    });
    c.add_pair("inner_ear", inner, |s| {
        ellipsoid_along(
            v(0.15, 0.02, 0.17),
            v(0.95 * s, 0.0, -0.35),
            f.head_c + v(0.195 * s, 0.04, -0.06),
            SMALL,
        )
    });
    let root = on(f.head_c, p.head, v(0.0, -0.2, 1.0), 0.85);
    let trunk = bezier(root, root + v(0.0, -0.38, 0.1), root + v(0.0, -0.35, 0.3));
    c.add("trunk", skin, tube(trunk, |s| 0.07 - 0.035 * s, Detail { slices: 14, stacks: 16 }));
    c.add_pair("tusk", ivory, |s| {
        let a = f.head_c + v(0.09 * s, -0.13, 0.12);
        tube(
            bezier(a, a + v(0.02 * s, -0.12, 0.12), a + v(0.03 * s, -0.04, 0.24)),
            |t| 0.03 - 0.022 * t,
            LIMB,
        )
    });
    Eyes { ball: pupil, pupil, size: 0.022, dir: v(0.7, 0.3, 0.6) }.add(&mut c, f.head_c, p.head);
    for (k, &at) in f.feet.iter().enumerate() {
        for n in [-1.0, 0.0, 1.0] {
            let nail = at + v(0.045 * n, -0.02, p.leg_r * 0.85);
            c.add(&format!("toenail_{k}_{}", n as i32 + 1), ivory, ball(0.022, nail));
        }
    }
    let tail = bezier(f.rump, f.rump + v(0.0, -0.15, -0.12), f.rump + v(0.0, -0.3, -0.1));
    c.add("tail", skin, tube(tail, |_| 0.02, LIMB));
    c
}

/// A dragon with a long neck, horns, bat wings, back spikes and a spade-tipped tail.
pub fn dragon(r: &mut Rng) -> Creature {
    let mut c = Creature::new("dragon");
    let scales = c.material("scales", r.tint([60, 140, 70], 25.0));
    let belly = c.material("belly", r.tint([225, 200, 110], 15.0));
    let membrane = c.material("membrane", r.tint([150, 45, 40], 20.0));
    let horn = c.material("horn", [235, 225, 200]);
    let iris = c.material("iris", [250, 210, 30]);
    let pupil = c.material("pupil", BLACK);
    let p = Plan {
        body: v(0.19, 0.18, 0.38),
        leg: 0.18,
        leg_r: 0.06,
        neck: 0.32,
        neck_up: 0.6,
        head: v(0.11, 0.09, 0.17),
    }
    .jittered(r);
    let f = quadruped(&mut c, &p, scales, scales);
    c.add("belly", belly, blob(p.body * v(0.85, 0.85, 0.9), f.body_c - v(0.0, 0.04, 0.0), PANEL));
    c.add_pair("horn", horn, |s| {
        let a = on(f.head_c, p.head, v(0.4 * s, 0.8, -0.3), 0.8);
        tube(
            bezier(a, a + v(0.03 * s, 0.1, -0.06), a + v(0.05 * s, 0.08, -0.18)),
            |t| 0.03 - 0.024 * t,
            LIMB,
        )
    });
    Eyes { ball: iris, pupil, size: 0.022, dir: v(0.6, 0.45, 0.45) }.add(&mut c, f.head_c, p.head);

    // Wings: a bone along the leading edge and a thin membrane behind it.
    let shoulder = f.body_c + v(0.0, p.body.y * 0.8, p.body.z * 0.25);
    c.add_pair("wing_bone", scales, |s| {
        let path = bezier(
            shoulder,
            shoulder + side(v(0.25, 0.3, 0.05), s),
            shoulder + side(v(0.55, 0.2, -0.1), s),
        );
        tube(path, |t| 0.03 - 0.018 * t, LIMB)
    });
    c.add_pair("wing", membrane, |s| {
        let normal = side(v(-0.25, 1.0, 0.0), s);
        ellipsoid_along(v(0.3, 0.012, 0.2), normal, shoulder + side(v(0.3, 0.12, -0.15), s), HEAD)
    });
    for k in 0..5 {
        let z = p.body.z * (0.5 - 0.25 * k as f32);
        let base = on(f.body_c, p.body, v(0.0, 1.0, z / p.body.z), 0.9);
        c.add(
            &format!("spike_{k}"),
            horn,
            cone(base, base + v(0.0, 0.08, -0.03), 0.035, 0.006, SMALL),
        );
    }
    let tip = f.rump + v(0.0, -0.1, -0.75);
    let tail = bezier(f.rump, f.rump + v(0.0, 0.15, -0.45), tip);
    c.add("tail", scales, tube(tail, |s| 0.06 - 0.045 * s, Detail { slices: 12, stacks: 20 }));
    c.add(
        "tail_spade",
        membrane,
        ellipsoid_along(v(0.07, 0.1, 0.012), v(0.0, 1.0, 0.0), tip + v(0.0, 0.0, -0.06), SMALL),
    );
    c
}

/// A clownfish: orange body with white bands, rounded fins and a forked tail.
pub fn fish(r: &mut Rng) -> Creature {
    let mut c = Creature::new("fish");
    let scales = c.material("scales", r.tint([245, 115, 25], 15.0));
    let white = c.material("bands", WHITE);
    let fins = c.material("fins", r.tint([235, 95, 20], 15.0));
    let pupil = c.material("pupil", BLACK);
    let (body_c, body_r) = (v(0.0, 0.22, 0.0), v(0.09, 0.17, 0.3) * r.jitter(1.0, 0.06));
    c.add("body", scales, blob(body_r, body_c, crate::shape::BODY));
    for (k, (z, w)) in [(0.17, 0.035), (0.0, 0.045), (-0.2, 0.03)].into_iter().enumerate() {
        band(&mut c, white, (body_c, body_r), z, w, &format!("band_{k}"));
    }
    let tail_c = body_c + v(0.0, 0.0, -body_r.z - 0.06);
    c.add_pair("tail_lobe", fins, |s| {
        ellipsoid_along(
            v(0.015, 0.13, 0.06),
            v(0.0, s, -0.8),
            tail_c + v(0.0, 0.07 * s, -0.03),
            HEAD,
        )
    });
    c.add(
        "dorsal_fin",
        fins,
        egg(v(0.015, 0.08, 0.16), body_c + v(0.0, body_r.y * 0.9, -0.04), HEAD),
    );
    c.add(
        "anal_fin",
        fins,
        egg(v(0.015, 0.05, 0.08), body_c + v(0.0, -body_r.y * 0.9, -0.12), SMALL),
    );
    c.add_pair("pectoral_fin", fins, |s| {
        ellipsoid_along(
            v(0.05, 0.012, 0.07),
            v(0.8 * s, 0.3, -0.3),
            body_c + v(0.085 * s, -0.04, 0.1),
            SMALL,
        )
    });
    Eyes { ball: white, pupil, size: 0.03, dir: v(0.5, 0.35, 0.75) }.add(
        &mut c,
        body_c + v(0.0, 0.0, 0.12),
        v(0.085, 0.15, 0.2),
    );
    c
}

/// A penguin: black back, white front, orange beak and feet, flippers.
pub fn penguin(r: &mut Rng) -> Creature {
    let mut c = Creature::new("penguin");
    let black = c.material("back", r.tint([30, 32, 40], 8.0));
    let white = c.material("front", WHITE);
    let orange = c.material("beak", r.tint([245, 150, 30], 15.0));
    let pupil = c.material("pupil", BLACK);
    let body_r = v(0.17, 0.26, 0.15) * r.jitter(1.0, 0.06);
    let body_c = v(0.0, 0.015 + body_r.y, 0.0);
    c.add("body", black, egg(body_r, body_c, crate::shape::BODY));
    c.add("front", white, egg(body_r * v(0.82, 0.88, 0.75), body_c + v(0.0, -0.02, 0.05), PANEL));
    let (head_c, head_r) = (body_c + v(0.0, body_r.y + 0.06, 0.01), v(0.12, 0.11, 0.11));
    c.add("head", black, egg(head_r, head_c, HEAD));
    c.add_pair("cheek", white, |s| {
        disc(0.04, 0.012, v(0.7 * s, 0.0, 0.7), on(head_c, head_r, v(0.6 * s, 0.0, 0.7), 0.97))
    });
    let beak = on(head_c, head_r, Vec3::Z, 0.85);
    c.add("beak", orange, cone(beak, beak + v(0.0, -0.02, 0.08), 0.03, 0.006, SMALL));
    Eyes { ball: white, pupil, size: 0.02, dir: v(0.45, 0.35, 0.8) }.add(&mut c, head_c, head_r);
    c.add_pair("flipper", black, |s| {
        ellipsoid_along(
            v(0.05, 0.17, 0.015),
            v(0.35 * s, 1.0, 0.0),
            body_c + v(0.17 * s, -0.02, 0.0),
            HEAD,
        )
    });
    c.add_pair("foot", orange, |s| egg(v(0.05, 0.025, 0.08), v(0.07 * s, 0.025, 0.06), SMALL));
    c
}

/// A sitting bunny with long ears, big hind feet and a cotton tail.
pub fn bunny(r: &mut Rng) -> Creature {
    let mut c = Creature::new("bunny");
    let fur = c.material("fur", r.tint([200, 170, 135], 25.0));
    let white = c.material("white", WHITE);
    let pink = c.material("pink", PINK);
    let pupil = c.material("pupil", BLACK);
    let body_r = v(0.15, 0.17, 0.17) * r.jitter(1.0, 0.06);
    let body_c = v(0.0, 0.02 + body_r.y, -0.02);
    c.add("body", fur, egg(body_r, body_c, crate::shape::BODY));
    c.add("chest", white, egg(body_r * v(0.7, 0.75, 0.6), body_c + v(0.0, 0.0, 0.08), PANEL));
    let (head_c, head_r) = (body_c + v(0.0, body_r.y + 0.04, 0.1), v(0.11, 0.1, 0.11));
    c.add("head", fur, egg(head_r, head_c, HEAD));
    let ear_len = r.jitter(0.15, 0.12);
    c.add_pair("ear", fur, |s| {
        ellipsoid_along(
            v(0.04, ear_len, 0.018),
            v(0.2 * s, 1.0, -0.15),
            head_c + v(0.05 * s, 0.07 + ear_len, -0.04),
            HEAD,
        )
    });
    c.add_pair("inner_ear", pink, |s| {
        ellipsoid_along(
            v(0.025, ear_len * 0.8, 0.01),
            v(0.2 * s, 1.0, -0.15),
            head_c + v(0.05 * s, 0.07 + ear_len, -0.03),
            SMALL,
        )
    });
    let nose = on(head_c, head_r, v(0.0, 0.1, 1.0), 0.95);
    c.add("nose", pink, ball(0.017, nose));
    Eyes { ball: pupil, pupil, size: 0.022, dir: v(0.55, 0.3, 0.75) }.add(&mut c, head_c, head_r);
    c.add_pair("hind_foot", fur, |s| egg(v(0.05, 0.03, 0.12), v(0.1 * s, 0.03, 0.02), SMALL));
    c.add_pair("front_paw", white, |s| egg(v(0.035, 0.03, 0.04), v(0.05 * s, 0.03, 0.13), SMALL));
    c.add("tail", white, ball(0.05, body_c + v(0.0, -0.08, -body_r.z)));
    c
}

/// A boxy robot dog built from superellipsoids: rounded boxes, antenna, glowing eyes.
pub fn robot_dog(r: &mut Rng) -> Creature {
    let mut c = Creature::new("robot_dog");
    let metal = c.material("metal", r.tint([170, 180, 195], 15.0));
    let joint = c.material("joints", [60, 64, 72]);
    let accent = c.material("accent", r.tint([240, 190, 30], 20.0));
    let glow = c.material("eyes", [60, 230, 240]);
    let red = c.material("light", [240, 40, 40]);
    let box_ = |r: Vec3, at: Vec3| superellipsoid(r, 0.3, HEAD).placed(glam::Quat::IDENTITY, at);
    let body_r = v(0.15, 0.1, 0.3) * r.jitter(1.0, 0.06);
    let body_c = v(0.0, 0.3, 0.0);
    c.add("body", metal, box_(body_r, body_c));
    c.add_pair("side_panel", accent, |s| {
        box_(v(0.01, 0.05, 0.18), body_c + v((body_r.x + 0.002) * s, 0.0, 0.0))
    });
    let head_c = body_c + v(0.0, 0.15, body_r.z + 0.04);
    c.add("neck", joint, capsule(body_c + v(0.0, 0.05, body_r.z * 0.8), head_c, 0.04, LIMB));
    c.add("head", metal, box_(v(0.1, 0.08, 0.1), head_c));
    c.add("jaw", accent, box_(v(0.07, 0.03, 0.06), head_c + v(0.0, -0.06, 0.08)));
    c.add_pair("eye", glow, |s| ball(0.025, head_c + v(0.045 * s, 0.02, 0.095)));
    c.add_pair("ear", accent, |s| box_(v(0.015, 0.05, 0.03), head_c + v(0.09 * s, 0.07, -0.03)));
    c.add(
        "antenna",
        joint,
        capsule(head_c + v(0.0, 0.07, -0.02), head_c + v(0.0, 0.17, -0.05), 0.01, SMALL),
    );
    c.add("antenna_light", red, ball(0.025, head_c + v(0.0, 0.18, -0.05)));
    for (k, (sx, sz)) in
        [(1.0, 1.0), (-1.0, 1.0), (1.0, -1.0), (-1.0, -1.0)].into_iter().enumerate()
    {
        let at = v(sx * body_r.x * 0.7, 0.0, sz * body_r.z * 0.7);
        c.add(&format!("hip_{k}"), joint, ball(0.05, at + v(0.0, body_c.y - 0.06, 0.0)));
        c.add(&format!("leg_{k}"), metal, box_(v(0.035, 0.11, 0.04), at + v(0.0, 0.14, 0.0)));
        c.add(&format!("foot_{k}"), joint, box_(v(0.045, 0.025, 0.06), at + v(0.0, 0.025, 0.015)));
    }
    let root = body_c + v(0.0, 0.05, -body_r.z);
    c.add("tail", joint, capsule(root, root + v(0.0, 0.12, -0.08), 0.018, LIMB));
    c
}

/// A chameleon painted per vertex: a green-to-yellow gradient with dark bands and a pale
/// stripe, turret eyes and a curled tail.
pub fn chameleon(r: &mut Rng) -> Creature {
    let mut c = Creature::new("chameleon");
    let skin = c.material("skin", [255, 255, 255]);
    let turret = c.material("turret", r.tint([110, 180, 70], 15.0));
    let pupil = c.material("pupil", BLACK);
    let (body_c, body_r) = (v(0.0, 0.26, 0.0), v(0.09, 0.13, 0.27) * r.jitter(1.0, 0.06));
    c.add("body", skin, blob(body_r, body_c, crate::shape::BODY));
    let head_c = body_c + v(0.0, 0.04, body_r.z + 0.05);
    let head_r = v(0.075, 0.085, 0.11);
    c.add("head", skin, blob(head_r, head_c, HEAD));
    let casque = head_c + v(0.0, 0.05, -0.04);
    c.add("casque", skin, cone(casque, casque + v(0.0, 0.07, -0.08), 0.045, 0.01, LIMB));
    c.add_pair("turret", turret, |s| ball(0.04, head_c + v(0.06 * s, 0.02, 0.03)));
    c.add_pair("pupil", pupil, |s| ball(0.015, head_c + v(0.095 * s, 0.025, 0.045)));
    for (k, (sx, sz)) in
        [(1.0, 1.0), (-1.0, 1.0), (1.0, -1.0), (-1.0, -1.0)].into_iter().enumerate()
    {
        let hip = body_c + v(sx * 0.06, -0.06, sz * body_r.z * 0.55);
        let knee = hip + v(sx * 0.08, 0.02, sz * 0.02);
        let toe = v(sx * 0.12, 0.02, hip.z + sz * 0.05);
        c.add(&format!("leg_{k}"), skin, tube(bezier(hip, knee, toe), |t| 0.028 - 0.01 * t, LIMB));
    }
    let root = body_c + v(0.0, 0.0, -body_r.z * 0.9);
    let centre = root - v(0.0, 0.1, 0.0);
    let curl = move |s: f32| {
        let a = 2.6 * PI * s;
        let rho = 0.1 * (1.0 - 0.3 * a / PI);
        centre + v(0.0, rho * a.cos(), -rho * a.sin() - 0.06 * s)
    };
    c.add("tail", skin, tube(curl, |s| 0.04 - 0.028 * s, Detail { slices: 10, stacks: 30 }));

    // Colours by position: gradient along the body, dark bands, a pale stripe along the side.
    let (green, yellow, dark) =
        (r.tint([60, 150, 60], 20.0), r.tint([200, 210, 60], 20.0), [25, 80, 40]);
    c.paint(move |base, part, p| {
        if base != [255, 255, 255] {
            return base;
        }
        let along = ((p.z + 0.45) / 0.8).clamp(0.0, 1.0);
        let colour = mix(green, yellow, along);
        let banded = ((p.z * 14.0).sin() > 0.6) && part != "head";
        let stripe = (p.y - (body_c.y - 0.02)).abs() < 0.015 && part == "body";
        match (stripe, banded) {
            (true, _) => mix(colour, WHITE, 0.7),
            (false, true) => mix(colour, dark, 0.6),
            _ => colour,
        }
    });
    c
}

/// A cow with a patched texture, horns, a pink muzzle and udder, and a tufted tail.
pub fn cow(r: &mut Rng) -> Creature {
    let mut c = Creature::new("cow");
    let black = r.tint([35, 30, 30], 10.0);
    let coat = patches(r, [245, 243, 238], black);
    let hide = c.textured_material("patched_hide", coat);
    let pink = c.material("pink", r.tint([235, 170, 165], 10.0));
    let horn = c.material("horn", [235, 225, 195]);
    let hoof = c.material("hoof", [50, 45, 45]);
    let pupil = c.material("pupil", BLACK);
    let p = Plan {
        body: v(0.22, 0.2, 0.42),
        leg: 0.3,
        leg_r: 0.06,
        neck: 0.0,
        neck_up: 0.0,
        head: v(0.12, 0.13, 0.17),
    }
    .jittered(r);
    let f = quadruped(&mut c, &p, hide, hide);
    let muzzle = on(f.head_c, p.head, v(0.0, -0.3, 1.0), 0.8);
    c.add("muzzle", pink, blob(v(0.09, 0.07, 0.06), muzzle, SMALL));
    c.add_pair("horn", horn, |s| {
        let a = on(f.head_c, p.head, v(0.6 * s, 0.75, -0.2), 0.85);
        tube(
            bezier(a, a + v(0.1 * s, 0.0, 0.0), a + v(0.13 * s, 0.08, 0.03)),
            |t| 0.025 - 0.017 * t,
            LIMB,
        )
    });
    c.add_pair("ear", hide, |s| {
        ellipsoid_along(
            v(0.07, 0.015, 0.04),
            v(0.2 * s, 1.0, 0.3),
            f.head_c + v(0.14 * s, 0.03, -0.05),
            SMALL,
        )
    });
    Eyes { ball: pupil, pupil, size: 0.02, dir: v(0.6, 0.35, 0.65) }.add(&mut c, f.head_c, p.head);
    c.add("udder", pink, ball(0.07, f.body_c + v(0.0, -p.body.y * 0.85, -p.body.z * 0.4)));
    for (k, &at) in f.feet.iter().enumerate() {
        c.add(&format!("hoof_{k}"), hoof, foot(p.leg_r * 1.05, at, 0.1));
    }
    let tip = f.rump + v(0.0, -0.35, -0.1);
    c.add("tail", hide, tube(bezier(f.rump, f.rump + v(0.0, -0.05, -0.1), tip), |_| 0.018, LIMB));
    c.add("tail_tuft", hoof, egg(v(0.03, 0.05, 0.03), tip - v(0.0, 0.03, 0.0), SMALL));
    c
}

/// A giraffe with a cell-patterned texture, a long neck and legs, ossicones and a dark mane.
pub fn giraffe(r: &mut Rng) -> Creature {
    let mut c = Creature::new("giraffe");
    let brown = r.tint([175, 105, 45], 15.0);
    let coat = cells(r, brown, [245, 225, 180]);
    let hide = c.textured_material("patterned_hide", coat);
    let dark = c.material("mane", [80, 50, 30]);
    let pupil = c.material("pupil", BLACK);
    let p = Plan {
        body: v(0.16, 0.18, 0.32),
        leg: 0.55,
        leg_r: 0.045,
        neck: 0.62,
        neck_up: 0.85,
        head: v(0.08, 0.08, 0.14),
    }
    .jittered(r);
    let f = quadruped(&mut c, &p, hide, hide);
    c.add_pair("ossicone", hide, |s| {
        capsule(
            f.head_c + v(0.035 * s, 0.05, -0.06),
            f.head_c + v(0.045 * s, 0.13, -0.08),
            0.015,
            SMALL,
        )
    });
    c.add_pair("ossicone_tip", dark, |s| ball(0.022, f.head_c + v(0.045 * s, 0.14, -0.08)));
    c.add_pair("ear", hide, |s| {
        ellipsoid_along(
            v(0.03, 0.012, 0.05),
            v(0.3 * s, 1.0, 0.2),
            f.head_c + v(0.08 * s, 0.05, -0.08),
            SMALL,
        )
    });
    Eyes { ball: pupil, pupil, size: 0.018, dir: v(0.6, 0.4, 0.55) }.add(&mut c, f.head_c, p.head);
    let shoulder = f.body_c + v(0.0, p.body.y * 0.45, p.body.z * 0.7);
    let neck_dir = v(0.0, p.neck_up, 1.0 - p.neck_up).normalize();
    let (m0, m1) =
        (shoulder + neck_dir * 0.08 - v(0.0, 0.0, 0.04), shoulder + neck_dir * p.neck * 0.95);
    c.add("mane", dark, capsule(m0 - v(0.0, 0.0, 0.02), m1 - v(0.0, 0.0, 0.035), 0.022, LIMB));
    for (k, &at) in f.feet.iter().enumerate() {
        c.add(&format!("hoof_{k}"), dark, foot(p.leg_r * 1.05, at, 0.1));
    }
    let tip = f.rump + v(0.0, -0.4, -0.08);
    c.add("tail", hide, tube(bezier(f.rump, f.rump + v(0.0, -0.05, -0.08), tip), |_| 0.014, LIMB));
    c.add("tail_tuft", dark, egg(v(0.025, 0.05, 0.025), tip - v(0.0, 0.03, 0.0), SMALL));
    c
}

/// Whether every colour of a creature is one of its materials (used by the tests).
#[cfg(test)]
fn unpainted(c: &Creature) -> bool {
    c.parts.iter().all(|p| p.colors.is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_two_painted_species_carry_vertex_colours() {
        let all = [cat, frog, owl, pig, tiger, leopard, elephant, dragon, fish, penguin, bunny];
        for make in all {
            assert!(unpainted(&make(&mut Rng::from_name("x"))));
        }
        assert!(!unpainted(&ladybug(&mut Rng::from_name("x"))));
        assert!(!unpainted(&chameleon(&mut Rng::from_name("x"))));
    }

    #[test]
    fn ladybug_shell_has_black_spots_and_red() {
        let c = ladybug(&mut Rng::from_name("ladybug"));
        let shell = c.parts.iter().find(|p| p.name == "shell").and_then(|p| p.colors.clone());
        let shell = shell.unwrap_or_default();
        let black = shell.iter().filter(|&&c| c == BLACK).count();
        assert!(black > shell.len() / 20 && black < shell.len() / 2, "{black} of {}", shell.len());
    }
}
