//! The `.vox` and `.glb` writers, checked through readers that are not ours: the npm packages
//! `vox-reader` and `gltf-validator` (under `.tools/node_modules`), goxel (Debian package, run
//! under `xvfb-run`), the `gltf` crate and `dot_vox`'s parser. Tests that need a missing tool or
//! the shared corpus print why and pass without checking.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use voxgen::format::glb::{self, VOXEL_SIZE};
use voxgen::format::palette::{srgb8_to_oklab, srgb_to_linear};
use voxgen::format::{vox, SCENE_GAP};
use voxgen::voxel::VoxelGrid;

// ---------------------------------------------------------------------------------------------
// Shapes

/// A small creature, asymmetric on every axis: two legs (thin parts), a body with a tunnel along
/// x (a hole), a head set forward along +y, an arm on the -x side; a handful of colours. No two
/// voxels touch along a bare edge, so its surface is a 2-manifold.
fn creature() -> VoxelGrid {
    let mut g = VoxelGrid::new([12, 10, 16]).unwrap();
    let fill = |g: &mut VoxelGrid, lo: [usize; 3], hi: [usize; 3], rgb: [u8; 3]| {
        for z in lo[2]..hi[2] {
            for y in lo[1]..hi[1] {
                for x in lo[0]..hi[0] {
                    g.set(x, y, z, Some(rgb));
                }
            }
        }
    };
    fill(&mut g, [3, 4, 0], [5, 6, 6], [90, 60, 30]); // left leg
    fill(&mut g, [7, 4, 0], [9, 6, 6], [90, 60, 30]); // right leg
    fill(&mut g, [2, 2, 6], [10, 8, 12], [40, 160, 70]); // body
    fill(&mut g, [4, 6, 12], [8, 10, 15], [230, 200, 170]); // head, forward along +y
    fill(&mut g, [0, 2, 8], [2, 3, 11], [40, 160, 70]); // arm on -x
    g.set(5, 9, 13, Some([10, 10, 10])); // eye
    g.set(7, 9, 13, Some([10, 10, 10])); // eye
    for x in 2..10 {
        for (y, z) in [(4, 8), (5, 8), (4, 9), (5, 9)] {
            g.set(x, y, z, None); // tunnel through the body along x
        }
    }
    g
}

/// A 20x18x14 block with smoothly varying colour: 20 * 18 * 14 = 5040 distinct colours.
fn many_colours() -> VoxelGrid {
    let mut g = VoxelGrid::new([20, 18, 14]).unwrap();
    for z in 0..14 {
        for y in 0..18 {
            for x in 0..20 {
                g.set(x, y, z, Some([(x * 13) as u8, (y * 14) as u8, (z * 19) as u8]));
            }
        }
    }
    g
}

/// A deterministic random blob (edge-only contacts included), a few colours.
fn random_blob(dims: [usize; 3], seed: u64) -> VoxelGrid {
    let mut state = seed | 1;
    let mut g = VoxelGrid::new(dims).unwrap();
    for z in 0..dims[2] {
        for y in 0..dims[1] {
            for x in 0..dims[0] {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                if state % 5 < 2 {
                    g.set(x, y, z, Some([(state >> 20) as u8 & 0xC0, 128, (state >> 30) as u8]));
                }
            }
        }
    }
    g
}

/// One voxel in a 1x1x1 grid.
fn speck() -> VoxelGrid {
    let mut g = VoxelGrid::cube(1).unwrap();
    g.set(0, 0, 0, Some([1, 2, 3]));
    g
}

/// Voxel faces with an empty (or out-of-grid) neighbour, counted one by one.
fn exposed_faces(g: &VoxelGrid) -> usize {
    let mut n = 0;
    for ([x, y, z], _) in g.voxels() {
        let p = [x as i64, y as i64, z as i64];
        for axis in 0..3 {
            for step in [-1, 1] {
                let mut q = p;
                q[axis] += step;
                n += usize::from(!g.is_filled(q[0], q[1], q[2]));
            }
        }
    }
    n
}

// ---------------------------------------------------------------------------------------------
// Tools

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `.tools/node_modules` when it and `node` are there; otherwise prints why and returns `None`.
fn node_modules(test: &str) -> Option<PathBuf> {
    let dir = crate_dir().join(".tools/node_modules");
    if !dir.join("vox-reader").is_dir() || !dir.join("gltf-validator").is_dir() {
        println!("skipping {test}: {} is missing (run `make tools`)", dir.display());
        return None;
    }
    if Command::new("node").arg("--version").output().is_err() {
        println!("skipping {test}: node is not installed");
        return None;
    }
    Some(dir)
}

/// Runs one of the scripts in tests/js on `file` and parses the JSON it prints.
fn run_js(modules: &Path, script: &str, file: &Path) -> Value {
    let out = Command::new("node")
        .arg(crate_dir().join("tests/js").join(script))
        .arg(file)
        .env("NODE_PATH", modules)
        .output()
        .unwrap();
    assert!(out.status.success(), "{script} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The corpus folder: `VOXGEN_CORPUS`, else `../shared/corpus` beside the crate.
fn corpus(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("VOXGEN_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate_dir().join("../shared/corpus"));
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipping {test}: corpus {} is missing (set VOXGEN_CORPUS)", dir.display());
        None
    }
}

// ---------------------------------------------------------------------------------------------
// .vox through vox-reader

/// A model as read by vox-reader: size and `(position, rgba)` per voxel.
struct ReadModel {
    size: [u64; 3],
    voxels: BTreeMap<[u64; 3], [u64; 4]>,
}

/// Resolves each voxel's index through the file's RGBA chunk (index `i` is entry `i - 1`).
fn read_models(report: &Value) -> Vec<ReadModel> {
    let rgba: Vec<[u64; 4]> = report["rgba"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| [0, 1, 2, 3].map(|k| c[k].as_u64().unwrap()))
        .collect();
    let models = report["models"].as_array().unwrap();
    models
        .iter()
        .map(|m| {
            let size = [0, 1, 2].map(|k| m["size"][k].as_u64().unwrap());
            let voxels = m["voxels"].as_array().unwrap().iter().map(|v| {
                let [x, y, z, i] = [0, 1, 2, 3].map(|k| v[k].as_u64().unwrap());
                assert!((1..=255).contains(&i), "palette index {i}");
                ([x, y, z], rgba[i as usize - 1])
            });
            ReadModel { size, voxels: voxels.collect() }
        })
        .collect()
}

/// The grid's voxels as vox-reader reports them for an exact palette.
fn expected_voxels(g: &VoxelGrid) -> BTreeMap<[u64; 3], [u64; 4]> {
    g.voxels()
        .map(|(p, rgb)| (p.map(|c| c as u64), [rgb[0].into(), rgb[1].into(), rgb[2].into(), 255]))
        .collect()
}

#[test]
fn vox_reads_back_voxel_for_voxel_in_vox_reader() {
    let Some(modules) = node_modules("vox_reads_back_voxel_for_voxel_in_vox_reader") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("creature.vox");
    let g = creature();
    vox::write_vox(&g, &path).unwrap();

    let report = run_js(&modules, "read_vox.js", &path);
    assert_eq!(report["rgba"].as_array().unwrap().len(), 256);
    let models = read_models(&report);
    assert_eq!(models.len(), 1);
    assert_eq!(models[0].size, [12, 10, 16]);
    assert_eq!(models[0].voxels, expected_voxels(&g));
}

#[test]
fn vox_with_many_colours_is_quantized_close_to_the_input() {
    let Some(modules) = node_modules("vox_with_many_colours_is_quantized_close_to_the_input")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gradient.vox");
    let g = many_colours();
    vox::write_vox(&g, &path).unwrap();

    let models = read_models(&run_js(&modules, "read_vox.js", &path));
    let got = &models[0].voxels;
    assert_eq!(got.len(), g.count());
    let distinct: BTreeSet<_> = got.values().collect();
    assert!(distinct.len() <= 255 && distinct.len() > 200, "{} colours", distinct.len());
    // Errors in OKLab (distance 1 = black to white). The baseline is a uniform 6 x 7 x 6 sRGB
    // lattice (252 colours), what a perceptually blind quantizer would give.
    let (mut worst, mut total, mut baseline) = (0.0f64, 0.0, 0.0);
    for ([x, y, z], rgb) in g.voxels() {
        let q = got[&[x as u64, y as u64, z as u64]].map(|c| c as u8);
        let d = oklab_distance(rgb, [q[0], q[1], q[2]]);
        worst = worst.max(d);
        total += d;
        baseline += oklab_distance(rgb, [snap(rgb[0], 6), snap(rgb[1], 7), snap(rgb[2], 6)]);
    }
    let (mean, baseline) = (total / g.count() as f64, baseline / g.count() as f64);
    println!(
        "5040 colours into {}: OKLab error worst {worst:.4}, mean {mean:.4} (uniform lattice \
         mean {baseline:.4})",
        distinct.len()
    );
    assert!(worst < 0.08 && mean < 0.8 * baseline, "worst {worst}, mean {mean}");
}

/// Distance in OKLab between two sRGB colours.
fn oklab_distance(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (a, b) = (srgb8_to_oklab(a), srgb8_to_oklab(b));
    (0..3).map(|k| (a[k] - b[k]).powi(2)).sum::<f64>().sqrt()
}

/// The nearest of `levels` evenly spaced values in 0..=255.
fn snap(c: u8, levels: u32) -> u8 {
    let step = 255.0 / f64::from(levels - 1);
    ((f64::from(c) / step).round() * step).round() as u8
}

/// Three named creatures of different sizes.
fn scene_creatures() -> Vec<(String, VoxelGrid)> {
    let mut small = VoxelGrid::new([3, 4, 5]).unwrap();
    small.set(0, 0, 0, Some([255, 0, 0]));
    small.set(2, 3, 4, Some([0, 0, 255]));
    vec![
        ("alpha".to_string(), creature()),
        ("beta".to_string(), small),
        ("gamma".to_string(), random_blob([7, 9, 6], 42)),
    ]
}

#[test]
fn vox_scene_holds_every_creature_named_and_apart() {
    let Some(modules) = node_modules("vox_scene_holds_every_creature_named_and_apart") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scene.vox");
    let creatures = scene_creatures();
    vox::write_vox_scene(&creatures, &path).unwrap();

    let report = run_js(&modules, "read_vox.js", &path);
    assert_eq!(report["rgba"].as_array().unwrap().len(), 256);
    let models = read_models(&report);
    assert_eq!(models.len(), creatures.len());
    for (m, (_, g)) in models.iter().zip(&creatures) {
        assert_eq!(m.size, g.dims().map(|d| d as u64));
        assert_eq!(m.voxels, expected_voxels(g));
    }

    // Graph: root transform -> group -> (named transform -> shape -> model k) per creature.
    let transforms = report["transforms"].as_array().unwrap();
    let groups = report["groups"].as_array().unwrap();
    let shapes = report["shapes"].as_array().unwrap();
    assert_eq!((transforms.len(), groups.len(), shapes.len()), (4, 1, 3));
    assert_eq!(transforms[0]["child"], groups[0]["id"]);
    assert_eq!(report["layers"].as_array().unwrap().len(), 1);
    let boxes = scene_boxes(transforms, groups, shapes, &creatures);

    // Every creature stands on z = 0 and keeps at least SCENE_GAP voxels from the others.
    for (k, (lo, hi)) in boxes.iter().enumerate() {
        assert_eq!(lo[2], 0, "creature {k} floor");
        for (lo2, hi2) in &boxes[k + 1..] {
            let gap = SCENE_GAP as i64;
            assert!((0..2).any(|a| hi[a] + gap <= lo2[a] || hi2[a] + gap <= lo[a]));
        }
        assert!(lo[0] < 40 && hi[0] > -40 && lo[1] < 40 && hi[1] > -40, "near the origin");
    }
}

/// Follows group -> transform -> shape and returns each creature's world box `(min, max)`,
/// checking names and model ids on the way. MagicaVoxel puts voxel `size / 2` at `_t`.
fn scene_boxes(
    transforms: &[Value],
    groups: &[Value],
    shapes: &[Value],
    creatures: &[(String, VoxelGrid)],
) -> Vec<([i64; 3], [i64; 3])> {
    let children = groups[0]["children"].as_array().unwrap();
    assert_eq!(children.len(), creatures.len());
    children
        .iter()
        .zip(creatures)
        .enumerate()
        .map(|(k, (child, (name, g)))| {
            let t = transforms.iter().find(|t| t["id"] == *child).unwrap();
            assert_eq!(t["name"].as_str(), Some(name.as_str()));
            assert_eq!(t["layer"], 0);
            let shape = shapes.iter().find(|s| s["id"] == t["child"]).unwrap();
            assert_eq!(shape["models"][0], k as u64);
            let pos: Vec<i64> =
                t["t"].as_str().unwrap().split(' ').map(|v| v.parse().unwrap()).collect();
            let d = g.dims().map(|d| d as i64);
            let lo = [0, 1, 2].map(|a| pos[a] - d[a] / 2);
            (lo, [0, 1, 2].map(|a| lo[a] + d[a]))
        })
        .collect()
}

#[test]
fn empty_grids_are_errors_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let empty = VoxelGrid::cube(4).unwrap();
    for name in ["e.vox", "e.glb"] {
        let path = dir.path().join(name);
        let err = if name.ends_with("vox") {
            vox::write_vox(&empty, &path)
        } else {
            glb::write_glb(&empty, &path)
        }
        .unwrap_err();
        assert!(err.to_string().contains("nothing to write: grid is empty"), "{err}");
        assert!(err.to_string().contains(name), "{err}");
        let scene = vec![("nobody".to_string(), empty.clone())];
        assert!(vox::write_vox_scene(&scene, &path).is_err());
        assert!(glb::write_glb_scene(&scene, &path).is_err());
        assert!(!path.exists());
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

// ---------------------------------------------------------------------------------------------
// .glb through gltf-validator and the gltf crate

/// Validates `path`; prints infos and hints, fails on any error or warning.
fn assert_valid_gltf(modules: &Path, path: &Path) {
    let report = run_js(modules, "validate_gltf.js", path);
    let messages = report["messages"].as_array().unwrap();
    for m in messages {
        println!("{}: {} {} at {}", path.display(), m["severity"], m["code"], m["pointer"]);
    }
    assert_eq!(report["errors"], 0, "{messages:#?}");
    assert_eq!(report["warnings"], 0, "{messages:#?}");
    let generator = report["generator"].as_str().unwrap();
    assert_eq!(generator, format!("voxgen {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn glb_files_pass_the_khronos_validator_cleanly() {
    let Some(modules) = node_modules("glb_files_pass_the_khronos_validator_cleanly") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("creature", creature()),
        ("gradient", many_colours()),
        ("blob", random_blob([16, 12, 10], 7)),
        ("speck", speck()),
    ];
    for (name, g) in &cases {
        let path = dir.path().join(format!("{name}.glb"));
        glb::write_glb(g, &path).unwrap();
        assert_valid_gltf(&modules, &path);
    }
    let path = dir.path().join("scene.glb");
    let mut creatures = scene_creatures();
    creatures.push(("ghost".to_string(), VoxelGrid::cube(5).unwrap()));
    glb::write_glb_scene(&creatures, &path).unwrap();
    assert_valid_gltf(&modules, &path);
}

#[test]
fn glb_with_more_than_65534_vertices_uses_u32_indices_and_validates() {
    let Some(modules) =
        node_modules("glb_with_more_than_65534_vertices_uses_u32_indices_and_validates")
    else {
        return;
    };
    let g = random_blob([40, 40, 40], 11);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.glb");
    glb::write_glb(&g, &path).unwrap();
    let (doc, _, _) = gltf::import(&path).unwrap();
    let prim = doc.meshes().next().unwrap().primitives().next().unwrap();
    assert!(prim.get(&gltf::Semantic::Positions).unwrap().count() > 65535);
    assert_eq!(prim.indices().unwrap().data_type(), gltf::accessor::DataType::U32);
    assert_valid_gltf(&modules, &path);
}

/// One mesh as read back by the `gltf` crate, in its node's frame.
struct ReadMesh {
    name: String,
    translation: [f32; 3],
    positions: Vec<[f32; 3]>,
    normals: Vec<[f32; 3]>,
    colors: Vec<[f32; 3]>,
    indices: Vec<u32>,
}

fn read_glb(path: &Path) -> Vec<ReadMesh> {
    let (doc, buffers, _) = gltf::import(path).unwrap();
    let scene = doc.default_scene().unwrap();
    scene
        .nodes()
        .filter_map(|node| {
            let mesh = node.mesh()?;
            let prim = mesh.primitives().next().unwrap();
            let reader = prim.reader(|b| Some(&buffers[b.index()]));
            Some(ReadMesh {
                name: node.name().unwrap().to_string(),
                translation: node.transform().decomposed().0,
                positions: reader.read_positions().unwrap().collect(),
                normals: reader.read_normals().unwrap().collect(),
                colors: reader.read_colors(0).unwrap().into_rgb_f32().collect(),
                indices: reader.read_indices().unwrap().into_u32().collect(),
            })
        })
        .collect()
}

/// How many triangles use each undirected edge once identical positions are welded, and
/// whether each directed edge is matched by its reverse.
/// Use count per edge between two welded points (positions as f32 bits).
type EdgeMap = HashMap<([u32; 3], [u32; 3]), usize>;

fn edge_use(m: &ReadMesh) -> (EdgeMap, bool) {
    let key = |i: u32| m.positions[i as usize].map(f32::to_bits);
    let mut undirected = HashMap::new();
    let mut directed = EdgeMap::new();
    for t in m.indices.chunks(3) {
        for i in 0..3 {
            let (a, b) = (key(t[i]), key(t[(i + 1) % 3]));
            *undirected.entry(if a < b { (a, b) } else { (b, a) }).or_insert(0) += 1;
            *directed.entry((a, b)).or_insert(0) += 1;
        }
    }
    let balanced = directed.iter().all(|(&(a, b), n)| directed.get(&(b, a)) == Some(n));
    (undirected, balanced)
}

/// Total triangle area in voxel faces; asserts every triangle is non-degenerate and wound
/// counter-clockwise around its normal.
fn area_in_faces(m: &ReadMesh) -> f64 {
    let mut total = 0.0;
    for t in m.indices.chunks(3) {
        let [a, b, c] = [0, 1, 2].map(|i| m.positions[t[i] as usize].map(f64::from));
        let (u, v) = ([0, 1, 2].map(|k| b[k] - a[k]), [0, 1, 2].map(|k| c[k] - a[k]));
        let cross =
            [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
        let n = m.normals[t[0] as usize].map(f64::from);
        let along = cross[0] * n[0] + cross[1] * n[1] + cross[2] * n[2];
        assert!(along > 1e-9, "triangle {t:?} degenerate or wound inwards");
        total += along / 2.0;
    }
    total / f64::from(VOXEL_SIZE).powi(2)
}

#[test]
fn glb_surface_is_watertight_and_covers_every_exposed_face() {
    let dir = tempfile::tempdir().unwrap();
    // Manifold shapes: every edge is shared by exactly two triangles.
    for (name, g) in [("creature", creature()), ("gradient", many_colours())] {
        let path = dir.path().join(format!("{name}.glb"));
        glb::write_glb(&g, &path).unwrap();
        let meshes = read_glb(&path);
        assert_eq!(meshes.len(), 1);
        let (edges, balanced) = edge_use(&meshes[0]);
        assert!(balanced, "{name}: unmatched directed edge");
        let bad = edges.values().filter(|&&n| n != 2).count();
        assert_eq!(bad, 0, "{name}: {bad} edges not shared by exactly two triangles");
        let area = area_in_faces(&meshes[0]);
        assert!((area - exposed_faces(&g) as f64).abs() < 1e-3, "{name}: area {area}");
    }
    // Random blobs touch along bare edges (four triangles on one edge); the surface must still
    // be closed: every directed edge matched by its reverse, every edge used an even number.
    let g = random_blob([11, 9, 8], 5);
    let path = dir.path().join("blob.glb");
    glb::write_glb(&g, &path).unwrap();
    let meshes = read_glb(&path);
    let (edges, balanced) = edge_use(&meshes[0]);
    assert!(balanced && edges.values().all(|n| n % 2 == 0));
    assert!((area_in_faces(&meshes[0]) - exposed_faces(&g) as f64).abs() < 1e-3);
}

#[test]
fn glb_stands_on_the_floor_y_up_with_linear_colours() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("creature.glb");
    let g = creature();
    glb::write_glb(&g, &path).unwrap();
    let m = &read_glb(&path)[0];
    let s = VOXEL_SIZE;
    let axis = |a: usize| m.positions.iter().map(move |p| p[a]);
    let bounds = |a: usize| {
        (axis(a).fold(f32::INFINITY, f32::min), axis(a).fold(f32::NEG_INFINITY, f32::max))
    };
    // In a 12 x 10 x 16 grid centred on (6, 5): voxels fill x 0..10 (glTF x -6..4), z 0..15
    // (glTF y, height) and y 2..10 (glTF z = -(y - 5): -5..3).
    let close = |a: f32, b: f32| (a - b).abs() < 1e-5;
    let (x, y, z) = (bounds(0), bounds(1), bounds(2));
    assert!(close(x.0, -6.0 * s) && close(x.1, 4.0 * s), "{x:?}");
    assert!(close(y.0, 0.0) && close(y.1, 15.0 * s), "{y:?}");
    assert!(close(z.0, -5.0 * s) && close(z.1, 3.0 * s), "{z:?}");
    // The head sits forward along voxgen +y, which is glTF -z.
    let head_top = m.positions.iter().filter(|p| close(p[1], 15.0 * s));
    assert!(head_top.clone().all(|p| p[2] <= -s + 1e-5), "head not at -z");
    // The normals are unit axes; the colours are the grid's, in linear light.
    assert!(m.normals.iter().all(|n| n.iter().map(|v| v * v).sum::<f32>() == 1.0));
    let linear = |rgb: [u8; 3]| rgb.map(|c| (srgb_to_linear(c) as f32).to_bits());
    let want: BTreeSet<_> = g.voxels().map(|(_, rgb)| linear(rgb)).collect();
    let got: BTreeSet<_> = m.colors.iter().map(|c| c.map(f32::to_bits)).collect();
    assert_eq!(got, want);
}

#[test]
fn glb_scene_has_a_named_node_per_creature_in_a_row() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scene.glb");
    let creatures = scene_creatures();
    glb::write_glb_scene(&creatures, &path).unwrap();
    let meshes = read_glb(&path);
    let names: Vec<_> = meshes.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["alpha", "beta", "gamma"]);
    // In a row along +x on the floor, widths plus at least the gap apart.
    for pair in meshes.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let max_a = a.positions.iter().map(|p| p[0]).fold(f32::MIN, f32::max) + a.translation[0];
        let min_b = b.positions.iter().map(|p| p[0]).fold(f32::MAX, f32::min) + b.translation[0];
        assert!(min_b - max_a >= SCENE_GAP as f32 * VOXEL_SIZE - 1e-5, "{max_a} {min_b}");
        assert_eq!(a.translation[1], 0.0);
        // Footprint centres stay on the voxel lattice, so odd depths shift by half a voxel.
        assert!((a.translation[2] - b.translation[2]).abs() <= VOXEL_SIZE / 2.0 + 1e-6);
    }
    for (m, (_, g)) in meshes.iter().zip(&creatures) {
        assert!((area_in_faces(m) - exposed_faces(g) as f64).abs() < 1e-3);
    }
}

// ---------------------------------------------------------------------------------------------
// goxel

/// goxel and xvfb-run when both are installed; otherwise prints why and returns false.
fn goxel_available(test: &str) -> bool {
    let found = |tool: &str| {
        std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
    };
    if found("goxel") && found("xvfb-run") {
        return true;
    }
    println!("skipping {test}: goxel or xvfb-run missing (apt-get install -y goxel xvfb)");
    false
}

/// goxel's `.txt` export: `X Y Z RRGGBB` lines.
fn read_goxel_txt(path: &Path) -> Vec<([i64; 3], [u8; 3])> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let p = [0, 1, 2].map(|k| f[k].parse::<i64>().unwrap());
            let c = u32::from_str_radix(f[3], 16).unwrap();
            (p, [(c >> 16) as u8, (c >> 8) as u8, c as u8])
        })
        .collect()
}

/// Shifts positions so the smallest coordinate on each axis is 0 (goxel recentres models).
fn normalized(
    voxels: impl IntoIterator<Item = ([i64; 3], [u8; 3])>,
) -> BTreeSet<([i64; 3], [u8; 3])> {
    let voxels: Vec<_> = voxels.into_iter().collect();
    let lo = [0, 1, 2].map(|a| voxels.iter().map(|(p, _)| p[a]).min().unwrap_or(0));
    voxels.into_iter().map(|(p, c)| ([0, 1, 2].map(|a| p[a] - lo[a]), c)).collect()
}

/// Runs goxel on `vox_path` and returns the voxels of its `.txt` export.
fn goxel_export(vox_path: &Path) -> Vec<([i64; 3], [u8; 3])> {
    let txt_path = vox_path.with_extension("txt");
    let out = Command::new("xvfb-run")
        .args(["-a", "goxel", "--export"])
        .arg(&txt_path)
        .arg(vox_path)
        .current_dir(vox_path.parent().unwrap())
        .output()
        .unwrap();
    assert!(
        txt_path.is_file(),
        "goxel wrote nothing: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    read_goxel_txt(&txt_path)
}

#[test]
fn goxel_opens_the_vox_with_the_same_voxels_and_colours() {
    if !goxel_available("goxel_opens_the_vox_with_the_same_voxels_and_colours") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("creature.vox");
    let g = creature();
    vox::write_vox(&g, &path).unwrap();
    let got = normalized(goxel_export(&path));
    let want = normalized(g.voxels().map(|(p, c)| (p.map(|v| v as i64), c)));
    assert_eq!(got.len(), g.count());
    assert_eq!(got, want);
}

#[test]
fn goxel_places_scene_creatures_apart_on_the_floor() {
    if !goxel_available("goxel_places_scene_creatures_apart_on_the_floor") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scene.vox");
    let creatures = scene_creatures(); // no colour is shared between two creatures
    vox::write_vox_scene(&creatures, &path).unwrap();
    let world = goxel_export(&path);
    assert_eq!(world.len(), creatures.iter().map(|(_, g)| g.count()).sum::<usize>());

    // goxel applies the scene translations: each creature must be its grid shifted by one offset.
    let mut boxes = Vec::new();
    for (name, g) in &creatures {
        let colours: BTreeSet<[u8; 3]> = g.voxels().map(|(_, c)| c).collect();
        let mine: BTreeSet<_> =
            world.iter().filter(|(_, c)| colours.contains(c)).copied().collect();
        let (first, rgb) = g.voxels().next().unwrap();
        let anchor = mine.iter().find(|(_, c)| *c == rgb).unwrap().0;
        let offset = [0, 1, 2].map(|a| anchor[a] - first[a] as i64);
        let expect: BTreeSet<_> =
            g.voxels().map(|(p, c)| ([0, 1, 2].map(|a| p[a] as i64 + offset[a]), c)).collect();
        assert_eq!(mine, expect, "{name}");
        let dims = g.dims().map(|d| d as i64);
        boxes.push((offset, [0, 1, 2].map(|a| offset[a] + dims[a])));
    }
    for (k, (lo, hi)) in boxes.iter().enumerate() {
        assert_eq!(lo[2], 0, "creature {k} is not on the floor");
        for (lo2, hi2) in &boxes[k + 1..] {
            let gap = SCENE_GAP as i64;
            assert!((0..2).any(|a| hi[a] + gap <= lo2[a] || hi2[a] + gap <= lo[a]));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Corpus round trip

/// A dot_vox model as a grid, colours looked up in the file's palette.
fn model_grid(data: &dot_vox::DotVoxData, model: &dot_vox::Model) -> Option<VoxelGrid> {
    let dims = [model.size.x, model.size.y, model.size.z].map(|d| d as usize);
    let mut g = VoxelGrid::new(dims).ok()?;
    for v in &model.voxels {
        let c = data.palette[usize::from(v.i)];
        g.set(v.x.into(), v.y.into(), v.z.into(), Some([c.r, c.g, c.b]));
    }
    Some(g)
}

#[test]
fn corpus_vox_files_round_trip_through_our_writer() {
    let Some(corpus) = corpus("corpus_vox_files_round_trip_through_our_writer") else { return };
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&corpus)
        .into_iter()
        .flatten()
        .map(|e| e.into_path())
        .filter(|p| p.extension() == Some("vox".as_ref()))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .vox files under {}", corpus.display());
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for file in &files {
        let Ok(data) = dot_vox::load(file.to_str().unwrap()) else {
            println!("{}: dot_vox cannot read it, skipped", file.display());
            continue;
        };
        let creatures: Vec<(String, VoxelGrid)> = data
            .models
            .iter()
            .enumerate()
            .filter_map(|(k, m)| Some((format!("model{k}"), model_grid(&data, m)?)))
            .filter(|(_, g)| g.count() > 0)
            .collect();
        if creatures.is_empty() {
            println!("{}: no voxels, skipped", file.display());
            continue;
        }
        let out = dir.path().join("round.vox");
        vox::write_vox_scene(&creatures, &out).unwrap();
        let back = dot_vox::load(out.to_str().unwrap()).unwrap();
        assert_eq!(back.palette.len(), 256);
        assert_eq!(back.models.len(), creatures.len());
        for (m, (_, g)) in back.models.iter().zip(&creatures) {
            let read = model_grid(&back, m).unwrap();
            // Exact when the file has at most 255 colours (every MagicaVoxel file does).
            assert_eq!(&read, g, "{}", file.display());
        }
        checked += 1;
        println!("{}: {} models round-tripped", file.display(), creatures.len());
    }
    assert!(checked > 0);
}
