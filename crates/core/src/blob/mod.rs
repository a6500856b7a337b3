//! A run of one host's samples as self-contained bytes, for storage (the aggregator keeps one
//! blob per chunk of samples): the series encoding ([`crate::series::encode_sample`]: a keyframe,
//! then bitmaps of changed values and zigzag varint deltas) plus, per sample, its layout's id, its
//! wall time and its errors. Layouts are not in the blob: the store keeps them once per host and
//! the reader looks them up by id. Every value is an exact `u64`.
//!
//! ```text
//! "HSB1" varint(count) then per sample:
//!   varint(layout id) varint(value count) zigzag-varint(wall_ns - previous wall_ns)
//!   varint(errors) [varint(len) source varint(len) message]...
//!   varint(len) extra JSON text (0: none)
//!   encode_sample(values, previous values when the layout and count are the same)
//! ```
use crate::error::{Error, ErrorCode, Result};
use crate::series::{decode_sample, encode_sample};
use crate::store::{Batch, SampleError};

mod pick;
pub use pick::{pick_blob, Picked, Picks, NONE};

const MAGIC: &[u8; 4] = b"HSB1";

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// The samples of `b` (its columns; `b.layouts` is not needed) as one blob.
pub fn encode_blob(b: &Batch) -> Vec<u8> {
    let n = b.layout_ids.len();
    let mut out = Vec::with_capacity(64 + b.values.len() * 2);
    out.extend_from_slice(MAGIC);
    put_varint(&mut out, n as u64);
    let mut prev: Option<(u32, &[u64])> = None;
    let mut wall = 0u64;
    let mut errors = b.errors.iter().peekable();
    let mut extras = b.extras.iter().peekable();
    for i in 0..n {
        let values = &b.values[b.offsets[i] as usize..b.offsets[i + 1] as usize];
        let id = b.layout_ids[i];
        put_varint(&mut out, u64::from(id));
        put_varint(&mut out, values.len() as u64);
        let d = b.wall_ns[i].wrapping_sub(wall) as i64;
        put_varint(&mut out, ((d << 1) ^ (d >> 63)) as u64);
        wall = b.wall_ns[i];
        let mine: Vec<&SampleError> = std::iter::from_fn(|| errors.next_if(|e| e.0 as usize == i))
            .map(|e| &e.1)
            .collect();
        put_varint(&mut out, mine.len() as u64);
        for e in mine {
            put_str(&mut out, &e.source);
            put_str(&mut out, &e.message);
        }
        put_str(
            &mut out,
            extras.next_if(|e| e.0 as usize == i).map_or("", |e| &e.1),
        );
        let same = prev.filter(|p| p.0 == id && p.1.len() == values.len());
        encode_sample(&mut out, values, same.map(|p| p.1));
        prev = Some((id, values));
    }
    out
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

/// What precedes a sample's errors and values: its layout id and value count.
struct Head {
    id: u32,
    count: usize,
}

impl Reader<'_> {
    fn bad(&self, what: &str) -> Error {
        Error::new(
            ErrorCode::InvalidData,
            format!("sample blob: {what} at byte {}", self.pos),
        )
    }

    fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self
                .data
                .get(self.pos)
                .ok_or_else(|| self.bad("cut short"))?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(self.bad("a varint longer than 64 bits"))
    }

    fn len(&mut self, limit: usize) -> Result<usize> {
        let n = self.varint()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= limit)
            .ok_or_else(|| self.bad("a length past the end"))
    }

    fn string(&mut self) -> Result<String> {
        let n = self.varint()?;
        let n = usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.data.len() - self.pos)
            .ok_or_else(|| self.bad("a string past the end"))?;
        let s = String::from_utf8(self.data[self.pos..self.pos + n].to_vec())
            .map_err(|_| self.bad("a string that is not UTF-8"))?;
        self.pos += n;
        Ok(s)
    }

    fn skip_string(&mut self) -> Result<()> {
        let n = self.varint()?;
        let n = usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.data.len() - self.pos)
            .ok_or_else(|| self.bad("a string past the end"))?;
        self.pos += n;
        Ok(())
    }

    /// A sample's layout id, value count and wall time (`wall`: the previous sample's, moved on).
    fn head(&mut self, wall: &mut u64) -> Result<Head> {
        let id = u32::try_from(self.varint()?).map_err(|_| self.bad("a layout id past 2^32"))?;
        let count = self.len(self.data.len())?;
        let z = self.varint()?;
        *wall = wall.wrapping_add((((z >> 1) as i64) ^ -((z & 1) as i64)) as u64);
        Ok(Head { id, count })
    }

    /// The tag of the sample's values at `pos`, checked: known, a delta only after a sample of the
    /// same layout and count (`prev`), its fixed part (keyframe values, delta bitmap) within the blob.
    fn tag(&self, h: &Head, prev: Option<(u32, usize)>) -> Result<u8> {
        let tag = *self
            .data
            .get(self.pos)
            .ok_or_else(|| self.bad("cut short"))?;
        if tag > 1 {
            return Err(self.bad("an unknown sample tag"));
        }
        let need = if tag == 1 {
            1 + 8 * h.count
        } else {
            if prev != Some((h.id, h.count)) {
                return Err(self.bad("a delta without the sample it follows"));
            }
            1 + h.count.div_ceil(8)
        };
        if self.data.len() - self.pos < need {
            return Err(self.bad("cut short"));
        }
        Ok(tag)
    }
}

/// Append the samples of a blob to `out`'s columns (`out.layouts` stays as it is: the caller
/// knows the layouts by id). A blob that is cut short or malformed is an `InvalidData` error, and
/// `out` is then left as it was.
pub fn decode_blob(blob: &[u8], out: &mut Batch) -> Result<()> {
    decode_blob_bounded(blob, out, usize::MAX)
}

/// `decode_blob` of a blob from elsewhere (a push): more than `max_values` values in all is an
/// `InvalidData` error before they are made. A delta sample costs one bit a value, so without
/// a bound a blob inflates 64-fold into values.
pub fn decode_blob_bounded(blob: &[u8], out: &mut Batch, max_values: usize) -> Result<()> {
    let mut r = Reader { data: blob, pos: 0 };
    if blob.get(..4) != Some(MAGIC) {
        return Err(r.bad("not a hostseries sample blob (no HSB1)"));
    }
    r.pos = 4;
    let n = r.len(blob.len())?;
    let mut staged = Batch::default();
    let first = out.layout_ids.len() as u32;
    let mut values: Vec<u64> = Vec::new();
    let mut prev: Option<(u32, usize)> = None;
    let mut wall = 0u64;
    staged.offsets.push(0);
    for i in 0..n {
        let head = r.head(&mut wall)?;
        let (id, count) = (head.id, head.count);
        if count > max_values - staged.values.len().min(max_values) {
            return Err(r.bad(&format!("more than {max_values} values in all")));
        }
        let errors = r.len(blob.len())?;
        for _ in 0..errors {
            let source = r.string()?;
            let message = r.string()?;
            staged
                .errors
                .push((first + i as u32, SampleError { source, message }));
        }
        let extra = r.string()?;
        if !extra.is_empty() {
            staged.extras.push((first + i as u32, extra));
        }
        // Check the sample fits before decoding it (decode_sample indexes without checks).
        if r.tag(&head, prev)? == 0 {
            // Each set bit is one varint: check the whole sample is within the blob.
            let bitmap = &blob[r.pos + 1..r.pos + 1 + count.div_ceil(8)];
            let deltas = (0..count)
                .filter(|j| bitmap[j / 8] & (1 << (j % 8)) != 0)
                .count();
            let mut p = r.pos + 1 + bitmap.len();
            for _ in 0..deltas {
                let mut k = 0;
                while blob.get(p).ok_or_else(|| r.bad("cut short"))? & 0x80 != 0 {
                    p += 1;
                    k += 1;
                    if k >= 10 {
                        return Err(r.bad("a varint longer than 64 bits"));
                    }
                }
                p += 1;
            }
        }
        r.pos = decode_sample(blob, r.pos, count, &mut values);
        prev = Some((id, count));
        staged.layout_ids.push(id);
        staged.seqs.push(i as u64);
        staged.wall_ns.push(wall);
        staged.mono_ns.push(wall);
        staged.values.extend_from_slice(&values);
        staged.offsets.push(staged.values.len() as u32);
    }
    if r.pos != blob.len() {
        return Err(r.bad("bytes after the last sample"));
    }
    // Appended only once the whole blob has read well.
    if out.offsets.is_empty() {
        out.offsets.push(0);
    }
    let base = out.values.len() as u32;
    out.layout_ids.extend(staged.layout_ids);
    out.seqs.extend(staged.seqs);
    out.wall_ns.extend(staged.wall_ns);
    out.mono_ns.extend(staged.mono_ns);
    out.values.extend(staged.values);
    out.offsets
        .extend(staged.offsets.iter().skip(1).map(|o| o + base));
    out.errors.extend(staged.errors);
    out.extras.extend(staged.extras);
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Layout id, wall time, values, errors.
    pub(super) type Sample<'a> = (u32, u64, &'a [u64], &'a [(&'a str, &'a str)]);

    pub(super) fn batch(samples: &[Sample<'_>]) -> Batch {
        let mut b = Batch::default();
        b.offsets.push(0);
        for (i, (id, wall, values, errors)) in samples.iter().enumerate() {
            b.layout_ids.push(*id);
            b.seqs.push(i as u64);
            b.wall_ns.push(*wall);
            b.mono_ns.push(*wall);
            b.values.extend_from_slice(values);
            b.offsets.push(b.values.len() as u32);
            for (s, m) in *errors {
                b.errors.push((
                    i as u32,
                    SampleError {
                        source: s.to_string(),
                        message: m.to_string(),
                    },
                ));
            }
        }
        b
    }

    #[test]
    fn round_trip_exact_with_layout_changes_errors_and_u64_edges() {
        let b = batch(&[
            (0, 1_700_000_000_000_000_000, &[0, u64::MAX, 5], &[]),
            (0, 1_700_000_001_000_000_000, &[1, 0, 5], &[("ssh", "down")]),
            (
                1,
                1_700_000_000_500_000_000,
                &[7, 8],
                &[("a", "x"), ("b", "é")],
            ),
            (1, u64::MAX, &[7, 9], &[]),
            (0, 0, &[u64::MAX, 1, 2], &[]),
        ]);
        let mut b = b;
        b.extras.push((2, r#"{"app":{"step":1}}"#.into()));
        let blob = encode_blob(&b);
        let mut out = Batch::default();
        decode_blob(&blob, &mut out).unwrap();
        assert_eq!(out.extras, b.extras);
        assert_eq!(out.layout_ids, b.layout_ids);
        assert_eq!(out.wall_ns, b.wall_ns);
        assert_eq!(out.offsets, b.offsets);
        assert_eq!(out.values, b.values);
        assert_eq!(out.errors, b.errors);
        // Appending to a batch that holds samples already.
        decode_blob(&blob, &mut out).unwrap();
        assert_eq!(out.values.len(), 2 * b.values.len());
        assert_eq!(out.errors[3].0, 6);
        assert_eq!(out.errors[4].0, 7);
        assert_eq!(*out.offsets.last().unwrap() as usize, out.values.len());
    }

    #[test]
    fn every_truncation_and_corruption_is_an_error_not_a_panic() {
        let b = batch(&[
            (0, 10, &[1, 2, 300, 4], &[("x", "y")]),
            (0, 20, &[1, 3, 300, 5_000_000], &[]),
        ]);
        let blob = encode_blob(&b);
        for cut in 0..blob.len() {
            let mut out = Batch::default();
            assert!(decode_blob(&blob[..cut], &mut out).is_err(), "cut at {cut}");
            assert!(out.values.is_empty(), "nothing appended on an error");
        }
        for i in 0..blob.len() {
            for v in [0u8, 0x80, 0xff, 2] {
                let mut bad = blob.clone();
                bad[i] = v;
                let _ = decode_blob(&bad, &mut Batch::default());
            }
        }
        let mut extra = blob.clone();
        extra.push(0);
        assert!(decode_blob(&extra, &mut Batch::default()).is_err());
    }

    #[test]
    fn a_bound_on_values_is_an_error_before_they_are_made() {
        let b = batch(&[(0, 10, &[1, 2, 3, 4], &[]), (0, 20, &[1, 3, 3, 5], &[])]);
        let blob = encode_blob(&b);
        let mut out = Batch::default();
        assert!(decode_blob_bounded(&blob, &mut out, 8).is_ok());
        assert_eq!(out.values.len(), 8);
        let mut out = Batch::default();
        let e = decode_blob_bounded(&blob, &mut out, 7).unwrap_err();
        assert!(e.to_string().contains("more than 7 values"), "{e}");
        assert!(out.values.is_empty());
        assert!(decode_blob_bounded(&blob, &mut Batch::default(), 0).is_err());
    }
}
