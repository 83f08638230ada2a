//! Writes voxgen's embedded default creatures (`assets/inbox`) and the benchmark mesh.
//!
//! ```text
//! cargo run --example make_creatures -- assets/inbox
//! cargo run --release --example make_creatures -- --bench-mesh bench/out/bench.obj
//! ```
//!
//! Every creature is a set of closed parts (ellipsoids, superellipsoids, capsules and tubes),
//! deterministic from a seed derived from its name, written Y-up, standing on y = 0 and facing
//! +Z. The formats are mixed so the demo exercises every reader: OBJ + MTL with `Kd` colours,
//! OBJ + MTL + PNG texture, OBJ with vertex colours, `.gltf` with an external `.bin`, with a
//! `data:` URI and with an external PNG, and `.glb` with `baseColorFactor`, `COLOR_0` and an
//! embedded PNG. After writing, each file is read back with `tobj` or `gltf` and checked to be
//! closed and to match the triangles and bounds that were generated.

mod bench;
mod body;
mod check;
mod creature;
mod gltf;
mod obj;
mod paint;
mod rng;
mod shape;
mod species;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use crate::creature::Creature;
use crate::gltf::{write_gltf, Container, GltfStyle};
use crate::obj::{write_obj, ObjStyle};
use crate::rng::Rng;

/// How one creature is written.
#[derive(Clone, Copy, Debug)]
enum Out {
    Obj(ObjStyle),
    Gltf(GltfStyle),
}

const OBJ: ObjStyle = ObjStyle { normals: false, vertex_colors: false, texture_dir: "" };
const OBJ_N: ObjStyle = ObjStyle { normals: true, ..OBJ };
const GLTF: GltfStyle =
    GltfStyle { container: Container::External, vertex_colors: false, hierarchy: false };
const GLB: GltfStyle = GltfStyle { container: Container::Glb, ..GLTF };

/// Builds one species from its seeded generator.
type Make = fn(&mut Rng) -> Creature;

/// Every default creature with the format it is written in.
const SPECIES: [(&str, Make, Out); 16] = [
    ("cat", species::cat, Out::Obj(OBJ_N)),
    ("frog", species::frog, Out::Obj(OBJ)),
    ("owl", species::owl, Out::Obj(OBJ_N)),
    ("pig", species::pig, Out::Obj(OBJ)),
    ("tiger", species::tiger, Out::Obj(OBJ)),
    ("leopard", species::leopard, Out::Obj(ObjStyle { texture_dir: "textures", ..OBJ_N })),
    ("ladybug", species::ladybug, Out::Obj(ObjStyle { vertex_colors: true, ..OBJ })),
    ("elephant", species::elephant, Out::Gltf(GLTF)),
    ("dragon", species::dragon, Out::Gltf(GltfStyle { hierarchy: true, ..GLTF })),
    ("fish", species::fish, Out::Gltf(GltfStyle { container: Container::DataUri, ..GLTF })),
    ("penguin", species::penguin, Out::Gltf(GLB)),
    ("bunny", species::bunny, Out::Gltf(GLB)),
    ("robot_dog", species::robot_dog, Out::Gltf(GLB)),
    ("chameleon", species::chameleon, Out::Gltf(GltfStyle { vertex_colors: true, ..GLB })),
    ("cow", species::cow, Out::Gltf(GLB)),
    ("giraffe", species::giraffe, Out::Gltf(GLTF)),
];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, path] if flag == "--bench-mesh" => {
            let c = bench::write_bench_mesh(Path::new(path))?;
            let back = check::read_obj(Path::new(path))?;
            check::compare(&c, &back, Path::new(path))?;
            println!("{path}: {} triangles, closed", back.triangles);
            Ok(())
        }
        [dir] if !dir.starts_with('-') => write_all(Path::new(dir)),
        _ => bail!("usage: make_creatures OUT_DIR | make_creatures --bench-mesh FILE.obj"),
    }
}

/// Builds, checks, writes and reads back every creature.
fn write_all(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    println!(
        "{:<10} {:<38} {:>5} {:>9} {:>9}",
        "creature", "format", "parts", "triangles", "bytes"
    );
    let (mut total_tris, mut total_bytes) = (0, 0);
    for (name, make, out) in SPECIES {
        let mut c = make(&mut Rng::from_name(name));
        c.stand_on_ground();
        check::check_creature(&c)?;
        let files = match out {
            Out::Obj(style) => write_obj(&c, dir, style)?,
            Out::Gltf(style) => write_gltf(&c, dir, style)?,
        };
        let main = main_file(&files).with_context(|| format!("{name}: no mesh file written"))?;
        let back = match out {
            Out::Obj(_) => check::read_obj(main)?,
            Out::Gltf(_) => check::read_gltf(main)?,
        };
        check::compare(&c, &back, main)?;
        let bytes: u64 = files.iter().map(|f| std::fs::metadata(f).map_or(0, |m| m.len())).sum();
        let format = describe(&c, out, &back);
        println!("{name:<10} {format:<38} {:>5} {:>9} {bytes:>9}", c.parts.len(), back.triangles);
        (total_tris, total_bytes) = (total_tris + back.triangles, total_bytes + bytes);
    }
    println!("all {} creatures closed; {total_tris} triangles, {total_bytes} bytes", SPECIES.len());
    Ok(())
}

/// The mesh file among those written (the one readers open).
fn main_file(files: &[PathBuf]) -> Option<&Path> {
    let is_mesh =
        |f: &&PathBuf| f.extension().is_some_and(|e| e == "obj" || e == "gltf" || e == "glb");
    files.iter().find(is_mesh).map(PathBuf::as_path)
}

/// A few words on how a creature was written, from what was read back.
fn describe(c: &Creature, out: Out, back: &check::ReadBack) -> String {
    let colour = match (back.colors, back.uvs, c.texture.is_some()) {
        (true, _, _) => "vertex colours",
        (false, true, true) => "texture",
        _ => "material colours",
    };
    let format = match out {
        Out::Obj(s) if s.normals => "obj+normals",
        Out::Obj(_) => "obj",
        Out::Gltf(s) if s.hierarchy => "gltf+bin, node tree",
        Out::Gltf(s) => match s.container {
            Container::External => "gltf+bin",
            Container::DataUri => "gltf data: uri",
            Container::Glb => "glb",
        },
    };
    format!("{format}, {colour}")
}
