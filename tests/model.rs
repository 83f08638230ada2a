//! Training, checkpoints and sampling of the VAE, end to end on tiny shapes made in code.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tch::Device;
use voxgen::model::checkpoint::{self, Checkpoint, Meta, TrainSettings, META_FORMAT};
use voxgen::model::vae::{Vae, VaeConfig};
use voxgen::model::{device, latent_noise, sample, DeviceChoice, FamilyConfig, ModelKind};
use voxgen::train::{train, TrainConfig};
use voxgen::voxel::VoxelGrid;

/// A box from `lo` to `hi` (inclusive) in one colour.
fn cuboid(n: usize, lo: [usize; 3], hi: [usize; 3], rgb: [u8; 3]) -> VoxelGrid {
    let mut g = VoxelGrid::cube(n).unwrap();
    for x in lo[0]..=hi[0] {
        for y in lo[1]..=hi[1] {
            for z in lo[2]..=hi[2] {
                g.set(x, y, z, Some(rgb));
            }
        }
    }
    g
}

/// A ball of radius `r` around the grid centre in one colour.
fn ball(n: usize, r: f64, rgb: [u8; 3]) -> VoxelGrid {
    let mut g = VoxelGrid::cube(n).unwrap();
    let c = (n as f64 - 1.0) / 2.0;
    for x in 0..n {
        for y in 0..n {
            for z in 0..n {
                let d2 = [x, y, z].iter().map(|&v| (v as f64 - c).powi(2)).sum::<f64>();
                if d2 <= r * r {
                    g.set(x, y, z, Some(rgb));
                }
            }
        }
    }
    g
}

/// Six simple shapes of different sizes and colours.
fn shapes(n: usize) -> Vec<VoxelGrid> {
    let q = n / 4;
    vec![
        cuboid(n, [q, q, 0], [3 * q, 3 * q, 2 * q], [220, 40, 40]),
        cuboid(n, [0, 0, 0], [n - 1, q, q], [40, 200, 60]),
        cuboid(n, [q, q, q], [2 * q, 2 * q, 3 * q], [30, 60, 230]),
        ball(n, n as f64 * 0.35, [240, 220, 30]),
        ball(n, n as f64 * 0.2, [200, 40, 200]),
        cuboid(n, [0, q, 0], [q, 3 * q, n - 1], [250, 250, 250]),
    ]
}

fn config(resolution: usize, epochs: usize) -> TrainConfig {
    tch::set_num_threads(1);
    TrainConfig {
        resolution,
        epochs,
        batch_size: 3,
        latent: 8,
        lr: 2e-3,
        seed: 7,
        ..TrainConfig::default()
    }
}

fn no_cancel() -> AtomicBool {
    AtomicBool::new(false)
}

#[test]
fn loss_falls_on_simple_shapes() {
    let run = tempfile::tempdir().unwrap();
    let cfg = config(16, 20);
    let report = train(&shapes(16), &cfg, run.path(), &no_cancel()).unwrap();
    assert_eq!(report.epochs.len(), 20);
    assert_eq!(report.step, 40);
    let totals: Vec<f64> = report.epochs.iter().map(|e| e.total).collect();
    assert!(totals.iter().all(|t| t.is_finite()), "{totals:?}");
    // Batches of three make single epochs noisy: compare the mean of the last three.
    let late = totals[17..].iter().sum::<f64>() / 3.0;
    assert!(late < 0.6 * totals[0], "{totals:?}");
    let (first, last) = (&report.epochs[0], &report.epochs[19]);
    assert!(last.part("occupancy").unwrap() < first.part("occupancy").unwrap());
    assert!(last.part("colour").unwrap() < first.part("colour").unwrap());
    assert!(last.part("kl").unwrap() >= 0.0);
    println!("totals {totals:.3?}\nstep {:.4} s", report.step_seconds);
}

#[test]
fn checkpoint_round_trip_gives_identical_decoder_output() {
    tch::set_num_threads(1);
    let run = tempfile::tempdir().unwrap();
    let vae = Vae::new(Device::Cpu, 8, 4, &VaeConfig::default()).unwrap();
    let meta = Meta {
        format: META_FORMAT,
        family: ModelKind::Vae,
        resolution: 8,
        channels: 4,
        latent: 4,
        step: 3,
        epoch: 1,
        config: FamilyConfig::Vae(vae.config().clone()),
        train: TrainSettings {
            batch_size: 1,
            lr: 1e-3,
            seed: 0,
            device: "cpu".into(),
            shapes: 1,
            flip_x: false,
        },
        voxgen_version: env!("CARGO_PKG_VERSION").into(),
        created_unix: Meta::now_unix(),
    };
    let dir = checkpoint::save(run.path(), vae.vars(), &meta).unwrap();
    let loaded = Vae::load(&Checkpoint::open(&dir).unwrap(), Device::Cpu).unwrap();
    let z = latent_noise(2, 4, 11);
    let want = tch::no_grad(|| vae.decode(&z));
    let got = tch::no_grad(|| loaded.decode(&z));
    assert_eq!(got.size(), vec![2, 4, 8, 8, 8]);
    assert!(got.equal(&want));
    let fresh = Vae::new(Device::Cpu, 8, 4, &VaeConfig::default()).unwrap();
    assert!(!tch::no_grad(|| fresh.decode(&z)).equal(&want), "weights really were loaded");
}

#[test]
fn trained_checkpoint_samples_reproducibly_with_right_meta() {
    let run = tempfile::tempdir().unwrap();
    let cfg = config(8, 3);
    let report = train(&shapes(8), &cfg, run.path(), &no_cancel()).unwrap();
    assert_eq!(report.step, 6);
    assert!(report.checkpoint.ends_with("checkpoints/step-00000006"));

    let (a, meta) = sample(run.path(), 4, 5, Device::Cpu).unwrap();
    let (b, _) = sample(&report.checkpoint, 4, 5, Device::Cpu).unwrap();
    let (prefix, _) = sample(&report.checkpoint.join("meta.json"), 2, 5, Device::Cpu).unwrap();
    assert_eq!(a, b);
    assert_eq!(&a[..2], &prefix[..]);
    assert_eq!(a.len(), 4);
    for g in &a {
        assert_eq!(g.dims(), [8, 8, 8]);
    }
    assert_eq!(meta.family, ModelKind::Vae);
    assert_eq!((meta.resolution, meta.channels, meta.latent), (8, 4, 8));
    assert_eq!((meta.step, meta.epoch), (6, 3));
    assert_eq!(meta.voxgen_version, env!("CARGO_PKG_VERSION"));
    assert_eq!((meta.train.batch_size, meta.train.shapes, meta.train.seed), (3, 6, 7));
    assert_eq!(meta.train.device, "cpu");
    assert!(meta.created_unix > 1_600_000_000);
}

#[test]
fn sampled_colours_come_from_the_decoder_range() {
    // A model trained on one colour only should paint what it fills in roughly that colour.
    let run = tempfile::tempdir().unwrap();
    let red: Vec<VoxelGrid> =
        (0..4).map(|i| cuboid(8, [1, 1, 0], [5 + i % 2, 6, 4 + i / 2], [230, 20, 20])).collect();
    let cfg = TrainConfig { batch_size: 4, ..config(8, 40) };
    train(&red, &cfg, run.path(), &no_cancel()).unwrap();
    let (grids, _) = sample(run.path(), 6, 1, Device::Cpu).unwrap();
    let voxels: Vec<[u8; 3]> = grids.iter().flat_map(|g| g.voxels().map(|(_, c)| c)).collect();
    assert!(!voxels.is_empty(), "the model learned to fill something");
    let mean = |c: usize| voxels.iter().map(|v| v[c] as f64).sum::<f64>() / voxels.len() as f64;
    assert!(
        mean(0) > 120.0 && mean(1) < 110.0 && mean(2) < 110.0,
        "{} {} {}",
        mean(0),
        mean(1),
        mean(2)
    );
}

#[test]
fn continuing_adds_steps_and_keeps_three_checkpoints() {
    let run = tempfile::tempdir().unwrap();
    let data = shapes(8);
    let cfg = TrainConfig { save_every: 1, ..config(8, 2) };
    let first = train(&data, &cfg, run.path(), &no_cancel()).unwrap();
    assert_eq!((first.start_step, first.step), (0, 4));
    let cfg = TrainConfig { progress: true, ..cfg };
    let second = train(&data, &cfg, run.path(), &no_cancel()).unwrap();
    assert_eq!((second.start_step, second.step), (4, 8));
    assert_eq!(second.epochs[0].epoch, 3);
    let meta = Checkpoint::open(run.path()).unwrap().meta;
    assert_eq!((meta.step, meta.epoch), (8, 4));
    let steps = checkpoint_steps(run.path());
    assert_eq!(steps, vec!["step-00000004", "step-00000006", "step-00000008"]);
}

fn checkpoint_steps(run: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(run.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn incompatible_run_folder_is_a_clear_error() {
    let run = tempfile::tempdir().unwrap();
    train(&shapes(8), &config(8, 1), run.path(), &no_cancel()).unwrap();
    let err = train(&shapes(16), &config(16, 1), run.path(), &no_cancel()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("resolution 8, not 16"), "{msg}");
    let cfg = TrainConfig { latent: 9, ..config(8, 1) };
    let msg = train(&shapes(8), &cfg, run.path(), &no_cancel()).unwrap_err().to_string();
    assert!(msg.contains("latent 8, not 9"), "{msg}");
}

#[test]
fn bad_sizes_are_rejected_before_training() {
    let run = tempfile::tempdir().unwrap();
    let msg = train(&shapes(8), &config(16, 1), run.path(), &no_cancel()).unwrap_err().to_string();
    assert_eq!(msg, "invalid training data: shape 0 is 8x8x8, expected 16x16x16");
    let msg = train(&shapes(12), &config(12, 1), run.path(), &no_cancel()).unwrap_err().to_string();
    assert!(msg.contains("12") && msg.contains("power of two"), "{msg}");
    assert!(!run.path().join("checkpoints").exists());
}

#[test]
fn cancel_stops_early_and_still_saves() {
    let run = tempfile::tempdir().unwrap();
    let cancel = AtomicBool::new(false);
    let cfg = TrainConfig { save_every: 1, ..config(8, 10_000) };
    let data = shapes(8);
    let report = std::thread::scope(|s| {
        s.spawn(|| {
            let deadline = Instant::now() + Duration::from_secs(60);
            while !run.path().join("latest.json").exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            cancel.store(true, Ordering::Relaxed);
        });
        train(&data, &cfg, run.path(), &cancel).unwrap()
    });
    assert!(report.cancelled);
    assert!(report.step >= 2 && report.step < 20_000, "step {}", report.step);
    let meta = Checkpoint::open(run.path()).unwrap().meta;
    assert_eq!(meta.step, report.step);
    assert!(report.checkpoint.ends_with(format!("step-{:08}", report.step)));
}

#[test]
fn cancel_before_the_first_batch_saves_the_fresh_model() {
    let run = tempfile::tempdir().unwrap();
    let report = train(&shapes(8), &config(8, 5), run.path(), &AtomicBool::new(true)).unwrap();
    assert!(report.cancelled && report.epochs.is_empty());
    assert_eq!(report.step, 0);
    assert!(report.checkpoint.join("model.safetensors").is_file());
}

#[test]
fn device_resolution() {
    assert_eq!(device::resolve(DeviceChoice::Cpu).unwrap(), Device::Cpu);
    if tch::Cuda::is_available() {
        assert_eq!(device::resolve(DeviceChoice::Cuda).unwrap(), Device::Cuda(0));
    } else {
        let msg = device::resolve(DeviceChoice::Cuda).unwrap_err().to_string();
        assert!(
            msg.contains(
                "cuda requested but no CUDA device is available (built without CUDA or no GPU)"
            ),
            "{msg}"
        );
        assert_eq!(device::resolve(DeviceChoice::Auto).unwrap(), Device::Cpu);
    }
}

/// Measures one training step at the demo size (32³, batch 8, latent 64); run with
/// `STEP_THREADS=2 cargo test --test model step_time -- --ignored --nocapture`. Prints wall
/// time and process CPU time, since the machine may be shared.
#[test]
#[ignore]
fn step_time_at_demo_size() {
    let threads: i32 = std::env::var("STEP_THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or(2);
    tch::set_num_threads(threads);
    let run = tempfile::tempdir().unwrap();
    let data: Vec<VoxelGrid> = (0..4).flat_map(|_| shapes(32)).collect();
    let device = device::resolve(DeviceChoice::Auto).unwrap();
    let cfg = TrainConfig { epochs: 2, device, ..TrainConfig::default() };
    let cpu = process_cpu_seconds();
    let report = train(&data, &cfg, run.path(), &no_cancel()).unwrap();
    let cpu = process_cpu_seconds().zip(cpu).map(|(b, a)| (b - a) / report.step as f64);
    let vae = Vae::load(&Checkpoint::open(run.path()).unwrap(), Device::Cpu).unwrap();
    println!(
        "{threads} threads on {device:?}: {} steps, {:.3} s/step wall, {:.3?} s/step cpu, {} parameters",
        report.step,
        report.step_seconds,
        cpu,
        vae.parameter_count(),
    );
}

/// User plus system CPU seconds of this process so far (Linux only).
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}
