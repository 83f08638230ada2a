//! The VAE's training step: forward pass, loss with KL warm-up, one Adam step.

use tch::nn::{self, OptimizerConfig, VarStore};
use tch::{Device, Tensor};

use crate::error::{Error, Result};
use crate::model::checkpoint::Checkpoint;
use crate::model::vae::{Vae, VaeConfig};
use crate::model::FamilyConfig;
use crate::train::{StepLoss, Trainer};

/// Gradients are clipped to this global norm, which keeps an early KL spike from throwing
/// the weights far off.
const CLIP_NORM: f64 = 10.0;

/// A VAE with its Adam optimizer and the mean fill of the training shapes.
pub(crate) struct VaeTrainer {
    vae: Vae,
    optimizer: nn::Optimizer,
    fill: f64,
}

impl VaeTrainer {
    /// A trainer for the VAE in `resume`, or for a fresh one whose occupancy loss weights
    /// filled cells by `pos_weight` (a continued run keeps the weight it started with).
    /// `fill` is the fraction of filled cells in the training shapes.
    pub(crate) fn new(
        device: Device,
        resolution: usize,
        latent: usize,
        resume: Option<&Checkpoint>,
        lr: f64,
        pos_weight: f64,
        fill: f64,
    ) -> Result<VaeTrainer> {
        let vae = match resume {
            Some(checkpoint) => Vae::load(checkpoint, device)?,
            None => {
                let config = VaeConfig { pos_weight, ..VaeConfig::default() };
                Vae::new(device, resolution, latent, &config)?
            }
        };
        let optimizer = nn::Adam::default().build(vae.vars(), lr).map_err(Error::Torch)?;
        let pos_weight = vae.config().pos_weight;
        tracing::debug!("vae: {} parameters, pos_weight {pos_weight:.2}", vae.parameter_count());
        Ok(VaeTrainer { vae, optimizer, fill })
    }
}

impl Trainer for VaeTrainer {
    fn step(&mut self, batch: &Tensor, step: u64) -> Result<StepLoss> {
        let out = self.vae.forward(batch);
        let kl_weight = self.vae.kl_weight(step);
        let loss = self.vae.loss(batch, &out, kl_weight);
        self.optimizer.backward_step_clip_norm(&loss.total, CLIP_NORM);
        let value = |t: &Tensor| f64::try_from(t).map_err(Error::Torch);
        Ok(StepLoss {
            total: value(&loss.total)?,
            parts: vec![
                ("occupancy", value(&loss.occupancy)?),
                ("colour", value(&loss.colour)?),
                ("kl", value(&loss.kl)?),
            ],
        })
    }

    fn vars(&self) -> &VarStore {
        self.vae.vars()
    }

    fn config(&mut self) -> Result<FamilyConfig> {
        self.vae.calibrate_threshold(self.fill)?;
        Ok(FamilyConfig::Vae(self.vae.config().clone()))
    }
}
