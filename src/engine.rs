//! How `synack trace` runs: the loop that feeds frames through the pipeline
//! and writes each connection once it is due, on one thread or, for a
//! capture file, on several. All the speed work lives here; the model knows
//! nothing of threads, shards or buffers.

pub mod arenas;
pub mod headless;
pub mod input;
pub mod parallel;
pub mod predecoded;
pub mod release;
pub mod sharded;
