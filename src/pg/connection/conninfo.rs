//! Parsing connection strings the way libpq does: `postgresql://` URIs and
//! `key=value` lists, into an ordered list of libpq keywords and values.
//!
//! Nothing here ever puts a value into an error message: a connection string
//! may hold a password, and a mistyped one may spread it over other fields.

/// A syntax error; the text never contains any part of the input's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError(pub(crate) String);

impl SyntaxError {
    fn new(message: impl Into<String>) -> SyntaxError {
        SyntaxError(message.into())
    }
}

/// Splits a connection string into `(keyword, value)` pairs, in order; a
/// later pair overrides an earlier one with the same keyword.
pub(crate) fn parse(text: &str) -> Result<Vec<(String, String)>, SyntaxError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(SyntaxError::new("it is empty"));
    }
    if let Some(rest) = strip_scheme(text) {
        return parse_uri(rest);
    }
    if let Some((scheme, _)) = text.split_once("://") {
        if !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c)) {
            return Err(SyntaxError::new(format!(
                "the scheme \"{scheme}\" is not supported; use postgresql:// or postgres://"
            )));
        }
    }
    if !text.contains('=') {
        return Err(SyntaxError::new("expected a postgresql:// URL or key=value pairs such as \"host=db dbname=app\""));
    }
    parse_key_values(text)
}

fn strip_scheme(text: &str) -> Option<&str> {
    ["postgresql://", "postgres://"].iter().find_map(|prefix| {
        if text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix) {
            Some(&text[prefix.len()..])
        } else {
            None
        }
    })
}

/// `postgresql://[user[:password]@][host[:port][,...]][/dbname][?param=value&...]`
fn parse_uri(rest: &str) -> Result<Vec<(String, String)>, SyntaxError> {
    let mut params = Vec::new();
    let mut s = rest;

    // User info: everything before an '@' that comes before the path or query.
    if let Some(at) = s.find(['@', '/', '?']).filter(|&i| s.as_bytes()[i] == b'@') {
        let userinfo = &s[..at];
        s = &s[at + 1..];
        let (user, password) = match userinfo.split_once(':') {
            Some((user, password)) => (user, Some(password)),
            None => (userinfo, None),
        };
        if !user.is_empty() {
            params.push(("user".to_owned(), decode(user, "the user name")?));
        }
        if let Some(password) = password {
            params.push(("password".to_owned(), decode(password, "the password")?));
        }
    }

    let end = s.find(['/', '?']).unwrap_or(s.len());
    let hostspec = &s[..end];
    s = &s[end..];
    if hostspec.contains('@') {
        return Err(SyntaxError::new(
            "it has more than one '@'; percent-encode '@' in the user name or password as %40",
        ));
    }
    if !hostspec.is_empty() {
        push_hosts(hostspec, &mut params)?;
    }

    if let Some(path) = s.strip_prefix('/') {
        let end = path.find('?').unwrap_or(path.len());
        let dbname = &path[..end];
        if !dbname.is_empty() {
            params.push(("dbname".to_owned(), decode(dbname, "the database name")?));
        }
        s = &path[end..];
    }

    if let Some(query) = s.strip_prefix('?') {
        push_query(query, &mut params)?;
    }
    Ok(params)
}

/// `host[:port][,...]` (IPv6 addresses in brackets) as `host=` and `port=`.
fn push_hosts(hostspec: &str, params: &mut Vec<(String, String)>) -> Result<(), SyntaxError> {
    let mut hosts = Vec::new();
    let mut ports = Vec::new();
    let mut any_port = false;
    for chunk in hostspec.split(',') {
        let (host, port) = split_host_port(chunk)?;
        hosts.push(decode(host, "a host name")?);
        if let Some(port) = port {
            any_port = true;
            ports.push(decode(port, "a port")?);
        } else {
            ports.push(String::new());
        }
    }
    if hosts.len() > 1 || !hosts[0].is_empty() {
        params.push(("host".to_owned(), hosts.join(",")));
    }
    if any_port {
        params.push(("port".to_owned(), ports.join(",")));
    }
    Ok(())
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(chunk: &str) -> Result<(&str, Option<&str>), SyntaxError> {
    let Some(bracketed) = chunk.strip_prefix('[') else {
        return Ok(match chunk.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (chunk, None),
        });
    };
    let close =
        bracketed.find(']').ok_or_else(|| SyntaxError::new("an IPv6 host address is missing its closing ']'"))?;
    let after = &bracketed[close + 1..];
    let port = if after.is_empty() {
        None
    } else if let Some(port) = after.strip_prefix(':') {
        Some(port)
    } else {
        return Err(SyntaxError::new("unexpected characters after an IPv6 host address"));
    };
    Ok((&bracketed[..close], port))
}

/// `key=value&...`, percent-decoded; JDBC's `ssl=true` becomes `sslmode=require`.
fn push_query(query: &str, params: &mut Vec<(String, String)>) -> Result<(), SyntaxError> {
    for part in query.split('&').filter(|part| !part.is_empty()) {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| SyntaxError::new("a query parameter has no '=' (expected ?key=value&...)"))?;
        let key = decode(key, "a query parameter name")?;
        let value = decode(value, "a query parameter value")?;
        if key == "ssl" {
            // JDBC-style `ssl=true`, which libpq also understands.
            if value == "true" {
                params.push(("sslmode".to_owned(), "require".to_owned()));
                continue;
            }
            return Err(SyntaxError::new("the query parameter \"ssl\" only accepts \"true\""));
        }
        params.push((key, value));
    }
    Ok(())
}

fn decode(text: &str, what: &str) -> Result<String, SyntaxError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| SyntaxError::new(format!("{what} has an invalid percent-encoding")))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| SyntaxError::new(format!("{what} is not valid UTF-8 once percent-decoded")))
}

/// `key = value key2 = 'quoted \' value'`, with backslash escapes.
fn parse_key_values(text: &str) -> Result<Vec<(String, String)>, SyntaxError> {
    let mut params = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|&c| !c.is_whitespace() && c != '=') {
            key.push(c);
        }
        if key.is_empty() {
            return Err(SyntaxError::new("found '=' without a keyword before it"));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            return Err(SyntaxError::new("a keyword is not followed by '=' (expected key=value pairs)"));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    None => return Err(SyntaxError::new("a quoted value is missing its closing quote")),
                    Some('\'') => break,
                    Some('\\') => {
                        if let Some(c) = chars.next() {
                            value.push(c);
                        }
                    }
                    Some(c) => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    if let Some(c) = chars.next() {
                        value.push(c);
                    }
                } else {
                    value.push(c);
                }
            }
        }
        params.push((key, value));
    }
    Ok(params)
}

/// Quotes a value for a `key=value` string (the form `tokio_postgres::Config` parses).
pub(crate) fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\'' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
        params.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    #[test]
    fn full_uri() {
        let p =
            parse("postgresql://bob:s%40cret@db.example.com:6432/app?sslmode=verify-full&application_name=x").unwrap();
        assert_eq!(get(&p, "user"), Some("bob"));
        assert_eq!(get(&p, "password"), Some("s@cret"));
        assert_eq!(get(&p, "host"), Some("db.example.com"));
        assert_eq!(get(&p, "port"), Some("6432"));
        assert_eq!(get(&p, "dbname"), Some("app"));
        assert_eq!(get(&p, "sslmode"), Some("verify-full"));
        assert_eq!(get(&p, "application_name"), Some("x"));
    }

    #[test]
    fn uri_without_port_leaves_port_unset() {
        let p = parse("postgres://db/app").unwrap();
        assert_eq!(get(&p, "host"), Some("db"));
        assert_eq!(get(&p, "port"), None);
        assert_eq!(get(&p, "user"), None);
    }

    #[test]
    fn uri_multi_host_ipv6_and_socket() {
        let p = parse("postgres://[::1]:5433,db2/app").unwrap();
        assert_eq!(get(&p, "host"), Some("::1,db2"));
        assert_eq!(get(&p, "port"), Some("5433,"));
        let p = parse("postgresql://%2Fvar%2Frun%2Fpostgresql/app").unwrap();
        assert_eq!(get(&p, "host"), Some("/var/run/postgresql"));
        let p = parse("postgresql:///app?host=/tmp&port=5555").unwrap();
        assert_eq!(get(&p, "host"), Some("/tmp"));
        assert_eq!(get(&p, "port"), Some("5555"));
        let p = parse("postgresql://").unwrap();
        assert!(p.is_empty());
    }

    #[test]
    fn uri_ssl_true_and_query_with_at() {
        let p = parse("postgres://db?ssl=true&user=a@b").unwrap();
        assert_eq!(get(&p, "sslmode"), Some("require"));
        assert_eq!(get(&p, "user"), Some("a@b"));
    }

    #[test]
    fn uri_errors_do_not_echo_values() {
        for bad in [
            "postgres://u:p@ss@host/db",
            "postgres://u:pa%zzss@host/db",
            "postgres://host/db?sekrit",
            "postgres://[::1/db",
            "mysql://u:sekrit@host/db",
            "sekrit",
        ] {
            let err = parse(bad).unwrap_err().0;
            assert!(!err.contains("sekrit") && !err.contains("ss@"), "{err}");
        }
    }

    #[test]
    fn key_values() {
        let p = parse("host=db port = 5433 user=bob password='it\\'s a secret' dbname=app sslmode=verify-ca").unwrap();
        assert_eq!(get(&p, "host"), Some("db"));
        assert_eq!(get(&p, "port"), Some("5433"));
        assert_eq!(get(&p, "password"), Some("it's a secret"));
        assert_eq!(get(&p, "sslmode"), Some("verify-ca"));
        assert!(parse("host=db password='open").is_err());
        assert!(parse("host=db sekrit").unwrap_err().0.find("sekrit").is_none());
    }

    #[test]
    fn quoting_round_trips() {
        let p = parse(&format!("options={}", quote("-c search_path='a b'\\x"))).unwrap();
        assert_eq!(get(&p, "options"), Some("-c search_path='a b'\\x"));
    }
}
