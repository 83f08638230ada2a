//! Surface colour: material base colour × texture (bilinear, wrap modes, `KHR_texture_transform`
//! UV transform) × interpolated vertex colour, in linear RGB; and the packed sRGB word the voxel
//! stages pass around.

use std::sync::OnceLock;

use crate::mesh::{linear_to_srgb, Image, Material, Mesh, Triangle, Wrap};

/// Packed voxel word: `distance << 24 | r << 16 | g << 8 | b` (sRGB bytes). Surface voxels have
/// distance 0; the interior fill stores how far the colour travelled. [`EMPTY`] marks no colour.
pub(crate) const EMPTY: u32 = u32::MAX;

/// Packs an sRGB colour at distance 0.
#[inline]
pub(crate) fn pack(rgb: [u8; 3]) -> u32 {
    (rgb[0] as u32) << 16 | (rgb[1] as u32) << 8 | rgb[2] as u32
}

/// The sRGB colour of a packed word.
#[inline]
pub(crate) fn unpack(word: u32) -> [u8; 3] {
    [(word >> 16) as u8, (word >> 8) as u8, word as u8]
}

/// Entries in the linear-to-sRGB table; fine enough that dark shades round like the formula.
const TABLE_SIZE: usize = 16384;

/// Linear RGB in `[0, 1]` to sRGB bytes, through a table built once from
/// [`crate::mesh::linear_to_srgb`]. Out-of-range and NaN channels clamp.
pub(crate) fn to_srgb(linear: [f32; 3]) -> [u8; 3] {
    static TABLE: OnceLock<Vec<u8>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let last = (TABLE_SIZE - 1) as f32;
        (0..TABLE_SIZE).map(|i| (linear_to_srgb(i as f32 / last) * 255.0).round() as u8).collect()
    });
    let last = (TABLE_SIZE - 1) as f32;
    // Adding a half before `as usize` rounds (the value is not negative) without a library call;
    // `as usize` maps NaN to 0 and saturates, and `min` keeps the index in range.
    let byte = |c: f32| table[((c.clamp(0.0, 1.0) * last + 0.5) as usize).min(TABLE_SIZE - 1)];
    [byte(linear[0]), byte(linear[1]), byte(linear[2])]
}

/// A texture as one triangle sees it: the image, the corner UVs already transformed, the wraps.
#[derive(Clone, Copy, Debug)]
struct Texture<'a> {
    image: &'a Image,
    uvs: [[f32; 2]; 3],
    wrap: [Wrap; 2],
}

/// Everything needed to colour points of one triangle.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TriShade<'a> {
    /// The colour before the texture, as an affine function of the barycentric `(b1, b2)`:
    /// `linear[0] + b1 linear[1] + b2 linear[2]` (base colour × interpolated vertex colour).
    linear: [[f32; 3]; 3],
    /// True when the triangle has no vertex colours.
    plain: bool,
    texture: Option<Texture<'a>>,
    /// Texels covered per unit of barycentric area (the whole triangle has 0.5).
    texel_density: f32,
}

/// The material every triangle with an out-of-range index falls back to.
fn fallback_material() -> &'static Material {
    static DEFAULT: OnceLock<Material> = OnceLock::new();
    DEFAULT.get_or_init(Material::default)
}

impl<'a> TriShade<'a> {
    /// Gathers the colour inputs of `tri` from `mesh`. Bad indices and empty images fall back to
    /// the default material and to no texture.
    pub(crate) fn new(mesh: &'a Mesh, tri: &Triangle) -> Self {
        let material = mesh.materials.get(tri.material).unwrap_or_else(|| fallback_material());
        let base = [0, 1, 2].map(|i| material.base_color[i]);
        let linear = match tri.colors {
            None => [base, [0.0; 3], [0.0; 3]],
            Some(k) => {
                let corner = |v: usize| [0, 1, 2].map(|i| base[i] * k[v][i]);
                let (k0, k1, k2) = (corner(0), corner(1), corner(2));
                [k0, [0, 1, 2].map(|i| k1[i] - k0[i]), [0, 1, 2].map(|i| k2[i] - k0[i])]
            }
        };
        let texture = material.texture.as_ref().and_then(|t| {
            let image = mesh.images.get(t.image).filter(|im| usable(im))?;
            let uvs = tri.uvs?.map(|uv| {
                let m = &t.transform;
                [
                    m[0][0] * uv[0] + m[0][1] * uv[1] + m[0][2],
                    m[1][0] * uv[0] + m[1][1] * uv[1] + m[1][2],
                ]
            });
            Some(Texture { image, uvs, wrap: [t.wrap_u, t.wrap_v] })
        });
        let texel_density = texture.map_or(0.0, |t| {
            let (a, b) = (sub2(t.uvs[1], t.uvs[0]), sub2(t.uvs[2], t.uvs[0]));
            let texels = t.image.width as f32 * t.image.height as f32;
            ((a[0] * b[1] - a[1] * b[0]).abs() * texels).min(f32::MAX)
        });
        TriShade { linear, plain: tri.colors.is_none(), texture, texel_density }
    }

    /// The colour when it is the same everywhere on the triangle.
    pub(crate) fn flat(&self) -> Option<[f32; 3]> {
        (self.plain && self.texture.is_none()).then_some(self.linear[0])
    }

    /// Linear colour at barycentric `(b1, b2)`.
    pub(crate) fn at(&self, b: [f32; 2]) -> [f32; 3] {
        let l = &self.linear;
        let mut c = [0, 1, 2].map(|i| l[0][i] + b[0] * l[1][i] + b[1] * l[2][i]);
        if let Some(t) = &self.texture {
            let w = [1.0 - b[0] - b[1], b[0], b[1]];
            let uv = [0, 1].map(|i| w[0] * t.uvs[0][i] + w[1] * t.uvs[1][i] + w[2] * t.uvs[2][i]);
            let texel = bilinear(t.image, t.wrap, uv);
            c = [0, 1, 2].map(|i| c[i] * texel[i]);
        }
        for v in &mut c {
            if !v.is_finite() {
                *v = 0.0;
            }
        }
        c
    }

    /// Mean linear colour over a clipped piece with barycentric `corners`, area `area` and
    /// centroid `centroid`. Flat and vertex-coloured triangles are linear, so the centroid is
    /// exact; a textured piece covering more than a texel also averages the points halfway
    /// between the centroid and each corner.
    pub(crate) fn mean(&self, corners: &[[f32; 2]], area: f32, centroid: [f32; 2]) -> [f32; 3] {
        let centre = self.at(centroid);
        if self.texture.is_none() || area * self.texel_density <= 1.0 {
            return centre;
        }
        let mut sum = centre;
        for p in corners {
            let c = self.at([(p[0] + centroid[0]) * 0.5, (p[1] + centroid[1]) * 0.5]);
            sum = [0, 1, 2].map(|i| sum[i] + c[i]);
        }
        let n = (corners.len() + 1) as f32;
        sum.map(|v| v / n)
    }
}

fn sub2(a: [f32; 2], b: [f32; 2]) -> [f32; 2] {
    [a[0] - b[0], a[1] - b[1]]
}

/// True when the image has pixels for its stated size.
fn usable(image: &Image) -> bool {
    let texels = image.width as u64 * image.height as u64;
    texels > 0 && image.pixels.len() as u64 >= texels
}

/// Folds texel index `i` into `0..n` by the wrap mode.
fn wrap_index(i: i64, n: i64, mode: Wrap) -> usize {
    let folded = match mode {
        Wrap::Repeat => i.rem_euclid(n),
        Wrap::MirroredRepeat => {
            let m = i.rem_euclid(2 * n);
            if m < n {
                m
            } else {
                2 * n - 1 - m
            }
        }
        Wrap::ClampToEdge => i.clamp(0, n - 1),
    };
    folded as usize
}

/// Bilinear lookup at `uv` (v = 0 is the top row); texel centres sit at half-integers. The image
/// must be [`usable`].
fn bilinear(image: &Image, wrap: [Wrap; 2], uv: [f32; 2]) -> [f32; 3] {
    let (w, h) = (image.width as i64, image.height as i64);
    let x = uv[0] * w as f32 - 0.5;
    let y = uv[1] * h as f32 - 0.5;
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let xs = [x0 as i64, x0 as i64 + 1].map(|i| wrap_index(i, w, wrap[0]));
    let ys = [y0 as i64, y0 as i64 + 1].map(|i| wrap_index(i, h, wrap[1]));
    let texel = |xi: usize, yi: usize| image.pixels[yi * w as usize + xi];
    let (a, b) = (texel(xs[0], ys[0]), texel(xs[1], ys[0]));
    let (c, d) = (texel(xs[0], ys[1]), texel(xs[1], ys[1]));
    std::array::from_fn(|i| {
        let top = a[i] + (b[i] - a[i]) * fx;
        let bottom = c[i] + (d[i] - c[i]) * fx;
        top + (bottom - top) * fy
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::TextureRef;

    /// A 4×2 image: top row red, green, blue, white; bottom row black.
    fn strip() -> Image {
        let mut pixels = vec![[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.0, 1.0]];
        pixels.extend([[0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]]);
        pixels.extend([[0.0, 0.0, 0.0, 1.0]; 4]);
        Image { width: 4, height: 2, pixels }
    }

    fn textured(texture: TextureRef, uvs: [[f32; 2]; 3]) -> (Mesh, Triangle) {
        let material =
            Material { name: "t".into(), base_color: [1.0, 1.0, 1.0, 1.0], texture: Some(texture) };
        let tri = Triangle { positions: [[0.0; 3]; 3], colors: None, uvs: Some(uvs), material: 0 };
        (Mesh { triangles: vec![], materials: vec![material], images: vec![strip()] }, tri)
    }

    #[test]
    fn packing_round_trips() {
        assert_eq!(unpack(pack([1, 2, 3])), [1, 2, 3]);
        assert_eq!(pack([255, 255, 255]) >> 24, 0);
        assert_ne!(pack([255, 255, 255]), EMPTY);
    }

    #[test]
    fn srgb_table_matches_the_formula() {
        for i in 0..=1000 {
            let c = i as f32 / 1000.0;
            let exact = (linear_to_srgb(c) * 255.0).round() as i32;
            let got = to_srgb([c, 0.0, 1.0]);
            assert!((got[0] as i32 - exact).abs() <= 1, "{c}: {} vs {exact}", got[0]);
            assert_eq!((got[1], got[2]), (0, 255));
        }
        assert_eq!(to_srgb([f32::NAN, -1.0, 7.0]), [0, 0, 255]);
        assert_eq!(to_srgb([0.5; 3]), [188; 3]);
    }

    #[test]
    fn wrap_modes_fold_indices() {
        let idx = |mode| [-5, -1, 0, 3, 4, 9].map(|i| wrap_index(i, 4, mode));
        assert_eq!(idx(Wrap::Repeat), [3, 3, 0, 3, 0, 1]);
        assert_eq!(idx(Wrap::MirroredRepeat), [3, 0, 0, 3, 3, 1]);
        assert_eq!(idx(Wrap::ClampToEdge), [0, 0, 0, 3, 3, 3]);
    }

    #[test]
    fn bilinear_hits_texel_centres_and_blends_between() {
        let img = strip();
        let wrap = [Wrap::ClampToEdge; 2];
        assert_eq!(bilinear(&img, wrap, [0.125, 0.25]), [1.0, 0.0, 0.0]);
        assert_eq!(bilinear(&img, wrap, [0.625, 0.25]), [0.0, 0.0, 1.0]);
        let mid = bilinear(&img, wrap, [0.25, 0.25]);
        assert_eq!(mid, [0.5, 0.5, 0.0]);
        let down = bilinear(&img, wrap, [0.125, 0.5]);
        assert_eq!(down, [0.5, 0.0, 0.0]);
    }

    #[test]
    fn transform_and_repeat_pick_the_right_texel() {
        // uv' = (u + 0.5, v): texel centre of green (0.375) comes from u = -0.125 + 1 (repeat).
        let mut t = TextureRef::new(0);
        t.transform = [[1.0, 0.0, 0.5], [0.0, 1.0, 0.0]];
        let (mesh, tri) = textured(t, [[0.875, 0.25], [0.875, 0.25], [0.875, 0.25]]);
        let shade = TriShade::new(&mesh, &tri);
        assert_eq!(shade.at([0.3, 0.3]), [0.0, 1.0, 0.0]);
        // Mirrored: u' = 1.5 - ... lands on the mirrored copy.
        let mut m = TextureRef::new(0);
        m.wrap_u = Wrap::MirroredRepeat;
        m.transform = [[-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
        let (mesh, tri) = textured(m, [[0.125, 0.25]; 3]);
        // u' = -0.125 mirrors to 0.125: red.
        assert_eq!(TriShade::new(&mesh, &tri).at([0.2, 0.2]), [1.0, 0.0, 0.0]);
    }

    #[test]
    fn vertex_colours_interpolate_and_multiply() {
        let material = Material { base_color: [0.5, 1.0, 1.0, 1.0], ..Default::default() };
        let mesh = Mesh { materials: vec![material], ..Default::default() };
        let red = [1.0, 0.0, 0.0, 1.0];
        let blue = [0.0, 0.0, 1.0, 1.0];
        let tri = Triangle {
            positions: [[0.0; 3]; 3],
            colors: Some([red, blue, blue]),
            uvs: None,
            material: 0,
        };
        let shade = TriShade::new(&mesh, &tri);
        assert!(shade.flat().is_none());
        assert_eq!(shade.at([0.0, 0.0]), [0.5, 0.0, 0.0]);
        assert_eq!(shade.at([0.5, 0.0]), [0.25, 0.0, 0.5]);
    }

    #[test]
    fn bad_indices_fall_back() {
        let mut t = TextureRef::new(7);
        t.wrap_u = Wrap::Repeat;
        let (mesh, mut tri) = textured(t, [[0.0; 2]; 3]);
        let shade = TriShade::new(&mesh, &tri);
        assert_eq!(shade.flat(), Some([1.0, 1.0, 1.0]));
        tri.material = 42;
        assert_eq!(TriShade::new(&mesh, &tri).flat(), Some([0.8, 0.8, 0.8]));
    }
}
