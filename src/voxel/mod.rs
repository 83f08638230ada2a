//! Voxel grids and everything that makes or reshapes them: fitting a mesh into a grid, surface
//! overlap, solid fill, colour, resampling.

mod clip;
mod color;
mod config;
mod fill;
mod fit;
mod grid;
mod overlap;
mod spread;
mod surface;

pub use grid::{VoxelGrid, MAX_EDGE};
pub use config::VoxelizeConfig;
