//! A few values of every sample of a blob, without the others: what a store's read of one path
//! needs. The full decode ([`super::decode_blob`]) writes every value of every sample (an hour of
//! one host at 1 s: 3,600 × ~600 values, 14 MiB) and was ~60% of a `/series` query whose chunks
//! were not cached (bench/serve.mjs --read); here a delta sample's unpicked changes are only
//! skipped (their varints' last bytes counted) and nothing but the picked values is written.
//! Malformed blobs are errors as the full decode's are; `pick_equals_decode` holds the values equal.
use super::{Head, Reader, MAGIC};
use crate::error::Result;

/// A value not picked in a layout (the layout has no such value).
pub const NONE: u32 = u32::MAX;

/// What to read: for the layout `layout_ids[i]`, value indices `at[i * k .. i * k + k]` (`NONE`:
/// none) — column `j` of the output is value `at[i * k + j]` of each sample of that layout.
pub struct Picks<'a> {
    pub k: usize,
    pub layout_ids: &'a [u32],
    pub at: &'a [u32],
}

/// The picked values: per sample its layout id and wall time, and `k` values (0 where `NONE`).
#[derive(Debug, Default, PartialEq)]
pub struct Picked {
    pub layout_ids: Vec<u32>,
    pub wall_ns: Vec<u64>,
    pub values: Vec<u64>,
}

/// One layout's picks in value order: (value index, output column).
struct Order {
    id: u32,
    by_at: Vec<(usize, usize)>,
}

fn orders(p: &Picks<'_>) -> Vec<Order> {
    p.layout_ids
        .iter()
        .enumerate()
        .map(|(i, &id)| {
            let mut by_at: Vec<(usize, usize)> = p.at[i * p.k..(i + 1) * p.k]
                .iter()
                .enumerate()
                .filter(|(_, &a)| a != NONE)
                .map(|(j, &a)| (a as usize, j))
                .collect();
            by_at.sort_unstable();
            Order { id, by_at }
        })
        .collect()
}

/// Set bits of `bitmap` in [from, to).
fn bits(bitmap: &[u8], from: usize, to: usize) -> usize {
    let mut n = 0;
    let mut j = from;
    while j < to {
        if j.is_multiple_of(8) && to - j >= 8 {
            n += bitmap[j / 8].count_ones() as usize;
            j += 8;
        } else {
            n += usize::from(bitmap[j / 8] & (1 << (j % 8)) != 0);
            j += 1;
        }
    }
    n
}

impl Reader<'_> {
    /// Past `n` varints (each at most 10 bytes, as the full decode checks). Eight bytes at a time
    /// where the `n`th ends further on: a varint ends at each byte below 0x80 (measured: an hour's
    /// pick of 9 values, 1.5 ms byte by byte).
    fn skip_varints(&mut self, mut n: usize) -> Result<()> {
        const HIGH: u64 = 0x8080_8080_8080_8080;
        // Continuation bytes since the last varint ended.
        let mut run = 0;
        while n > 0 {
            if let Some(b) = self.data.get(self.pos..self.pos + 8) {
                let w = u64::from_le_bytes(b.try_into().expect("8 bytes"));
                let ends = !w & HIGH;
                let k = ends.count_ones() as usize;
                if k < n {
                    // The run up to the word's first end (or through it) must stay under 10.
                    if run + (ends.trailing_zeros() as usize) / 8 >= 10 {
                        return Err(self.bad("a varint longer than 64 bits"));
                    }
                    run = if k == 0 {
                        run + 8
                    } else {
                        ends.leading_zeros() as usize / 8
                    };
                    n -= k;
                    self.pos += 8;
                    continue;
                }
            }
            let b = *self
                .data
                .get(self.pos)
                .ok_or_else(|| self.bad("cut short"))?;
            self.pos += 1;
            if b & 0x80 == 0 {
                n -= 1;
                run = 0;
            } else {
                run += 1;
                if run >= 10 {
                    return Err(self.bad("a varint longer than 64 bits"));
                }
            }
        }
        Ok(())
    }

    /// The picked values of a sample (`cur`: the previous sample's, for a delta).
    fn pick_values(
        &mut self,
        h: &Head,
        tag: u8,
        order: &[(usize, usize)],
        cur: &mut [u64],
    ) -> Result<()> {
        if let Some(&(at, _)) = order.last() {
            if at >= h.count {
                return Err(self.bad(&format!(
                    "value {at} picked from a sample of {} values",
                    h.count
                )));
            }
        }
        let start = self.pos + 1;
        if tag == 1 {
            for &(at, j) in order {
                let b = &self.data[start + 8 * at..start + 8 * at + 8];
                cur[j] = u64::from_le_bytes(b.try_into().expect("8 bytes"));
            }
            self.pos = start + 8 * h.count;
            return Ok(());
        }
        let bitmap = &self.data[start..start + h.count.div_ceil(8)];
        self.pos = start + bitmap.len();
        // The next value index whose varint (if its bit is set) is at `self.pos`.
        let mut next = 0;
        let mut last: Option<(usize, usize)> = None;
        for &(at, j) in order {
            if let Some((a, k)) = last.filter(|&(a, _)| a == at) {
                // The same value picked twice.
                cur[j] = cur[k];
                last = Some((a, j));
                continue;
            }
            self.skip_varints(bits(bitmap, next, at))?;
            if bitmap[at / 8] & (1 << (at % 8)) != 0 {
                let z = self.varint()?;
                cur[j] = cur[j].wrapping_add((((z >> 1) as i64) ^ -((z & 1) as i64)) as u64);
            }
            next = at + 1;
            last = Some((at, j));
        }
        self.skip_varints(bits(bitmap, next, h.count))
    }
}

/// Append the picked values of a blob's samples to `out`. A malformed blob, a sample whose layout
/// `picks` does not name, or a pick past a sample's values is an `InvalidData` error, and `out`
/// is then left as it was.
pub fn pick_blob(blob: &[u8], picks: &Picks<'_>, out: &mut Picked) -> Result<()> {
    let mut r = Reader { data: blob, pos: 0 };
    if blob.get(..4) != Some(MAGIC) {
        return Err(r.bad("not a hostseries sample blob (no HSB1)"));
    }
    if picks.at.len() != picks.layout_ids.len() * picks.k {
        return Err(r.bad("picks: not k value indices a layout"));
    }
    r.pos = 4;
    let n = r.len(blob.len())?;
    let orders = orders(picks);
    let mut staged = Picked::default();
    let mut cur = vec![0u64; picks.k];
    let mut prev: Option<(u32, usize)> = None;
    let mut o = 0;
    let mut wall = 0u64;
    for _ in 0..n {
        let head = r.head(&mut wall)?;
        for _ in 0..r.len(blob.len())? {
            r.skip_string()?;
            r.skip_string()?;
        }
        r.skip_string()?;
        let tag = r.tag(&head, prev)?;
        if orders.get(o).map(|x| x.id) != Some(head.id) {
            o = orders.iter().position(|x| x.id == head.id).ok_or_else(|| {
                r.bad(&format!("a sample of layout {} (not picked from)", head.id))
            })?;
        }
        if tag == 1 {
            cur.fill(0);
        }
        r.pick_values(&head, tag, &orders[o].by_at, &mut cur)?;
        prev = Some((head.id, head.count));
        staged.layout_ids.push(head.id);
        staged.wall_ns.push(wall);
        staged.values.extend_from_slice(&cur);
    }
    if r.pos != blob.len() {
        return Err(r.bad("bytes after the last sample"));
    }
    out.layout_ids.extend(staged.layout_ids);
    out.wall_ns.extend(staged.wall_ns);
    out.values.extend(staged.values);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blob::{decode_blob, encode_blob};
    use crate::store::Batch;
    use proptest::prelude::*;

    /// Values per layout id (a layout's samples all have its count).
    const COUNTS: [usize; 3] = [5, 70, 1];

    /// The blob tests' batch, of samples without errors.
    fn batch(samples: &[(u32, u64, Vec<u64>)]) -> Batch {
        let s: Vec<_> = samples
            .iter()
            .map(|(id, wall, v)| (*id, *wall, v.as_slice(), &[][..]))
            .collect();
        crate::blob::tests::batch(&s)
    }

    /// What the full decode gives for `picks`: the same columns read from every value.
    fn expected(b: &Batch, picks: &Picks<'_>) -> Picked {
        let mut out = Picked::default();
        for i in 0..b.layout_ids.len() {
            let l = picks
                .layout_ids
                .iter()
                .position(|&x| x == b.layout_ids[i])
                .unwrap();
            let values = &b.values[b.offsets[i] as usize..b.offsets[i + 1] as usize];
            out.layout_ids.push(b.layout_ids[i]);
            out.wall_ns.push(b.wall_ns[i]);
            for &a in &picks.at[l * picks.k..(l + 1) * picks.k] {
                out.values
                    .push(if a == NONE { 0 } else { values[a as usize] });
            }
        }
        out
    }

    fn samples() -> impl Strategy<Value = Vec<(u32, u64, Vec<u64>)>> {
        // Mostly one layout (as chunks are), values that often stay, sometimes jump to u64 edges.
        let value = prop_oneof![4 => 0u64..3, 2 => any::<u64>(), 1 => Just(u64::MAX)];
        proptest::collection::vec(
            (prop_oneof![6 => Just(1u32), 1 => 0u32..3], any::<u64>()),
            1..40,
        )
        .prop_flat_map(move |heads| {
            let vals: Vec<_> = heads
                .iter()
                .map(|(id, _)| proptest::collection::vec(value.clone(), COUNTS[*id as usize]))
                .collect();
            (Just(heads), vals)
        })
        .prop_map(|(heads, vals)| {
            // Values carried on from the previous sample of the layout where the draw gave 0..3
            // (so deltas have unchanged values), as a real counter mostly stays.
            let mut last: [Option<Vec<u64>>; 3] = [None, None, None];
            heads
                .into_iter()
                .zip(vals)
                .map(|((id, wall), mut v)| {
                    if let Some(p) = &last[id as usize] {
                        for (x, q) in v.iter_mut().zip(p) {
                            if *x < 2 {
                                *x = *q;
                            }
                        }
                    }
                    last[id as usize] = Some(v.clone());
                    (id, wall, v)
                })
                .collect()
        })
    }

    fn picks_for(k: usize) -> impl Strategy<Value = Vec<u32>> {
        let per: Vec<_> = COUNTS
            .iter()
            .map(|&c| proptest::collection::vec(prop_oneof![3 => 0..c as u32, 1 => Just(NONE)], k))
            .collect();
        per.prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn pick_equals_decode(
            s in samples(),
            (k, at) in (0usize..6).prop_flat_map(|k| (Just(k), picks_for(k))),
        ) {
            let b = batch(&s);
            let blob = encode_blob(&b);
            let picks = Picks { k, layout_ids: &[0, 1, 2], at: &at };
            let mut out = Picked::default();
            pick_blob(&blob, &picks, &mut out).unwrap();
            prop_assert_eq!(&out, &expected(&b, &picks));
            // Appended: a second blob's samples after the first's.
            pick_blob(&blob, &picks, &mut out).unwrap();
            prop_assert_eq!(out.values.len(), 2 * s.len() * k);
        }
    }

    #[test]
    fn a_corrupt_blob_is_an_error_exactly_when_the_full_decode_says_so() {
        let b = batch(&[
            (1, 10, (0..70).collect()),
            (1, 20, (0..70).map(|v| v * 300).collect()),
            (0, 15, vec![1, 2, 3, 4, u64::MAX]),
            (0, 30, vec![1, 2, 9, 4, 0]),
        ]);
        let mut blob = encode_blob(&b);
        let at: Vec<u32> = [[4, 0, NONE], [69, 3, 3], [0, NONE, NONE]].concat();
        let picks = Picks {
            k: 3,
            layout_ids: &[0, 1, 2],
            at: &at,
        };
        let full = |x: &[u8]| decode_blob(x, &mut Batch::default()).is_ok();
        for cut in 0..blob.len() {
            let mut out = Picked::default();
            assert!(
                pick_blob(&blob[..cut], &picks, &mut out).is_err(),
                "cut at {cut}"
            );
            assert_eq!(out, Picked::default(), "nothing appended on an error");
        }
        for i in 0..blob.len() {
            for v in [0u8, 0x80, 0xff, 2, 1] {
                let mut bad = blob.clone();
                bad[i] = v;
                let picked = pick_blob(&bad, &picks, &mut Picked::default());
                // A layout id moved to one not picked from is this decoder's error alone.
                if picked
                    .as_ref()
                    .is_err_and(|e| e.to_string().contains("not picked"))
                {
                    continue;
                }
                assert_eq!(
                    picked.is_ok(),
                    full(&bad),
                    "byte {i} set to {v}: {picked:?}"
                );
            }
        }
        blob.push(0);
        assert!(pick_blob(&blob, &picks, &mut Picked::default()).is_err());
    }

    #[test]
    fn a_layout_not_picked_from_or_a_pick_past_the_values_is_named() {
        let blob = encode_blob(&batch(&[(0, 1, vec![1, 2, 3, 4, 5])]));
        let e = pick_blob(
            &blob,
            &Picks {
                k: 1,
                layout_ids: &[1],
                at: &[0],
            },
            &mut Picked::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("layout 0"), "{e}");
        let e = pick_blob(
            &blob,
            &Picks {
                k: 1,
                layout_ids: &[0],
                at: &[5],
            },
            &mut Picked::default(),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("value 5 picked from a sample of 5 values"),
            "{e}"
        );
        let e = pick_blob(
            &blob,
            &Picks {
                k: 2,
                layout_ids: &[0],
                at: &[0],
            },
            &mut Picked::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("picks"), "{e}");
    }
}
