//! daemontools' envdir: one file per variable, its first line the value; an empty file
//! removes the variable. Read again before every start, so a restart picks up changes.

use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::OsStringExt;
use std::path::Path;

/// The variables `dir` sets (`Some`) and removes (`None`), sorted by name.
pub fn load(dir: &Path) -> io::Result<Vec<(OsString, Option<OsString>)>> {
    let mut vars = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let bytes = name.as_encoded_bytes();
        if bytes.contains(&b'=') || bytes.starts_with(b".") || !entry.file_type()?.is_file() {
            continue;
        }
        let content = std::fs::read(entry.path())?;
        if content.is_empty() {
            vars.push((name, None));
            continue;
        }
        let mut line: Vec<u8> = content
            .split(|&b| b == b'\n')
            .next()
            .unwrap_or(&[])
            .to_vec();
        while line.last().is_some_and(|&b| b == b' ' || b == b'\t') {
            line.pop();
        }
        // envdir's rule: a NUL in the file stands for a newline in the value.
        for b in &mut line {
            if *b == 0 {
                *b = b'\n';
            }
        }
        vars.push((name, Some(OsString::from_vec(line))));
    }
    vars.sort();
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_line_trimmed_empty_unsets_hidden_skipped() {
        let dir = std::env::temp_dir().join(format!("ss-envdir-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("A"), "one \t\nsecond line\n").unwrap();
        std::fs::write(dir.join("B"), "").unwrap();
        std::fs::write(dir.join("C"), b"x\0y").unwrap();
        std::fs::write(dir.join(".hidden"), "z").unwrap();
        let vars = load(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let some = |s: &str| Some(OsString::from(s));
        assert_eq!(
            vars,
            [
                ("A".into(), some("one")),
                ("B".into(), None),
                ("C".into(), some("x\ny")),
            ]
        );
    }
}
