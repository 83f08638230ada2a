//! The in-memory mesh every reader produces and the voxelizer consumes.

/// A triangle soup in voxgen's frame (right-handed, Z-up, world space after node transforms),
/// with what is needed to colour it.
#[derive(Clone, Debug, Default)]
pub struct Mesh {
    /// Triangles, each with its own corner data.
    pub triangles: Vec<Triangle>,
    /// Materials referenced by [`Triangle::material`].
    pub materials: Vec<Material>,
    /// Decoded images referenced by [`TextureRef::image`].
    pub images: Vec<Image>,
}

/// One triangle with per-corner attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct Triangle {
    /// Corner positions.
    pub positions: [[f32; 3]; 3],
    /// Per-corner linear RGBA colours (OBJ `v x y z r g b`, glTF `COLOR_0`), if the file has them.
    pub colors: Option<[[f32; 4]; 3]>,
    /// Per-corner texture coordinates for the material's texture, if any.
    pub uvs: Option<[[f32; 2]; 3]>,
    /// Index into [`Mesh::materials`].
    pub material: usize,
}

/// How a surface is coloured: a base colour, optionally multiplied by a texture.
#[derive(Clone, Debug, PartialEq)]
pub struct Material {
    /// Name from the file, for messages.
    pub name: String,
    /// Linear RGBA base colour (MTL `Kd`, glTF `baseColorFactor`).
    pub base_color: [f32; 4],
    /// The colour texture, if one was given and could be read.
    pub texture: Option<TextureRef>,
}

impl Default for Material {
    fn default() -> Self {
        Material { name: "default".into(), base_color: [0.8, 0.8, 0.8, 1.0], texture: None }
    }
}

/// A texture as a material uses it: which image, how UVs wrap and are transformed.
#[derive(Clone, Debug, PartialEq)]
pub struct TextureRef {
    /// Index into [`Mesh::images`].
    pub image: usize,
    /// Wrap mode along u.
    pub wrap_u: Wrap,
    /// Wrap mode along v.
    pub wrap_v: Wrap,
    /// Affine UV transform applied before lookup, row-major 2x3 (`KHR_texture_transform`):
    /// `uv' = [m[0][0]*u + m[0][1]*v + m[0][2], m[1][0]*u + m[1][1]*v + m[1][2]]`.
    pub transform: [[f32; 3]; 2],
}

impl TextureRef {
    /// A plain repeating reference to `image` with no transform.
    pub fn new(image: usize) -> Self {
        TextureRef {
            image,
            wrap_u: Wrap::Repeat,
            wrap_v: Wrap::Repeat,
            transform: [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
        }
    }
}

/// Texture wrap mode (glTF sampler `wrapS` / `wrapT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wrap {
    /// Tile the image.
    Repeat,
    /// Tile, mirroring every other copy.
    MirroredRepeat,
    /// Clamp to the edge texels.
    ClampToEdge,
}

/// A decoded image in linear RGBA floats, row 0 at the top (v = 0 is the top row, as glTF;
/// OBJ readers flip v on load so every reader hands out the same convention).
#[derive(Clone, Debug, PartialEq)]
pub struct Image {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Linear RGBA, row-major from the top-left.
    pub pixels: Vec<[f32; 4]>,
}

impl Mesh {
    /// Axis-aligned bounds `(min, max)` of every corner, or `None` with no triangles.
    pub fn bounds(&self) -> Option<([f32; 3], [f32; 3])> {
        let mut corners = self.triangles.iter().flat_map(|t| t.positions.iter());
        let first = *corners.next()?;
        let (mut lo, mut hi) = (first, first);
        for p in corners {
            for a in 0..3 {
                lo[a] = lo[a].min(p[a]);
                hi[a] = hi[a].max(p[a]);
            }
        }
        Some((lo, hi))
    }
}

/// Converts one sRGB channel in `[0, 1]` to linear.
pub fn srgb_to_linear(c: f32) -> f32 {
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

/// Converts one linear channel in `[0, 1]` to sRGB.
pub fn linear_to_srgb(c: f32) -> f32 {
    let c = c.clamp(0.0, 1.0);
    if c <= 0.0031308 {
        c * 12.92
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    }
}

/// Voxels read from a voxel file (`.vox`): integer positions in voxgen's frame (Z-up) after the
/// file's scene transforms, each with an sRGB colour. Unbounded: fitting into a grid of at most
/// 256 per axis is the voxel module's job.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Voxels {
    /// Filled positions with their sRGB colours.
    pub points: Vec<([i32; 3], [u8; 3])>,
}

/// What a reader produced: a surface to voxelize, or voxels to resample.
#[derive(Clone, Debug)]
pub enum Loaded {
    /// Triangles from OBJ or glTF.
    Mesh(Mesh),
    /// Voxels from `.vox`.
    Voxels(Voxels),
}
