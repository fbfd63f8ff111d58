//! One size knob drives a model's shape (after nanochat's `--depth`).

use crate::config::ShapeConfig;

/// The shape of size `size` (≥ 1):
/// 1. depth: `n_layer = size`, the knob itself;
/// 2. width: `d_model = 32·size`, a fixed aspect ratio as in nanochat (which uses 64
///    per layer at its larger scale; tiny models need relatively more width per layer);
/// 3. heads of width 16: `n_head = d_model/16`;
/// 4. MLP: `d_ff = 4·d_model` (GPT-2).
pub fn shape_for_size(size: usize) -> ShapeConfig {
    let d_model = 32 * size;
    ShapeConfig {
        d_model,
        n_layer: size,
        n_head: d_model / 16,
        d_ff: Some(4 * d_model),
    }
}
