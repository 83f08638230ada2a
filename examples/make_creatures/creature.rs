//! A creature: named closed parts, each with one material, plus an optional texture and
//! optional per-vertex colours.

use glam::Vec3;
use image::RgbImage;

use crate::shape::Surface;

/// A flat material; `textured` materials multiply the creature's texture by `rgb`.
#[derive(Clone, Debug)]
pub struct Material {
    /// Name written to the file.
    pub name: String,
    /// sRGB colour.
    pub rgb: [u8; 3],
    /// Whether the creature's texture is applied.
    pub textured: bool,
}

/// One closed piece of a creature.
#[derive(Clone, Debug)]
pub struct Part {
    /// Name written to the file (OBJ object, glTF node or primitive).
    pub name: String,
    /// Index into [`Creature::materials`].
    pub material: usize,
    /// The geometry.
    pub surface: Surface,
    /// sRGB colour per position, when the creature is painted per vertex.
    pub colors: Option<Vec<[u8; 3]>>,
}

/// A whole creature, Y-up, standing on y = 0 and facing +Z.
#[derive(Clone, Debug)]
pub struct Creature {
    /// File stem.
    pub name: String,
    /// Materials the parts refer to.
    pub materials: Vec<Material>,
    /// The closed parts; they may overlap.
    pub parts: Vec<Part>,
    /// The colour texture used by the textured materials.
    pub texture: Option<RgbImage>,
}

impl Creature {
    /// An empty creature called `name`.
    pub fn new(name: &str) -> Self {
        Creature { name: name.into(), materials: Vec::new(), parts: Vec::new(), texture: None }
    }

    /// Adds a flat material and returns its index.
    pub fn material(&mut self, name: &str, rgb: [u8; 3]) -> usize {
        self.materials.push(Material { name: name.into(), rgb, textured: false });
        self.materials.len() - 1
    }

    /// Adds a material that uses the creature's texture and returns its index.
    pub fn textured_material(&mut self, name: &str, texture: RgbImage) -> usize {
        self.texture = Some(texture);
        self.materials.push(Material { name: name.into(), rgb: [255; 3], textured: true });
        self.materials.len() - 1
    }

    /// Adds a part.
    pub fn add(&mut self, name: &str, material: usize, surface: Surface) {
        self.parts.push(Part { name: name.into(), material, surface, colors: None });
    }

    /// Adds a left and a right copy of a part built by `make(side)`, side -1 then +1.
    pub fn add_pair(&mut self, name: &str, material: usize, make: impl Fn(f32) -> Surface) {
        self.add(&format!("{name}_left"), material, make(1.0));
        self.add(&format!("{name}_right"), material, make(-1.0));
    }

    /// Colours every vertex with `paint(material colour, part name, position)`.
    pub fn paint(&mut self, paint: impl Fn([u8; 3], &str, Vec3) -> [u8; 3]) {
        for part in &mut self.parts {
            let base = self.materials[part.material].rgb;
            let colors = part.surface.positions.iter().map(|&p| paint(base, &part.name, p));
            part.colors = Some(colors.collect());
        }
    }

    /// Moves the creature so it stands on y = 0 and is centred over the origin in x and z.
    pub fn stand_on_ground(&mut self) {
        let (lo, hi) = self.bounds();
        let shift = Vec3::new(-(lo.x + hi.x) / 2.0, -lo.y, -(lo.z + hi.z) / 2.0);
        for part in &mut self.parts {
            part.surface.positions.iter_mut().for_each(|p| *p += shift);
        }
    }

    /// Axis-aligned bounds of every vertex.
    pub fn bounds(&self) -> (Vec3, Vec3) {
        let points = self.parts.iter().flat_map(|p| p.surface.positions.iter());
        points.fold((Vec3::splat(f32::MAX), Vec3::splat(f32::MIN)), |(lo, hi), &p| {
            (lo.min(p), hi.max(p))
        })
    }

    /// Number of triangles over all parts.
    pub fn triangle_count(&self) -> usize {
        self.parts.iter().map(|p| p.surface.tris.len()).sum()
    }
}
