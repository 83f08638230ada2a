//! The watch daemon: file events, debounce, stable-file check, work queue, manifest.
