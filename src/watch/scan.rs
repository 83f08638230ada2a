//! Finding inputs in the inbox and fingerprinting files (size, mtime, content hash).

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};
use walkdir::WalkDir;
use xxhash_rust::xxh3::Xxh3;

/// Whether `path` is a mesh input; the mesh readers own the rule (`.obj`, `.gltf`, `.glb`,
/// `.vox`, any case). Other files (`.mtl`, `.png`, `.bin`, ...) are only dependencies.
pub use crate::mesh::is_input;

/// What a cheap `stat` tells about a file: enough to notice most changes without reading it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStat {
    /// Length in bytes.
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch (0 when unknown).
    pub mtime_ns: u64,
}

impl FileStat {
    /// The stat of the file at `path` (following links), or `None` when it does not exist.
    pub fn of(path: &Path) -> io::Result<Option<FileStat>> {
        match fs::metadata(path) {
            Ok(meta) => Ok(Some(FileStat::from_meta(&meta))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn from_meta(meta: &fs::Metadata) -> FileStat {
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        FileStat { size: meta.len(), mtime_ns }
    }
}

/// The 128-bit XXH3 hash of a file's bytes, as 32 hex digits.
pub fn hash_file(path: &Path) -> io::Result<String> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Xxh3::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(format!("{:032x}", hasher.digest128()))
}

/// One input file found in the inbox.
#[derive(Clone, Debug)]
pub(crate) struct Found {
    /// Path relative to the inbox with `/` separators: the manifest key.
    pub rel: String,
    /// Full path.
    pub path: PathBuf,
    /// Its stat when found.
    pub stat: FileStat,
}

/// The inputs found by one walk over the inbox.
pub(crate) struct Walk {
    /// Inputs sorted by relative path.
    pub inputs: Vec<Found>,
    /// False when part of the inbox could not be read: then absence proves nothing.
    pub complete: bool,
}

/// Walks `inbox` recursively (following links, skipping hidden files and folders) and returns
/// its inputs sorted by relative path.
pub(crate) fn walk_inputs(inbox: &Path) -> Walk {
    let mut walk = Walk { inputs: Vec::new(), complete: true };
    let entries = WalkDir::new(inbox).follow_links(true).sort_by_file_name();
    for entry in entries.into_iter().filter_entry(|e| e.depth() == 0 || !is_hidden(e.path())) {
        match entry {
            Ok(entry) if entry.file_type().is_file() && is_input(entry.path()) => {
                if let Some(found) = found(inbox, entry) {
                    walk.inputs.push(found);
                }
            }
            Ok(_) => {}
            Err(err) => {
                tracing::debug!("scan: {err}");
                walk.complete = false;
            }
        }
    }
    walk.inputs.sort_by(|a, b| a.rel.cmp(&b.rel));
    walk
}

fn found(inbox: &Path, entry: walkdir::DirEntry) -> Option<Found> {
    let meta = entry.metadata().ok()?;
    let rel = relative(inbox, entry.path())?;
    Some(Found { rel, path: entry.into_path(), stat: FileStat::from_meta(&meta) })
}

/// `path` relative to `root` with `/` separators, or `None` when it is not inside `root`.
pub(crate) fn relative(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    (!parts.is_empty()).then(|| parts.join("/"))
}

fn is_hidden(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_meshes_in_any_case() {
        for name in ["a.obj", "b.GLTF", "c.Glb", "d.vox", "e/f.OBJ"] {
            assert!(is_input(Path::new(name)), "{name}");
        }
        for name in ["a.mtl", "b.png", "c.bin", "d.jpg", "obj", "e.obj.part"] {
            assert!(!is_input(Path::new(name)), "{name}");
        }
    }

    #[test]
    fn walk_finds_inputs_sorted_and_skips_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("b/c")).unwrap();
        fs::create_dir_all(root.join(".hidden")).unwrap();
        for f in ["z.obj", "b/c/y.glb", "b/a.mtl", ".x.obj", ".hidden/w.vox", "a.VOX"] {
            fs::write(root.join(f), f).unwrap();
        }
        let walk = walk_inputs(root);
        let rels: Vec<&str> = walk.inputs.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(rels, ["a.VOX", "b/c/y.glb", "z.obj"]);
        assert!(walk.complete);
        assert_eq!(walk.inputs[2].stat.size, 5);
    }

    #[test]
    fn hash_changes_with_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, b"one").unwrap();
        let a = hash_file(&path).unwrap();
        assert_eq!(a.len(), 32);
        assert_eq!(a, hash_file(&path).unwrap());
        fs::write(&path, b"two").unwrap();
        assert_ne!(a, hash_file(&path).unwrap());
    }
}
