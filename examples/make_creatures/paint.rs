//! Procedural colour: the pattern textures (stripes, rosettes, patches, cells) and the helpers
//! the per-vertex painters use. Textures wrap in `u` (around a part) and use `v = 0` at the top.

use image::{Rgb, RgbImage};

use crate::rng::Rng;

/// Texture width and height in pixels.
const SIZE: u32 = 128;

/// Mixes two sRGB colours: `t = 0` gives `a`, `t = 1` gives `b`.
pub fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0);
    [0, 1, 2].map(|i| (f32::from(a[i]) * (1.0 - t) + f32::from(b[i]) * t).round() as u8)
}

/// Distance in texture space between two points, wrapping around in `u`.
fn wrapped_distance(a: (f32, f32), b: (f32, f32)) -> f32 {
    let du = (a.0 - b.0).abs();
    let du = du.min(1.0 - du);
    (du * du + (a.1 - b.1) * (a.1 - b.1)).sqrt()
}

/// Fills an image from `colour(u, v)` with `u`, `v` at pixel centres.
fn image_from(colour: impl Fn(f32, f32) -> [u8; 3]) -> RgbImage {
    RgbImage::from_fn(SIZE, SIZE, |x, y| {
        let (u, v) = ((x as f32 + 0.5) / SIZE as f32, (y as f32 + 0.5) / SIZE as f32);
        Rgb(colour(u, v))
    })
}

/// Tiger stripes: dark bands across `v`, wobbling with `u`; the belly (u near 0.25, where the
/// body's rings point down) fades to `belly`.
pub fn stripes(rng: &mut Rng, base: [u8; 3], stripe: [u8; 3], belly: [u8; 3]) -> RgbImage {
    let bands = rng.range(5.0, 7.0);
    let phase = rng.range(0.0, 1.0);
    image_from(|u, v| {
        let wobble = 0.08 * (u * std::f32::consts::TAU * 3.0).sin();
        let wave = ((v + wobble) * bands + phase).fract();
        let down = (1.0 - wrapped_distance((u, 0.0), (0.25, 0.0)) * 4.0).max(0.0);
        let colour = if wave < 0.4 && down < 0.6 { stripe } else { base };
        mix(colour, belly, down * 1.4 - 0.4)
    })
}

/// Random points in texture space (u wraps).
fn scatter(rng: &mut Rng, count: usize) -> Vec<(f32, f32)> {
    (0..count).map(|_| (rng.unit(), rng.unit())).collect()
}

/// Leopard rosettes: dark rings with a slightly darker centre on a golden base.
pub fn rosettes(rng: &mut Rng, base: [u8; 3], dark: [u8; 3]) -> RgbImage {
    let centres = scatter(rng, 36);
    let inner = mix(base, dark, 0.25);
    image_from(|u, v| {
        let d = centres.iter().map(|&c| wrapped_distance((u, v), c)).fold(f32::MAX, f32::min);
        match d {
            d if d < 0.035 => inner,
            d if d < 0.065 => dark,
            _ => base,
        }
    })
}

/// Cow patches: large dark blobs, the union of a few overlapping discs each.
pub fn patches(rng: &mut Rng, base: [u8; 3], patch: [u8; 3]) -> RgbImage {
    let blobs: Vec<((f32, f32), f32)> =
        (0..12).map(|_| ((rng.unit(), rng.unit()), rng.range(0.1, 0.2))).collect();
    image_from(|u, v| {
        let field: f32 =
            blobs.iter().map(|&(c, r)| (1.0 - wrapped_distance((u, v), c) / r).max(0.0)).sum();
        if field > 0.35 {
            patch
        } else {
            base
        }
    })
}

/// Giraffe cells: the nearest of scattered points picks a cell; light borders between cells.
pub fn cells(rng: &mut Rng, cell: [u8; 3], border: [u8; 3]) -> RgbImage {
    let centres = scatter(rng, 40);
    let shades: Vec<f32> = centres.iter().map(|_| rng.range(0.0, 0.25)).collect();
    image_from(|u, v| {
        let mut d: Vec<(f32, usize)> =
            centres.iter().enumerate().map(|(i, &c)| (wrapped_distance((u, v), c), i)).collect();
        d.sort_by(|a, b| a.0.total_cmp(&b.0));
        if d[1].0 - d[0].0 < 0.018 {
            border
        } else {
            mix(cell, border, shades[d[0].1])
        }
    })
}

/// Encodes an image as PNG bytes.
pub fn png_bytes(image: &RgbImage) -> anyhow::Result<Vec<u8>> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png)?;
    Ok(bytes.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_ends_and_middle() {
        assert_eq!(mix([0, 100, 200], [200, 100, 0], 0.0), [0, 100, 200]);
        assert_eq!(mix([0, 100, 200], [200, 100, 0], 0.5), [100, 100, 100]);
    }

    #[test]
    fn textures_show_their_pattern() {
        let near = |p: [u8; 3], c: [u8; 3]| {
            p.iter().zip(c).map(|(&a, b)| a.abs_diff(b) as u32).sum::<u32>()
        };
        let mut rng = Rng::from_name("t");
        let (orange, black, gold, white, brown) =
            ([200, 120, 30], [20, 20, 20], [210, 170, 80], [240, 240, 240], [150, 90, 40]);
        for (img, base, pattern) in [
            (stripes(&mut rng, orange, black, white), orange, black),
            (rosettes(&mut rng, gold, black), gold, black),
            (patches(&mut rng, white, black), white, black),
            (cells(&mut rng, brown, white), brown, white),
        ] {
            let hits = img.pixels().filter(|p| near(p.0, pattern) < near(p.0, base)).count();
            let share = hits as f32 / (SIZE * SIZE) as f32;
            assert!(share > 0.05 && share < 0.6, "pattern share {share}");
        }
    }
}
