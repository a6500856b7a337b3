//! Interned names (devices, interfaces, keys): allocated once, shared by pointer afterwards, so
//! a steady-state sample allocates nothing and layouts compare names by pointer.
use std::collections::HashMap;
use std::sync::Arc;

pub type Name = Arc<str>;

#[derive(Default)]
pub struct Interner {
    names: HashMap<Box<[u8]>, Name>,
    /// Set when a parse saw a name (or count) differ from last time: the layout may change.
    changed: bool,
}

/// Beyond this many distinct names (churning loop devices, veths) the table starts afresh.
const MAX_NAMES: usize = 16_384;

impl Interner {
    pub fn intern(&mut self, bytes: &[u8]) -> Name {
        if let Some(n) = self.names.get(bytes) {
            return n.clone();
        }
        if self.names.len() >= MAX_NAMES {
            self.names.clear();
        }
        let name: Name = Arc::from(String::from_utf8_lossy(bytes).as_ref());
        self.names.insert(bytes.into(), name.clone());
        name
    }

    /// Re-use `prev` when it already holds these bytes (the common case: same order as last
    /// time), which avoids even the hash lookup.
    #[inline]
    pub fn intern_like(&mut self, prev: Option<&Name>, bytes: &[u8]) -> Name {
        match prev {
            Some(p) if p.as_bytes() == bytes => p.clone(),
            _ => {
                self.changed = true;
                self.intern(bytes)
            }
        }
    }

    /// A parser saw the shape change another way (fewer entries, other field counts).
    pub fn mark_changed(&mut self) {
        self.changed = true;
    }

    /// Whether anything changed since the last call.
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }
}
