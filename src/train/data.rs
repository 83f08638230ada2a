//! The training set as one CPU tensor, with shuffling, batching and the x-mirror augmentation.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;
use tch::{Kind, Tensor};

use crate::error::{Error, Result};
use crate::model::tensor::{to_tensor, OCCUPANCY};
use crate::voxel::VoxelGrid;

/// Largest `pos_weight` given to filled cells in the occupancy loss.
const MAX_POS_WEIGHT: f64 = 10.0;

/// The training shapes, `[D, 4, N, N, N]` on the CPU.
#[derive(Debug)]
pub(crate) struct Dataset {
    shapes: Tensor,
    len: usize,
}

impl Dataset {
    /// Stacks the grids; each must be `resolution`³ and there must be at least one.
    pub(crate) fn new(grids: &[VoxelGrid], resolution: usize) -> Result<Dataset> {
        if grids.is_empty() {
            return Err(Error::invalid("training data", "no shapes to train on"));
        }
        for (i, grid) in grids.iter().enumerate() {
            let [x, y, z] = grid.dims();
            if [x, y, z] != [resolution; 3] {
                let reason = format!(
                    "shape {i} is {x}x{y}x{z}, expected {resolution}x{resolution}x{resolution}"
                );
                return Err(Error::invalid("training data", reason));
            }
        }
        let tensors: Vec<Tensor> = grids.iter().map(to_tensor).collect();
        Ok(Dataset { shapes: Tensor::stack(&tensors, 0), len: grids.len() })
    }

    /// Number of shapes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Fraction of filled cells over all shapes.
    pub(crate) fn filled_fraction(&self) -> f64 {
        let occupancy = self.shapes.select(1, OCCUPANCY);
        occupancy.gt(0.0).to_kind(Kind::Float).mean(Kind::Float).double_value(&[])
    }

    /// Weight of filled cells in the occupancy loss: the square root of the empty-to-filled
    /// ratio, between 1 and [`MAX_POS_WEIGHT`]. The full ratio makes the decoder fill every
    /// cell it is unsure of, and samples come out swollen.
    pub(crate) fn pos_weight(&self) -> f64 {
        let filled = self.filled_fraction().max(1e-6);
        ((1.0 - filled) / filled).sqrt().clamp(1.0, MAX_POS_WEIGHT)
    }

    /// A shuffled order of all shape indices.
    pub(crate) fn shuffled(&self, rng: &mut StdRng) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.len).collect();
        order.shuffle(rng);
        order
    }

    /// The shapes `indices` as a batch `[B, 4, N, N, N]` on the CPU; with `flip_x`, each is
    /// mirrored across x with probability one half (z stays up, so creatures stay upright).
    pub(crate) fn batch(&self, indices: &[usize], flip_x: bool, rng: &mut StdRng) -> Tensor {
        let shapes: Vec<Tensor> = indices
            .iter()
            .map(|&i| {
                let shape = self.shapes.get(i as i64);
                if flip_x && rng.gen_bool(0.5) {
                    shape.flip([1])
                } else {
                    shape
                }
            })
            .collect();
        Tensor::stack(&shapes, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn grid(n: usize, filled: &[[usize; 3]]) -> VoxelGrid {
        let mut g = VoxelGrid::cube(n).unwrap();
        for &[x, y, z] in filled {
            g.set(x, y, z, Some([255, 0, 0]));
        }
        g
    }

    #[test]
    fn wrong_size_names_the_shape() {
        let err = Dataset::new(&[grid(8, &[]), VoxelGrid::new([8, 8, 4]).unwrap()], 8).unwrap_err();
        assert_eq!(err.to_string(), "invalid training data: shape 1 is 8x8x4, expected 8x8x8");
        assert!(Dataset::new(&[], 8).is_err());
    }

    #[test]
    fn pos_weight_follows_the_fill() {
        let cells: Vec<[usize; 3]> = (0..4).map(|x| [x, 0, 0]).collect();
        let data = Dataset::new(&[grid(4, &cells)], 4).unwrap(); // 4 of 64 filled
        assert!((data.filled_fraction() - 1.0 / 16.0).abs() < 1e-9);
        assert!((data.pos_weight() - 15f64.sqrt()).abs() < 1e-6);
    }

    #[test]
    fn flip_mirrors_x_only() {
        let data = Dataset::new(&[grid(4, &[[0, 1, 2]])], 4).unwrap();
        let mut rng = StdRng::seed_from_u64(0);
        let flipped = (0..20)
            .map(|_| data.batch(&[0], true, &mut rng))
            .find(|b| b.double_value(&[0, 0, 3, 1, 2]) > 0.0)
            .expect("a flip in 20 tries");
        assert_eq!(flipped.double_value(&[0, 0, 0, 1, 2]), -1.0);
        assert_eq!(flipped.double_value(&[0, 1, 3, 1, 2]), 1.0);
        let plain = data.batch(&[0, 0], false, &mut rng);
        assert_eq!(plain.size(), vec![2, 4, 4, 4, 4]);
        assert_eq!(plain.double_value(&[1, 0, 0, 1, 2]), 1.0);
    }
}
