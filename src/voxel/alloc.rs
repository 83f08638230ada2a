//! The dense cell buffer of a voxelization, allocated so its pages fault in cheaply.
//!
//! A 256³ grid is 64 MiB of cells; with 4 KiB pages, faulting them in costs more than most of
//! the voxelization. On Linux the buffer is marked for transparent huge pages (`madvise`
//! `MADV_HUGEPAGE`, honoured when the system allows it, ignored otherwise), then filled in
//! parallel so each thread faults its own part.

use rayon::prelude::*;

use super::Cell;

/// Buffers smaller than this gain nothing from huge pages.
const HUGE_PAGE: usize = 2 << 20;

/// `len` empty cells.
pub(crate) fn empty_cells(len: usize) -> Vec<Cell> {
    let mut cells: Vec<Cell> = Vec::with_capacity(len);
    advise_huge_pages(&mut cells);
    (0..len).into_par_iter().map(|_| None).collect_into_vec(&mut cells);
    cells
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(cells: &mut Vec<Cell>) {
    let bytes = cells.capacity() * std::mem::size_of::<Cell>();
    let start = cells.as_mut_ptr() as usize;
    // Only whole, aligned huge pages inside the allocation.
    let first = start.next_multiple_of(HUGE_PAGE);
    let end = (start + bytes) / HUGE_PAGE * HUGE_PAGE;
    if end <= first {
        return;
    }
    // SAFETY: the range lies inside the allocation `cells` owns, which stays alive and is not
    // moved here; MADV_HUGEPAGE only changes how the kernel backs those pages, never their
    // contents, and a refusal (a kernel without THP) is harmless, so the result is ignored.
    unsafe {
        libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_cells: &mut Vec<Cell>) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_start_empty() {
        for len in [0, 1, 1000, (HUGE_PAGE / 4) * 3 + 17] {
            let cells = empty_cells(len);
            assert_eq!(cells.len(), len);
            assert!(cells.iter().all(|c| c.is_none()));
        }
    }
}
