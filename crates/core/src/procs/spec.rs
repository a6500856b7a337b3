//! One item of the `watch` option: which processes to watch (ourselves, a PID, a PID and all
//! its descendants, a name, a command-line pattern), parsed with errors that name the item.
use std::fmt;

use crate::error::{Error, Result};

/// Largest PID Linux hands out (`PID_MAX_LIMIT`, 2^22).
const PID_MAX_LIMIT: u32 = 4_194_304;

/// The kernel keeps 15 bytes of a process's name (`comm`).
pub const COMM_MAX: usize = 15;

#[derive(Clone, Debug)]
pub(crate) enum Kind {
    /// The sampler's own process.
    Myself,
    Pid(u32),
    /// The PID and every descendant, now and later.
    Tree(u32),
    /// `comm` equal to this.
    Name(Box<[u8]>),
    /// Over the command line, arguments joined by spaces.
    Cmd(regex::bytes::Regex),
}

#[derive(Clone, Debug)]
pub struct WatchSpec {
    pub(crate) kind: Kind,
    item: Box<str>,
}

impl WatchSpec {
    /// `self`, `N` or `pid:N`, `tree:N`, `name:NAME`, `cmd:/REGEX/`.
    pub fn parse(item: &str) -> Result<WatchSpec> {
        let bad = |why: String| Error::invalid_option("watch", format!("item {item:?}: {why}"));
        let pid = |s: &str| -> Result<u32> {
            match s.parse::<u32>() {
                Ok(n) if (1..=PID_MAX_LIMIT).contains(&n) => Ok(n),
                _ => Err(bad(format!(
                    "{s:?} is not a PID (an integer from 1 to {PID_MAX_LIMIT})"
                ))),
            }
        };
        let kind = if item == "self" {
            Kind::Myself
        } else if let Some(n) = item.strip_prefix("pid:") {
            Kind::Pid(pid(n)?)
        } else if let Some(n) = item.strip_prefix("tree:") {
            Kind::Tree(pid(n)?)
        } else if let Some(name) = item.strip_prefix("name:") {
            if name.is_empty() {
                return Err(bad("the name is empty".into()));
            }
            if name.len() > COMM_MAX {
                return Err(bad(format!(
                    "a name is matched against the kernel's {COMM_MAX}-byte process name \
                     (comm), and {name:?} is {} bytes long: use cmd:/{}/ instead",
                    name.len(),
                    regex::escape(name)
                )));
            }
            Kind::Name(name.as_bytes().into())
        } else if let Some(pat) = item.strip_prefix("cmd:") {
            let inner = pat
                .strip_prefix('/')
                .and_then(|p| p.strip_suffix('/'))
                .filter(|_| pat.len() >= 2)
                .ok_or_else(|| {
                    bad("the pattern must be written between slashes: cmd:/REGEX/".into())
                })?;
            if inner.is_empty() {
                return Err(bad("the pattern is empty".into()));
            }
            let re = regex::bytes::Regex::new(inner)
                .map_err(|e| bad(format!("not a regular expression: {e}")))?;
            Kind::Cmd(re)
        } else if item.bytes().all(|b| b.is_ascii_digit()) && !item.is_empty() {
            Kind::Pid(pid(item)?)
        } else {
            return Err(bad(
                "expected self, a PID (N or pid:N), tree:PID, name:NAME or cmd:/REGEX/".into(),
            ));
        };
        Ok(WatchSpec {
            kind,
            item: item.into(),
        })
    }

    /// The item as it was given.
    pub fn as_str(&self) -> &str {
        &self.item
    }

    /// The PID a `tree:N` item roots at (a caller that spawns the root adds it after the spawn).
    pub fn tree_root(&self) -> Option<u32> {
        match self.kind {
            Kind::Tree(n) => Some(n),
            _ => None,
        }
    }
}

impl fmt::Display for WatchSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn items() {
        assert!(matches!(
            WatchSpec::parse("self").unwrap().kind,
            Kind::Myself
        ));
        assert!(matches!(
            WatchSpec::parse("42").unwrap().kind,
            Kind::Pid(42)
        ));
        assert!(matches!(
            WatchSpec::parse("pid:7").unwrap().kind,
            Kind::Pid(7)
        ));
        assert_eq!(WatchSpec::parse("tree:9").unwrap().tree_root(), Some(9));
        match WatchSpec::parse("name:fio").unwrap().kind {
            Kind::Name(n) => assert_eq!(&*n, b"fio"),
            k => panic!("{k:?}"),
        }
        match WatchSpec::parse(r"cmd:/train\.py/").unwrap().kind {
            Kind::Cmd(re) => {
                assert!(re.is_match(b"python train.py --epochs 3"));
                assert!(!re.is_match(b"python trainXpy"));
            }
            k => panic!("{k:?}"),
        }
        assert_eq!(WatchSpec::parse("cmd:/a/b/").unwrap().as_str(), "cmd:/a/b/");
    }

    #[test]
    fn bad_items_name_the_item() {
        for (item, says) in [
            ("", "expected self"),
            ("pid:", "not a PID"),
            ("0", "not a PID"),
            ("tree:-1", "not a PID"),
            ("99999999", "not a PID"),
            ("name:", "empty"),
            (
                "name:a_very_long_process_name",
                "use cmd:/a_very_long_process_name/",
            ),
            ("cmd:train", "between slashes"),
            ("cmd:/", "between slashes"),
            ("cmd://", "empty"),
            ("cmd:/(/", "not a regular expression"),
            ("fio", "expected self"),
        ] {
            let e = WatchSpec::parse(item).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidOption);
            assert_eq!(e.option(), Some("watch"));
            let text = e.to_string();
            assert!(
                text.starts_with(&format!("watch item {item:?}: ")),
                "{text}"
            );
            assert!(text.contains(says), "{item}: {text}");
        }
    }
}
