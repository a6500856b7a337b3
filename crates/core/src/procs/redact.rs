//! Redaction of a command line: the values of arguments that look secret (`--password=...`,
//! `--token ...`, `API_KEY=...`, a URL's `user:password@`, credential headers, a few programs'
//! own flags) replaced by [`REDACTED`], argument by argument, before the line is joined and cut.

/// What stands for a redacted value.
pub const REDACTED: &[u8] = b"***";

/// What the previous argument asked of this one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Next {
    Plain,
    /// A secret's value (`--password VALUE`).
    Secret,
    /// `user:password` (`curl -u`): what follows the first `:` is a secret.
    UserPass,
}

/// `args` (separated by `sep`) into `out` (separated by NULs), with secret-looking values
/// replaced by [`REDACTED`]. The rules, all of them heuristics (`off` is the sure way):
/// - `--NAME=VALUE`, `-NAME=VALUE`, `NAME=VALUE` (env-like) whose NAME looks secret
///   ([`secret_name`]: `password`, `passwd`, `pass`, `passphrase`, `pw`, `secret`, `token`,
///   `auth`, `credential`, `cookie`, `signature`, `api-key`, `access_key`, `PGPASSWORD`,
///   `MYSQL_PWD`...), and such pairs in `,`/`&`/`;`/`?` lists (mount options, URL queries);
/// - `--NAME VALUE` / `-NAME VALUE`: the next argument, whatever it is;
/// - `user:password@` in a URL (`scheme://user:***@host`);
/// - an HTTP header argument (`Authorization: ...`, `Cookie: ...`, `X-Api-Key: ...`);
/// - the words of an argument holding spaces (a shell script: `sh -c "..."`), by these rules;
/// - program flags known to carry one: `mysql -pSECRET` (and mysqldump, mariadb...),
///   `sshpass -p SECRET`, `redis-cli -a SECRET`, `curl -u user:SECRET`.
pub(super) fn redact(args: &[u8], sep: u8, last_cut: bool, out: &mut Vec<u8>) {
    let mut list: Vec<&[u8]> = args.split(|&b| b == sep).collect();
    while list.last().is_some_and(|a| a.is_empty()) {
        list.pop();
    }
    if last_cut {
        list.pop();
    }
    let program = list.first().map_or(&b""[..], |a| {
        let a = a.strip_suffix(b":").unwrap_or(a);
        a.rsplit(|&b| b == b'/').next().unwrap_or(a)
    });
    let mut next = Next::Plain;
    for (i, arg) in list.iter().enumerate() {
        if i > 0 {
            out.push(0);
        }
        let asked = std::mem::replace(&mut next, Next::Plain);
        match asked {
            // A secret flag where its value was due: the first had none (it prompts); the value
            // due is the next one's.
            Next::Secret if flag_name(arg).is_some_and(secret_name) => {
                out.extend_from_slice(arg);
                next = Next::Secret;
                continue;
            }
            Next::Secret => {
                out.extend_from_slice(REDACTED);
                continue;
            }
            Next::UserPass => {
                user_pass(arg, out);
                continue;
            }
            Next::Plain => {}
        }
        if i > 0 {
            if let Some(n) = program_flag(program, arg, out) {
                next = n;
                continue;
            }
        }
        if let Some(name) = flag_name(arg) {
            if secret_name(name) && !name.starts_with(b"no-") && !name.starts_with(b"no_") {
                out.extend_from_slice(arg);
                next = Next::Secret;
                continue;
            }
        }
        if let Some(eq) = assignment(arg) {
            if secret_name(strip_dashes(&arg[..eq])) {
                out.extend_from_slice(&arg[..=eq]);
                out.extend_from_slice(REDACTED);
                continue;
            }
        }
        if let Some(colon) = header(arg) {
            out.extend_from_slice(&arg[..=colon]);
            out.push(b' ');
            out.extend_from_slice(REDACTED);
            continue;
        }
        if sep != b' ' && arg.contains(&b' ') {
            // A script in one argument (`sh -c "mysql --password=x db"`): its words by the same
            // rules, as if they were arguments (no shell quoting is understood).
            let start = out.len();
            redact(arg, b' ', false, out);
            for b in &mut out[start..] {
                if *b == 0 {
                    *b = b' ';
                }
            }
            continue;
        }
        inner(arg, out);
    }
}

/// `s` without its leading dashes.
fn strip_dashes(mut s: &[u8]) -> &[u8] {
    while let [b'-', rest @ ..] = s {
        s = rest;
    }
    s
}

/// `-NAME` or `--NAME` (no `=`): NAME.
fn flag_name(arg: &[u8]) -> Option<&[u8]> {
    let name = arg.strip_prefix(b"--").or_else(|| arg.strip_prefix(b"-"))?;
    (name.len() > 1 && name[0].is_ascii_alphabetic() && name.iter().all(|&b| is_name_byte(b)))
        .then_some(name)
}

/// `[-[-]]NAME=VALUE` with NAME of name characters: the index of the `=`.
fn assignment(arg: &[u8]) -> Option<usize> {
    let eq = memchr::memchr(b'=', arg)?;
    let name = strip_dashes(&arg[..eq]);
    (!name.is_empty() && name.iter().all(|&b| is_name_byte(b))).then_some(eq)
}

/// `Name: value` where Name is an HTTP header that carries a credential: the index of `:`.
fn header(arg: &[u8]) -> Option<usize> {
    let colon = memchr::memchr(b':', arg)?;
    let name = &arg[..colon];
    if name.is_empty() || !name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-') {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    let known = matches!(
        &lower[..],
        b"authorization" | b"proxy-authorization" | b"cookie" | b"set-cookie"
    );
    // Other names only as `Name: value` (`host:port` is not a header).
    (known || (arg.get(colon + 1) == Some(&b' ') && secret_name(name))).then_some(colon)
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// Whether an option or variable name looks like it holds a secret: its last word (words split
/// at `-`, `_`, `.` and lower-to-upper case changes) is one of `password`, `passwd`, `pass`,
/// `passphrase`, `pw`, `secret(s)`, `token`, `auth`, `credential(s)`, `cookie`, `signature`,
/// `passin`, `passout`, or ends in `password`, `passwd`, `secret`, `token` (`PGPASSWORD`,
/// `authtoken`), or `pwd` after another word (`MYSQL_PWD`, not `PWD`), or it is `key` after
/// `api`, `access`, `secret`, `private`, `client`, `auth`, `signing`, `encryption`, `master`,
/// `account`, `storage`, `license` (or one word of those: `apikey`).
pub fn secret_name(name: &[u8]) -> bool {
    // The last two words, as ranges of `name`, and how many there are.
    let (mut prev, mut last, mut n) = ((0, 0), (0, 0), 0);
    let mut start = 0;
    for i in 0..=name.len() {
        let split = match name.get(i) {
            None => true,
            Some(b) if !b.is_ascii_alphanumeric() => true,
            Some(b) => i > start && b.is_ascii_uppercase() && name[i - 1].is_ascii_lowercase(),
        };
        if split {
            if i > start {
                (prev, last, n) = (last, (start, i), n + 1);
            }
            start = if name.get(i).is_some_and(u8::is_ascii_alphanumeric) {
                i
            } else {
                i + 1
            };
        }
    }
    if n == 0 || last.1 - last.0 > 32 {
        return false;
    }
    let mut buf = [0u8; 32];
    let lower = &mut buf[..last.1 - last.0];
    lower.copy_from_slice(&name[last.0..last.1]);
    lower.make_ascii_lowercase();
    let last = &*lower;
    const WORDS: [&[u8]; 16] = [
        b"password",
        b"passwd",
        b"pass",
        b"passphrase",
        b"pw",
        b"secret",
        b"secrets",
        b"token",
        b"auth",
        b"credential",
        b"credentials",
        b"cookie",
        b"signature",
        b"passin",
        b"passout",
        b"sig",
    ];
    const ENDINGS: [&[u8]; 7] = [
        b"password",
        b"passwd",
        b"secret",
        b"token",
        b"apikey",
        b"accesskey",
        b"secretkey",
    ];
    const KEY_OF: [&[u8]; 12] = [
        b"api",
        b"access",
        b"secret",
        b"private",
        b"client",
        b"auth",
        b"signing",
        b"encryption",
        b"master",
        b"account",
        b"storage",
        b"license",
    ];
    if WORDS.contains(&last) || ENDINGS.iter().any(|e| last.ends_with(e)) {
        return true;
    }
    if n >= 2 && last == b"pwd" {
        return true;
    }
    if n >= 2 && last == b"key" {
        let prev = name[prev.0..prev.1].to_ascii_lowercase();
        return KEY_OF.contains(&&prev[..]);
    }
    false
}

/// Flags of known programs that carry a secret: handled (written to `out`) when `arg` is one,
/// with what the next argument is.
fn program_flag(program: &[u8], arg: &[u8], out: &mut Vec<u8>) -> Option<Next> {
    let mysql = matches!(
        program,
        b"mysql"
            | b"mysqldump"
            | b"mysqladmin"
            | b"mysqlimport"
            | b"mysqlshow"
            | b"mysqlcheck"
            | b"mysqlslap"
            | b"mariadb"
            | b"mariadb-dump"
            | b"mariadb-admin"
    );
    let attached = |flag: &[u8], out: &mut Vec<u8>| {
        let v = arg.strip_prefix(flag)?;
        if v.is_empty() || arg.starts_with(b"--") {
            return None;
        }
        out.extend_from_slice(flag);
        out.extend_from_slice(REDACTED);
        Some(Next::Plain)
    };
    match program {
        // `-p` alone makes mysql ask; the next argument is a database name.
        _ if mysql => attached(b"-p", out),
        b"sshpass" if arg == b"-p" => {
            out.extend_from_slice(arg);
            Some(Next::Secret)
        }
        b"sshpass" => attached(b"-p", out),
        b"redis-cli" if arg == b"-a" => {
            out.extend_from_slice(arg);
            Some(Next::Secret)
        }
        b"redis-cli" => attached(b"-a", out),
        b"curl" if matches!(arg, b"-u" | b"--user" | b"-U" | b"--proxy-user") => {
            out.extend_from_slice(arg);
            Some(Next::UserPass)
        }
        b"curl" => {
            let (flag, v) = if let Some(v) = arg.strip_prefix(b"--user=") {
                (&arg[..7], v)
            } else if let Some(v) = arg.strip_prefix(b"-u").filter(|v| !v.is_empty()) {
                (&arg[..2], v)
            } else {
                return None;
            };
            out.extend_from_slice(flag);
            user_pass(v, out);
            Some(Next::Plain)
        }
        _ => None,
    }
}

/// `user:password` with what follows the first `:` redacted.
fn user_pass(arg: &[u8], out: &mut Vec<u8>) {
    match memchr::memchr(b':', arg) {
        Some(c) => {
            out.extend_from_slice(&arg[..=c]);
            out.extend_from_slice(REDACTED);
        }
        None => out.extend_from_slice(arg),
    }
}

/// An argument not secret as a whole, with the secrets inside it redacted: the password of a
/// URL's `user:password@`, and secret-named values of `,`/`&`/`;`/`?` separated `NAME=VALUE`
/// lists (`?access_token=...`, `-o user=x,password=y`).
fn inner(arg: &[u8], out: &mut Vec<u8>) {
    // Ranges of `arg` that become REDACTED.
    let mut masks: Vec<(usize, usize)> = Vec::new();
    // A URL's authority: `scheme://[user[:password]@]host...`.
    let mut from = 0;
    while let Some(p) = memchr::memmem::find(&arg[from..], b"://") {
        let a = from + p + 3;
        let e = arg[a..]
            .iter()
            .position(|&b| matches!(b, b'/' | b'?' | b'#'))
            .map_or(arg.len(), |q| a + q);
        if let Some(at) = memchr::memrchr(b'@', &arg[a..e]) {
            if let Some(c) = memchr::memchr(b':', &arg[a..a + at]) {
                masks.push((a + c + 1, a + at));
            }
        }
        from = a;
    }
    // `NAME=VALUE` at the start or after a list separator.
    for p in 0..arg.len() {
        if p > 0 && !matches!(arg[p - 1], b',' | b'&' | b';' | b'?') {
            continue;
        }
        let eq = p + arg[p..].iter().take_while(|&&c| is_name_byte(c)).count();
        if eq > p && arg.get(eq) == Some(&b'=') && secret_name(&arg[p..eq]) {
            let end = arg[eq + 1..]
                .iter()
                .position(|&c| matches!(c, b',' | b'&' | b';' | b'#'))
                .map_or(arg.len(), |q| eq + 1 + q);
            masks.push((eq + 1, end));
        }
    }
    masks.sort_unstable();
    let mut at = 0;
    for (s, e) in masks {
        if s < at {
            at = at.max(e);
            continue;
        }
        out.extend_from_slice(&arg[at..s]);
        out.extend_from_slice(REDACTED);
        at = e;
    }
    out.extend_from_slice(&arg[at..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        for n in [
            "password",
            "PASS",
            "dbPassword",
            "api_key",
            "X-Api-Key",
            "private-key",
            "pgpassword",
            "MYSQL_PWD",
            "authToken",
            "sig",
        ] {
            assert!(secret_name(n.as_bytes()), "{n}");
        }
        for n in [
            "pwd",
            "PWD",
            "key",
            "passes",
            "tokenizer",
            "keyfile",
            "password-file",
            "user",
            "signed",
            "x",
        ] {
            assert!(!secret_name(n.as_bytes()), "{n}");
        }
    }
}
