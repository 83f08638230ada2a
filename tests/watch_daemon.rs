//! The watch daemon driven through a fake pipeline that writes small real files and records
//! every call: once mode, restarts, changes, late dependencies, rejects, growing files,
//! training rounds, bad settings and the live daemon.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use anyhow::bail;
use voxgen::watch::manifest::{EntryStatus, Manifest};
use voxgen::watch::status::{State, Status};
use voxgen::watch::{run, Jobs, Voxelized, WatchConfig, WatchOptions};

/// A pipeline that writes the input bytes (and its dependencies' bytes) as the `.vox`.
#[derive(Default)]
struct Fake {
    /// Inputs voxelized (relative to the inbox), with when it happened.
    voxelized: Mutex<Vec<(String, Instant)>>,
    /// File names of the shapes of each training call.
    trained: Mutex<Vec<Vec<String>>>,
    /// Seeds of each sampling call.
    sampled: Mutex<Vec<u64>>,
    /// While true, training fails.
    fail_training: AtomicBool,
    /// While true, training waits (until opened or cancelled).
    gate_closed: Mutex<bool>,
    gate: Condvar,
}

impl Fake {
    fn new() -> Arc<Fake> {
        Arc::new(Fake::default())
    }

    fn voxelized(&self) -> Vec<String> {
        self.voxelized.lock().unwrap().iter().map(|(rel, _)| rel.clone()).collect()
    }

    fn trained(&self) -> Vec<Vec<String>> {
        self.trained.lock().unwrap().clone()
    }

    fn clear(&self) {
        self.voxelized.lock().unwrap().clear();
        self.trained.lock().unwrap().clear();
        self.sampled.lock().unwrap().clear();
    }

    fn set_gate(&self, closed: bool) {
        *self.gate_closed.lock().unwrap() = closed;
        self.gate.notify_all();
    }

    fn wait_for_gate(&self, cancel: &AtomicBool) {
        let mut closed = self.gate_closed.lock().unwrap();
        while *closed && !cancel.load(Ordering::SeqCst) {
            closed = self.gate.wait_timeout(closed, Duration::from_millis(10)).unwrap().0;
        }
    }
}

impl Jobs for Fake {
    fn voxelize(
        &self,
        input: &Path,
        inbox: &Path,
        out_voxels: &Path,
        name: &str,
        _cfg: &WatchConfig,
    ) -> anyhow::Result<Voxelized> {
        let rel = input.strip_prefix(inbox).unwrap().to_string_lossy().replace('\\', "/");
        self.voxelized.lock().unwrap().push((rel, Instant::now()));
        let mut bytes = fs::read(input)?;
        if bytes.starts_with(b"bad") {
            bail!("{}: not a mesh", input.display());
        }
        if bytes.starts_with(b"panic") {
            panic!("the fake pipeline panics");
        }
        for dep in self.dependencies(input, inbox) {
            bytes.extend(fs::read(dep).unwrap_or_default());
        }
        let files = write_set(out_voxels, name, &bytes);
        Ok(Voxelized { files, voxels: Some(bytes.len() as u64) })
    }

    fn dependencies(&self, input: &Path, _inbox: &Path) -> Vec<PathBuf> {
        let dir = input.parent().unwrap();
        let mut deps = Vec::new();
        let mut queue = vec![input.to_path_buf()];
        while let Some(file) = queue.pop() {
            let text = fs::read_to_string(&file).unwrap_or_default();
            for line in text.lines() {
                if let Some(("mtllib" | "map_Kd", dep)) = line.split_once(' ') {
                    // Resolved like the real readers do, when the file exists.
                    let path = fs::canonicalize(dir.join(dep)).unwrap_or_else(|_| dir.join(dep));
                    deps.push(path.clone());
                    queue.push(path);
                }
            }
        }
        deps
    }

    fn train(
        &self,
        shapes: &[PathBuf],
        run_dir: &Path,
        _cfg: &WatchConfig,
        cancel: &AtomicBool,
    ) -> anyhow::Result<()> {
        let names =
            shapes.iter().map(|s| s.file_name().unwrap().to_string_lossy().into()).collect();
        self.trained.lock().unwrap().push(names);
        if self.fail_training.load(Ordering::SeqCst) {
            bail!("{}: out of memory", run_dir.display());
        }
        self.wait_for_gate(cancel);
        let ckpt = run_dir.join("checkpoint.txt");
        let rounds: u32 = fs::read_to_string(&ckpt).map_or(0, |t| t.trim().parse().unwrap());
        fs::write(ckpt, format!("{}", rounds + 1))?;
        Ok(())
    }

    fn sample(
        &self,
        _run_dir: &Path,
        out_dir: &Path,
        seed: u64,
        cfg: &WatchConfig,
    ) -> anyhow::Result<Vec<PathBuf>> {
        self.sampled.lock().unwrap().push(seed);
        let mut files = Vec::new();
        for i in 0..cfg.samples {
            let body = format!("creature {i} seed {seed}");
            files.extend(write_set(out_dir, &format!("creature-{i:02}"), body.as_bytes()));
        }
        Ok(files)
    }
}

/// Writes NAME.vox (holding `body`), NAME.glb and NAME.gif into `dir`.
fn write_set(dir: &Path, name: &str, body: &[u8]) -> Vec<PathBuf> {
    let files = [("vox", body), ("glb", b"glTF".as_slice()), ("gif", b"GIF89a".as_slice())];
    files
        .iter()
        .map(|(ext, bytes)| {
            let path = dir.join(format!("{name}.{ext}"));
            fs::write(&path, bytes).unwrap();
            path
        })
        .collect()
}

/// A watched folder whose settings make the daemon fast.
fn setup(min_shapes: usize, stable_ms: u64) -> tempfile::TempDir {
    setup_rescan(min_shapes, stable_ms, 100)
}

fn setup_rescan(min_shapes: usize, stable_ms: u64, rescan_ms: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "min_shapes = {min_shapes}\nsamples = 2\nstable_ms = {stable_ms}\ndebounce_ms = 20\n\
         rescan_ms = {rescan_ms}\nmax_wait_ms = 5000\n"
    );
    fs::write(dir.path().join("voxgen.toml"), toml).unwrap();
    dir
}

fn put(dir: &Path, rel: &str, body: &str) {
    let path = dir.join("inbox").join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, body).unwrap();
}

/// Sends the daemon's log to the test output (shown for failing tests or with --nocapture).
fn log_to_test_output() {
    let _ = tracing_subscriber::fmt().with_test_writer().with_target(false).try_init();
}

fn once(dir: &Path, fake: &Arc<Fake>) -> anyhow::Result<()> {
    log_to_test_output();
    let opts = WatchOptions { once: true, ..WatchOptions::default() };
    run(dir, &opts, Arc::clone(fake) as Arc<dyn Jobs>)
}

fn manifest(dir: &Path) -> Manifest {
    Manifest::load(&dir.join("out/manifest.json")).unwrap()
}

fn status(dir: &Path) -> Status {
    serde_json::from_slice(&fs::read(dir.join("out/status.json")).unwrap()).unwrap()
}

/// The status, or `None` before the daemon wrote it.
fn status_now(dir: &Path) -> Option<Status> {
    serde_json::from_slice(&fs::read(dir.join("out/status.json")).ok()?).ok()
}

fn read(dir: &Path, rel: &str) -> String {
    fs::read_to_string(dir.join(rel)).unwrap()
}

/// Polls `done` every 10 ms for up to 10 s.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(10), "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn once_processes_every_input_once_and_writes_outputs_and_manifest() {
    let dir = setup(100, 30);
    let d = dir.path();
    put(d, "cat.obj", "mtllib cat.mtl\nv 1");
    put(d, "cat.mtl", "newmtl fur");
    put(d, "sub dir/dog.gltf", "{}");
    put(d, "bird.GLB", "glb");
    put(d, "fish.obj", "v 2");
    put(d, "fish.vox", "VOX ");
    put(d, "notes.txt", "not an input");
    put(d, ".hidden.obj", "v 3");
    let fake = Fake::new();

    once(d, &fake).unwrap();

    let mut done = fake.voxelized();
    done.sort();
    assert_eq!(done, ["bird.GLB", "cat.obj", "fish.obj", "fish.vox", "sub dir/dog.gltf"]);
    for name in ["cat", "sub_dir__dog", "bird", "fish", "fish_vox"] {
        for ext in ["vox", "glb", "gif"] {
            assert!(d.join(format!("out/voxels/{name}.{ext}")).is_file(), "{name}.{ext}");
        }
    }
    assert_eq!(read(d, "out/voxels/cat.vox"), "mtllib cat.mtl\nv 1newmtl fur");
    let m = manifest(d);
    assert_eq!(m.inputs.len(), 5);
    let cat = &m.inputs["cat.obj"];
    assert_eq!((cat.name.as_str(), cat.status), ("cat", EntryStatus::Done));
    assert_eq!(cat.hash.len(), 32);
    assert_eq!(cat.stat.size, 18);
    assert_eq!(cat.outputs, ["voxels/cat.gif", "voxels/cat.glb", "voxels/cat.vox"]);
    assert_eq!(cat.voxels, Some(28));
    assert_eq!(cat.deps.len(), 1);
    assert_eq!(cat.deps[0].path, "cat.mtl");
    assert!(cat.deps[0].hash.is_some());
    assert_eq!(m.inputs["sub dir/dog.gltf"].name, "sub_dir__dog");
    assert!(fake.trained().is_empty());
    let s = status(d);
    assert_eq!(s.state, State::Stopped);
    assert_eq!((s.counts.inputs, s.counts.done, s.counts.rejected, s.counts.pending), (5, 5, 0, 0));
}

#[test]
fn restart_does_no_work() {
    let dir = setup(2, 30);
    let d = dir.path();
    put(d, "a.obj", "v 1");
    put(d, "b.glb", "glb");
    let fake = Fake::new();
    once(d, &fake).unwrap();
    assert_eq!(fake.voxelized().len(), 2);
    assert_eq!(fake.trained().len(), 1);
    let before = fs::read(d.join("out/manifest.json")).unwrap();

    fake.clear();
    once(d, &fake).unwrap();

    assert!(fake.voxelized().is_empty());
    assert!(fake.trained().is_empty());
    assert_eq!(fs::read(d.join("out/manifest.json")).unwrap(), before);
}

#[test]
fn changing_a_file_redoes_only_it_and_a_touch_redoes_nothing() {
    let dir = setup(100, 30);
    let d = dir.path();
    put(d, "a.obj", "v 1");
    put(d, "b.obj", "v 2");
    let fake = Fake::new();
    once(d, &fake).unwrap();

    fake.clear();
    put(d, "b.obj", "v 2\nv 3");
    once(d, &fake).unwrap();
    assert_eq!(fake.voxelized(), ["b.obj"]);
    assert_eq!(read(d, "out/voxels/b.vox"), "v 2\nv 3");

    fake.clear();
    let later = SystemTime::now() + Duration::from_secs(5);
    let file = fs::File::options().write(true).open(d.join("inbox/a.obj")).unwrap();
    file.set_modified(later).unwrap();
    drop(file);
    once(d, &fake).unwrap();
    assert!(fake.voxelized().is_empty());
    let touched = manifest(d).inputs["a.obj"].stat.mtime_ns;
    let expected = later.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos() as u64;
    assert_eq!(touched, expected);
}

#[test]
fn late_material_and_texture_redo_the_obj() {
    let dir = setup(100, 30);
    let d = dir.path();
    put(d, "cat.obj", "mtllib cat.mtl\nv 1");
    put(d, "dog.obj", "v 2");
    let fake = Fake::new();
    once(d, &fake).unwrap();
    assert_eq!(fake.voxelized().len(), 2);
    assert_eq!(manifest(d).inputs["cat.obj"].deps[0].hash, None);

    fake.clear();
    put(d, "cat.mtl", "map_Kd cat.png");
    once(d, &fake).unwrap();
    assert_eq!(fake.voxelized(), ["cat.obj"]);

    fake.clear();
    put(d, "cat.png", "PNG");
    once(d, &fake).unwrap();
    assert_eq!(fake.voxelized(), ["cat.obj"]);
    assert_eq!(read(d, "out/voxels/cat.vox"), "mtllib cat.mtl\nv 1map_Kd cat.pngPNG");
    let deps: Vec<String> =
        manifest(d).inputs["cat.obj"].deps.iter().map(|p| p.path.clone()).collect();
    assert_eq!(deps, ["cat.mtl", "cat.png"]);

    fake.clear();
    put(d, "cat.png", "PNG2");
    once(d, &fake).unwrap();
    assert_eq!(fake.voxelized(), ["cat.obj"]);
}

/// Copies the folder `from` into `to` (new files, so new modification times).
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn a_copied_folder_watched_through_another_path_redoes_nothing() {
    let dir = setup(1, 30);
    let d = dir.path();
    put(d, "cat.obj", "mtllib cat.mtl\nv 1");
    put(d, "cat.mtl", "map_Kd cat.png");
    put(d, "cat.png", "PNG");
    let fake = Fake::new();
    once(d, &fake).unwrap();
    assert_eq!((fake.voxelized().len(), fake.trained().len()), (1, 1));

    // A copy (every file newer), watched through a path with a `..` in it, as `cp -r` and a
    // relative path would give.
    let copy = tempfile::tempdir().unwrap();
    copy_tree(d, copy.path());
    fs::create_dir(copy.path().join("x")).unwrap();
    fake.clear();
    once(&copy.path().join("x").join(".."), &fake).unwrap();
    assert!(fake.voxelized().is_empty(), "redone: {:?}", fake.voxelized());
    assert!(fake.trained().is_empty());
    let deps: Vec<String> =
        manifest(copy.path()).inputs["cat.obj"].deps.iter().map(|p| p.path.clone()).collect();
    assert_eq!(deps, ["cat.mtl", "cat.png"]);
}

#[test]
fn bad_files_are_moved_to_rejected_and_the_run_succeeds() {
    let dir = setup(100, 30);
    let d = dir.path();
    put(d, "bad.obj", "bad mesh");
    put(d, "sub/worse.glb", "panic now");
    put(d, "good.obj", "v 1");
    let fake = Fake::new();

    once(d, &fake).unwrap();

    assert!(!d.join("inbox/bad.obj").exists());
    assert!(!d.join("inbox/sub/worse.glb").exists());
    assert_eq!(read(d, "out/rejected/bad.obj"), "bad mesh");
    let reason = read(d, "out/rejected/bad.obj.txt");
    assert!(reason.starts_with("inbox/bad.obj: ") && reason.contains("not a mesh"), "{reason}");
    let reason = read(d, "out/rejected/sub/worse.glb.txt");
    assert!(reason.contains("panicked: the fake pipeline panics"), "{reason}");
    assert!(!d.join("out/voxels/bad.vox").exists());
    let m = manifest(d);
    assert_eq!(m.inputs["bad.obj"].status, EntryStatus::Rejected);
    assert!(m.inputs["bad.obj"].moved);
    assert_eq!(m.inputs["good.obj"].status, EntryStatus::Done);
    let s = status(d);
    assert_eq!((s.counts.done, s.counts.rejected), (1, 2));
    assert!(s.last_error.is_some());

    // The same path, now good, is processed normally; a good file gone bad loses its outputs.
    fake.clear();
    put(d, "bad.obj", "v 9");
    put(d, "good.obj", "bad now");
    once(d, &fake).unwrap();
    let m = manifest(d);
    assert_eq!(m.inputs["bad.obj"].status, EntryStatus::Done);
    assert_eq!(read(d, "out/voxels/bad.vox"), "v 9");
    assert_eq!(m.inputs["good.obj"].status, EntryStatus::Rejected);
    assert!(!d.join("out/voxels/good.vox").exists());
    assert_eq!(read(d, "out/rejected/good.obj"), "bad now");
}

#[test]
fn a_growing_file_waits_until_it_is_stable() {
    let dir = setup(100, 300);
    let d = dir.path();
    put(d, "grow.obj", "v 0\n");
    let path = d.join("inbox/grow.obj");
    let writer = thread::spawn(move || {
        let mut file = fs::File::options().append(true).open(path).unwrap();
        for i in 1..25 {
            thread::sleep(Duration::from_millis(20));
            writeln!(file, "v {i}").unwrap();
        }
        Instant::now()
    });
    let fake = Fake::new();

    once(d, &fake).unwrap();

    let finished = writer.join().unwrap();
    let calls = fake.voxelized.lock().unwrap().clone();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(calls[0].1 >= finished, "voxelized before the last write");
    let expected: String = (0..25).map(|i| format!("v {i}\n")).collect();
    assert_eq!(read(d, "out/voxels/grow.vox"), expected);
}

#[test]
fn training_needs_min_shapes_and_runs_again_only_on_change() {
    let dir = setup(3, 30);
    let d = dir.path();
    put(d, "a.obj", "v 1");
    put(d, "b.obj", "v 2");
    let fake = Fake::new();
    once(d, &fake).unwrap();
    assert!(fake.trained().is_empty());
    assert!(manifest(d).last_round.is_none());

    put(d, "c.obj", "v 3");
    once(d, &fake).unwrap();
    assert_eq!(fake.trained(), [["a.vox", "b.vox", "c.vox"]]);
    assert_eq!(*fake.sampled.lock().unwrap(), [1]);
    assert_eq!(read(d, "out/generated/round-0001/creature-01.vox"), "creature 1 seed 1");
    assert_eq!(read(d, "out/generated/latest/creature-01.vox"), "creature 1 seed 1");
    let round = manifest(d).last_round.unwrap();
    assert_eq!((round.number, round.shapes, round.dir.as_str()), (1, 3, "generated/round-0001"));
    assert_eq!(round.files.len(), 6);
    assert_eq!(status(d).last_round, Some(round));

    fake.clear();
    once(d, &fake).unwrap();
    assert!(fake.trained().is_empty());

    put(d, "b.obj", "v 22");
    once(d, &fake).unwrap();
    assert_eq!(fake.trained().len(), 1);
    assert_eq!(read(d, "out/generated/latest/creature-00.vox"), "creature 0 seed 2");
    assert_eq!(read(d, "out/runs/vae-r32-z64/checkpoint.txt"), "2");
}

#[test]
fn a_missing_checkpoint_trains_again() {
    let dir = setup(1, 30);
    let d = dir.path();
    put(d, "a.obj", "v 1");
    let fake = Fake::new();
    once(d, &fake).unwrap();
    fs::remove_dir_all(d.join("out/runs")).unwrap();

    fake.clear();
    once(d, &fake).unwrap();

    assert_eq!(fake.trained(), [["a.vox"]]);
    assert_eq!(manifest(d).last_round.unwrap().number, 2);
}

#[test]
fn a_failed_round_fails_once_and_is_retried_by_the_next_once() {
    let dir = setup(1, 30);
    let d = dir.path();
    put(d, "a.obj", "v 1");
    let fake = Fake::new();
    fake.fail_training.store(true, Ordering::SeqCst);

    let err = format!("{:#}", once(d, &fake).unwrap_err());
    assert!(err.starts_with("training round 1 failed: training: "), "{err}");
    assert!(err.ends_with("out of memory"), "{err}");
    assert!(status(d).last_error.unwrap().contains("out of memory"));
    assert!(d.join("out/voxels/a.vox").exists());

    fake.fail_training.store(false, Ordering::SeqCst);
    once(d, &fake).unwrap();
    assert_eq!(fake.trained().len(), 2);
    assert_eq!(manifest(d).last_round.unwrap().number, 2);
    assert_eq!(manifest(d).failed_dataset, None);
}

#[test]
fn the_live_daemon_does_not_retry_a_failed_dataset() {
    let dir = setup(1, 30);
    let d = dir.path();
    put(d, "a.obj", "v 1");
    let fake = Fake::new();
    fake.fail_training.store(true, Ordering::SeqCst);
    let (cancel, rx) = start_live(d, &fake);
    wait_until("the failure", || status_now(d).is_some_and(|s| s.last_error.is_some()));
    thread::sleep(Duration::from_millis(400));
    assert_eq!(fake.trained().len(), 1);

    fake.fail_training.store(false, Ordering::SeqCst);
    put(d, "b.obj", "v 2");
    wait_until("round 2", || {
        status_now(d).and_then(|s| s.last_round).is_some_and(|r| r.number == 2)
    });
    stop_live(&cancel, &rx);
    assert_eq!(fake.trained().len(), 2);
}

#[test]
fn removed_inputs_leave_the_dataset() {
    let dir = setup(1, 30);
    let d = dir.path();
    put(d, "a.obj", "v 1");
    put(d, "b.obj", "v 2");
    let fake = Fake::new();
    once(d, &fake).unwrap();
    fs::remove_file(d.join("inbox/a.obj")).unwrap();

    fake.clear();
    once(d, &fake).unwrap();

    assert!(!d.join("out/voxels/a.vox").exists());
    assert!(!manifest(d).inputs.contains_key("a.obj"));
    assert_eq!(fake.trained(), [["b.vox"]]);
}

#[test]
fn changed_resolution_redoes_every_file_in_a_new_run() {
    let dir = setup(1, 30);
    let d = dir.path();
    put(d, "a.obj", "v 1");
    let fake = Fake::new();
    once(d, &fake).unwrap();
    let mut toml = read(d, "voxgen.toml");
    toml.push_str("resolution = 16\n");
    fs::write(d.join("voxgen.toml"), toml).unwrap();

    fake.clear();
    once(d, &fake).unwrap();

    assert_eq!(fake.voxelized(), ["a.obj"]);
    assert_eq!(fake.trained().len(), 1);
    assert!(d.join("out/runs/vae-r16-z64/checkpoint.txt").is_file());
}

#[test]
fn malformed_settings_give_one_line_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fake = Fake::new();
    for (toml, expected) in [
        ("resolution = [", "voxgen.toml: line 1"),
        ("resolution = 16\ncolour = 1\n", "unknown field `colour`"),
        ("samples = 0", "samples must be between 1 and 1000, got 0"),
    ] {
        fs::write(d.join("voxgen.toml"), toml).unwrap();
        let err = format!("{:#}", once(d, &fake).unwrap_err());
        assert!(err.contains(&d.join("voxgen.toml").display().to_string()), "{err}");
        assert!(err.contains(expected), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }
    assert!(fake.voxelized().is_empty());
}

/// Runs the live daemon on `dir` in a thread; returns its cancel flag and result channel.
fn start_live(
    dir: &Path,
    fake: &Arc<Fake>,
) -> (Arc<AtomicBool>, mpsc::Receiver<anyhow::Result<()>>) {
    log_to_test_output();
    let opts = WatchOptions::default();
    let cancel = Arc::clone(&opts.cancel);
    let (tx, rx) = mpsc::channel();
    let (dir, jobs) = (dir.to_path_buf(), Arc::clone(fake) as Arc<dyn Jobs>);
    thread::spawn(move || tx.send(run(&dir, &opts, jobs)).unwrap());
    (cancel, rx)
}

fn stop_live(cancel: &AtomicBool, rx: &mpsc::Receiver<anyhow::Result<()>>) {
    cancel.store(true, Ordering::SeqCst);
    let result = rx.recv_timeout(Duration::from_secs(10)).expect("daemon did not stop");
    result.unwrap();
}

#[test]
fn live_daemon_picks_up_a_dropped_file_and_stops_on_cancel() {
    // The rescan is an hour away: only file events can bring the dropped file in.
    let dir = setup_rescan(100, 30, 3_600_000);
    let d = dir.path();
    put(d, "first.obj", "v 1");
    let fake = Fake::new();
    let (cancel, rx) = start_live(d, &fake);
    wait_until("first.vox", || d.join("out/voxels/first.vox").exists());

    put(d, "later/second.obj", "v 2");
    wait_until("later__second.vox", || d.join("out/voxels/later__second.vox").exists());
    stop_live(&cancel, &rx);

    assert_eq!(fake.voxelized(), ["first.obj", "later/second.obj"]);
    assert_eq!(manifest(d).inputs.len(), 2);
    assert_eq!(status(d).state, State::Stopped);
}

#[test]
fn a_change_during_training_queues_exactly_one_more_round() {
    let dir = setup(2, 30);
    let d = dir.path();
    put(d, "a.obj", "v 1");
    put(d, "b.obj", "v 2");
    let fake = Fake::new();
    fake.set_gate(true);
    let (cancel, rx) = start_live(d, &fake);
    wait_until("the first round", || fake.trained().len() == 1);
    wait_until("training status", || status_now(d).is_some_and(|s| s.state == State::Training));

    put(d, "c.obj", "v 3");
    wait_until("c.vox", || d.join("out/voxels/c.vox").exists());
    put(d, "d.obj", "v 4");
    wait_until("d.vox", || d.join("out/voxels/d.vox").exists());
    fake.set_gate(false);
    wait_until("round 2", || {
        status_now(d).and_then(|s| s.last_round).is_some_and(|r| r.number == 2)
    });
    thread::sleep(Duration::from_millis(300));
    stop_live(&cancel, &rx);

    let all = ["a.vox", "b.vox", "c.vox", "d.vox"];
    assert_eq!(fake.trained(), [&all[..2], &all[..]]);
    assert_eq!(read(d, "out/runs/vae-r32-z64/checkpoint.txt"), "2");
    assert_eq!(manifest(d).rounds_started, 2);
}

#[test]
fn cancel_during_training_stops_the_round_without_sampling() {
    let dir = setup(1, 30);
    let d = dir.path();
    put(d, "a.obj", "v 1");
    let fake = Fake::new();
    fake.set_gate(true);
    let (cancel, rx) = start_live(d, &fake);
    wait_until("the first round", || fake.trained().len() == 1);
    stop_live(&cancel, &rx);

    assert!(fake.sampled.lock().unwrap().is_empty());
    assert!(manifest(d).last_round.is_none());
    assert_eq!(status(d).state, State::Stopped);
}
