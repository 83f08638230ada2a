//! End-to-end tests of the `voxgen` binary: the commands a user types, on real files.
//!
//! Tests that need the shared corpus (`../shared/corpus`, or `VOXGEN_CORPUS`) print why they
//! skip when it is absent (a user's clone has no corpus).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn voxgen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_voxgen"))
        .args(args)
        .env("RUST_LOG", "voxgen=info")
        .output()
        .expect("voxgen runs")
}

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("VOXGEN_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipping: no corpus at {} (set VOXGEN_CORPUS)", dir.display());
        None
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn copy(from: &Path, to: &Path) {
    fs::create_dir_all(to.parent().unwrap()).unwrap();
    fs::copy(from, to).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
}

fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    found.sort();
    found
}

#[test]
fn voxelize_writes_every_format_from_a_textured_obj() {
    let Some(corpus) = corpus() else { return };
    let cat = corpus.join("creatures/melonJS/mesh3d/kenney/animal-cat.obj");
    let dir = tempfile::tempdir().unwrap();
    let outs: Vec<PathBuf> =
        ["cat.vox", "cat.glb", "cat.gif", "cat.png"].iter().map(|n| dir.path().join(n)).collect();
    let mut args = vec!["voxelize", cat.to_str().unwrap(), "--res", "24"];
    for o in &outs {
        args.extend(["-o", o.to_str().unwrap()]);
    }
    let out = voxgen(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    for o in &outs {
        assert!(fs::metadata(o).unwrap().len() > 100, "{} is too small", o.display());
    }
    let vox = dot_vox::load(outs[0].to_str().unwrap()).unwrap();
    let model = &vox.models[0];
    assert!(model.voxels.len() > 200, "only {} voxels", model.voxels.len());
    // The Kenney cat is textured with several colours: more than one palette entry is used.
    let mut used: Vec<u8> = model.voxels.iter().map(|v| v.i).collect();
    used.sort();
    used.dedup();
    assert!(used.len() > 1, "one colour only");
    // No temporary files are left beside the outputs.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), outs.len());
}

#[test]
fn bad_input_is_one_line_naming_the_file_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.obj");
    fs::write(&bad, "v 0 0 0\nf 1 2 7\n").unwrap();
    let out_file = dir.path().join("x.vox");
    let out = voxgen(&["voxelize", bad.to_str().unwrap(), "-o", out_file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    let last = err.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: "), "{err}");
    assert!(last.contains("broken.obj"), "{err}");
    assert!(!out_file.exists());
}

#[test]
fn unknown_output_extension_is_rejected_before_work() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("tri.obj");
    fs::write(&input, "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n").unwrap();
    let out = voxgen(&["voxelize", input.to_str().unwrap(), "-o", "x.stl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("x.stl"), "{}", stderr(&out));
}

#[test]
fn missing_output_folder_and_bad_resolution_are_one_line_before_work() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("tri.obj");
    fs::write(&input, "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n").unwrap();
    let target = dir.path().join("nowhere").join("x.vox");
    let out = voxgen(&["voxelize", input.to_str().unwrap(), "-o", target.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("nowhere") && err.contains("does not exist")
    );

    let out_file = dir.path().join("x.vox");
    let args = ["voxelize", input.to_str().unwrap(), "--res", "100000", "-o"];
    let out = voxgen(&[&args[..], &[out_file.to_str().unwrap()]].concat());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.trim(), "error: invalid resolution: 100000 (must be between 8 and 256)");
}

#[test]
fn render_turns_a_vox_into_gif_and_png() {
    let Some(corpus) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let gif = dir.path().join("bear.gif");
    let png = dir.path().join("bear.png");
    let input = corpus.join("mmmm/vox/mob_bear.vox");
    for (o, extra) in [(&gif, ["--frames", "24"]), (&png, ["--size", "128"])] {
        let mut args = vec!["render", input.to_str().unwrap(), "-o", o.to_str().unwrap()];
        args.extend(extra);
        let out = voxgen(&args);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let img = image::open(&png).unwrap();
    assert_eq!((img.width(), img.height()), (128, 128));
    let frames = gif::DecodeOptions::new().read_info(fs::File::open(&gif).unwrap()).unwrap();
    let mut decoder = frames;
    let mut count = 0;
    while decoder.read_next_frame().unwrap().is_some() {
        count += 1;
    }
    assert_eq!(count, 24);
}

#[test]
fn train_then_sample_writes_creatures() {
    let Some(corpus) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let kenney = corpus.join("creatures/melonJS/mesh3d/kenney");
    for name in ["animal-cat", "animal-dog", "animal-pig"] {
        copy(&kenney.join(format!("{name}.obj")), &data.join(format!("{name}.obj")));
        copy(&kenney.join(format!("{name}.mtl")), &data.join(format!("{name}.mtl")));
    }
    copy(&kenney.join("Textures/colormap.png"), &data.join("Textures/colormap.png"));
    let run = dir.path().join("run");
    let out = voxgen(&[
        "train",
        "--model",
        "vae",
        data.to_str().unwrap(),
        "-o",
        run.to_str().unwrap(),
        "--res",
        "16",
        "--epochs",
        "3",
        "--batch-size",
        "3",
        "--device",
        "cpu",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let samples = dir.path().join("samples");
    let out = voxgen(&[
        "sample",
        run.to_str().unwrap(),
        "-n",
        "2",
        "-o",
        samples.to_str().unwrap(),
        "--device",
        "cpu",
        "--frames",
        "24",
        "--size",
        "64",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    for ext in ["vox", "glb", "gif"] {
        assert_eq!(files_with_ext(&samples, ext).len(), 2, "{ext} files in {}", samples.display());
    }

    // The same creatures side by side in one MagicaVoxel scene.
    let scene = dir.path().join("scene.vox");
    let out = voxgen(&[
        "sample",
        run.to_str().unwrap(),
        "-n",
        "3",
        "--layout",
        "grid",
        "-o",
        scene.to_str().unwrap(),
        "--device",
        "cpu",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let vox = dot_vox::load(scene.to_str().unwrap()).unwrap();
    assert_eq!(vox.models.len(), 3);
    assert_eq!(vox.palette.len(), 256);
    let shapes = vox.scenes.iter().filter(|n| matches!(n, dot_vox::SceneNode::Shape { .. }));
    assert_eq!(shapes.count(), 3);
}

#[test]
fn watch_once_processes_real_files_rejects_bad_ones_and_skips_done_work() {
    let Some(corpus) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let inbox = dir.path().join("inbox");
    let kenney = corpus.join("creatures/melonJS/mesh3d/kenney");
    for name in ["animal-bunny", "animal-fox"] {
        copy(&kenney.join(format!("{name}.obj")), &inbox.join(format!("kenney/{name}.obj")));
        copy(&kenney.join(format!("{name}.mtl")), &inbox.join(format!("kenney/{name}.mtl")));
    }
    copy(&kenney.join("Textures/colormap.png"), &inbox.join("kenney/Textures/colormap.png"));
    let quaternius = corpus.join("creatures/quaternius-showcase/animals_pack/Fox.glb");
    copy(&quaternius, &inbox.join("Fox.glb"));
    let boxed = corpus.join("assimp/glTF2/BoxTextured-glTF-Binary/BoxTextured.glb");
    copy(&boxed, &inbox.join("BoxTextured.glb"));
    copy(&corpus.join("draco/Box/glTF_Binary/Box_Draco.glb"), &inbox.join("Box_Draco.glb"));
    fs::write(
        dir.path().join("voxgen.toml"),
        "resolution = 16\nepochs = 2\nsamples = 2\nmin_shapes = 3\nbatch_size = 4\n",
    )
    .unwrap();

    let out = voxgen(&["watch", "--once", "--device", "cpu", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let outdir = dir.path().join("out");
    assert_eq!(files_with_ext(&outdir.join("voxels"), "vox").len(), 4);
    assert_eq!(files_with_ext(&outdir.join("voxels"), "glb").len(), 4);
    assert_eq!(files_with_ext(&outdir.join("voxels"), "gif").len(), 4);
    let rejected = files_with_ext(&outdir.join("rejected"), "txt");
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    let reason = fs::read_to_string(&rejected[0]).unwrap();
    assert!(reason.contains("KHR_draco_mesh_compression"), "{reason}");
    assert!(!inbox.join("Box_Draco.glb").exists(), "the bad file was moved out of the inbox");
    assert_eq!(files_with_ext(&outdir.join("generated/round-0001"), "vox").len(), 2);
    assert_eq!(files_with_ext(&outdir.join("generated/latest"), "glb").len(), 2);
    assert!(outdir.join("manifest.json").is_file());

    // A second run finds nothing to do: no file is rewritten.
    let before = fs::metadata(outdir.join("voxels")).unwrap().modified().unwrap();
    let stamp = |p: &Path| fs::metadata(p).unwrap().modified().unwrap();
    let first_vox = files_with_ext(&outdir.join("voxels"), "vox")[0].clone();
    let first_stamp = stamp(&first_vox);
    let out = voxgen(&["watch", "--once", "--device", "cpu", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stamp(&first_vox), first_stamp);
    assert_eq!(fs::metadata(outdir.join("voxels")).unwrap().modified().unwrap(), before);
    assert_eq!(files_with_ext(&outdir.join("generated"), "vox").len(), 4, "no second round");
}
