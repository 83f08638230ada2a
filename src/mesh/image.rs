//! Texture decoding: PNG and JPEG bytes into linear RGBA [`Image`]s, each file decoded once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::types::{srgb_to_linear, Image};

/// Longest texture edge decoded. An 8K texture is the largest artists commonly use; past that
/// the linear copy (16 bytes a texel) would take gigabytes, so a larger one counts as
/// unreadable and its material falls back to the base colour.
pub(crate) const MAX_TEXTURE_EDGE: u32 = 8192;

/// Decodes PNG or JPEG bytes (format sniffed from the data) into linear RGBA, row 0 at the top.
/// Colour channels are converted from sRGB; alpha is kept as stored. Images wider or taller than
/// [`MAX_TEXTURE_EDGE`] are refused before their pixels are decoded.
pub(crate) fn decode(bytes: &[u8]) -> Result<Image, String> {
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_TEXTURE_EDGE);
    limits.max_image_height = Some(MAX_TEXTURE_EDGE);
    reader.limits(limits);
    let decoded = reader.decode().map_err(|e| e.to_string())?;
    let rgba = decoded.to_rgba8();
    let lut = srgb_lut();
    let pixels = rgba
        .pixels()
        .map(|p| {
            let [r, g, b, a] = p.0;
            [lut[r as usize], lut[g as usize], lut[b as usize], f32::from(a) / 255.0]
        })
        .collect();
    Ok(Image { width: rgba.width(), height: rgba.height(), pixels })
}

/// sRGB byte to linear float, computed once.
fn srgb_lut() -> &'static [f32; 256] {
    static LUT: OnceLock<[f32; 256]> = OnceLock::new();
    LUT.get_or_init(|| std::array::from_fn(|i| srgb_to_linear(i as f32 / 255.0)))
}

/// Images decoded so far for one mesh, keyed by whatever names them uniquely (a resolved path,
/// a glTF image index), so that materials sharing a texture share one decoded [`Image`].
#[derive(Debug, Default)]
pub(crate) struct ImageCache<K> {
    /// Index into the output image list, or `None` when the image failed once already.
    slots: HashMap<K, Option<usize>>,
    /// Decoded images in the order they were first used.
    pub(crate) images: Vec<Image>,
}

impl<K: std::hash::Hash + Eq> ImageCache<K> {
    /// A cache with no images.
    pub(crate) fn new() -> Self {
        ImageCache { slots: HashMap::new(), images: Vec::new() }
    }

    /// The image index for `key`, decoding with `load` on first use. A failure is reported
    /// once by `load`'s caller and remembered, so later materials skip it silently.
    pub(crate) fn get_or_load(
        &mut self,
        key: K,
        load: impl FnOnce() -> Result<Image, String>,
        on_error: impl FnOnce(&str),
    ) -> Option<usize> {
        if let Some(slot) = self.slots.get(&key) {
            return *slot;
        }
        let slot = match load() {
            Ok(image) => {
                self.images.push(image);
                Some(self.images.len() - 1)
            }
            Err(reason) => {
                on_error(&reason);
                None
            }
        };
        self.slots.insert(key, slot);
        slot
    }
}

/// Reads and decodes an image file.
pub(crate) fn load_file(path: &Path) -> Result<Image, String> {
    let bytes = super::read_capped(path).map_err(|e| e.to_string())?;
    decode(&bytes)
}

/// Cache keyed by resolved file path (OBJ textures).
pub(crate) type FileImageCache = ImageCache<PathBuf>;

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32, pixel: impl Fn(u32, u32) -> [u8; 4]) -> Vec<u8> {
        let img = image::RgbaImage::from_fn(width, height, |x, y| image::Rgba(pixel(x, y)));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn decodes_png_to_linear_with_top_row_first() {
        let bytes = png(2, 3, |_, y| if y == 0 { [255, 0, 0, 255] } else { [0, 0, 255, 128] });
        let image = decode(&bytes).unwrap();
        assert_eq!((image.width, image.height), (2, 3));
        assert_eq!(image.pixels[0], [1.0, 0.0, 0.0, 1.0]);
        let last = image.pixels[5];
        assert_eq!(&last[..3], &[0.0, 0.0, 1.0]);
        assert!((last[3] - 128.0 / 255.0).abs() < 1e-6);
    }

    #[test]
    fn mid_grey_is_converted_from_srgb() {
        let image = decode(&png(1, 1, |_, _| [128, 128, 128, 255])).unwrap();
        assert!((image.pixels[0][0] - 0.2158605).abs() < 1e-4);
    }

    #[test]
    fn oversized_textures_are_refused() {
        let wide = png(MAX_TEXTURE_EDGE + 1, 1, |_, _| [1, 2, 3, 255]);
        let err = decode(&wide).unwrap_err();
        assert!(err.contains("limit"), "{err}");
        assert!(decode(&png(MAX_TEXTURE_EDGE, 1, |_, _| [1, 2, 3, 255])).is_ok());
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(decode(b"not an image").is_err());
    }

    #[test]
    fn cache_decodes_once_and_remembers_failures() {
        let mut cache: ImageCache<u32> = ImageCache::new();
        let img = || Ok(Image { width: 1, height: 1, pixels: vec![[0.0; 4]] });
        assert_eq!(cache.get_or_load(7, img, |_| {}), Some(0));
        assert_eq!(cache.get_or_load(7, || panic!("decoded twice"), |_| {}), Some(0));
        let mut errors = 0;
        assert_eq!(cache.get_or_load(8, || Err("bad".into()), |_| errors += 1), None);
        assert_eq!(cache.get_or_load(8, || Err("bad".into()), |_| errors += 1), None);
        assert_eq!(errors, 1);
        assert_eq!(cache.images.len(), 1);
    }
}
