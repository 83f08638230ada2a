//! Command-line interface: argument definitions and dispatch to the library.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use crate::model::{DeviceChoice, ModelKind};

/// Turns a folder of 3D meshes into new voxel creatures.
#[derive(Debug, Parser)]
#[command(name = "voxgen", version, about, long_about = None)]
#[command(after_help = "Exit status: 0 on success, 2 on any error (printed as one line).")]
pub struct Cli {
    /// Log only warnings and errors, and draw no progress bars.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Log more (repeat for even more).
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// voxgen's subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Voxelize one mesh or .vox file and write it as .vox, .glb, .gif or .png.
    Voxelize(VoxelizeArgs),
    /// Render a .vox file as a turntable GIF or a PNG still.
    Render(RenderArgs),
    /// Train a model on every mesh and .vox file found under a folder.
    Train(TrainArgs),
    /// Sample new creatures from a trained model.
    Sample(SampleArgs),
    /// Watch a folder: voxelize what arrives, train, and sample new creatures.
    Watch(WatchArgs),
}

/// Arguments of `voxgen voxelize`.
#[derive(Debug, Args)]
pub struct VoxelizeArgs {
    /// Mesh (.obj, .gltf, .glb) or .vox file to read.
    pub input: PathBuf,
    /// Grid edge in voxels (8 to 256).
    #[arg(long, default_value_t = 32)]
    pub res: usize,
    /// Empty voxels to keep on each side of the shape.
    #[arg(long, default_value_t = 0)]
    pub margin: usize,
    /// Keep only the surface voxels; do not fill the inside.
    #[arg(long)]
    pub shell: bool,
    /// Output file; its extension picks the format: .vox, .glb, .gif (turntable) or .png.
    #[arg(short, long = "output", required = true)]
    pub outputs: Vec<PathBuf>,
    /// Render settings for .gif and .png outputs.
    #[command(flatten)]
    pub render: RenderOpts,
}

/// Arguments of `voxgen render`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The .vox file to render.
    pub input: PathBuf,
    /// Output file: .gif for a turntable, .png for a still.
    #[arg(short, long = "output")]
    pub output: PathBuf,
    /// Render settings.
    #[command(flatten)]
    pub render: RenderOpts,
}

/// Renderer settings shared by the commands that write images.
#[derive(Clone, Debug, Args)]
pub struct RenderOpts {
    /// Frames in a turntable GIF (at least 1; 24 or more reads as smooth).
    #[arg(long, default_value_t = 36)]
    pub frames: usize,
    /// Image width and height in pixels.
    #[arg(long, default_value_t = 256)]
    pub size: u32,
}

/// Arguments of `voxgen train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Model family to train.
    #[arg(long, value_enum, default_value_t = ModelKind::Vae)]
    pub model: ModelKind,
    /// Folder searched recursively for meshes and .vox files.
    pub data_dir: PathBuf,
    /// Run folder for checkpoints, the voxel cache and samples; training continues from it.
    #[arg(short, long = "output")]
    pub output: PathBuf,
    /// Grid edge in voxels (8 to 256; the VAE needs a multiple of 8).
    #[arg(long, default_value_t = 32)]
    pub res: usize,
    /// Passes over the data.
    #[arg(long, default_value_t = 50)]
    pub epochs: usize,
    /// Shapes per optimizer step.
    #[arg(long, default_value_t = 8)]
    pub batch_size: usize,
    /// Size of the latent vector.
    #[arg(long, default_value_t = 64)]
    pub latent: usize,
    /// Adam learning rate.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where to train.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,
}

/// Arguments of `voxgen sample`.
#[derive(Debug, Args)]
pub struct SampleArgs {
    /// A run folder (its latest checkpoint is used) or a checkpoint file.
    pub checkpoint: PathBuf,
    /// Number of creatures.
    #[arg(short = 'n', long, default_value_t = 8)]
    pub count: usize,
    /// Output folder; each creature is written as NAME.vox, NAME.glb and NAME.gif.
    #[arg(short, long = "output")]
    pub output: PathBuf,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where to sample.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,
    /// Render settings for the GIFs.
    #[command(flatten)]
    pub render: RenderOpts,
}

/// Arguments of `voxgen watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Folder to watch; `inbox/` and `out/` are made inside it, `voxgen.toml` is read from it.
    pub dir: PathBuf,
    /// Process the inbox, train and sample once, then exit.
    #[arg(long)]
    pub once: bool,
    /// Where to train and sample.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,
}

/// Sets up `tracing` on stderr: `warn` with `--quiet`, `info` by default, more with `-v`.
/// `RUST_LOG` overrides all of these.
pub fn init_logging(quiet: bool, verbose: u8) {
    let level = match (quiet, verbose) {
        (true, _) => "warn",
        (false, 0) => "info",
        (false, 1) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("voxgen={level}")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .init();
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        other => anyhow::bail!("command not built yet: {other:?}"),
    }
}
