//! The library's error type: every variant names the file or value at fault.

use std::path::PathBuf;

/// Errors voxgen's library reports. Messages are lowercase, without a final period, and name
/// the offending path or value so the CLI can print them as one line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed. The cause is part of the message (not a separate
    /// `source`), so printing the error chain does not repeat it.
    #[error("{}: {}", path.display(), io_text(cause))]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        cause: std::io::Error,
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
    #[error(
        "{}: referenced path {reference:?} leaves the folder {}",
        path.display(),
        root.display()
    )]
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

/// An I/O error in words for one line: the system's message without the `(os error N)` tail,
/// lowercase, and plain words for the kinds std names tersely.
fn io_text(err: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match err.kind() {
        ErrorKind::NotFound if err.raw_os_error().is_none() => "not found".into(),
        _ => {
            let text = err.to_string();
            let text = match text.find(" (os error") {
                Some(at) => &text[..at],
                None => &text,
            };
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => text.to_string(),
            }
        }
    }
}

/// Result with voxgen's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), cause: source }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_read_as_one_line_without_repeats() {
        let missing = std::fs::File::open("/nonexistent/voxgen/x.obj").unwrap_err();
        let err = Error::io("/nonexistent/voxgen/x.obj", missing);
        assert_eq!(err.to_string(), "/nonexistent/voxgen/x.obj: no such file or directory");
        // The cause is in the message, not in a source an error chain would print again.
        assert!(std::error::Error::source(&err).is_none());
        let err = Error::io("run", std::io::ErrorKind::NotFound.into());
        assert_eq!(err.to_string(), "run: not found");
        let err = Error::io("data", std::io::Error::other("not a folder"));
        assert_eq!(err.to_string(), "data: not a folder");
    }
}
