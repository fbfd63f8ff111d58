//! Where the runs train: the CPU (one single-threaded run per core by default) or CUDA
//! GPUs (one run per GPU).

use std::fmt;
use std::str::FromStr;

use candle_core::Device;

/// A `--device` choice: `cpu`, `cuda` (every visible GPU) or `cuda:i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// The CPU.
    #[default]
    Cpu,
    /// One CUDA GPU by ordinal, or every visible one.
    Cuda(Option<usize>),
}

impl FromStr for DeviceChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("unknown device {s:?}: use cpu, cuda or cuda:N (N = GPU ordinal)");
        match s {
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda(None)),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|i| i.parse().ok())
                .map(|i| Self::Cuda(Some(i)))
                .ok_or_else(bad),
        }
    }
}

impl fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cpu => f.write_str("cpu"),
            Self::Cuda(None) => f.write_str("cuda"),
            Self::Cuda(Some(i)) => write!(f, "cuda:{i}"),
        }
    }
}

impl DeviceChoice {
    /// One device per parallel job: `jobs` times the CPU, or the chosen GPUs, one job
    /// each by default. `jobs` fewer than the GPUs uses the first `jobs`; more puts
    /// several jobs on each GPU in turn, so that small models, whose steps wait on kernel
    /// launches more than on the GPU, train side by side: every job has a device of its
    /// own (its cuBLAS handle), on candle's per-thread stream of the job's own thread,
    /// which does not wait on the other jobs' streams. The error says what is missing,
    /// for example a build without the `cuda` feature.
    pub fn devices(&self, jobs: Option<usize>) -> Result<Vec<Device>, String> {
        let gpu = |i: usize| {
            Device::new_cuda(i).map_err(|e| {
                format!(
                    "cannot open CUDA device {i}: {e}. CUDA needs a build with \
                     `--features cuda` (and the CUDA toolkit) and a visible GPU; \
                     use --device cpu otherwise"
                )
            })
        };
        let mut gpus = match self {
            Self::Cpu => return Ok(vec![Device::Cpu; jobs.unwrap_or_else(cores).max(1)]),
            Self::Cuda(Some(i)) => vec![gpu(*i)?],
            Self::Cuda(None) => {
                let mut all = vec![gpu(0)?];
                // Ordinals are dense: the first that fails to open ends the list.
                while let Ok(d) = Device::new_cuda(all.len()) {
                    all.push(d);
                }
                all
            }
        };
        let visible = gpus.len();
        let wanted = jobs.unwrap_or(visible).max(1);
        for k in visible..wanted {
            gpus.push(match self {
                Self::Cuda(Some(i)) => gpu(*i)?,
                _ => gpu(k % visible)?,
            });
        }
        gpus.truncate(wanted);
        Ok(gpus)
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!("cpu".parse(), Ok(DeviceChoice::Cpu));
        assert_eq!("cuda".parse(), Ok(DeviceChoice::Cuda(None)));
        assert_eq!("cuda:3".parse(), Ok(DeviceChoice::Cuda(Some(3))));
        for bad in ["gpu", "cuda:", "cuda:x", "CPU"] {
            let err = bad.parse::<DeviceChoice>().unwrap_err();
            assert!(err.contains("use cpu, cuda or cuda:N"), "{err}");
        }
        assert_eq!(DeviceChoice::Cuda(Some(1)).to_string(), "cuda:1");
    }

    #[test]
    fn cpu_gives_one_device_per_job() {
        assert_eq!(DeviceChoice::Cpu.devices(Some(3)).unwrap().len(), 3);
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn cuda_without_the_feature_says_how_to_get_it() {
        let err = DeviceChoice::Cuda(Some(0)).devices(None).unwrap_err();
        assert!(err.contains("--features cuda"), "{err}");
    }
}
