//! Command-line interface: argument definitions and dispatch to the library.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};

use crate::dataset;
use crate::model;
use crate::pipeline::{self, OutputKind};
use crate::render::RenderConfig;
use crate::train::{self, TrainConfig};
use crate::voxel::VoxelizeConfig;
use crate::watch;

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
    /// Grid edge in voxels: a power of two from 8 to 256 (the VAE halves it down to 4).
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

/// How `voxgen sample` lays out its creatures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Layout {
    /// One NAME.vox, NAME.glb and NAME.gif per creature inside the output folder.
    #[default]
    Separate,
    /// All creatures side by side in one scene file: `-o` names a .vox or .glb file.
    Grid,
}

/// Arguments of `voxgen sample`.
#[derive(Debug, Args)]
pub struct SampleArgs {
    /// A run folder (its latest checkpoint is used) or a checkpoint file.
    pub checkpoint: PathBuf,
    /// Number of creatures.
    #[arg(short = 'n', long, default_value_t = 8)]
    pub count: usize,
    /// Output folder (each creature as NAME.vox, NAME.glb, NAME.gif), or with `--layout grid`
    /// one .vox or .glb scene file.
    #[arg(short, long = "output")]
    pub output: PathBuf,
    /// One set of files per creature, or one scene file with every creature side by side.
    #[arg(long, value_enum, default_value_t = Layout::Separate)]
    pub layout: Layout,
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
    /// Folder to watch; `inbox/` and `out/` are made inside it, `voxgen.toml` is read from it
    /// once at start (restart after editing it; README lists the keys).
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
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .without_time()
        .init();
    install_panic_hook();
}

/// Reports a panic (always a bug in voxgen, never bad input) as one log line naming where it
/// happened, instead of the default multi-line message. With `RUST_BACKTRACE` set, the default
/// hook runs as well, backtrace included. The watch daemon catches panics inside a job and goes
/// on with the next file.
fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("no message");
        let place = info.location().map(|l| format!(" at {}:{}", l.file(), l.line()));
        tracing::error!(
            "internal error{}: {message} (a bug in voxgen; please report it)",
            place.unwrap_or_default()
        );
        if std::env::var_os("RUST_BACKTRACE").is_some() {
            default(info);
        }
    }));
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let progress = !cli.quiet && std::io::stderr().is_terminal();
    match cli.command {
        Command::Voxelize(args) => voxelize(&args),
        Command::Render(args) => render(&args),
        Command::Train(args) => train(&args, progress),
        Command::Sample(args) => sample(&args),
        Command::Watch(args) => watch(&args),
    }
}

impl RenderOpts {
    /// The renderer settings these options ask for.
    pub fn config(&self) -> RenderConfig {
        RenderConfig { size: self.size, frames: self.frames, ..RenderConfig::default() }
    }
}

fn voxelize(args: &VoxelizeArgs) -> anyhow::Result<()> {
    // Check every output name and folder before any work, so a typo costs nothing.
    for out in &args.outputs {
        check_output(out)?;
    }
    let render_cfg = args.render.config();
    render_cfg.validate()?;
    let cfg = VoxelizeConfig { resolution: args.res, margin: args.margin, shell: args.shell };
    let started = Instant::now();
    let grid = dataset::load_grid(&args.input, &input_root(&args.input), &cfg)?;
    let seconds = started.elapsed().as_secs_f64();
    if grid.count() == 0 {
        anyhow::bail!("{}: no voxels at resolution {}", args.input.display(), args.res);
    }
    // One line with the time of reading plus voxelizing (writing the outputs excluded).
    tracing::info!(
        "voxelized {} at {}³: {} voxels in {:.1} ms",
        args.input.display(),
        args.res,
        grid.count(),
        seconds * 1000.0
    );
    for out in &args.outputs {
        pipeline::write_grid(&grid, out, &render_cfg)?;
    }
    Ok(())
}

/// Fails unless `out` names a format voxgen writes, in a folder that exists.
fn check_output(out: &Path) -> anyhow::Result<()> {
    OutputKind::of(out)?;
    let folder = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !folder.is_dir() {
        anyhow::bail!("{}: folder {} does not exist", out.display(), folder.display());
    }
    Ok(())
}

/// The folder an input's references must stay inside: the folder holding it.
fn input_root(input: &Path) -> PathBuf {
    match input.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn render(args: &RenderArgs) -> anyhow::Result<()> {
    check_output(&args.output)?;
    let render_cfg = args.render.config();
    render_cfg.validate()?;
    let grid = pipeline::read_vox_grid(&args.input, &input_root(&args.input))?;
    pipeline::write_grid(&grid, &args.output, &render_cfg)?;
    tracing::info!("rendered {} to {}", args.input.display(), args.output.display());
    Ok(())
}

fn train(args: &TrainArgs, progress: bool) -> anyhow::Result<()> {
    let device = model::device::resolve(args.device)?;
    let vcfg = VoxelizeConfig { resolution: args.res, ..VoxelizeConfig::default() };
    let cache = args.output.join("cache");
    let shapes = dataset::load_dataset(&args.data_dir, &vcfg, &cache)?;
    if shapes.is_empty() {
        anyhow::bail!("{}: no usable meshes or .vox files found", args.data_dir.display());
    }
    tracing::info!("training on {} shapes from {}", shapes.len(), args.data_dir.display());
    let grids: Vec<_> = shapes.into_iter().map(|s| s.grid).collect();
    let cfg = TrainConfig {
        model: args.model,
        resolution: args.res,
        epochs: args.epochs,
        batch_size: args.batch_size,
        latent: args.latent,
        lr: args.lr,
        seed: args.seed,
        device,
        progress,
        ..TrainConfig::default()
    };
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancel);
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))?;
    let report = train::train(&grids, &cfg, &args.output, &cancel)?;
    let last = report.epochs.last().map(|e| e.total).unwrap_or(f64::NAN);
    tracing::info!(
        "saved {} (step {}, last epoch loss {last:.4}{})",
        report.checkpoint.display(),
        report.step,
        if report.cancelled { ", stopped early" } else { "" }
    );
    Ok(())
}

fn sample(args: &SampleArgs) -> anyhow::Result<()> {
    if args.count == 0 {
        anyhow::bail!("invalid count: 0 (must be at least 1)");
    }
    let render_cfg = args.render.config();
    render_cfg.validate()?;
    let device = model::device::resolve(args.device)?;
    if args.layout == Layout::Grid
        && !matches!(OutputKind::of(&args.output)?, OutputKind::Vox | OutputKind::Glb)
    {
        anyhow::bail!("{}: --layout grid writes one .vox or .glb scene", args.output.display());
    }
    let (grids, meta) = model::sample(&args.checkpoint, args.count, args.seed, device)?;
    let files = match args.layout {
        Layout::Separate => {
            pipeline::write_creatures(&grids, &args.output, "creature", &render_cfg)?
        }
        Layout::Grid => {
            pipeline::write_scene(&grids, &args.output, "creature")?;
            vec![args.output.clone()]
        }
    };
    let count = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    tracing::info!(
        "wrote {} ({}) to {} from step {}",
        count(grids.len(), "creature"),
        count(files.len(), "file"),
        args.output.display(),
        meta.step
    );
    Ok(())
}

fn watch(args: &WatchArgs) -> anyhow::Result<()> {
    let opts = watch::WatchOptions {
        once: args.once,
        ctrlc: true,
        cancel: Arc::new(AtomicBool::new(false)),
    };
    let jobs = pipeline::RealJobs { device: args.device };
    watch::run(&args.dir, &opts, Arc::new(jobs))
}
