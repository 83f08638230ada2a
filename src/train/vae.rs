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

/// A VAE with its Adam optimizer and the occupancy loss weight of the data.
pub(crate) struct VaeTrainer {
    vae: Vae,
    optimizer: nn::Optimizer,
    pos_weight: f64,
}

impl VaeTrainer {
    /// A trainer for a fresh VAE, or for the one in `resume`.
    pub(crate) fn new(
        device: Device,
        resolution: usize,
        latent: usize,
        resume: Option<&Checkpoint>,
        lr: f64,
        pos_weight: f64,
    ) -> Result<VaeTrainer> {
        let vae = match resume {
            Some(checkpoint) => Vae::load(checkpoint, device)?,
            None => Vae::new(device, resolution, latent, &VaeConfig::default())?,
        };
        let optimizer = nn::Adam::default().build(vae.vars(), lr).map_err(Error::Torch)?;
        tracing::debug!("vae: {} parameters, pos_weight {pos_weight:.2}", vae.parameter_count());
        Ok(VaeTrainer { vae, optimizer, pos_weight })
    }
}

impl Trainer for VaeTrainer {
    fn step(&mut self, batch: &Tensor, step: u64) -> Result<StepLoss> {
        let out = self.vae.forward(batch);
        let kl_weight = self.vae.kl_weight(step);
        let loss = self.vae.loss(batch, &out, self.pos_weight, kl_weight);
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

    fn config(&self) -> FamilyConfig {
        FamilyConfig::Vae(self.vae.config().clone())
    }
}
