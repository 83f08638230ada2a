//! The variational autoencoder: a 3D convolutional encoder down to 4³ cells, a Gaussian
//! latent, and a mirrored decoder back to the full grid with occupancy logits and RGB.

use serde::{Deserialize, Serialize};
use tch::nn::{self, VarStore};
use tch::{Device, Kind, Reduction, Tensor};

use crate::error::{Error, Result};
use crate::model::blocks::{self, ResBlock3d};
use crate::model::checkpoint::Checkpoint;
use crate::model::tensor::CHANNELS;
use crate::model::{latent_noise, FamilyConfig, Generator};

/// Smallest grid edge the VAE accepts.
pub const MIN_RESOLUTION: usize = 8;
/// Largest grid edge the VAE accepts.
pub const MAX_RESOLUTION: usize = 256;
/// Edge of the innermost feature grid.
const BOTTOM: usize = 4;
/// Limit on the magnitude of the calibrated occupancy threshold (in logits): calibration may
/// move the cut between filled and empty, but not fill cells the model finds very unlikely.
const THRESHOLD_LIMIT: f64 = 3.0;
/// Seed of the latents used to calibrate the threshold.
const CALIBRATION_SEED: u64 = 0x5EED_CA1B;

/// Architecture and loss settings of the VAE, stored in every checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VaeConfig {
    /// Channels of the first feature grid (half the input edge); each halving doubles them.
    pub base_channels: usize,
    /// Cap on the channels of any layer.
    pub max_channels: usize,
    /// Weight of the KL term against the reconstruction. The loss is the per-voxel mean of the
    /// reconstruction terms plus `beta * kl / N³`, so `beta = 1` keeps the balance of the
    /// evidence lower bound at any grid size; larger values trade detail for samples from the
    /// prior that look like the training shapes.
    pub beta: f64,
    /// Steps over which the KL weight ramps from 0 to `beta`.
    pub kl_warmup_steps: u64,
    /// Weight of filled cells in the occupancy loss (they are far fewer than empty ones). Set
    /// from the data when a run starts and kept when it continues.
    pub pos_weight: f64,
    /// Occupancy logit above which a sampled cell counts as filled. Set whenever a checkpoint
    /// is saved, so that shapes drawn from the prior fill about as many cells as the training
    /// shapes do on average (see [`Vae::calibrate_threshold`]).
    pub threshold: f64,
}

impl Default for VaeConfig {
    fn default() -> Self {
        VaeConfig {
            base_channels: 16,
            max_channels: 64,
            beta: 32.0,
            kl_warmup_steps: 100,
            pos_weight: 1.0,
            threshold: 0.0,
        }
    }
}

/// Checks that `resolution` is a power of two the VAE can halve down to 4³.
pub fn check_resolution(resolution: usize) -> Result<()> {
    if !(MIN_RESOLUTION..=MAX_RESOLUTION).contains(&resolution) || !resolution.is_power_of_two() {
        return Err(Error::invalid(
            "resolution",
            format!(
                "{resolution} (the VAE needs a power of two \
                 from {MIN_RESOLUTION} to {MAX_RESOLUTION})"
            ),
        ));
    }
    Ok(())
}

/// Checks the latent size and the channel settings.
fn check_sizes(latent: usize, config: &VaeConfig) -> Result<()> {
    if latent == 0 || latent > 4096 {
        return Err(Error::invalid("latent", format!("{latent} (must be 1 to 4096)")));
    }
    let channels = [config.base_channels, config.max_channels];
    if channels.iter().any(|&c| !(4..=1024).contains(&c) || !c.is_power_of_two()) {
        let reason = format!("{channels:?} (powers of two from 4 to 1024)");
        return Err(Error::invalid("vae channels", reason));
    }
    if !(config.beta >= 0.0 && config.beta.is_finite()) {
        return Err(Error::invalid("vae beta", format!("{} (must be 0 or more)", config.beta)));
    }
    if !(config.pos_weight > 0.0 && config.pos_weight.is_finite()) {
        let reason = format!("{} (must be above 0)", config.pos_weight);
        return Err(Error::invalid("vae pos_weight", reason));
    }
    Ok(())
}

/// One feature grid of the network: its edge, channels, and whether it has a residual block.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Level {
    edge: usize,
    width: i64,
    res: bool,
}

/// The feature grids from the first one (half the input edge) down to 4³. Channels start at
/// `base_channels` and double per halving up to `max_channels`. No layer works on the full
/// grid: the first conv strides straight from the input and the last transposed conv writes
/// the output, because convolutions with few channels on a large grid are the slowest part on
/// a CPU. Residual blocks sit on the grids of edge at most `max(N/4, 4)` for the same reason.
fn levels(resolution: usize, config: &VaeConfig) -> Vec<Level> {
    let count = (resolution / BOTTOM).trailing_zeros() as usize;
    let res_edge = (resolution / 4).max(BOTTOM);
    (0..count)
        .map(|l| Level {
            edge: resolution >> (l + 1),
            width: (config.base_channels << l).min(config.max_channels) as i64,
            res: resolution >> (l + 1) <= res_edge,
        })
        .collect()
}

/// The encoder: per level a strided conv (and maybe a residual block), then two linear heads
/// for the mean and log-variance of the latent.
#[derive(Debug)]
struct Encoder {
    levels: Vec<(nn::Conv3D, Option<ResBlock3d>)>,
    norm: nn::GroupNorm,
    mu: nn::Linear,
    logvar: nn::Linear,
}

impl Encoder {
    fn new(vs: nn::Path, levels: &[Level], latent: i64) -> Self {
        let mut c_in = CHANNELS as i64;
        let mut layers = Vec::with_capacity(levels.len());
        for (i, level) in levels.iter().enumerate() {
            let down = blocks::down(&vs / format!("down{i}"), c_in, level.width);
            let res = level
                .res
                .then(|| ResBlock3d::new(&vs / format!("res{i}"), level.width, level.width));
            layers.push((down, res));
            c_in = level.width;
        }
        let flat = c_in * (BOTTOM as i64).pow(3);
        Encoder {
            levels: layers,
            norm: blocks::norm(&vs / "norm", c_in),
            mu: nn::linear(&vs / "mu", flat, latent, Default::default()),
            logvar: nn::linear(&vs / "logvar", flat, latent, Default::default()),
        }
    }

    fn forward(&self, xs: &Tensor) -> (Tensor, Tensor) {
        let mut h = xs.shallow_clone();
        for (down, res) in &self.levels {
            h = h.apply(down);
            if let Some(res) = res {
                h = h.apply(res);
            }
        }
        let h = h.apply(&self.norm).silu().flatten(1, -1);
        (h.apply(&self.mu), h.apply(&self.logvar).clamp(-12.0, 12.0))
    }
}

/// The decoder: linear to 4³ cells and a residual block, then per level a transposed conv (and
/// maybe a residual block), and a last transposed conv to the 4 output channels.
#[derive(Debug)]
struct Decoder {
    fc: nn::Linear,
    bottom: ResBlock3d,
    levels: Vec<(nn::ConvTranspose3D, Option<ResBlock3d>)>,
    norm: nn::GroupNorm,
    out: nn::ConvTranspose3D,
    top: i64,
}

impl Decoder {
    fn new(vs: nn::Path, levels: &[Level], latent: i64) -> Self {
        let top = levels.last().map_or(1, |l| l.width);
        let first = levels.first().map_or(1, |l| l.width);
        let layers = levels
            .windows(2)
            .enumerate()
            .rev()
            .map(|(i, pair)| {
                let (outer, inner) = (pair[0], pair[1]);
                let up = blocks::up(&vs / format!("up{i}"), inner.width, outer.width);
                let res = outer
                    .res
                    .then(|| ResBlock3d::new(&vs / format!("res{i}"), outer.width, outer.width));
                (up, res)
            })
            .collect();
        Decoder {
            fc: nn::linear(&vs / "fc", latent, top * (BOTTOM as i64).pow(3), Default::default()),
            bottom: ResBlock3d::new(&vs / "bottom", top, top),
            levels: layers,
            norm: blocks::norm(&vs / "norm", first),
            out: blocks::up(&vs / "out", first, CHANNELS as i64),
            top,
        }
    }

    fn forward(&self, z: &Tensor) -> Tensor {
        let b = BOTTOM as i64;
        let mut h = z.apply(&self.fc).view([-1, self.top, b, b, b]).apply(&self.bottom);
        for (up, res) in &self.levels {
            h = h.apply(up);
            if let Some(res) = res {
                h = h.apply(res);
            }
        }
        let out = h.apply(&self.norm).silu().apply(&self.out);
        Tensor::cat(&[out.narrow(1, 0, 1), out.narrow(1, 1, 3).tanh()], 1)
    }
}

/// What one forward pass through the VAE gives.
#[derive(Debug)]
pub struct VaeOutput {
    /// Reconstruction `[B, 4, N, N, N]`: occupancy logits, then RGB in [-1, 1].
    pub recon: Tensor,
    /// Latent means `[B, latent]`.
    pub mu: Tensor,
    /// Latent log-variances `[B, latent]`.
    pub logvar: Tensor,
}

/// The loss of one batch: the total to minimise and its parts as numbers.
#[derive(Debug)]
pub struct VaeLoss {
    /// `occupancy + colour + kl_weight * kl`, with gradient.
    pub total: Tensor,
    /// Occupancy BCE with logits, mean per voxel.
    pub occupancy: Tensor,
    /// Colour MSE over filled voxels, mean per channel.
    pub colour: Tensor,
    /// KL divergence to N(0, I), nats per shape.
    pub kl: Tensor,
}

/// A 3D convolutional variational autoencoder for `[4, N, N, N]` grids.
#[derive(Debug)]
pub struct Vae {
    vars: VarStore,
    encoder: Encoder,
    decoder: Decoder,
    resolution: usize,
    latent: usize,
    config: VaeConfig,
}

impl Vae {
    /// A freshly initialised VAE for `resolution`³ grids (a power of two from 8 to 256) with
    /// a latent of `latent` values, on `device`.
    pub fn new(
        device: Device,
        resolution: usize,
        latent: usize,
        config: &VaeConfig,
    ) -> Result<Vae> {
        check_resolution(resolution)?;
        check_sizes(latent, config)?;
        let vars = VarStore::new(device);
        let levels = levels(resolution, config);
        let encoder = Encoder::new(vars.root() / "enc", &levels, latent as i64);
        let decoder = Decoder::new(vars.root() / "dec", &levels, latent as i64);
        Ok(Vae { vars, encoder, decoder, resolution, latent, config: config.clone() })
    }

    /// The VAE stored in `checkpoint`, on `device`.
    pub fn load(checkpoint: &Checkpoint, device: Device) -> Result<Vae> {
        let meta = &checkpoint.meta;
        let FamilyConfig::Vae(config) = &meta.config;
        let mut vae = Vae::new(device, meta.resolution, meta.latent, config)?;
        checkpoint.load_into(&mut vae.vars)?;
        Ok(vae)
    }

    /// The variables (weights) of the model.
    pub fn vars(&self) -> &VarStore {
        &self.vars
    }

    /// Size of the latent vector.
    pub fn latent(&self) -> usize {
        self.latent
    }

    /// The architecture and loss settings.
    pub fn config(&self) -> &VaeConfig {
        &self.config
    }

    /// Number of trainable values.
    pub fn parameter_count(&self) -> i64 {
        self.vars.trainable_variables().iter().map(Tensor::numel).sum::<usize>() as i64
    }

    /// Latent mean and log-variance of a batch `[B, 4, N, N, N]`.
    pub fn encode(&self, xs: &Tensor) -> (Tensor, Tensor) {
        self.encoder.forward(xs)
    }

    /// Decodes latents `[B, latent]` into `[B, 4, N, N, N]`: occupancy logits, RGB in [-1, 1].
    pub fn decode(&self, z: &Tensor) -> Tensor {
        self.decoder.forward(z)
    }

    /// Decodes latents like [`Vae::decode`], with the occupancy shifted by the calibrated
    /// threshold so that above zero means filled (the [`crate::model::tensor`] layout).
    pub fn decode_for_sampling(&self, z: &Tensor) -> Tensor {
        let out = self.decode(z);
        Tensor::cat(&[out.narrow(1, 0, 1) - self.config.threshold, out.narrow(1, 1, 3)], 1)
    }

    /// Sets the occupancy threshold so that shapes decoded from a fixed set of prior latents
    /// fill the fraction `fill` of their cells on average, within ±3 logits. Returns it.
    pub fn calibrate_threshold(&mut self, fill: f64) -> Result<f64> {
        let count = ((1usize << 22) / self.resolution.pow(3)).clamp(2, 16);
        let z = latent_noise(count, self.latent, CALIBRATION_SEED).to_device(self.vars.device());
        let logits = tch::no_grad(|| self.decode(&z).narrow(1, 0, 1).flatten(0, -1));
        let cells = logits.size()[0];
        let empty = ((1.0 - fill.clamp(0.0, 1.0)) * cells as f64).round() as i64;
        let (cut, _) = logits.f_kthvalue(empty.clamp(1, cells), 0, false)?;
        let threshold = f64::try_from(cut)?.clamp(-THRESHOLD_LIMIT, THRESHOLD_LIMIT);
        tracing::debug!("occupancy threshold {threshold:.3} for a fill of {fill:.4}");
        self.config.threshold = threshold;
        Ok(threshold)
    }

    /// Encodes, draws a latent with the reparameterisation trick (torch's global generator),
    /// and decodes.
    pub fn forward(&self, xs: &Tensor) -> VaeOutput {
        let (mu, logvar) = self.encode(xs);
        let z = &mu + (&logvar * 0.5).exp() * mu.randn_like();
        VaeOutput { recon: self.decode(&z), mu, logvar }
    }

    /// The loss of `out` against the batch `xs` it came from; `kl_weight` is the current β.
    pub fn loss(&self, xs: &Tensor, out: &VaeOutput, kl_weight: f64) -> VaeLoss {
        let target = (xs.narrow(1, 0, 1) + 1.0) * 0.5;
        let pos_weight = self.config.pos_weight as f32;
        let pos_weight = Tensor::from_slice(&[pos_weight]).to_device(xs.device());
        let occupancy = out.recon.narrow(1, 0, 1).binary_cross_entropy_with_logits(
            &target,
            None::<Tensor>,
            Some(pos_weight),
            Reduction::Mean,
        );
        let error = (out.recon.narrow(1, 1, 3) - xs.narrow(1, 1, 3)).square() * &target;
        let colour = error.sum(Kind::Float) / (target.sum(Kind::Float) * 3.0).clamp_min(1.0);
        let divergence = out.logvar.exp() + out.mu.square() - 1.0 - &out.logvar;
        let kl = divergence.sum_dim_intlist(1, false, Kind::Float).mean(Kind::Float) * 0.5;
        let total = &occupancy + &colour + &kl * kl_weight;
        VaeLoss { total, occupancy, colour, kl }
    }

    /// The weight of the KL term (in nats per shape) at optimizer step `step`: `beta / N³`,
    /// ramped up linearly over the warm-up.
    pub fn kl_weight(&self, step: u64) -> f64 {
        let warmup = self.config.kl_warmup_steps.max(1) as f64;
        let voxels = (self.resolution as f64).powi(3);
        self.config.beta / voxels * ((step as f64 + 1.0) / warmup).min(1.0)
    }
}

/// Shapes decoded at once while sampling: fewer for large grids to bound memory.
fn sample_batch(resolution: usize) -> usize {
    ((1usize << 21) / resolution.pow(3)).clamp(1, 64)
}

impl Generator for Vae {
    fn resolution(&self) -> usize {
        self.resolution
    }

    fn generate(
        &self,
        n: usize,
        seed: u64,
        emit: &mut dyn FnMut(Tensor) -> Result<()>,
    ) -> Result<()> {
        let z = latent_noise(n, self.latent, seed);
        let batch = sample_batch(self.resolution);
        let _guard = tch::no_grad_guard();
        for start in (0..n).step_by(batch) {
            let count = batch.min(n - start);
            let z = z.narrow(0, start as i64, count as i64).to_device(self.vars.device());
            emit(self.decode_for_sampling(&z).to_device(Device::Cpu))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolutions_must_be_powers_of_two_in_range() {
        for ok in [8, 16, 32, 64, 128, 256] {
            assert!(check_resolution(ok).is_ok(), "{ok}");
        }
        for bad in [0, 4, 12, 24, 48, 512] {
            let err = check_resolution(bad).unwrap_err().to_string();
            assert!(err.contains(&bad.to_string()) && err.contains("power of two"), "{err}");
        }
    }

    #[test]
    fn levels_halve_the_grid_and_double_the_channels() {
        let cfg = VaeConfig { base_channels: 8, max_channels: 32, ..Default::default() };
        let level = |edge, width, res| Level { edge, width, res };
        assert_eq!(levels(8, &cfg), vec![level(4, 8, true)]);
        let want =
            vec![level(32, 8, false), level(16, 16, true), level(8, 32, true), level(4, 32, true)];
        assert_eq!(levels(64, &cfg), want);
    }

    #[test]
    fn forward_shapes_and_output_ranges() {
        tch::manual_seed(1);
        let vae = Vae::new(Device::Cpu, 16, 5, &VaeConfig::default()).unwrap();
        let xs = Tensor::rand([3, 4, 16, 16, 16], (Kind::Float, Device::Cpu)) * 2.0 - 1.0;
        let out = vae.forward(&xs);
        assert_eq!(out.recon.size(), vec![3, 4, 16, 16, 16]);
        assert_eq!(out.mu.size(), vec![3, 5]);
        let rgb = out.recon.narrow(1, 1, 3);
        assert!(rgb.abs().max().double_value(&[]) <= 1.0);
        let loss = vae.loss(&xs.sign(), &out, 0.01);
        assert!(loss.total.double_value(&[]).is_finite());
        assert!(loss.kl.double_value(&[]) >= 0.0);
    }

    #[test]
    fn kl_weight_ramps_up_then_holds() {
        let cfg = VaeConfig { beta: 512.0, kl_warmup_steps: 10, ..Default::default() };
        let vae = Vae::new(Device::Cpu, 8, 2, &cfg).unwrap();
        assert!((vae.kl_weight(0) - 0.1).abs() < 1e-12);
        assert_eq!(vae.kl_weight(9), 1.0);
        assert_eq!(vae.kl_weight(1000), 1.0);
    }

    #[test]
    fn calibrated_threshold_matches_the_fill() {
        tch::manual_seed(3);
        let mut vae = Vae::new(Device::Cpu, 8, 4, &VaeConfig::default()).unwrap();
        let threshold = vae.calibrate_threshold(0.25).unwrap();
        assert!(threshold.abs() < THRESHOLD_LIMIT, "{threshold}");
        assert_eq!(vae.config().threshold, threshold);
        let mut filled = Vec::new();
        vae.generate(16, 9, &mut |batch| {
            let occupancy = batch.narrow(1, 0, 1).gt(0.0).to_kind(Kind::Float);
            filled.push(occupancy.mean(Kind::Float).double_value(&[]));
            Ok(())
        })
        .unwrap();
        let fill = filled.iter().sum::<f64>() / filled.len() as f64;
        assert!((fill - 0.25).abs() < 0.1, "fill {fill}");
    }

    #[test]
    fn bad_latent_is_rejected() {
        assert!(Vae::new(Device::Cpu, 8, 0, &VaeConfig::default()).is_err());
    }
}
