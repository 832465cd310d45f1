//! libpq connection service files (`PGSERVICE` / `service=`).
//!
//! Looked up, like libpq, in `PGSERVICEFILE` (else `~/.pg_service.conf`),
//! then in `pg_service.conf` under `PGSYSCONFDIR` (else
//! `/etc/postgresql-common`, where Debian's libpq looks).

use std::path::{Path, PathBuf};

/// Where a service's settings were found, and the settings.
pub(crate) struct Service {
    pub(crate) file: PathBuf,
    pub(crate) params: Vec<(String, String)>,
}

/// Finds `name`. `Err` carries a one-line reason (no values from the file).
pub(crate) fn find(name: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Service, String> {
    let mut files = Vec::new();
    match env("PGSERVICEFILE") {
        Some(file) => files.push(PathBuf::from(file)),
        None => {
            if let Some(home) = env("HOME") {
                files.push(Path::new(&home).join(".pg_service.conf"));
            }
        }
    }
    let sysconf = env("PGSYSCONFDIR").unwrap_or_else(|| "/etc/postgresql-common".to_owned());
    files.push(Path::new(&sysconf).join("pg_service.conf"));

    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        if let Some(params) = section(&text, name)
            .map_err(|line| format!("syntax error in service file \"{}\", line {line}", file.display()))?
        {
            return Ok(Service { file: file.clone(), params });
        }
    }
    Err(format!(
        "definition of service \"{name}\" not found (looked in {})",
        files.iter().map(|f| format!("\"{}\"", f.display())).collect::<Vec<_>>().join(", ")
    ))
}

/// The `key=value` lines of section `[name]`; `Err(line number)` on a bad line in it.
fn section(text: &str, name: &str) -> Result<Option<Vec<(String, String)>>, usize> {
    let mut found: Option<Vec<(String, String)>> = None;
    let mut inside = false;
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[') {
            if found.is_some() && inside {
                break;
            }
            inside = section.strip_suffix(']') == Some(name);
            if inside {
                found = Some(Vec::new());
            }
            continue;
        }
        if inside {
            let (key, value) = line.split_once('=').ok_or(index + 1)?;
            let key = key.trim();
            if key == "service" {
                return Err(index + 1);
            }
            found.get_or_insert_with(Vec::new).push((key.to_owned(), value.trim().to_owned()));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_section() {
        let text = "# c\n[other]\nhost=x\n[prod]\nhost=db.prod\nport = 6432\ndbname=app\n[next]\nhost=y\n";
        let params = section(text, "prod").unwrap().unwrap();
        assert_eq!(
            params,
            vec![
                ("host".to_owned(), "db.prod".to_owned()),
                ("port".to_owned(), "6432".to_owned()),
                ("dbname".to_owned(), "app".to_owned())
            ]
        );
        assert!(section(text, "missing").unwrap().is_none());
        assert_eq!(section("[a]\nnonsense\n", "a"), Err(2));
    }

    #[test]
    fn reads_service_file_from_env() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("svc.conf");
        std::fs::write(&file, "[prod]\nhost=db.prod\n").unwrap();
        let file_s = file.display().to_string();
        let sys = dir.path().display().to_string();
        let env = move |k: &str| match k {
            "PGSERVICEFILE" => Some(file_s.clone()),
            "PGSYSCONFDIR" => Some(sys.clone()),
            _ => None,
        };
        let found = find("prod", &env).unwrap();
        assert_eq!(found.params, vec![("host".to_owned(), "db.prod".to_owned())]);
        assert!(find("nope", &env).err().unwrap().contains("not found"));
    }
}
