//! Ray casting through voxels: a padded occupancy copy of the occupied box and a 3D DDA
//! (Amanatides and Woo) that finds the first filled cell along a ray, jumping across empty
//! space.

use glam::Vec3;

use super::skip::skip_distances;
use crate::voxel::VoxelGrid;

/// The first filled cell a ray meets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Hit {
    /// The cell, in [`Volume`] coordinates.
    pub cell: [i64; 3],
    /// Axis of the face the ray entered through (0 = x, 1 = y, 2 = z).
    pub axis: usize,
    /// Direction of the face normal along `axis`: +1 or -1.
    pub sign: i64,
    /// Distance along the ray to the entry point.
    pub t: f32,
    /// The entry point, in [`Volume`] coordinates.
    pub point: Vec3,
}

/// Occupancy of a grid's occupied box, copied with one empty cell of padding on every side so
/// that neighbour probes next to any surface stay inside it, plus a radius of empty space
/// around each empty cell that rays can jump across.
///
/// Volume coordinates are grid coordinates shifted by [`Volume::origin`]: the occupied box spans
/// cells `1..=extent[a]` on each axis.
pub(crate) struct Volume {
    /// Grid coordinates of volume cell `(0, 0, 0)`.
    offset: [i64; 3],
    /// Size of the occupied box.
    extent: [i64; 3],
    /// Padded size: `extent + 2`.
    dims: [i64; 3],
    /// Most cells a ray can cross inside the box, which bounds every walk.
    max_steps: i64,
    /// Per padded cell, x-fastest: 0 when filled, else `r + 1` where every cell within
    /// Chebyshev distance `r` is empty (see [`skip_distances`]).
    distance: Vec<u8>,
}

impl Volume {
    /// Copies the occupancy of `grid`'s occupied box; `None` when the grid is empty.
    pub fn new(grid: &VoxelGrid) -> Option<Self> {
        let (lo, hi) = grid.bounds()?;
        let extent = [0, 1, 2].map(|a| (hi[a] - lo[a] + 1) as i64);
        let dims = extent.map(|e| e + 2);
        let offset = lo.map(|l| l as i64 - 1);
        let max_steps = extent.iter().sum::<i64>() + 1;
        let mut volume = Volume { offset, extent, dims, max_steps, distance: Vec::new() };

        let sizes = dims.map(|d| d as usize);
        let mut filled = vec![false; sizes.iter().product()];
        for ([x, y, z], _) in grid.voxels() {
            let cell = [x, y, z];
            filled[volume.index([0, 1, 2].map(|a| cell[a] as i64 - offset[a]))] = true;
        }
        let distance = skip_distances(&filled, sizes);
        volume.distance = distance;
        Some(volume)
    }

    /// Grid coordinates of volume cell `(0, 0, 0)`, as a point.
    pub fn origin(&self) -> Vec3 {
        Vec3::new(self.offset[0] as f32, self.offset[1] as f32, self.offset[2] as f32)
    }

    /// The occupied box in grid coordinates, inclusive.
    pub fn bounds(&self) -> ([usize; 3], [usize; 3]) {
        (self.to_grid([1; 3]), self.to_grid(self.extent))
    }

    /// Grid coordinates of a volume cell; only meaningful for cells inside the occupied box.
    pub fn to_grid(&self, cell: [i64; 3]) -> [usize; 3] {
        let at = |a: usize| (cell[a] + self.offset[a]).max(0) as usize;
        [at(0), at(1), at(2)]
    }

    /// True when volume cell `c` is filled; false outside the padded box.
    #[inline]
    pub fn is_filled(&self, c: [i64; 3]) -> bool {
        // Negative coordinates wrap to huge unsigned ones, so one comparison per axis suffices.
        let inside = (c[0] as u64) < self.dims[0] as u64
            && (c[1] as u64) < self.dims[1] as u64
            && (c[2] as u64) < self.dims[2] as u64;
        inside && self.distance[self.index(c)] == 0
    }

    #[inline]
    fn index(&self, c: [i64; 3]) -> usize {
        (c[0] + self.dims[0] * (c[1] + self.dims[1] * c[2])) as usize
    }

    /// Follows the ray `origin + t * dir` (volume coordinates) to the first filled cell.
    ///
    /// The walk visits the cells the ray crosses one by one (3D DDA), except that from a cell
    /// with skip distance `d > 1` it jumps straight out of the empty cube of radius `d - 1`
    /// around it.
    pub fn cast(&self, origin: Vec3, dir: Vec3) -> Option<Hit> {
        let (t_enter, axis) = self.clip(origin, dir)?;
        let mut walk = Walk::start(origin, dir, t_enter, axis, self.extent);
        for _ in 0..self.max_steps {
            let dist = self.distance[self.index(walk.cell)];
            if dist == 0 {
                let (cell, axis, t) = (walk.cell, walk.axis, walk.t);
                let sign = -walk.step[axis];
                return Some(Hit { cell, axis, sign, t, point: origin + dir * t });
            }
            let inside = if dist == 1 {
                walk.step_once();
                (1..=self.extent[walk.axis]).contains(&walk.cell[walk.axis])
            } else {
                walk.jump(i64::from(dist) - 1);
                self.in_box(walk.cell)
            };
            if !inside {
                return None;
            }
        }
        None
    }

    /// True when volume cell `c` lies in the occupied box (not the padding).
    #[inline]
    fn in_box(&self, c: [i64; 3]) -> bool {
        (1..=self.extent[0]).contains(&c[0])
            && (1..=self.extent[1]).contains(&c[1])
            && (1..=self.extent[2]).contains(&c[2])
    }

    /// Where the ray enters the occupied box and the axis of the entry face; `None` when it
    /// misses. A ray starting inside the box enters at `t = 0`.
    fn clip(&self, origin: Vec3, dir: Vec3) -> Option<(f32, usize)> {
        let (mut t_enter, mut t_exit, mut axis) = (0.0f32, f32::INFINITY, 0);
        for a in 0..3 {
            let (lo, hi) = (1.0, 1.0 + self.extent[a] as f32);
            if dir[a] == 0.0 {
                if origin[a] < lo || origin[a] > hi {
                    return None;
                }
                continue;
            }
            let (t0, t1) = ((lo - origin[a]) / dir[a], (hi - origin[a]) / dir[a]);
            let (near, far) = if t0 < t1 { (t0, t1) } else { (t1, t0) };
            if near > t_enter {
                (t_enter, axis) = (near, a);
            }
            t_exit = t_exit.min(far);
        }
        (t_enter <= t_exit).then_some((t_enter, axis))
    }
}

/// A ray's walk through a [`Volume`]: the cell it is in and where it leaves that cell.
struct Walk {
    origin: [f32; 3],
    dir: [f32; 3],
    /// `1 / dir` per axis; infinite along axes the ray does not move on.
    inv: [f32; 3],
    step: [i64; 3],
    cell: [i64; 3],
    /// Distance along the ray to the cell's far wall on each axis.
    t_next: [f32; 3],
    /// Axis of the wall the ray last crossed.
    axis: usize,
    /// Distance along the ray to where it entered the cell.
    t: f32,
}

impl Walk {
    /// A walk that enters the box at `t` through a wall on `axis`.
    fn start(origin: Vec3, dir: Vec3, t: f32, axis: usize, extent: [i64; 3]) -> Self {
        let (origin, dir) = (origin.to_array(), dir.to_array());
        let mut walk = Walk {
            origin,
            dir,
            inv: [f32::INFINITY; 3],
            step: [1; 3],
            cell: [0; 3],
            t_next: [0.0; 3],
            axis,
            t,
        };
        for a in 0..3 {
            if dir[a] < 0.0 {
                walk.step[a] = -1;
            }
            if dir[a] != 0.0 {
                walk.inv[a] = 1.0 / dir[a];
            }
            walk.cell[a] = floor(origin[a] + dir[a] * t).clamp(1, extent[a]);
        }
        walk.t_next = walk.exits(0);
        walk
    }

    /// Distances along the ray to the far walls, per axis, of the cube of radius `r` around
    /// the current cell.
    fn exits(&self, r: i64) -> [f32; 3] {
        let mut exits = [f32::INFINITY; 3];
        for (a, exit) in exits.iter_mut().enumerate() {
            if self.inv[a].is_finite() {
                let wall = self.cell[a] + if self.step[a] > 0 { r + 1 } else { -r };
                *exit = (wall as f32 - self.origin[a]) * self.inv[a];
            }
        }
        exits
    }

    /// Moves into the next cell along the ray (one DDA step).
    fn step_once(&mut self) {
        let axis = argmin(self.t_next);
        self.axis = axis;
        self.t = self.t_next[axis];
        self.cell[axis] += self.step[axis];
        self.t_next[axis] += self.inv[axis].abs();
    }

    /// Moves out of the empty cube of radius `r` around the current cell, into the cell just
    /// beyond the wall the ray leaves it through.
    fn jump(&mut self, r: i64) {
        let exits = self.exits(r);
        let axis = argmin(exits);
        let t = exits[axis];
        for a in 0..3 {
            self.cell[a] = if a == axis {
                self.cell[a] + self.step[a] * (r + 1)
            } else {
                floor(self.origin[a] + self.dir[a] * t).clamp(self.cell[a] - r, self.cell[a] + r)
            };
        }
        (self.axis, self.t) = (axis, t);
        self.t_next = self.exits(0);
    }
}

/// `x` rounded down, as an integer (`f32::floor` is a library call on baseline x86-64).
#[inline]
fn floor(x: f32) -> i64 {
    let t = x as i64;
    t - i64::from((t as f32) > x)
}

/// Index of the smallest of three values.
#[inline]
fn argmin(v: [f32; 3]) -> usize {
    if v[0] <= v[1] && v[0] <= v[2] {
        0
    } else if v[1] <= v[2] {
        1
    } else {
        2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid_with(cells: &[[usize; 3]]) -> VoxelGrid {
        let mut g = VoxelGrid::cube(8).unwrap();
        for c in cells {
            g.set(c[0], c[1], c[2], Some([200, 100, 50]));
        }
        g
    }

    /// Casts in grid coordinates and reports the hit cell in grid coordinates.
    fn cast(g: &VoxelGrid, origin: Vec3, dir: Vec3) -> Option<([usize; 3], usize, i64, f32)> {
        let v = Volume::new(g).unwrap();
        v.cast(origin - v.origin(), dir.normalize())
            .map(|h| (v.to_grid(h.cell), h.axis, h.sign, h.t))
    }

    #[test]
    fn floor_matches_the_library() {
        for x in [-2.5f32, -1.0, -0.2, 0.0, 0.3, 1.0, 7.99, 8.0, 1e6 + 0.5] {
            assert_eq!(floor(x), x.floor() as i64, "{x}");
        }
    }

    #[test]
    fn volume_pads_the_occupied_box() {
        let v = Volume::new(&grid_with(&[[2, 3, 4], [5, 3, 4]])).unwrap();
        assert_eq!(v.extent, [4, 1, 1]);
        assert_eq!(v.dims, [6, 3, 3]);
        assert_eq!(v.offset, [1, 2, 3]);
        assert!(v.is_filled([1, 1, 1]) && v.is_filled([4, 1, 1]));
        assert!(!v.is_filled([2, 1, 1]) && !v.is_filled([0, 1, 1]) && !v.is_filled([-1, 0, 0]));
        assert_eq!(v.bounds(), ([2, 3, 4], [5, 3, 4]));
        let mut g = VoxelGrid::new([5, 6, 7]).unwrap();
        for p in [[4, 0, 3], [1, 5, 2], [2, 2, 6]] {
            g.set(p[0], p[1], p[2], Some([1; 3]));
        }
        assert_eq!(g.bounds(), Some(([1, 0, 2], [4, 5, 6])));
        assert!(Volume::new(&VoxelGrid::cube(4).unwrap()).is_none());
    }

    #[test]
    fn axis_ray_hits_the_near_face() {
        let g = grid_with(&[[2, 2, 2], [5, 2, 2]]);
        let hit = cast(&g, Vec3::new(20.0, 2.5, 2.5), -Vec3::X).unwrap();
        assert_eq!(hit.0, [5, 2, 2]);
        assert_eq!((hit.1, hit.2), (0, 1));
        assert!((hit.3 - 14.0).abs() < 1e-4, "enters x = 6 at t = 14, got {}", hit.3);
        let hit = cast(&g, Vec3::new(-20.0, 2.5, 2.5), Vec3::X).unwrap();
        assert_eq!((hit.0, hit.1, hit.2), ([2, 2, 2], 0, -1));
    }

    #[test]
    fn ray_from_above_hits_the_top_face() {
        let g = grid_with(&[[3, 3, 0], [3, 3, 1]]);
        let hit = cast(&g, Vec3::new(3.5, 3.5, 30.0), -Vec3::Z).unwrap();
        assert_eq!((hit.0, hit.1, hit.2), ([3, 3, 1], 2, 1));
    }

    #[test]
    fn diagonal_ray_walks_to_an_inner_cell() {
        // An L in the x-z plane: a floor row and a post. A ray coming down at 45° from the right
        // enters the box through its +x side, crosses an empty cell and lands on the floor.
        let g = grid_with(&[[0, 0, 0], [1, 0, 0], [2, 0, 0], [3, 0, 0], [0, 0, 1], [0, 0, 2]]);
        let hit = cast(&g, Vec3::new(6.5, 0.5, 4.0), Vec3::new(-1.0, 0.0, -1.0)).unwrap();
        assert_eq!((hit.0, hit.1, hit.2), ([3, 0, 0], 2, 1), "lands on the floor's top at x = 3");
    }

    #[test]
    fn rays_that_miss_return_none() {
        let g = grid_with(&[[2, 2, 2]]);
        assert!(cast(&g, Vec3::new(20.0, 4.5, 2.5), -Vec3::X).is_none());
        assert!(cast(&g, Vec3::new(20.0, 2.5, 2.5), Vec3::X).is_none(), "points away");
        assert!(cast(&g, Vec3::new(20.0, 20.0, 2.5), Vec3::new(-1.0, -0.9, 0.0)).is_none());
    }

    /// First filled cell along the ray by small fixed steps, in volume coordinates.
    fn march(v: &Volume, origin: Vec3, dir: Vec3) -> Option<[i64; 3]> {
        let (o, d) = (origin.as_dvec3(), dir.as_dvec3());
        (0..200_000).map(|i| o + d * (i as f64 * 5e-4)).find_map(|p| {
            let c = [p.x.floor() as i64, p.y.floor() as i64, p.z.floor() as i64];
            v.is_filled(c).then_some(c)
        })
    }

    #[test]
    fn skipping_walk_finds_the_same_cells_as_marching() {
        // A sparse scatter of voxels with big empty gaps, and rays from all around.
        let mut g = VoxelGrid::cube(48).unwrap();
        let mut seed = 12345u64;
        let mut next = move |n: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        for _ in 0..400 {
            let [x, y, z] = [next(48), next(48), next(48)].map(|c| c as usize);
            g.set(x, y, z, Some([9; 3]));
        }
        let v = Volume::new(&g).unwrap();
        let centre = Vec3::from_array(v.extent.map(|e| e as f32 / 2.0 + 1.0));
        let (mut hits, mut mismatches) = (0, 0);
        for _ in 0..300 {
            let dir = Vec3::new(
                next(2001) as f32 - 1000.0,
                next(2001) as f32 - 1000.0,
                1.0 + next(1000) as f32 - 500.0,
            )
            .normalize();
            let aim = centre
                + Vec3::new(next(41) as f32 - 20.0, next(41) as f32 - 20.0, next(41) as f32 - 20.0);
            let origin = aim - dir * 45.0;
            let got = v.cast(origin, dir).map(|h| h.cell);
            let want = march(&v, origin, dir);
            hits += usize::from(want.is_some());
            mismatches += usize::from(got != want);
        }
        assert!(hits > 40, "the test should hit something: {hits}");
        // Rays that graze a cell's corner (within f32 precision) may go either way.
        assert!(mismatches <= 2, "{mismatches} of 300 rays disagree");
    }
}
