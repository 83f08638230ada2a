//! MagicaVoxel `.vox` writer: one model, or a scene of named creatures with one shared palette.
//!
//! Both voxgen and MagicaVoxel are Z-up and right-handed, so a voxel `(x, y, z)` is written as is
//! and creatures stand upright. Each model keeps its grid's full size rather than being cropped
//! to the filled voxels, so creatures of one run share a frame (the floor is `z = 0` of the grid).
//! Colours are quantized to at most 255 palette entries (exact when a file has no more distinct
//! colours than that, see [`palette::quantize`]) and the `RGBA` chunk always holds 256 entries.

use std::path::Path;

use dot_vox::{Color, DotVoxData, Frame, Layer, Model, SceneNode, ShapeModel, Size, Voxel};

use crate::error::{Error, Result};
use crate::format::palette::{self, Palette, MAX_VOX_COLORS};
use crate::format::{atomic, ensure_filled, ensure_scene_filled, scene_offsets};
use crate::voxel::VoxelGrid;

/// File version written in the header (the one dot_vox and MagicaVoxel 0.99 use).
const VOX_VERSION: u32 = 150;

/// Entries in a MagicaVoxel `RGBA` chunk; strict readers reject any other count.
const PALETTE_ENTRIES: usize = 256;

/// Colour of the palette entries no voxel uses.
const UNUSED_ENTRY: Color = Color { r: 0, g: 0, b: 0, a: 255 };

/// Writes `grid` as a single-model `.vox` file (no scene graph; MagicaVoxel centres the model).
///
/// Fails with [`Error::Empty`] when the grid holds no voxel.
pub fn write_vox(grid: &VoxelGrid, path: &Path) -> Result<()> {
    ensure_filled(grid, path)?;
    let palette = palette::quantize(grid.voxels().map(|(_, rgb)| rgb), MAX_VOX_COLORS);
    let data = DotVoxData {
        version: VOX_VERSION,
        index_map: Vec::new(),
        models: vec![model(grid, &palette, path)?],
        palette: palette_chunk(&palette),
        materials: Vec::new(),
        scenes: Vec::new(),
        layers: Vec::new(),
    };
    save(&data, path)?;
    tracing::info!(
        "wrote {} ({} voxels, {} colours)",
        path.display(),
        grid.count(),
        palette.colors().len()
    );
    Ok(())
}

/// Writes several creatures into one `.vox` file, side by side on the floor.
///
/// The scene graph is root `nTRN` → `nGRP` → one `nTRN` per creature (named after it, translated
/// to its cell) → `nSHP` → its model. Creatures are laid out in a near-square grid of equal
/// cells (the largest creature plus [`SCENE_GAP`](crate::format::SCENE_GAP) voxels), centred on
/// the origin, all standing on `z = 0`. One palette serves every model, and all sit on layer 0.
/// Creatures without voxels keep their slot as empty models; fails with [`Error::Empty`] when
/// there are no creatures or none has a voxel.
pub fn write_vox_scene(creatures: &[(String, VoxelGrid)], path: &Path) -> Result<()> {
    ensure_scene_filled(creatures, path)?;
    let all_colors = creatures.iter().flat_map(|(_, g)| g.voxels().map(|(_, rgb)| rgb));
    let palette = palette::quantize(all_colors, MAX_VOX_COLORS);
    let models =
        creatures.iter().map(|(_, g)| model(g, &palette, path)).collect::<Result<Vec<_>>>()?;
    let data = DotVoxData {
        version: VOX_VERSION,
        index_map: Vec::new(),
        models,
        palette: palette_chunk(&palette),
        materials: Vec::new(),
        scenes: scene_graph(creatures),
        layers: vec![Layer { attributes: [("_name".into(), "creatures".into())].into() }],
    };
    save(&data, path)?;
    tracing::info!(
        "wrote {} ({} creatures, {} colours)",
        path.display(),
        creatures.len(),
        palette.colors().len()
    );
    Ok(())
}

/// Serializes `data` through the atomic writer.
fn save(data: &DotVoxData, path: &Path) -> Result<()> {
    atomic::write_atomic(path, |w| {
        let mut w = w;
        data.write_vox(&mut w).map_err(|e| Error::io(path, e))
    })
}

/// One model of the grid's full size holding its voxels as palette indices.
fn model(grid: &VoxelGrid, palette: &Palette, path: &Path) -> Result<Model> {
    let [nx, ny, nz] = grid.dims().map(|d| d as u32);
    let voxels = grid
        .voxels()
        .map(|([x, y, z], rgb)| voxel([x, y, z], rgb, palette, path))
        .collect::<Result<Vec<_>>>()?;
    Ok(Model { size: Size { x: nx, y: ny, z: nz }, voxels })
}

/// One voxel; coordinates are kept as is (both frames are Z-up).
fn voxel(at: [usize; 3], rgb: [u8; 3], palette: &Palette, path: &Path) -> Result<Voxel> {
    let coord = |c: usize| {
        u8::try_from(c).map_err(|_| Error::invalid("voxel coordinate", format!("{c} > 255")))
    };
    let i = palette
        .index_of(rgb)
        .filter(|&i| usize::from(i) < MAX_VOX_COLORS)
        .ok_or_else(|| Error::parse(path, format!("colour {rgb:?} missing from the palette")))?;
    // `Voxel::i` is 0-based: dot_vox stores `i + 1` in XYZI (1..=255, 0 meaning empty), and
    // MagicaVoxel reads XYZI index `k` from RGBA entry `k - 1`, i.e. entry `i` of our chunk.
    Ok(Voxel { x: coord(at[0])?, y: coord(at[1])?, z: coord(at[2])?, i })
}

/// The 256-entry `RGBA` chunk: palette entry `i` at position `i`, opaque black afterwards.
fn palette_chunk(palette: &Palette) -> Vec<Color> {
    let mut chunk: Vec<Color> =
        palette.colors().iter().map(|&[r, g, b]| Color { r, g, b, a: 255 }).collect();
    chunk.resize(PALETTE_ENTRIES, UNUSED_ENTRY);
    chunk
}

/// Node ids: 0 root transform, 1 group, then a transform (`2 + 2k`) and shape (`3 + 2k`) per
/// creature `k`.
fn scene_graph(creatures: &[(String, VoxelGrid)]) -> Vec<SceneNode> {
    let dims: Vec<[usize; 3]> = creatures.iter().map(|(_, g)| g.dims()).collect();
    let columns = (creatures.len() as f64).sqrt().ceil() as usize;
    let offsets = scene_offsets(&dims, columns);
    let root = SceneNode::Transform {
        attributes: Default::default(),
        frames: vec![Frame::new(Default::default())],
        child: 1,
        // The root transform belongs to no layer, as in MagicaVoxel's own files.
        layer_id: u32::MAX,
    };
    let children = (0..creatures.len() as u32).map(|k| 2 + 2 * k).collect();
    let mut nodes = vec![root, SceneNode::Group { attributes: Default::default(), children }];
    for (k, ((name, _), (d, at))) in creatures.iter().zip(dims.iter().zip(&offsets)).enumerate() {
        nodes.push(creature_transform(name, *d, *at, 3 + 2 * k as u32));
        let model = ShapeModel { model_id: k as u32, attributes: Default::default() };
        nodes.push(SceneNode::Shape { attributes: Default::default(), models: vec![model] });
    }
    nodes
}

/// A creature's transform node: MagicaVoxel places a model's centre voxel (`size / 2`, rounded
/// down) at `_t`, so the model's minimum corner lands on `at` and its floor on `z = 0`.
fn creature_transform(name: &str, dims: [usize; 3], at: [i64; 2], child: u32) -> SceneNode {
    let half = dims.map(|d| (d / 2) as i64);
    let t = format!("{} {} {}", at[0] + half[0], at[1] + half[1], half[2]);
    SceneNode::Transform {
        attributes: [("_name".to_string(), name.to_string())].into(),
        frames: vec![Frame::new([("_t".to_string(), t)].into())],
        child,
        layer_id: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid_with(voxels: &[([usize; 3], [u8; 3])], dims: [usize; 3]) -> VoxelGrid {
        let mut g = VoxelGrid::new(dims).unwrap();
        for &([x, y, z], rgb) in voxels {
            g.set(x, y, z, Some(rgb));
        }
        g
    }

    #[test]
    fn palette_chunk_is_always_256_entries() {
        let p = palette::quantize([[1, 2, 3], [4, 5, 6]], MAX_VOX_COLORS);
        let chunk = palette_chunk(&p);
        assert_eq!(chunk.len(), 256);
        assert_eq!(chunk[0], Color { r: 1, g: 2, b: 3, a: 255 });
        assert_eq!(chunk[1], Color { r: 4, g: 5, b: 6, a: 255 });
        assert_eq!(chunk[255], UNUSED_ENTRY);
    }

    #[test]
    fn written_file_loads_back_with_dot_vox() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.vox");
        let g = grid_with(&[([0, 0, 0], [10, 20, 30]), ([3, 1, 4], [200, 100, 0])], [4, 2, 5]);
        write_vox(&g, &path).unwrap();
        let data = dot_vox::load(path.to_str().unwrap()).unwrap();
        assert_eq!(data.models.len(), 1);
        assert_eq!(data.models[0].size, Size { x: 4, y: 2, z: 5 });
        assert_eq!(data.palette.len(), 256);
        let got: Vec<_> = data.models[0]
            .voxels
            .iter()
            .map(|v| ([v.x, v.y, v.z], data.palette[usize::from(v.i)]))
            .collect();
        assert_eq!(
            got,
            vec![
                ([0, 0, 0], Color { r: 10, g: 20, b: 30, a: 255 }),
                ([3, 1, 4], Color { r: 200, g: 100, b: 0, a: 255 })
            ]
        );
    }

    #[test]
    fn empty_grid_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.vox");
        let err = write_vox(&VoxelGrid::cube(3).unwrap(), &path).unwrap_err();
        assert!(err.to_string().ends_with("empty.vox: nothing to write: grid is empty"), "{err}");
        assert!(!path.exists());
        let err = write_vox_scene(&[], &path).unwrap_err();
        assert!(matches!(err, Error::Empty { .. }));
    }

    #[test]
    fn scene_files_are_byte_identical_across_runs() {
        let dir = tempfile::tempdir().unwrap();
        let cells: Vec<_> = (0..8000)
            .map(|i| Some([(i * 7) as u8, (i / 20) as u8, (i / 400 * 12) as u8]))
            .collect();
        let many = VoxelGrid::from_cells([20; 3], &cells).unwrap();
        let creatures = vec![("a".to_string(), many.clone()), ("b".to_string(), many)];
        let (p1, p2) = (dir.path().join("1.vox"), dir.path().join("2.vox"));
        write_vox_scene(&creatures, &p1).unwrap();
        write_vox_scene(&creatures, &p2).unwrap();
        assert_eq!(std::fs::read(&p1).unwrap(), std::fs::read(&p2).unwrap());
    }

    #[test]
    fn scene_translations_put_minimum_corners_on_the_layout() {
        let creatures: Vec<(String, VoxelGrid)> = (0..3)
            .map(|k| (format!("c{k}"), grid_with(&[([0, 0, 0], [k, k, k])], [5, 4, 7])))
            .collect();
        let nodes = scene_graph(&creatures);
        assert_eq!(nodes.len(), 2 + 2 * 3);
        let offsets = scene_offsets(&[[5, 4, 7]; 3], 2);
        for (k, at) in offsets.iter().enumerate() {
            let SceneNode::Transform { attributes, frames, child, .. } = &nodes[2 + 2 * k] else {
                panic!("node {} is not a transform", 2 + 2 * k);
            };
            assert_eq!(attributes["_name"], format!("c{k}"));
            assert_eq!(*child, 3 + 2 * k as u32);
            let t = frames[0].position().unwrap();
            assert_eq!([t.x - 2, t.y - 2, t.z - 3], [at[0] as i32, at[1] as i32, 0]);
        }
    }
}
