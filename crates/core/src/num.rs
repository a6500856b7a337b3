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
