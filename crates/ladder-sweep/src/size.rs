//! One size knob drives a model's shape (after nanochat's `--depth`).

use ladder_model::GptConfig;

use crate::config::ShapeConfig;

/// A model's name in run ids, branch groups and tables: `d{d_model}-l{n_layer}-h{n_head}`.
pub fn shape_name(model: &GptConfig) -> String {
    format!("d{}-l{}-h{}", model.d_model, model.n_layer, model.n_head)
}

/// Width per layer: the knob's fixed aspect ratio `d_model / n_layer`.
pub const ASPECT_RATIO: f64 = 32.0;

/// Width of one attention head.
pub const HEAD_WIDTH: usize = 16;

/// The shape of size `size` (≥ 0.5; fractional values give the steps between depths):
/// 1. depth: `n_layer = round(size)`, at least 1;
/// 2. width: `d_model = 32·size` rounded to a multiple of the head width 16, at least
///    16: a fixed aspect ratio as in nanochat (which uses 64 per layer at its larger
///    scale; tiny models need relatively more width per layer), up to the rounding of
///    depth and width, which keeps `d_model / n_layer` within 24–40 from size 1 up;
/// 3. heads of width 16: `n_head = d_model/16`, so that attention's scale does not move
///    with size (what μP's 1/d_head asks of it);
/// 4. MLP: `d_ff = 4·d_model` (GPT-2).
///
/// Whole sizes give depth = size and width = 32·size; quarter steps between them give
/// parameter counts about 1.3–1.8× apart, fine enough for an IsoFLOP profile.
pub fn shape_for_size(size: f64) -> ShapeConfig {
    let n_layer = (size.round() as usize).max(1);
    let heads = ((ASPECT_RATIO * size / HEAD_WIDTH as f64).round() as usize).max(1);
    let d_model = heads * HEAD_WIDTH;
    ShapeConfig {
        d_model,
        n_layer,
        n_head: heads,
        d_ff: Some(4 * d_model),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_sizes_are_depth_and_32_per_layer() {
        for s in 1..=8 {
            let shape = shape_for_size(s as f64);
            assert_eq!((shape.n_layer, shape.d_model), (s, 32 * s));
            assert_eq!(shape.n_head * HEAD_WIDTH, shape.d_model);
        }
    }

    #[test]
    fn fractional_sizes_step_between_depths() {
        let shape = |s: f64| {
            let c = shape_for_size(s);
            (c.n_layer, c.d_model)
        };
        assert_eq!(shape(0.5), (1, 16));
        assert_eq!(shape(1.25), (1, 48));
        assert_eq!(shape(1.5), (2, 48));
        assert_eq!(shape(2.25), (2, 80));
        assert_eq!(shape(2.5), (3, 80));
        assert_eq!(shape(3.5), (4, 112));
        for s in [
            1.0, 1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 2.75, 3.0, 3.5, 4.0, 4.5, 6.0,
        ] {
            let (l, d) = shape(s);
            let aspect = d as f64 / l as f64;
            assert!((24.0..=48.0).contains(&aspect), "size {s}: {d}/{l}");
        }
    }
}
