//! The benchmark mesh: one closed, bumpy, vertex-coloured blob of 80,000 triangles.

use std::path::Path;

use glam::Vec3;

use crate::creature::Creature;
use crate::obj::{write_obj, ObjStyle};
use crate::paint::mix;
use crate::rng::Rng;
use crate::shape::{ellipsoid, Detail};

/// 2 * 200 * (201 - 1) = 80,000 triangles.
const DETAIL: Detail = Detail { slices: 200, stacks: 201 };

/// Writes the benchmark mesh as an OBJ with vertex colours to `path` (its folder is created).
pub fn write_bench_mesh(path: &Path) -> anyhow::Result<Creature> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("bench");
    let c = bench_creature(stem);
    crate::check::check_creature(&c)?;
    write_obj(&c, dir, ObjStyle { vertex_colors: true, ..Default::default() })?;
    Ok(c)
}

/// A unit ellipsoid pushed out along its normals by lobes and ripples (it stays star-shaped,
/// so it cannot cross itself), coloured by height with spots where the ripples peak.
fn bench_creature(name: &str) -> Creature {
    let mut rng = Rng::from_name("bench");
    let lobes: Vec<(Vec3, f32, f32)> = (0..14)
        .map(|_| {
            let d = Vec3::new(rng.range(-1.0, 1.0), rng.range(-1.0, 1.0), rng.range(-1.0, 1.0));
            (d.normalize_or(Vec3::Y), rng.range(0.1, 0.35), rng.range(0.05, 0.2))
        })
        .collect();
    let ripple = |d: Vec3| (d.x * 23.0).sin() * (d.y * 19.0).sin() * (d.z * 29.0).sin();
    let bump = move |d: Vec3| {
        let lobe: f32 = lobes.iter().map(|&(c, a, w)| a * (-(1.0 - d.dot(c)) / w).exp()).sum();
        1.0 + lobe + 0.03 * ripple(d)
    };

    let mut surface = ellipsoid(Vec3::new(1.0, 0.85, 1.2), DETAIL);
    for p in &mut surface.positions {
        *p *= bump(p.normalize());
    }
    let mut c = Creature::new(name);
    let skin = c.material("skin", [90, 160, 200]);
    c.add("blob", skin, surface);
    c.stand_on_ground();
    let (lo, hi) = c.bounds();
    c.paint(move |base, _, p| {
        let height = (p.y - lo.y) / (hi.y - lo.y);
        let colour = mix(base, [240, 200, 80], height);
        if ripple(p.normalize()) > 0.7 {
            mix(colour, [40, 30, 60], 0.8)
        } else {
            colour
        }
    });
    c
}
