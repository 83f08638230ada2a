//! Wavefront OBJ + MTL reader.
//!
//! `tobj` parses the geometry and the material libraries. Before it sees the file, a first pass
//! turns the text into a form it reads without surprises: UTF-16 is transcoded, every face index
//! is checked and made absolute (so a bad index is a clear error with a line number), vertex
//! colours are padded for vertices that lack them, and `mtllib` lists are split into one file per
//! line. Material libraries are opened through a loader closure that applies the containment
//! check. Polygons are triangulated by ear clipping on their best-fit plane.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use earcut::Earcut;

use super::image::{self as tex, FileImageCache};
use super::path::{self, Refused};
use super::types::{srgb_to_linear, Material, Mesh, TextureRef, Triangle, Wrap};
use super::{parent_dir, read_file, y_up_to_z_up};
use crate::error::{Error, Result};

/// Reads the OBJ at `path`; referenced MTL files and textures must lie inside `root`.
pub(crate) fn load(path: &Path, root: &Path) -> Result<Mesh> {
    let text = decode_text(&read_file(path)?);
    let prepared = prepare(path, &text)?;
    let parsed = parse(path, root, &prepared)?;
    Ok(build_mesh(path, &prepared, parsed))
}

/// `mtllib` files and their `map_Kd` textures referenced by the OBJ at `path`, inside `root`.
pub(crate) fn dependencies(path: &Path, root: &Path) -> Vec<PathBuf> {
    let Ok(bytes) = super::read_capped(path) else { return Vec::new() };
    let dir = parent_dir(path);
    let mut deps = Vec::new();
    for line in decode_text(&bytes).lines() {
        let Some(rest) = keyword_rest(line, "mtllib") else { continue };
        for name in mtllib_names(rest, dir) {
            let Ok(mtl) = path::resolve(root, dir, &name) else { continue };
            deps.extend(mtl_textures(&mtl, root));
            deps.push(mtl);
        }
    }
    deps
}

/// The `map_Kd` textures of the MTL file at `mtl` that lie inside `root`.
fn mtl_textures(mtl: &Path, root: &Path) -> Vec<PathBuf> {
    let Ok(bytes) = super::read_capped(mtl) else { return Vec::new() };
    let dir = parent_dir(mtl);
    decode_text(&bytes)
        .lines()
        .filter_map(|line| keyword_rest(line, "map_Kd"))
        .filter_map(|rest| path::resolve(root, dir, TextureStatement::parse(rest)?.file).ok())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Text decoding

/// Decodes file bytes: UTF-16 (either byte order) when it starts with a BOM, else UTF-8 (a BOM is
/// dropped; invalid sequences become U+FFFD).
pub(crate) fn decode_text(bytes: &[u8]) -> String {
    let utf16 = |big: bool| {
        let units = bytes[2..].chunks_exact(2).map(|p| {
            let pair = [p[0], p[1]];
            if big {
                u16::from_be_bytes(pair)
            } else {
                u16::from_le_bytes(pair)
            }
        });
        char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect()
    };
    match bytes {
        [0xFE, 0xFF, ..] => utf16(true),
        [0xFF, 0xFE, ..] => utf16(false),
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8_lossy(rest).into_owned(),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// The rest of `line` after `keyword` and whitespace, if the line starts with that keyword.
fn keyword_rest<'a>(line: &'a str, keyword: &str) -> Option<&'a str> {
    let line = line.trim_start();
    let rest = line.strip_prefix(keyword)?;
    if rest.is_empty() || rest.starts_with(char::is_whitespace) {
        Some(rest.trim())
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// First pass: validate and normalise the OBJ text for tobj

/// The OBJ text rewritten for tobj, with what the rewrite learned.
struct Prepared {
    /// Text with absolute indices, one `mtllib` file per line, no normals, lines or points.
    text: String,
    /// Whether any vertex has a colour (then every `v` line carries one, NaN when missing).
    colors: bool,
    /// Whether the file has texture coordinates (then `vt` 1 is a NaN sentinel for corners
    /// written without one, and the file's own `vt` indices are shifted by one).
    texcoords: bool,
}

/// Counts of elements defined so far, for resolving relative indices.
#[derive(Default)]
struct Counts {
    v: usize,
    vt: usize,
}

/// Rewrites the OBJ text for tobj, checking every face index on the way.
fn prepare(path: &Path, text: &str) -> Result<Prepared> {
    let colors = text
        .lines()
        .any(|l| keyword_rest(l, "v").is_some_and(|r| r.split_whitespace().count() >= 6));
    let texcoords = text.lines().any(|l| keyword_rest(l, "vt").is_some());
    let mut out = Prepared { text: String::with_capacity(text.len()), colors, texcoords };
    if texcoords {
        out.text.push_str("vt NaN NaN\n");
    }
    let mut counts = Counts::default();
    let dir = parent_dir(path);
    for (number, line) in text.lines().enumerate() {
        prepare_line(line, &mut counts, &mut out, dir)
            .map_err(|reason| Error::parse(path, format!("line {}: {reason}", number + 1)))?;
    }
    Ok(out)
}

/// Rewrites one line into `out` (or drops it).
fn prepare_line(
    line: &str,
    counts: &mut Counts,
    out: &mut Prepared,
    dir: &Path,
) -> Result<(), String> {
    let mut words = line.split_whitespace();
    let Some(keyword) = words.next() else { return Ok(()) };
    let rest = keyword_rest(line, keyword).unwrap_or_default();
    match keyword {
        "v" => {
            counts.v += 1;
            write_vertex(rest, out)
        }
        "vt" => {
            counts.vt += 1;
            write_texcoord(rest, out)
        }
        "f" => write_face(rest, counts, out),
        "mtllib" => {
            for name in mtllib_names(rest, dir) {
                let _ = writeln!(out.text, "mtllib {name}");
            }
            Ok(())
        }
        "usemtl" | "o" | "g" if !rest.is_empty() => {
            let _ = writeln!(out.text, "{keyword} {rest}");
            Ok(())
        }
        // Normals, lines, points, smoothing groups, comments and the rest carry nothing we use.
        _ => Ok(()),
    }
}

/// `v x y z [w]` or `v x y z r g b [a]`: writes `v x y z` plus the colour column when the file
/// has colours. `w` is a weight for rational curves and means nothing for polygons, so it is
/// ignored (as Blender and assimp do) rather than dividing the coordinates.
fn write_vertex(rest: &str, out: &mut Prepared) -> Result<(), String> {
    let values = rest.split_whitespace().map(lenient_float).collect::<Option<Vec<f32>>>();
    let values = values.ok_or_else(|| format!("cannot read vertex {rest:?}"))?;
    let [x, y, z] = match values[..] {
        [x, y, z, ..] => [x, y, z],
        _ => return Err(format!("vertex {rest:?} needs three coordinates")),
    };
    let _ = write!(out.text, "v {x} {y} {z}");
    if out.colors {
        match values[..] {
            [_, _, _, r, g, b, ..] => {
                let _ = write!(out.text, " {r} {g} {b}");
            }
            _ => out.text.push_str(" NaN NaN NaN"),
        }
    }
    out.text.push('\n');
    Ok(())
}

/// `vt u [v [w]]`: writes `vt u v`.
fn write_texcoord(rest: &str, out: &mut Prepared) -> Result<(), String> {
    let mut values = rest.split_whitespace().map(lenient_float);
    let u = values
        .next()
        .flatten()
        .ok_or_else(|| format!("cannot read texture coordinate {rest:?}"))?;
    let v = values.next().flatten().unwrap_or(0.0);
    let _ = writeln!(out.text, "vt {u} {v}");
    Ok(())
}

/// `f v[/vt[/vn]] ...`: checks every index against what is defined so far and writes the face
/// with absolute `v/vt` indices. Faces of fewer than three corners are dropped.
fn write_face(rest: &str, counts: &Counts, out: &mut Prepared) -> Result<(), String> {
    let corners = rest.split_whitespace().collect::<Vec<_>>();
    if corners.len() < 3 {
        return Ok(());
    }
    out.text.push('f');
    for corner in corners {
        let mut parts = corner.split('/');
        let v = resolve_index(parts.next().unwrap_or_default(), counts.v, "vertex")?;
        let vt = match parts.next() {
            Some(s) if !s.is_empty() => Some(resolve_index(s, counts.vt, "texture coordinate")?),
            _ => None,
        };
        match (out.texcoords, vt) {
            (true, Some(vt)) => write!(out.text, " {v}/{}", vt + 1),
            (true, None) => write!(out.text, " {v}/1"),
            (false, _) => write!(out.text, " {v}"),
        }
        .map_err(|e| e.to_string())?;
    }
    out.text.push('\n');
    Ok(())
}

/// Turns an OBJ index (1-based, or negative counting back from the last defined element) into
/// an absolute 1-based index, or explains why it is invalid.
fn resolve_index(written: &str, defined: usize, what: &str) -> Result<usize, String> {
    let index: i64 = written.parse().map_err(|_| format!("cannot read face index {written:?}"))?;
    let absolute = match index {
        0 => return Err(format!("face {what} index 0 (indices start at 1)")),
        i if i > 0 => i,
        i => defined as i64 + 1 + i,
    };
    if absolute < 1 || absolute > defined as i64 {
        return Err(format!("face {what} index {index} out of range ({defined} defined)"));
    }
    Ok(absolute as usize)
}

/// Parses a float like C's `strtod`: the longest prefix that is a number (`3.1+e2` reads 3.1).
fn lenient_float(word: &str) -> Option<f32> {
    if let Ok(value) = word.parse() {
        return Some(value);
    }
    (1..word.len())
        .rev()
        .filter(|&end| word.is_char_boundary(end))
        .find_map(|end| word[..end].parse().ok())
}

/// The file names of a `mtllib` statement. Names are separated by whitespace and may escape a
/// space as `\ `; a whole line naming one existing file with plain spaces is taken as one name.
fn mtllib_names(rest: &str, dir: &Path) -> Vec<String> {
    if rest.contains(char::is_whitespace) && !rest.contains("\\ ") && dir.join(rest).is_file() {
        return vec![rest.to_string()];
    }
    let mut names = Vec::new();
    let mut current = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek().is_some_and(|n| n.is_whitespace()) {
            current.extend(chars.next());
        } else if c.is_whitespace() {
            if !current.is_empty() {
                names.push(std::mem::take(&mut current));
            }
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        names.push(current);
    }
    names
}

/// A `map_Kd` statement: the file name (which may contain spaces) and the options voxgen uses.
#[derive(Debug, PartialEq)]
struct TextureStatement<'a> {
    file: &'a str,
    /// `-clamp on`: no tiling.
    clamp: bool,
    /// `-o u v`: offset added to the texture coordinates.
    offset: [f32; 2],
    /// `-s u v`: scale applied to the texture coordinates.
    scale: [f32; 2],
}

impl<'a> TextureStatement<'a> {
    /// Parses the text after `map_Kd`: options (`-o u [v [w]]`, `-bm 2`, `-clamp on`, ...)
    /// come first, the rest of the line is the file name.
    fn parse(rest: &'a str) -> Option<Self> {
        let mut statement =
            TextureStatement { file: "", clamp: false, offset: [0.0; 2], scale: [1.0; 2] };
        let mut remaining = rest.trim();
        while remaining.starts_with('-') {
            let (option, after) = remaining.split_once(char::is_whitespace)?;
            let max_args = match option {
                "-o" | "-s" | "-t" => 3,
                "-mm" => 2,
                _ => 1,
            };
            let (args, after) = option_arguments(after, max_args);
            match (option, args.as_slice()) {
                ("-clamp", [on]) => statement.clamp = *on == "on",
                ("-o", [u, v @ ..]) => statement.offset = numbers(u, v.first(), 0.0),
                ("-s", [u, v @ ..]) => statement.scale = numbers(u, v.first(), 1.0),
                _ => {}
            }
            remaining = after;
        }
        statement.file = remaining;
        (!remaining.is_empty()).then_some(statement)
    }

    /// The row-major UV transform for voxgen's flipped v (v = 0 at the image top): OBJ's
    /// `uv * s + o` taken in OBJ's v-up space.
    fn transform(&self) -> [[f32; 3]; 2] {
        let ([su, sv], [ou, ov]) = (self.scale, self.offset);
        [[su, 0.0, ou], [0.0, sv, 1.0 - sv - ov]]
    }
}

/// Splits up to `max` option arguments off `text`: the first always, later ones while they are
/// numbers. Returns them with the remaining text.
fn option_arguments(text: &str, max: usize) -> (Vec<&str>, &str) {
    let mut after = text.trim_start();
    let mut args = Vec::new();
    while args.len() < max {
        let (arg, next) = after.split_once(char::is_whitespace).unwrap_or((after, ""));
        if arg.is_empty() || (!args.is_empty() && arg.parse::<f32>().is_err()) {
            break;
        }
        args.push(arg);
        after = next.trim_start();
    }
    (args, after)
}

/// Two option numbers, the second defaulting to the first (as MTL does), bad values to `fallback`.
fn numbers(u: &str, v: Option<&&str>, fallback: f32) -> [f32; 2] {
    let u = u.parse().unwrap_or(fallback);
    [u, v.and_then(|v| v.parse().ok()).unwrap_or(u)]
}

// ---------------------------------------------------------------------------------------------
// tobj

/// What tobj produced, with the texture files resolved for each material.
struct Parsed {
    models: Vec<tobj::Model>,
    materials: Vec<tobj::Material>,
    /// Per material, in tobj's order: its resolved `map_Kd`, if any and inside the root.
    textures: Vec<Option<MapKd>>,
}

/// A resolved `map_Kd`: the file and how it is sampled.
#[derive(Clone)]
struct MapKd {
    file: PathBuf,
    clamp: bool,
    transform: [[f32; 3]; 2],
}

/// State the material loader closure fills in while tobj runs.
#[derive(Default)]
struct LibraryState {
    /// The first `mtllib` reference that left the root.
    escape: Option<String>,
    /// Resolved textures, one per material loaded, in load order.
    textures: Vec<Option<MapKd>>,
}

/// Runs tobj over the prepared text, loading material libraries through the containment check.
fn parse(path: &Path, root: &Path, prepared: &Prepared) -> Result<Parsed> {
    let options = tobj::LoadOptions {
        single_index: false,
        triangulate: false,
        ignore_points: true,
        ignore_lines: true,
    };
    let state = RefCell::new(LibraryState::default());
    let result = tobj::load_obj_buf(&mut prepared.text.as_bytes(), &options, |mtl| {
        load_library(path, root, mtl, &mut state.borrow_mut())
    });
    let state = state.into_inner();
    if let Some(reference) = state.escape {
        return Err(Error::PathEscape {
            path: path.to_path_buf(),
            reference,
            root: root.to_path_buf(),
        });
    }
    let (models, materials) = result.map_err(|e| Error::parse(path, format!("{e}")))?;
    let materials = materials.unwrap_or_default();
    let mut textures = state.textures;
    textures.resize(materials.len(), None);
    Ok(Parsed { models, materials, textures })
}

/// Loads one material library for tobj: resolves it inside `root`, warns when it is missing,
/// and resolves each material's `map_Kd`.
fn load_library(
    mesh: &Path,
    root: &Path,
    name: &Path,
    state: &mut LibraryState,
) -> tobj::MTLLoadResult {
    let reference = name.to_string_lossy().into_owned();
    let file = match path::resolve(root, parent_dir(mesh), &reference) {
        Ok(file) => file,
        Err(Refused::Escape) => {
            state.escape.get_or_insert(reference);
            return Err(tobj::LoadError::OpenFileFailed);
        }
        Err(Refused::Invalid) => return Err(tobj::LoadError::OpenFileFailed),
    };
    let bytes = super::read_capped(&file).map_err(|e| {
        tracing::warn!(
            "{}: material library {reference:?}: {e}; using the default material",
            mesh.display()
        );
        tobj::LoadError::OpenFileFailed
    })?;
    let text = sanitize_mtl(&decode_text(&bytes));
    let (materials, names) = tobj::load_mtl_buf(&mut text.as_bytes()).inspect_err(|e| {
        tracing::warn!(
            "{}: material library {reference:?}: {e}; using the default material",
            mesh.display()
        );
    })?;
    let dir = parent_dir(&file);
    for material in &materials {
        let texture =
            material.diffuse_texture.as_deref().and_then(|t| resolve_texture(mesh, root, dir, t));
        state.textures.push(texture);
    }
    Ok((materials, names))
}

/// Resolves a `map_Kd` statement to a file inside `root`, warning when it leaves the root.
fn resolve_texture(mesh: &Path, root: &Path, dir: &Path, statement: &str) -> Option<MapKd> {
    let statement = TextureStatement::parse(statement)?;
    let name = statement.file;
    match path::resolve(root, dir, name) {
        Ok(file) => Some(MapKd { file, clamp: statement.clamp, transform: statement.transform() }),
        Err(Refused::Escape) => {
            tracing::warn!(
                "{}: texture {name:?} lies outside {}; using the base colour",
                mesh.display(),
                root.display()
            );
            None
        }
        Err(Refused::Invalid) => None,
    }
}

/// Makes MTL text safe for tobj, which expects exactly three numbers after a colour keyword: a
/// colour with fewer (`Kd 0.5`, allowed by the format: missing channels repeat the first) is
/// completed, and colours that do not start with a number (`spectral`, `xyz`) are dropped.
fn sanitize_mtl(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let keyword = words.next().unwrap_or_default();
        if !matches!(keyword, "Ka" | "Kd" | "Ks" | "Ke") {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let values = words.map(str::parse::<f32>).collect::<Vec<_>>();
        if let [Ok(r), rest @ ..] = values.as_slice() {
            let channel = |i: usize| rest.get(i).and_then(|v| v.as_ref().ok()).unwrap_or(r);
            let _ = writeln!(out, "{keyword} {r} {} {}", channel(0), channel(1));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Building the mesh

/// Turns tobj's output into voxgen's [`Mesh`].
fn build_mesh(path: &Path, prepared: &Prepared, parsed: Parsed) -> Mesh {
    let mut images = FileImageCache::new();
    let mut materials = parsed
        .materials
        .iter()
        .zip(&parsed.textures)
        .map(|(m, t)| convert_material(path, m, t.as_ref(), &mut images))
        .collect::<Vec<_>>();
    let mut default_material = None;
    let mut triangulator = Triangulator::default();
    let mut triangles = Vec::new();
    for model in &parsed.models {
        let material = match model.mesh.material_id.filter(|&i| i < materials.len()) {
            Some(i) => i,
            None => *default_material.get_or_insert_with(|| {
                materials.push(Material::default());
                materials.len() - 1
            }),
        };
        let textured = materials[material].texture.is_some();
        let source = Source { mesh: &model.mesh, prepared, textured };
        source.triangles(material, &mut triangulator, &mut triangles);
    }
    Mesh { triangles, materials, images: images.images }
}

/// Converts one MTL material: `Kd` as linear RGB (as Blender reads it), `d` (or `1 - Tr`) as
/// alpha, and the `map_Kd` texture decoded when it can be read.
fn convert_material(
    mesh: &Path,
    material: &tobj::Material,
    texture: Option<&MapKd>,
    images: &mut FileImageCache,
) -> Material {
    let base = Material::default().base_color;
    let [r, g, b] = material.diffuse.unwrap_or([base[0], base[1], base[2]]);
    let transparency = material.unknown_param.get("Tr").and_then(|t| t.parse::<f32>().ok());
    let alpha = material.dissolve.or(transparency.map(|t| 1.0 - t)).unwrap_or(1.0);
    let texture = texture.and_then(|map| {
        let file = &map.file;
        let on_error = |reason: &str| {
            tracing::warn!(
                "{}: texture {} unreadable ({reason}); using the base colour of {:?}",
                mesh.display(),
                file.display(),
                material.name
            )
        };
        let image = images.get_or_load(file.clone(), || tex::load_file(file), on_error)?;
        let wrap = if map.clamp { Wrap::ClampToEdge } else { Wrap::Repeat };
        Some(TextureRef { image, wrap_u: wrap, wrap_v: wrap, transform: map.transform })
    });
    Material { name: material.name.clone(), base_color: [r, g, b, alpha.clamp(0.0, 1.0)], texture }
}

/// One tobj mesh with what is needed to read its corners.
struct Source<'a> {
    mesh: &'a tobj::Mesh,
    prepared: &'a Prepared,
    /// Whether the material has a texture (only then are UVs kept).
    textured: bool,
}

impl Source<'_> {
    /// Appends this mesh's polygons, triangulated, to `out`.
    fn triangles(&self, material: usize, triangulator: &mut Triangulator, out: &mut Vec<Triangle>) {
        let (indices, arities) = (&self.mesh.indices, &self.mesh.face_arities);
        // tobj leaves the arity list empty when every face is a triangle.
        let faces = if arities.is_empty() { indices.len() / 3 } else { arities.len() };
        let mut corners = Vec::new();
        let mut start = 0;
        for face in 0..faces {
            let arity = arities.get(face).map_or(3, |&n| n as usize);
            let end = start + arity;
            if end > indices.len() {
                break;
            }
            corners.clear();
            corners.extend((start..end).map(|c| self.position(c)));
            for [a, b, c] in triangulator.run(&corners) {
                out.push(self.triangle([start + a, start + b, start + c], material));
            }
            start = end;
        }
    }

    /// Builds the triangle through the given corners (positions in the face-corner list).
    fn triangle(&self, corners: [usize; 3], material: usize) -> Triangle {
        let colors = corners.map(|c| self.color(c));
        let colors =
            colors.iter().any(Option::is_some).then(|| colors.map(|c| c.unwrap_or([1.0; 4])));
        let uvs = corners.map(|c| self.uv(c));
        let uvs = (self.textured && uvs.iter().all(Option::is_some))
            .then(|| uvs.map(|uv| uv.unwrap_or_default()));
        Triangle {
            positions: corners.map(|c| y_up_to_z_up(self.position(c))),
            colors,
            uvs,
            material,
        }
    }

    /// Position of face corner `corner` in the file's Y-up frame.
    fn position(&self, corner: usize) -> [f32; 3] {
        let i = self.mesh.indices[corner] as usize * 3;
        match self.mesh.positions.get(i..i + 3) {
            Some(&[x, y, z]) => [x, y, z],
            _ => [f32::NAN; 3],
        }
    }

    /// Linear colour of face corner `corner`, if its vertex has one (stored as sRGB in OBJ).
    fn color(&self, corner: usize) -> Option<[f32; 4]> {
        if !self.prepared.colors {
            return None;
        }
        let i = self.mesh.indices[corner] as usize * 3;
        match self.mesh.vertex_color.get(i..i + 3) {
            Some(&[r, g, b]) if !(r.is_nan() || g.is_nan() || b.is_nan()) => {
                let c = |v: f32| srgb_to_linear(v.clamp(0.0, 1.0));
                Some([c(r), c(g), c(b), 1.0])
            }
            _ => None,
        }
    }

    /// Texture coordinate of face corner `corner` with v flipped (v = 0 at the image top).
    fn uv(&self, corner: usize) -> Option<[f32; 2]> {
        let i = *self.mesh.texcoord_indices.get(corner)? as usize * 2;
        match self.mesh.texcoords.get(i..i + 2) {
            Some(&[u, v]) if u.is_finite() && v.is_finite() => Some([u, 1.0 - v]),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Triangulation

/// Splits polygons into triangles by ear clipping on each polygon's best-fit plane, keeping the
/// polygon's winding. Reuses its buffers between polygons.
#[derive(Default)]
pub(crate) struct Triangulator {
    earcut: Earcut<f64>,
    flat: Vec<[f64; 2]>,
    spatial: Vec<[f64; 3]>,
    indices: Vec<u32>,
}

impl Triangulator {
    /// Triangles of the polygon `corners` as index triples into `corners`.
    pub(crate) fn run(&mut self, corners: &[[f32; 3]]) -> Vec<[usize; 3]> {
        let n = corners.len();
        if n < 3 {
            return Vec::new();
        }
        if n == 3 {
            return vec![[0, 1, 2]];
        }
        self.spatial.clear();
        self.spatial.extend(corners.iter().map(|p| p.map(f64::from)));
        let finite = self.spatial.iter().flatten().all(|c| c.is_finite());
        if !finite || !earcut::utils3d::project3d_to_2d(&self.spatial, n, &mut self.flat) {
            return fan(n);
        }
        self.earcut.earcut(self.flat.iter().copied(), &[] as &[u32], &mut self.indices);
        if self.indices.is_empty() {
            return fan(n);
        }
        let normal = newell_normal(&self.spatial);
        self.indices
            .chunks_exact(3)
            .map(|t| {
                let tri = [t[0] as usize, t[1] as usize, t[2] as usize];
                let own = triangle_normal(tri.map(|i| self.spatial[i]));
                if dot(own, normal) < 0.0 {
                    [tri[0], tri[2], tri[1]]
                } else {
                    tri
                }
            })
            .collect()
    }
}

/// A fan from the first corner: the fallback for polygons with no usable plane.
fn fan(n: usize) -> Vec<[usize; 3]> {
    (1..n - 1).map(|i| [0, i, i + 1]).collect()
}

/// The (unnormalised) normal of a polygon by Newell's method; its direction follows the winding.
fn newell_normal(points: &[[f64; 3]]) -> [f64; 3] {
    let mut n = [0.0; 3];
    for (i, p) in points.iter().enumerate() {
        let q = points[(i + 1) % points.len()];
        n[0] += (p[1] - q[1]) * (p[2] + q[2]);
        n[1] += (p[2] - q[2]) * (p[0] + q[0]);
        n[2] += (p[0] - q[0]) * (p[1] + q[1]);
    }
    n
}

/// The cross product normal of a triangle.
fn triangle_normal([a, b, c]: [[f64; 3]; 3]) -> [f64; 3] {
    let u = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
    let v = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
    [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]]
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(points: &[[f32; 3]], tris: &[[usize; 3]]) -> f64 {
        tris.iter()
            .map(|t| {
                let n = triangle_normal(t.map(|i| points[i].map(f64::from)));
                dot(n, n).sqrt() / 2.0
            })
            .sum()
    }

    #[test]
    fn concave_polygon_is_ear_clipped_not_fanned() {
        // An L shape in the XZ plane: a fan from corner 0 would cover the notch.
        let l = [
            [0.0, 0.0, 0.0],
            [2.0, 0.0, 0.0],
            [2.0, 0.0, 1.0],
            [1.0, 0.0, 1.0],
            [1.0, 0.0, 2.0],
            [0.0, 0.0, 2.0],
        ];
        let tris = Triangulator::default().run(&l);
        assert_eq!(tris.len(), 4);
        assert!((area(&l, &tris) - 3.0).abs() < 1e-9);
        let normal = newell_normal(&l.map(|p| p.map(f64::from)));
        for t in &tris {
            assert!(dot(triangle_normal(t.map(|i| l[i].map(f64::from))), normal) > 0.0);
        }
    }

    #[test]
    fn tilted_quad_keeps_its_winding() {
        let quad = [[0.0, 0.0, 0.0], [1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 1.0]];
        let tris = Triangulator::default().run(&quad);
        assert_eq!(tris.len(), 2);
        assert!((area(&quad, &tris) - 2f64.sqrt()).abs() < 1e-6);
    }

    #[test]
    fn degenerate_polygons_fall_back_to_a_fan() {
        let line = [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [2.0, 0.0, 0.0], [3.0, 0.0, 0.0]];
        assert_eq!(Triangulator::default().run(&line), vec![[0, 1, 2], [0, 2, 3]]);
        let nan = [[f32::NAN; 3], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]];
        assert_eq!(Triangulator::default().run(&nan).len(), 2);
    }

    #[test]
    fn indices_resolve_relative_and_reject_zero_and_overflow() {
        assert_eq!(resolve_index("2", 3, "vertex"), Ok(2));
        assert_eq!(resolve_index("-1", 3, "vertex"), Ok(3));
        assert_eq!(resolve_index("-3", 3, "vertex"), Ok(1));
        assert!(resolve_index("-4", 3, "vertex").unwrap_err().contains("out of range"));
        assert!(resolve_index("0", 3, "vertex").unwrap_err().contains("index 0"));
        assert!(resolve_index("4", 3, "vertex").unwrap_err().contains("out of range"));
        assert!(resolve_index("x", 3, "vertex").is_err());
        assert!(resolve_index("-9223372036854775808", 3, "vertex").is_err());
    }

    #[test]
    fn floats_are_read_like_strtod() {
        assert_eq!(lenient_float(".5"), Some(0.5));
        assert_eq!(lenient_float("-.5"), Some(-0.5));
        assert_eq!(lenient_float("+2.e1"), Some(20.0));
        assert_eq!(lenient_float("3.1+e2"), Some(3.1));
        assert_eq!(lenient_float("1E2"), Some(100.0));
        assert_eq!(lenient_float("abc"), None);
    }

    #[test]
    fn mtllib_lists_split_on_unescaped_spaces() {
        let dir = Path::new("/nonexistent");
        assert_eq!(mtllib_names("a.mtl b.mtl", dir), ["a.mtl", "b.mtl"]);
        assert_eq!(mtllib_names("a.mtl my\\ file.mtl", dir), ["a.mtl", "my file.mtl"]);
    }

    #[test]
    fn texture_options_are_read_and_skipped() {
        let file = |rest| TextureStatement::parse(rest).map(|s| s.file);
        assert_eq!(file("texture 01.png"), Some("texture 01.png"));
        assert_eq!(file("-bm 2 bump 01.png"), Some("bump 01.png"));
        assert_eq!(file("-o 1 t.png"), Some("t.png"));
        assert_eq!(file("-blendu"), None);
        let s = TextureStatement::parse("-o 0.25 0.5 -s 2 4 1 -clamp on t.png").unwrap();
        assert_eq!(
            s,
            TextureStatement { file: "t.png", clamp: true, offset: [0.25, 0.5], scale: [2.0, 4.0] }
        );
        // OBJ v = 0 (image bottom, voxgen v = 1) scales and offsets to OBJ v = 0.5: voxgen 0.5.
        let m = s.transform();
        assert_eq!(m, [[2.0, 0.0, 0.25], [0.0, 4.0, -3.5]]);
        assert_eq!(m[1][1] * 1.0 + m[1][2], 0.5);
    }

    #[test]
    fn utf16_with_bom_is_transcoded() {
        let text = "v 1 2 3\n";
        let be = [0xFE, 0xFF]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect::<Vec<_>>();
        let le = [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect::<Vec<_>>();
        assert_eq!(decode_text(&be), text);
        assert_eq!(decode_text(&le), text);
        assert_eq!(decode_text(b"\xEF\xBB\xBFv 1 2 3\n"), text);
    }

    #[test]
    fn single_value_colours_are_expanded_for_tobj() {
        let text = sanitize_mtl("newmtl a\nKd 0.5\nKs spectral file.rfl\nKa 1 0\nKe\nKd 1 0 0.5\n");
        assert_eq!(text, "newmtl a\nKd 0.5 0.5 0.5\nKa 1 0 1\nKd 1 0 0.5\n");
    }
}
