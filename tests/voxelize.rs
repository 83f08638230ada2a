//! Whole shapes built in code, voxelized and checked voxel by voxel: cubes, spheres, sheets,
//! open and leaky boxes, textures, vertex colours, fitting, bad triangles, and `.vox` resampling.

use voxgen::mesh::{Image, Material, Mesh, TextureRef, Triangle, Voxels, Wrap};
use voxgen::voxel::{fit_voxels, voxelize, VoxelGrid, VoxelizeConfig};

const RED: [f32; 4] = [1.0, 0.0, 0.0, 1.0];
const GREEN: [f32; 4] = [0.0, 1.0, 0.0, 1.0];
const BLUE: [f32; 4] = [0.0, 0.0, 1.0, 1.0];
const WHITE: [f32; 4] = [1.0, 1.0, 1.0, 1.0];

fn cfg(resolution: usize) -> VoxelizeConfig {
    VoxelizeConfig { resolution, ..Default::default() }
}

fn tri(positions: [[f32; 3]; 3]) -> Triangle {
    Triangle { positions, colors: None, uvs: None, material: 0 }
}

fn material(rgba: [f32; 4]) -> Material {
    Material { name: "m".into(), base_color: rgba, texture: None }
}

fn mesh(triangles: Vec<Triangle>) -> Mesh {
    Mesh { triangles, materials: vec![material(WHITE)], images: vec![] }
}

/// The two triangles of the quad `p0 p1 p2 p3`, with per-corner UVs if given.
fn quad(p: [[f32; 3]; 4], uv: Option<[[f32; 2]; 4]>, material: usize) -> [Triangle; 2] {
    let t = |i: [usize; 3]| Triangle {
        positions: i.map(|k| p[k]),
        colors: None,
        uvs: uv.map(|uv| i.map(|k| uv[k])),
        material,
    };
    [t([0, 1, 2]), t([0, 2, 3])]
}

/// The faces of the box `lo..=hi`, each split into `sub × sub` quads. Face `f` is axis `f / 2`
/// at its low (`f` even) or high side; triangles come as `(face, triangle)`.
fn box_faces(lo: [f32; 3], hi: [f32; 3], sub: usize) -> Vec<(usize, Triangle)> {
    let mut out = vec![];
    for face in 0..6 {
        let (a, u, v) = (face / 2, (face / 2 + 1) % 3, (face / 2 + 2) % 3);
        let at = |i: usize, j: usize| {
            let mut p = [0.0; 3];
            p[a] = if face % 2 == 0 { lo[a] } else { hi[a] };
            p[u] = lo[u] + (hi[u] - lo[u]) * i as f32 / sub as f32;
            p[v] = lo[v] + (hi[v] - lo[v]) * j as f32 / sub as f32;
            p
        };
        for i in 0..sub {
            for j in 0..sub {
                let q = [at(i, j), at(i + 1, j), at(i + 1, j + 1), at(i, j + 1)];
                out.extend(quad(q, None, 0).map(|t| (face, t)));
            }
        }
    }
    out
}

fn unit_cube() -> Mesh {
    mesh(box_faces([0.0; 3], [1.0; 3], 1).into_iter().map(|(_, t)| t).collect())
}

/// A sphere of radius 1: an icosahedron split `level` times, corners pushed onto the sphere.
fn icosphere(level: usize) -> Vec<Triangle> {
    let g = (1.0 + 5f32.sqrt()) / 2.0;
    let corners = [
        [-1.0, g, 0.0],
        [1.0, g, 0.0],
        [-1.0, -g, 0.0],
        [1.0, -g, 0.0],
        [0.0, -1.0, g],
        [0.0, 1.0, g],
        [0.0, -1.0, -g],
        [0.0, 1.0, -g],
        [g, 0.0, -1.0],
        [g, 0.0, 1.0],
        [-g, 0.0, -1.0],
        [-g, 0.0, 1.0],
    ];
    let faces = [
        [0, 11, 5],
        [0, 5, 1],
        [0, 1, 7],
        [0, 7, 10],
        [0, 10, 11],
        [1, 5, 9],
        [5, 11, 4],
        [11, 10, 2],
        [10, 7, 6],
        [7, 1, 8],
        [3, 9, 4],
        [3, 4, 2],
        [3, 2, 6],
        [3, 6, 8],
        [3, 8, 9],
        [4, 9, 5],
        [2, 4, 11],
        [6, 2, 10],
        [8, 6, 7],
        [9, 8, 1],
    ];
    let unit = |p: [f32; 3]| {
        let l = (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt();
        p.map(|c| c / l)
    };
    let mut tris: Vec<[[f32; 3]; 3]> = faces.iter().map(|f| f.map(|i| unit(corners[i]))).collect();
    for _ in 0..level {
        let mid = |a: [f32; 3], b: [f32; 3]| unit([0, 1, 2].map(|i| (a[i] + b[i]) / 2.0));
        tris = tris
            .iter()
            .flat_map(|&[a, b, c]| {
                let (ab, bc, ca) = (mid(a, b), mid(b, c), mid(c, a));
                [[a, ab, ca], [ab, b, bc], [ca, bc, c], [ab, bc, ca]]
            })
            .collect();
    }
    tris.into_iter().map(tri).collect()
}

fn layer_count(grid: &VoxelGrid, z: usize) -> usize {
    grid.voxels().filter(|(p, _)| p[2] == z).count()
}

#[test]
fn aligned_cube_fills_exactly() {
    let grid = voxelize(&unit_cube(), &cfg(32)).unwrap();
    assert_eq!(grid.dims(), [32; 3]);
    assert_eq!(grid.count(), 32 * 32 * 32);
    let c = VoxelizeConfig { resolution: 32, margin: 3, shell: false };
    let grid = voxelize(&unit_cube(), &c).unwrap();
    assert_eq!(grid.count(), 26 * 26 * 26);
    assert_eq!(grid.bounds(), Some(([3; 3], [28; 3])));
    assert_eq!(grid.get(16, 16, 16), Some([255; 3]));
}

#[test]
fn shell_mode_leaves_the_inside_empty() {
    let c = VoxelizeConfig { resolution: 32, margin: 0, shell: true };
    let grid = voxelize(&unit_cube(), &c).unwrap();
    assert_eq!(grid.count(), 32 * 32 * 32 - 30 * 30 * 30);
    assert!(grid.get(16, 16, 16).is_none() && grid.get(1, 1, 1).is_none());
    assert!(grid.get(0, 16, 16).is_some());
}

#[test]
fn sphere_volume_matches_the_conservative_estimate() {
    // Radius 32 voxels. Every voxel the surface touches counts, so a solid is the set of voxels
    // whose box meets the sphere: by Steiner's formula for a ball plus a unit cube,
    // 4/3·π·r³ + 3π·r² + 6r + 1 voxels, about 7% over the ball itself at r = 32.
    let grid = voxelize(&mesh(icosphere(4)), &cfg(64)).unwrap();
    let r = 32.0f64;
    let ball = 4.0 / 3.0 * std::f64::consts::PI * r.powi(3);
    let touched = ball + 3.0 * std::f64::consts::PI * r * r + 6.0 * r + 1.0;
    let count = grid.count() as f64;
    println!("sphere: {count} voxels, ball {ball:.0}, touched {touched:.0}");
    assert!(count > ball, "{count} below the ball volume {ball}");
    assert!((count / touched - 1.0).abs() < 0.02, "{count} vs {touched}");
    assert_eq!(grid.bounds(), Some(([0; 3], [63; 3])));
    // Solid through the middle.
    assert!((0..64).all(|x| grid.get(x, 32, 32).is_some()));
}

#[test]
fn flat_quad_and_sliver_do_not_vanish() {
    let sheet = quad([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]], None, 0);
    let grid = voxelize(&mesh(sheet.to_vec()), &cfg(32)).unwrap();
    assert_eq!(grid.count(), 32 * 32);
    assert_eq!(layer_count(&grid, 16), 32 * 32, "one layer, in the middle");

    // A sliver 1 long and 1e-4 wide. In an odd grid its thin extent sits in the middle voxel.
    let sliver = tri([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0001, 0.00005]]);
    let grid = voxelize(&mesh(vec![sliver.clone()]), &cfg(33)).unwrap();
    assert_eq!(grid.count(), 33);
    assert_eq!(grid.bounds(), Some(([0, 16, 16], [32, 16, 16])));
    // In an even grid it straddles the middle boundary: up to four voxels a column, none lost.
    let grid = voxelize(&mesh(vec![sliver]), &cfg(32)).unwrap();
    for x in 0..32 {
        let column = grid.voxels().filter(|(p, _)| p[0] == x).count();
        assert!((1..=4).contains(&column), "column {x}: {column}");
    }
}

#[test]
fn open_box_stays_hollow() {
    let walls: Vec<Triangle> = box_faces([0.0; 3], [1.0; 3], 1)
        .into_iter()
        .filter(|(f, _)| *f != 5)
        .map(|(_, t)| t)
        .collect();
    assert_eq!(walls.len(), 10);
    let grid = voxelize(&mesh(walls), &cfg(32)).unwrap();
    assert_eq!(grid.count(), 32 * 32 * 32 - 30 * 30 * 31);
    assert!(grid.get(16, 16, 16).is_none() && grid.get(1, 1, 1).is_none());
    assert!(grid.get(16, 16, 0).is_some());
}

#[test]
fn closed_cube_missing_triangles_still_fills() {
    // 16 × 16 quads a face: at 64³ each quad is 4 voxels wide, and a missing triangle leaves a
    // hole of one voxel that no other triangle touches.
    let faces = box_faces([0.0; 3], [1.0; 3], 16);
    // Leave out one triangle of the top face and one of a side face.
    let top = faces.iter().position(|(f, _)| *f == 5).unwrap() + 301;
    let side = faces.iter().position(|(f, _)| *f == 0).unwrap() + 120;
    let kept: Vec<Triangle> = faces
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i != top && *i != side)
        .map(|(_, (_, t))| t)
        .collect();
    let c = VoxelizeConfig { resolution: 64, margin: 0, shell: true };
    let shell = voxelize(&mesh(kept.clone()), &c).unwrap();
    assert!(shell.count() < 64 * 64 * 64 - 62 * 62 * 62, "the surface has holes");
    let grid = voxelize(&mesh(kept), &cfg(64)).unwrap();
    assert_eq!(grid.count(), 64 * 64 * 64);
}

/// A 16×16 texture in four 8×8 quadrants: red top-left, green top-right, blue bottom-left,
/// white bottom-right (v = 0 is the top row).
fn quadrants() -> Image {
    let pixels = (0..16 * 16)
        .map(|i| match (i % 16 < 8, i / 16 < 8) {
            (true, true) => RED,
            (false, true) => GREEN,
            (true, false) => BLUE,
            (false, false) => WHITE,
        })
        .collect();
    Image { width: 16, height: 16, pixels }
}

fn textured(triangles: Vec<Triangle>, texture: TextureRef) -> Mesh {
    let m = Material { name: "tex".into(), base_color: WHITE, texture: Some(texture) };
    Mesh { triangles, materials: vec![m], images: vec![quadrants()] }
}

#[test]
fn texture_quadrants_land_on_the_right_faces() {
    // Top face: u = x, v = 1 - y (image up is +y). Bottom face: u = x, v = y.
    // Side face x = 1: u = y, v = 1 - z.
    let p = |x, y, z| [x, y, z];
    let mut tris = vec![];
    tris.extend(quad(
        [p(0., 0., 1.), p(1., 0., 1.), p(1., 1., 1.), p(0., 1., 1.)],
        Some([[0., 1.], [1., 1.], [1., 0.], [0., 0.]]),
        0,
    ));
    tris.extend(quad(
        [p(0., 0., 0.), p(1., 0., 0.), p(1., 1., 0.), p(0., 1., 0.)],
        Some([[0., 0.], [1., 0.], [1., 1.], [0., 1.]]),
        0,
    ));
    tris.extend(quad(
        [p(1., 0., 0.), p(1., 1., 0.), p(1., 1., 1.), p(1., 0., 1.)],
        Some([[0., 1.], [1., 1.], [1., 0.], [0., 0.]]),
        0,
    ));
    let grid = voxelize(&textured(tris, TextureRef::new(0)), &cfg(32)).unwrap();
    let (red, green, blue, white) = ([255, 0, 0], [0, 255, 0], [0, 0, 255], [255; 3]);
    // Top face (z = 31): +y half is the image's top.
    assert_eq!(grid.get(8, 24, 31), Some(red));
    assert_eq!(grid.get(24, 24, 31), Some(green));
    assert_eq!(grid.get(8, 8, 31), Some(blue));
    assert_eq!(grid.get(24, 8, 31), Some(white));
    // Bottom face (z = 0): flipped in y.
    assert_eq!(grid.get(8, 8, 0), Some(red));
    assert_eq!(grid.get(24, 24, 0), Some(white));
    // Side face (x = 31): u along y, image top at high z.
    assert_eq!(grid.get(31, 8, 24), Some(red));
    assert_eq!(grid.get(31, 24, 8), Some(white));
}

#[test]
fn texture_transform_and_wrap_modes() {
    // A sheet with u = x; the transform doubles u, so the texture repeats twice across it.
    let sheet = |wrap: Wrap, transform: [[f32; 3]; 2]| {
        let t = TextureRef { image: 0, wrap_u: wrap, wrap_v: Wrap::Repeat, transform };
        let uv = Some([[0., 0.25], [1., 0.25], [1., 0.25], [0., 0.25]]);
        let q = quad([[0., 0., 0.], [1., 0., 0.], [1., 1., 0.], [0., 1., 0.]], uv, 0);
        voxelize(&textured(q.to_vec(), t), &cfg(32)).unwrap()
    };
    let row = |g: &VoxelGrid| [4, 12, 20, 28].map(|x| g.get(x, 16, 16));
    let (red, green) = (Some([255, 0, 0]), Some([0, 255, 0]));
    let double = [[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]];
    assert_eq!(row(&sheet(Wrap::Repeat, double)), [red, green, red, green]);
    assert_eq!(row(&sheet(Wrap::MirroredRepeat, double)), [red, green, green, red]);
    assert_eq!(row(&sheet(Wrap::ClampToEdge, double)), [red, green, green, green]);
    let shifted = [[1.0, 0.0, 0.5], [0.0, 1.0, 0.0]];
    assert_eq!(row(&sheet(Wrap::Repeat, shifted)), [green, green, red, red]);
}

#[test]
fn vertex_colours_interpolate() {
    let mut sheet =
        quad([[0., 0., 0.], [1., 0., 0.], [1., 1., 0.], [0., 1., 0.]], None, 0).to_vec();
    // Red along y = 0, blue along y = 1.
    sheet[0].colors = Some([RED, RED, BLUE]);
    sheet[1].colors = Some([RED, BLUE, BLUE]);
    let grid = voxelize(&mesh(sheet), &cfg(32)).unwrap();
    let at = |y| grid.get(16, y, 16).unwrap();
    let (near_red, near_blue, middle) = (at(0), at(31), at(16));
    assert!(near_red[0] > 250 && near_red[2] < 60, "{near_red:?}");
    assert!(near_blue[2] > 250 && near_blue[0] < 60, "{near_blue:?}");
    // Linear halfway (0.5) is sRGB 188; the voxel centre at y = 16.5 / 32 is just past it.
    assert!((175..=200).contains(&middle[0]) && (175..=200).contains(&middle[2]), "{middle:?}");
    assert!(middle[0] < middle[2]);
}

#[test]
fn interior_takes_the_nearest_surface_colour() {
    let mut m = Mesh {
        triangles: box_faces([0.0; 3], [1.0; 3], 1)
            .into_iter()
            .map(|(f, mut t)| {
                t.material = usize::from(f == 5);
                t
            })
            .collect(),
        materials: vec![material(BLUE), material(RED)],
        images: vec![],
    };
    let grid = voxelize(&m, &cfg(32)).unwrap();
    assert_eq!(grid.get(16, 16, 28), Some([255, 0, 0]));
    assert_eq!(grid.get(16, 16, 3), Some([0, 0, 255]));
    m.materials[1] = material(GREEN);
    let grid = voxelize(&m, &cfg(32)).unwrap();
    assert_eq!(grid.get(16, 16, 30), Some([0, 255, 0]));
}

#[test]
fn fit_keeps_aspect_and_centres() {
    let tris = box_faces([-1.0, 0.0, 5.0], [3.0, 2.0, 7.0], 1).into_iter().map(|(_, t)| t);
    let grid = voxelize(&mesh(tris.collect()), &cfg(32)).unwrap();
    assert_eq!(grid.bounds(), Some(([0, 8, 8], [31, 23, 23])));
    assert_eq!(grid.count(), 32 * 16 * 16);
}

#[test]
fn pyramid_stays_upright() {
    let apex = [0.5, 0.5, 2.0];
    let base = [[0., 0., 0.], [1., 0., 0.], [1., 1., 0.], [0., 1., 0.]];
    let mut tris = quad(base, None, 0).to_vec();
    for i in 0..4 {
        tris.push(tri([base[i], base[(i + 1) % 4], apex]));
    }
    let grid = voxelize(&mesh(tris), &cfg(32)).unwrap();
    let (lo, hi) = grid.bounds().unwrap();
    assert_eq!((lo[2], hi[2]), (0, 31));
    assert_eq!((lo[0], hi[0]), (8, 23));
    assert_eq!(layer_count(&grid, 0), 16 * 16);
    assert!(layer_count(&grid, 31) <= 4, "apex at the top: {}", layer_count(&grid, 31));
    assert!(grid.get(16, 16, 30).is_some() || grid.get(15, 15, 30).is_some());
}

#[test]
fn bad_triangles_are_skipped() {
    let mut m = unit_cube();
    m.triangles.push(tri([[0.2, 0.2, 0.2]; 3]));
    m.triangles.push(tri([[0.0, 0.0, 0.0], [0.5, 0.5, 0.5], [1.0, 1.0, 1.0]]));
    m.triangles.push(tri([[f32::NAN, 0.0, 0.0], [50.0, 0.0, 0.0], [0.0, 50.0, 0.0]]));
    m.triangles.push(tri([[f32::INFINITY, 0.0, 0.0], [0.0, -9.0, 0.0], [0.0, 0.0, 1.0]]));
    let grid = voxelize(&m, &cfg(32)).unwrap();
    assert_eq!(grid.count(), 32 * 32 * 32);

    let nan = mesh(vec![tri([[f32::NAN; 3]; 3])]);
    let err = voxelize(&nan, &cfg(32)).unwrap_err().to_string();
    assert_eq!(err, "invalid mesh: no triangle with finite corners");
    let flat = mesh(vec![tri([[1.0; 3]; 3]), tri([[0.0; 3], [1.0; 3], [2.0; 3]])]);
    assert!(voxelize(&flat, &cfg(32)).is_err());
    assert!(voxelize(&Mesh::default(), &cfg(32)).is_err());
    assert!(voxelize(&unit_cube(), &cfg(4)).is_err());
}

/// All integer points of the box `lo..=hi` in one colour.
fn block(lo: [i32; 3], hi: [i32; 3], rgb: [u8; 3]) -> Vec<([i32; 3], [u8; 3])> {
    let mut out = vec![];
    for z in lo[2]..=hi[2] {
        for y in lo[1]..=hi[1] {
            for x in lo[0]..=hi[0] {
                out.push(([x, y, z], rgb));
            }
        }
    }
    out
}

#[test]
fn vox_bar_downsamples_keeping_aspect() {
    let bar = Voxels { points: block([0, 0, 0], [99, 9, 9], [200, 100, 50]) };
    let grid = fit_voxels(&bar, &cfg(32)).unwrap();
    // 100 voxels → 32 cells (scale 0.32); 10 → 3.2 cells centred at 14.4..17.6, whose two
    // 60%-covered edge cells pass the half-volume rule.
    assert_eq!(grid.bounds(), Some(([0, 14, 14], [31, 17, 17])));
    assert_eq!(grid.count(), 32 * 4 * 4);
    assert!(grid.voxels().all(|(_, c)| c == [200, 100, 50]));
}

#[test]
fn vox_thin_line_survives_downsampling() {
    let mut points = block([0, 0, 0], [99, 9, 9], [200, 100, 50]);
    // A one-voxel antenna from the bar's top, 60 voxels tall.
    points.extend(block([50, 5, 10], [50, 5, 69], [0, 0, 255]));
    let grid = fit_voxels(&Voxels { points }, &cfg(32)).unwrap();
    // z: 70 voxels → 22.4 cells from 4.8; the antenna spans 8.0..27.2, in column (16, 16).
    let antenna: Vec<usize> =
        grid.voxels().filter(|(_, c)| *c == [0, 0, 255]).map(|(p, _)| p[2]).collect();
    assert_eq!(antenna, (8..=27).collect::<Vec<_>>());
    assert!((8..=27).all(|z| grid.get(16, 16, z).is_some()));
    assert_eq!(grid.bounds(), Some(([0, 14, 5], [31, 17, 27])));
}

#[test]
fn vox_small_model_upsamples_with_nearest() {
    let mut points = block([0, 0, 0], [7, 3, 3], [10, 10, 10]);
    points.push(([3, 1, 4], [255, 0, 0]));
    let grid = fit_voxels(&Voxels { points }, &cfg(32)).unwrap();
    // Extent 8×4×5 at scale 4: 32×16×20 cells.
    assert_eq!(grid.bounds(), Some(([0, 8, 6], [31, 23, 25])));
    assert_eq!(grid.count(), 32 * 16 * 16 + 4 * 4 * 4);
    assert_eq!(grid.get(13, 13, 23), Some([255, 0, 0]));
}
