//! Path containment: every file a mesh references must resolve to a place inside the input root.
//!
//! References are resolved against the folder of the file holding them; `..`, symlinks and
//! absolute paths are all followed first, and only then is the result compared with the root.
//! Files that do not exist yet are resolved through their deepest existing ancestor, so the
//! answer does not change when the file appears later.

use std::path::{Component, Path, PathBuf};

/// Why a reference could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The reference resolves to a place outside the root.
    Escape,
    /// The reference is empty or cannot name a file.
    Invalid,
}

/// Resolves `reference` (as written inside a file in `base_dir`) to a path inside `root`.
///
/// Backslashes are read as separators (Windows exporters write `.\tex.jpg`). The returned path
/// is absolute with symlinks resolved as far as the path exists.
pub(crate) fn resolve(root: &Path, base_dir: &Path, reference: &str) -> Result<PathBuf, Refused> {
    let written = reference.replace('\\', "/");
    if written.trim().is_empty() {
        return Err(Refused::Invalid);
    }
    let candidate = if is_windows_absolute(&written) {
        // A drive-letter path never lies inside a POSIX root; exporters on Windows often leave
        // them behind, so the file name alone next to the referencing file is tried instead.
        let name = written.rsplit('/').next().unwrap_or_default();
        if name.is_empty() {
            return Err(Refused::Invalid);
        }
        let beside = base_dir.join(name);
        if !beside.exists() {
            return Err(Refused::Escape);
        }
        tracing::debug!("using {} for the absolute reference {written:?}", beside.display());
        beside
    } else {
        base_dir.join(&written)
    };
    let resolved = resolve_lenient(&absolute(&candidate));
    let root = resolve_lenient(&absolute(root));
    if resolved == root {
        Err(Refused::Invalid)
    } else if resolved.starts_with(&root) {
        Ok(resolved)
    } else {
        Err(Refused::Escape)
    }
}

/// True for `C:/...`, `C:...` and `//server/...` style references.
fn is_windows_absolute(written: &str) -> bool {
    let bytes = written.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    drive || written.starts_with("//")
}

/// Makes `path` absolute against the current directory (without touching the file system).
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Canonicalizes the longest existing prefix of `path` (following symlinks) and appends the
/// rest lexically, with `..` removing the previous component.
pub(crate) fn resolve_lenient(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    let mut exists = true;
    for component in path.components() {
        match component {
            Component::Prefix(_) | Component::RootDir => out.push(component.as_os_str()),
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(name) => {
                out.push(name);
                if exists {
                    match std::fs::canonicalize(&out) {
                        Ok(real) => out = real,
                        Err(_) => exists = false,
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_parent_steps_are_resolved() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("a")).unwrap();
        let got = resolve(root, &root.join("a"), "../b/./c.png").unwrap();
        assert_eq!(got, resolve_lenient(&root.join("b/c.png")));
    }

    #[test]
    fn escapes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir(&root).unwrap();
        assert_eq!(resolve(&root, &root, "../x.png"), Err(Refused::Escape));
        assert_eq!(resolve(&root, &root, "a/../../x.png"), Err(Refused::Escape));
        assert_eq!(resolve(&root, &root, "/etc/passwd"), Err(Refused::Escape));
        assert_eq!(resolve(&root, &root, "..\\..\\x.png"), Err(Refused::Escape));
        assert_eq!(resolve(&root, &root, "C:\\Users\\me\\x.png"), Err(Refused::Escape));
        assert_eq!(resolve(&root, &root, ""), Err(Refused::Invalid));
        assert_eq!(resolve(&root, &root, "."), Err(Refused::Invalid));
    }

    #[test]
    fn absolute_paths_inside_the_root_are_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let inside = root.join("t.png");
        let got = resolve(root, root, inside.to_str().unwrap()).unwrap();
        assert_eq!(got, resolve_lenient(&inside));
    }

    #[test]
    fn windows_separators_and_drive_letters_fall_back_to_the_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("tex.jpg"), b"x").unwrap();
        let expected = std::fs::canonicalize(root.join("tex.jpg")).unwrap();
        assert_eq!(resolve(root, root, ".\\tex.jpg").unwrap(), expected);
        assert_eq!(resolve(root, root, "D:\\art\\tex.jpg").unwrap(), expected);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_leaving_the_root_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret.png"), b"x").unwrap();
        std::os::unix::fs::symlink(&outside, root.join("link")).unwrap();
        assert_eq!(resolve(&root, &root, "link/secret.png"), Err(Refused::Escape));
        // A missing file behind the link is refused as well: the link itself leaves the root.
        assert_eq!(resolve(&root, &root, "link/missing.png"), Err(Refused::Escape));
    }
}
