//! glTF 2.0 output (through `gltf-json`): `.gltf` with an external `.bin` or a `data:` URI,
//! and `.glb`; colours as `baseColorFactor`, `COLOR_0` or a base-colour texture, the texture
//! external or embedded; optionally a node hierarchy with a scaled, turned root.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::f32::consts::FRAC_PI_2;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use glam::{Affine3A, Quat, Vec3};
use gltf_json as json;
use json::validation::{Checked::Valid, USize64};
use voxgen::format::atomic::write_bytes;
use voxgen::mesh::srgb_to_linear;

use crate::creature::{Creature, Part};
use crate::paint::png_bytes;
use crate::shape::Corner;

/// How the glTF file is packaged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    /// `NAME.gltf` with the binary data in `NAME.bin` beside it.
    External,
    /// `NAME.gltf` with the binary data inline as a base64 `data:` URI.
    DataUri,
    /// `NAME.glb`, one binary file.
    Glb,
}

/// Options for one glTF creature.
#[derive(Clone, Copy, Debug)]
pub struct GltfStyle {
    /// Packaging.
    pub container: Container,
    /// Write the painted vertex colours as `COLOR_0` (unsigned short, normalized, RGBA).
    pub vertex_colors: bool,
    /// One node per part under a root node scaled by 0.01 and turned about Y (the mesh data is
    /// stored in that frame), instead of one node holding every part.
    pub hierarchy: bool,
}

/// Writes the creature and returns the paths written.
pub fn write_gltf(c: &Creature, dir: &Path, style: GltfStyle) -> anyhow::Result<Vec<PathBuf>> {
    let mut doc = Doc::default();
    doc.materials(c, dir, style.container)?;
    if style.hierarchy {
        doc.hierarchy(c, style.vertex_colors);
    } else {
        doc.single_node(c, style.vertex_colors);
    }
    doc.finish(&c.name, dir, style.container)
}

/// The document being built and its binary buffer.
#[derive(Default)]
struct Doc {
    root: json::Root,
    bin: Vec<u8>,
    /// glTF material index per creature material.
    materials: Vec<json::Index<json::Material>>,
    written: Vec<PathBuf>,
}

/// One primitive's vertex data before it goes into the buffer.
#[derive(Default)]
struct Prim {
    /// Whether vertices carry texture coordinates (split at the texture seam).
    with_uvs: bool,
    /// Whether vertices carry the painted colours.
    with_colors: bool,
    positions: Vec<[f32; 3]>,
    normals: Vec<[f32; 3]>,
    uvs: Vec<[f32; 2]>,
    colors: Vec<[u16; 4]>,
    indices: Vec<u32>,
}

impl Prim {
    fn new(with_uvs: bool, with_colors: bool) -> Self {
        Prim { with_uvs, with_colors, ..Default::default() }
    }

    /// Appends a part, moving its points by `m`. Corners share a vertex when they share the
    /// position (and, with texture coordinates, the uv), so the seam gets its own vertices.
    fn push(&mut self, part: &Part, m: Affine3A) {
        let moved: Vec<Vec3> =
            part.surface.positions.iter().map(|&p| m.transform_point3(p)).collect();
        let normals: Vec<Vec3> =
            part.surface.normals().iter().map(|&n| m.transform_vector3(n).normalize()).collect();
        let mut seen: HashMap<(u32, u32), u32> = HashMap::new();
        for &corner in part.surface.tris.iter().flatten() {
            let key = (corner.p, if self.with_uvs { corner.t } else { 0 });
            let next = self.positions.len() as u32;
            let index = *seen.entry(key).or_insert(next);
            if index == next {
                let p = corner.p as usize;
                self.vertex(part, corner, moved[p], normals[p]);
            }
            self.indices.push(index);
        }
    }

    fn vertex(&mut self, part: &Part, corner: Corner, position: Vec3, normal: Vec3) {
        self.positions.push(position.to_array());
        self.normals.push(normal.to_array());
        if self.with_uvs {
            self.uvs.push(part.surface.uvs[corner.t as usize]);
        }
        if let (true, Some(colors)) = (self.with_colors, &part.colors) {
            // COLOR_0 is linear; the painted colours are sRGB.
            let to_u16 = |c: u8| (srgb_to_linear(f32::from(c) / 255.0) * 65535.0).round() as u16;
            let [r, g, b] = colors[corner.p as usize].map(to_u16);
            self.colors.push([r, g, b, u16::MAX]);
        }
    }
}

impl Doc {
    /// Materials, plus the texture (image, sampler) when the creature has one.
    fn materials(&mut self, c: &Creature, dir: &Path, container: Container) -> anyhow::Result<()> {
        let texture = match &c.texture {
            Some(image) => Some(self.texture(&c.name, &png_bytes(image)?, dir, container)?),
            None => None,
        };
        for m in &c.materials {
            let [r, g, b] = m.rgb.map(|x| srgb_to_linear(f32::from(x) / 255.0));
            let mut pbr = json::material::PbrMetallicRoughness {
                base_color_factor: json::material::PbrBaseColorFactor([r, g, b, 1.0]),
                metallic_factor: json::material::StrengthFactor(0.0),
                roughness_factor: json::material::StrengthFactor(0.8),
                ..Default::default()
            };
            if m.textured {
                pbr.base_color_texture = texture.map(|index| json::texture::Info {
                    index,
                    tex_coord: 0,
                    extensions: None,
                    extras: Default::default(),
                });
            }
            let material = json::Material {
                name: Some(m.name.clone()),
                pbr_metallic_roughness: pbr,
                ..Default::default()
            };
            let index = self.root.push(material);
            self.materials.push(index);
        }
        Ok(())
    }

    /// The texture: inside the buffer for `.glb`, a PNG file beside the `.gltf` otherwise.
    fn texture(
        &mut self,
        name: &str,
        png: &[u8],
        dir: &Path,
        container: Container,
    ) -> anyhow::Result<json::Index<json::Texture>> {
        let (uri, buffer_view) = match container {
            Container::Glb => (None, Some(self.view(png, None))),
            _ => {
                let file = format!("{name}_texture.png");
                let path = dir.join(&file);
                write_bytes(&path, png)?;
                self.written.push(path);
                (Some(file), None)
            }
        };
        let image = self.root.push(json::Image {
            buffer_view,
            mime_type: buffer_view.map(|_| json::image::MimeType("image/png".into())),
            name: Some(format!("{name}_texture")),
            uri,
            extensions: None,
            extras: Default::default(),
        });
        let sampler = self.root.push(json::texture::Sampler {
            mag_filter: Some(Valid(json::texture::MagFilter::Linear)),
            min_filter: Some(Valid(json::texture::MinFilter::LinearMipmapLinear)),
            ..Default::default()
        });
        Ok(self.root.push(json::Texture {
            name: None,
            sampler: Some(sampler),
            source: image,
            extensions: None,
            extras: Default::default(),
        }))
    }

    /// Every part in one mesh on one node: one primitive per material.
    fn single_node(&mut self, c: &Creature, colors: bool) {
        let mut primitives = Vec::new();
        for (k, m) in c.materials.iter().enumerate() {
            let mut prim = Prim::new(m.textured, colors);
            for part in c.parts.iter().filter(|p| p.material == k) {
                prim.push(part, Affine3A::IDENTITY);
            }
            if !prim.indices.is_empty() {
                primitives.push(self.primitive(&prim, k));
            }
        }
        let mesh = self.mesh(&c.name, primitives);
        let node = self.root.push(json::Node {
            mesh: Some(mesh),
            name: Some(c.name.clone()),
            ..Default::default()
        });
        self.scene(node);
    }

    /// A root node scaled by 0.01 and turned -90° about Y, with one child node per part placed
    /// at the part's centre; the mesh data is stored in the child's frame.
    fn hierarchy(&mut self, c: &Creature, colors: bool) {
        let rotation = Quat::from_rotation_y(-FRAC_PI_2);
        let root_m =
            Affine3A::from_scale_rotation_translation(Vec3::splat(0.01), rotation, Vec3::ZERO);
        let to_root = root_m.inverse();
        let mut children = Vec::new();
        for part in &c.parts {
            let points = part.surface.positions.iter().map(|&p| to_root.transform_point3(p));
            let centre =
                points.fold(Vec3::ZERO, |a, p| a + p) / part.surface.positions.len() as f32;
            let m = Affine3A::from_translation(-centre) * to_root;
            let mut prim = Prim::new(c.materials[part.material].textured, colors);
            prim.push(part, m);
            let primitive = self.primitive(&prim, part.material);
            let mesh = self.mesh(&part.name, vec![primitive]);
            children.push(self.root.push(json::Node {
                mesh: Some(mesh),
                name: Some(part.name.clone()),
                translation: Some(centre.to_array()),
                ..Default::default()
            }));
        }
        let node = self.root.push(json::Node {
            children: Some(children),
            name: Some(c.name.clone()),
            rotation: Some(json::scene::UnitQuaternion(rotation.to_array())),
            scale: Some([0.01; 3]),
            ..Default::default()
        });
        self.scene(node);
    }

    fn scene(&mut self, node: json::Index<json::Node>) {
        let scene = self.root.push(json::Scene {
            extensions: None,
            extras: Default::default(),
            name: None,
            nodes: vec![node],
        });
        self.root.scene = Some(scene);
    }

    fn mesh(
        &mut self,
        name: &str,
        primitives: Vec<json::mesh::Primitive>,
    ) -> json::Index<json::Mesh> {
        self.root.push(json::Mesh {
            extensions: None,
            extras: Default::default(),
            name: Some(name.into()),
            primitives,
            weights: None,
        })
    }

    /// Puts a primitive's data into the buffer and describes it.
    fn primitive(&mut self, prim: &Prim, material: usize) -> json::mesh::Primitive {
        use json::accessor::{ComponentType as C, Type as T};
        use json::mesh::Semantic;
        let (lo, hi) = bounds(&prim.positions);
        let mut attributes = BTreeMap::new();
        let position = self.accessor(
            &flat(&prim.positions),
            C::F32,
            T::Vec3,
            prim.positions.len(),
            Some((lo, hi)),
        );
        attributes.insert(Valid(Semantic::Positions), position);
        let normal = self.accessor(&flat(&prim.normals), C::F32, T::Vec3, prim.normals.len(), None);
        attributes.insert(Valid(Semantic::Normals), normal);
        if !prim.uvs.is_empty() {
            let uv = self.accessor(&flat(&prim.uvs), C::F32, T::Vec2, prim.uvs.len(), None);
            attributes.insert(Valid(Semantic::TexCoords(0)), uv);
        }
        if !prim.colors.is_empty() {
            let bytes: Vec<u8> =
                prim.colors.iter().flatten().flat_map(|c| c.to_le_bytes()).collect();
            let color = self.accessor(&bytes, C::U16, T::Vec4, prim.colors.len(), None);
            self.root.accessors[color.value()].normalized = true;
            attributes.insert(Valid(Semantic::Colors(0)), color);
        }
        let indices = if prim.positions.len() <= usize::from(u16::MAX) {
            let bytes: Vec<u8> =
                prim.indices.iter().flat_map(|&i| (i as u16).to_le_bytes()).collect();
            self.index_accessor(&bytes, C::U16, prim.indices.len())
        } else {
            let bytes: Vec<u8> = prim.indices.iter().flat_map(|&i| i.to_le_bytes()).collect();
            self.index_accessor(&bytes, C::U32, prim.indices.len())
        };
        json::mesh::Primitive {
            attributes,
            extensions: None,
            extras: Default::default(),
            indices: Some(indices),
            material: Some(self.materials[material]),
            mode: Valid(json::mesh::Mode::Triangles),
            targets: None,
        }
    }

    /// Appends `bytes` to the buffer (4-byte aligned) as a new buffer view.
    fn view(
        &mut self,
        bytes: &[u8],
        target: Option<json::buffer::Target>,
    ) -> json::Index<json::buffer::View> {
        while !self.bin.len().is_multiple_of(4) {
            self.bin.push(0);
        }
        let offset = self.bin.len();
        self.bin.extend_from_slice(bytes);
        self.root.push(json::buffer::View {
            buffer: json::Index::new(0),
            byte_length: USize64::from(bytes.len()),
            byte_offset: Some(USize64::from(offset)),
            byte_stride: None,
            name: None,
            target: target.map(Valid),
            extensions: None,
            extras: Default::default(),
        })
    }

    fn accessor(
        &mut self,
        bytes: &[u8],
        component: json::accessor::ComponentType,
        type_: json::accessor::Type,
        count: usize,
        min_max: Option<([f32; 3], [f32; 3])>,
    ) -> json::Index<json::Accessor> {
        let view = self.view(bytes, Some(json::buffer::Target::ArrayBuffer));
        self.push_accessor(view, component, type_, count, min_max)
    }

    fn index_accessor(
        &mut self,
        bytes: &[u8],
        component: json::accessor::ComponentType,
        count: usize,
    ) -> json::Index<json::Accessor> {
        let view = self.view(bytes, Some(json::buffer::Target::ElementArrayBuffer));
        self.push_accessor(view, component, json::accessor::Type::Scalar, count, None)
    }

    fn push_accessor(
        &mut self,
        view: json::Index<json::buffer::View>,
        component: json::accessor::ComponentType,
        type_: json::accessor::Type,
        count: usize,
        min_max: Option<([f32; 3], [f32; 3])>,
    ) -> json::Index<json::Accessor> {
        self.root.push(json::Accessor {
            buffer_view: Some(view),
            byte_offset: None,
            count: USize64::from(count),
            component_type: Valid(json::accessor::GenericComponentType(component)),
            extensions: None,
            extras: Default::default(),
            type_: Valid(type_),
            min: min_max.map(|(lo, _)| json::Value::from(lo.to_vec())),
            max: min_max.map(|(_, hi)| json::Value::from(hi.to_vec())),
            name: None,
            normalized: false,
            sparse: None,
        })
    }

    /// Adds the buffer, serializes and writes the file(s).
    fn finish(
        mut self,
        name: &str,
        dir: &Path,
        container: Container,
    ) -> anyhow::Result<Vec<PathBuf>> {
        while !self.bin.len().is_multiple_of(4) {
            self.bin.push(0);
        }
        let uri = match container {
            Container::External => Some(format!("{name}.bin")),
            Container::DataUri => Some(format!(
                "data:application/octet-stream;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(&self.bin)
            )),
            Container::Glb => None,
        };
        self.root.push(json::Buffer {
            byte_length: USize64::from(self.bin.len()),
            name: None,
            uri,
            extensions: None,
            extras: Default::default(),
        });
        self.root.asset.generator = Some("voxgen examples/make_creatures".into());
        match container {
            Container::Glb => {
                let json = json::serialize::to_vec(&self.root)?;
                let glb = gltf::binary::Glb {
                    header: gltf::binary::Header { magic: *b"glTF", version: 2, length: 0 },
                    json: Cow::Owned(json),
                    bin: Some(Cow::Owned(self.bin)),
                };
                let path = dir.join(format!("{name}.glb"));
                write_bytes(&path, &glb.to_vec()?)?;
                self.written.push(path);
            }
            Container::External | Container::DataUri => {
                if container == Container::External {
                    let path = dir.join(format!("{name}.bin"));
                    write_bytes(&path, &self.bin)?;
                    self.written.push(path);
                }
                let path = dir.join(format!("{name}.gltf"));
                write_bytes(&path, json::serialize::to_string_pretty(&self.root)?.as_bytes())?;
                self.written.push(path);
            }
        }
        Ok(self.written)
    }
}

/// Component-wise bounds of positions (the accessor's `min` and `max`).
fn bounds(points: &[[f32; 3]]) -> ([f32; 3], [f32; 3]) {
    points.iter().fold(([f32::MAX; 3], [f32::MIN; 3]), |(lo, hi), p| {
        ([0, 1, 2].map(|i| lo[i].min(p[i])), [0, 1, 2].map(|i| hi[i].max(p[i])))
    })
}

/// Little-endian bytes of float vectors.
fn flat<const N: usize>(items: &[[f32; N]]) -> Vec<u8> {
    items.iter().flatten().flat_map(|x| x.to_le_bytes()).collect()
}
