//! Finding inputs under a folder and voxelizing them once per setting, with an on-disk cache.

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::format::atomic;
use crate::mesh::{self, Loaded};
use crate::voxel::{self, VoxelGrid, VoxelizeConfig};

/// Magic bytes opening a cached grid file.
const CACHE_MAGIC: &[u8; 8] = b"VXGCACH1";

/// One shape of a dataset: a name derived from its path and its voxels.
#[derive(Clone, Debug)]
pub struct Shape {
    /// The input file.
    pub path: PathBuf,
    /// The voxelized shape.
    pub grid: VoxelGrid,
}

/// Reads one input file (mesh or `.vox`) and fits it into a grid.
///
/// `root` is the folder the file's references (MTL, textures, buffers) must stay inside.
pub fn load_grid(path: &Path, root: &Path, cfg: &VoxelizeConfig) -> Result<VoxelGrid> {
    cfg.validate()?;
    match mesh::load(path, root)? {
        Loaded::Mesh(mesh) => voxel::voxelize(&mesh, cfg),
        Loaded::Voxels(voxels) => voxel::fit_voxels(&voxels, cfg),
    }
}

/// Every input file (`mesh::is_input`) under `dir`, searched recursively, in a stable order.
/// Hidden files and folders (names starting with `.`) are skipped.
pub fn collect_inputs(dir: &Path) -> Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Err(Error::io(dir, std::io::Error::other("not a folder")));
    }
    let mut found = Vec::new();
    let walker = walkdir::WalkDir::new(dir).sort_by_file_name().into_iter();
    let visible = walker.filter_entry(|e| e.depth() == 0 || !is_hidden(e.file_name()));
    for entry in visible {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(dir).to_path_buf();
            Error::io(path, e.into())
        })?;
        if entry.file_type().is_file() && mesh::is_input(entry.path()) {
            found.push(entry.into_path());
        }
    }
    Ok(found)
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.to_string_lossy().starts_with('.')
}

/// Voxelizes every input under `data_dir`, reusing grids cached in `cache_dir` when the file
/// and the settings are unchanged. Files that cannot be read are logged and skipped.
pub fn load_dataset(data_dir: &Path, cfg: &VoxelizeConfig, cache_dir: &Path) -> Result<Vec<Shape>> {
    cfg.validate()?;
    fs::create_dir_all(cache_dir).map_err(|e| Error::io(cache_dir, e))?;
    let mut shapes = Vec::new();
    for path in collect_inputs(data_dir)? {
        match cached_grid(&path, data_dir, cfg, cache_dir) {
            Ok(grid) if grid.count() > 0 => shapes.push(Shape { path, grid }),
            Ok(_) => tracing::warn!("skipping {}: no voxels at this resolution", path.display()),
            Err(err) => tracing::warn!("skipping {err}"),
        }
    }
    Ok(shapes)
}

/// The grid for `path`, from the cache when its key matches, else voxelized and cached.
fn cached_grid(
    path: &Path,
    root: &Path,
    cfg: &VoxelizeConfig,
    cache_dir: &Path,
) -> Result<VoxelGrid> {
    let key = cache_key(path, cfg)?;
    let file = cache_dir.join(format!("{:016x}.grid", path_hash(path)));
    if let Some(grid) = read_cache(&file, key) {
        tracing::debug!("cache hit for {}", path.display());
        return Ok(grid);
    }
    let started = std::time::Instant::now();
    let grid = load_grid(path, root, cfg)?;
    tracing::info!(
        "voxelized {} ({} voxels, {:.2} s)",
        path.display(),
        grid.count(),
        started.elapsed().as_secs_f32()
    );
    atomic::write_bytes(&file, &encode_cache(&grid, key))?;
    Ok(grid)
}

/// A key that changes when the file, its size or time, the settings or voxgen's version do.
fn cache_key(path: &Path, cfg: &VoxelizeConfig) -> Result<u64> {
    let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let mut h = DefaultHasher::new();
    env!("CARGO_PKG_VERSION").hash(&mut h);
    meta.len().hash(&mut h);
    meta.modified().ok().hash(&mut h);
    (cfg.resolution, cfg.margin, cfg.shell).hash(&mut h);
    Ok(h.finish())
}

fn path_hash(path: &Path) -> u64 {
    let mut h = DefaultHasher::new();
    path.hash(&mut h);
    h.finish()
}

/// Cache layout: magic, key (u64 LE), three u16 LE edges, then one byte of occupancy and three
/// of sRGB per cell, x-fastest.
fn encode_cache(grid: &VoxelGrid, key: u64) -> Vec<u8> {
    let cells = grid.to_cells();
    let mut out = Vec::with_capacity(22 + cells.len() * 4);
    out.extend_from_slice(CACHE_MAGIC);
    out.extend_from_slice(&key.to_le_bytes());
    for d in grid.dims() {
        out.extend_from_slice(&(d as u16).to_le_bytes());
    }
    for cell in &cells {
        match cell {
            Some([r, g, b]) => out.extend_from_slice(&[1, *r, *g, *b]),
            None => out.extend_from_slice(&[0; 4]),
        }
    }
    out
}

/// Decodes a cache file; `None` when it is missing, stale or damaged (then it is rebuilt).
fn read_cache(file: &Path, key: u64) -> Option<VoxelGrid> {
    let bytes = fs::read(file).ok()?;
    let header = bytes.get(..22)?;
    if &header[..8] != CACHE_MAGIC || u64::from_le_bytes(header[8..16].try_into().ok()?) != key {
        return None;
    }
    let edge = |i: usize| u16::from_le_bytes([header[16 + 2 * i], header[17 + 2 * i]]) as usize;
    let dims = [edge(0), edge(1), edge(2)];
    let body = &bytes[22..];
    if body.len() != dims.iter().product::<usize>() * 4 {
        return None;
    }
    let cells: Vec<_> = body
        .chunks_exact(4)
        .map(|chunk| (chunk[0] != 0).then_some([chunk[1], chunk[2], chunk[3]]))
        .collect();
    VoxelGrid::from_cells(dims, &cells).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_round_trip_and_stale_key() {
        let dir = tempfile::tempdir().unwrap();
        let mut g = VoxelGrid::cube(8).unwrap();
        g.set(1, 2, 3, Some([10, 20, 30]));
        let file = dir.path().join("a.grid");
        atomic::write_bytes(&file, &encode_cache(&g, 42)).unwrap();
        assert_eq!(read_cache(&file, 42), Some(g));
        assert_eq!(read_cache(&file, 43), None);
    }
}
