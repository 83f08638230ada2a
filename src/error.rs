//! The library's error type: every variant names the file or value at fault.

use std::path::PathBuf;

/// Errors voxgen's library reports. Messages are lowercase, without a final period, and name
/// the offending path or value so the CLI can print them as one line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file's contents could not be understood.
    #[error("{}: {reason}", path.display())]
    Parse {
        /// The file involved.
        path: PathBuf,
        /// What is wrong with it, in a few words.
        reason: String,
    },
    /// A file uses a feature voxgen does not decode (for example a glTF extension).
    #[error("{}: unsupported {feature}", path.display())]
    Unsupported {
        /// The file involved.
        path: PathBuf,
        /// The feature, for example `glTF extension KHR_draco_mesh_compression`.
        feature: String,
    },
    /// A path referenced from inside a file points outside the folder it may read from.
    #[error("{}: referenced path {reference:?} leaves the folder {}", path.display(), root.display())]
    PathEscape {
        /// The file holding the reference.
        path: PathBuf,
        /// The reference as written in the file.
        reference: String,
        /// The folder references must stay inside.
        root: PathBuf,
    },
    /// A file holds nothing voxgen can voxelize (no triangles, no voxels).
    #[error("{}: {what}", path.display())]
    Empty {
        /// The file involved.
        path: PathBuf,
        /// What was missing, for example `no triangles`.
        what: String,
    },
    /// An argument or setting is out of range.
    #[error("invalid {name}: {reason}")]
    Invalid {
        /// The argument or setting.
        name: String,
        /// Why it is rejected.
        reason: String,
    },
    /// libtorch reported an error.
    #[error("torch: {0}")]
    Torch(#[from] tch::TchError),
}

/// Result with voxgen's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    /// A parse error for `path` with a short reason.
    pub fn parse(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Parse { path: path.into(), reason: reason.into() }
    }

    /// An out-of-range argument or setting.
    pub fn invalid(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Invalid { name: name.into(), reason: reason.into() }
    }
}
