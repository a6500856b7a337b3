//! The JSON primitives the sample line is made of, written as the JS writer writes them (which
//! writes what Python's `json.dump` writes): ASCII-only strings, exact integers, floats as
//! `repr(float)`, and the reference's whole-second UTC timestamp. Each appends to a `Vec<u8>`
//! and allocates nothing beyond growing it.
use std::fmt::Write as _;

const HEX: &[u8; 16] = b"0123456789abcdef";

fn unit_escape(out: &mut Vec<u8>, u: u16) {
    out.extend_from_slice(b"\\u");
    for shift in [12, 8, 4, 0] {
        out.push(HEX[usize::from((u >> shift) & 0xf)]);
    }
}

/// `s` as a JSON string literal with `ensure_ascii` (lib/json/string.ts `pyQuote`): printable
/// ASCII as is, the short escapes Python uses, every other UTF-16 unit as `\uXXXX` (lowercase;
/// a character outside the BMP as its surrogate pair, DEL escaped too).
pub fn quote(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut from = 0;
    for (i, c) in s.char_indices() {
        let plain = matches!(c, ' '..='~') && c != '"' && c != '\\';
        if plain {
            continue;
        }
        out.extend_from_slice(&bytes[from..i]);
        from = i + c.len_utf8();
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            _ => {
                let mut units = [0u16; 2];
                for &u in c.encode_utf16(&mut units).iter() {
                    unit_escape(out, u);
                }
            }
        }
    }
    out.extend_from_slice(&bytes[from..]);
    out.push(b'"');
}

/// "00" to "99".
const PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// The decimal digits of `v`, two at a time.
pub fn uint(out: &mut Vec<u8>, v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = v;
    while v >= 100 {
        let p = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[p..p + 2]);
    }
    if v >= 10 {
        let p = v as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[p..p + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + v as u8;
    }
    out.extend_from_slice(&buf[i..]);
}

/// A u64 counter, exactly.
#[inline]
pub fn counter(out: &mut Vec<u8>, v: u64) {
    uint(out, v);
}

/// A u64 that JS holds as a number (`Number(v)`, the nearest double) and writes as that
/// double's exact integer digits: `timestamp_ns`, `running_processes`, `total_processes`.
pub fn as_js_number(out: &mut Vec<u8>, v: u64) {
    // Round to nearest, ties to even, as JS's Number(bigint); from u64::MAX - 1023 on that is 2^64.
    let d = v as f64;
    if d >= 18_446_744_073_709_551_616.0 {
        out.extend_from_slice(b"18446744073709551616");
    } else {
        uint(out, d as u64);
    }
}

/// Fixed-size text sink for `core::fmt`, so formatting a float needs no heap.
struct Stack {
    buf: [u8; 40],
    len: usize,
}

impl std::fmt::Write for Stack {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(std::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Python's `repr(float)` (lib/json/float.ts `pyFloatRepr`): the shortest round-trip digits,
/// fixed notation with `.0` on integral values for 1e-4 <= |x| < 1e16, otherwise exponent
/// notation with a signed exponent of at least two digits (`1e-05`, `1.5e+16`).
pub fn py_float(out: &mut Vec<u8>, x: f64) {
    if x.is_nan() {
        return out.extend_from_slice(b"NaN");
    }
    if x.is_infinite() {
        return out.extend_from_slice(if x > 0.0 { b"Infinity" } else { b"-Infinity" });
    }
    let a = x.abs();
    let mut s = Stack {
        buf: [0; 40],
        len: 0,
    };
    if (1e-4..1e16).contains(&a) {
        // Rust's Display, like JS's String(x), prints the shortest round-trip digits in full.
        write!(s, "{x}").expect("a float in this range fits 40 bytes");
        out.extend_from_slice(&s.buf[..s.len]);
        if x.fract() == 0.0 {
            out.extend_from_slice(b".0");
        }
        return;
    }
    if x == 0.0 {
        return out.extend_from_slice(if x.is_sign_negative() {
            b"-0.0"
        } else {
            b"0.0"
        });
    }
    // `{:e}` gives the shortest digits too: `1.5e-7`, `1e16`.
    write!(s, "{x:e}").expect("a float in exponent form fits 40 bytes");
    let text = &s.buf[..s.len];
    let at = text.iter().position(|&b| b == b'e').expect("{:e} has an e");
    out.extend_from_slice(&text[..=at]);
    let (sign, digits) = match text[at + 1] {
        b'-' => (b'-', &text[at + 2..]),
        _ => (b'+', &text[at + 1..]),
    };
    out.push(sign);
    if digits.len() < 2 {
        out.push(b'0');
    }
    out.extend_from_slice(digits);
}

fn two(out: &mut Vec<u8>, v: u64) {
    out.push(b'0' + (v / 10) as u8);
    out.push(b'0' + (v % 10) as u8);
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a wall time in ns since the epoch, in UTC, as lib/native/decode.ts
/// `isoSeconds` makes it (whole milliseconds, then whole seconds). A u64 of ns ends in 2554, so
/// the year always has four digits.
pub fn iso_seconds(out: &mut Vec<u8>, wall_ns: u64) {
    let secs = wall_ns / 1_000_000_000;
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    uint(out, y);
    out.push(b'-');
    two(out, m);
    out.push(b'-');
    two(out, d);
    out.push(b'T');
    two(out, rem / 3600);
    out.push(b':');
    two(out, rem / 60 % 60);
    out.push(b':');
    two(out, rem % 60);
    out.push(b'Z');
}

/// Year, month, day of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`, for
/// days >= 0).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut v = Vec::new();
        f(&mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn floats_as_python_repr() {
        let cases: [(f64, &str); 16] = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (1.5, "1.5"),
            (0.52, "0.52"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e16, "1e+16"),
            (1.2345e16, "1.2345e+16"),
            (9999999999999998.0, "9999999999999998.0"),
            (1e300, "1e+300"),
            (-2.5e-300, "-2.5e-300"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (x, want) in cases {
            assert_eq!(s(|o| py_float(o, x)), want, "{x:?}");
        }
        assert_eq!(s(|o| py_float(o, 0.1 + 0.2)), "0.30000000000000004");
        assert_eq!(
            s(|o| py_float(o, f64::MIN_POSITIVE)),
            "2.2250738585072014e-308"
        );
    }

    #[test]
    fn strings_as_python_ensure_ascii() {
        assert_eq!(s(|o| quote(o, "sda")), r#""sda""#);
        assert_eq!(
            s(|o| quote(o, "a\"b\\c\n\r\t\u{8}\u{c}\u{1}\u{7f}")),
            r#""a\"b\\c\n\r\t\b\f\u0001\u007f""#
        );
        assert_eq!(s(|o| quote(o, "é€😀")), r#""\u00e9\u20ac\ud83d\ude00""#);
        assert_eq!(s(|o| quote(o, "")), r#""""#);
    }

    #[test]
    fn integers_exact_and_as_js_numbers() {
        for v in [
            0,
            7,
            9,
            10,
            42,
            99,
            100,
            101,
            999,
            1000,
            10_000_000_000_000_000_000,
        ] {
            assert_eq!(s(|o| counter(o, v)), v.to_string());
        }
        assert_eq!(s(|o| counter(o, u64::MAX)), "18446744073709551615");
        assert_eq!(
            s(|o| as_js_number(o, 9_007_199_254_740_993)),
            "9007199254740992"
        );
        assert_eq!(s(|o| as_js_number(o, u64::MAX)), "18446744073709551616");
        assert_eq!(
            s(|o| as_js_number(o, u64::MAX - 1023)),
            "18446744073709551616"
        );
        assert_eq!(
            s(|o| as_js_number(o, u64::MAX - 1024)),
            "18446744073709549568"
        );
        assert_eq!(
            s(|o| as_js_number(o, 1_764_610_000_123_456_789)),
            "1764610000123456768"
        );
    }

    #[test]
    fn timestamps_whole_seconds_utc() {
        assert_eq!(s(|o| iso_seconds(o, 0)), "1970-01-01T00:00:00Z");
        assert_eq!(
            s(|o| iso_seconds(o, 951_782_399_999_999_999)),
            "2000-02-28T23:59:59Z"
        );
        assert_eq!(
            s(|o| iso_seconds(o, 951_868_800_000_000_000)),
            "2000-03-01T00:00:00Z"
        );
        assert_eq!(
            s(|o| iso_seconds(o, 1_709_164_800_500_000_000)),
            "2024-02-29T00:00:00Z"
        );
        assert_eq!(s(|o| iso_seconds(o, u64::MAX)), "2554-07-21T23:34:33Z");
    }
}
