//! Training throughput of the ladder's shapes: forward, backward and AdamW timed apart,
//! model FLOPs per token, and the f32 GEMM peak of this machine measured in the same run.
//!
//! `scripts/bench-train` runs this beside `scripts/torch_ref.py` and prints the table;
//! by hand:
//!
//! ```text
//! cargo bench -p ladder-train --bench train -- --shapes 64x2x4,128x4x4 --threads 1
//! ```
//!
//! Options: `--shapes DxLxH,...`, `--context`, `--batch`, `--vocab`, `--steps`,
//! `--warmup`, `--threads` (candle's threads per run), `--jobs` (runs trained side by
//! side, one OS thread and rayon pool each, as the sweep runner does: the result is their
//! summed throughput), `--kernels fused|per-op|composed`, `--precision f32|bf16`, `--device
//! cpu|cuda|cuda:N` (CUDA needs `--features cuda`), `--peak` (also time a 2048³ GEMM on
//! the device, in bf16 under `--precision bf16`), `--json PATH` (append one JSON object per
//! line).

use std::io::Write;
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use candle_core::{DType, Device, Tensor};
use ladder_model::{FlopCounts, GptConfig, Kernels, PositionEncoding, Precision};
use ladder_train::{device_name, time_steps_after, AdamWConfig, StepTimes, TimingSpec, TrainError};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    shapes: Vec<(usize, usize, usize)>,
    context: usize,
    batch: usize,
    vocab: usize,
    steps: usize,
    warmup: usize,
    threads: usize,
    jobs: usize,
    kernels: Kernels,
    precision: Precision,
    device: Device,
    peak: bool,
    json: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        shapes: vec![(64, 2, 4), (128, 4, 4), (256, 6, 8)],
        context: 256,
        batch: 32,
        vocab: 256,
        steps: 10,
        warmup: 2,
        threads: 1,
        jobs: 1,
        kernels: Kernels::Fused,
        precision: Precision::F32,
        device: Device::Cpu,
        peak: false,
        json: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let num = |s: String| s.parse::<usize>().map_err(|e| format!("{s}: {e}"));
        match flag.as_str() {
            "--shapes" => {
                a.shapes = value()?
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(|s| {
                        let p: Vec<usize> = s.split('x').filter_map(|x| x.parse().ok()).collect();
                        match p[..] {
                            [d, l, h] => Ok((d, l, h)),
                            _ => Err(format!("shape {s}: expected DxLxH")),
                        }
                    })
                    .collect::<Result<_, _>>()?
            }
            "--context" => a.context = num(value()?)?,
            "--batch" => a.batch = num(value()?)?,
            "--vocab" => a.vocab = num(value()?)?,
            "--steps" => a.steps = num(value()?)?,
            "--warmup" => a.warmup = num(value()?)?,
            "--threads" => a.threads = num(value()?)?,
            "--jobs" => a.jobs = num(value()?)?,
            "--kernels" => {
                a.kernels = match value()?.as_str() {
                    "fused" => Kernels::Fused,
                    "per-op" => Kernels::PerOp,
                    "composed" => Kernels::Composed,
                    k => return Err(format!("--kernels {k}: expected fused, per-op or composed")),
                }
            }
            "--precision" => {
                let p = value()?;
                a.precision =
                    Precision::parse(&p).ok_or(format!("--precision {p}: expected f32 or bf16"))?;
            }
            "--device" => a.device = device(&value()?)?,
            "--peak" => a.peak = true,
            "--json" => a.json = Some(value()?),
            "--bench" => {} // passed by `cargo bench`
            f => return Err(format!("unknown option {f}")),
        }
    }
    if a.jobs > 1 && !a.device.is_cpu() {
        return Err("--jobs > 1 is for the CPU (one run per GPU: run one bench per GPU)".into());
    }
    Ok(a)
}

fn device(name: &str) -> Result<Device, String> {
    let ordinal = match name {
        "cpu" => return Ok(Device::Cpu),
        "cuda" => Some(0),
        _ => name.strip_prefix("cuda:").and_then(|i| i.parse().ok()),
    };
    let i = ordinal.ok_or(format!("--device {name}: expected cpu, cuda or cuda:N"))?;
    Device::new_cuda(i).map_err(|e| format!("--device {name}: {e} (build with --features cuda)"))
}

fn train_steps(
    cfg: GptConfig,
    a: &Args,
    seed: u64,
    start: &StartLine,
) -> Result<StepTimes, TrainError> {
    let spec = TimingSpec {
        model: cfg,
        batch_size: a.batch,
        adamw: AdamWConfig {
            beta1: 0.9,
            beta2: 0.95,
            eps: 1e-8,
            weight_decay: 0.1,
            grad_clip: Some(1.0),
        },
        kernels: a.kernels,
        precision: a.precision,
        warmup: a.warmup,
        steps: a.steps,
        seed,
    };
    let mut waited = false;
    let times = time_steps_after(&spec, &a.device, || {
        waited = true;
        start.wait();
    });
    if !waited {
        // Failed before its timed steps: the others must not wait for it.
        start.leave();
    }
    times
}

/// Where jobs timed side by side wait for each other before their timed steps (see
/// `time_steps_after`); unlike `std::sync::Barrier`, a job that fails first can leave,
/// so that the others do not wait forever.
struct StartLine {
    /// Jobs still expected, and jobs arrived.
    count: Mutex<(usize, usize)>,
    all_here: Condvar,
}

impl StartLine {
    fn new(jobs: usize) -> Self {
        Self {
            count: Mutex::new((jobs, 0)),
            all_here: Condvar::new(),
        }
    }

    fn wait(&self) {
        let mut c = self.count.lock().unwrap_or_else(|e| e.into_inner());
        c.1 += 1;
        self.all_here.notify_all();
        while c.1 < c.0 {
            c = self.all_here.wait(c).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn leave(&self) {
        let mut c = self.count.lock().unwrap_or_else(|e| e.into_inner());
        c.0 -= 1;
        self.all_here.notify_all();
    }
}

/// Best of five 2048³ matmuls in `dtype` on `device`, in GFLOP/s, at the current thread
/// setting.
fn gemm_peak(device: &Device, dtype: DType) -> candle_core::Result<f64> {
    let n = 2048;
    let a = Tensor::randn(0f32, 1.0, (n, n), device)?.to_dtype(dtype)?;
    let b = Tensor::randn(0f32, 1.0, (n, n), device)?.to_dtype(dtype)?;
    a.matmul(&b)?;
    device.synchronize()?;
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let t = Instant::now();
        a.matmul(&b)?;
        device.synchronize()?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    Ok(2.0 * (n as f64).powi(3) / best / 1e9)
}

fn run() -> Result<(), String> {
    let a = parse_args()?;
    // candle's matmuls size their parallelism from this variable (see ladder-sweep).
    std::env::set_var("RAYON_NUM_THREADS", a.threads.to_string());
    let mut out: Box<dyn Write> = match &a.json {
        Some(p) => Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| format!("{p}: {e}"))?,
        ),
        None => Box::new(std::io::sink()),
    };
    let pool = |n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map_err(|e| e.to_string())
    };
    let kernels = match a.kernels {
        Kernels::Fused => "fused",
        Kernels::PerOp => "per-op",
        Kernels::Composed => "composed",
    };
    let dtype = match a.precision {
        Precision::F32 => DType::F32,
        Precision::Bf16 => DType::BF16,
    };
    let (device, precision) = (device_name(&a.device), a.precision);
    let isa = ladder_model::kernels::cpu_matmul_isa();
    if a.peak {
        let gflops = pool(a.threads)?
            .install(|| gemm_peak(&a.device, dtype))
            .map_err(|e| e.to_string())?;
        eprintln!(
            "{precision} GEMM 2048³ on {device} ({isa} matmul), {} threads: {gflops:.1} GFLOP/s",
            a.threads
        );
        writeln!(
            out,
            r#"{{"kind":"peak","device":"{device}","matmul":"{isa}","precision":"{precision}","threads":{},"gflops":{gflops}}}"#,
            a.threads
        )
        .map_err(|e| e.to_string())?;
    }
    for &(d, l, h) in &a.shapes {
        let cfg = GptConfig::new(GptConfig {
            vocab: a.vocab,
            context: a.context,
            d_model: d,
            n_layer: l,
            n_head: h,
            d_ff: 4 * d,
            positions: PositionEncoding::Learned,
            tied_head: true,
            parametrization: Default::default(),
        })
        .map_err(|e| e.to_string())?;
        let start = Instant::now();
        // The jobs start their timed steps together (see `time_steps_after`).
        let start_line = StartLine::new(a.jobs);
        let splits = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..a.jobs)
                .map(|j| {
                    let (a, start_line) = (&a, &start_line);
                    scope.spawn(move || {
                        let pool = pool(a.threads).inspect_err(|_| start_line.leave())?;
                        pool.install(|| train_steps(cfg, a, j as u64, start_line))
                            .map_err(|e| e.to_string())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().map_err(|_| "a job panicked".to_string())?)
                .collect::<Result<Vec<StepTimes>, String>>()
        })?;
        let wall = start.elapsed().as_secs_f64();
        // Per-job throughput from the timed steps; jobs run concurrently, so the
        // machine's throughput is their sum.
        let per_job: Vec<f64> = splits.iter().map(StepTimes::tokens_per_second).collect();
        let tok_s: f64 = per_job.iter().sum();
        let s = splits[0];
        let step = s.forward + s.backward + s.optimiser;
        let flops = FlopCounts::of(&cfg).exact;
        eprintln!(
            "d{d} L{l} H{h} {kernels} {precision} on {device} ({isa} matmul), {} job(s) x {} thread(s): {tok_s:.0} tok/s \
             (fwd {:.0}% bwd {:.0}% opt {:.0}%), {:.1} GFLOP/s, wall {wall:.1} s",
            a.jobs,
            a.threads,
            100.0 * s.forward / step,
            100.0 * s.backward / step,
            100.0 * s.optimiser / step,
            tok_s * flops / 1e9
        );
        writeln!(
            out,
            r#"{{"kind":"train","impl":"ladder","kernels":"{kernels}","device":"{device}","matmul":"{isa}","precision":"{precision}","d_model":{d},"n_layer":{l},"n_head":{h},"threads":{},"jobs":{},"tok_s":{tok_s},"fwd_s":{},"bwd_s":{},"opt_s":{},"flops_per_token":{flops},"steps":{}}}"#,
            a.threads, a.jobs, s.forward, s.backward, s.optimiser, a.steps
        )
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn main() {
    ladder_train::keep_freed_memory();
    if let Err(e) = run() {
        eprintln!("bench-train: {e}");
        std::process::exit(2);
    }
}
