//! Integration tests for the input readers (`voxgen::mesh`): the shared corpus of real files
//! (skipped with a message when absent) plus small fixtures written into temporary folders.
//!
//! Expected values come from the files themselves, read independently: triangle counts and
//! bounds from the OBJ text, image sizes from the PNG/JPEG headers, `.vox` model sizes and
//! voxel counts from the `vox-reader` npm package.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use voxgen::mesh::{self, Loaded, Mesh, Voxels, Wrap};
use voxgen::Error;

/// The corpus folder: `VOXGEN_CORPUS`, else `CARGO_MANIFEST_DIR/../shared/corpus`.
fn corpus() -> Option<PathBuf> {
    let dir = match std::env::var_os("VOXGEN_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
    };
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: corpus not found at {} (set VOXGEN_CORPUS)", dir.display());
        None
    }
}

/// Loads `rel` from the corpus with the corpus as root; `None` when the corpus is absent.
fn load_corpus(rel: &str) -> Option<Result<Loaded, Error>> {
    let root = corpus()?;
    Some(mesh::load(&root.join(rel), &root))
}

fn corpus_mesh(rel: &str) -> Option<Mesh> {
    match load_corpus(rel)? {
        Ok(Loaded::Mesh(mesh)) => Some(mesh),
        Ok(Loaded::Voxels(_)) => panic!("{rel}: expected a mesh"),
        Err(e) => panic!("{rel}: {e}"),
    }
}

fn corpus_voxels(rel: &str) -> Option<Voxels> {
    match load_corpus(rel)? {
        Ok(Loaded::Voxels(voxels)) => Some(voxels),
        Ok(Loaded::Mesh(_)) => panic!("{rel}: expected voxels"),
        Err(e) => panic!("{rel}: {e}"),
    }
}

fn assert_close(got: [f32; 3], want: [f32; 3], tolerance: f32) {
    for a in 0..3 {
        assert!((got[a] - want[a]).abs() <= tolerance, "got {got:?}, want {want:?}");
    }
}

fn assert_bounds(mesh: &Mesh, lo: [f32; 3], hi: [f32; 3], tolerance: f32) {
    let (got_lo, got_hi) = mesh.bounds().expect("mesh has triangles");
    assert_close(got_lo, lo, tolerance);
    assert_close(got_hi, hi, tolerance);
}

fn material_named<'a>(mesh: &'a Mesh, name: &str) -> &'a mesh::Material {
    mesh.materials.iter().find(|m| m.name == name).unwrap_or_else(|| panic!("no material {name}"))
}

fn texture_size(mesh: &Mesh, material: &str) -> (u32, u32) {
    let texture = material_named(mesh, material).texture.as_ref().expect("material has a texture");
    let image = &mesh.images[texture.image];
    (image.width, image.height)
}

/// Total area of the mesh's triangles.
fn area(mesh: &Mesh) -> f64 {
    mesh.triangles
        .iter()
        .map(|t| {
            let [a, b, c] = t.positions.map(|p| p.map(f64::from));
            let u = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
            let v = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
            let n =
                [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
            (n[0] * n[0] + n[1] * n[1] + n[2] * n[2]).sqrt() / 2.0
        })
        .sum()
}

fn srgb_to_linear(c: f32) -> f32 {
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

// ---------------------------------------------------------------------------------------------
// OBJ from the corpus

#[test]
fn cornell_box_reads_negative_indices_quads_and_kd_colours() {
    let Some(mesh) = corpus_mesh("tinyobjloader/models/cornell_box.obj") else { return };
    // 18 faces, mostly quads: 36 triangles.
    assert_eq!(mesh.triangles.len(), 36);
    // Y-up (x 0..556, y 0..548.8, z 0..559.2) turned Z-up: (x, -z, y).
    assert_bounds(&mesh, [0.0, -559.2, 0.0], [556.0, 0.0, 548.8], 1e-3);
    assert_eq!(material_named(&mesh, "red").base_color, [1.0, 0.0, 0.0, 1.0]);
    assert_eq!(material_named(&mesh, "green").base_color, [0.0, 1.0, 0.0, 1.0]);
    let red = mesh.materials.iter().position(|m| m.name == "red").unwrap();
    assert!(mesh.triangles.iter().any(|t| t.material == red));
}

#[test]
fn spider_resolves_windows_style_texture_paths() {
    let Some(mesh) = corpus_mesh("assimp/OBJ/spider.obj") else { return };
    assert_eq!(mesh.triangles.len(), 1368);
    // `map_Kd .\SpiderTex.jpg` etc.: every material found its JPEG.
    assert_eq!(mesh.images.len(), 5);
    assert_eq!(texture_size(&mesh, "HLeibTex"), (249, 250));
    assert_eq!(texture_size(&mesh, "BeinTex"), (768, 768));
    assert_eq!(texture_size(&mesh, "Augentex"), (128, 128));
    assert_close(
        material_named(&mesh, "Skin").base_color[..3].try_into().unwrap(),
        [0.827451, 0.792157, 0.772549],
        1e-6,
    );
    // Textured triangles carry UVs.
    assert!(mesh.triangles.iter().all(|t| t.uvs.is_some()));
}

#[test]
fn shared_png_textures_are_decoded_once() {
    let Some(mesh) = corpus_mesh("melonJS/tests-models/multitex.obj") else { return };
    // alpha and beta share multitex-a.png, gamma has multitex-b.png, plain has none.
    assert_eq!(mesh.images.len(), 2);
    let alpha = material_named(&mesh, "alpha").texture.as_ref().unwrap().image;
    let beta = material_named(&mesh, "beta").texture.as_ref().unwrap().image;
    assert_eq!(alpha, beta);
    assert!(material_named(&mesh, "plain").texture.is_none());
    let Some(crate_mesh) = corpus_mesh("melonJS/materialTextures/crate.obj") else { return };
    assert_eq!(texture_size(&crate_mesh, "wood"), (256, 256));
}

#[test]
fn vertex_colours_are_read_as_srgb() {
    let Some(mesh) = corpus_mesh("tinyobjloader/models/cube-vertexcol.obj") else { return };
    assert_eq!(mesh.triangles.len(), 12);
    // Vertex 2 is (0, 0, 2) with colour (0, 0, 1): Z-up (0, -2, 0).
    let corner = mesh
        .triangles
        .iter()
        .flat_map(|t| t.positions.iter().zip(t.colors.expect("coloured")))
        .find(|(p, _)| **p == [0.0, -2.0, 0.0])
        .expect("vertex 2 is used");
    assert_eq!(corner.1, [0.0, 0.0, 1.0, 1.0]);
}

#[test]
fn vertex_colours_on_only_some_vertices() {
    let Some(mesh) = corpus_mesh("assimp/OBJ/only_a_part_of_vertexcolors.obj") else { return };
    assert_eq!(mesh.triangles.len(), 3);
    let white = [1.0, 1.0, 1.0, 1.0];
    // f 1 2 3: only vertex 2 has a colour, (0, 0, 1).
    assert_eq!(mesh.triangles[0].colors, Some([white, [0.0, 0.0, 1.0, 1.0], white]));
    // f 1 4 3: vertex 4 is (1, 0.6, 0.3) in sRGB.
    let c = mesh.triangles[1].colors.unwrap()[1];
    assert_close([c[0], c[1], c[2]], [1.0, srgb_to_linear(0.6), srgb_to_linear(0.3)], 1e-6);
}

#[test]
fn w_component_is_ignored() {
    let Some(mesh) = corpus_mesh("tinyobjloader/models/cube-vertex-w-component.obj") else {
        return;
    };
    assert_eq!(mesh.triangles.len(), 12);
    assert_bounds(&mesh, [0.0, -2.0, 0.0], [2.0, 0.0, 2.0], 1e-6);
}

#[test]
fn concave_66_gon_is_ear_clipped() {
    let Some(mesh) = corpus_mesh("assimp/OBJ/concave_polygon.obj") else { return };
    assert_eq!(mesh.triangles.len(), 64);
    // Its area from the shoelace formula in its plane (x = -1.146): a fan over this concave
    // outline would overlap itself and report more.
    let root = corpus().unwrap();
    let text = std::fs::read_to_string(root.join("assimp/OBJ/concave_polygon.obj")).unwrap();
    let vertices: Vec<[f64; 2]> = text
        .lines()
        .filter_map(|l| l.strip_prefix("v "))
        .map(|l| {
            let v: Vec<f64> = l.split_whitespace().map(|x| x.parse().unwrap()).collect();
            [v[1], v[2]]
        })
        .collect();
    let face = text.lines().find_map(|l| l.strip_prefix("f ")).unwrap();
    let outline: Vec<[f64; 2]> = face
        .split_whitespace()
        .map(|c| vertices[c.split('/').next().unwrap().parse::<usize>().unwrap() - 1])
        .collect();
    let shoelace: f64 = (0..outline.len())
        .map(|i| {
            let (p, q) = (outline[i], outline[(i + 1) % outline.len()]);
            p[0] * q[1] - q[0] * p[1]
        })
        .sum::<f64>()
        .abs()
        / 2.0;
    assert!((area(&mesh) - shoelace).abs() < 1e-3 * shoelace, "{} vs {shoelace}", area(&mesh));
}

#[test]
fn utf16_obj_is_transcoded() {
    let Some(mesh) = corpus_mesh("assimp/OBJ/box_UTF16BE.obj") else { return };
    assert_eq!(mesh.triangles.len(), 12);
    assert_bounds(&mesh, [-0.5; 3], [0.5; 3], 1e-6);
}

#[test]
fn exotic_number_formats_parse() {
    let Some(mesh) = corpus_mesh("assimp/OBJ/number_formats.obj") else { return };
    // f 1 2 4: (0,0,0), (1,2,3), (-1,-2,-3).
    assert_eq!(mesh.triangles.len(), 1);
    assert_eq!(mesh.triangles[0].positions[1], [1.0, -3.0, 2.0]);
}

#[test]
fn missing_libraries_and_textures_fall_back() {
    // usemtl with no mtllib at all.
    let Some(mesh) = corpus_mesh("tinyobjloader/models/missing_material_file.obj") else { return };
    assert!(!mesh.triangles.is_empty());
    assert!(mesh.images.is_empty());
    // Two of three mtllib files missing: the third still gives its material.
    let mesh = corpus_mesh("tinyobjloader/models/mtllib-multiple-files-issue-112.obj").unwrap();
    assert_eq!(mesh.triangles.len(), 1);
    // Escaped spaces in the mtllib name.
    let mesh =
        corpus_mesh("tinyobjloader/models/mtl filename with whitespace issue46.obj").unwrap();
    assert_eq!(mesh.triangles.len(), 12);
    assert!(mesh.materials.iter().any(|m| m.name == "green"));
    // `map_Kd texture 01.png` is absent: the material keeps its colour, no texture.
    let mesh = corpus_mesh("tinyobjloader/models/texture-filename-with-whitespace.obj").unwrap();
    assert!(material_named(&mesh, "white").texture.is_none());
    assert_eq!(material_named(&mesh, "white").base_color, [1.0, 1.0, 1.0, 1.0]);
    // MTL in a sub-folder referencing a missing image.jpg.
    let mesh = corpus_mesh("assimp/OBJ/mtl_different_folder.obj").unwrap();
    assert!(material_named(&mesh, "Whatever").texture.is_none());
}

#[test]
fn kenney_animal_has_vertex_colours_and_atlas() {
    let Some(mesh) = corpus_mesh("creatures/melonJS/mesh3d/kenney/animal-cat.obj") else { return };
    assert_eq!(mesh.images.len(), 1);
    assert_eq!((mesh.images[0].width, mesh.images[0].height), (512, 512));
    assert!(mesh.triangles.iter().any(|t| t.colors.is_some()));
    assert!(mesh.triangles.iter().all(|t| t.uvs.is_some()));
    assert_bounds(&mesh, [-0.625, -0.7024125, 0.0], [0.625, 1.103608, 1.709994], 1e-5);
}

#[test]
fn malformed_obj_files_are_errors_naming_the_file() {
    let Some(root) = corpus() else { return };
    let cases = [
        ("tinyobjloader/models/invalid-relative-vertex-index.obj", "line 1"),
        ("tinyobjloader/models/issue-140-zero-face-idx.obj", "index 0"),
        ("tinyobjloader/models/line-prim.obj", "no triangles"),
        ("assimp/OBJ/point_cloud.obj", "no triangles"),
        ("draco/inf_nan.obj", "finite"),
    ];
    for (rel, detail) in cases {
        let path = root.join(rel);
        let err = mesh::load(&path, &root).expect_err(rel).to_string();
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains(detail), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }
}

// ---------------------------------------------------------------------------------------------
// glTF from the corpus

#[test]
fn box_textured_reads_the_same_in_all_three_packagings() {
    // The external variant's sampler mirrors along u and clamps along v; the others repeat.
    for (rel, wrap) in [
        (
            "assimp/glTF2/BoxTextured-glTF/BoxTextured.gltf",
            (Wrap::MirroredRepeat, Wrap::ClampToEdge),
        ),
        ("assimp/glTF2/BoxTextured-glTF-Embedded/BoxTextured.gltf", (Wrap::Repeat, Wrap::Repeat)),
        ("assimp/glTF2/BoxTextured-glTF-Binary/BoxTextured.glb", (Wrap::Repeat, Wrap::Repeat)),
    ] {
        let Some(mesh) = corpus_mesh(rel) else { return };
        assert_eq!(mesh.triangles.len(), 12, "{rel}");
        assert_bounds(&mesh, [-0.5; 3], [0.5; 3], 1e-6);
        assert_eq!(mesh.images.len(), 1, "{rel}");
        assert_eq!((mesh.images[0].width, mesh.images[0].height), (211, 211));
        let texture = mesh.materials[0].texture.as_ref().expect("textured");
        assert_eq!((texture.wrap_u, texture.wrap_v), wrap, "{rel}");
        assert!(mesh.triangles.iter().all(|t| t.uvs.is_some()));
    }
}

#[test]
fn vertex_colours_and_sparse_accessors() {
    let Some(mesh) = corpus_mesh("glTF-Transform/core/test/in/BoxVertexColors.glb") else { return };
    assert_eq!(mesh.triangles.len(), 12);
    assert!(mesh.triangles.iter().all(|t| t.colors.is_some()));
    assert_eq!(mesh.materials[0].base_color, [0.8, 0.8, 0.8, 1.0]);
    let mesh = corpus_mesh(
        "draco/KhronosSampleModels/SimpleSparseAccessor/glTF/SimpleSparseAccessor.gltf",
    )
    .unwrap();
    assert_eq!(mesh.triangles.len(), 12);
    // The sparse section lifts vertex 12 to (5, 4, 0); without it the top would be at 1.
    assert_bounds(&mesh, [0.0, 0.0, 0.0], [6.0, 0.0, 4.0], 1e-6);
}

#[test]
fn primitive_modes_strip_and_fan_become_triangles() {
    let Some(root) = corpus() else { return };
    let dir = root.join("assimp/glTF2/glTF-Asset-Generator/Mesh_PrimitiveMode");
    for n in 0..=3 {
        let err = mesh::load(&dir.join(format!("Mesh_PrimitiveMode_0{n}.gltf")), &root);
        assert!(matches!(err, Err(Error::Empty { .. })), "points and lines give no triangles");
    }
    for n in 4..=6 {
        let loaded = mesh::load(&dir.join(format!("Mesh_PrimitiveMode_0{n}.gltf")), &root).unwrap();
        let Loaded::Mesh(mesh) = loaded else { panic!() };
        assert_eq!(mesh.triangles.len(), 2, "mode file {n}");
    }
}

#[test]
fn non_indexed_and_second_uv_set() {
    let Some(mesh) =
        corpus_mesh("gltf-pipeline/triangle-without-indices/triangle-without-indices.gltf")
    else {
        return;
    };
    assert_eq!(mesh.triangles.len(), 1);
    assert_bounds(&mesh, [0.0; 3], [1.0, 0.0, 1.0], 1e-6);
    let mesh = corpus_mesh("draco/MultiUVTest/glTF/MultiUVTest.gltf").unwrap();
    assert_eq!(mesh.triangles.len(), 12);
    assert!(mesh.triangles.iter().all(|t| t.uvs.is_some()));
}

#[test]
fn quantized_meshopt_fallback_reads_with_node_scale() {
    let Some(mesh) = corpus_mesh(
        "gltf-pipeline/extensions/EXT_meshopt_compression/meshopt-fallback/meshopt-fallback.gltf",
    ) else {
        return;
    };
    // 36 + 144 indices.
    assert_eq!(mesh.triangles.len(), 60);
    let (lo, hi) = mesh.bounds().unwrap();
    // u16 positions 0..16383 scaled by 1/8191.5 minus 1: the cube spans -1..1.
    assert_close(lo, [-1.0, -1.0, -1.0], 1e-3);
    assert!(hi[2] > 2.87, "the second cube sits above the first: {hi:?}");
}

#[test]
fn image_uris_with_raw_spaces_resolve() {
    for rel in [
        "tinygltf/CubeImageUriSpaces/CubeImageUriSpaces.gltf",
        "tinygltf/CubeImageUriSpaces/CubeImageUriMultipleSpaces.gltf",
    ] {
        let Some(mesh) = corpus_mesh(rel) else { return };
        assert_eq!(mesh.images.len(), 1, "{rel}");
        assert_eq!((mesh.images[0].width, mesh.images[0].height), (2, 2));
    }
}

#[test]
fn skinned_creatures_load_at_a_sane_size() {
    let Some(mesh) = corpus_mesh("creatures/quaternius-showcase/animals_pack/Fox.glb") else {
        return;
    };
    let (lo, hi) = mesh.bounds().unwrap();
    let size = [hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]];
    assert!(size.iter().all(|&s| s > 0.0 && s.is_finite()), "{size:?}");
    // A fox stands on the ground: longer than it is wide, and not flattened.
    assert!(size[2] > 0.2 * size[1].max(size[0]), "{size:?}");
}

#[test]
fn malformed_and_unsupported_gltf_are_errors_naming_the_file() {
    let Some(root) = corpus() else { return };
    for rel in [
        "tinygltf/BoundsChecking/integer-out-of-bounds.gltf",
        "tinygltf/BoundsChecking/invalid-buffer-index.gltf",
        "tinygltf/BoundsChecking/invalid-primitive-indices.gltf",
    ] {
        let path = root.join(rel);
        let err = mesh::load(&path, &root).expect_err(rel).to_string();
        assert!(err.starts_with(&path.display().to_string()), "{err}");
    }
    let path = root.join("draco/Box/glTF_Binary/Box_Draco.glb");
    let err = mesh::load(&path, &root).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }));
    assert_eq!(
        err.to_string(),
        format!("{}: unsupported glTF extension KHR_draco_mesh_compression", path.display())
    );
}

// ---------------------------------------------------------------------------------------------
// .vox from the corpus

#[test]
fn vox_scene_graph_centres_models_on_their_translation() {
    let Some(voxels) = corpus_voxels("vox-format/test_single_model_default_palette.vox") else {
        return;
    };
    // One 3x1x3 model translated by (0, 3, 1): its centre cell (1, 0, 1) lands there.
    let mut cells: Vec<[i32; 3]> = voxels.points.iter().map(|p| p.0).collect();
    cells.sort();
    assert_eq!(cells, [[-1, 3, 1], [0, 3, 0], [1, 3, 0], [1, 3, 1], [1, 3, 2]]);
    // Colour index 79 of the file (1-based) is palette entry 78.
    let palette = &dot_vox::DEFAULT_PALETTE[78];
    let voxel = voxels.points.iter().find(|p| p.0 == [0, 3, 0]).unwrap();
    assert_eq!(voxel.1, [palette.r, palette.g, palette.b]);

    let voxels = corpus_voxels("vox-format/test_multiple_models.vox").unwrap();
    assert_eq!(voxels.points.len(), 10);
    let lo =
        (0..3).map(|a| voxels.points.iter().map(|p| p.0[a]).min().unwrap()).collect::<Vec<_>>();
    let hi =
        (0..3).map(|a| voxels.points.iter().map(|p| p.0[a]).max().unwrap()).collect::<Vec<_>>();
    assert_eq!((lo, hi), (vec![-1, -3, 0], vec![1, 3, 2]));
}

#[test]
fn vox_files_keep_every_voxel() {
    // Voxel counts from vox-reader; models in these files do not overlap. axes.vox places its
    // models 0, 1 and 2 three times each (920, 1640, 1480 voxels) and model 3 once (332).
    for (rel, count) in [
        ("dot_vox/single-voxel-with-material.vox", 1),
        ("dot_vox/placeholder-with-materials.vox", 4),
        ("mmmm/vox/chr_mayor.vox", 340),
        ("mmmm/vox/alien_crawl1.vox", 60),
        ("dot_vox/axes.vox", 3 * (920 + 1640 + 1480) + 332),
    ] {
        let Some(voxels) = corpus_voxels(rel) else { return };
        assert_eq!(voxels.points.len(), count, "{rel}");
    }
    // chr_mayor has no RGBA chunk: colours come from MagicaVoxel's default palette.
    let voxels = corpus_voxels("mmmm/vox/chr_mayor.vox").unwrap();
    let default: Vec<[u8; 3]> = dot_vox::DEFAULT_PALETTE.iter().map(|c| [c.r, c.g, c.b]).collect();
    assert!(voxels.points.iter().all(|p| default.contains(&p.1)));
}

#[test]
fn malformed_vox_files_are_errors() {
    let Some(root) = corpus() else { return };
    let path = root.join("dot_vox/not_a.vox");
    let err = mesh::load(&path, &root).unwrap_err().to_string();
    assert_eq!(err, format!("{}: not a magicavoxel .vox file", path.display()));
    let path = root.join("vox-format/test_no_models.vox");
    let err = mesh::load(&path, &root).unwrap_err();
    assert!(matches!(err, Error::Empty { .. }), "{err}");
}

// ---------------------------------------------------------------------------------------------
// dependencies

#[test]
fn dependencies_list_libraries_textures_and_buffers() {
    let Some(root) = corpus() else { return };
    let canonical = |rel: &str| std::fs::canonicalize(root.join(rel)).unwrap();
    let deps =
        mesh::dependencies(&root.join("creatures/melonJS/mesh3d/kenney/animal-cat.obj"), &root);
    assert_eq!(
        deps,
        [
            canonical("creatures/melonJS/mesh3d/kenney/Textures/colormap.png"),
            canonical("creatures/melonJS/mesh3d/kenney/animal-cat.mtl"),
        ]
    );
    let deps =
        mesh::dependencies(&root.join("assimp/glTF2/BoxTextured-glTF/BoxTextured.gltf"), &root);
    assert_eq!(
        deps,
        [
            canonical("assimp/glTF2/BoxTextured-glTF/BoxTextured0.bin"),
            canonical("assimp/glTF2/BoxTextured-glTF/CesiumLogoFlat.png"),
        ]
    );
    let embedded = root.join("assimp/glTF2/BoxTextured-glTF-Embedded/BoxTextured.gltf");
    assert!(mesh::dependencies(&embedded, &root).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Fixtures written by the tests

fn png_bytes(width: u32, height: u32, pixel: impl Fn(u32, u32) -> [u8; 4]) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(width, height, |x, y| image::Rgba(pixel(x, y)));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn write(path: &Path, contents: impl AsRef<[u8]>) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(path, contents).unwrap();
}

fn load_mesh(path: &Path, root: &Path) -> Mesh {
    match mesh::load(path, root) {
        Ok(Loaded::Mesh(mesh)) => mesh,
        Ok(Loaded::Voxels(_)) => panic!("expected a mesh"),
        Err(e) => panic!("{e}"),
    }
}

const QUAD_OBJ: &str = "mtllib m.mtl\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nvt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\nusemtl a\nf 1/1 2/2 3/3 4/4\n";

#[test]
fn texture_with_spaces_in_a_sub_folder_is_decoded_and_v_flipped() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // Top row red, bottom row blue.
    let png = png_bytes(3, 2, |_, y| if y == 0 { [255, 0, 0, 255] } else { [0, 0, 255, 255] });
    write(&root.join("tex dir/my texture.png"), png);
    write(
        &root.join("m.mtl"),
        "newmtl a\nKd 0.5 0.25 1\nmap_Kd -s 1 1 1 tex dir\\my texture.png\n",
    );
    write(&root.join("q.obj"), QUAD_OBJ);
    let mesh = load_mesh(&root.join("q.obj"), root);
    assert_eq!(mesh.triangles.len(), 2);
    assert_eq!(mesh.images.len(), 1);
    assert_eq!((mesh.images[0].width, mesh.images[0].height), (3, 2));
    assert_eq!(mesh.images[0].pixels[0], [1.0, 0.0, 0.0, 1.0]);
    assert_eq!(mesh.materials[0].base_color, [0.5, 0.25, 1.0, 1.0]);
    // vt (0, 0) is the bottom-left in OBJ: v = 1 (the bottom row) here.
    let corner = mesh
        .triangles
        .iter()
        .flat_map(|t| t.positions.iter().zip(t.uvs.unwrap()))
        .find(|(p, _)| **p == [0.0, 0.0, 0.0])
        .unwrap();
    assert_eq!(corner.1, [0.0, 1.0]);
    // The daemon learns about the MTL and the texture.
    let deps = mesh::dependencies(&root.join("q.obj"), root);
    assert_eq!(deps.len(), 2);
    assert!(deps.iter().any(|d| d.ends_with("tex dir/my texture.png")));
}

#[test]
fn references_outside_the_root_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    write(&dir.path().join("outside.mtl"), "newmtl a\nKd 1 0 0\n");
    write(&dir.path().join("secret.png"), png_bytes(1, 1, |_, _| [1, 2, 3, 255]));
    // An MTL outside the root: an error.
    write(&root.join("sub/a.obj"), QUAD_OBJ.replace("m.mtl", "../../outside.mtl"));
    let err = mesh::load(&root.join("sub/a.obj"), &root).unwrap_err();
    assert!(matches!(err, Error::PathEscape { .. }), "{err}");
    assert!(err.to_string().contains("../../outside.mtl"));
    // A texture outside the root: skipped, the base colour stays.
    write(&root.join("m.mtl"), "newmtl a\nKd 0 1 0\nmap_Kd ../secret.png\n");
    write(&root.join("b.obj"), QUAD_OBJ);
    let mesh = load_mesh(&root.join("b.obj"), &root);
    assert!(mesh.images.is_empty());
    assert_eq!(mesh.materials[0].base_color, [0.0, 1.0, 0.0, 1.0]);
    // dependencies lists only what lies inside.
    let deps = mesh::dependencies(&root.join("b.obj"), &root);
    assert_eq!(deps, [std::fs::canonicalize(root.join("m.mtl")).unwrap()]);
    // A glTF buffer outside the root: an error.
    let gltf = gltf_json("../../outside.bin", "");
    write(&root.join("sub/c.gltf"), gltf);
    let err = mesh::load(&root.join("sub/c.gltf"), &root).unwrap_err();
    assert!(matches!(err, Error::PathEscape { .. }), "{err}");
}

#[test]
fn dependencies_include_files_that_do_not_exist_yet() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(&root.join("q.obj"), QUAD_OBJ);
    let deps = mesh::dependencies(&root.join("q.obj"), root);
    assert_eq!(deps.len(), 1);
    assert!(deps[0].ends_with("m.mtl"));
    // Without its MTL the mesh still loads, with the default material.
    let mesh = load_mesh(&root.join("q.obj"), root);
    assert_eq!(mesh.materials.len(), 1);
}

#[test]
fn obj_index_errors_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.obj");
    write(&path, "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\nf 1 2 9\n");
    let err = mesh::load(&path, dir.path()).unwrap_err().to_string();
    assert_eq!(
        err,
        format!("{}: line 5: face vertex index 9 out of range (3 defined)", path.display())
    );
    write(&path, "v 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0 0\nf 1/1 2/-5 3\n");
    let err = mesh::load(&path, dir.path()).unwrap_err().to_string();
    assert!(err.contains("line 5: face texture coordinate index -5 out of range"), "{err}");
}

#[test]
fn faces_mixing_uvs_and_plain_corners() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("m.mtl"), "newmtl a\nmap_Kd t.png\n");
    write(&dir.path().join("t.png"), png_bytes(1, 1, |_, _| [9, 9, 9, 255]));
    let obj =
        "mtllib m.mtl\nusemtl a\nv 0 0 0\nv 1 0 0\nv 0 1 0\nvt 0.25 0.5\nf 1/1 2/1 3/1\nf 1 2 3\n";
    write(&dir.path().join("x.obj"), obj);
    let mesh = load_mesh(&dir.path().join("x.obj"), dir.path());
    assert_eq!(mesh.triangles[0].uvs, Some([[0.25, 0.5]; 3]));
    assert_eq!(mesh.triangles[1].uvs, None);
}

/// A one-triangle glTF whose positions are `i16` normalized (KHR_mesh_quantization) and whose
/// node is instanced twice (EXT_mesh_gpu_instancing), with a textured material using
/// `KHR_texture_transform` and TEXCOORD_1. `buffer_uri` names the buffer (data URI if empty).
fn gltf_json(buffer_uri: &str, image_uri: &str) -> String {
    // Positions: (0,0,0), (32767,0,0), (0,32767,0) as i16 VEC3 (6 bytes each, padded to 8).
    let mut bin: Vec<u8> = Vec::new();
    for p in [[0i16, 0, 0], [32767, 0, 0], [0, 32767, 0]] {
        for c in p {
            bin.extend(c.to_le_bytes());
        }
        bin.extend([0, 0]);
    }
    // TEXCOORD_0 and TEXCOORD_1 as f32 VEC2 (offsets 24 and 48).
    for uv in [[0f32, 0.0], [1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.5, 0.5], [0.5, 0.5]] {
        for c in uv {
            bin.extend(c.to_le_bytes());
        }
    }
    // Instance translations: (0,0,0) and (10,0,0) as f32 VEC3 (offset 72).
    for t in [[0f32, 0.0, 0.0], [10.0, 0.0, 0.0]] {
        for c in t {
            bin.extend(c.to_le_bytes());
        }
    }
    let uri = if buffer_uri.is_empty() {
        format!(
            "data:application/octet-stream;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&bin)
        )
    } else {
        buffer_uri.to_string()
    };
    let images = if image_uri.is_empty() {
        String::new()
    } else {
        format!(
            r#","images":[{{"uri":"{image_uri}"}}],"samplers":[{{"wrapS":33071,"wrapT":33648}}],
            "textures":[{{"source":0,"sampler":0}}],
            "materials":[{{"pbrMetallicRoughness":{{"baseColorFactor":[1,0.5,0.25,1],
              "baseColorTexture":{{"index":0,"texCoord":0,"extensions":{{"KHR_texture_transform":
                {{"offset":[0.5,0],"scale":[2,2],"texCoord":1}}}}}}}}}}]"#
        )
    };
    let material = if image_uri.is_empty() { "" } else { r#","material":0"# };
    format!(
        r#"{{"asset":{{"version":"2.0"}},
        "extensionsUsed":["KHR_mesh_quantization","EXT_mesh_gpu_instancing","KHR_texture_transform"],
        "extensionsRequired":["KHR_mesh_quantization","EXT_mesh_gpu_instancing"],
        "buffers":[{{"uri":"{uri}","byteLength":{len}}}],
        "bufferViews":[{{"buffer":0,"byteOffset":0,"byteLength":24,"byteStride":8}},
                       {{"buffer":0,"byteOffset":24,"byteLength":48}},
                       {{"buffer":0,"byteOffset":72,"byteLength":24}}],
        "accessors":[{{"bufferView":0,"componentType":5122,"normalized":true,"count":3,"type":"VEC3"}},
                     {{"bufferView":1,"componentType":5126,"count":3,"type":"VEC2"}},
                     {{"bufferView":1,"byteOffset":24,"componentType":5126,"count":3,"type":"VEC2"}},
                     {{"bufferView":2,"componentType":5126,"count":2,"type":"VEC3"}}],
        "meshes":[{{"primitives":[{{"attributes":{{"POSITION":0,"TEXCOORD_0":1,"TEXCOORD_1":2}}{material}}}]}}],
        "nodes":[{{"mesh":0,"translation":[0,1,0],
                   "extensions":{{"EXT_mesh_gpu_instancing":{{"attributes":{{"TRANSLATION":3}}}}}}}}],
        "scenes":[{{"nodes":[0]}}],"scene":0{images}}}"#,
        len = bin.len()
    )
}

#[test]
fn quantized_instanced_gltf_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.gltf");
    write(&path, gltf_json("", ""));
    let mesh = load_mesh(&path, dir.path());
    // Two instances of one triangle.
    assert_eq!(mesh.triangles.len(), 2);
    // No material: glTF's default is white.
    assert_eq!(mesh.materials[0].base_color, [1.0; 4]);
    // Normalized i16 32767 is 1.0; node translation y = 1 becomes z = 1.
    assert_eq!(mesh.triangles[0].positions, [[0.0, 0.0, 1.0], [1.0, 0.0, 1.0], [0.0, 0.0, 2.0]]);
    assert_eq!(mesh.triangles[1].positions[1], [11.0, 0.0, 1.0]);
}

#[test]
fn texture_transform_sampler_and_uv_set_fixture() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("t x.png"), png_bytes(4, 2, |x, _| [x as u8 * 60, 0, 0, 255]));
    let path = dir.path().join("t.gltf");
    write(&path, gltf_json("", "t%20x.png"));
    let mesh = load_mesh(&path, dir.path());
    let material = &mesh.materials[0];
    assert_eq!(material.base_color, [1.0, 0.5, 0.25, 1.0]);
    let texture = material.texture.as_ref().expect("texture decoded");
    assert_eq!((mesh.images[0].width, mesh.images[0].height), (4, 2));
    assert_eq!((texture.wrap_u, texture.wrap_v), (Wrap::ClampToEdge, Wrap::MirroredRepeat));
    assert_eq!(texture.transform, [[2.0, 0.0, 0.5], [0.0, 2.0, 0.0]]);
    // The transform's texCoord override picks TEXCOORD_1.
    assert_eq!(mesh.triangles[0].uvs, Some([[0.5, 0.5]; 3]));
    // A missing image keeps the material, without texture.
    let path = dir.path().join("m.gltf");
    write(&path, gltf_json("", "missing.png"));
    let mesh = load_mesh(&path, dir.path());
    assert!(mesh.materials[0].texture.is_none());
    assert!(mesh.triangles[0].uvs.is_none());
}

#[test]
fn required_extensions_we_do_not_decode_are_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.gltf");
    let json = gltf_json("", "").replace(
        r#""extensionsRequired":["KHR_mesh_quantization","#,
        r#""extensionsRequired":["EXT_meshopt_compression","KHR_mesh_quantization","#,
    );
    write(&path, json);
    let err = mesh::load(&path, dir.path()).unwrap_err().to_string();
    assert_eq!(
        err,
        format!("{}: unsupported glTF extension EXT_meshopt_compression", path.display())
    );
}

// ---------------------------------------------------------------------------------------------
// The whole corpus

#[test]
fn every_corpus_file_loads_or_fails_cleanly() {
    let Some(root) = corpus() else { return };
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&root)
        .into_iter()
        .filter_map(|e| e.ok())
        .map(|e| e.into_path())
        .filter(|p| mesh::is_input(p))
        .collect();
    files.sort();
    let (mut meshes, mut voxels, mut errors) = (0, 0, 0);
    for file in &files {
        let rel = file.strip_prefix(&root).unwrap().display().to_string();
        let outcome = std::panic::catch_unwind(|| mesh::load(file, &root));
        match outcome {
            Err(_) => panic!("{rel}: panicked"),
            Ok(Ok(Loaded::Mesh(mesh))) => {
                meshes += 1;
                let (lo, hi) = mesh.bounds().unwrap();
                assert!(lo.iter().chain(&hi).all(|c| c.is_finite()), "{rel}");
                for t in &mesh.triangles {
                    assert!(t.material < mesh.materials.len(), "{rel}");
                }
                for m in &mesh.materials {
                    if let Some(texture) = &m.texture {
                        assert!(texture.image < mesh.images.len(), "{rel}");
                    }
                }
                println!(
                    "ok   {rel}: {} triangles, {} materials, {} images",
                    mesh.triangles.len(),
                    mesh.materials.len(),
                    mesh.images.len()
                );
            }
            Ok(Ok(Loaded::Voxels(v))) => {
                voxels += 1;
                println!("ok   {rel}: {} voxels", v.points.len());
            }
            Ok(Err(e)) => {
                errors += 1;
                let message = e.to_string();
                assert!(message.starts_with(&file.display().to_string()), "{message}");
                assert!(!message.contains('\n'), "{message}");
                println!("err  {rel}: {message}");
            }
        }
    }
    println!("{} files: {meshes} meshes, {voxels} voxel sets, {errors} errors", files.len());
    assert!(meshes + voxels > errors);
}

#[test]
fn damaged_files_never_panic() {
    let Some(root) = corpus() else { return };
    let sources = [
        "tinyobjloader/models/cornell_box.obj",
        "assimp/OBJ/spider.obj",
        "assimp/glTF2/BoxTextured-glTF-Embedded/BoxTextured.gltf",
        "assimp/glTF2/BoxTextured-glTF-Binary/BoxTextured.glb",
        "glTF-Transform/core/test/in/BoxVertexColors.glb",
        "dot_vox/axes.vox",
        "vox-format/test_multiple_models.vox",
    ];
    let dir = tempfile::tempdir().unwrap();
    // A small deterministic generator for the byte flips.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut tried = 0;
    for rel in sources {
        let bytes = std::fs::read(root.join(rel)).unwrap();
        let name = Path::new(rel).file_name().unwrap().to_str().unwrap();
        let mut variants: Vec<Vec<u8>> = [1, 4, 10, 50, 90]
            .iter()
            .map(|pct| bytes[..bytes.len() * pct / 100].to_vec())
            .collect();
        for _ in 0..20 {
            let mut damaged = bytes.clone();
            for _ in 0..4 {
                let at = (next() % damaged.len() as u64) as usize;
                damaged[at] = next() as u8;
            }
            variants.push(damaged);
        }
        for (i, variant) in variants.iter().enumerate() {
            let path = dir.path().join(format!("{i}-{name}"));
            std::fs::write(&path, variant).unwrap();
            let outcome = std::panic::catch_unwind(|| mesh::load(&path, dir.path()));
            assert!(outcome.is_ok(), "{rel} variant {i} panicked");
            if let Ok(Err(e)) = outcome {
                assert!(e.to_string().starts_with(&path.display().to_string()), "{e}");
            }
            tried += 1;
        }
    }
    println!("{tried} damaged files read without a panic");
}

fn vox_model(size: [u32; 3], voxels: &[([u8; 3], u8)]) -> dot_vox::Model {
    dot_vox::Model {
        size: dot_vox::Size { x: size[0], y: size[1], z: size[2] },
        voxels: voxels.iter().map(|&([x, y, z], i)| dot_vox::Voxel { x, y, z, i }).collect(),
    }
}

fn write_vox(path: &Path, models: Vec<dot_vox::Model>, scenes: Vec<dot_vox::SceneNode>) {
    let data = dot_vox::DotVoxData {
        version: 150,
        index_map: dot_vox::DEFAULT_INDEX_MAP.to_vec(),
        models,
        palette: dot_vox::DEFAULT_PALETTE.to_vec(),
        materials: Vec::new(),
        scenes,
        layers: Vec::new(),
    };
    let mut bytes = Vec::new();
    data.write_vox(&mut bytes).unwrap();
    write(path, bytes);
}

fn sorted_cells(voxels: &Voxels) -> Vec<[i32; 3]> {
    let mut cells: Vec<[i32; 3]> = voxels.points.iter().map(|p| p.0).collect();
    cells.sort();
    cells
}

#[test]
fn vox_without_scene_graph_places_models_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two.vox");
    let a = vox_model([2, 1, 1], &[([0, 0, 0], 0), ([1, 0, 0], 1)]);
    let b = vox_model([1, 1, 2], &[([0, 0, 1], 2)]);
    let empty = vox_model([4, 4, 4], &[]);
    write_vox(&path, vec![a, empty, b], Vec::new());
    let Ok(Loaded::Voxels(voxels)) = mesh::load(&path, dir.path()) else { panic!() };
    // a at x 0..1, then (the empty model skipped) b at x 3, one voxel apart.
    assert_eq!(sorted_cells(&voxels), [[0, 0, 0], [1, 0, 0], [3, 0, 1]]);
    let c = &dot_vox::DEFAULT_PALETTE[2];
    assert_eq!(voxels.points.iter().find(|p| p.0 == [3, 0, 1]).unwrap().1, [c.r, c.g, c.b]);
}

#[test]
fn vox_rotation_turns_the_model_about_its_centre() {
    use dot_vox::{Dict, Frame, SceneNode, ShapeModel};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("turned.vox");
    let bar = vox_model([3, 1, 1], &[([0, 0, 0], 0), ([1, 0, 0], 1), ([2, 0, 0], 2)]);
    let other = vox_model([1, 1, 1], &[([0, 0, 0], 5)]);
    // A quarter turn about z: row 0 -> -y, row 1 -> +x, row 2 -> +z.
    let frame = |r: Option<&str>, t: &str| {
        let mut dict = Dict::new();
        if let Some(r) = r {
            dict.insert("_r".into(), r.into());
        }
        dict.insert("_t".into(), t.into());
        Frame::new(dict)
    };
    let hidden: Dict = [("_hidden".to_string(), "1".to_string())].into_iter().collect();
    let shape = |model_id| SceneNode::Shape {
        attributes: Dict::new(),
        models: vec![ShapeModel { model_id, attributes: Dict::new() }],
    };
    let scenes = vec![
        SceneNode::Transform {
            attributes: Dict::new(),
            frames: vec![frame(None, "0 0 0")],
            child: 1,
            layer_id: u32::MAX,
        },
        SceneNode::Group { attributes: Dict::new(), children: vec![2, 4] },
        SceneNode::Transform {
            attributes: Dict::new(),
            frames: vec![frame(Some("17"), "10 0 0")],
            child: 3,
            layer_id: 0,
        },
        shape(0),
        SceneNode::Transform {
            attributes: hidden,
            frames: vec![frame(None, "50 0 0")],
            child: 5,
            layer_id: 0,
        },
        shape(1),
    ];
    write_vox(&path, vec![bar, other], scenes);
    let Ok(Loaded::Voxels(voxels)) = mesh::load(&path, dir.path()) else { panic!() };
    // The bar along x now lies along y, centred on (10, 0, 0); the hidden node is skipped.
    assert_eq!(sorted_cells(&voxels), [[10, -1, 0], [10, 0, 0], [10, 1, 0]]);
    let first = &dot_vox::DEFAULT_PALETTE[0];
    assert_eq!(
        voxels.points.iter().find(|p| p.0 == [10, -1, 0]).unwrap().1,
        [first.r, first.g, first.b]
    );
}
