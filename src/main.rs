//! The `provision` binary. Everything, including reporting the error once and
//! choosing the exit code, lives in the library (`provision::main`), so
//! this file stays the size ripgrep's does.

fn main() -> std::process::ExitCode {
    provision::main()
}
