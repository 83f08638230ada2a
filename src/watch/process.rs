//! Processing one input: voxelize it through [`super::Jobs`], or reject it (move it to
//! `out/rejected/` with the reason beside it).

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use tracing::{info, warn};

use super::daemon::Daemon;
use super::manifest::{Entry, EntryStatus};
use super::naming::unique_name;
use super::pass::Fingerprint;
use super::scan::Found;
use super::status::State;
use super::Voxelized;
use crate::format::atomic::write_bytes;

impl Daemon {
    /// Voxelizes `found` (or rejects it) and records the outcome in the manifest.
    pub(super) fn process(&mut self, found: &Found, print: Fingerprint) -> anyhow::Result<()> {
        let name = self.name_for(&found.rel);
        self.set_state(State::Voxelizing, Some(format!("inbox/{}", found.rel)))?;
        let started = Instant::now();
        let mut entry = match self.voxelize(&found.path, &name) {
            Ok(done) => self.accept(found, name, print, done, started),
            Err(err) => self.reject(found, name, print, &err),
        };
        entry.settings = self.cfg.voxel_key();
        self.manifest.inputs.insert(found.rel.clone(), entry);
        self.manifest_changed()
    }

    /// The output name of the input at `rel`: the recorded one, or a new unique one.
    fn name_for(&self, rel: &str) -> String {
        if let Some(entry) = self.manifest.inputs.get(rel) {
            return entry.name.clone();
        }
        let inputs = &self.manifest.inputs;
        unique_name(rel, |name| inputs.values().any(|e| e.name.eq_ignore_ascii_case(name)))
    }

    /// Runs the pipeline on one input; a panic or a missing `NAME.vox` counts as an error.
    fn voxelize(&self, input: &Path, name: &str) -> anyhow::Result<Voxelized> {
        let (jobs, inbox, voxels, cfg) =
            (&self.jobs, &self.layout.inbox, &self.layout.voxels, &self.cfg);
        let done =
            catch_unwind(AssertUnwindSafe(|| jobs.voxelize(input, inbox, voxels, name, cfg)))
                .map_err(|panic| {
                    anyhow::anyhow!("voxelizing panicked: {}", panic_text(&panic))
                })??;
        let vox = voxels.join(format!("{name}.vox"));
        if !vox.is_file() {
            anyhow::bail!("the pipeline wrote no {}", vox.display());
        }
        Ok(done)
    }

    /// Records a voxelized input and drops outputs of its previous version that were not
    /// written again.
    fn accept(
        &mut self,
        found: &Found,
        name: String,
        print: Fingerprint,
        done: Voxelized,
        started: Instant,
    ) -> Entry {
        let mut outputs: Vec<String> = done.files.iter().map(|f| self.layout.out_rel(f)).collect();
        outputs.sort();
        outputs.dedup();
        if let Some(old) = self.manifest.inputs.get(&found.rel) {
            let stale: Vec<String> =
                old.outputs.iter().filter(|o| !outputs.contains(o)).cloned().collect();
            self.remove_files(&stale);
        }
        let count = done.voxels.map(|n| format!("{n} voxels, ")).unwrap_or_default();
        let secs = started.elapsed().as_secs_f64();
        info!("voxelized inbox/{} -> out/voxels/{name}.* ({count}{secs:.2} s)", found.rel);
        entry(name, print, EntryStatus::Done, outputs, done.voxels)
    }

    /// Rejects an input: one warning, its outputs removed, the file moved to `out/rejected/`
    /// with a `.txt` holding the reason.
    fn reject(
        &mut self,
        found: &Found,
        name: String,
        print: Fingerprint,
        err: &anyhow::Error,
    ) -> Entry {
        let reason = format!("{err:#}").split_whitespace().collect::<Vec<_>>().join(" ");
        warn!("rejected inbox/{}: {reason}", found.rel);
        let old_outputs = self.manifest.inputs.get(&found.rel).map(|e| e.outputs.clone());
        self.remove_outputs(&name, &old_outputs.unwrap_or_default());
        self.last_error = Some(format!("inbox/{}: {reason}", found.rel));
        let moved = match self.move_to_rejected(found, &reason) {
            Ok(()) => true,
            Err(move_err) => {
                warn!("cannot move inbox/{} to out/rejected: {move_err:#}", found.rel);
                false
            }
        };
        self.stable.forget(&found.path);
        let mut entry = entry(name, print, EntryStatus::Rejected, Vec::new(), None);
        entry.reason = Some(reason);
        entry.moved = moved;
        entry
    }

    /// Moves the input to `out/rejected/REL` and writes the reason to `out/rejected/REL.txt`.
    fn move_to_rejected(&self, found: &Found, reason: &str) -> anyhow::Result<()> {
        let dest = self.layout.rejected.join(&found.rel);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).with_context(|| parent.display().to_string())?;
        }
        move_file(&found.path, &dest)?;
        let mut note = dest.into_os_string();
        note.push(".txt");
        let text = format!("inbox/{}: {reason}\n", found.rel);
        write_bytes(Path::new(&note), text.as_bytes())?;
        Ok(())
    }

    /// Removes the recorded outputs and any `out/voxels/NAME.*` left by a failed attempt.
    pub(super) fn remove_outputs(&self, name: &str, outputs: &[String]) {
        self.remove_files(outputs);
        let Ok(dir) = fs::read_dir(&self.layout.voxels) else { return };
        for file in dir.flatten() {
            let path = file.path();
            if path.file_stem().is_some_and(|s| s == name) {
                remove_file(&path);
            }
        }
    }

    /// Removes files given relative to `out/`.
    fn remove_files(&self, outputs: &[String]) {
        for output in outputs {
            remove_file(&self.layout.out.join(output));
        }
    }
}

/// A manifest entry for an input processed now.
fn entry(
    name: String,
    print: Fingerprint,
    status: EntryStatus,
    outputs: Vec<String>,
    voxels: Option<u64>,
) -> Entry {
    Entry {
        name,
        stat: print.stat,
        hash: print.hash,
        deps: print.deps,
        settings: String::new(),
        status,
        outputs,
        voxels,
        reason: None,
        moved: false,
    }
}

/// Renames `from` to `to`, copying and deleting when they lie on different filesystems.
fn move_file(from: &Path, to: &Path) -> anyhow::Result<()> {
    if fs::rename(from, to).is_ok() {
        return Ok(());
    }
    fs::copy(from, to).with_context(|| format!("copying to {}", to.display()))?;
    fs::remove_file(from).with_context(|| format!("removing {}", from.display()))
}

fn remove_file(path: &Path) {
    if let Err(err) = fs::remove_file(path) {
        if err.kind() != std::io::ErrorKind::NotFound {
            warn!("cannot remove {}: {err}", path.display());
        }
    }
}

/// The message of a caught panic.
fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "unknown panic".to_string()
    }
}
