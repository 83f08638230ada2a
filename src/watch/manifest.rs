//! `out/manifest.json`: what was done for each input, so a restart redoes nothing, and the
//! dataset fingerprint of the last training round.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

use super::scan::FileStat;
use crate::error::{Error, Result};
use crate::format::atomic::write_bytes;

/// The manifest layout this build writes; newer ones are refused rather than misread.
pub const MANIFEST_VERSION: u32 = 1;

/// The whole manifest file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Layout version ([`MANIFEST_VERSION`]).
    pub version: u32,
    /// One entry per input ever seen, keyed by its path relative to the inbox (`/`-separated).
    pub inputs: BTreeMap<String, Entry>,
    /// Training rounds started so far; the next round is numbered one more.
    pub rounds_started: u32,
    /// The last round that trained and sampled to the end.
    pub last_round: Option<Round>,
    /// Dataset fingerprint whose last round failed: it is not retried until the data changes.
    pub failed_dataset: Option<String>,
}

/// What the daemon did with one input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Output name: the outputs are `out/voxels/NAME.*`.
    pub name: String,
    /// Size and mtime of the input when it was processed.
    #[serde(flatten)]
    pub stat: FileStat,
    /// Content hash of the input (XXH3-128, hex).
    pub hash: String,
    /// The files the input references, with their fingerprints when processed.
    pub deps: Vec<Dep>,
    /// The output-shaping settings used ([`super::WatchConfig::voxel_key`]).
    pub settings: String,
    /// Done or rejected.
    pub status: EntryStatus,
    /// Files written, relative to `out/`.
    pub outputs: Vec<String>,
    /// Filled voxels, when the pipeline reported them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voxels: Option<u64>,
    /// Why it was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether a rejected input was moved to `out/rejected/` (if not, it stays in the inbox
    /// and is not retried until its content or dependencies change).
    #[serde(default)]
    pub moved: bool,
}

/// Outcome of processing an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryStatus {
    /// Voxelized; its `.vox` is part of the training data.
    Done,
    /// Could not be voxelized; moved to `out/rejected/`.
    Rejected,
}

/// The fingerprint of one dependency (MTL, texture, buffer) of an input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dep {
    /// Path relative to the inbox (`/`-separated), or absolute when it lies outside.
    pub path: String,
    /// Its stat, `None` when the file did not exist.
    pub stat: Option<FileStat>,
    /// Its content hash, `None` when the file did not exist.
    pub hash: Option<String>,
}

/// One finished training round.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Round {
    /// Round number, from 1.
    pub number: u32,
    /// Fingerprint of the data it trained on.
    pub dataset: String,
    /// Shapes it trained on.
    pub shapes: usize,
    /// Its sample folder relative to `out/`, for example `generated/round-0003`.
    pub dir: String,
    /// The files sampled, relative to `out/`; `generated/latest/` holds copies of them.
    pub files: Vec<String>,
    /// When it finished, in milliseconds since the Unix epoch.
    pub finished_unix_ms: u64,
    /// Training and sampling time in seconds.
    pub seconds: f64,
}

impl Default for Manifest {
    fn default() -> Self {
        Manifest {
            version: MANIFEST_VERSION,
            inputs: BTreeMap::new(),
            rounds_started: 0,
            last_round: None,
            failed_dataset: None,
        }
    }
}

impl Manifest {
    /// Reads the manifest at `path`; an empty one when the file does not exist.
    pub fn load(path: &Path) -> Result<Manifest> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Manifest::default()),
            Err(e) => return Err(Error::io(path, e)),
        };
        let manifest: Manifest =
            serde_json::from_slice(&bytes).map_err(|e| Error::parse(path, e.to_string()))?;
        if manifest.version > MANIFEST_VERSION {
            let reason = format!("manifest version {} is newer than this voxgen", manifest.version);
            return Err(Error::parse(path, reason));
        }
        Ok(manifest)
    }

    /// Writes the manifest to `path` atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::parse(path, format!("cannot encode: {e}")))?;
        write_bytes(path, &json)
    }

    /// The inputs that are part of the training data, in key order.
    pub fn done(&self) -> impl Iterator<Item = (&String, &Entry)> {
        self.inputs.iter().filter(|(_, e)| e.status == EntryStatus::Done)
    }

    /// The training data: `voxels/NAME.vox` of every done input, in key order.
    pub fn shapes(&self, voxels: &Path) -> Vec<PathBuf> {
        self.done().map(|(_, e)| voxels.join(format!("{}.vox", e.name))).collect()
    }

    /// A hash of the training data: the done inputs, their content and dependencies, and
    /// `settings` (the voxelization and model settings).
    pub fn dataset_fingerprint(&self, settings: &str) -> String {
        let mut hasher = Xxh3::new();
        hasher.update(settings.as_bytes());
        for (rel, entry) in self.done() {
            for part in [rel.as_str(), &entry.name, &entry.hash, &entry.settings] {
                hasher.update(part.as_bytes());
                hasher.update(&[0]);
            }
            for dep in &entry.deps {
                hasher.update(dep.path.as_bytes());
                hasher.update(dep.hash.as_deref().unwrap_or("-").as_bytes());
                hasher.update(&[0]);
            }
        }
        format!("{:032x}", hasher.digest128())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, hash: &str, status: EntryStatus) -> Entry {
        Entry {
            name: name.into(),
            stat: FileStat { size: 12, mtime_ns: 1_700_000_000_123_456_789 },
            hash: hash.into(),
            deps: vec![Dep {
                path: "cat.mtl".into(),
                stat: Some(FileStat { size: 3, mtime_ns: 5 }),
                hash: Some("ab".into()),
            }],
            settings: "resolution=32".into(),
            status,
            outputs: vec![format!("voxels/{name}.vox")],
            voxels: Some(99),
            reason: None,
            moved: false,
        }
    }

    fn sample() -> Manifest {
        let mut m = Manifest::default();
        m.inputs.insert("cat.obj".into(), entry("cat", "11", EntryStatus::Done));
        m.inputs.insert("sub/bad.glb".into(), entry("sub__bad", "22", EntryStatus::Rejected));
        m.rounds_started = 2;
        m.last_round = Some(Round {
            number: 2,
            dataset: "ff".into(),
            shapes: 1,
            dir: "generated/round-0002".into(),
            files: vec!["generated/round-0002/creature-00.vox".into()],
            finished_unix_ms: 42,
            seconds: 1.5,
        });
        m
    }

    #[test]
    fn round_trips_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("manifest.json");
        let m = sample();
        m.save(&path).unwrap();
        assert_eq!(Manifest::load(&path).unwrap(), m);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"mtime_ns\": 1700000000123456789"), "{text}");
        assert!(text.contains("\"status\": \"rejected\""), "{text}");
    }

    #[test]
    fn missing_file_is_empty_and_newer_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("manifest.json");
        assert_eq!(Manifest::load(&path).unwrap(), Manifest::default());
        let mut m = sample();
        m.version = MANIFEST_VERSION + 1;
        m.save(&path).unwrap();
        let err = Manifest::load(&path).unwrap_err().to_string();
        assert!(err.contains("manifest.json") && err.contains("newer"), "{err}");
        std::fs::write(&path, "{").unwrap();
        assert!(Manifest::load(&path).unwrap_err().to_string().contains("manifest.json"));
    }

    #[test]
    fn shapes_and_fingerprint_cover_only_done_inputs() {
        let m = sample();
        assert_eq!(m.shapes(Path::new("v")), [PathBuf::from("v/cat.vox")]);
        let fp = m.dataset_fingerprint("s");
        let mut other = m.clone();
        other.inputs.get_mut("sub/bad.glb").unwrap().hash = "33".into();
        assert_eq!(other.dataset_fingerprint("s"), fp);
        other.inputs.get_mut("cat.obj").unwrap().deps[0].hash = Some("cd".into());
        assert_ne!(other.dataset_fingerprint("s"), fp);
        assert_ne!(m.dataset_fingerprint("t"), fp);
    }
}
