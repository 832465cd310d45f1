//! The printer: the one place that decides what reaches the terminal.
//!
//! Results go to stdout (as text, or as one JSON document with `--json`);
//! everything else — progress, waits, warnings — goes to stderr so pipes and
//! log shippers get clean data; with `--log-format json` each of those is one
//! JSON object per line (`ts`, `level`, `message`, `tenant`). Colour and progress bars appear only on a
//! terminal, never with `--json`, `--quiet` or `NO_COLOR`.
//!
//! No write here can panic: a reader that went away (`provision status |
//! head -1`) only silences the rest of stdout, as in ripgrep, and the command
//! finishes; any other write error is kept for [`stdout_result`].

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use console::{style, StyledObject};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

/// "1 tenant", "2 tenants": the summary lines' counts (see [`crate::report::count`]).
pub use crate::report::count;

/// How chatty the human output is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// How diagnostics (notes, details, warnings, the error) reach stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON object per line (`ts`, `level`, `message`, `tenant`) for cron and systemd.
    Json,
}

#[derive(Debug, Clone)]
pub struct Printer {
    json: bool,
    verbosity: Verbosity,
    log: LogFormat,
    /// The command's lines are its data (`status`, `tenant list`,
    /// `partitions list`): `--quiet` hides chatter, never these.
    lines_are_data: bool,
    stderr_is_terminal: bool,
    /// Set once a JSON document reached stdout: a failure after it (verify's
    /// drift, a rollover tenant that failed) must not add a second one.
    document_printed: Arc<AtomicBool>,
    /// One server's part of a run across servers (see [`crate::cli::fanout`]).
    scope: Option<Arc<PrinterScope>>,
}

/// How a server's part of a fan-out prints: every line tagged `[server]`,
/// no progress bars (several servers' bars would fight), and its JSON
/// document kept for the run's one document instead of printed.
#[derive(Debug)]
pub struct PrinterScope {
    pub server: String,
    /// Tag lines with `[server]` (a fleet run); a one-tenant command's single part is not tagged.
    pub tagged: bool,
    /// The part's stdout, kept to be printed after the others' in server
    /// order (a data command's tables must not interleave); `None` prints live.
    pub buffer: Option<Mutex<String>>,
    pub document: Mutex<Option<serde_json::Value>>,
}

/// The engine's messages go through the same rules as the CLI's own.
impl crate::report::Reporter for Printer {
    fn note(&self, text: &str) {
        Printer::note(self, text)
    }

    fn detail(&self, text: &str) {
        Printer::detail(self, text)
    }

    fn warn(&self, text: &str) {
        Printer::warn(self, text)
    }
}

impl Printer {
    pub fn new(json: bool, verbosity: Verbosity) -> Printer {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let stdout_color = std::io::stdout().is_terminal() && !no_color && !json;
        let stderr_is_terminal = std::io::stderr().is_terminal();
        console::set_colors_enabled(stdout_color);
        console::set_colors_enabled_stderr(stderr_is_terminal && !no_color);
        Printer {
            json,
            verbosity,
            log: LogFormat::Text,
            lines_are_data: false,
            stderr_is_terminal,
            document_printed: Arc::default(),
            scope: None,
        }
    }

    /// Diagnostics as JSON lines instead of text (`--log-format json`).
    pub fn with_log_format(mut self, log: LogFormat) -> Printer {
        self.log = log;
        self
    }

    /// This command's result lines are the data it exists to print: shown
    /// with `--quiet` too.
    pub fn with_data_lines(mut self, data: bool) -> Printer {
        self.lines_are_data = data;
        self
    }

    /// This printer for one server's part of a fan-out.
    pub fn scoped(&self, scope: Arc<PrinterScope>) -> Printer {
        Printer { scope: Some(scope), document_printed: Arc::default(), ..self.clone() }
    }

    /// `[server] ` before each line of a server's part; nothing otherwise.
    fn tagged(&self, text: &str) -> String {
        match &self.scope {
            None => text.to_owned(),
            Some(scope) if !scope.tagged => text.to_owned(),
            Some(scope) => text.split_inclusive('\n').map(|line| format!("[{}] {line}", scope.server)).collect(),
        }
    }

    fn out(&self, text: &str) {
        match self.scope.as_ref().and_then(|s| s.buffer.as_ref()) {
            Some(buffer) => buffer.lock().expect("not poisoned").push_str(&self.tagged(text)),
            None => write_stdout(&self.tagged(text)),
        }
    }

    fn err(&self, text: &str) {
        write_stderr(&self.tagged(text));
    }

    /// A JSON log line: `ts` (RFC 3339, UTC), `level`, `message`, `tenant`
    /// when it is about one, and `server` when this is one server's part.
    fn log(&self, level: &str, tenant: Option<&str>, message: &str) {
        let mut line = serde_json::json!({ "ts": crate::cli::json::now(), "level": level, "message": message });
        if let Some(tenant) = tenant {
            line["tenant"] = serde_json::Value::from(tenant);
        }
        if let Some(scope) = &self.scope {
            line["server"] = serde_json::Value::from(scope.server.as_str());
        }
        write_stderr(&format!("{line}\n"));
    }

    /// Whether this command's lines are its data (see [`Printer::with_data_lines`]).
    pub fn lines_are_data(&self) -> bool {
        self.lines_are_data
    }

    pub fn is_json(&self) -> bool {
        self.json
    }

    /// A human result line on stdout (suppressed by `--json`, and by
    /// `--quiet` unless the lines are the command's data).
    pub fn line(&self, text: impl AsRef<str>) {
        if !self.json && (self.verbosity != Verbosity::Quiet || self.lines_are_data) {
            self.out(&format!("{}\n", text.as_ref()));
        }
    }

    /// A fleet command's one summary line (`rollover: 3 tenants, …`): the
    /// line cron logs, so `--quiet` keeps it; `--json` has the document.
    pub fn summary(&self, text: impl AsRef<str>) {
        if !self.json {
            self.out(&format!("{}\n", text.as_ref()));
        }
    }

    /// A human line `--quiet` must not hide: a secret shown only once (a
    /// generated password, a sample key). Suppressed only by `--json`,
    /// whose document carries it.
    pub fn once(&self, text: impl AsRef<str>) {
        self.summary(text);
    }

    /// Output that *is* the result (rendered SQL, a URL): always on stdout.
    pub fn data(&self, text: impl AsRef<str>) {
        self.out(text.as_ref());
    }

    /// The `--json` document, on stdout.
    pub fn json<T: Serialize>(&self, value: &T) {
        if self.json {
            self.document(value);
        }
    }

    /// A JSON document on stdout whatever `--json` says (`verify --format
    /// json`); with `--json` it counts as the run's one document.
    pub fn document<T: Serialize>(&self, value: &T) {
        self.document_printed.store(true, Ordering::Relaxed);
        if let Some(scope) = &self.scope {
            let value = serde_json::to_value(value).expect("JSON output is serializable");
            *scope.document.lock().expect("not poisoned") = Some(value);
            return;
        }
        self.out(&format!("{}\n", serde_json::to_string_pretty(value).expect("JSON output is serializable")));
    }

    /// With `--json`, the error as the run's document when the command
    /// printed none before failing: `{"error": {"message", "exit_code",
    /// "kind"}}`. `message` must already be redacted.
    pub fn json_error(&self, message: &str, code: crate::error::ExitCode) {
        if self.json && !self.document_printed.load(Ordering::Relaxed) {
            let (exit_code, kind) = (code as u8, code.kind());
            self.json(&serde_json::json!({ "error": { "message": message, "exit_code": exit_code, "kind": kind } }));
        }
    }

    /// A typed report as the `--json` document, with its keys in
    /// alphabetical order like every other document of this printer.
    pub fn json_report<T: Serialize>(&self, report: &T) {
        if self.json {
            self.json(&serde_json::to_value(report).expect("JSON output is serializable"));
        }
    }

    /// Progress chatter on stderr (suppressed by `--quiet`).
    pub fn note(&self, text: impl AsRef<str>) {
        if self.verbosity != Verbosity::Quiet {
            match self.log {
                LogFormat::Text => self.err(&format!("{}\n", style(text.as_ref()).for_stderr().dim())),
                LogFormat::Json => self.log("info", None, text.as_ref()),
            }
        }
    }

    /// Detail for `--verbose` only, on stderr.
    pub fn detail(&self, text: impl AsRef<str>) {
        if self.verbosity == Verbosity::Verbose {
            match self.log {
                LogFormat::Text => self.err(&format!("{}\n", text.as_ref())),
                LogFormat::Json => self.log("debug", None, text.as_ref()),
            }
        }
    }

    /// A warning on stderr; shown even with `--quiet`.
    pub fn warn(&self, text: impl AsRef<str>) {
        self.warning(None, text.as_ref());
    }

    /// A warning about one tenant: `warning: tenant <code>: …`, or a JSON
    /// log line whose `tenant` says which.
    pub fn warn_tenant(&self, tenant: &str, text: impl AsRef<str>) {
        self.warning(Some(tenant), text.as_ref());
    }

    fn warning(&self, tenant: Option<&str>, text: &str) {
        let text = without_label(text);
        match (self.log, tenant) {
            (LogFormat::Json, _) => self.log("warn", tenant, text),
            (LogFormat::Text, None) => self.err(&format!("{} {text}\n", warning_label())),
            // An engine message that already names the tenant keeps its own words.
            (LogFormat::Text, Some(code)) if names_tenant(text, code) => {
                self.err(&format!("{} {text}\n", warning_label()))
            }
            (LogFormat::Text, Some(code)) => self.err(&format!("{} tenant {code}: {text}\n", warning_label())),
        }
    }

    /// A diagnostic shown whatever `--quiet` says, as it is (no label) or as
    /// a JSON log line of `level`: who verify skipped, verify's findings.
    pub fn always(&self, level: &str, tenant: Option<&str>, text: &str) {
        match self.log {
            LogFormat::Text => self.err(&format!("{text}\n")),
            LogFormat::Json => self.log(level, tenant, text),
        }
    }

    /// The run's error, once, on stderr: `error: …` or a JSON log line.
    pub fn error_line(&self, message: &str) {
        match self.log {
            LogFormat::Text => {
                let label = style("error:").for_stderr().red().bold();
                self.err(&format!("{label} {message}\n"));
            }
            LogFormat::Json => self.log("error", None, message),
        }
    }

    /// Whether progress bars draw: an interactive stderr, not `--json`,
    /// `--quiet` or JSON logs.
    pub fn shows_progress(&self) -> bool {
        self.stderr_is_terminal
            && !self.json
            && self.verbosity != Verbosity::Quiet
            && self.log == LogFormat::Text
            && self.scope.as_ref().is_none_or(|s| !s.tagged)
    }

    /// Progress over many tenants on several workers: an overall bar plus one
    /// line per worker saying what it is doing. Hidden without a terminal.
    pub fn fleet_progress(&self, total: u64, workers: usize, message: &str) -> FleetProgress {
        let multi = MultiProgress::with_draw_target(match self.shows_progress() {
            true => ProgressDrawTarget::stderr(),
            false => ProgressDrawTarget::hidden(),
        });
        let overall = multi.add(self.progress(total, message));
        let lines = (0..workers)
            .map(|_| {
                let line = multi.add(ProgressBar::new_spinner());
                line.set_style(ProgressStyle::with_template("  {spinner} {msg}").expect("static template"));
                line
            })
            .collect();
        FleetProgress { multi, overall, lines }
    }

    /// A progress bar that draws only on an interactive stderr.
    pub fn progress(&self, len: u64, message: &str) -> ProgressBar {
        let target = if self.shows_progress() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        let bar = ProgressBar::with_draw_target(Some(len), target);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len}")
                .expect("static template")
                .progress_chars("=> "),
        );
        bar.set_message(message.to_owned());
        bar
    }
}

/// Set once stdout's reader is gone or a write failed: later output is dropped.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
/// The first stdout write error other than a closed pipe (a full disk…).
static STDOUT_ERROR: Mutex<Option<String>> = Mutex::new(None);

fn write_stdout(text: &str) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    let Err(error) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) else { return };
    STDOUT_CLOSED.store(true, Ordering::Relaxed);
    if error.kind() != std::io::ErrorKind::BrokenPipe {
        if let Ok(mut first) = STDOUT_ERROR.lock() {
            first.get_or_insert_with(|| error.to_string());
        }
    }
}

/// Whether `text` begins by naming tenant `code` ("tenant lic stopped …",
/// "tenant lic: …"), so no second "tenant lic:" goes before it.
pub fn names_tenant(text: &str, code: &str) -> bool {
    text.strip_prefix("tenant ")
        .and_then(|rest| rest.strip_prefix(code))
        .is_some_and(|rest| rest.starts_with([' ', ':']))
}

/// A message that carries its own "WARNING:" (libpq's words for a password
/// file it ignores) gets the printer's label only: no "warning: WARNING:".
fn without_label(text: &str) -> &str {
    match text.get(..9) {
        Some(label) if label.eq_ignore_ascii_case("warning: ") => &text[9..],
        _ => text,
    }
}

fn warning_label() -> StyledObject<&'static str> {
    style("warning:").for_stderr().yellow().bold()
}

/// stderr is where errors go; when it is closed there is nobody to tell.
fn write_stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// Whether everything printed on stdout arrived (or its reader left on
/// purpose): an output that could not be written fails the command (exit 1).
pub fn stdout_result() -> anyhow::Result<()> {
    match STDOUT_ERROR.lock().ok().and_then(|e| e.clone()) {
        None => Ok(()),
        Some(error) => Err(crate::error::failed(format!("cannot write the output to stdout: {error}"))),
    }
}

/// See [`Printer::fleet_progress`].
pub struct FleetProgress {
    multi: MultiProgress,
    overall: ProgressBar,
    lines: Vec<ProgressBar>,
}

impl FleetProgress {
    /// Worker `worker` starts on `what`.
    pub fn working(&self, worker: usize, what: &str) {
        if let Some(line) = self.lines.get(worker) {
            line.set_message(what.to_owned());
            line.tick();
        }
    }

    /// Worker `worker` finished `what`: its line says so (and stays so until
    /// it starts the next), instead of showing a finished tenant as still
    /// being worked on.
    pub fn finished(&self, worker: usize, what: &str) {
        if let Some(line) = self.lines.get(worker) {
            line.set_message(what.to_owned());
        }
    }

    /// One item finished: a result line on stdout, or a tenant's failure
    /// on stderr, printed above the bars (or plainly without a terminal).
    pub fn done(&self, printer: &Printer, line: Result<String, (&str, String)>) {
        self.overall.inc(1);
        self.multi.suspend(|| match line {
            Ok(line) => printer.line(line),
            Err((tenant, failure)) => printer.warn_tenant(tenant, failure),
        });
    }

    /// One item finished, nothing to print.
    pub fn tick(&self) {
        self.overall.inc(1);
    }

    pub fn finish(&self) {
        for line in &self.lines {
            line.finish_and_clear();
        }
        self.overall.finish_and_clear();
    }
}

/// Styling helpers for stdout text (no-ops when colour is off).
pub fn good<D>(value: D) -> StyledObject<D> {
    style(value).green()
}

pub fn bad<D>(value: D) -> StyledObject<D> {
    style(value).red().bold()
}

pub fn strong<D>(value: D) -> StyledObject<D> {
    style(value).bold()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_worker_line_shows_a_finished_tenant_as_finished_and_finish_clears_every_line() {
        let printer = super::Printer::new(false, super::Verbosity::Normal);
        let fleet = printer.fleet_progress(2, 2, "tenants");
        fleet.working(0, "lic");
        fleet.working(1, "hdfc");
        fleet.finished(0, "lic: done");
        fleet.tick();
        assert_eq!((fleet.lines[0].message(), fleet.lines[1].message()), ("lic: done".into(), "hdfc".into()));
        assert_eq!(fleet.overall.position(), 1);
        fleet.finish();
        assert!(fleet.lines.iter().chain([&fleet.overall]).all(|bar| bar.is_finished()));
    }

    #[test]
    fn a_message_s_own_warning_label_is_not_doubled() {
        assert_eq!(super::without_label("WARNING: password file \"x\" is ignored"), "password file \"x\" is ignored");
        assert_eq!(super::without_label("warning: w"), "w");
        assert_eq!(super::without_label("warnings are off"), "warnings are off");
        assert_eq!(super::without_label("é"), "é");
        assert!(super::names_tenant("tenant lic: x", "lic") && super::names_tenant("tenant lic stopped", "lic"));
        assert!(!super::names_tenant("tenant lica: x", "lic") && !super::names_tenant("lic: x", "lic"));
    }
}
