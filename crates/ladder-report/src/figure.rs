//! Drawing one figure to both SVG and PNG: the backend-independent [`Figure`] trait, the
//! embedded font, colours and axis helpers shared by every plot.

use std::path::Path;
use std::sync::Once;

use plotters::coord::combinators::{LogCoord, WithKeyPoints};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::ReportError;

/// Pixel size of every figure.
pub const SIZE: (u32, u32) = (900, 560);

/// The font family every figure uses, registered once from the embedded DejaVu Sans.
pub const FONT: &str = "sans-serif";

/// What plotters returns from drawing on a backend `DB`.
pub type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A plot that can draw itself on any plotters backend.
pub trait Figure {
    /// File stem: the figure is written as `{name}.svg` and `{name}.png`.
    fn name(&self) -> &'static str;
    /// One-line caption for the HTML report.
    fn caption(&self) -> String;
    /// Draws the figure on `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// A figure written to disk: its name, caption and SVG text (for embedding).
#[derive(Debug, Clone)]
pub struct Rendered {
    /// File stem.
    pub name: &'static str,
    /// Caption.
    pub caption: String,
    /// The SVG document.
    pub svg: String,
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font compiled into the binary; if plotters ever
        // rejected them, text would be missing from the PNGs, which the report test sees.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

fn plot_error<E: std::fmt::Display>(name: &str) -> impl FnOnce(E) -> ReportError + '_ {
    move |e| ReportError::Plot {
        figure: name.to_string(),
        message: e.to_string(),
    }
}

/// Draws `figure` into `dir/{name}.svg` and `dir/{name}.png`.
pub fn render<F: Figure>(figure: &F, dir: &Path) -> Result<Rendered, ReportError> {
    register_font();
    let name = figure.name();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error(name))?;
        figure.draw(&root).map_err(plot_error(name))?;
        root.present().map_err(plot_error(name))?;
    }
    let svg_path = dir.join(format!("{name}.svg"));
    std::fs::write(&svg_path, &svg).map_err(ReportError::io(&svg_path))?;
    let png_path = dir.join(format!("{name}.png"));
    {
        let root = BitMapBackend::new(&png_path, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error(name))?;
        figure.draw(&root).map_err(plot_error(name))?;
        root.present().map_err(plot_error(name))?;
    }
    Ok(Rendered {
        name,
        caption: figure.caption(),
        svg,
    })
}

/// A colour along viridis for `t` in `[0, 1]` (clamped): dark blue to yellow, readable in
/// grey scale and by most colour-blind readers.
pub fn viridis(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 6] = [
        (68, 1, 84),
        (65, 68, 135),
        (42, 120, 142),
        (34, 168, 132),
        (122, 209, 81),
        (253, 231, 37),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + f * (f64::from(b) - f64::from(a))).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Where `x` lies between `lo` and `hi` in log space, in `[0, 1]`.
pub fn log_fraction(x: f64, lo: f64, hi: f64) -> f64 {
    if hi > lo {
        ((x.ln() - lo.ln()) / (hi.ln() - lo.ln())).clamp(0.0, 1.0)
    } else {
        0.5
    }
}

/// A log axis range around the finite positive `values`, widened by `pad` (a factor) on
/// each side; `None` when there is no such value.
pub fn log_range(values: impl IntoIterator<Item = f64>, pad: f64) -> Option<std::ops::Range<f64>> {
    let (lo, hi) = values
        .into_iter()
        .filter(|x| x.is_finite() && *x > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), x| {
            (lo.min(x), hi.max(x))
        });
    (hi > 0.0).then(|| {
        let (lo, hi) = if hi > lo {
            (lo, hi)
        } else {
            (lo / 2.0, hi * 2.0)
        };
        lo / pad..hi * pad
    })
}

/// `n` points log-spaced over `range`.
pub fn log_grid(range: &std::ops::Range<f64>, n: usize) -> Vec<f64> {
    let (lo, hi) = (range.start.ln(), range.end.ln());
    (0..n)
        .map(|i| (lo + (hi - lo) * i as f64 / (n.max(2) - 1) as f64).exp())
        .collect()
}

/// Tick positions for a log axis over `range`: powers of ten, or 1-2-5, or 1-9 per decade,
/// the coarsest set that gives at least four ticks; for a range narrower than that (a
/// loss axis from 3.6 to 5.5, say), evenly spaced round values.
pub fn log_ticks(range: &std::ops::Range<f64>) -> Vec<f64> {
    let (lo, hi) = (range.start, range.end);
    if !(lo > 0.0 && hi > lo && hi.is_finite()) {
        return Vec::new();
    }
    let ticks = |mantissas: &[f64]| -> Vec<f64> {
        let (k0, k1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
        (k0..=k1)
            .flat_map(|k| mantissas.iter().map(move |m| m * 10f64.powi(k)))
            .filter(|v| (lo..=hi).contains(v))
            .collect()
    };
    for mantissas in [
        &[1.0][..],
        &[1.0, 2.0, 5.0],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
    ] {
        let t = ticks(mantissas);
        if t.len() >= 4 {
            return if t.len() > 12 {
                t.into_iter().step_by(2).collect()
            } else {
                t
            };
        }
    }
    // Narrow: a round step giving about six ticks.
    let raw = (hi - lo) / 6.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// A log axis over `range` with [`log_ticks`].
pub fn log_axis(range: std::ops::Range<f64>) -> WithKeyPoints<LogCoord<f64>> {
    let ticks = log_ticks(&range);
    range.log_scale().with_key_points(ticks)
}

/// Tick labels for log axes: `3e5`, `1.2e-3`, or plain for 0.01-1000.
pub fn sci(x: &f64) -> String {
    let x = *x;
    if x == 0.0 {
        return "0".into();
    }
    let a = x.abs();
    if (0.01..1000.0).contains(&a) {
        let s = format!("{x:.3}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        return s.to_string();
    }
    let e = a.log10().floor() as i32;
    let m = x / 10f64.powi(e);
    if (m - m.round()).abs() < 0.05 {
        format!("{}e{e}", m.round())
    } else {
        format!("{m:.1}e{e}")
    }
}

/// A chart with log axes over `x` and `y`, titled, its axes described and labelled in
/// the report's style; `grid` draws the mesh lines.
pub fn log_log_chart<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    (x, x_desc): (std::ops::Range<f64>, &str),
    (y, y_desc): (std::ops::Range<f64>, &str),
    grid: bool,
) -> Result<LogLogChart<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT, 22))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(65)
        .build_cartesian_2d(log_axis(x), log_axis(y))?;
    let mut mesh = chart.configure_mesh();
    if !grid {
        mesh.disable_mesh();
    }
    mesh.x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(&sci)
        .y_label_formatter(&sci)
        .label_style((FONT, 14))
        .draw()?;
    Ok(chart)
}

/// What [`log_log_chart`] returns.
pub type LogLogChart<'a, DB> =
    ChartContext<'a, DB, Cartesian2d<WithKeyPoints<LogCoord<f64>>, WithKeyPoints<LogCoord<f64>>>>;

/// Draws the legend of `chart` at `position` in the report's style.
pub fn draw_legend<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> DrawResult<DB>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font((FONT, 13))
        .draw()
}

/// A message drawn in the middle of an empty figure, saying why it is empty.
pub fn draw_message<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    message: &str,
) -> DrawResult<DB> {
    root.draw(&Text::new(
        title.to_string(),
        (20, 20),
        (FONT, 22).into_font().style(FontStyle::Bold),
    ))?;
    for (i, line) in wrap(message, 90).iter().enumerate() {
        root.draw(&Text::new(
            line.clone(),
            (20, 70 + 22 * i as i32),
            (FONT, 16).into_font(),
        ))?;
    }
    Ok(())
}

/// Splits `text` into lines of at most about `width` characters at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let Some(line) = lines.last_mut() else { break };
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_give_known_answers() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(f64::NAN), RGBColor(68, 1, 84));
        assert!((log_fraction(100.0, 10.0, 1000.0) - 0.5).abs() < 1e-12);
        let r = log_range([1e3, f64::NAN, 1e5, -1.0], 2.0).unwrap_or(0.0..0.0);
        assert!((r.start - 500.0).abs() < 1e-9 && (r.end - 2e5).abs() < 1e-6);
        assert!(log_range([f64::NAN], 2.0).is_none());
        let g = log_grid(&(1.0..100.0), 3);
        assert!((g[1] - 10.0).abs() < 1e-9 && (g[2] - 100.0).abs() < 1e-9);
        assert_eq!(sci(&3e5), "3e5");
        assert_eq!(sci(&0.5), "0.5");
        assert_eq!(sci(&1.3e-3), "1.3e-3");
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(log_ticks(&(0.5..2e3)), [1.0, 10.0, 100.0, 1000.0]);
        assert_eq!(log_ticks(&(0.9..60.0)), [1.0, 2.0, 5.0, 10.0, 20.0, 50.0]);
        let loss = log_ticks(&(3.6..5.5));
        assert!(
            loss.len() >= 4 && loss.iter().all(|t| (3.6..=5.5).contains(t)),
            "{loss:?}"
        );
    }
}
