//! A forward cursor for the parsers' fast paths: lines that repeat last tick's names are read
//! in one pass, eight bytes at a time (SWAR), without per-byte branches on digit counts or
//! space runs, whose lengths vary from line to line and would defeat the branch predictor.
//! Every method consumes only on success; a fast path that fails restarts the line on the
//! general path, which defines the semantics.

const ONES: u64 = 0x0101_0101_0101_0101;

/// Eight bytes at `i`, first byte lowest; `None` when fewer remain.
#[inline(always)]
fn load8(s: &[u8], i: usize) -> Option<u64> {
    let b: [u8; 8] = s.get(i..i + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(b))
}

/// Index (0..=8) of the first non-zero byte of `m`, 8 when all are zero.
#[inline(always)]
fn first_nonzero_byte(m: u64) -> usize {
    // High bit of each byte set iff that byte is non-zero; no carries cross bytes.
    let nz = (((m & (0x7F * ONES)).wrapping_add(0x7F * ONES)) | m) & (0x80 * ONES);
    (nz.trailing_zeros() / 8) as usize
}

/// How many of the chunk's bytes, from the first, are ASCII digits (0..=8).
#[inline(always)]
fn leading_digits(chunk: u64) -> usize {
    // A byte is a digit iff its high nibble is 3 before and after adding 6. A carry out of a
    // byte >= 0xFA only reaches later bytes, which are past a non-digit and do not count.
    let hi = 0xF0 * ONES;
    let a = chunk & hi;
    let b = chunk.wrapping_add(0x06 * ONES) & hi;
    first_nonzero_byte((a ^ (0x30 * ONES)) | (b ^ (0x30 * ONES)))
}

/// The value of the first `k` (1..=8) bytes of `chunk`, all ASCII digits.
#[inline(always)]
fn digits_value(chunk: u64, k: usize) -> u64 {
    // Digit values, moved up so the missing digits read as leading zeros (a borrow from a
    // byte past the digits only reaches bytes the shift drops).
    let mut v = chunk.wrapping_sub(0x30 * ONES) << (8 * (8 - k));
    v = ((v & 0x0F00_0F00_0F00_0F00) >> 8) + (v & 0x000F_000F_000F_000F) * 10;
    v = ((v & 0x00FF_0000_00FF_0000) >> 16) + (v & 0x0000_00FF_0000_00FF) * 100;
    ((v & 0x0000_FFFF_0000_0000) >> 32) + (v & 0x0000_0000_0000_FFFF) * 10_000
}

const POW10: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

/// Whether `a` and `b` (same length) are equal: word compares, inlined (a `memcmp` call costs
/// more than these short names).
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    debug_assert_eq!(n, b.len());
    if n >= 8 {
        let mut i = 0;
        while i + 8 < n {
            if load8(a, i) != load8(b, i) {
                return false;
            }
            i += 8;
        }
        // The last word, overlapping the previous one when n is not a multiple of 8.
        load8(a, n - 8) == load8(b, n - 8)
    } else if n >= 4 {
        let w = |s: &[u8], i: usize| {
            s.get(i..i + 4)
                .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
        };
        w(a, 0) == w(b, 0) && w(a, n - 4) == w(b, n - 4)
    } else {
        a == b
    }
}

pub struct Scan<'a> {
    s: &'a [u8],
    pub pos: usize,
}

impl<'a> Scan<'a> {
    #[inline(always)]
    pub fn new(s: &'a [u8]) -> Scan<'a> {
        Scan { s, pos: 0 }
    }

    #[inline(always)]
    pub fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    /// `lit` here; consumed if so.
    #[inline(always)]
    pub fn lit(&mut self, lit: &[u8]) -> bool {
        let end = self.pos + lit.len();
        match self.s.get(self.pos..end) {
            Some(here) if same_bytes(here, lit) => {
                self.pos = end;
                true
            }
            _ => false,
        }
    }

    /// The byte `b` here; consumed if so.
    #[inline(always)]
    pub fn byte(&mut self, b: u8) -> bool {
        if self.s.get(self.pos) == Some(&b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Skips a run of `' '`; returns its length.
    #[inline(always)]
    pub fn spaces(&mut self) -> usize {
        let start = self.pos;
        while let Some(w) = load8(self.s, self.pos) {
            let k = first_nonzero_byte(w ^ (0x20 * ONES));
            self.pos += k;
            if k < 8 {
                return self.pos - start;
            }
        }
        while self.s.get(self.pos) == Some(&b' ') {
            self.pos += 1;
        }
        self.pos - start
    }

    /// A line end here: `\n` (consumed) or the end of input.
    #[inline(always)]
    pub fn eol(&mut self) -> bool {
        self.at_end() || self.byte(b'\n')
    }

    /// 1 to 19 ASCII digits (19 cannot overflow a u64) followed by a non-digit or the end.
    /// Longer numbers are left to the general path, which checks overflow.
    #[inline(always)]
    pub fn u64(&mut self) -> Option<u64> {
        let start = self.pos;
        let mut i = start;
        let mut v: u64 = 0;
        while let Some(chunk) = load8(self.s, i) {
            let k = leading_digits(chunk);
            if k == 0 {
                break;
            }
            if i + k - start > 19 {
                return None;
            }
            v = v * POW10[k] + digits_value(chunk, k);
            i += k;
            if k < 8 {
                self.pos = i;
                return Some(v);
            }
        }
        // Fewer than eight bytes left: one at a time.
        while let Some(&b) = self.s.get(i) {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            if i - start == 19 {
                return None;
            }
            v = v * 10 + u64::from(d);
            i += 1;
        }
        if i == start {
            return None;
        }
        self.pos = i;
        Some(v)
    }

    /// The rest of this line (without its `\n`), consumed with the `\n`.
    #[inline]
    pub fn line(&mut self) -> &'a [u8] {
        let rest = &self.s[self.pos.min(self.s.len())..];
        match memchr::memchr(b'\n', rest) {
            Some(i) => {
                self.pos += i + 1;
                &rest[..i]
            }
            None => {
                self.pos = self.s.len();
                rest
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::num::parse_u64;

    /// What `u64()` must give: the longest digit run here, if 1..=19 digits long.
    fn reference(s: &[u8]) -> Option<(u64, usize)> {
        let n = s.iter().take_while(|b| b.is_ascii_digit()).count();
        (1..=19)
            .contains(&n)
            .then(|| (parse_u64(&s[..n]).unwrap(), n))
    }

    #[test]
    fn numbers_agree_with_the_reference() {
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for digits in 0..=22 {
            for tail in [
                &b""[..],
                b" ",
                b"\n",
                b"x",
                b" 12345678",
                b"\xff\xfa9",
                b"/",
            ] {
                let mut s: Vec<u8> = (0..digits)
                    .map(|i| b'0' + ((i * 7 + 3) % 10) as u8)
                    .collect();
                s.extend_from_slice(tail);
                cases.push(s);
            }
        }
        cases.push(b"18446744073709551615".to_vec());
        cases.push(b"9999999999999999999 ".to_vec());
        cases.push(b"0000000000000000001".to_vec());
        for c in &cases {
            let mut sc = Scan::new(c);
            let got = sc.u64().map(|v| (v, sc.pos));
            assert_eq!(got, reference(c), "{:?}", String::from_utf8_lossy(c));
            if got.is_none() {
                assert_eq!(sc.pos, 0);
            }
        }
        // Every byte value after a digit run ends it exactly where a byte-wise scan would.
        for b in 0..=255u8 {
            let s = [b'4', b'2', b, b'7', b'7', b'7', b'7', b'7', b'7', b'7'];
            let mut sc = Scan::new(&s);
            assert_eq!(sc.u64().map(|v| (v, sc.pos)), reference(&s), "byte {b}");
        }
    }

    #[test]
    fn spaces_literals_and_line_ends() {
        for n in 0..20 {
            let mut s = vec![b' '; n];
            s.extend_from_slice(b"x  ");
            let mut sc = Scan::new(&s);
            assert_eq!(sc.spaces(), n);
            assert!(sc.lit(b"x"));
            assert_eq!(sc.spaces(), 2);
            assert!(sc.eol());
        }
        for key in [
            "a",
            "abc",
            "abcd",
            "abcdefg",
            "abcdefgh",
            "nr_free_pages",
            "nr_zone_inactive_anon",
        ] {
            let text = format!("{key}: 1");
            let mut sc = Scan::new(text.as_bytes());
            assert!(sc.lit(key.as_bytes()));
            assert!(sc.byte(b':'));
            for i in 0..key.len() {
                let mut other = key.as_bytes().to_vec();
                other[i] ^= 1;
                assert!(!Scan::new(text.as_bytes()).lit(&other), "{key} {i}");
            }
        }
        assert!(!Scan::new(b"ab").lit(b"abc"));
        let mut sc = Scan::new(b"a\nb");
        assert_eq!(sc.line(), b"a");
        assert_eq!(sc.line(), b"b");
        assert!(sc.at_end() && sc.eol());
        assert_eq!(sc.line(), b"");
    }
}
