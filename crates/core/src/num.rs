//! Byte-level helpers shared by the parsers: whitespace tokens and exact integer parsing.

#[inline]
pub fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c')
}

/// Whitespace-separated tokens of a line, like Python's `str.split()`.
#[inline]
pub fn tokens(line: &[u8]) -> Tokens<'_> {
    Tokens { rest: line }
}

/// A hand-rolled scanner: about twice as fast as `split` + `filter` on /proc lines.
pub struct Tokens<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Tokens<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let r = self.rest;
        let start = r.iter().position(|&b| !is_space(b))?;
        let len = r[start..]
            .iter()
            .position(|&b| is_space(b))
            .unwrap_or(r.len() - start);
        self.rest = &r[start + len..];
        Some(&r[start..start + len])
    }
}

/// Lines split on `\n` (as `str.split('\n')`), found with a vectorised search.
pub fn lines(input: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(input);
    std::iter::from_fn(move || {
        let r = rest?;
        match memchr::memchr(b'\n', r) {
            Some(i) => {
                rest = Some(&r[i + 1..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// The first line of `rest` and what follows its `\n` (`None` after the last line), as
/// `split('\n')` would cut it.
#[inline]
pub fn split_line(rest: &[u8]) -> (&[u8], Option<&[u8]>) {
    match memchr::memchr(b'\n', rest) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    }
}

/// Up to 19 digits (which cannot overflow) ending the line: the value and the bytes used,
/// the `\n` included. `None` for anything else; the caller then takes the general path.
#[inline]
pub fn digits_to_eol(s: &[u8]) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        if !b.is_ascii_digit() {
            break;
        }
        if i == 19 {
            return None;
        }
        v = v * 10 + u64::from(b - b'0');
        i += 1;
    }
    match (i, s.get(i)) {
        (0, _) => None,
        (_, None) => Some((v, i)),
        (_, Some(b'\n')) => Some((v, i + 1)),
        _ => None,
    }
}

/// Digits only (no sign, no spaces), as a u64; `None` otherwise or on overflow.
#[inline]
pub fn parse_digits(tok: &[u8]) -> Option<u64> {
    match tok.first() {
        Some(b'+') | None => None,
        Some(_) => parse_u64(tok),
    }
}

pub fn trim(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if is_space(*first) {
            s = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = s {
        if is_space(*last) {
            s = rest;
        } else {
            break;
        }
    }
    s
}

/// A u64 written in decimal (an optional leading `+`, as Python's `int()` accepts); `None` on
/// anything else or on overflow, so a malformed value is skipped instead of wrapped.
#[inline]
pub fn parse_u64(tok: &[u8]) -> Option<u64> {
    let digits = match tok {
        [b'+', rest @ ..] => rest,
        _ => tok,
    };
    if digits.is_empty() {
        return None;
    }
    if digits.len() <= 19 {
        // Nineteen digits cannot overflow a u64: no checks per digit.
        let mut v: u64 = 0;
        for &b in digits {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            v = v * 10 + d as u64;
        }
        return Some(v);
    }
    let mut v: u64 = 0;
    for &b in digits {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(d as u64)?;
    }
    Some(v)
}

/// A decimal float as /proc/loadavg prints it (`0.52`); `None` if malformed.
pub fn parse_f64(tok: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(tok).ok()?;
    // Rust's parser accepts "inf"/"nan" spellings like Python's float(); keep only finite values.
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u64_limits() {
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b"+7"), Some(7));
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u64(b"12a"), None);
    }

    #[test]
    fn lines_like_split() {
        for text in [&b""[..], b"a", b"a\n", b"a\nb", b"\n\n", b"x\ny\n\nz"] {
            let ours: Vec<&[u8]> = lines(text).collect();
            let std: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
            assert_eq!(ours, std);
        }
    }

    #[test]
    fn split_like_python() {
        let t: Vec<&[u8]> = tokens(b"  a \t b\n").collect();
        assert_eq!(t, vec![&b"a"[..], &b"b"[..]]);
        for text in [&b""[..], b"   ", b"x", b" x y  z ", b"\x0bq\x0c"] {
            let ours: Vec<&[u8]> = tokens(text).collect();
            let std: Vec<&[u8]> = text
                .split(|&b| is_space(b))
                .filter(|t| !t.is_empty())
                .collect();
            assert_eq!(ours, std);
        }
        assert_eq!(trim(b" \tx y \n"), b"x y");
    }
}
