//! Times coloured, solid-filled voxelization of an ~80k-triangle closed mesh built in code: an
//! icosphere split six times (81,920 triangles), bumped along its normals, with vertex colours
//! and a 256×256 texture on spherical UVs. Prints the median of several runs at 64³ and 256³.
//!
//! Run with `cargo run --release --example voxelize_timing [runs] [resolution...]`; set
//! `RUST_LOG=voxgen=debug` to see the time of each stage.

use std::time::{Duration, Instant};

use voxgen::mesh::{Image, Material, Mesh, TextureRef, Triangle};
use voxgen::voxel::{voxelize, VoxelizeConfig};

/// Times each resolution is voxelized unless a count is given.
const RUNS: usize = 7;
/// Icosahedron splits: 20 · 4⁶ = 81,920 triangles.
const LEVEL: usize = 6;
const RESOLUTIONS: [usize; 2] = [64, 256];

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let runs = args.first().copied().unwrap_or(RUNS);
    let resolutions = if args.len() > 1 { args[1..].to_vec() } else { RESOLUTIONS.to_vec() };
    let mesh = bumpy_sphere(LEVEL);
    println!(
        "mesh: {} triangles, texture {}x{}, rayon threads {}",
        mesh.triangles.len(),
        mesh.images[0].width,
        mesh.images[0].height,
        rayon::current_num_threads()
    );
    for n in resolutions {
        let cfg = VoxelizeConfig { resolution: n, margin: 0, shell: false };
        let mut times = Vec::with_capacity(runs);
        let mut count = 0;
        for _ in 0..runs.max(1) {
            let start = Instant::now();
            let grid = match voxelize(&mesh, &cfg) {
                Ok(g) => g,
                Err(e) => {
                    eprintln!("voxelize failed: {e}");
                    std::process::exit(2);
                }
            };
            times.push(start.elapsed());
            count = grid.count();
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{n:>3}³: median {:8.2} ms  (min {:8.2}, max {:8.2}, {} runs)  {count} voxels",
            ms(times[times.len() / 2]),
            ms(times[0]),
            ms(times[times.len() - 1]),
            times.len()
        );
    }
}

/// The bumpy, coloured, textured sphere.
fn bumpy_sphere(level: usize) -> Mesh {
    let triangles = icosphere(level)
        .into_iter()
        .map(|t| {
            let positions = t.map(bump);
            Triangle {
                positions,
                colors: Some(
                    t.map(|p| [0.5 + 0.5 * p[0], 0.5 + 0.5 * p[1], 0.5 + 0.5 * p[2], 1.0]),
                ),
                uvs: Some(t.map(spherical_uv)),
                material: 0,
            }
        })
        .collect();
    let material = Material {
        name: "bumpy".into(),
        base_color: [1.0, 0.9, 0.8, 1.0],
        texture: Some(TextureRef::new(0)),
    };
    Mesh { triangles, materials: vec![material], images: vec![checker(256)] }
}

/// Pushes a unit-sphere point out along its normal by a few smooth bumps.
fn bump(p: [f32; 3]) -> [f32; 3] {
    let r = 1.0 + 0.08 * (7.0 * p[0]).sin() * (5.0 * p[1]).cos() + 0.05 * (11.0 * p[2]).sin();
    p.map(|c| c * r)
}

/// Longitude and latitude of a unit-sphere point as UVs.
fn spherical_uv(p: [f32; 3]) -> [f32; 2] {
    let u = 0.5 + p[1].atan2(p[0]) / std::f32::consts::TAU;
    let v = 0.5 - p[2].clamp(-1.0, 1.0).asin() / std::f32::consts::PI;
    [u, v]
}

/// A `size`² checker of 16-texel squares in two colours, with a gradient on top.
fn checker(size: u32) -> Image {
    let pixels = (0..size * size)
        .map(|i| {
            let (x, y) = (i % size, i / size);
            let on = (x / 16 + y / 16) % 2 == 0;
            let g = x as f32 / size as f32;
            if on {
                [0.9, 0.3 + 0.5 * g, 0.1, 1.0]
            } else {
                [0.1, 0.2, 0.8 - 0.5 * g, 1.0]
            }
        })
        .collect();
    Image { width: size, height: size, pixels }
}

/// Triangles of a unit sphere: an icosahedron split `level` times.
fn icosphere(level: usize) -> Vec<[[f32; 3]; 3]> {
    let g = (1.0 + 5f32.sqrt()) / 2.0;
    let corners = [
        [-1.0, g, 0.0],
        [1.0, g, 0.0],
        [-1.0, -g, 0.0],
        [1.0, -g, 0.0],
        [0.0, -1.0, g],
        [0.0, 1.0, g],
        [0.0, -1.0, -g],
        [0.0, 1.0, -g],
        [g, 0.0, -1.0],
        [g, 0.0, 1.0],
        [-g, 0.0, -1.0],
        [-g, 0.0, 1.0],
    ];
    let faces = [
        [0, 11, 5],
        [0, 5, 1],
        [0, 1, 7],
        [0, 7, 10],
        [0, 10, 11],
        [1, 5, 9],
        [5, 11, 4],
        [11, 10, 2],
        [10, 7, 6],
        [7, 1, 8],
        [3, 9, 4],
        [3, 4, 2],
        [3, 2, 6],
        [3, 6, 8],
        [3, 8, 9],
        [4, 9, 5],
        [2, 4, 11],
        [6, 2, 10],
        [8, 6, 7],
        [9, 8, 1],
    ];
    let unit = |p: [f32; 3]| {
        let l = (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt();
        p.map(|c| c / l)
    };
    let mut tris: Vec<[[f32; 3]; 3]> = faces.iter().map(|f| f.map(|i| unit(corners[i]))).collect();
    for _ in 0..level {
        let mid = |a: [f32; 3], b: [f32; 3]| unit([0, 1, 2].map(|i| (a[i] + b[i]) / 2.0));
        tris = tris
            .iter()
            .flat_map(|&[a, b, c]| {
                let (ab, bc, ca) = (mid(a, b), mid(b, c), mid(c, a));
                [[a, ab, ca], [ab, b, bc], [ca, bc, c], [ab, bc, ca]]
            })
            .collect();
    }
    tris
}
