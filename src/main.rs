//! The `ladder` binary: all logic lives in `ladder-cli`.

fn main() -> std::process::ExitCode {
    ladder_cli::main()
}
