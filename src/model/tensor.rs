//! The one place that fixes how a [`VoxelGrid`] becomes a tensor.
//!
//! Layout: `[C, X, Y, Z]` (a batch adds a leading `B`) with `C = 4` channels in this order:
//! 0. occupancy: `1.0` filled, `-1.0` empty;
//! 1. red, 2. green, 3. blue: sRGB scaled from `0..=255` to `[-1, 1]`; `0.0` in empty cells.
//!
//! Z is up, as everywhere in voxgen.

use tch::{Kind, Tensor};

use crate::error::{Error, Result};
use crate::voxel::VoxelGrid;

/// Number of channels in the model tensor.
pub const CHANNELS: usize = 4;
/// Channel index of occupancy.
pub const OCCUPANCY: i64 = 0;

/// Converts a grid to a `[4, X, Y, Z]` float tensor on the CPU.
pub fn to_tensor(grid: &VoxelGrid) -> Tensor {
    let [nx, ny, nz] = grid.dims();
    let plane = nx * ny * nz;
    let mut data = vec![0f32; CHANNELS * plane];
    data[..plane].fill(-1.0);
    for ([x, y, z], rgb) in grid.voxels() {
        let i = (x * ny + y) * nz + z;
        data[i] = 1.0;
        for (c, &v) in rgb.iter().enumerate() {
            data[(c + 1) * plane + i] = v as f32 / 127.5 - 1.0;
        }
    }
    Tensor::from_slice(&data).view([CHANNELS as i64, nx as i64, ny as i64, nz as i64])
}

/// Converts a `[4, X, Y, Z]` tensor (any device, any float kind) back to a grid: a cell is
/// filled where occupancy is above zero, and its colour is the clamped, rounded RGB.
pub fn from_tensor(t: &Tensor) -> Result<VoxelGrid> {
    let size = t.size();
    if size.len() != 4 || size[0] != CHANNELS as i64 {
        return Err(Error::invalid("tensor shape", format!("{size:?}, expected [4, X, Y, Z]")));
    }
    let dims = [size[1] as usize, size[2] as usize, size[3] as usize];
    let mut cells = vec![None; dims.iter().product()];
    let t = t.to_device(tch::Device::Cpu).to_kind(Kind::Float).contiguous();
    let data = Vec::<f32>::try_from(t.view([-1])).map_err(Error::Torch)?;
    let plane = dims[0] * dims[1] * dims[2];
    for x in 0..dims[0] {
        for y in 0..dims[1] {
            for z in 0..dims[2] {
                let i = (x * dims[1] + y) * dims[2] + z;
                if data[i] > 0.0 {
                    let channel = |c: usize| ((data[c * plane + i] + 1.0) * 127.5).round() as u8;
                    let cell = x + dims[0] * (y + dims[1] * z);
                    cells[cell] = Some([channel(1), channel(2), channel(3)]);
                }
            }
        }
    }
    VoxelGrid::from_cells(dims, &cells)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_tensor_round_trip() {
        let mut g = VoxelGrid::new([4, 5, 6]).unwrap();
        g.set(0, 0, 0, Some([0, 128, 255]));
        g.set(3, 4, 5, Some([10, 20, 30]));
        g.set(1, 2, 3, Some([255, 0, 7]));
        let t = to_tensor(&g);
        assert_eq!(t.size(), vec![4, 4, 5, 6]);
        assert_eq!(t.double_value(&[0, 3, 4, 5]), 1.0);
        assert_eq!(t.double_value(&[0, 2, 2, 2]), -1.0);
        assert_eq!(from_tensor(&t).unwrap(), g);
    }
}
