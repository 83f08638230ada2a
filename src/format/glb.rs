//! Binary glTF (`.glb`) writer: the greedily merged, watertight voxel surface with vertex colours.
//!
//! Frame: glTF is Y-up, so a voxgen point `(x, y, z)` becomes `(x, z, -y)` (a proper rotation,
//! windings are kept). One voxel is [`VOXEL_SIZE`] metres. Each creature's origin is the centre of
//! its grid's footprint on the floor, so creatures stand on `y = 0` in viewers and Blender.
//! Colours are written per vertex as linear float RGB (`COLOR_0`) under a white material, as
//! glTF asks; normals are per face. The JSON is built with `gltf-json`; the GLB container (header,
//! JSON chunk padded with spaces, BIN chunk padded with zeros) is packed here.

use std::collections::BTreeMap;
use std::path::Path;

use gltf_json as json;
use json::validation::{Checked, USize64};
use json::{accessor, buffer, material, mesh, Index};

use crate::error::{Error, Result};
use crate::format::greedy::{self, Surface};
use crate::format::palette::srgb_to_linear;
use crate::format::{atomic, ensure_filled, ensure_scene_filled, scene_offsets};
use crate::voxel::VoxelGrid;

/// Edge of one voxel in metres (a 32-voxel creature is 1.6 m tall).
pub const VOXEL_SIZE: f32 = 0.05;

/// GLB magic `glTF`, container version and chunk types, all little-endian.
const GLB_MAGIC: u32 = 0x4654_6C67;
const GLB_VERSION: u32 = 2;
const CHUNK_JSON: u32 = 0x4E4F_534A;
const CHUNK_BIN: u32 = 0x004E_4942;

/// Writes `grid` as a `.glb` file with one node and one mesh.
///
/// Fails with [`Error::Empty`] when the grid holds no voxel.
pub fn write_glb(grid: &VoxelGrid, path: &Path) -> Result<()> {
    ensure_filled(grid, path)?;
    let mut doc = Document::default();
    let name: String =
        path.file_stem().map_or_else(|| "voxels".into(), |s| s.to_string_lossy().into());
    let mesh = doc.add_mesh(&name, grid);
    doc.add_node(name, mesh, [0.0; 3]);
    let bytes = doc.into_glb(path)?;
    atomic::write_bytes(path, &bytes)?;
    tracing::info!("wrote {} ({} voxels, {} bytes)", path.display(), grid.count(), bytes.len());
    Ok(())
}

/// Writes several creatures into one `.glb` file: a named node and mesh per creature, in a row
/// along +X with [`SCENE_GAP`](crate::format::SCENE_GAP) voxels between neighbours.
///
/// A creature without voxels keeps its node but gets no mesh. Fails with [`Error::Empty`] when
/// there are no creatures or none has a voxel.
pub fn write_glb_scene(creatures: &[(String, VoxelGrid)], path: &Path) -> Result<()> {
    ensure_scene_filled(creatures, path)?;
    let dims: Vec<[usize; 3]> = creatures.iter().map(|(_, g)| g.dims()).collect();
    let offsets = scene_offsets(&dims, creatures.len());
    let mut doc = Document::default();
    for ((name, grid), at) in creatures.iter().zip(&offsets) {
        let mesh = doc.add_mesh(name, grid);
        // The node sits at the centre of the creature's footprint, on the floor.
        let [nx, ny, _] = grid.dims().map(|d| d as f64);
        let centre = [at[0] as f64 + nx / 2.0, at[1] as f64 + ny / 2.0, 0.0];
        doc.add_node(name.clone(), mesh, to_gltf(centre));
    }
    let bytes = doc.into_glb(path)?;
    atomic::write_bytes(path, &bytes)?;
    tracing::info!(
        "wrote {} ({} creatures, {} bytes)",
        path.display(),
        creatures.len(),
        bytes.len()
    );
    Ok(())
}

/// A voxgen point in voxels to glTF metres: `(x, y, z)` → `(x, z, -y)` times [`VOXEL_SIZE`].
fn to_gltf(p: [f64; 3]) -> [f32; 3] {
    let s = f64::from(VOXEL_SIZE);
    y_up(p.map(|c| c * s))
}

/// Turns a voxgen vector into glTF's Y-up frame: `(x, y, z)` → `(x, z, -y)`.
fn y_up(p: [f64; 3]) -> [f32; 3] {
    // Adding 0.0 turns -0.0 into 0.0 so bounds and normals read cleanly.
    [p[0], p[2], -p[1]].map(|v| v as f32 + 0.0)
}

/// The glTF document being built and its binary buffer.
#[derive(Default)]
struct Document {
    root: json::Root,
    bin: Vec<u8>,
    material: Option<Index<json::Material>>,
}

impl Document {
    /// Adds the grid's surface as a mesh of one primitive; `None` when it has no faces.
    fn add_mesh(&mut self, name: &str, grid: &VoxelGrid) -> Option<Index<json::Mesh>> {
        let surface = greedy::surface(grid);
        if surface.indices.is_empty() {
            return None;
        }
        let positions = positions(&surface, grid.dims());
        let mut attributes = BTreeMap::new();
        let pos = self.add_vec3(&positions, true);
        attributes.insert(Checked::Valid(mesh::Semantic::Positions), pos);
        let normals: Vec<[f32; 3]> =
            surface.normals.iter().map(|n| y_up(n.map(f64::from))).collect();
        attributes.insert(Checked::Valid(mesh::Semantic::Normals), self.add_vec3(&normals, false));
        let colors: Vec<[f32; 3]> =
            surface.colors.iter().map(|c| c.map(|v| srgb_to_linear(v) as f32)).collect();
        attributes.insert(Checked::Valid(mesh::Semantic::Colors(0)), self.add_vec3(&colors, false));
        let indices = self.add_indices(&surface.indices, positions.len());
        let material = Some(self.material());
        let primitive = mesh::Primitive {
            attributes,
            extensions: None,
            extras: Default::default(),
            indices: Some(indices),
            material,
            mode: Checked::Valid(mesh::Mode::Triangles),
            targets: None,
        };
        Some(self.root.push(json::Mesh {
            extensions: None,
            extras: Default::default(),
            name: Some(name.to_string()),
            primitives: vec![primitive],
            weights: None,
        }))
    }

    /// The one white, non-metallic material every primitive shares; its colour comes from
    /// `COLOR_0`, which glTF multiplies into the base colour.
    fn material(&mut self) -> Index<json::Material> {
        if let Some(m) = self.material {
            return m;
        }
        let pbr = material::PbrMetallicRoughness {
            base_color_factor: material::PbrBaseColorFactor([1.0; 4]),
            metallic_factor: material::StrengthFactor(0.0),
            roughness_factor: material::StrengthFactor(0.9),
            ..Default::default()
        };
        let m = self.root.push(json::Material {
            name: Some("voxel".into()),
            pbr_metallic_roughness: pbr,
            ..Default::default()
        });
        self.material = Some(m);
        m
    }

    /// Adds a node for `mesh` (if any) at `translation` and lists it in the scene.
    fn add_node(&mut self, name: String, mesh: Option<Index<json::Mesh>>, translation: [f32; 3]) {
        let translation = (translation != [0.0; 3]).then_some(translation);
        let node = self.root.push(json::Node {
            name: Some(name),
            mesh,
            translation,
            ..Default::default()
        });
        if self.root.scenes.is_empty() {
            let scene = self.root.push(json::Scene {
                extensions: None,
                extras: Default::default(),
                name: Some("voxgen".into()),
                nodes: Vec::new(),
            });
            self.root.scene = Some(scene);
        }
        self.root.scenes[0].nodes.push(node);
    }

    /// Appends `bytes` to the buffer as a view padded to 4 bytes.
    fn add_view(&mut self, bytes: &[u8], target: buffer::Target) -> Index<buffer::View> {
        let offset = self.bin.len();
        self.bin.extend_from_slice(bytes);
        self.bin.resize(self.bin.len().next_multiple_of(4), 0);
        self.root.push(buffer::View {
            buffer: Index::new(0),
            byte_length: USize64::from(bytes.len()),
            byte_offset: Some(USize64::from(offset)),
            byte_stride: None,
            name: None,
            target: Some(Checked::Valid(target)),
            extensions: None,
            extras: Default::default(),
        })
    }

    /// Adds float VEC3 vertex data; `bounds` adds the exact min and max glTF requires for
    /// positions.
    fn add_vec3(&mut self, data: &[[f32; 3]], bounds: bool) -> Index<json::Accessor> {
        let bytes: Vec<u8> = data.iter().flatten().flat_map(|v| v.to_le_bytes()).collect();
        let view = self.add_view(&bytes, buffer::Target::ArrayBuffer);
        let (min, max) = if bounds { vec3_bounds(data) } else { (None, None) };
        self.add_accessor(
            view,
            data.len(),
            accessor::ComponentType::F32,
            accessor::Type::Vec3,
            min,
            max,
        )
    }

    /// Adds triangle indices, as u16 when every index fits below the restart value 65535.
    fn add_indices(&mut self, indices: &[u32], vertices: usize) -> Index<json::Accessor> {
        let (bytes, component): (Vec<u8>, _) = if vertices < usize::from(u16::MAX) {
            let bytes = indices.iter().flat_map(|&i| (i as u16).to_le_bytes()).collect();
            (bytes, accessor::ComponentType::U16)
        } else {
            (indices.iter().flat_map(|i| i.to_le_bytes()).collect(), accessor::ComponentType::U32)
        };
        let view = self.add_view(&bytes, buffer::Target::ElementArrayBuffer);
        self.add_accessor(view, indices.len(), component, accessor::Type::Scalar, None, None)
    }

    /// Adds an accessor reading the whole of `view`.
    fn add_accessor(
        &mut self,
        view: Index<buffer::View>,
        count: usize,
        component: accessor::ComponentType,
        type_: accessor::Type,
        min: Option<json::Value>,
        max: Option<json::Value>,
    ) -> Index<json::Accessor> {
        self.root.push(json::Accessor {
            buffer_view: Some(view),
            byte_offset: None,
            count: USize64::from(count),
            component_type: Checked::Valid(accessor::GenericComponentType(component)),
            extensions: None,
            extras: Default::default(),
            type_: Checked::Valid(type_),
            min,
            max,
            name: None,
            normalized: false,
            sparse: None,
        })
    }

    /// Finishes the document and packs it into GLB bytes.
    fn into_glb(mut self, path: &Path) -> Result<Vec<u8>> {
        self.root.asset.generator = Some(format!("voxgen {}", env!("CARGO_PKG_VERSION")));
        self.root.push(json::Buffer {
            byte_length: USize64::from(self.bin.len()),
            name: None,
            uri: None,
            extensions: None,
            extras: Default::default(),
        });
        let json = self.root.to_vec().map_err(|e| Error::io(path, std::io::Error::other(e)))?;
        pack_glb(json, self.bin, path)
    }
}

/// Vertex positions in glTF metres, centred on the grid's footprint (half-voxel input units).
fn positions(surface: &Surface, dims: [usize; 3]) -> Vec<[f32; 3]> {
    let [nx, ny, _] = dims.map(|d| d as f64);
    let half = |p: [i32; 3]| p.map(|c| f64::from(c) / 2.0);
    surface
        .positions
        .iter()
        .map(|&p| {
            let [x, y, z] = half(p);
            to_gltf([x - nx / 2.0, y - ny / 2.0, z])
        })
        .collect()
}

/// Component-wise min and max, written as the exact doubles of the f32 values.
fn vec3_bounds(data: &[[f32; 3]]) -> (Option<json::Value>, Option<json::Value>) {
    let mut min = [f32::INFINITY; 3];
    let mut max = [f32::NEG_INFINITY; 3];
    for p in data {
        for a in 0..3 {
            min[a] = min[a].min(p[a]);
            max[a] = max[a].max(p[a]);
        }
    }
    let value = |v: [f32; 3]| json::Value::from(v.map(f64::from).to_vec());
    (Some(value(min)), Some(value(max)))
}

/// The GLB container: 12-byte header, JSON chunk padded with spaces, BIN chunk padded with zeros.
fn pack_glb(mut json: Vec<u8>, mut bin: Vec<u8>, path: &Path) -> Result<Vec<u8>> {
    json.resize(json.len().next_multiple_of(4), b' ');
    bin.resize(bin.len().next_multiple_of(4), 0);
    let total = 12 + 8 + json.len() + 8 + bin.len();
    let too_big = || Error::invalid("glb size", format!("{}: {total} bytes", path.display()));
    let word = |n: usize| u32::try_from(n).map(u32::to_le_bytes).map_err(|_| too_big());
    let mut out = Vec::with_capacity(total);
    out.extend(GLB_MAGIC.to_le_bytes());
    out.extend(GLB_VERSION.to_le_bytes());
    out.extend(word(total)?);
    out.extend(word(json.len())?);
    out.extend(CHUNK_JSON.to_le_bytes());
    out.extend(json);
    out.extend(word(bin.len())?);
    out.extend(CHUNK_BIN.to_le_bytes());
    out.extend(bin);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_map_z_up_to_y_up() {
        let s = VOXEL_SIZE;
        assert_eq!(to_gltf([1.0, 0.0, 0.0]), [s, 0.0, 0.0]);
        assert_eq!(to_gltf([0.0, 1.0, 0.0]), [0.0, 0.0, -s]);
        assert_eq!(to_gltf([0.0, 0.0, 1.0]), [0.0, s, 0.0]);
        assert!(to_gltf([0.0; 3]).iter().all(|v| v.is_sign_positive()));
    }

    #[test]
    fn glb_container_is_aligned_and_sized() {
        let out = pack_glb(b"{}".to_vec(), vec![1, 2, 3, 4, 5], Path::new("x.glb")).unwrap();
        assert_eq!(out.len(), 12 + 8 + 4 + 8 + 8);
        assert_eq!(&out[0..4], b"glTF");
        assert_eq!(u32::from_le_bytes(out[8..12].try_into().unwrap()) as usize, out.len());
        assert_eq!(&out[20..24], b"{}  ");
        assert_eq!(&out[28..32], b"BIN\0");
        assert_eq!(&out[32..], &[1, 2, 3, 4, 5, 0, 0, 0]);
    }

    #[test]
    fn footprint_centre_is_the_origin_on_the_floor() {
        let mut g = VoxelGrid::new([2, 4, 3]).unwrap();
        g.set(0, 0, 0, Some([1, 1, 1]));
        let p = positions(&greedy::surface(&g), g.dims());
        let (min, max) = vec3_bounds(&p);
        let s = f64::from(VOXEL_SIZE);
        let expect = |v: [f64; 3]| json::Value::from(v.map(|c| f64::from((c * s) as f32)).to_vec());
        // Voxel (0, 0, 0) spans x -1..0, y -2..-1 (glTF z 1..2), z 0..1 (glTF y) in voxels.
        assert_eq!(min, Some(expect([-1.0, 0.0, 1.0])));
        assert_eq!(max, Some(expect([0.0, 1.0, 2.0])));
    }
}
