//! The CPU renderer: ray casting through a voxel grid, turntable GIFs and PNG stills.
//!
//! An orthographic camera orbits the centre of the occupied voxels at a fixed elevation, with
//! Z up on screen, framing the bounding sphere of the occupied voxels (one scale for every frame
//! of a turntable, and the creature fills the picture). Each pixel's ray walks the grid cell by
//! cell (3D DDA), jumping across empty space, to the first filled voxel, whose face is lit by a
//! shadow-casting key light, a fill light and a sky/ground ambient that turn with the camera, and
//! darkened by per-corner ambient occlusion. Pixels on contrasting edges get four more rays. Rows
//! render in parallel.

mod camera;
mod frame;
mod gif;
mod raycast;
mod shade;
mod skip;

use std::f32::consts::{FRAC_PI_4, TAU};
use std::io;
use std::path::Path;
use std::time::Instant;

use image::codecs::png::PngEncoder;
use image::{ImageEncoder, RgbaImage};

pub use self::gif::write_gif_frames;
use crate::error::{Error, Result};
use crate::format::atomic::write_atomic;
use crate::voxel::VoxelGrid;
use frame::Scene;

/// Smallest image edge [`RenderConfig::validate`] accepts, in pixels.
pub const MIN_SIZE: u32 = 16;
/// Largest image edge [`RenderConfig::validate`] accepts, in pixels.
pub const MAX_SIZE: u32 = 2048;
/// Most frames [`RenderConfig::validate`] accepts for a turntable.
pub const MAX_FRAMES: usize = 360;
/// Yaw of the 3/4 view used for stills and the first turntable frame: the camera stands off
/// the creature's front (-Y, where glTF's +Z front lands) and its +X side.
pub const THREE_QUARTER_YAW: f32 = -FRAC_PI_4;
/// Hundredths of a second one turn of the turntable takes.
const TURN_CS: f32 = 300.0;
/// Shortest frame delay browsers honour; they slow shorter ones down to 10.
const MIN_DELAY_CS: u16 = 2;

/// How images are rendered.
#[derive(Clone, Debug, PartialEq)]
pub struct RenderConfig {
    /// Width and height of the square image, in pixels.
    pub size: u32,
    /// Frames in one turn of a turntable GIF.
    pub frames: usize,
    /// Camera elevation above the horizon, in degrees.
    pub elevation_deg: f32,
    /// Background colour (sRGB), kept exact in GIF palettes.
    pub background: [u8; 3],
}

impl Default for RenderConfig {
    fn default() -> Self {
        RenderConfig { size: 256, frames: 36, elevation_deg: 25.0, background: [236, 237, 240] }
    }
}

impl RenderConfig {
    /// Checks the size (16..=2048), frame count (1..=360) and elevation (finite, within ±89°).
    pub fn validate(&self) -> Result<()> {
        if !(MIN_SIZE..=MAX_SIZE).contains(&self.size) {
            let reason = format!("{} (must be between {MIN_SIZE} and {MAX_SIZE})", self.size);
            return Err(Error::invalid("render size", reason));
        }
        if !(1..=MAX_FRAMES).contains(&self.frames) {
            let reason = format!("{} (must be between 1 and {MAX_FRAMES})", self.frames);
            return Err(Error::invalid("frame count", reason));
        }
        if !(self.elevation_deg.is_finite() && self.elevation_deg.abs() <= 89.0) {
            let reason = format!("{} degrees (must be between -89 and 89)", self.elevation_deg);
            return Err(Error::invalid("camera elevation", reason));
        }
        Ok(())
    }

    /// Frame delay, in hundredths of a second, so that one turn takes about three seconds.
    pub fn frame_delay_cs(&self) -> u16 {
        let delay = (TURN_CS / self.frames.max(1) as f32).round();
        (delay as u16).max(MIN_DELAY_CS)
    }

    /// Size, elevation (radians) and background with out-of-range values clamped, so that
    /// rendering never fails or allocates without bound.
    fn sanitized(&self) -> (u32, f32, [u8; 3]) {
        let elevation = if self.elevation_deg.is_finite() { self.elevation_deg } else { 25.0 };
        (self.size.clamp(1, MAX_SIZE), elevation.clamp(-89.0, 89.0).to_radians(), self.background)
    }
}

/// Renders `grid` seen from `yaw` radians about the vertical Z axis (0 looks along -X; see
/// [`THREE_QUARTER_YAW`]) as an opaque square image.
///
/// An empty grid gives a background-only image. Values [`RenderConfig::validate`] would reject
/// are clamped into range rather than failing.
pub fn render_frame(grid: &VoxelGrid, yaw: f32, cfg: &RenderConfig) -> RgbaImage {
    let (size, elevation, background) = cfg.sanitized();
    let yaw = if yaw.is_finite() { yaw } else { 0.0 };
    Scene::new(grid).render(yaw, elevation, size, background)
}

/// Writes a turntable GIF of `grid`: `cfg.frames` views evenly around the vertical axis,
/// starting at the 3/4 view, one turn in about three seconds, looping forever, all frames
/// sharing one global palette in which the background is exact.
pub fn write_gif(grid: &VoxelGrid, path: &Path, cfg: &RenderConfig) -> Result<()> {
    cfg.validate()?;
    let start = Instant::now();
    let (size, elevation, background) = cfg.sanitized();
    let scene = Scene::new(grid);
    let render = |i| scene.render(turntable_yaw(i, cfg.frames), elevation, size, background);
    gif::write_rendered(cfg.frames, size, render, path, cfg.frame_delay_cs(), background)?;
    tracing::info!(
        path = %path.display(),
        frames = cfg.frames,
        size,
        ms = start.elapsed().as_millis() as u64,
        "wrote turntable gif"
    );
    Ok(())
}

/// Writes a PNG still of `grid` from the 3/4 view.
pub fn write_png(grid: &VoxelGrid, path: &Path, cfg: &RenderConfig) -> Result<()> {
    cfg.validate()?;
    let image = render_frame(grid, THREE_QUARTER_YAW, cfg);
    let rgb: Vec<u8> = image.pixels().flat_map(|p| [p[0], p[1], p[2]]).collect();
    write_atomic(path, |out| {
        PngEncoder::new(out)
            .write_image(&rgb, image.width(), image.height(), image::ExtendedColorType::Rgb8)
            .map_err(|e| Error::io(path, io::Error::other(format!("png encoding: {e}"))))
    })?;
    tracing::info!(path = %path.display(), size = image.width(), "wrote png still");
    Ok(())
}

/// Yaw of frame `i` of `frames` evenly spaced ones, starting at the 3/4 view.
fn turntable_yaw(i: usize, frames: usize) -> f32 {
    THREE_QUARTER_YAW + TAU * i as f32 / frames.max(1) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_config_is_valid() {
        let cfg = RenderConfig::default();
        assert!(cfg.validate().is_ok());
        assert_eq!((cfg.size, cfg.frames), (256, 36));
    }

    #[test]
    fn validate_rejects_out_of_range_values() {
        let bad = [
            RenderConfig { size: 15, ..RenderConfig::default() },
            RenderConfig { size: 2049, ..RenderConfig::default() },
            RenderConfig { frames: 0, ..RenderConfig::default() },
            RenderConfig { frames: 361, ..RenderConfig::default() },
            RenderConfig { elevation_deg: f32::NAN, ..RenderConfig::default() },
            RenderConfig { elevation_deg: 90.0, ..RenderConfig::default() },
        ];
        for cfg in bad {
            assert!(cfg.validate().is_err(), "{cfg:?}");
        }
    }

    #[test]
    fn one_turn_takes_about_three_seconds() {
        for frames in [24usize, 36, 60] {
            let cfg = RenderConfig { frames, ..RenderConfig::default() };
            let turn = f32::from(cfg.frame_delay_cs()) * frames as f32;
            assert!((turn - 300.0).abs() <= frames as f32 * 0.5, "{frames}: {turn}");
        }
        assert_eq!(RenderConfig { frames: 360, ..RenderConfig::default() }.frame_delay_cs(), 2);
    }

    #[test]
    fn turntable_yaws_cover_one_turn_evenly() {
        assert_eq!(turntable_yaw(0, 36), THREE_QUARTER_YAW);
        let step = turntable_yaw(1, 4) - turntable_yaw(0, 4);
        assert!((step - TAU / 4.0).abs() < 1e-6);
    }
}
