//! Animated GIF output: every frame shares one global palette, built over the pixels of all
//! frames together, and the animation loops forever.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io;
use std::path::Path;

use color_quant::NeuQuant;
use image::RgbaImage;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::format::atomic::write_atomic;

/// Most colours a GIF palette holds.
const MAX_COLORS: usize = 256;
/// NeuQuant's sampling factor: it learns from one pixel in this many (1 is slowest and best).
const SAMPLE_FACTOR: i32 = 10;
/// Most pixels handed to NeuQuant; larger animations are thinned evenly before training.
const MAX_TRAINING_PIXELS: usize = 1 << 21;
/// Most bytes of rendered frames [`write_rendered`] keeps in memory; beyond this it renders
/// every frame twice (once to learn the palette, once to write) instead.
const FRAME_MEMORY_BUDGET: usize = 512 << 20;

/// Writes `frames` as a GIF animation that loops forever, showing each frame for `delay_cs`
/// hundredths of a second.
///
/// All frames must have the same size (at most 65535 pixels a side). Alpha is ignored. When the
/// frames hold more than 256 colours, the most frequent colour (usually the background) is kept
/// exactly and the rest are quantized with NeuQuant into one palette for all frames.
pub fn write_gif_frames(frames: &[RgbaImage], path: &Path, delay_cs: u16) -> Result<()> {
    let size = frame_size(frames, path)?;
    let palette = Palette::from_frames(frames, None);
    write_indexed(path, size, delay_cs, &palette, frames.len(), |i| palette.index_frame(&frames[i]))
}

/// Writes `count` frames of `size` x `size` pixels, frame `i` being `render(i)`, as a looping
/// GIF whose palette keeps `background` exact.
///
/// Frames are rendered in parallel and kept in memory when they fit [`FRAME_MEMORY_BUDGET`];
/// otherwise each is rendered twice so that memory stays at a few frames.
pub(crate) fn write_rendered<F>(
    count: usize,
    size: u32,
    render: F,
    path: &Path,
    delay_cs: u16,
    background: [u8; 3],
) -> Result<()>
where
    F: Fn(usize) -> RgbaImage + Sync,
{
    let frames = RenderedFrames { count, size, render, memory_budget: FRAME_MEMORY_BUDGET };
    frames.write(path, delay_cs, background)
}

/// Frames produced on demand by a renderer.
struct RenderedFrames<F> {
    count: usize,
    size: u32,
    render: F,
    /// Most bytes of frames to keep in memory at once.
    memory_budget: usize,
}

impl<F: Fn(usize) -> RgbaImage + Sync> RenderedFrames<F> {
    /// See [`write_rendered`].
    fn write(&self, path: &Path, delay_cs: u16, background: [u8; 3]) -> Result<()> {
        let side = u16::try_from(self.size).ok().filter(|&s| s > 0).ok_or_else(|| {
            gif_invalid(path, &format!("frame size {} does not fit a gif", self.size))
        })?;
        let bytes = self.count.saturating_mul(self.pixels() * 4);
        if bytes <= self.memory_budget {
            self.write_kept(path, side, delay_cs, background)
        } else {
            tracing::debug!(bytes, "gif frames exceed the memory budget: rendering them twice");
            self.write_twice(path, side, delay_cs, background)
        }
    }

    fn pixels(&self) -> usize {
        self.size as usize * self.size as usize
    }

    /// Renders all frames in parallel, keeps them, builds the palette and writes them.
    fn write_kept(&self, path: &Path, side: u16, delay_cs: u16, background: [u8; 3]) -> Result<()> {
        let frames: Vec<RgbaImage> = (0..self.count).into_par_iter().map(&self.render).collect();
        let palette = Palette::from_frames(&frames, Some(background));
        let index = |i: usize| palette.index_frame(&frames[i]);
        write_indexed(path, (side, side), delay_cs, &palette, self.count, index)
    }

    /// Renders every frame once to learn the palette and again, one by one, to write it.
    fn write_twice(
        &self,
        path: &Path,
        side: u16,
        delay_cs: u16,
        background: [u8; 3],
    ) -> Result<()> {
        let pixels = self.pixels();
        let stride = (self.count * pixels).div_ceil(MAX_TRAINING_PIXELS).max(1);
        let (histogram, training) = (0..self.count)
            .into_par_iter()
            .map(|i| {
                let frame = (self.render)(i);
                (count_colors(&frame), sample_pixels(&frame, i * pixels, stride))
            })
            .reduce(|| (ColorMap::default(), Vec::new()), merge_stats);
        let palette = Palette::new(histogram, &training, Some(background));
        let index = |i: usize| palette.index_frame(&(self.render)(i));
        write_indexed(path, (side, side), delay_cs, &palette, self.count, index)
    }
}

/// Writes `count` frames, frame `i` given as palette indices by `indices(i)`.
fn write_indexed(
    path: &Path,
    (width, height): (u16, u16),
    delay_cs: u16,
    palette: &Palette,
    count: usize,
    indices: impl Fn(usize) -> Vec<u8>,
) -> Result<()> {
    write_atomic(path, |out| {
        let fail = |e: gif::EncodingError| gif_error(path, e);
        let mut encoder = gif::Encoder::new(out, width, height, &palette.flat()).map_err(fail)?;
        encoder.set_repeat(gif::Repeat::Infinite).map_err(fail)?;
        for i in 0..count {
            let frame = gif::Frame {
                width,
                height,
                buffer: Cow::Owned(indices(i)),
                delay: delay_cs,
                ..gif::Frame::default()
            };
            encoder.write_frame(&frame).map_err(fail)?;
        }
        // `into_inner` writes the trailer and reports its error, which dropping would swallow.
        encoder.into_inner().map_err(|e| Error::io(path, e))?;
        Ok(())
    })
}

/// The common size of `frames`, checked to fit a GIF.
fn frame_size(frames: &[RgbaImage], path: &Path) -> Result<(u16, u16)> {
    let first = frames.first().ok_or_else(|| gif_invalid(path, "no frames to write"))?;
    let (w, h) = first.dimensions();
    if frames.iter().any(|f| f.dimensions() != (w, h)) {
        return Err(gif_invalid(path, "frames differ in size"));
    }
    match (u16::try_from(w), u16::try_from(h)) {
        (Ok(w), Ok(h)) if w > 0 && h > 0 => Ok((w, h)),
        _ => Err(gif_invalid(path, &format!("frame size {w}x{h} does not fit a gif"))),
    }
}

fn gif_invalid(path: &Path, reason: &str) -> Error {
    Error::invalid("gif frames", format!("{}: {reason}", path.display()))
}

fn gif_error(path: &Path, e: gif::EncodingError) -> Error {
    match e {
        gif::EncodingError::Io(e) => Error::io(path, e),
        other => Error::io(path, io::Error::other(format!("gif encoding: {other}"))),
    }
}

/// A colour packed as `0xRRGGBB`.
type Packed = u32;

fn pack(p: &image::Rgba<u8>) -> Packed {
    (u32::from(p[0]) << 16) | (u32::from(p[1]) << 8) | u32::from(p[2])
}

fn unpack(c: Packed) -> [u8; 3] {
    [(c >> 16) as u8, (c >> 8) as u8, c as u8]
}

/// Hashes a packed colour with one multiply, folding the high half of the product into the
/// low half so every channel reaches the bits a hash table indexes by (the standard SipHash is
/// several times slower on the millions of pixels of an animation).
#[derive(Default)]
struct ColorHasher(u64);

impl Hasher for ColorHasher {
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 32)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u32(u32::from(b) ^ (self.0 as u32).rotate_left(8));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by packed colour.
type ColorMap<V> = HashMap<Packed, V, BuildHasherDefault<ColorHasher>>;

/// One palette for all frames and the palette index of every colour that occurs in them.
struct Palette {
    colors: Vec<[u8; 3]>,
    index_of: ColorMap<u8>,
}

impl Palette {
    /// The palette for frames held in memory (see [`Palette::new`]).
    fn from_frames(frames: &[RgbaImage], exact: Option<[u8; 3]>) -> Self {
        let pixels = frames.first().map_or(0, |f| f.pixels().len());
        let total = frames.len() * pixels;
        let stride = total.div_ceil(MAX_TRAINING_PIXELS).max(1);
        let (histogram, training) = frames
            .par_iter()
            .enumerate()
            .map(|(i, f)| (count_colors(f), sample_pixels(f, i * pixels, stride)))
            .reduce(|| (ColorMap::default(), Vec::new()), merge_stats);
        Palette::new(histogram, &training, exact)
    }

    /// Exact colours when the histogram has at most 256, else `exact` (or the most frequent
    /// colour) plus 255 colours NeuQuant learns from the `training` pixels (RGBA).
    fn new(histogram: ColorMap<u32>, training: &[u8], exact: Option<[u8; 3]>) -> Self {
        if histogram.len() <= MAX_COLORS {
            tracing::debug!(colors = histogram.len(), "gif palette: exact colours");
            return Self::exact(&histogram);
        }
        tracing::debug!(colors = histogram.len(), "gif palette: quantizing with neuquant");
        let most_frequent = || histogram.iter().max_by_key(|&(&c, &n)| (n, c)).map(|(&c, _)| c);
        let keep = exact.or_else(|| most_frequent().map(unpack)).unwrap_or_default();
        Self::quantized(&histogram, training, keep)
    }

    /// Every colour of the histogram, most frequent first.
    fn exact(histogram: &ColorMap<u32>) -> Self {
        let mut by_count: Vec<(Packed, u32)> = histogram.iter().map(|(&c, &n)| (c, n)).collect();
        by_count.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let colors = by_count.iter().map(|&(c, _)| unpack(c)).collect();
        let index_of = by_count.iter().enumerate().map(|(i, &(c, _))| (c, i as u8)).collect();
        Palette { colors, index_of }
    }

    /// `keep` followed by 255 colours NeuQuant learns from the training pixels of other colours.
    fn quantized(histogram: &ColorMap<u32>, training: &[u8], keep: [u8; 3]) -> Self {
        let others: Vec<u8> =
            training.chunks_exact(4).filter(|p| p[..3] != keep).flatten().copied().collect();
        let quant = NeuQuant::new(SAMPLE_FACTOR, MAX_COLORS - 1, &others);
        let mut colors = vec![keep];
        colors.extend(quant.color_map_rgb().chunks_exact(3).map(|c| [c[0], c[1], c[2]]));
        let index_of = histogram
            .par_iter()
            .map(|(&c, _)| {
                let rgb = unpack(c);
                // NeuQuant's own indices are one lower: `keep` comes first.
                let learned = 1 + quant.index_of(&[rgb[0], rgb[1], rgb[2], 255]);
                let keep_is_closer = distance(keep, rgb) <= distance(colors[learned], rgb);
                (c, if keep_is_closer { 0 } else { learned as u8 })
            })
            .collect();
        Palette { colors, index_of }
    }

    /// Palette indices of a frame's pixels.
    fn index_frame(&self, frame: &RgbaImage) -> Vec<u8> {
        let mut last = None;
        frame
            .pixels()
            .map(|p| {
                let c = pack(p);
                match last {
                    Some((lc, li)) if lc == c => li,
                    _ => {
                        let i = self.index_of.get(&c).copied().unwrap_or(0);
                        last = Some((c, i));
                        i
                    }
                }
            })
            .collect()
    }

    /// The palette as `r, g, b, r, g, b, ...`.
    fn flat(&self) -> Vec<u8> {
        self.colors.iter().flatten().copied().collect()
    }
}

/// How often each colour occurs in a frame.
fn count_colors(frame: &RgbaImage) -> ColorMap<u32> {
    let mut counts = ColorMap::default();
    // Runs of one colour (the background, flat faces) are counted with one table update.
    let mut run: Option<(Packed, u32)> = None;
    for c in frame.pixels().map(pack) {
        match &mut run {
            Some((rc, n)) if *rc == c => *n += 1,
            _ => {
                if let Some((rc, n)) = run {
                    *counts.entry(rc).or_insert(0) += n;
                }
                run = Some((c, 1));
            }
        }
    }
    if let Some((rc, n)) = run {
        *counts.entry(rc).or_insert(0) += n;
    }
    counts
}

/// Every `stride`-th pixel of the whole animation that falls in this frame, as opaque RGBA;
/// `offset` is the number of pixels in the frames before it.
fn sample_pixels(frame: &RgbaImage, offset: usize, stride: usize) -> Vec<u8> {
    let first = (stride - offset % stride) % stride;
    frame.pixels().skip(first).step_by(stride).flat_map(|p| [p[0], p[1], p[2], 255]).collect()
}

/// Adds up the colour counts and training pixels of two runs of frames.
fn merge_stats(
    (mut counts, mut pixels): (ColorMap<u32>, Vec<u8>),
    (more_counts, more_pixels): (ColorMap<u32>, Vec<u8>),
) -> (ColorMap<u32>, Vec<u8>) {
    for (c, n) in more_counts {
        *counts.entry(c).or_insert(0) += n;
    }
    pixels.extend(more_pixels);
    (counts, pixels)
}

/// Squared distance between two colours.
fn distance(a: [u8; 3], b: [u8; 3]) -> u32 {
    (0..3).map(|i| u32::from(a[i].abs_diff(b[i])).pow(2)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgba;

    fn gradient(w: u32, h: u32, shift: u8) -> RgbaImage {
        RgbaImage::from_fn(w, h, |x, y| {
            if x < w / 2 {
                Rgba([240, 240, 236, 255])
            } else {
                Rgba([(x * 2) as u8, (y * 2) as u8, shift * 8, 255])
            }
        })
    }

    #[test]
    fn few_colours_are_kept_exactly() {
        let frames = [
            RgbaImage::from_pixel(4, 4, Rgba([1, 2, 3, 255])),
            RgbaImage::from_pixel(4, 4, Rgba([9, 8, 7, 255])),
        ];
        let p = Palette::from_frames(&frames, None);
        assert_eq!(p.colors.len(), 2);
        assert_eq!(p.index_frame(&frames[1]), vec![p.index_of[&0x090807]; 16]);
        assert_eq!(p.colors[usize::from(p.index_of[&0x090807])], [9, 8, 7]);
    }

    #[test]
    fn many_colours_fit_256_and_keep_the_background_exact() {
        let frames: Vec<_> = (0..4).map(|i| gradient(64, 64, i)).collect();
        let p = Palette::from_frames(&frames, Some([240, 240, 236]));
        assert!(count_colors(&frames[1]).len() > 256);
        assert!(p.colors.len() <= 256);
        let indices = p.index_frame(&frames[0]);
        assert_eq!(p.colors[usize::from(indices[0])], [240, 240, 236]);
        // The quantized half stays close to its colours.
        let (x, y) = (50u32, 30u32);
        let got = p.colors[usize::from(indices[(y * 64 + x) as usize])];
        let want = frames[0].get_pixel(x, y);
        for c in 0..3 {
            assert!((i32::from(got[c]) - i32::from(want[c])).abs() < 16, "{got:?} {want:?}");
        }
    }

    #[test]
    fn rendering_twice_writes_the_same_file_as_keeping_frames() {
        let dir = tempfile::tempdir().unwrap();
        let render = |i: usize| gradient(48, 48, i as u8);
        let write = |name: &str, memory_budget: usize| {
            let path = dir.path().join(name);
            let frames = RenderedFrames { count: 5, size: 48, render, memory_budget };
            frames.write(&path, 4, [240, 240, 236]).unwrap();
            std::fs::read(path).unwrap()
        };
        let kept = write("kept.gif", usize::MAX);
        assert_eq!(kept, write("twice.gif", 0));
        assert!(kept.len() > 1000);
    }

    #[test]
    fn rejects_mismatched_or_missing_frames() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.gif");
        assert!(write_gif_frames(&[], &path, 5).is_err());
        let frames = [RgbaImage::new(4, 4), RgbaImage::new(5, 4)];
        let err = write_gif_frames(&frames, &path, 5).unwrap_err().to_string();
        assert!(err.contains("a.gif") && err.contains("differ"), "{err}");
        assert!(!path.exists());
    }
}
