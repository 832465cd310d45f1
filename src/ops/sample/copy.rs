//! Streams generated rows into `COPY … FROM STDIN` (text format).
//!
//! Rows are written field by field into one buffer that is handed to the
//! server every few hundred kilobytes, so a 100k-policy sample never sits in
//! memory as strings, and PostgreSQL parses one chunk while the next is
//! generated. Text format rather than binary because several columns are
//! enums, NUMERIC and JSONB, which tokio-postgres cannot encode in binary
//! without extra wrappers, and the server parses text quickly.

use std::fmt::{self, Write as _};

use anyhow::{Context as _, Result};
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::{pin_mut, SinkExt};
use tokio_postgres::Transaction;
use uuid::Uuid;

/// How much generated text is buffered before it is sent.
const CHUNK: usize = 256 * 1024;

/// The COPY text of rows being generated.
pub struct Rows {
    buf: BytesMut,
    at_row_start: bool,
}

impl Rows {
    fn new() -> Rows {
        Rows { buf: BytesMut::with_capacity(CHUNK + 4096), at_row_start: true }
    }

    fn separate(&mut self) {
        if !self.at_row_start {
            self.buf.put_u8(b'\t');
        }
        self.at_row_start = false;
    }

    /// A field from `Display` (escaped as COPY text requires).
    pub fn put(&mut self, value: impl fmt::Display) -> &mut Rows {
        self.separate();
        write!(Escaped(&mut self.buf), "{value}").expect("writing to memory");
        self
    }

    /// A field built from format arguments (JSON, arrays), escaped.
    pub fn fmt(&mut self, args: fmt::Arguments<'_>) -> &mut Rows {
        self.separate();
        Escaped(&mut self.buf).write_fmt(args).expect("writing to memory");
        self
    }

    pub fn uuid(&mut self, id: Uuid) -> &mut Rows {
        self.separate();
        self.buf.put_slice(id.hyphenated().encode_lower(&mut Uuid::encode_buffer()).as_bytes());
        self
    }

    pub fn null(&mut self) -> &mut Rows {
        self.separate();
        self.buf.put_slice(b"\\N");
        self
    }

    pub fn opt(&mut self, value: Option<impl fmt::Display>) -> &mut Rows {
        match value {
            Some(value) => self.put(value),
            None => self.null(),
        }
    }

    /// An amount in paise as a NUMERIC with two decimals.
    pub fn money(&mut self, paise: i64) -> &mut Rows {
        self.put(format_args!("{}.{:02}", paise / 100, paise % 100))
    }

    pub fn end(&mut self) {
        self.buf.put_u8(b'\n');
        self.at_row_start = true;
    }
}

/// Escapes COPY text's special bytes; the fast path copies clean strings whole.
struct Escaped<'a>(&'a mut BytesMut);

impl fmt::Write for Escaped<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if !s.bytes().any(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r')) {
            self.0.put_slice(s.as_bytes());
            return Ok(());
        }
        for b in s.bytes() {
            match b {
                b'\\' => self.0.put_slice(b"\\\\"),
                b'\t' => self.0.put_slice(b"\\t"),
                b'\n' => self.0.put_slice(b"\\n"),
                b'\r' => self.0.put_slice(b"\\r"),
                _ => self.0.put_u8(b),
            }
        }
        Ok(())
    }
}

/// Runs `copy` (a `COPY … FROM STDIN` statement) with the rows `row` writes
/// for each index in `0..count` (any number of rows per index). Returns the
/// number of rows the server loaded.
pub async fn copy_in(tx: &Transaction<'_>, copy: &str, count: u64, mut row: impl FnMut(u64, &mut Rows)) -> Result<u64> {
    let table = copy.split_whitespace().nth(1).unwrap_or("?").to_owned();
    let sink = tx.copy_in::<_, Bytes>(copy).await.with_context(|| format!("cannot start COPY into {table}"))?;
    pin_mut!(sink);
    let mut rows = Rows::new();
    for index in 0..count {
        row(index, &mut rows);
        if rows.buf.len() >= CHUNK {
            sink.send(rows.buf.split().freeze()).await.with_context(|| format!("COPY into {table} failed"))?;
        }
    }
    if !rows.buf.is_empty() {
        sink.send(rows.buf.split().freeze()).await.with_context(|| format!("COPY into {table} failed"))?;
    }
    sink.finish().await.with_context(|| format!("COPY into {table} failed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_tab_separated_and_escaped() {
        let mut rows = Rows::new();
        rows.put("a\tb\\c").null().money(123_405).put(7);
        rows.end();
        rows.uuid(Uuid::nil()).fmt(format_args!("{{\"city\": \"{}\"}}", "Pune"));
        rows.end();
        assert_eq!(
            std::str::from_utf8(&rows.buf).unwrap(),
            "a\\tb\\\\c\t\\N\t1234.05\t7\n00000000-0000-0000-0000-000000000000\t{\"city\": \"Pune\"}\n"
        );
    }
}
