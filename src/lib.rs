//! voxgen turns a folder of 3D meshes into new voxel creatures.
//!
//! The data path is one line: a mesh file is read into a [`mesh::Mesh`], voxelized into a
//! [`voxel::VoxelGrid`], turned into a `[4, N, N, N]` tensor for the models, and the grids the
//! models produce are written back out as MagicaVoxel `.vox`, glTF `.glb` and GIF/PNG renders.
//!
//! Conventions that hold everywhere inside the crate:
//! - Axes: right-handed and **Z-up**, like MagicaVoxel. Grid index `(x, y, z)` has `z` pointing up.
//!   Readers of Y-up formats (glTF, OBJ) rotate into this frame; the glTF writer rotates back.
//! - Colours: [`voxel::VoxelGrid`] stores sRGB bytes; meshes carry linear floats so that
//!   averaging is done in linear space.
//! - Tensor layout: see [`model::tensor`].
#![warn(missing_docs)]

pub mod cli;
pub mod dataset;
pub mod error;
pub mod format;
pub mod mesh;
pub mod model;
pub mod pipeline;
pub mod render;
pub mod train;
pub mod voxel;
pub mod watch;

pub use error::{Error, Result};
