//! Readers for the input formats (OBJ + MTL, glTF / GLB, MagicaVoxel `.vox`).
//!
//! This is the only module that opens input paths, and the only one that decides whether a path
//! referenced from inside a file (MTL, texture, glTF URI) stays inside the folder it may read.

mod types;

pub use types::{
    linear_to_srgb, srgb_to_linear, Image, Material, Mesh, TextureRef, Triangle, Voxels, Wrap,
};
