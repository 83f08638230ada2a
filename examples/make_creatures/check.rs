//! Checks on what was generated: every part is a closed, outward-facing surface, and every
//! written file reads back (through `tobj` and `gltf`) to the same closed triangles.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, ensure, Context};
use glam::{Mat4, Vec3};

use crate::creature::Creature;

/// Ok when every directed edge is used exactly once and its reverse too: each edge is shared by
/// exactly two triangles and they agree on orientation.
pub fn closed(tris: impl IntoIterator<Item = [u32; 3]>) -> Result<(), String> {
    let mut uses: HashMap<(u32, u32), u32> = HashMap::new();
    for t in tris {
        for k in 0..3 {
            *uses.entry((t[k], t[(k + 1) % 3])).or_insert(0) += 1;
        }
    }
    for (&(a, b), &n) in &uses {
        if n != 1 || uses.get(&(b, a)) != Some(&1) {
            return Err(format!("edge {a}-{b} used {n} times, reverse {:?}", uses.get(&(b, a))));
        }
    }
    Ok(())
}

/// Checks the creature in memory: closed outward parts, no degenerate triangles, on the ground.
pub fn check_creature(c: &Creature) -> anyhow::Result<()> {
    for part in &c.parts {
        let s = &part.surface;
        let what = || format!("{} part {}", c.name, part.name);
        closed(s.tris.iter().map(|t| t.map(|k| k.p)))
            .map_err(anyhow::Error::msg)
            .with_context(what)?;
        ensure!(s.volume() > 0.0, "{}: faces inward", what());
        let degenerate = s.tris.iter().any(|t| {
            let [a, b, c] = t.map(|k| s.positions[k.p as usize]);
            (b - a).cross(c - a).length() < 1e-10
        });
        ensure!(!degenerate, "{}: degenerate triangle", what());
    }
    let (lo, hi) = c.bounds();
    ensure!(lo.y.abs() < 1e-5, "{}: lowest point at y = {}", c.name, lo.y);
    ensure!((lo.x + hi.x).abs() < 1e-4, "{}: not centred in x", c.name);
    Ok(())
}

/// What a file read back to: triangles and world-space bounds.
#[derive(Debug)]
pub struct ReadBack {
    /// Triangle count.
    pub triangles: usize,
    /// Lowest corner.
    pub lo: Vec3,
    /// Highest corner.
    pub hi: Vec3,
    /// Whether any vertex colours came back.
    pub colors: bool,
    /// Whether any texture coordinates came back.
    pub uvs: bool,
}

impl Default for ReadBack {
    fn default() -> Self {
        let (lo, hi) = (Vec3::splat(f32::MAX), Vec3::splat(f32::MIN));
        ReadBack { triangles: 0, lo, hi, colors: false, uvs: false }
    }
}

impl ReadBack {
    fn grow(&mut self, p: Vec3) {
        (self.lo, self.hi) = (self.lo.min(p), self.hi.max(p));
    }
}

/// Reads an OBJ back with `tobj` and checks each object is closed.
pub fn read_obj(path: &Path) -> anyhow::Result<ReadBack> {
    let options =
        tobj::LoadOptions { triangulate: false, single_index: false, ..Default::default() };
    let (models, materials) = tobj::load_obj(path, &options)?;
    materials.with_context(|| format!("{}: materials", path.display()))?;
    let mut back = ReadBack::default();
    for m in &models {
        let mesh = &m.mesh;
        ensure!(mesh.face_arities.is_empty(), "{}: non-triangle faces", path.display());
        let tris = mesh.indices.chunks(3).map(|t| [t[0], t[1], t[2]]);
        closed(tris)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("{} {}", path.display(), m.name))?;
        for p in mesh.positions.chunks(3) {
            back.grow(Vec3::new(p[0], p[1], p[2]));
        }
        back.triangles += mesh.indices.len() / 3;
        back.colors |= !mesh.vertex_color.is_empty();
        back.uvs |= !mesh.texcoords.is_empty();
    }
    Ok(back)
}

/// Reads a `.gltf` or `.glb` back with `gltf::import`, applies the node transforms and checks
/// each primitive is closed once vertices at the same position are merged.
pub fn read_gltf(path: &Path) -> anyhow::Result<ReadBack> {
    let (doc, buffers, images) = gltf::import(path)?;
    let mut back = ReadBack::default();
    ensure!(images.iter().all(|i| i.width > 0), "{}: empty image", path.display());
    let scene = doc.default_scene().context("no default scene")?;
    let mut stack: Vec<(gltf::Node, Mat4)> = scene.nodes().map(|n| (n, Mat4::IDENTITY)).collect();
    while let Some((node, parent)) = stack.pop() {
        let world = parent * Mat4::from_cols_array_2d(&node.transform().matrix());
        stack.extend(node.children().map(|c| (c, world)));
        for prim in node.mesh().iter().flat_map(|m| m.primitives()) {
            let reader = prim.reader(|b| Some(&buffers[b.index()]));
            let points: Vec<Vec3> =
                reader.read_positions().context("no positions")?.map(Vec3::from).collect();
            let indices: Vec<u32> = match reader.read_indices() {
                Some(i) => i.into_u32().collect(),
                None => bail!("{}: primitive without indices", path.display()),
            };
            let welded = weld(&points);
            closed(indices.chunks(3).map(|t| [t[0], t[1], t[2]].map(|i| welded[i as usize])))
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("{}: primitive not closed", path.display()))?;
            points.iter().for_each(|&p| back.grow(world.transform_point3(p)));
            back.triangles += indices.len() / 3;
            back.colors |= reader.read_colors(0).is_some();
            back.uvs |= reader.read_tex_coords(0).is_some();
        }
    }
    Ok(back)
}

/// Maps each vertex to the first vertex with exactly the same position.
fn weld(points: &[Vec3]) -> Vec<u32> {
    let mut first: HashMap<[u32; 3], u32> = HashMap::new();
    let key = |p: Vec3| p.to_array().map(f32::to_bits);
    points.iter().enumerate().map(|(i, &p)| *first.entry(key(p)).or_insert(i as u32)).collect()
}

/// Checks a read-back file against the creature it came from.
pub fn compare(c: &Creature, back: &ReadBack, file: &Path) -> anyhow::Result<()> {
    let (lo, hi) = c.bounds();
    ensure!(
        back.triangles == c.triangle_count(),
        "{}: {} triangles read back, {} made",
        file.display(),
        back.triangles,
        c.triangle_count()
    );
    let off = (back.lo - lo).abs().max((back.hi - hi).abs()).max_element();
    ensure!(off < 1e-3, "{}: bounds differ by {off}", file.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tetrahedron_is_closed_and_an_open_one_is_not() {
        let tet = [[0, 2, 1], [0, 1, 3], [1, 2, 3], [0, 3, 2]];
        assert_eq!(closed(tet), Ok(()));
        assert!(closed(tet[..3].iter().copied()).is_err());
        let flipped = [[0, 1, 2], [0, 1, 3], [1, 2, 3], [0, 3, 2]];
        assert!(closed(flipped).is_err());
    }
}
