//! Training: the dataset cache, the loop, schedules and checkpoints.
