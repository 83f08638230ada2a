//! Output names: one filesystem-safe, unique `NAME` per input, derived from its relative path.

/// Longest name kept as is; longer ones are cut and end in a short hash of the full path.
const MAX_NAME: usize = 80;

/// Names Windows reserves for devices, whatever the extension.
const RESERVED: [&str; 22] = [
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// The name for an input at `rel` (relative to the inbox, `/`-separated) that no other input
/// uses yet: `sub dir/cat.obj` gives `sub_dir__cat`, then `sub_dir__cat_obj`, `sub_dir__cat_obj-2`,
/// and so on. `taken` answers whether a name is in use; names are compared ignoring case.
pub(crate) fn unique_name(rel: &str, taken: impl Fn(&str) -> bool) -> String {
    let base = base_name(rel);
    let with_ext = match extension(rel) {
        Some(ext) => format!("{base}_{ext}"),
        None => format!("{base}_"),
    };
    if !taken(&base) {
        return base;
    }
    if !taken(&with_ext) {
        return with_ext;
    }
    (2..).map(|n| format!("{with_ext}-{n}")).find(|name| !taken(name)).unwrap_or(with_ext)
}

/// The name before any clash is resolved: path components joined by `__`, the extension
/// dropped, every character other than ASCII letters, digits, `-` and `_` turned into `_`.
pub(crate) fn base_name(rel: &str) -> String {
    let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
    let mut pieces: Vec<String> = Vec::with_capacity(parts.len());
    for (i, part) in parts.iter().enumerate() {
        let part = if i + 1 == parts.len() { stem(part) } else { part };
        pieces.push(sanitize(part));
    }
    let mut name = pieces.join("__");
    if name.is_empty() {
        name.push('_');
    }
    if RESERVED.contains(&name.to_ascii_lowercase().as_str()) {
        name.push('_');
    }
    shorten(name, rel)
}

/// The file name without its last extension (`cat.tar.obj` gives `cat.tar`).
fn stem(file: &str) -> &str {
    match file.rfind('.') {
        Some(0) | None => file,
        Some(dot) => &file[..dot],
    }
}

/// The last extension, lower-cased and sanitized.
fn extension(rel: &str) -> Option<String> {
    let file = rel.rsplit('/').next()?;
    let dot = file.rfind('.').filter(|&d| d > 0)?;
    Some(sanitize(&file[dot + 1..]).to_ascii_lowercase())
}

fn sanitize(part: &str) -> String {
    part.chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .collect()
}

/// Cuts a name longer than [`MAX_NAME`] and appends a hash of `rel` so cut names stay distinct.
fn shorten(name: String, rel: &str) -> String {
    if name.len() <= MAX_NAME {
        return name;
    }
    let hash = xxhash_rust::xxh3::xxh3_64(rel.as_bytes()) as u32;
    format!("{}-{hash:08x}", &name[..MAX_NAME - 9])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn free(_: &str) -> bool {
        false
    }

    #[test]
    fn path_becomes_safe_name() {
        assert_eq!(unique_name("cat.obj", free), "cat");
        assert_eq!(unique_name("sub dir/cat.obj", free), "sub_dir__cat");
        assert_eq!(unique_name("a/b/Fish.Tank.GLB", free), "a__b__Fish_Tank");
        assert_eq!(unique_name("ünï/cøde.vox", free), "_n___c_de");
        assert_eq!(unique_name("con.obj", free), "con_");
    }

    #[test]
    fn clashes_get_the_extension_then_a_number() {
        let taken = |n: &str| ["cat", "cat_obj", "cat_obj-2"].contains(&n.to_lowercase().as_str());
        assert_eq!(unique_name("Cat.glb", taken), "Cat_glb");
        assert_eq!(unique_name("cat.obj", taken), "cat_obj-3");
    }

    #[test]
    fn long_names_are_cut_but_stay_distinct() {
        let a = format!("{}/a.obj", "x".repeat(200));
        let b = format!("{}/b.obj", "x".repeat(200));
        let (na, nb) = (unique_name(&a, free), unique_name(&b, free));
        assert_eq!(na.len(), MAX_NAME);
        assert_ne!(na, nb);
    }
}
