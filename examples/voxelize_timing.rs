//! Times voxgen's coloured, solid-filled voxelization of one mesh file in-process: the file is
//! read once (timed on its own), then voxelized several times per resolution, and the median is
//! printed. `make bench` uses it (with `--json`) so voxgen is timed the same way as the Python
//! libraries it is compared with: around the voxelization call, mesh loading left out.
//!
//! ```text
//! cargo run --release --example voxelize_timing -- MESH [--runs N] [--json] [RES ...]
//! ```
//!
//! Set `RUST_LOG=voxgen=debug` to see the time of each stage.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use voxgen::mesh::{self, Loaded};
use voxgen::voxel::{voxelize, VoxelizeConfig};

/// Runs per resolution unless `--runs` says otherwise.
const RUNS: usize = 7;
const RESOLUTIONS: [usize; 2] = [64, 256];

/// What the command line asked for.
struct Args {
    mesh: PathBuf,
    runs: usize,
    json: bool,
    resolutions: Vec<usize>,
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => fail(&msg),
    };
    let start = Instant::now();
    let root = args.mesh.parent().map(PathBuf::from).unwrap_or_default();
    let mesh = match mesh::load(&args.mesh, &root) {
        Ok(Loaded::Mesh(m)) => m,
        Ok(Loaded::Voxels(_)) => fail("expected a mesh file, not a .vox"),
        Err(e) => fail(&format!("{}: {e}", args.mesh.display())),
    };
    let load = start.elapsed();
    report_load(&args, mesh.triangles.len(), load);
    for &n in &args.resolutions {
        let cfg = VoxelizeConfig { resolution: n, margin: 0, shell: false };
        let mut times = Vec::with_capacity(args.runs);
        let mut count = 0;
        for _ in 0..args.runs {
            let start = Instant::now();
            let grid = voxelize(&mesh, &cfg).unwrap_or_else(|e| fail(&format!("voxelize: {e}")));
            times.push(start.elapsed());
            count = grid.count();
        }
        report_runs(&args, n, &times, count);
    }
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { mesh: PathBuf::new(), runs: RUNS, json: false, resolutions: vec![] };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => args.json = true,
            "--runs" => {
                let v = it.next().ok_or("--runs needs a number")?;
                args.runs = v.parse().map_err(|_| format!("bad --runs {v}"))?;
            }
            _ if args.mesh.as_os_str().is_empty() => args.mesh = PathBuf::from(a),
            _ => args.resolutions.push(a.parse().map_err(|_| format!("unexpected argument {a}"))?),
        }
    }
    if args.mesh.as_os_str().is_empty() {
        return Err("usage: voxelize_timing MESH [--runs N] [--json] [RES ...]".into());
    }
    if args.resolutions.is_empty() {
        args.resolutions = RESOLUTIONS.to_vec();
    }
    args.runs = args.runs.max(1);
    Ok(args)
}

fn report_load(args: &Args, triangles: usize, load: Duration) {
    if args.json {
        println!(r#"{{"event": "loaded", "seconds": {}, "triangles": {triangles}}}"#, secs(load));
    } else {
        println!(
            "{}: {triangles} triangles read in {:.1} ms; rayon threads {}",
            args.mesh.display(),
            secs(load) * 1e3,
            rayon::current_num_threads()
        );
    }
}

fn report_runs(args: &Args, n: usize, times: &[Duration], count: usize) {
    if args.json {
        for t in times {
            println!(
                r#"{{"event": "run", "res": {n}, "seconds": {}, "voxels": {count}}}"#,
                secs(*t)
            );
        }
        return;
    }
    let mut sorted = times.to_vec();
    sorted.sort();
    println!(
        "{n:>3}³: median {:8.2} ms  (min {:8.2}, max {:8.2}, {} runs)  {count} voxels",
        secs(sorted[sorted.len() / 2]) * 1e3,
        secs(sorted[0]) * 1e3,
        secs(sorted[sorted.len() - 1]) * 1e3,
        sorted.len()
    );
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn fail(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(2);
}
