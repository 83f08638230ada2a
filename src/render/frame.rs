//! One frame: a ray through every pixel centre, extra rays where neighbouring pixels contrast
//! (adaptive anti-aliasing), and the result as opaque sRGB.

use glam::Vec3;
use image::{Rgba, RgbaImage};
use rayon::prelude::*;

use super::camera::{Camera, Framing};
use super::raycast::{Hit, Volume};
use super::shade::{self, Lighting};
use crate::voxel::VoxelGrid;

/// Pixels whose colour differs from a neighbour's by more than this (in any sRGB channel) get
/// extra rays.
const AA_THRESHOLD: u8 = 12;
/// Extra sample positions inside a pixel (rotated grid), relative to its top-left corner.
const SUBSAMPLES: [(f32, f32); 4] =
    [(0.375, 0.125), (0.875, 0.375), (0.625, 0.875), (0.125, 0.625)];

/// A grid prepared for rendering from any direction.
pub(crate) struct Scene<'a> {
    grid: &'a VoxelGrid,
    /// Occupancy of the occupied box; `None` for an empty grid.
    volume: Option<Volume>,
    framing: Framing,
}

impl<'a> Scene<'a> {
    /// Copies the occupancy of `grid`'s occupied box and frames it.
    pub fn new(grid: &'a VoxelGrid) -> Self {
        let volume = Volume::new(grid);
        let (lo, hi) = match &volume {
            Some(v) => v.bounds(),
            None => ([0; 3], grid.dims().map(|d| d.saturating_sub(1))),
        };
        Scene { grid, volume, framing: Framing::new(lo, hi) }
    }

    /// Renders a square image of `size` pixels seen from `yaw` and `elevation` (radians).
    pub fn render(&self, yaw: f32, elevation: f32, size: u32, background: [u8; 3]) -> RgbaImage {
        let Some(volume) = &self.volume else {
            let [r, g, b] = background;
            return RgbaImage::from_pixel(size, size, Rgba([r, g, b, 255]));
        };
        let camera = Camera::orbit(&self.framing, yaw, elevation, size);
        let view = View {
            grid: self.grid,
            volume,
            origin: volume.origin(),
            lighting: Lighting::for_camera(&camera),
            camera,
            background,
        };
        let centres = view.trace_centres(size);
        view.antialias(&centres, size)
    }
}

/// One camera's view of a scene.
struct View<'a> {
    grid: &'a VoxelGrid,
    volume: &'a Volume,
    /// Grid position of the volume's origin, subtracted from rays.
    origin: Vec3,
    camera: Camera,
    lighting: Lighting,
    background: [u8; 3],
}

impl View<'_> {
    /// The sRGB colour at every pixel centre, row by row.
    fn trace_centres(&self, size: u32) -> Vec<[u8; 3]> {
        let mut out = vec![[0u8; 3]; (size * size) as usize];
        out.par_chunks_mut(size as usize).enumerate().for_each(|(y, row)| {
            for (x, px) in row.iter_mut().enumerate() {
                *px = match self.sample(x as f32 + 0.5, y as f32 + 0.5) {
                    Some(c) => c.to_array().map(shade::linear_to_srgb),
                    None => self.background,
                };
            }
        });
        out
    }

    /// Re-renders the pixels on contrasting edges with extra rays and builds the image.
    fn antialias(&self, centres: &[[u8; 3]], size: u32) -> RgbaImage {
        let n = size as usize;
        let mut rgba = vec![0u8; n * n * 4];
        rgba.par_chunks_mut(n * 4).enumerate().for_each(|(y, row)| {
            for x in 0..n {
                let c = if on_edge(centres, n, x, y) {
                    self.supersample(x, y, centres[y * n + x])
                } else {
                    centres[y * n + x]
                };
                row[x * 4..x * 4 + 4].copy_from_slice(&[c[0], c[1], c[2], 255]);
            }
        });
        // The buffer has exactly size * size * 4 bytes, so this always succeeds.
        RgbaImage::from_raw(size, size, rgba).unwrap_or_else(|| RgbaImage::new(size, size))
    }

    /// The average of the centre colour and four more rays inside pixel `(x, y)`.
    fn supersample(&self, x: usize, y: usize, centre: [u8; 3]) -> [u8; 3] {
        let background = Vec3::from_array(self.background.map(shade::srgb_to_linear));
        let mut sum = Vec3::from_array(centre.map(shade::srgb_to_linear));
        let mut hits = usize::from(centre != self.background);
        for (dx, dy) in SUBSAMPLES {
            match self.sample(x as f32 + dx, y as f32 + dy) {
                Some(c) => (sum, hits) = (sum + c, hits + 1),
                None => sum += background,
            }
        }
        if hits == 0 {
            return self.background;
        }
        (sum / (SUBSAMPLES.len() + 1) as f32).to_array().map(shade::linear_to_srgb)
    }

    /// Linear colour seen through image point `(px, py)`; `None` when the ray misses.
    fn sample(&self, px: f32, py: f32) -> Option<Vec3> {
        let (origin, dir) = self.camera.ray(px, py);
        let hit = self.volume.cast(origin - self.origin, dir)?;
        Some(self.shade(&hit))
    }

    /// Lit colour of a hit.
    fn shade(&self, hit: &Hit) -> Vec3 {
        let [x, y, z] = self.volume.to_grid(hit.cell);
        let albedo = self.grid.get(x, y, z).unwrap_or(self.background).map(shade::srgb_to_linear);
        let ao = shade::face_ao(self.volume, hit);
        let lit = shade::sees_light(self.volume, hit, self.lighting.key);
        self.lighting.shade(shade::normal(hit), Vec3::from_array(albedo), ao, lit)
    }
}

/// True when pixel `(x, y)` of an `n`-wide image contrasts with one of its four neighbours.
fn on_edge(px: &[[u8; 3]], n: usize, x: usize, y: usize) -> bool {
    let c = px[y * n + x];
    let differs = |o: [u8; 3]| (0..3).any(|i| c[i].abs_diff(o[i]) > AA_THRESHOLD);
    (x > 0 && differs(px[y * n + x - 1]))
        || (x + 1 < n && differs(px[y * n + x + 1]))
        || (y > 0 && differs(px[(y - 1) * n + x]))
        || (y + 1 < n && differs(px[(y + 1) * n + x]))
}
