//! How a command fails: bad input (exit 2) or a failure while working (exit 1).

use std::io::Write;
use std::process::ExitCode;

/// A command's failure, with its exit code.
#[derive(Debug)]
pub enum Failure {
    /// The input is wrong; the message says which field or file and how to fix it.
    Input(anyhow::Error),
    /// Something failed while working.
    Runtime(anyhow::Error),
}

impl Failure {
    /// Prints the error chain to stderr and returns the exit code.
    pub fn report(self) -> ExitCode {
        let (code, e) = match self {
            Failure::Input(e) => (2, e),
            Failure::Runtime(e) => (1, e),
        };
        eprintln!("error: {}", ladder_lab::error_chain(e.as_ref()));
        ExitCode::from(code)
    }
}

impl From<ladder_lab::LabError> for Failure {
    fn from(e: ladder_lab::LabError) -> Self {
        if e.is_bad_input() {
            Failure::Input(e.into())
        } else {
            Failure::Runtime(e.into())
        }
    }
}

/// Marks errors as bad input or runtime failures.
pub(crate) trait ResultExt<T> {
    fn input(self) -> Result<T, Failure>;
    fn runtime(self) -> Result<T, Failure>;
}

impl<T, E: Into<anyhow::Error>> ResultExt<T> for Result<T, E> {
    fn input(self) -> Result<T, Failure> {
        self.map_err(|e| Failure::Input(e.into()))
    }
    fn runtime(self) -> Result<T, Failure> {
        self.map_err(|e| Failure::Runtime(e.into()))
    }
}

/// Appends `text` and a newline to `out`.
pub(crate) fn line(out: &mut String, text: impl AsRef<str>) {
    out.push_str(text.as_ref());
    out.push('\n');
}

/// Writes a command's output to stdout. A reader that closed the pipe early (`| head`)
/// is not an error: the output is simply no longer wanted.
pub(crate) fn emit(text: &str) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::Runtime(e.into())),
        _ => Ok(()),
    }
}
