//! Layers every 3D model family shares: group norm, residual conv block, strided down and up
//! steps. Each takes a var-store path so checkpoint keys stay stable (`enc.res0.conv1.weight`).

use tch::nn::{self, Module};
use tch::Tensor;

/// Number of group-norm groups for `channels`: about four channels a group, at most eight
/// groups. Channel counts are powers of two here, so the division is exact.
pub fn groups_for(channels: i64) -> i64 {
    (channels / 4).clamp(1, 8)
}

/// Group norm over `channels`; independent of the batch size, so training and sampling see
/// the same layer (no running statistics to drift).
pub fn norm(vs: nn::Path, channels: i64) -> nn::GroupNorm {
    nn::group_norm(vs, groups_for(channels), channels, Default::default())
}

/// A 3x3x3 convolution that keeps the spatial size.
pub fn conv3(vs: nn::Path, c_in: i64, c_out: i64) -> nn::Conv3D {
    nn::conv3d(vs, c_in, c_out, 3, nn::ConvConfig { padding: 1, ..Default::default() })
}

/// A 4x4x4 stride-2 convolution that halves every spatial edge.
pub fn down(vs: nn::Path, c_in: i64, c_out: i64) -> nn::Conv3D {
    let cfg = nn::ConvConfig { stride: 2, padding: 1, ..Default::default() };
    nn::conv3d(vs, c_in, c_out, 4, cfg)
}

/// A 4x4x4 stride-2 transposed convolution that doubles every spatial edge.
pub fn up(vs: nn::Path, c_in: i64, c_out: i64) -> nn::ConvTranspose3D {
    let cfg = nn::ConvTransposeConfig { stride: 2, padding: 1, ..Default::default() };
    nn::conv_transpose3d(vs, c_in, c_out, 4, cfg)
}

/// Pre-activation residual block: `x + conv(silu(norm(conv(silu(norm(x))))))`, with a 1x1x1
/// projection on the skip path when the channel count changes.
#[derive(Debug)]
pub struct ResBlock3d {
    norm1: nn::GroupNorm,
    conv1: nn::Conv3D,
    norm2: nn::GroupNorm,
    conv2: nn::Conv3D,
    skip: Option<nn::Conv3D>,
}

impl ResBlock3d {
    /// A block from `c_in` to `c_out` channels under the var-store path `vs`.
    pub fn new(vs: nn::Path, c_in: i64, c_out: i64) -> Self {
        let skip =
            (c_in != c_out).then(|| nn::conv3d(&vs / "skip", c_in, c_out, 1, Default::default()));
        ResBlock3d {
            norm1: norm(&vs / "norm1", c_in),
            conv1: conv3(&vs / "conv1", c_in, c_out),
            norm2: norm(&vs / "norm2", c_out),
            conv2: conv3(&vs / "conv2", c_out, c_out),
            skip,
        }
    }
}

impl Module for ResBlock3d {
    fn forward(&self, xs: &Tensor) -> Tensor {
        let h = xs.apply(&self.norm1).silu().apply(&self.conv1);
        let h = h.apply(&self.norm2).silu().apply(&self.conv2);
        match &self.skip {
            Some(skip) => xs.apply(skip) + h,
            None => xs + h,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn shapes_follow_the_layers() {
        let vs = nn::VarStore::new(Device::Cpu);
        let root = vs.root();
        let x = Tensor::randn([2, 4, 8, 8, 8], (Kind::Float, Device::Cpu));
        let block = ResBlock3d::new(&root / "res", 4, 8);
        assert_eq!(x.apply(&block).size(), vec![2, 8, 8, 8, 8]);
        assert_eq!(x.apply(&down(&root / "down", 4, 6)).size(), vec![2, 6, 4, 4, 4]);
        assert_eq!(x.apply(&up(&root / "up", 4, 3)).size(), vec![2, 3, 16, 16, 16]);
        assert!(vs.variables().contains_key("res.skip.weight"));
    }

    #[test]
    fn group_counts_divide_the_channels() {
        for c in [1, 2, 4, 8, 16, 32, 64, 128, 256] {
            assert_eq!(c % groups_for(c), 0, "{c} channels");
        }
    }
}
