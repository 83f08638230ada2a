//! The stable-file check: a file is used only once its size and mtime held still for a while,
//! so files still being copied are not read half-written.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::scan::FileStat;

/// What the tracker says about a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stability {
    /// Unchanged for the whole window: safe to read.
    Stable,
    /// Changed recently: look again at this instant. `since` is when it was first seen changing.
    Wait {
        /// When it can be stable at the earliest.
        until: Instant,
        /// When the tracker first saw this file (not reset by later changes).
        since: Instant,
    },
}

/// Remembers the last stat seen for each file and since when it has held.
#[derive(Debug)]
pub(crate) struct StableTracker {
    window: Duration,
    seen: HashMap<PathBuf, Seen>,
}

#[derive(Clone, Copy, Debug)]
struct Seen {
    stat: FileStat,
    held_since: Instant,
    first_seen: Instant,
}

impl StableTracker {
    /// A tracker that calls a file stable once its stat held for `window`.
    pub fn new(window: Duration) -> Self {
        StableTracker { window, seen: HashMap::new() }
    }

    /// Records `stat` for `path` as seen at `now` and says whether the file is stable.
    pub fn observe(&mut self, path: &Path, stat: FileStat, now: Instant) -> Stability {
        let seen = self.seen.entry(path.to_path_buf()).or_insert(Seen {
            stat,
            held_since: now,
            first_seen: now,
        });
        if seen.stat != stat {
            seen.stat = stat;
            seen.held_since = now;
        }
        let until = seen.held_since + self.window;
        if now >= until {
            Stability::Stable
        } else {
            Stability::Wait { until, since: seen.first_seen }
        }
    }

    /// Forgets a file, so that its next observation starts a fresh window.
    pub fn forget(&mut self, path: &Path) {
        self.seen.remove(path);
    }

    /// Keeps only the files for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&Path) -> bool) {
        self.seen.retain(|path, _| keep(path));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn stable_only_after_the_window_without_change() {
        let mut tracker = StableTracker::new(100 * MS);
        let path = Path::new("a.obj");
        let t0 = Instant::now();
        let s1 = FileStat { size: 10, mtime_ns: 1 };
        assert_eq!(
            tracker.observe(path, s1, t0),
            Stability::Wait { until: t0 + 100 * MS, since: t0 }
        );
        assert!(matches!(tracker.observe(path, s1, t0 + 60 * MS), Stability::Wait { .. }));

        let s2 = FileStat { size: 20, mtime_ns: 2 };
        let grown = tracker.observe(path, s2, t0 + 90 * MS);
        assert_eq!(grown, Stability::Wait { until: t0 + 190 * MS, since: t0 });
        assert!(matches!(tracker.observe(path, s2, t0 + 150 * MS), Stability::Wait { .. }));
        assert_eq!(tracker.observe(path, s2, t0 + 190 * MS), Stability::Stable);
    }

    #[test]
    fn forget_restarts_the_window() {
        let mut tracker = StableTracker::new(100 * MS);
        let path = Path::new("a.obj");
        let t0 = Instant::now();
        let stat = FileStat { size: 1, mtime_ns: 1 };
        tracker.observe(path, stat, t0);
        assert_eq!(tracker.observe(path, stat, t0 + 100 * MS), Stability::Stable);
        tracker.forget(path);
        assert!(matches!(tracker.observe(path, stat, t0 + 200 * MS), Stability::Wait { .. }));
    }
}
