//! The CPU renderer: ray casting through a voxel grid, turntable GIFs and PNG stills.
