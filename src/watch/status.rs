//! `out/status.json`: what the daemon is doing now, for the Blender add-on and other readers.
//!
//! The file is replaced atomically whenever something in it changes:
//! `{"state": "idle", "current": null, "round": null, "counts": {"inputs": 5, "done": 4,
//! "rejected": 1, "pending": 0}, "last_round": {...}, "last_error": null, "updated_unix_ms": ...}`.
//! `last_round` has the fields of [`super::manifest::Round`]; its `dir` and `files` are relative
//! to `out/`.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::manifest::Round;
use crate::error::{Error, Result};
use crate::format::atomic::write_bytes;

/// What the daemon is busy with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Walking the inbox.
    Scanning,
    /// Voxelizing a file (`current` names it).
    Voxelizing,
    /// A training round is running and no file is being voxelized.
    Training,
    /// A round is sampling creatures and no file is being voxelized.
    Sampling,
    /// Waiting for files.
    Idle,
    /// The daemon has exited.
    Stopped,
}

/// Counts of inputs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Input files in the inbox at the last scan.
    pub inputs: usize,
    /// Inputs voxelized: the training shapes.
    pub done: usize,
    /// Inputs rejected so far.
    pub rejected: usize,
    /// Inputs waiting until they stop changing.
    pub pending: usize,
}

/// The contents of `out/status.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// What the daemon is busy with.
    pub state: State,
    /// The input being voxelized, as `inbox/REL`.
    pub current: Option<String>,
    /// The number of the training round running now.
    pub round: Option<u32>,
    /// Input counts.
    pub counts: Counts,
    /// The last round that finished.
    pub last_round: Option<Round>,
    /// The last error: a rejected file or a failed round.
    pub last_error: Option<String>,
    /// When this was written, in milliseconds since the Unix epoch.
    pub updated_unix_ms: u64,
}

/// Writes the status file when its contents change.
#[derive(Debug)]
pub(crate) struct StatusFile {
    path: PathBuf,
    last: Option<Status>,
}

impl StatusFile {
    /// A writer for `path`; nothing is written until the first [`StatusFile::publish`].
    pub fn new(path: &Path) -> Self {
        StatusFile { path: path.to_path_buf(), last: None }
    }

    /// Writes `status` (stamped with the time) unless it equals the last one written.
    pub fn publish(&mut self, mut status: Status) -> Result<()> {
        status.updated_unix_ms = 0;
        if self.last.as_ref() == Some(&status) {
            return Ok(());
        }
        self.last = Some(status.clone());
        status.updated_unix_ms = unix_ms();
        let json = serde_json::to_vec_pretty(&status)
            .map_err(|e| Error::parse(&self.path, format!("cannot encode: {e}")))?;
        write_bytes(&self.path, &json)
    }
}

/// Now in milliseconds since the Unix epoch.
pub(crate) fn unix_ms() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: State) -> Status {
        Status {
            state,
            current: None,
            round: None,
            counts: Counts { inputs: 2, done: 1, rejected: 1, pending: 0 },
            last_round: None,
            last_error: None,
            updated_unix_ms: 0,
        }
    }

    #[test]
    fn writes_only_on_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("status.json");
        let mut file = StatusFile::new(&path);
        file.publish(status(State::Idle)).unwrap();
        let first = std::fs::read_to_string(&path).unwrap();
        assert!(first.contains("\"state\": \"idle\""), "{first}");
        std::fs::remove_file(&path).unwrap();
        file.publish(status(State::Idle)).unwrap();
        assert!(!path.exists());
        file.publish(status(State::Training)).unwrap();
        let read: Status = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(read.state, State::Training);
        assert!(read.updated_unix_ms > 0);
    }
}
