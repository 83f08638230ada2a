//! Crash-safe output: write to a temporary name in the same folder, then rename.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Writes a file so that readers only ever see the old contents or the complete new ones.
///
/// `fill` writes the whole contents into the buffered writer it is given; the data lands in a
/// hidden temporary file beside `path`, is flushed to disk and then renamed over `path`. On any
/// error the temporary file is removed and `path` is untouched.
pub fn write_atomic<F>(path: &Path, fill: F) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> Result<()>,
{
    let tmp = temp_name(path);
    let result = (|| {
        let file = fs::File::create(&tmp).map_err(|e| Error::io(path, e))?;
        let mut out = BufWriter::new(file);
        fill(&mut out)?;
        let file = out.into_inner().map_err(|e| Error::io(path, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(path, e))?;
        fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes `bytes` to `path` atomically (see [`write_atomic`]).
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic(path, |w| w.write_all(bytes).map_err(|e| Error::io(path, e)))
}

/// The temporary name used for `path`: hidden, same folder, ends in `.tmp`, unique per process.
fn temp_name(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_file_asked_for_not_the_temporary_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("out.vox");
        let err = write_bytes(&path, b"x").unwrap_err().to_string();
        assert_eq!(err, format!("{}: no such file or directory", path.display()));
    }

    #[test]
    fn failed_write_leaves_old_file_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        write_bytes(&path, b"old").unwrap();
        let err = write_atomic(&path, |w| {
            w.write_all(b"half").unwrap();
            Err(Error::invalid("test", "stop"))
        });
        assert!(err.is_err());
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
