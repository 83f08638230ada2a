//! One pass over the inbox: decide for each input whether it is current, still changing or to
//! be (re)done, and forget the inputs that are gone.

use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Instant;

use tracing::{debug, info, warn};

use super::daemon::Daemon;
use super::manifest::{Dep, Entry, EntryStatus};
use super::scan::{self, hash_file, FileStat, Found};
use super::stable::Stability;
use super::status::State;

/// An input that was still changing at the last pass.
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    /// Its path relative to the inbox.
    pub rel: String,
    /// When it (and its dependencies) can be stable at the earliest.
    pub until: Instant,
    /// When it was first seen changing.
    pub since: Instant,
}

/// The content fingerprint of an input that is stable and read.
#[derive(Clone, Debug)]
pub(crate) struct Fingerprint {
    /// The input's stat.
    pub stat: FileStat,
    /// The input's content hash.
    pub hash: String,
    /// Its dependencies' fingerprints.
    pub deps: Vec<Dep>,
}

/// What to do with one input.
enum Plan {
    /// Nothing: it is current, or it vanished while being looked at.
    Skip,
    /// Look again later.
    Wait(Pending),
    /// Voxelize it.
    Work(Fingerprint),
}

impl Daemon {
    /// Walks the inbox once and processes every input that is stable and not current.
    pub(super) fn pass(&mut self) -> anyhow::Result<()> {
        self.set_state(State::Scanning, None)?;
        let walk = scan::walk_inputs(&self.layout.inbox);
        self.pending.clear();
        for found in &walk.inputs {
            if self.cancelled() {
                break;
            }
            match self.plan(found) {
                Plan::Skip => {}
                Plan::Wait(pending) => self.pending.push(pending),
                Plan::Work(print) => self.process(found, print)?,
            }
        }
        if walk.complete && !self.cancelled() {
            self.forget_vanished(&walk.inputs)?;
        }
        self.stable.retain(Path::exists);
        self.inputs_found = walk.inputs.len();
        self.round_check = true;
        self.scan_done();
        self.save_manifest()?;
        self.set_state(State::Idle, None)
    }

    /// Decides what to do with `found`.
    fn plan(&mut self, found: &Found) -> Plan {
        if self.manifest.inputs.get(&found.rel).is_some_and(|e| self.is_current(e, found)) {
            return Plan::Skip;
        }
        let deps = self.dependencies(&found.path);
        if let Some(pending) = self.unstable(found, &deps) {
            debug!("inbox/{} is still changing", found.rel);
            return Plan::Wait(pending);
        }
        let print = match self.fingerprint(found, &deps) {
            Ok(print) => print,
            Err(err) => {
                debug!("inbox/{}: {err}", found.rel);
                return Plan::Skip;
            }
        };
        if self.same_content(&found.rel, &print) {
            self.refresh(&found.rel, print);
            return Plan::Skip;
        }
        Plan::Work(print)
    }

    /// True when stats alone show that nothing changed since `entry` was recorded.
    fn is_current(&self, entry: &Entry, found: &Found) -> bool {
        entry.stat == found.stat && self.deps_unchanged(entry) && self.entry_holds(entry)
    }

    /// Whether a recorded outcome still stands: a done input's outputs exist and used the
    /// current settings; a rejected input stayed in the inbox only because moving it failed.
    fn entry_holds(&self, entry: &Entry) -> bool {
        match entry.status {
            EntryStatus::Done => {
                entry.settings == self.cfg.voxel_key()
                    && entry.outputs.iter().all(|o| self.layout.out.join(o).exists())
                    && self.layout.voxels.join(format!("{}.vox", entry.name)).exists()
            }
            EntryStatus::Rejected => !entry.moved,
        }
    }

    fn deps_unchanged(&self, entry: &Entry) -> bool {
        entry.deps.iter().all(|dep| {
            let path = self.dep_path(&dep.path);
            FileStat::of(&path).ok().flatten() == dep.stat
        })
    }

    /// Same content and dependencies as recorded, and the recorded outcome still stands.
    fn same_content(&self, rel: &str, print: &Fingerprint) -> bool {
        self.manifest.inputs.get(rel).is_some_and(|e| {
            e.hash == print.hash && same_deps(&e.deps, &print.deps) && self.entry_holds(e)
        })
    }

    /// Stores new stats for an input whose content did not change (a touch).
    fn refresh(&mut self, rel: &str, print: Fingerprint) {
        if let Some(entry) = self.manifest.inputs.get_mut(rel) {
            debug!("inbox/{rel}: touched, content unchanged");
            entry.stat = print.stat;
            entry.deps = print.deps;
            self.mark_manifest_dirty();
        }
    }

    /// The files `input` references, as the pipeline reports them (without `input` itself).
    fn dependencies(&self, input: &Path) -> Vec<PathBuf> {
        let jobs = &self.jobs;
        let inbox = &self.layout.inbox;
        let found = catch_unwind(AssertUnwindSafe(|| jobs.dependencies(input, inbox)));
        let mut deps = found.unwrap_or_else(|_| {
            warn!("{}: finding its dependencies panicked", input.display());
            Vec::new()
        });
        deps.retain(|d| d != input);
        deps.sort();
        deps.dedup();
        deps
    }

    /// `Some` while the input or one of its existing dependencies is still changing.
    fn unstable(&mut self, found: &Found, deps: &[PathBuf]) -> Option<Pending> {
        let now = Instant::now();
        let mut pending: Option<Pending> = None;
        let mut note = |stability: Stability| {
            if let Stability::Wait { until, since } = stability {
                let p = pending.get_or_insert(Pending { rel: found.rel.clone(), until, since });
                p.until = p.until.max(until);
                p.since = p.since.min(since);
            }
        };
        note(self.stable.observe(&found.path, found.stat, now));
        for dep in deps {
            if let Ok(Some(stat)) = FileStat::of(dep) {
                note(self.stable.observe(dep, stat, now));
            }
        }
        pending
    }

    /// Hashes the input and its dependencies, reusing recorded hashes where the stat matches.
    fn fingerprint(&self, found: &Found, deps: &[PathBuf]) -> std::io::Result<Fingerprint> {
        let hash = hash_file(&found.path)?;
        let old = self.manifest.inputs.get(&found.rel);
        let deps = deps.iter().map(|path| self.dep_print(path, old)).collect();
        Ok(Fingerprint { stat: found.stat, hash, deps })
    }

    fn dep_print(&self, path: &Path, old: Option<&Entry>) -> Dep {
        // Relative to the inbox, so the key survives copying or moving the whole folder.
        let key = self.layout.inbox_rel(path).unwrap_or_else(|| path.display().to_string());
        let stat = FileStat::of(path).ok().flatten();
        let recorded = old.and_then(|e| e.deps.iter().find(|d| d.path == key));
        let hash = match recorded {
            Some(d) if stat.is_some() && d.stat == stat => d.hash.clone(),
            _ => stat.and_then(|_| hash_file(path).ok()),
        };
        Dep { path: key, stat: stat.filter(|_| hash.is_some()), hash }
    }

    /// The full path of a recorded dependency.
    fn dep_path(&self, key: &str) -> PathBuf {
        let path = Path::new(key);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.layout.inbox.join(path)
        }
    }

    /// Drops done inputs that left the inbox, with their outputs: they are no longer data.
    fn forget_vanished(&mut self, inputs: &[Found]) -> anyhow::Result<()> {
        let present: HashSet<&str> = inputs.iter().map(|f| f.rel.as_str()).collect();
        let gone: Vec<String> = self
            .manifest
            .done()
            .filter(|(rel, _)| !present.contains(rel.as_str()))
            .map(|(rel, _)| rel.clone())
            .collect();
        for rel in gone {
            if let Some(entry) = self.manifest.inputs.remove(&rel) {
                self.remove_outputs(&entry.name, &entry.outputs);
                info!("inbox/{rel} is gone: removed out/voxels/{}.*", entry.name);
                self.manifest_changed()?;
            }
        }
        Ok(())
    }
}

/// Whether two dependency lists name the same files with the same contents (their stats, which
/// a copy or a touch changes, do not count).
fn same_deps(a: &[Dep], b: &[Dep]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.path == y.path && x.hash == y.hash)
}
