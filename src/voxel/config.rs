//! [`VoxelizeConfig`]: the grid size, margin and fill mode every voxelization uses.

use crate::error::{Error, Result};

/// Smallest grid edge voxelization accepts.
pub const MIN_RESOLUTION: usize = 8;

/// How a mesh or a voxel model is fitted into a cube grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VoxelizeConfig {
    /// Edge of the cube grid, `8..=256`.
    pub resolution: usize,
    /// Empty voxels kept free on every side; the longest extent fills `resolution - 2 * margin`.
    pub margin: usize,
    /// Keep only the surface voxels instead of filling the inside.
    pub shell: bool,
}

impl Default for VoxelizeConfig {
    fn default() -> Self {
        VoxelizeConfig { resolution: 32, margin: 0, shell: false }
    }
}

impl VoxelizeConfig {
    /// Checks the resolution range and that the margin leaves at least one voxel of room.
    pub fn validate(&self) -> Result<()> {
        let max = super::MAX_EDGE;
        if !(MIN_RESOLUTION..=max).contains(&self.resolution) {
            return Err(Error::invalid(
                "resolution",
                format!("{} (must be between {MIN_RESOLUTION} and {max})", self.resolution),
            ));
        }
        if self.margin.saturating_mul(2) >= self.resolution {
            return Err(Error::invalid(
                "margin",
                format!(
                    "{} leaves no room in a grid of {} (at most {})",
                    self.margin,
                    self.resolution,
                    (self.resolution - 1) / 2
                ),
            ));
        }
        Ok(())
    }

    /// Voxels the longest extent of a fitted model spans.
    pub(crate) fn room(&self) -> usize {
        self.resolution - 2 * self.margin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        let cfg = VoxelizeConfig::default();
        assert_eq!((cfg.resolution, cfg.margin, cfg.shell), (32, 0, false));
        assert!(cfg.validate().is_ok());
        assert_eq!(cfg.room(), 32);
    }

    #[test]
    fn rejects_out_of_range_resolution() {
        for resolution in [0, 7, 257, 1000] {
            let cfg = VoxelizeConfig { resolution, ..Default::default() };
            let err = cfg.validate().unwrap_err().to_string();
            assert!(err.starts_with("invalid resolution"), "{err}");
        }
        assert!(VoxelizeConfig { resolution: 8, ..Default::default() }.validate().is_ok());
        assert!(VoxelizeConfig { resolution: 256, ..Default::default() }.validate().is_ok());
    }

    #[test]
    fn margin_must_leave_a_voxel() {
        let ok = VoxelizeConfig { resolution: 9, margin: 4, shell: false };
        assert!(ok.validate().is_ok());
        assert_eq!(ok.room(), 1);
        let bad = VoxelizeConfig { resolution: 8, margin: 4, shell: false };
        let err = bad.validate().unwrap_err().to_string();
        assert!(err.starts_with("invalid margin"), "{err}");
        let huge = VoxelizeConfig { resolution: 32, margin: usize::MAX, shell: false };
        assert!(huge.validate().is_err());
    }
}
