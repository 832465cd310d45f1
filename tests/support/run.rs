//! The runner for the real `provision` binary: arguments, environment and
//! expected output in, a checked [`Outcome`] out (after just's tests).

use std::process::{Command, Output, Stdio};

use super::{Workspace, CONNECTION_VARS};

/// A fluent runner for the real binary (after just's tests/test.rs): set
/// the arguments, environment and any expected output, then `.status(n)` or
/// `.success()` runs it and checks everything given, with a diff on failure.
///
/// ```ignore
/// db.provision().args(["tenant", "add", "BAD"]).stderr("error: …\n").status(2);
/// ```
#[must_use = "a Run does nothing until .status(n), .success() or .output()"]
pub struct Run {
    command: Command,
    stdin: Option<Vec<u8>>,
    stdout: Option<Expected>,
    stderr: Option<Expected>,
}

/// What one output stream must be.
enum Expected {
    Exact(String),
    /// Matches the whole stream (`^(?s)…$`).
    Regex(regex::Regex),
}

impl Run {
    pub fn new() -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_provision"));
        for var in CONNECTION_VARS {
            command.env_remove(var);
        }
        command.env("NO_COLOR", "1");
        Run { command, stdin: None, stdout: None, stderr: None }
    }

    pub fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Run {
        self.command.arg(arg);
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(mut self, args: I) -> Run {
        self.command.args(args);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Run {
        self.command.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: &str) -> Run {
        self.command.env_remove(key);
        self
    }

    pub fn in_workspace(mut self, ws: &Workspace) -> Run {
        self.command.current_dir(ws.path());
        self
    }

    pub fn stdin(mut self, input: &str) -> Run {
        self.stdin = Some(input.as_bytes().to_vec());
        self
    }

    /// Stdout must be exactly `text`.
    pub fn stdout(mut self, text: &str) -> Run {
        self.stdout = Some(Expected::Exact(text.to_owned()));
        self
    }

    /// Stderr must be exactly `text`.
    pub fn stderr(mut self, text: &str) -> Run {
        self.stderr = Some(Expected::Exact(text.to_owned()));
        self
    }

    /// All of stdout must match `pattern` (`.` matches newlines too).
    #[track_caller]
    pub fn stdout_regex(mut self, pattern: &str) -> Run {
        self.stdout = Some(Expected::regex(pattern));
        self
    }

    /// All of stderr must match `pattern` (`.` matches newlines too).
    #[track_caller]
    pub fn stderr_regex(mut self, pattern: &str) -> Run {
        self.stderr = Some(Expected::regex(pattern));
        self
    }

    /// Starts the process without waiting (for concurrency tests).
    pub fn spawn(mut self) -> std::process::Child {
        assert!(self.stdout.is_none() && self.stderr.is_none(), "expected output is checked by .status(n) only");
        self.command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        self.command.spawn().expect("spawn provision")
    }

    /// Runs and returns what happened, checking nothing.
    #[track_caller]
    pub fn output(mut self) -> Outcome {
        assert!(self.stdout.is_none() && self.stderr.is_none(), "expected output is checked by .status(n) only");
        self.run()
    }

    fn run(&mut self) -> Outcome {
        use std::io::Write;
        self.command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = self.command.spawn().expect("spawn provision");
        let input = self.stdin.take().unwrap_or_default();
        child.stdin.take().unwrap().write_all(&input).ok();
        Outcome::from(child.wait_with_output().unwrap())
    }

    /// Runs, then checks the exit code and every expected output; on a
    /// mismatch, panics at the caller's line with the command, a diff of
    /// each stream that differs and the streams themselves.
    #[track_caller]
    pub fn status(mut self, code: i32) -> Outcome {
        let described = format!("{:?}", self.command);
        let out = self.run();
        let mut problems = Vec::new();
        if out.code != code {
            problems.push(format!("exit code {} (expected {code})", out.code));
        }
        for (name, expected, actual) in [("stdout", &self.stdout, &out.stdout), ("stderr", &self.stderr, &out.stderr)] {
            if let Some(problem) = expected.as_ref().and_then(|e| e.mismatch(name, actual)) {
                problems.push(problem);
            }
        }
        if !problems.is_empty() {
            panic!("{described}\n{}\n--- stdout\n{}\n--- stderr\n{}", problems.join("\n"), out.stdout, out.stderr);
        }
        out
    }

    #[track_caller]
    pub fn success(self) -> Outcome {
        self.status(0)
    }
}

impl Expected {
    #[track_caller]
    fn regex(pattern: &str) -> Expected {
        let whole = format!("^(?s:{pattern})$");
        Expected::Regex(regex::Regex::new(&whole).unwrap_or_else(|e| panic!("bad regex {pattern:?}: {e}")))
    }

    /// What is wrong with `actual`, if anything.
    fn mismatch(&self, name: &str, actual: &str) -> Option<String> {
        match self {
            Expected::Exact(text) if text != actual => {
                Some(format!("{name} differs (- expected, + actual):\n{}", diff(text, actual)))
            }
            Expected::Regex(re) if !re.is_match(actual) => Some(format!("{name} does not match {}", re.as_str())),
            _ => None,
        }
    }
}

/// A line diff (longest common subsequence; outputs are short).
pub fn diff(expected: &str, actual: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) =
        (expected.split_inclusive('\n').collect(), actual.split_inclusive('\n').collect());
    let mut common = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            common[i][j] = if a[i] == b[j] { common[i + 1][j + 1] + 1 } else { common[i + 1][j].max(common[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    let mut line = |mark: char, text: &str| {
        out.push(mark);
        out.push_str(&text.replace('\n', "⏎\n"));
        if !text.ends_with('\n') {
            out.push_str("∅\n"); // no final newline
        }
    };
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            line(' ', a[i]);
            (i, j) = (i + 1, j + 1);
        } else if i < a.len() && (j == b.len() || common[i + 1][j] >= common[i][j + 1]) {
            line('-', a[i]);
            i += 1;
        } else {
            line('+', b[j]);
            j += 1;
        }
    }
    out
}

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Outcome {
    fn from(out: Output) -> Outcome {
        Outcome {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Outcome {
    pub fn stdout_has(self, text: &str) -> Outcome {
        assert!(self.stdout.contains(text), "stdout lacks {text:?}:\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }

    pub fn stderr_has(self, text: &str) -> Outcome {
        assert!(self.stderr.contains(text), "stderr lacks {text:?}:\n{}", self.stderr);
        self
    }

    /// The error is one line (plus nothing else on stderr).
    pub fn one_line_error(self) -> Outcome {
        let lines: Vec<&str> = self.stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "expected a one-line error, got:\n{}", self.stderr);
        assert!(lines[0].starts_with("error: "), "{}", self.stderr);
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}
