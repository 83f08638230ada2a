//! Readers for the input formats (OBJ + MTL, glTF / GLB, MagicaVoxel `.vox`).
//!
//! This is the only module that opens input paths, and the only one that decides whether a path
//! referenced from inside a file (MTL, texture, glTF URI) stays inside the folder it may read.

mod gltf;
mod image;
mod obj;
mod path;
mod types;
mod vox;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub use types::{
    linear_to_srgb, srgb_to_linear, Image, Loaded, Material, Mesh, TextureRef, Triangle, Voxels,
    Wrap,
};

/// The input formats, by file extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Obj,
    Gltf,
    Vox,
}

/// The format of `path`, from its extension (case-insensitive).
fn format_of(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "obj" => Some(Format::Obj),
        "gltf" | "glb" => Some(Format::Gltf),
        "vox" => Some(Format::Vox),
        _ => None,
    }
}

/// True when `path` names an input voxgen reads: `.obj`, `.gltf`, `.glb` or `.vox`, in any case.
pub fn is_input(path: &Path) -> bool {
    format_of(path).is_some()
}

/// Reads the mesh or voxel file at `path`.
///
/// Every file it references (MTL, textures, glTF buffers and images) must resolve inside `root`:
/// a buffer or MTL outside gives [`Error::PathEscape`], a texture outside is skipped with a
/// warning and the material's base colour is used. Positions come out Z-up, mesh colours linear.
pub fn load(path: &Path, root: &Path) -> Result<Loaded> {
    let format = format_of(path).ok_or_else(|| Error::Unsupported {
        path: path.to_path_buf(),
        feature: "file type (expected .obj, .gltf, .glb or .vox)".into(),
    })?;
    let loaded = match format {
        Format::Obj => Loaded::Mesh(finish(path, obj::load(path, root)?)?),
        Format::Gltf => Loaded::Mesh(finish(path, gltf::load(path, root)?)?),
        Format::Vox => Loaded::Voxels(vox::load(path)?),
    };
    match &loaded {
        Loaded::Mesh(mesh) => tracing::info!(
            "{}: {} triangles, {} materials, {} textures",
            path.display(),
            mesh.triangles.len(),
            mesh.materials.len(),
            mesh.images.len()
        ),
        Loaded::Voxels(voxels) => {
            tracing::info!("{}: {} voxels", path.display(), voxels.points.len())
        }
    }
    Ok(loaded)
}

/// The files `path` references that lie inside `root`, whether they exist yet or not: `mtllib`
/// files and their `map_Kd` textures for OBJ, external buffers and images for glTF. Paths are
/// absolute with symlinks resolved (as far as they exist), sorted, without duplicates. Best
/// effort: an unreadable file gives what could be found, never an error.
pub fn dependencies(path: &Path, root: &Path) -> Vec<PathBuf> {
    let mut deps = match format_of(path) {
        Some(Format::Obj) => obj::dependencies(path, root),
        Some(Format::Gltf) => gltf::dependencies(path, root),
        Some(Format::Vox) | None => Vec::new(),
    };
    deps.sort();
    deps.dedup();
    deps
}

/// Drops triangles with non-finite corners and refuses a mesh left with none.
fn finish(path: &Path, mut mesh: Mesh) -> Result<Mesh> {
    let before = mesh.triangles.len();
    mesh.triangles.retain(|t| t.positions.iter().flatten().all(|c| c.is_finite()));
    let dropped = before - mesh.triangles.len();
    if dropped > 0 {
        tracing::debug!("{}: dropped {dropped} triangles with non-finite corners", path.display());
    }
    if mesh.triangles.is_empty() {
        let what = if before == 0 { "no triangles" } else { "no triangles with finite corners" };
        return Err(Error::Empty { path: path.to_path_buf(), what: what.into() });
    }
    Ok(mesh)
}

/// Maps a Y-up point (OBJ, glTF) into voxgen's Z-up frame: `(x, y, z) -> (x, -z, y)`.
fn y_up_to_z_up([x, y, z]: [f32; 3]) -> [f32; 3] {
    [x, -z, y]
}

/// Reads a whole file, naming it in the error.
fn read_file(path: &Path) -> Result<Vec<u8>> {
    read_capped(path).map_err(|e| Error::io(path, e))
}

/// Largest file voxgen reads: a mesh, buffer, material library or texture (2 GiB; a mesh that
/// size holds tens of millions of triangles).
pub(crate) const MAX_FILE_BYTES: u64 = 2 << 30;

/// Reads a whole file, refusing one larger than [`MAX_FILE_BYTES`] before reading it.
pub(crate) fn read_capped(path: &Path) -> std::io::Result<Vec<u8>> {
    let size = std::fs::metadata(path)?.len();
    if size > MAX_FILE_BYTES {
        let mib = MAX_FILE_BYTES >> 20;
        return Err(std::io::Error::other(format!(
            "{} MiB, more than the {mib} MiB voxgen reads",
            size >> 20
        )));
    }
    std::fs::read(path)
}

/// The folder holding `path` (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_over_the_cap_are_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.obj");
        // Sparse: takes no disk space and is never read.
        std::fs::File::create(&path).unwrap().set_len(MAX_FILE_BYTES + 1).unwrap();
        let err = load(&path, dir.path()).unwrap_err().to_string();
        assert!(err.ends_with("huge.obj: 2048 MiB, more than the 2048 MiB voxgen reads"), "{err}");
    }

    #[test]
    fn inputs_are_recognised_by_extension_in_any_case() {
        for name in ["a.obj", "b.GLTF", "c.Glb", "d.VOX", "dir.x/e.obj"] {
            assert!(is_input(Path::new(name)), "{name}");
        }
        for name in ["a.mtl", "b.png", "c", "obj", ".obj.bak"] {
            assert!(!is_input(Path::new(name)), "{name}");
        }
    }

    #[test]
    fn y_up_points_turn_into_z_up() {
        assert_eq!(y_up_to_z_up([1.0, 2.0, 3.0]), [1.0, -3.0, 2.0]);
        // Up stays up: +Y in the file is +Z here.
        assert_eq!(y_up_to_z_up([0.0, 1.0, 0.0]), [0.0, -0.0, 1.0]);
    }

    #[test]
    fn non_finite_triangles_are_dropped_and_empty_meshes_refused() {
        let tri = |p: f32| Triangle {
            positions: [[p, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            colors: None,
            uvs: None,
            material: 0,
        };
        let mesh = Mesh { triangles: vec![tri(0.0), tri(f32::NAN)], ..Mesh::default() };
        assert_eq!(finish(Path::new("m.obj"), mesh).unwrap().triangles.len(), 1);
        let mesh = Mesh { triangles: vec![tri(f32::INFINITY)], ..Mesh::default() };
        let err = finish(Path::new("m.obj"), mesh).unwrap_err().to_string();
        assert_eq!(err, "m.obj: no triangles with finite corners");
    }
}
