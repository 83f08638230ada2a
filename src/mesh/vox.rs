//! MagicaVoxel `.vox` reader: every model placed by the scene graph, coloured by the palette.
//!
//! MagicaVoxel's transforms put a model's *centre* at the translation: a voxel at `v` in a model
//! of size `s` sits at `R * (v + 1/2 - s/2) + t`. Computing in doubled integer coordinates keeps
//! this exact, and the voxel is the cell holding that centre. Files without a scene graph place
//! their models side by side along x. The frame is MagicaVoxel's own (right-handed, Z-up).

use std::collections::HashMap;
use std::path::Path;

use dot_vox::{DotVoxData, SceneNode, DEFAULT_PALETTE};

use super::read_file;
use super::types::Voxels;
use crate::error::{Error, Result};

/// Deepest scene graph nesting followed; deeper branches are skipped.
const MAX_DEPTH: usize = 64;
/// Most scene nodes visited; more means a cyclic or exploding scene graph.
const MAX_VISITS: usize = 1 << 20;
/// Most voxels the scene may place in all (four full 256³ models): a small file can list one
/// big model a million times, which would take hours and gigabytes to place.
const MAX_PLACED: usize = 1 << 26;

/// A model placed in the scene: `world = rotation * local + translation` (centre-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Placement {
    model: usize,
    rotation: [[i32; 3]; 3],
    translation: [i32; 3],
}

const IDENTITY: [[i32; 3]; 3] = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];

/// Reads the `.vox` file at `path` into voxels with sRGB colours.
pub(crate) fn load(path: &Path) -> Result<Voxels> {
    let bytes = read_file(path)?;
    let data = dot_vox::load_bytes(&bytes)
        .map_err(|_| Error::parse(path, "not a magicavoxel .vox file"))?;
    let placements =
        if data.scenes.is_empty() { side_by_side(&data) } else { walk_scene(path, &data)? };
    let voxels = collect(&data, &placements).ok_or_else(|| {
        Error::parse(path, format!("the scene places more than {MAX_PLACED} voxels"))
    })?;
    if voxels.points.is_empty() {
        return Err(Error::Empty { path: path.to_path_buf(), what: "no voxels".into() });
    }
    Ok(voxels)
}

/// Placements for a file without a scene graph: each model's corner at the origin, models
/// one voxel apart along x (empty models take no room).
fn side_by_side(data: &DotVoxData) -> Vec<Placement> {
    let mut x = 0i32;
    let mut placements = Vec::new();
    for (index, model) in data.models.iter().enumerate() {
        if model.voxels.is_empty() {
            continue;
        }
        let size = size_of(model);
        let half = size.map(|s| s.div_euclid(2));
        placements.push(Placement {
            model: index,
            rotation: IDENTITY,
            translation: [x.saturating_add(half[0]), half[1], half[2]],
        });
        x = x.saturating_add(size[0]).saturating_add(1);
    }
    placements
}

/// Follows the scene graph from node 0, composing transforms, and lists every shape's model.
fn walk_scene(path: &Path, data: &DotVoxData) -> Result<Vec<Placement>> {
    let mut placements = Vec::new();
    let mut stack = vec![(0u32, IDENTITY, [0i32; 3], 0usize)];
    let mut visits = 0;
    while let Some((node, rotation, translation, depth)) = stack.pop() {
        visits += 1;
        if visits > MAX_VISITS {
            return Err(Error::parse(path, "scene graph is cyclic or too large"));
        }
        if depth > MAX_DEPTH {
            tracing::debug!("{}: scene graph deeper than {MAX_DEPTH}, skipped", path.display());
            continue;
        }
        let Some(scene_node) = data.scenes.get(node as usize) else {
            tracing::debug!("{}: scene node {node} does not exist", path.display());
            continue;
        };
        match scene_node {
            SceneNode::Transform { attributes, frames, child, layer_id } => {
                if is_hidden(attributes) || layer_hidden(data, *layer_id) {
                    continue;
                }
                let frame = frames.first().map(|f| &f.attributes);
                let local_r = frame.and_then(|f| f.get("_r")).map_or(IDENTITY, |r| rotation_of(r));
                let local_t = frame.and_then(|f| f.get("_t")).map_or([0; 3], |t| translation_of(t));
                let r = mat_mul(&rotation, &local_r);
                let t = add(mat_vec(&rotation, local_t), translation);
                stack.push((*child, r, t, depth + 1));
            }
            SceneNode::Group { attributes, children } => {
                if !is_hidden(attributes) {
                    stack.extend(
                        children.iter().rev().map(|&c| (c, rotation, translation, depth + 1)),
                    );
                }
            }
            SceneNode::Shape { models, .. } => {
                // A shape with several models is an animation; its first frame is used.
                let Some(first) = models.first() else { continue };
                let model = first.model_id as usize;
                if model < data.models.len() {
                    placements.push(Placement { model, rotation, translation });
                } else {
                    tracing::debug!("{}: shape refers to missing model {model}", path.display());
                }
            }
        }
    }
    Ok(placements)
}

/// True when a node's attributes mark it hidden.
fn is_hidden(attributes: &dot_vox::Dict) -> bool {
    attributes.get("_hidden").is_some_and(|h| h == "1")
}

/// True when layer `id` exists and is hidden.
fn layer_hidden(data: &DotVoxData, id: u32) -> bool {
    data.layers.get(id as usize).is_some_and(|layer| layer.hidden())
}

/// Decodes MagicaVoxel's rotation byte (`_r`): bits 0-1 and 2-3 give the column of the non-zero
/// entry in rows 0 and 1 (row 2 takes the remaining column), bits 4-6 the sign of each row.
/// An invalid value gives the identity.
fn rotation_of(written: &str) -> [[i32; 3]; 3] {
    let Ok(byte) = written.trim().parse::<u8>() else { return IDENTITY };
    let first = usize::from(byte & 3);
    let second = usize::from((byte >> 2) & 3);
    if first == second || first == 3 || second == 3 {
        tracing::debug!("invalid .vox rotation {byte}, using the identity");
        return IDENTITY;
    }
    let third = 3 - first - second;
    let sign = |bit: u8| if byte & (1 << bit) == 0 { 1 } else { -1 };
    let mut m = [[0; 3]; 3];
    m[0][first] = sign(4);
    m[1][second] = sign(5);
    m[2][third] = sign(6);
    m
}

/// Parses a translation (`_t`, "x y z"); anything unreadable is the origin.
fn translation_of(written: &str) -> [i32; 3] {
    let values = written.split_whitespace().map(str::parse).collect::<Result<Vec<i32>, _>>();
    match values.as_deref() {
        Ok(&[x, y, z]) => [x, y, z],
        _ => [0; 3],
    }
}

fn mat_mul(a: &[[i32; 3]; 3], b: &[[i32; 3]; 3]) -> [[i32; 3]; 3] {
    std::array::from_fn(|r| std::array::from_fn(|c| (0..3).map(|k| a[r][k] * b[k][c]).sum()))
}

fn mat_vec(m: &[[i32; 3]; 3], v: [i32; 3]) -> [i32; 3] {
    std::array::from_fn(|r| {
        (0..3).map(|k| m[r][k].saturating_mul(v[k])).fold(0, i32::saturating_add)
    })
}

fn add(a: [i32; 3], b: [i32; 3]) -> [i32; 3] {
    std::array::from_fn(|i| a[i].saturating_add(b[i]))
}

/// A model's size as signed integers.
fn size_of(model: &dot_vox::Model) -> [i32; 3] {
    [model.size.x, model.size.y, model.size.z].map(|s| i32::try_from(s).unwrap_or(i32::MAX))
}

/// The cell of voxel `v` of a model of size `size` under `placement`, computed on doubled
/// coordinates so that the centre-based transform stays exact.
fn place(v: [i32; 3], size: [i32; 3], placement: &Placement) -> [i32; 3] {
    let centred: [i32; 3] = std::array::from_fn(|i| 2 * v[i] + 1 - size[i]);
    let doubled_t = placement.translation.map(|t| t.saturating_mul(2));
    add(mat_vec(&placement.rotation, centred), doubled_t).map(|c| c.div_euclid(2))
}

/// Every placed voxel with its palette colour; a cell filled twice keeps the later voxel.
/// `None` when the placements add up to more than [`MAX_PLACED`] voxels.
fn collect(data: &DotVoxData, placements: &[Placement]) -> Option<Voxels> {
    let placed = placements.iter().map(|p| data.models[p.model].voxels.len());
    if placed.fold(0usize, usize::saturating_add) > MAX_PLACED {
        return None;
    }
    let mut points: Vec<([i32; 3], [u8; 3])> = Vec::new();
    let mut cells: HashMap<[i32; 3], usize> = HashMap::new();
    for placement in placements {
        let model = &data.models[placement.model];
        let size = size_of(model);
        for voxel in &model.voxels {
            let v = [voxel.x, voxel.y, voxel.z].map(i32::from);
            let cell = place(v, size, placement);
            // dot_vox already turned the file's 1-based colour index into a 0-based one.
            let index = usize::from(voxel.i);
            let c = data.palette.get(index).or_else(|| DEFAULT_PALETTE.get(index));
            let color = c.map_or([255, 255, 255], |c| [c.r, c.g, c.b]);
            match cells.get(&cell) {
                Some(&slot) => points[slot].1 = color,
                None => {
                    cells.insert(cell, points.len());
                    points.push((cell, color));
                }
            }
        }
    }
    Some(Voxels { points })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placing_too_many_voxels_is_refused() {
        let voxels = (0..=255u8).map(|x| dot_vox::Voxel { x, y: 0, z: 0, i: 1 }).collect();
        let model = dot_vox::Model { size: dot_vox::Size { x: 256, y: 1, z: 1 }, voxels };
        let data = DotVoxData {
            version: 150,
            index_map: vec![],
            models: vec![model],
            palette: vec![],
            materials: vec![],
            scenes: vec![],
            layers: vec![],
        };
        let at = |k: i32| Placement { model: 0, rotation: IDENTITY, translation: [0, k, 0] };
        let fits: Vec<Placement> = (0..1000).map(at).collect();
        assert_eq!(collect(&data, &fits).map(|v| v.points.len()), Some(256_000));
        let count = MAX_PLACED / 256 + 1;
        let too_many: Vec<Placement> = (0..count as i32).map(at).collect();
        assert!(collect(&data, &too_many).is_none());
    }

    #[test]
    fn rotation_bytes_decode_to_signed_permutations() {
        assert_eq!(rotation_of("4"), IDENTITY);
        // Row 0 -> column 1 (+), row 1 -> column 2 (-), row 2 -> column 0 (-).
        let byte = 1 | (2 << 2) | (1 << 5) | (1 << 6);
        assert_eq!(rotation_of(&byte.to_string()), [[0, 1, 0], [0, 0, -1], [-1, 0, 0]]);
        assert_eq!(rotation_of("0"), IDENTITY, "equal columns are invalid");
        assert_eq!(rotation_of("x"), IDENTITY);
    }

    #[test]
    fn translation_centres_the_model() {
        let p = Placement { model: 0, rotation: IDENTITY, translation: [10, 0, 0] };
        // Even size 4: voxel 0 lands two cells before the translation.
        assert_eq!(place([0, 0, 0], [4, 4, 4], &p), [8, -2, -2]);
        assert_eq!(place([3, 3, 3], [4, 4, 4], &p), [11, 1, 1]);
        // Odd size 3: voxel 1 (the centre) lands on the translation.
        assert_eq!(place([1, 1, 1], [3, 3, 3], &p), [10, 0, 0]);
    }

    #[test]
    fn rotation_about_the_centre_keeps_the_model_in_place() {
        // Half a turn about z: a 4-wide model still covers the same cells.
        let r = [[-1, 0, 0], [0, -1, 0], [0, 0, 1]];
        let p = Placement { model: 0, rotation: r, translation: [0, 0, 0] };
        assert_eq!(place([0, 0, 0], [4, 4, 1], &p), [1, 1, 0]);
        assert_eq!(place([3, 3, 0], [4, 4, 1], &p), [-2, -2, 0]);
    }

    #[test]
    fn nested_transforms_compose() {
        let quarter = [[0, -1, 0], [1, 0, 0], [0, 0, 1]];
        let r = mat_mul(&quarter, &quarter);
        assert_eq!(r, [[-1, 0, 0], [0, -1, 0], [0, 0, 1]]);
        assert_eq!(add(mat_vec(&quarter, [1, 0, 0]), [5, 0, 0]), [5, 1, 0]);
    }

    #[test]
    fn translations_parse_or_default() {
        assert_eq!(translation_of("1 -2 3"), [1, -2, 3]);
        assert_eq!(translation_of("1 2"), [0, 0, 0]);
    }
}
