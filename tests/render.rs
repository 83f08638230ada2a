//! The renderer seen from outside: frames, turntable GIFs and PNG stills of small test shapes.

use std::f32::consts::{FRAC_PI_2, PI};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use image::{Rgba, RgbaImage};
use voxgen::render::{
    render_frame, write_gif, write_gif_frames, write_png, RenderConfig, THREE_QUARTER_YAW,
};
use voxgen::voxel::VoxelGrid;

const RED: [u8; 3] = [220, 40, 30];
const GREY: [u8; 3] = [150, 150, 150];
const BLUE: [u8; 3] = [40, 80, 220];

fn config(size: u32, frames: usize) -> RenderConfig {
    RenderConfig { size, frames, ..RenderConfig::default() }
}

fn background(cfg: &RenderConfig) -> Rgba<u8> {
    let [r, g, b] = cfg.background;
    Rgba([r, g, b, 255])
}

fn fill_box(g: &mut VoxelGrid, lo: [usize; 3], hi: [usize; 3], rgb: [u8; 3]) {
    for z in lo[2]..=hi[2] {
        for y in lo[1]..=hi[1] {
            for x in lo[0]..=hi[0] {
                g.set(x, y, z, Some(rgb));
            }
        }
    }
}

/// A grey 4x4 tower 16 high with a red cap and a blue arm sticking out along +x.
fn tower() -> VoxelGrid {
    let mut g = VoxelGrid::cube(20).unwrap();
    fill_box(&mut g, [6, 6, 0], [9, 9, 13], GREY);
    fill_box(&mut g, [6, 6, 14], [9, 9, 15], RED);
    fill_box(&mut g, [10, 7, 7], [15, 8, 8], BLUE);
    g
}

/// A small four-legged creature in a 32³ grid, facing -y.
fn critter() -> VoxelGrid {
    let mut g = VoxelGrid::cube(32).unwrap();
    let inside = |p: [f32; 3], c: [f32; 3], r: [f32; 3]| {
        (0..3).map(|i| ((p[i] - c[i]) / r[i]).powi(2)).sum::<f32>() <= 1.0
    };
    for z in 0..32 {
        for y in 0..32 {
            for x in 0..32 {
                let p = [x as f32 + 0.5, y as f32 + 0.5, z as f32 + 0.5];
                let body = inside(p, [16.0, 17.0, 13.0], [7.0, 10.0, 6.0]);
                let head = inside(p, [16.0, 6.0, 19.0], [5.5, 5.0, 5.0]);
                let leg = [(11.0, 11.0), (21.0, 11.0), (11.0, 23.0), (21.0, 23.0)]
                    .iter()
                    .any(|&(lx, ly)| inside(p, [lx, ly, 4.0], [2.2, 2.2, 5.0]));
                let tail = inside(p, [16.0, 29.0, 17.0], [1.5, 3.5, 1.5]);
                let eye = inside(p, [13.5, 1.8, 20.5], [1.2, 1.2, 1.2])
                    || inside(p, [18.5, 1.8, 20.5], [1.2, 1.2, 1.2]);
                let colour = if eye {
                    Some([20, 20, 30])
                } else if head || body || tail {
                    Some(if z < 10 { [230, 210, 150] } else { [90, 160, 70] })
                } else if leg {
                    Some([120, 90, 60])
                } else {
                    None
                };
                if colour.is_some() {
                    g.set(x, y, z, colour);
                }
            }
        }
    }
    g
}

/// A ball of radius `r` centred in an `n`³ grid, coloured by position.
fn ball(n: usize, r: f32) -> VoxelGrid {
    let mut g = VoxelGrid::cube(n).unwrap();
    let c = n as f32 / 2.0;
    for z in 0..n {
        for y in 0..n {
            for x in 0..n {
                let d = [x, y, z].map(|v| v as f32 + 0.5 - c);
                if d.iter().map(|v| v * v).sum::<f32>() <= r * r {
                    g.set(x, y, z, Some([(x * 255 / n) as u8, (y * 255 / n) as u8, 160]));
                }
            }
        }
    }
    g
}

/// One red voxel in the middle of an `n`³ grid (`n` odd).
fn single_voxel(n: usize) -> VoxelGrid {
    let mut g = VoxelGrid::cube(n).unwrap();
    g.set(n / 2, n / 2, n / 2, Some(RED));
    g
}

fn corners(img: &RgbaImage) -> [Rgba<u8>; 4] {
    let (w, h) = img.dimensions();
    [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)].map(|(x, y)| *img.get_pixel(x, y))
}

fn brightness(p: &Rgba<u8>) -> u32 {
    u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2])
}

#[test]
fn single_voxel_is_shaded_at_the_centre_with_background_corners() {
    let cfg = config(64, 1);
    let img = render_frame(&single_voxel(9), THREE_QUARTER_YAW, &cfg);
    assert_eq!(img.dimensions(), (64, 64));
    let centre = img.get_pixel(32, 32);
    assert_ne!(*centre, background(&cfg));
    assert!(
        u16::from(centre[0]) > 2 * u16::from(centre[1].max(centre[2])),
        "keeps the voxel's red hue: {centre:?}"
    );
    assert_eq!(corners(&img), [background(&cfg); 4]);
}

#[test]
fn top_and_side_faces_are_lit_differently() {
    // From yaw 0 the camera looks along -x: the centre column shows the top face above the
    // +x face.
    let cfg = config(128, 1);
    let img = render_frame(&single_voxel(3), 0.0, &cfg);
    let column: Vec<u32> =
        (0..128).filter(|&y| *img.get_pixel(64, y) != background(&cfg)).collect();
    assert!(column.len() > 20, "the voxel covers much of the column: {}", column.len());
    let (first, len) = (column[0], column.len() as u32);
    let top = img.get_pixel(64, first + len * 15 / 100);
    let side = img.get_pixel(64, first + len * 70 / 100);
    assert!(brightness(top) > brightness(side) + 30, "top {top:?} side {side:?}");
}

#[test]
fn turning_changes_the_view_and_keeps_it_upright() {
    let cfg = config(96, 1);
    let g = tower();
    let frames: Vec<RgbaImage> =
        [0.0, FRAC_PI_2, PI, -FRAC_PI_2].iter().map(|&yaw| render_frame(&g, yaw, &cfg)).collect();
    for i in 0..frames.len() {
        for j in i + 1..frames.len() {
            let differing =
                frames[i].pixels().zip(frames[j].pixels()).filter(|(a, b)| a != b).count();
            assert!(differing > 100, "frames {i} and {j} differ in only {differing} pixels");
        }
    }
    for img in &frames {
        let red_rows: Vec<u32> = img
            .enumerate_pixels()
            .filter(|(_, _, p)| u16::from(p[0]) > 2 * u16::from(p[1].max(p[2])) && p[0] > 60)
            .map(|(_, y, _)| y)
            .collect();
        assert!(!red_rows.is_empty(), "the red cap is visible");
        assert!(red_rows.iter().all(|&y| y < 48), "the cap is in the upper half");
        let lowest = img.enumerate_pixels().filter(|(_, _, p)| **p != background(&cfg)).last();
        assert!(lowest.is_some_and(|(_, y, _)| y > 60), "the tower reaches the lower half");
    }
}

#[test]
fn gif_has_all_frames_one_global_palette_and_loops() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tower.gif");
    let cfg = config(48, 24);
    write_gif(&tower(), &path, &cfg).unwrap();

    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::Indexed);
    let mut decoder = options.read_info(File::open(&path).unwrap()).unwrap();
    assert_eq!((decoder.width(), decoder.height()), (48, 48));
    let palette = decoder.global_palette().expect("a global palette").to_vec();
    assert!(palette.len() <= 256 * 3);
    let mut frames = 0;
    let mut delays = Vec::new();
    while let Some(frame) = decoder.read_next_frame().unwrap() {
        assert!(frame.palette.is_none(), "frame {frames} has a local palette");
        assert_eq!((frame.width, frame.height), (48, 48));
        let corner = usize::from(frame.buffer[0]);
        assert_eq!(&palette[corner * 3..corner * 3 + 3], &cfg.background, "exact background");
        delays.push(frame.delay);
        frames += 1;
    }
    assert_eq!(frames, 24);
    assert_eq!(decoder.repeat(), gif::Repeat::Infinite);
    let turn: u16 = delays.iter().sum();
    assert!((240..=360).contains(&turn), "one turn takes about 3 s, not {turn} cs");
}

#[test]
fn gif_frames_helper_writes_the_given_frames() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("walk.gif");
    let frames: Vec<RgbaImage> =
        (0..3u8).map(|i| RgbaImage::from_pixel(20, 10, Rgba([i * 80, 10, 10, 255]))).collect();
    write_gif_frames(&frames, &path, 7).unwrap();
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = options.read_info(File::open(&path).unwrap()).unwrap();
    let mut seen = Vec::new();
    while let Some(frame) = decoder.read_next_frame().unwrap() {
        assert_eq!((frame.width, frame.height, frame.delay), (20, 10, 7));
        seen.push(frame.buffer[0]);
    }
    assert_eq!(seen, vec![0, 80, 160]);
}

#[test]
fn png_still_has_the_configured_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("critter.png");
    let cfg = config(80, 1);
    write_png(&critter(), &path, &cfg).unwrap();
    let img = image::open(&path).unwrap().to_rgba8();
    assert_eq!(img.dimensions(), (80, 80));
    assert_eq!(corners(&img), [background(&cfg); 4]);
    assert_ne!(*img.get_pixel(40, 40), background(&cfg));
}

#[test]
fn large_grid_renders() {
    let cfg = config(64, 1);
    let img = render_frame(&ball(64, 30.0), 0.3, &cfg);
    assert_ne!(*img.get_pixel(32, 32), background(&cfg));
    assert_eq!(corners(&img), [background(&cfg); 4]);
}

#[test]
fn empty_grid_renders_only_background() {
    let cfg = config(32, 3);
    let g = VoxelGrid::cube(16).unwrap();
    let img = render_frame(&g, 1.0, &cfg);
    assert!(img.pixels().all(|p| *p == background(&cfg)));
    let dir = tempfile::tempdir().unwrap();
    write_gif(&g, &dir.path().join("empty.gif"), &cfg).unwrap();
    write_png(&g, &dir.path().join("empty.png"), &cfg).unwrap();
}

#[test]
fn bad_settings_and_paths_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.png");
    assert!(write_png(&tower(), &path, &config(8, 1)).is_err());
    assert!(!path.exists());
    let missing = dir.path().join("no/such/dir/t.gif");
    let err = write_gif(&tower(), &missing, &config(32, 2)).unwrap_err().to_string();
    assert!(err.contains("t.gif"), "{err}");
    // Out-of-range values never panic in render_frame: they are clamped.
    let odd = RenderConfig { size: 0, elevation_deg: f32::NAN, ..RenderConfig::default() };
    assert_eq!(render_frame(&tower(), f32::INFINITY, &odd).dimensions(), (1, 1));
}

/// The shared test corpus: `VOXGEN_CORPUS`, else `../shared/corpus` beside the crate.
fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("VOXGEN_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    dir.is_dir().then_some(dir)
}

/// The first model of a MagicaVoxel file (also Z-up) as a grid.
fn load_vox(path: &Path) -> VoxelGrid {
    let data = dot_vox::load(path.to_str().unwrap()).unwrap();
    let model = &data.models[0];
    let size = [model.size.x, model.size.y, model.size.z].map(|v| v as usize);
    let mut g = VoxelGrid::new(size).unwrap();
    for v in &model.voxels {
        let c = data.palette[usize::from(v.i)];
        g.set(v.x.into(), v.y.into(), v.z.into(), Some([c.r, c.g, c.b]));
    }
    g
}

/// Writes sample renders to `VOXGEN_RENDER_SAMPLES` (or a temporary folder) for a person to
/// look at. Run with `cargo test --test render samples -- --ignored --nocapture`.
#[test]
#[ignore]
fn samples() {
    let dir = std::env::var_os("VOXGEN_RENDER_SAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| tempfile::tempdir().unwrap().keep());
    std::fs::create_dir_all(&dir).unwrap();
    let mut shapes = vec![("critter", critter()), ("tower", tower()), ("ball", ball(64, 30.0))];
    match corpus() {
        Some(corpus) => {
            for name in ["mob_bear", "chr_beardo1", "alien_saucer2a"] {
                shapes.push((name, load_vox(&corpus.join(format!("mmmm/vox/{name}.vox")))));
            }
        }
        None => println!("no corpus (set VOXGEN_CORPUS): rendering built-in shapes only"),
    }
    let cfg = RenderConfig::default();
    for (name, g) in &shapes {
        write_png(g, &dir.join(format!("{name}.png")), &cfg).unwrap();
        write_gif(g, &dir.join(format!("{name}.gif")), &cfg).unwrap();
        write_png(g, &dir.join(format!("{name}_large.png")), &config(640, 1)).unwrap();
    }
    // The first GIF frame as a PNG, to see what palette quantization did.
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = options.read_info(File::open(dir.join("critter.gif")).unwrap()).unwrap();
    let frame = decoder.read_next_frame().unwrap().unwrap();
    let (w, h) = (u32::from(frame.width), u32::from(frame.height));
    let img = RgbaImage::from_raw(w, h, frame.buffer.to_vec()).unwrap();
    img.save(dir.join("critter_gif_frame0.png")).unwrap();
    println!("samples in {}", dir.display());
}

/// Processor time this process has used (all threads), where `/proc` tells it.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// Runs `f`, printing its wall-clock and processor time.
fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let (start, cpu) = (Instant::now(), cpu_time());
    let out = f();
    let used = cpu.zip(cpu_time()).map(|(a, b)| format!("{:.2?}", b - a));
    println!("{what}: {:.2?} wall, {} cpu", start.elapsed(), used.as_deref().unwrap_or("?"));
    out
}

/// Times 36-frame 256-pixel turntables. Meaningful only in an optimized build:
/// `cargo test --release --test render timing -- --ignored --nocapture`.
#[test]
#[ignore]
fn timing() {
    let cfg = RenderConfig::default();
    let dir = tempfile::tempdir().unwrap();
    println!("{} worker threads", rayon::current_num_threads());
    for (name, g) in [("32^3 critter", critter()), ("128^3 ball", ball(128, 60.0))] {
        let frames: Vec<RgbaImage> = timed(&format!("{name}: 36 render_frame calls"), || {
            (0..36).map(|i| render_frame(&g, i as f32 * PI / 18.0, &cfg)).collect()
        });
        timed(&format!("{name}: write_gif_frames"), || {
            write_gif_frames(&frames, &dir.path().join("f.gif"), 8).unwrap()
        });
        timed(&format!("{name}: write_gif, 36 frames of 256"), || {
            write_gif(&g, &dir.path().join("t.gif"), &cfg).unwrap()
        });
    }
}
