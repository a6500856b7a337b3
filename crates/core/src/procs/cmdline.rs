//! A process's command line: `/proc/<pid>/cmdline` read once (at discovery and when its name
//! changes), arguments joined by spaces and cut to [`CMDLINE_MAX`] bytes on a character; and
//! what of it is recorded ([`CmdlinePolicy`]): by default with the values of arguments that look
//! secret replaced by `***` (see [`recorded_cmdline`]), the one place both the local and the
//! remote watcher make a recorded command line.
use std::os::fd::RawFd;

use crate::error::{Error, Result};

use super::kept::read_all;
use super::redact::redact;
use super::CMDLINE_MAX;

/// What of a watched process's command line goes into the samples. Matching (`cmd:/REGEX/`)
/// always sees the command line as the process has it: it never leaves the sampler.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CmdlinePolicy {
    /// Values of arguments that look secret replaced by `***` ([`recorded_cmdline`]).
    #[default]
    Redacted,
    /// As the process has it.
    Full,
    /// Not at all: `cmdline` is empty.
    Off,
}

impl CmdlinePolicy {
    /// `redacted`, `full` or `off` (the error names the option `cmdline`).
    pub fn parse(s: &str) -> Result<CmdlinePolicy> {
        match s {
            "redacted" => Ok(CmdlinePolicy::Redacted),
            "full" => Ok(CmdlinePolicy::Full),
            "off" => Ok(CmdlinePolicy::Off),
            _ => Err(Error::invalid_option(
                "cmdline",
                format!("must be 'redacted', 'full' or 'off', got {s:?}"),
            )),
        }
    }
}

/// The command line read from `fd`, arguments joined by spaces and cut (what `cmd:` matches).
pub fn read_cmdline_fd(fd: RawFd, buf: &mut Vec<u8>) -> usize {
    let Ok(n) = read_all(fd, buf) else {
        return 0;
    };
    join_cmdline(&mut buf[..n])
}

/// NUL-separated arguments joined by spaces in place (trailing NULs dropped), cut to
/// [`CMDLINE_MAX`] bytes without splitting a UTF-8 character; the joined length.
pub fn join_cmdline(buf: &mut [u8]) -> usize {
    let mut n = buf.len();
    while n > 0 && buf[n - 1] == 0 {
        n -= 1;
    }
    for b in &mut buf[..n] {
        if *b == 0 {
            *b = b' ';
        }
    }
    if n > CMDLINE_MAX {
        n = CMDLINE_MAX;
        // Back off continuation bytes (10xxxxxx) so the cut does not split a character.
        while n > 0 && buf[n] & 0xC0 == 0x80 {
            n -= 1;
        }
    }
    n
}

/// The command line as recorded under `policy`, into `out` (cleared first): `args` are the
/// arguments separated by `sep` (NUL as `/proc` gives them; a space as a remote loop sends
/// them, where an argument holding a space is two), joined by spaces and cut to
/// [`CMDLINE_MAX`] bytes. Redaction comes before the cut, so a cut never shows part of a
/// secret. `last_cut`: the last argument may be cut short (the remote loop bounds the line): it
/// is left out when redacting, since a cut can hide what marks a secret (a URL's `@`).
pub fn recorded_cmdline(
    args: &[u8],
    sep: u8,
    last_cut: bool,
    policy: CmdlinePolicy,
    out: &mut Vec<u8>,
) {
    out.clear();
    match policy {
        CmdlinePolicy::Off => return,
        CmdlinePolicy::Full => out.extend_from_slice(args),
        CmdlinePolicy::Redacted => redact(args, sep, last_cut, out),
    }
    if sep != 0 {
        for b in out.iter_mut() {
            if *b == sep {
                *b = 0;
            }
        }
    }
    let n = join_cmdline(out);
    out.truncate(n);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(line: &str) -> String {
        let raw: Vec<u8> = line.replace(' ', "\0").into_bytes();
        let mut out = Vec::new();
        recorded_cmdline(&raw, 0, false, CmdlinePolicy::Redacted, &mut out);
        let local = String::from_utf8(out.clone()).unwrap();
        // The remote path (space-separated) gives the same for arguments without spaces.
        recorded_cmdline(
            line.as_bytes(),
            b' ',
            false,
            CmdlinePolicy::Redacted,
            &mut out,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            local,
            "remote vs local: {line}"
        );
        local
    }

    #[test]
    fn secret_looking_values_are_redacted() {
        for (line, want) in [
            ("app --password=hunter2 -v", "app --password=*** -v"),
            ("app --password hunter2 -v", "app --password *** -v"),
            ("app -password hunter2", "app -password ***"),
            (
                "app --db-password=x --api-key=y",
                "app --db-password=*** --api-key=***",
            ),
            ("app --apiKey abc", "app --apiKey ***"),
            (
                "app --token=abc --token-file=/run/t",
                "app --token=*** --token-file=/run/t",
            ),
            (
                "app --auth-token abc --auth-type basic",
                "app --auth-token *** --auth-type basic",
            ),
            (
                "env PGPASSWORD=pw DB_PASS=x MYSQL_PWD=y PWD=/home/a psql",
                "env PGPASSWORD=*** DB_PASS=*** MYSQL_PWD=*** PWD=/home/a psql",
            ),
            (
                "app AWS_SECRET_ACCESS_KEY=k GITHUB_TOKEN=t",
                "app AWS_SECRET_ACCESS_KEY=*** GITHUB_TOKEN=***",
            ),
            (
                "app --client-secret s --secret=s2",
                "app --client-secret *** --secret=***",
            ),
            (
                "git clone https://user:ghp_abc@github.com/o/r",
                "git clone https://user:***@github.com/o/r",
            ),
            (
                "psql postgres://bob:pw@db:5432/x?sslmode=require",
                "psql postgres://bob:***@db:5432/x?sslmode=require",
            ),
            (
                "curl https://api.x/v1?access_token=abc&page=2",
                "curl https://api.x/v1?access_token=***&page=2",
            ),
            (
                "mount -o user=bob,password=pw,ro //s/share /mnt",
                "mount -o user=bob,password=***,ro //s/share /mnt",
            ),
            ("curl -u bob:pw https://x", "curl -u bob:*** https://x"),
            (
                "curl -ubob:pw --user=al:pw2 https://x",
                "curl -ubob:*** --user=al:*** https://x",
            ),
            ("mysql -uroot -psecret db", "mysql -uroot -p*** db"),
            ("mysql -p db", "mysql -p db"),
            (
                "/usr/bin/sshpass -p secret ssh host",
                "/usr/bin/sshpass -p *** ssh host",
            ),
            ("redis-cli -a secret ping", "redis-cli -a *** ping"),
            (
                "openssl enc -pass pass:pw -passin pass:x",
                "openssl enc -pass *** -passin ***",
            ),
        ] {
            assert_eq!(rec(line), want, "{line}");
        }
    }

    #[test]
    fn what_is_not_secret_is_kept() {
        for line in [
            "python train.py --epochs 3 --lr=0.1 --tokenizer gpt2",
            "fio --name=job --size=1G job.fio",
            "app --passes=3 --bypass=x --keyfile=/k --key=/etc/tls.pem --sort-key=name",
            "ssh git@github.com",
            "docker run -p 8080:80 nginx",
            "app --no-auth --verbose",
            "app --secret-name=db --token-ttl=30",
            "http://host:8080/path a=b",
        ] {
            assert_eq!(rec(line), line);
        }
    }

    #[test]
    fn a_script_in_one_argument_has_its_words_redacted() {
        let mut out = Vec::new();
        let raw = b"sh\0-c\0mysql -uroot -psecret db; app --password hunter2 --token=t x\0";
        recorded_cmdline(raw, 0, false, CmdlinePolicy::Redacted, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "sh -c mysql -uroot -p*** db; app --password *** --token=*** x"
        );
        // A value holding spaces stays whole under its own flag; plain words are kept.
        let raw = b"app\0--password=a b c\0sh -c echo hi\0";
        let mut out = Vec::new();
        recorded_cmdline(raw, 0, false, CmdlinePolicy::Redacted, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "app --password=*** sh -c echo hi"
        );
    }

    #[test]
    fn a_header_argument_is_redacted() {
        let mut out = Vec::new();
        let raw =
            b"curl\0-H\0Authorization: Bearer abc\0-H\0Accept: text/plain\0-H\0X-Api-Key: k\0";
        recorded_cmdline(raw, 0, false, CmdlinePolicy::Redacted, &mut out);
        assert_eq!(
            out,
            b"curl -H Authorization: *** -H Accept: text/plain -H X-Api-Key: ***"
        );
        // A value with spaces is one argument locally: all of it goes.
        let raw = b"app\0--password\0two words\0-v";
        recorded_cmdline(raw, 0, false, CmdlinePolicy::Redacted, &mut out);
        assert_eq!(out, b"app --password *** -v");
    }

    #[test]
    fn policies_and_the_cut() {
        let raw = b"app\0--token=abc\0\0";
        let mut out = Vec::new();
        recorded_cmdline(raw, 0, false, CmdlinePolicy::Full, &mut out);
        assert_eq!(out, b"app --token=abc");
        recorded_cmdline(raw, 0, false, CmdlinePolicy::Off, &mut out);
        assert!(out.is_empty());
        // Redacted before the cut: a long line whose URL crosses CMDLINE_MAX shows no part of
        // the password.
        let mut long = vec![b'a'; CMDLINE_MAX - 20];
        long.extend_from_slice(b"\0https://u:");
        long.extend(std::iter::repeat_n(b'z', 40));
        long.extend_from_slice(b"@host/x");
        recorded_cmdline(&long, 0, false, CmdlinePolicy::Redacted, &mut out);
        assert_eq!(out.len(), CMDLINE_MAX);
        assert!(!out.contains(&b'z'), "{}", String::from_utf8_lossy(&out));
        // A remote line cut by its loop: the last argument, maybe partial, is left out.
        recorded_cmdline(
            b"app -v https://u:pas",
            b' ',
            true,
            CmdlinePolicy::Redacted,
            &mut out,
        );
        assert_eq!(out, b"app -v");
        assert!(CmdlinePolicy::parse("nope")
            .unwrap_err()
            .to_string()
            .contains("'redacted', 'full' or 'off'"));
    }
}
