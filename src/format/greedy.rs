//! Surface extraction for mesh formats: exposed voxel faces, greedily merged, then stitched so the
//! triangle mesh is watertight with no T-junctions.
//!
//! A face is exposed when its voxel is filled and the neighbour across it is empty or outside the
//! grid. [`quads`] merges exposed faces of one colour within one plane and direction into
//! rectangles. Merged rectangles of different sizes meet along edges where one rectangle's
//! corner lies inside the other's side (a T-junction), which leaves hairline cracks in renderers
//! and breaks edge-based tools. [`surface`] therefore inserts every such corner into the side it
//! lies on and triangulates each rectangle as a fan around its centre; a rectangle with nothing
//! inserted becomes two triangles. No triangle is degenerate: the centre is never on a side.

use std::collections::HashMap;

use crate::voxel::VoxelGrid;

/// A merged rectangle of exposed faces, all of one colour, in the plane `axis = plane`.
///
/// The rectangle spans `min..max` along the two other axes, taken in cyclic order
/// (`u = (axis + 1) % 3`, `v = (axis + 2) % 3`), in voxel units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quad {
    /// Axis the face looks along: 0 = x, 1 = y, 2 = z.
    pub axis: usize,
    /// True when the outward normal points along `+axis`.
    pub positive: bool,
    /// Coordinate of the face plane along `axis`.
    pub plane: u32,
    /// Lower corner along `(u, v)`.
    pub min: [u32; 2],
    /// Upper corner along `(u, v)`, exclusive.
    pub max: [u32; 2],
    /// sRGB colour of every face in the rectangle.
    pub color: [u8; 3],
}

impl Quad {
    /// Area in voxel faces.
    pub fn area(&self) -> u64 {
        u64::from(self.max[0] - self.min[0]) * u64::from(self.max[1] - self.min[1])
    }

    /// The corner at `(u, v)` in grid coordinates.
    fn point(&self, u: u32, v: u32) -> [i32; 3] {
        let mut p = [0i32; 3];
        p[self.axis] = self.plane as i32;
        p[(self.axis + 1) % 3] = u as i32;
        p[(self.axis + 2) % 3] = v as i32;
        p
    }

    /// The four corners, counter-clockwise seen from outside.
    fn corners(&self) -> [[i32; 3]; 4] {
        let ([u0, v0], [u1, v1]) = (self.min, self.max);
        // (u, v, axis) is right-handed, so this order turns counter-clockwise about +axis.
        let ccw = [self.point(u0, v0), self.point(u1, v0), self.point(u1, v1), self.point(u0, v1)];
        if self.positive {
            ccw
        } else {
            [ccw[0], ccw[3], ccw[2], ccw[1]]
        }
    }

    /// Outward unit normal.
    pub fn normal(&self) -> [i8; 3] {
        let mut n = [0i8; 3];
        n[self.axis] = if self.positive { 1 } else { -1 };
        n
    }
}

/// All exposed faces of `grid`, merged greedily per plane, direction and colour.
pub fn quads(grid: &VoxelGrid) -> Vec<Quad> {
    let mut out = Vec::new();
    let cells = grid.to_cells();
    for axis in 0..3 {
        for positive in [false, true] {
            for layer in 0..grid.dims()[axis] {
                let mut mask = exposed_mask(&cells, grid.dims(), axis, positive, layer);
                let plane = (layer + usize::from(positive)) as u32;
                merge_mask(&mut mask, grid, axis, |min, max, color| {
                    out.push(Quad { axis, positive, plane, min, max, color });
                });
            }
        }
    }
    out
}

/// The colours of the faces of voxel layer `layer` (along `axis`) that look out in the given
/// direction onto an empty cell, indexed `u + nu * v`; `cells` is the grid of size `dims`,
/// x-fastest.
fn exposed_mask(
    cells: &[Option<[u8; 3]>],
    dims: [usize; 3],
    axis: usize,
    positive: bool,
    layer: usize,
) -> Vec<Option<[u8; 3]>> {
    let (ua, va) = ((axis + 1) % 3, (axis + 2) % 3);
    let stride = [1, dims[0], dims[0] * dims[1]];
    // The neighbour across the face, or `None` when the face lies on the grid border.
    let beyond = |i: usize| match positive {
        true => (layer + 1 < dims[axis]).then(|| i + stride[axis]),
        false => (layer > 0).then(|| i - stride[axis]),
    };
    let mut mask = vec![None; dims[ua] * dims[va]];
    for v in 0..dims[va] {
        for u in 0..dims[ua] {
            let i = layer * stride[axis] + u * stride[ua] + v * stride[va];
            let Some(color) = cells[i] else { continue };
            if beyond(i).is_none_or(|j| cells[j].is_none()) {
                mask[u + dims[ua] * v] = Some(color);
            }
        }
    }
    mask
}

/// Covers the mask with rectangles of one colour: grow along `u` first, then along `v` while the
/// whole row matches. Calls `emit(min, max, colour)` for each and clears what it covers.
fn merge_mask(
    mask: &mut [Option<[u8; 3]>],
    grid: &VoxelGrid,
    axis: usize,
    mut emit: impl FnMut([u32; 2], [u32; 2], [u8; 3]),
) {
    let (nu, nv) = (grid.dims()[(axis + 1) % 3], grid.dims()[(axis + 2) % 3]);
    for v in 0..nv {
        for u in 0..nu {
            let Some(color) = mask[u + nu * v] else { continue };
            let width = (u..nu).take_while(|&x| mask[x + nu * v] == Some(color)).count();
            let row_matches = |y: usize| (u..u + width).all(|x| mask[x + nu * y] == Some(color));
            let height = (v..nv).take_while(|&y| row_matches(y)).count();
            for y in v..v + height {
                mask[u + nu * y..u + width + nu * y].fill(None);
            }
            let (min, max) = ([u as u32, v as u32], [(u + width) as u32, (v + height) as u32]);
            emit(min, max, color);
        }
    }
}

/// A triangle mesh in half-voxel units (so rectangle centres are exact integers).
#[derive(Clone, Debug, Default)]
pub struct Surface {
    /// Vertex positions, in half voxels: grid point `p` is `2 * p`.
    pub positions: Vec<[i32; 3]>,
    /// Outward unit normal per vertex (constant over each rectangle).
    pub normals: Vec<[i8; 3]>,
    /// sRGB colour per vertex.
    pub colors: Vec<[u8; 3]>,
    /// Triangles, three vertex indices each, counter-clockwise seen from outside.
    pub indices: Vec<u32>,
}

/// The watertight, T-junction-free triangle surface of `grid`.
pub fn surface(grid: &VoxelGrid) -> Surface {
    let quads = quads(grid);
    let lines = CornerLines::new(&quads);
    let mut mesh = Surface::default();
    for quad in &quads {
        let outline = outline(quad, &lines);
        add_polygon(&mut mesh, quad, &outline);
    }
    mesh
}

/// Every quad corner, filed by the three axis-aligned lattice lines through it, so the corners
/// lying on a side are found by a binary search on the side's line.
struct CornerLines {
    /// `(axis, the two other coordinates)` → sorted, distinct coordinates along `axis`.
    lines: HashMap<(usize, [i32; 2]), Vec<i32>>,
}

impl CornerLines {
    fn new(quads: &[Quad]) -> Self {
        let mut lines: HashMap<(usize, [i32; 2]), Vec<i32>> = HashMap::new();
        for p in quads.iter().flat_map(Quad::corners) {
            for axis in 0..3 {
                lines.entry(Self::key(p, axis)).or_default().push(p[axis]);
            }
        }
        for along in lines.values_mut() {
            along.sort_unstable();
            along.dedup();
        }
        CornerLines { lines }
    }

    /// The line along `axis` through `p`.
    fn key(p: [i32; 3], axis: usize) -> (usize, [i32; 2]) {
        (axis, [p[(axis + 1) % 3], p[(axis + 2) % 3]])
    }

    /// Corners strictly between `from` and `to` (which differ along one axis), in walking order.
    fn between(&self, from: [i32; 3], to: [i32; 3]) -> Vec<[i32; 3]> {
        let axis = (0..3).find(|&a| from[a] != to[a]).unwrap_or(0);
        let (lo, hi) = (from[axis].min(to[axis]), from[axis].max(to[axis]));
        let Some(along) = self.lines.get(&Self::key(from, axis)) else { return Vec::new() };
        let start = along.partition_point(|&c| c <= lo);
        let end = along.partition_point(|&c| c < hi);
        let mut points: Vec<[i32; 3]> = along[start..end.max(start)]
            .iter()
            .map(|&c| {
                let mut p = from;
                p[axis] = c;
                p
            })
            .collect();
        if from[axis] > to[axis] {
            points.reverse();
        }
        points
    }
}

/// The quad's outline, counter-clockwise from outside, with every other quad's corner that lies
/// on one of its sides inserted in order.
fn outline(quad: &Quad, lines: &CornerLines) -> Vec<[i32; 3]> {
    let ends = quad.corners();
    let mut points = Vec::with_capacity(4);
    for (i, &from) in ends.iter().enumerate() {
        points.push(from);
        points.extend(lines.between(from, ends[(i + 1) % 4]));
    }
    points
}

/// Appends a rectangle's outline as triangles: two for a plain rectangle, else a fan from an
/// added centre vertex.
fn add_polygon(mesh: &mut Surface, quad: &Quad, outline: &[[i32; 3]]) {
    let base = mesh.positions.len() as u32;
    let mut push = |p: [i32; 3]| {
        mesh.positions.push(p);
        mesh.normals.push(quad.normal());
        mesh.colors.push(quad.color);
    };
    outline.iter().for_each(|p| push(p.map(|c| 2 * c)));
    let n = outline.len() as u32;
    if n == 4 {
        mesh.indices.extend([base, base + 1, base + 2, base, base + 2, base + 3]);
        return;
    }
    let [a, _, c, _] = quad.corners();
    push([a[0] + c[0], a[1] + c[1], a[2] + c[2]]);
    let centre = base + n;
    for i in 0..n {
        mesh.indices.extend([centre, base + i, base + (i + 1) % n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn grid(
        dims: [usize; 3],
        filled: impl Fn(usize, usize, usize) -> Option<[u8; 3]>,
    ) -> VoxelGrid {
        let mut g = VoxelGrid::new(dims).unwrap();
        for z in 0..dims[2] {
            for y in 0..dims[1] {
                for x in 0..dims[0] {
                    g.set(x, y, z, filled(x, y, z));
                }
            }
        }
        g
    }

    /// Exposed unit faces counted one by one.
    fn exposed_faces(g: &VoxelGrid) -> u64 {
        let mut n = 0;
        for ([x, y, z], _) in g.voxels() {
            let p = [x as i64, y as i64, z as i64];
            for axis in 0..3 {
                for step in [-1, 1] {
                    let mut q = p;
                    q[axis] += step;
                    n += u64::from(!g.is_filled(q[0], q[1], q[2]));
                }
            }
        }
        n
    }

    /// Undirected edge use counts and directed-edge balance.
    /// Use count per edge between two points.
    type EdgeMap = HashMap<([i32; 3], [i32; 3]), i32>;

    fn edge_counts(m: &Surface) -> (EdgeMap, bool) {
        let mut undirected = HashMap::new();
        let mut directed = EdgeMap::new();
        for t in m.indices.chunks(3) {
            for i in 0..3 {
                let (a, b) = (m.positions[t[i] as usize], m.positions[t[(i + 1) % 3] as usize]);
                *undirected.entry(if a < b { (a, b) } else { (b, a) }).or_insert(0) += 1;
                *directed.entry((a, b)).or_insert(0) += 1;
            }
        }
        let balanced = directed.iter().all(|(&(a, b), &n)| directed.get(&(b, a)) == Some(&n));
        (undirected, balanced)
    }

    /// Twice the triangle area, in half-voxel units squared.
    fn doubled_area(m: &Surface) -> i64 {
        m.indices
            .chunks(3)
            .map(|t| {
                let [a, b, c] = [0, 1, 2].map(|i| m.positions[t[i] as usize].map(i64::from));
                let (u, v) = ([0, 1, 2].map(|i| b[i] - a[i]), [0, 1, 2].map(|i| c[i] - a[i]));
                let cross = [
                    u[1] * v[2] - u[2] * v[1],
                    u[2] * v[0] - u[0] * v[2],
                    u[0] * v[1] - u[1] * v[0],
                ];
                let n = m.normals[t[0] as usize].map(i64::from);
                // Axis-aligned triangles: the cross product is along the normal; its sign is the
                // winding, which must be counter-clockwise from outside.
                let along = cross[0] * n[0] + cross[1] * n[1] + cross[2] * n[2];
                assert!(along > 0, "triangle {t:?} is degenerate or wound inwards");
                along
            })
            .sum()
    }

    #[test]
    fn a_cube_is_six_quads() {
        let g = grid([3, 3, 3], |_, _, _| Some([1, 2, 3]));
        let q = quads(&g);
        assert_eq!(q.len(), 6);
        assert!(q.iter().all(|q| q.area() == 9));
        let m = surface(&g);
        assert_eq!(m.indices.len(), 6 * 6);
    }

    #[test]
    fn two_colours_split_a_face() {
        let g = grid([2, 1, 1], |x, _, _| Some(if x == 0 { [255, 0, 0] } else { [0, 0, 255] }));
        let q = quads(&g);
        // The shared inner face is hidden; top, bottom, front and back split by colour.
        assert_eq!(q.len(), 2 + 4 * 2);
        assert_eq!(q.iter().map(Quad::area).sum::<u64>(), exposed_faces(&g));
    }

    #[test]
    fn step_shape_gets_no_t_junctions() {
        // A 4x4 floor with one 2x2 block on a corner: the floor top splits into rectangles whose
        // corners lie on the sides of the big bottom face and of the side faces.
        let g = grid([4, 4, 2], |x, y, z| (z == 0 || (x < 2 && y < 2)).then_some([9, 9, 9]));
        let m = surface(&g);
        let (edges, balanced) = edge_counts(&m);
        assert!(balanced);
        assert!(edges.values().all(|&n| n == 2), "{edges:?}");
        assert_eq!(doubled_area(&m), 2 * 4 * exposed_faces(&g) as i64);
    }

    #[test]
    fn holes_and_tunnels_stay_closed() {
        // A 6x6x6 block with a tunnel through x and a pit from the top.
        let g = grid([6, 6, 6], |x, y, z| {
            let tunnel = (2..4).contains(&y) && (2..4).contains(&z);
            let pit = (1..3).contains(&x) && (1..5).contains(&y) && z >= 4;
            (!tunnel && !pit).then_some([(x * 40) as u8, (y * 40) as u8, (z * 40) as u8])
        });
        let m = surface(&g);
        let (edges, balanced) = edge_counts(&m);
        assert!(balanced);
        assert!(edges.values().all(|&n| n == 2));
        assert_eq!(doubled_area(&m), 8 * exposed_faces(&g) as i64);
    }

    #[test]
    fn random_shapes_have_balanced_edges_and_exact_area() {
        // Random fill creates edge-only contacts (non-manifold edges used four times); those still
        // pair every directed edge with its reverse, and the area must match face by face.
        let mut state = 0x9e3779b97f4a7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let cells: Vec<u64> = (0..7 * 5 * 6).map(|_| next()).collect();
        let g = grid([7, 5, 6], |x, y, z| {
            let r = cells[x + 7 * (y + 5 * z)];
            (!r.is_multiple_of(3)).then_some([(r >> 8) as u8 & 3, 0, 0])
        });
        let m = surface(&g);
        let (edges, balanced) = edge_counts(&m);
        assert!(balanced);
        assert!(edges.values().all(|&n| n % 2 == 0));
        assert_eq!(doubled_area(&m), 8 * exposed_faces(&g) as i64);
    }
}
