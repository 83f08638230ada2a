//! glTF 2.0 reader (`.gltf` with external or `data:` resources, and `.glb`).
//!
//! The `gltf` crate parses and validates the document; buffers and images are resolved here so
//! that every external URI goes through the containment check, and accessors are read here too
//! (quantized, normalized and sparse data included) with every offset bounds-checked.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use glam::{Mat4, Quat, Vec3};
use gltf::accessor::{sparse::IndexType, DataType};
use gltf::json::validation::Validate;
use gltf::mesh::{Mode, Semantic};
use gltf::texture::WrappingMode;

use super::image::{self as tex, ImageCache};
use super::path::{self, Refused};
use super::types::{Material, Mesh, TextureRef, Triangle, Wrap};
use super::{parent_dir, read_file, y_up_to_z_up};
use crate::error::{Error, Result};

/// Required extensions that are decoded here, or that change nothing voxgen reads (lights,
/// shading models beyond the base colour, metadata).
const UNDERSTOOD_EXTENSIONS: &[&str] = &[
    "KHR_mesh_quantization",
    "EXT_mesh_gpu_instancing",
    "KHR_texture_transform",
    "KHR_lights_punctual",
    "KHR_materials_variants",
    "KHR_xmp_json_ld",
];

/// Most values one accessor may hold; larger counts are refused rather than allocated.
const MAX_ACCESSOR_VALUES: usize = 1 << 26;

/// Reads the glTF or GLB file at `path`; external buffers and images must lie inside `root`.
pub(crate) fn load(path: &Path, root: &Path) -> Result<Mesh> {
    let bytes = read_file(path)?;
    let gltf = open(path, &bytes)?;
    let buffers = load_buffers(path, root, &gltf)?;
    let mut builder = Builder::new(path, root, &gltf.document, &buffers);
    for (node, world) in scene_nodes(&gltf.document) {
        builder.node(&node, world)?;
    }
    Ok(builder.finish())
}

/// External buffers and images referenced by the glTF at `path` that lie inside `root`.
pub(crate) fn dependencies(path: &Path, root: &Path) -> Vec<PathBuf> {
    let Ok(bytes) = super::read_capped(path) else { return Vec::new() };
    let Ok(gltf) = gltf::Gltf::from_slice_without_validation(&bytes) else { return Vec::new() };
    // Read from the JSON directly: the document is not validated here, and the crate's views
    // assume valid indices.
    let json = gltf.document.as_json();
    let buffer_uris = json.buffers.iter().filter_map(|b| b.uri.as_deref());
    let image_uris = json.images.iter().filter_map(|i| i.uri.as_deref());
    buffer_uris
        .chain(image_uris)
        .filter(|uri| !uri.starts_with("data:"))
        .filter_map(|uri| path::resolve(root, parent_dir(path), &decode_uri(uri)).ok())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Opening and validating

/// Parses the document, refuses required extensions we cannot honour, then validates the rest.
fn open(path: &Path, bytes: &[u8]) -> Result<gltf::Gltf> {
    let gltf = gltf::Gltf::from_slice_without_validation(bytes)
        .map_err(|e| Error::parse(path, format!("not a readable gltf file ({e})")))?;
    let json = gltf.document.as_json();
    if let Some(ext) = json.extensions_required.iter().find(|e| !understood(e)) {
        return Err(Error::Unsupported {
            path: path.to_path_buf(),
            feature: format!("glTF extension {ext}"),
        });
    }
    let mut errors = Vec::new();
    json.validate(json, gltf::json::Path::new, &mut |at, error| errors.push((at(), error)));
    // Required extensions were judged above (the crate's own list is narrower than ours), and
    // accessor bounds, which exporters often leave out, are not needed to read the data.
    errors.retain(|(at, _)| {
        let at = at.as_str();
        !(at.starts_with("extensionsRequired") || at.ends_with(".min") || at.ends_with(".max"))
    });
    if let Some((at, error)) = errors.first() {
        let reason = error.to_string().to_lowercase();
        return Err(Error::parse(path, format!("invalid gltf: {reason} at {at}")));
    }
    Ok(gltf)
}

/// Whether a required extension is one we decode or may ignore.
fn understood(ext: &str) -> bool {
    UNDERSTOOD_EXTENSIONS.contains(&ext) || ext.starts_with("KHR_materials_")
}

/// Loads every buffer: the GLB binary chunk, a `data:` URI or a file inside `root`.
fn load_buffers(path: &Path, root: &Path, gltf: &gltf::Gltf) -> Result<Vec<Vec<u8>>> {
    let mut buffers = Vec::new();
    for buffer in gltf.buffers() {
        let index = buffer.index();
        let data = match buffer.source() {
            gltf::buffer::Source::Bin if index == 0 => gltf.blob.clone(),
            gltf::buffer::Source::Bin => None,
            gltf::buffer::Source::Uri(uri) => Some(read_uri(path, root, uri)?),
        };
        let data = match data {
            Some(data) => data,
            None if buffer.extension_value("EXT_meshopt_compression").is_some() => {
                return Err(Error::Unsupported {
                    path: path.to_path_buf(),
                    feature: "glTF extension EXT_meshopt_compression (no fallback data)".into(),
                })
            }
            None => return Err(Error::parse(path, format!("buffer {index} has no data"))),
        };
        if data.len() < buffer.length() {
            let reason =
                format!("buffer {index} holds {} bytes, {} declared", data.len(), buffer.length());
            return Err(Error::parse(path, reason));
        }
        buffers.push(data);
    }
    Ok(buffers)
}

/// Reads a buffer URI: a `data:` URI or a (percent-encoded) file path inside `root`.
fn read_uri(path: &Path, root: &Path, uri: &str) -> Result<Vec<u8>> {
    if uri.starts_with("data:") {
        return decode_data_uri(uri)
            .map_err(|reason| Error::parse(path, format!("buffer data uri: {reason}")));
    }
    let file = match path::resolve(root, parent_dir(path), &decode_uri(uri)) {
        Ok(file) => file,
        Err(Refused::Escape) => {
            return Err(Error::PathEscape {
                path: path.to_path_buf(),
                reference: uri.to_string(),
                root: root.to_path_buf(),
            })
        }
        Err(Refused::Invalid) => {
            return Err(Error::parse(path, format!("invalid buffer uri {uri:?}")))
        }
    };
    super::read_capped(&file).map_err(|e| Error::parse(path, format!("buffer {uri:?}: {e}")))
}

/// Percent-decodes a relative URI (spaces may also be written raw).
fn decode_uri(uri: &str) -> String {
    urlencoding::decode(uri).map_or_else(|_| uri.to_string(), |s| s.into_owned())
}

/// Decodes a `data:[mime][;base64],payload` URI.
fn decode_data_uri(uri: &str) -> Result<Vec<u8>, String> {
    let (header, payload) = uri.split_once(',').ok_or("missing ','")?;
    if header.ends_with(";base64") {
        let compact: String = payload.chars().filter(|c| !c.is_whitespace()).collect();
        base64::engine::general_purpose::STANDARD.decode(compact).map_err(|e| e.to_string())
    } else {
        Ok(urlencoding::decode_binary(payload.as_bytes()).into_owned())
    }
}

// ---------------------------------------------------------------------------------------------
// Scene graph

/// Nodes to draw with their world matrices: the default scene (or the first; with no scene at
/// all, every root node), walked depth-first. A node is visited once even if the file lists
/// it under several parents or in a cycle.
fn scene_nodes(doc: &gltf::Document) -> Vec<(gltf::Node<'_>, Mat4)> {
    let roots: Vec<_> = match doc.default_scene().or_else(|| doc.scenes().next()) {
        Some(scene) => scene.nodes().collect(),
        None => root_nodes(doc),
    };
    walk(doc, roots)
}

/// Nodes that are nobody's child.
fn root_nodes(doc: &gltf::Document) -> Vec<gltf::Node<'_>> {
    let mut is_child = vec![false; doc.nodes().len()];
    for child in doc.nodes().flat_map(|n| n.children()) {
        is_child[child.index()] = true;
    }
    doc.nodes().filter(|n| !is_child[n.index()]).collect()
}

/// Depth-first walk from `roots`, composing node transforms.
fn walk<'a>(doc: &'a gltf::Document, roots: Vec<gltf::Node<'a>>) -> Vec<(gltf::Node<'a>, Mat4)> {
    let mut seen = vec![false; doc.nodes().len()];
    let mut stack: Vec<_> = roots.into_iter().rev().map(|n| (n, Mat4::IDENTITY)).collect();
    let mut out = Vec::new();
    while let Some((node, parent)) = stack.pop() {
        if std::mem::replace(&mut seen[node.index()], true) {
            continue;
        }
        let world = parent * Mat4::from_cols_array_2d(&node.transform().matrix());
        let children: Vec<_> = node.children().collect();
        stack.extend(children.into_iter().rev().map(|c| (c, world)));
        out.push((node, world));
    }
    out
}

/// World matrices of every node reachable from a root (skins need joints wherever they are).
fn all_world_matrices(doc: &gltf::Document) -> Vec<Option<Mat4>> {
    let mut worlds = vec![None; doc.nodes().len()];
    for (node, world) in walk(doc, root_nodes(doc)) {
        worlds[node.index()] = Some(world);
    }
    worlds
}

// ---------------------------------------------------------------------------------------------
// Building the mesh

/// Collects triangles, materials and images while the scene is walked.
struct Builder<'a> {
    path: &'a Path,
    root: &'a Path,
    doc: &'a gltf::Document,
    data: Accessors<'a>,
    images: ImageCache<usize>,
    /// Output materials, and for each the TEXCOORD set its texture reads.
    materials: Vec<(Material, u32)>,
    /// glTF material index (`None` = the default material) to output index.
    material_index: HashMap<Option<usize>, usize>,
    /// World matrices of all nodes, computed on the first skinned mesh.
    worlds: Option<Vec<Option<Mat4>>>,
    triangles: Vec<Triangle>,
}

impl<'a> Builder<'a> {
    fn new(
        path: &'a Path,
        root: &'a Path,
        doc: &'a gltf::Document,
        buffers: &'a [Vec<u8>],
    ) -> Self {
        Builder {
            path,
            root,
            doc,
            data: Accessors { path, buffers },
            images: ImageCache::new(),
            materials: Vec::new(),
            material_index: HashMap::new(),
            worlds: None,
            triangles: Vec::new(),
        }
    }

    fn finish(self) -> Mesh {
        Mesh {
            triangles: self.triangles,
            materials: self.materials.into_iter().map(|(m, _)| m).collect(),
            images: self.images.images,
        }
    }

    /// Adds a node's mesh, once per `EXT_mesh_gpu_instancing` instance if it has any.
    fn node(&mut self, node: &gltf::Node<'_>, world: Mat4) -> Result<()> {
        let Some(mesh) = node.mesh() else { return Ok(()) };
        let instances = self.instances(node)?;
        let skin = match node.skin() {
            Some(skin) => Some(self.joint_matrices(&skin)?),
            None => None,
        };
        for primitive in mesh.primitives() {
            let Some(data) = self.read_primitive(&primitive)? else { continue };
            for instance in &instances {
                let placement = Placement { world: world * *instance, skin: skin.as_deref() };
                self.emit(&data, &placement);
            }
        }
        Ok(())
    }

    /// Per-instance matrices from `EXT_mesh_gpu_instancing`, or one identity.
    fn instances(&self, node: &gltf::Node<'_>) -> Result<Vec<Mat4>> {
        let Some(ext) = node.extension_value("EXT_mesh_gpu_instancing") else {
            return Ok(vec![Mat4::IDENTITY]);
        };
        let attribute = |name: &str, dims: usize| -> Result<Option<Vec<f32>>> {
            let Some(index) = ext.pointer(&format!("/attributes/{name}")).and_then(|v| v.as_u64())
            else {
                return Ok(None);
            };
            let accessor = self.doc.accessors().nth(index as usize).ok_or_else(|| {
                Error::parse(
                    self.path,
                    format!("instancing {name} accessor {index} does not exist"),
                )
            })?;
            self.data.read_f32(&accessor, dims).map(Some)
        };
        let translation = attribute("TRANSLATION", 3)?;
        let rotation = attribute("ROTATION", 4)?;
        let scale = attribute("SCALE", 3)?;
        let counts = [(&translation, 3), (&rotation, 4), (&scale, 3)];
        let count =
            counts.iter().filter_map(|(values, dims)| Some(values.as_ref()?.len() / dims)).min();
        let Some(count) = count else { return Ok(vec![Mat4::IDENTITY]) };
        let at = |values: &Option<Vec<f32>>, i: usize, dims: usize| -> Option<Vec<f32>> {
            values.as_ref()?.get(i * dims..i * dims + dims).map(<[f32]>::to_vec)
        };
        Ok((0..count)
            .map(|i| {
                let t = at(&translation, i, 3).map_or(Vec3::ZERO, |v| Vec3::from_slice(&v));
                let r = at(&rotation, i, 4)
                    .map_or(Quat::IDENTITY, |q| Quat::from_slice(&q).normalize());
                let s = at(&scale, i, 3).map_or(Vec3::ONE, |v| Vec3::from_slice(&v));
                Mat4::from_scale_rotation_translation(s, r, t)
            })
            .collect())
    }

    /// `world(joint) * inverse_bind(joint)` for every joint of `skin`.
    fn joint_matrices(&mut self, skin: &gltf::Skin<'_>) -> Result<Vec<Mat4>> {
        let worlds = self.worlds.get_or_insert_with(|| all_world_matrices(self.doc));
        let joints: Vec<Mat4> =
            skin.joints().map(|j| worlds[j.index()].unwrap_or(Mat4::IDENTITY)).collect();
        let inverse_bind = match skin.inverse_bind_matrices() {
            Some(accessor) => self.data.read_f32(&accessor, 16)?,
            None => Vec::new(),
        };
        Ok(joints
            .iter()
            .enumerate()
            .map(|(i, world)| match inverse_bind.get(i * 16..i * 16 + 16) {
                Some(m) => *world * Mat4::from_cols_slice(m),
                None => *world,
            })
            .collect())
    }

    /// Reads a triangle primitive's vertex data and triangles; `None` for points, lines and
    /// primitives without positions. Attributes whose count differs from the positions' are
    /// dropped; a triangle index past the vertices is an error.
    fn read_primitive(&mut self, primitive: &gltf::Primitive<'_>) -> Result<Option<Primitive>> {
        let mode = primitive.mode();
        if !matches!(mode, Mode::Triangles | Mode::TriangleStrip | Mode::TriangleFan) {
            tracing::debug!("{}: skipping a {mode:?} primitive", self.path.display());
            return Ok(None);
        }
        let Some(positions) = primitive.get(&Semantic::Positions) else { return Ok(None) };
        let draco = primitive.extension_value("KHR_draco_mesh_compression").is_some();
        if draco && positions.view().is_none() && positions.sparse().is_none() {
            return Err(Error::Unsupported {
                path: self.path.to_path_buf(),
                feature: "glTF extension KHR_draco_mesh_compression".into(),
            });
        }
        let raw = self.data.read_f32(&positions, 3)?;
        let local: Vec<Vec3> = raw.chunks_exact(3).map(Vec3::from_slice).collect();
        let n = local.len();
        let corners = match primitive.indices() {
            Some(indices) => self.data.read_indices(&indices)?,
            None => (0..n as u32).collect(),
        };
        let triangles = assemble(mode, &corners);
        if let Some(bad) = triangles.iter().flatten().find(|&&i| i as usize >= n) {
            let reason = format!("primitive index {bad} out of range ({n} vertices)");
            return Err(Error::parse(self.path, reason));
        }
        let (material, set) = self.material(primitive.material());
        let colors = match primitive.get(&Semantic::Colors(0)) {
            Some(accessor) => Some(self.colors(&accessor)?),
            None => None,
        };
        let primitive_data = Primitive {
            weights: self.skinning(primitive)?.filter(|w| w.weights.len() >= 4 * n),
            colors: colors.filter(|c| c.len() >= n),
            uvs: self.texcoords(primitive, material, set)?.filter(|uv| uv.len() >= n),
            local,
            triangles,
            material,
        };
        Ok(Some(primitive_data))
    }

    /// Adds a primitive's triangles placed by `placement`, in voxgen's frame.
    fn emit(&mut self, data: &Primitive, placement: &Placement<'_>) {
        let world = |(i, p): (usize, &Vec3)| match (placement.skin, &data.weights) {
            (Some(joints), Some(weights)) => weights.apply(joints, i, placement.world, *p),
            _ => placement.world.transform_point3(*p),
        };
        let positions: Vec<[f32; 3]> =
            data.local.iter().enumerate().map(world).map(|p| y_up_to_z_up(p.to_array())).collect();
        for tri in &data.triangles {
            let corner = tri.map(|i| i as usize);
            self.triangles.push(Triangle {
                positions: corner.map(|i| positions[i]),
                colors: data.colors.as_ref().map(|c| corner.map(|i| c[i])),
                uvs: data.uvs.as_ref().map(|uv| corner.map(|i| uv[i])),
                material: data.material,
            });
        }
    }

    /// `COLOR_0` as linear RGBA (RGB gets alpha 1).
    fn colors(&self, accessor: &gltf::Accessor<'_>) -> Result<Vec<[f32; 4]>> {
        let dims = accessor.dimensions().multiplicity();
        let mut values = self.data.read_f32(accessor, dims)?;
        // Integer colours are normalized by definition, even when a file forgets to say so.
        let max = match accessor.data_type() {
            DataType::U8 if !accessor.normalized() => 255.0,
            DataType::U16 if !accessor.normalized() => 65535.0,
            _ => 1.0,
        };
        values.iter_mut().for_each(|v| *v /= max);
        Ok(match dims {
            3 => values.chunks_exact(3).map(|c| [c[0], c[1], c[2], 1.0]).collect(),
            4 => values.chunks_exact(4).map(|c| [c[0], c[1], c[2], c[3]]).collect(),
            _ => return Err(Error::parse(self.path, "COLOR_0 is neither VEC3 nor VEC4")),
        })
    }

    /// `JOINTS_0` / `WEIGHTS_0` of a skinned primitive, if present.
    fn skinning(&self, primitive: &gltf::Primitive<'_>) -> Result<Option<Weights>> {
        let (Some(joints), Some(weights)) =
            (primitive.get(&Semantic::Joints(0)), primitive.get(&Semantic::Weights(0)))
        else {
            return Ok(None);
        };
        let joints = self.data.read_f64(&joints, 4)?;
        let weights = self.data.read_f32(&weights, 4)?;
        Ok(Some(Weights { joints, weights }))
    }

    /// The texture coordinates (set `set`) of a primitive whose material has a texture.
    fn texcoords(
        &self,
        primitive: &gltf::Primitive<'_>,
        material: usize,
        set: u32,
    ) -> Result<Option<Vec<[f32; 2]>>> {
        if self.materials[material].0.texture.is_none() {
            return Ok(None);
        }
        let Some(accessor) = primitive.get(&Semantic::TexCoords(set)) else { return Ok(None) };
        let values = self.data.read_f32(&accessor, 2)?;
        Ok(Some(values.chunks_exact(2).map(|c| [c[0], c[1]]).collect()))
    }

    /// The output material for a glTF material (converted on first use) and its UV set.
    fn material(&mut self, material: gltf::Material<'_>) -> (usize, u32) {
        let key = material.index();
        if let Some(&index) = self.material_index.get(&key) {
            return (index, self.materials[index].1);
        }
        let converted = self.convert_material(&material);
        self.materials.push(converted);
        let index = self.materials.len() - 1;
        self.material_index.insert(key, index);
        (index, self.materials[index].1)
    }

    /// Base colour factor and texture (with sampler wrap and `KHR_texture_transform`).
    fn convert_material(&mut self, material: &gltf::Material<'_>) -> (Material, u32) {
        let name = material.name().map_or_else(
            || material.index().map_or("default".to_string(), |i| format!("material {i}")),
            str::to_string,
        );
        let pbr = material.pbr_metallic_roughness();
        let mut base_color = pbr.base_color_factor();
        let mut info = pbr.base_color_texture().map(|i| TextureInfo::from_gltf(&i));
        if let Some(diffuse) = material.extension_value("KHR_materials_pbrSpecularGlossiness") {
            base_color = spec_gloss_factor(diffuse).unwrap_or(base_color);
            info = TextureInfo::from_spec_gloss(self.doc, diffuse);
        }
        let (texture, set) = match info {
            Some(info) => (self.texture_ref(&name, &info), info.set),
            None => (None, 0),
        };
        (Material { name, base_color, texture }, set)
    }

    /// Decodes the texture's image (once per image) and describes how it is sampled.
    fn texture_ref(&mut self, material: &str, info: &TextureInfo<'_>) -> Option<TextureRef> {
        let texture = &info.texture;
        let image = texture.source();
        let (path, root, buffers) = (self.path, self.root, self.data.buffers);
        let label = image.name().map_or_else(|| format!("image {}", image.index()), str::to_string);
        let on_error = |reason: &str| {
            tracing::warn!(
                "{}: texture {label:?} unreadable ({reason}); \
                 using the base colour of {material:?}",
                path.display()
            )
        };
        let index = self.images.get_or_load(
            image.index(),
            || decode_image(path, root, buffers, &image),
            on_error,
        )?;
        let sampler = texture.sampler();
        Some(TextureRef {
            image: index,
            wrap_u: wrap(sampler.wrap_s()),
            wrap_v: wrap(sampler.wrap_t()),
            transform: info.transform,
        })
    }
}

/// Where a mesh instance goes: its world matrix and, for skinned meshes, the joint matrices.
struct Placement<'a> {
    world: Mat4,
    skin: Option<&'a [Mat4]>,
}

/// Per-vertex joint indices and weights (4 each).
struct Weights {
    joints: Vec<f64>,
    weights: Vec<f32>,
}

impl Weights {
    /// The rest-pose position of vertex `i`: the weighted sum of its joints' matrices applied to
    /// `p` (the node's own transform is ignored for skinned meshes, as the spec says). Falls back
    /// to `world` when the vertex has no usable weights.
    fn apply(&self, joints: &[Mat4], i: usize, world: Mat4, p: Vec3) -> Vec3 {
        let mut sum = Vec3::ZERO;
        let mut total = 0.0;
        for k in i * 4..i * 4 + 4 {
            let (Some(&joint), Some(&weight)) = (self.joints.get(k), self.weights.get(k)) else {
                break;
            };
            let Some(matrix) = joints.get(joint as usize) else { continue };
            if weight > 0.0 {
                sum += weight * matrix.transform_point3(p);
                total += weight;
            }
        }
        if total > 1e-6 {
            sum / total
        } else {
            world.transform_point3(p)
        }
    }
}

/// A triangle primitive as read from the file, before placement.
struct Primitive {
    /// Positions in the mesh's own (Y-up) space.
    local: Vec<Vec3>,
    /// Skinning data, when the primitive has `JOINTS_0` and `WEIGHTS_0`.
    weights: Option<Weights>,
    /// `COLOR_0`, linear.
    colors: Option<Vec<[f32; 4]>>,
    /// The UV set the material's texture reads.
    uvs: Option<Vec<[f32; 2]>>,
    /// Vertex indices, every one checked to be in range.
    triangles: Vec<[u32; 3]>,
    material: usize,
}

/// Vertex index triples for a triangle list, strip or fan (per the glTF spec's orderings).
fn assemble(mode: Mode, corners: &[u32]) -> Vec<[u32; 3]> {
    let n = corners.len();
    match mode {
        Mode::Triangles => corners.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect(),
        Mode::TriangleStrip if n >= 3 => (0..n - 2)
            .map(|i| {
                if i % 2 == 0 {
                    [corners[i], corners[i + 1], corners[i + 2]]
                } else {
                    [corners[i], corners[i + 2], corners[i + 1]]
                }
            })
            .collect(),
        Mode::TriangleFan if n >= 3 => {
            (0..n - 2).map(|i| [corners[i + 1], corners[i + 2], corners[0]]).collect()
        }
        _ => Vec::new(),
    }
}

/// A colour texture as a material references it.
struct TextureInfo<'a> {
    texture: gltf::Texture<'a>,
    set: u32,
    transform: [[f32; 3]; 2],
}

impl<'a> TextureInfo<'a> {
    /// From a `baseColorTexture`, applying `KHR_texture_transform` (its `texCoord` wins).
    fn from_gltf(info: &gltf::texture::Info<'a>) -> Self {
        let (mut set, mut transform) = (info.tex_coord(), TextureRef::new(0).transform);
        if let Some(t) = info.texture_transform() {
            transform = uv_transform(t.offset(), t.rotation(), t.scale());
            set = t.tex_coord().unwrap_or(set);
        }
        TextureInfo { texture: info.texture(), set, transform }
    }

    /// From `KHR_materials_pbrSpecularGlossiness.diffuseTexture`.
    fn from_spec_gloss(doc: &'a gltf::Document, ext: &serde_json::Value) -> Option<Self> {
        let index = ext.pointer("/diffuseTexture/index")?.as_u64()?;
        let texture = doc.textures().nth(index as usize)?;
        let set = ext.pointer("/diffuseTexture/texCoord").and_then(|v| v.as_u64()).unwrap_or(0);
        Some(TextureInfo { texture, set: set as u32, transform: TextureRef::new(0).transform })
    }
}

/// `diffuseFactor` of `KHR_materials_pbrSpecularGlossiness`.
fn spec_gloss_factor(ext: &serde_json::Value) -> Option<[f32; 4]> {
    let values = ext.get("diffuseFactor")?.as_array()?;
    let v: Vec<f32> = values.iter().filter_map(|v| v.as_f64()).map(|v| v as f32).collect();
    v.try_into().ok()
}

/// The `KHR_texture_transform` matrix `translation * rotation * scale` as a row-major 2x3.
/// A positive rotation turns the UVs counter-clockwise in the spec's sense: with offset (0, 1),
/// rotation pi/2 and scale 0.5 the unit square maps onto u in [0, 0.5], v in [0.5, 1].
fn uv_transform(offset: [f32; 2], rotation: f32, scale: [f32; 2]) -> [[f32; 3]; 2] {
    let (s, c) = rotation.sin_cos();
    [[c * scale[0], s * scale[1], offset[0]], [-s * scale[0], c * scale[1], offset[1]]]
}

fn wrap(mode: WrappingMode) -> Wrap {
    match mode {
        WrappingMode::ClampToEdge => Wrap::ClampToEdge,
        WrappingMode::MirroredRepeat => Wrap::MirroredRepeat,
        WrappingMode::Repeat => Wrap::Repeat,
    }
}

/// Reads and decodes a glTF image from a buffer view, a `data:` URI or a file inside `root`.
fn decode_image(
    path: &Path,
    root: &Path,
    buffers: &[Vec<u8>],
    image: &gltf::Image<'_>,
) -> Result<super::Image, String> {
    let bytes = match image.source() {
        gltf::image::Source::View { view, .. } => {
            let buffer = buffers.get(view.buffer().index()).ok_or("missing buffer")?;
            let end = view.offset().checked_add(view.length()).ok_or("view too large")?;
            buffer.get(view.offset()..end).ok_or("buffer view out of range")?.to_vec()
        }
        gltf::image::Source::Uri { uri, .. } if uri.starts_with("data:") => decode_data_uri(uri)?,
        gltf::image::Source::Uri { uri, .. } => {
            let file = match path::resolve(root, parent_dir(path), &decode_uri(uri)) {
                Ok(file) => file,
                Err(Refused::Escape) => {
                    return Err(format!("{uri:?} lies outside {}", root.display()))
                }
                Err(Refused::Invalid) => return Err(format!("invalid uri {uri:?}")),
            };
            super::read_capped(&file).map_err(|e| format!("{}: {e}", file.display()))?
        }
    };
    tex::decode(&bytes)
}

// ---------------------------------------------------------------------------------------------
// Accessors

/// Reads accessor data from the loaded buffers, bounds-checking every access.
struct Accessors<'a> {
    path: &'a Path,
    buffers: &'a [Vec<u8>],
}

impl Accessors<'_> {
    /// Values as `f32` (normalized integers scaled to [0, 1] or [-1, 1]), `dims` per element.
    fn read_f32(&self, accessor: &gltf::Accessor<'_>, dims: usize) -> Result<Vec<f32>> {
        Ok(self.read_f64(accessor, dims)?.into_iter().map(|v| v as f32).collect())
    }

    /// Index values (any unsigned integer type) as `u32`.
    fn read_indices(&self, accessor: &gltf::Accessor<'_>) -> Result<Vec<u32>> {
        Ok(self.read_f64(accessor, 1)?.into_iter().map(|v| v as u32).collect())
    }

    /// Values as `f64`, flattened; the accessor must have `dims` components per element.
    fn read_f64(&self, accessor: &gltf::Accessor<'_>, dims: usize) -> Result<Vec<f64>> {
        let have = accessor.dimensions().multiplicity();
        if have != dims {
            let reason =
                format!("accessor {} has {have} components, {dims} expected", accessor.index());
            return Err(Error::parse(self.path, reason));
        }
        let total = accessor.count().checked_mul(dims).filter(|&n| n <= MAX_ACCESSOR_VALUES);
        let total = total.ok_or_else(|| self.error(accessor, "is too large"))?;
        let layout = Layout { kind: accessor.data_type(), normalized: accessor.normalized(), dims };
        let region = accessor.view().map(|view| {
            let stride = view.stride().unwrap_or(layout.element_size());
            (view, accessor.offset(), stride)
        });
        // Refuse before allocating when the data cannot be in the buffer view.
        if let Some((view, offset, stride)) = &region {
            let last = accessor.count().saturating_sub(1).checked_mul(*stride);
            let needed = last
                .and_then(|l| l.checked_add(*offset))
                .and_then(|l| l.checked_add(layout.element_size()));
            if accessor.count() > 0 && needed.is_none_or(|n| n > view.length()) {
                return Err(self.error(accessor, "reads past its buffer view"));
            }
        }
        let mut values = vec![0.0; total];
        if let Some((view, offset, stride)) = &region {
            let region = Region { view, offset: *offset, stride: *stride };
            self.read_region(&region, &layout, &mut values)
                .ok_or_else(|| self.error(accessor, "reads past its buffer"))?;
        }
        if let Some(sparse) = accessor.sparse() {
            self.apply_sparse(accessor, &sparse, dims, &mut values)
                .ok_or_else(|| self.error(accessor, "has an invalid sparse section"))?;
        }
        Ok(values)
    }

    /// Fills `out` with `out.len() / dims` elements read from `region`.
    fn read_region(&self, region: &Region<'_, '_>, layout: &Layout, out: &mut [f64]) -> Option<()> {
        let view = region.view;
        let buffer = self.buffers.get(view.buffer().index())?;
        let view_end = view.offset().checked_add(view.length())?;
        let bytes = buffer.get(view.offset()..view_end)?;
        let size = layout.kind.size();
        for (i, element) in out.chunks_exact_mut(layout.dims).enumerate() {
            let start = i.checked_mul(region.stride)?.checked_add(region.offset)?;
            let raw = bytes.get(start..start.checked_add(layout.element_size())?)?;
            for (c, value) in element.iter_mut().enumerate() {
                *value = component(&raw[c * size..], layout.kind, layout.normalized);
            }
        }
        Some(())
    }

    /// Overwrites the elements a sparse section names with its values.
    fn apply_sparse(
        &self,
        accessor: &gltf::Accessor<'_>,
        sparse: &gltf::accessor::sparse::Sparse<'_>,
        dims: usize,
        out: &mut [f64],
    ) -> Option<()> {
        let count = sparse.count();
        if count > accessor.count() {
            return None;
        }
        let indices = sparse.indices();
        let index_kind = match indices.index_type() {
            IndexType::U8 => DataType::U8,
            IndexType::U16 => DataType::U16,
            IndexType::U32 => DataType::U32,
        };
        let mut positions = vec![0.0; count];
        let index_layout = Layout { kind: index_kind, normalized: false, dims: 1 };
        let region =
            Region { view: &indices.view(), offset: indices.offset(), stride: index_kind.size() };
        self.read_region(&region, &index_layout, &mut positions)?;
        let layout = Layout { kind: accessor.data_type(), normalized: accessor.normalized(), dims };
        let mut values = vec![0.0; count.checked_mul(dims)?];
        let values_view = sparse.values().view();
        let region = Region {
            view: &values_view,
            offset: sparse.values().offset(),
            stride: layout.element_size(),
        };
        self.read_region(&region, &layout, &mut values)?;
        for (position, value) in positions.iter().zip(values.chunks_exact(dims)) {
            let start = (*position as usize).checked_mul(dims)?;
            out.get_mut(start..start + dims)?.copy_from_slice(value);
        }
        Some(())
    }

    fn error(&self, accessor: &gltf::Accessor<'_>, what: &str) -> Error {
        Error::parse(self.path, format!("accessor {} {what}", accessor.index()))
    }
}

/// Where elements lie in a buffer view.
struct Region<'v, 'a> {
    view: &'v gltf::buffer::View<'a>,
    offset: usize,
    stride: usize,
}

/// How elements are encoded.
struct Layout {
    kind: DataType,
    normalized: bool,
    dims: usize,
}

impl Layout {
    fn element_size(&self) -> usize {
        self.kind.size() * self.dims
    }
}

/// Decodes one component from the start of `bytes` (little-endian; caller checked the length).
fn component(bytes: &[u8], kind: DataType, normalized: bool) -> f64 {
    let b = |n: usize| -> [u8; 4] { std::array::from_fn(|i| if i < n { bytes[i] } else { 0 }) };
    let (value, max) = match kind {
        DataType::I8 => (f64::from(bytes[0] as i8), 127.0),
        DataType::U8 => (f64::from(bytes[0]), 255.0),
        DataType::I16 => (f64::from(i16::from_le_bytes([bytes[0], bytes[1]])), 32767.0),
        DataType::U16 => (f64::from(u16::from_le_bytes([bytes[0], bytes[1]])), 65535.0),
        DataType::U32 => (f64::from(u32::from_le_bytes(b(4))), 1.0),
        DataType::F32 => (f64::from(f32::from_le_bytes(b(4))), 1.0),
    };
    if normalized && !matches!(kind, DataType::F32 | DataType::U32) {
        (value / max).max(-1.0)
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(m: [[f32; 3]; 2], [u, v]: [f32; 2]) -> [f32; 2] {
        [m[0][0] * u + m[0][1] * v + m[0][2], m[1][0] * u + m[1][1] * v + m[1][2]]
    }

    #[test]
    fn texture_transform_matches_the_spec_example() {
        // KHR_texture_transform README: offset (0, 1), rotation pi/2, scale 0.5 uses the lower
        // left quadrant of the image.
        let m = uv_transform([0.0, 1.0], std::f32::consts::FRAC_PI_2, [0.5, 0.5]);
        for (uv, expected) in [
            ([0.0, 0.0], [0.0, 1.0]),
            ([1.0, 0.0], [0.0, 0.5]),
            ([0.0, 1.0], [0.5, 1.0]),
            ([1.0, 1.0], [0.5, 0.5]),
        ] {
            let got = apply(m, uv);
            assert!(
                (got[0] - expected[0]).abs() < 1e-6 && (got[1] - expected[1]).abs() < 1e-6,
                "{uv:?} -> {got:?}"
            );
        }
        // The second example flips v.
        assert_eq!(apply(uv_transform([0.0, 1.0], 0.0, [1.0, -1.0]), [0.25, 0.25]), [0.25, 0.75]);
    }

    #[test]
    fn strips_and_fans_follow_the_spec_order() {
        let corners = [0, 1, 2, 3, 4];
        assert_eq!(assemble(Mode::TriangleStrip, &corners), vec![[0, 1, 2], [1, 3, 2], [2, 3, 4]]);
        assert_eq!(assemble(Mode::TriangleFan, &corners), vec![[1, 2, 0], [2, 3, 0], [3, 4, 0]]);
        assert_eq!(assemble(Mode::Triangles, &corners), vec![[0, 1, 2]]);
        assert!(assemble(Mode::TriangleStrip, &[0, 1]).is_empty());
    }

    #[test]
    fn components_decode_with_normalization() {
        assert_eq!(component(&[255], DataType::U8, true), 1.0);
        assert_eq!(component(&[0x80], DataType::I8, true), -1.0);
        assert_eq!(component(&[0x81], DataType::I8, true), -1.0);
        assert_eq!(component(&[0xFF, 0x7F], DataType::I16, true), 1.0);
        assert_eq!(component(&[0xFF, 0xFF], DataType::U16, false), 65535.0);
        assert_eq!(component(&1.5f32.to_le_bytes(), DataType::F32, false), 1.5);
        assert_eq!(component(&7u32.to_le_bytes(), DataType::U32, false), 7.0);
    }

    #[test]
    fn data_uris_decode() {
        assert_eq!(
            decode_data_uri("data:application/octet-stream;base64,AAEC").unwrap(),
            vec![0, 1, 2]
        );
        assert_eq!(decode_data_uri("data:,a%20b").unwrap(), b"a b".to_vec());
        assert!(decode_data_uri("data:;base64,@@").is_err());
        assert!(decode_data_uri("data:nothing").is_err());
    }

    #[test]
    fn percent_encoded_uris_decode() {
        assert_eq!(decode_uri("my%20file.bin"), "my file.bin");
        assert_eq!(decode_uri(" raw  spaces.png"), " raw  spaces.png");
    }
}
