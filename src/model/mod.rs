//! Generative models on voxel grids, one file per family, plus the tensor layout they share.

pub mod tensor;
