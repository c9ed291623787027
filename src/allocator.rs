//! The guest's allocator: small blocks recycled through per-size free lists
//! in front of the system allocator (wasi-libc's dlmalloc).
//!
//! Why: a cache hit hands the host a record of several strings. Each is
//! allocated by the guest, copied out by the host and freed by the canonical
//! ABI's post-return call, and every string argument arrives through
//! `cabi_realloc` and is freed when the call ends: a dozen small allocations
//! per call, of sizes that repeat from call to call. dlmalloc splits and
//! coalesces on each; a free list per size class hands the same block back.
//! Measured with `cargo perf cache` (README § Performance): about 0.1 µs of
//! a ~1.1 µs hit.
//!
//! Bounded: each class keeps at most [`KEEP_BYTES`] of free blocks, beyond
//! which a freed block goes back to dlmalloc; blocks over [`MAX_SMALL`]
//! bytes or aligned to more than [`ALIGN`] always go to dlmalloc directly.
//!
//! The lists are plain cells with no locking: the component is built for
//! `wasm32-wasip2` without threads, and this allocator is installed only
//! there (`lib.rs`); the tests here use their own instances.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::ptr;

/// Class granularity and the largest alignment served from the lists.
const ALIGN: usize = 8;
/// The largest block served from the lists.
const MAX_SMALL: usize = 256;
const CLASSES: usize = MAX_SMALL / ALIGN;
/// At most this many bytes of free blocks are kept per class.
const KEEP_BYTES: usize = 4 * 1024;

/// The size class of `layout`, if it is small: class `c` holds blocks of
/// `(c + 1) * ALIGN` bytes.
fn class_of(layout: Layout) -> Option<usize> {
    (layout.align() <= ALIGN && layout.size() <= MAX_SMALL).then(|| layout.size().max(1).div_ceil(ALIGN) - 1)
}

/// The layout every block of class `c` is taken from the system with.
fn block_layout(c: usize) -> Layout {
    // In range: (c + 1) * 8 ≤ 256, align 8 is a power of two.
    unsafe { Layout::from_size_align_unchecked((c + 1) * ALIGN, ALIGN) }
}

struct Lists {
    /// The first free block of each class; each free block's first word
    /// points to the next.
    heads: [*mut u8; CLASSES],
    /// Free blocks held per class.
    counts: [usize; CLASSES],
}

/// Free lists of small blocks over an underlying allocator `A`.
pub(crate) struct Recycling<A = System> {
    inner: A,
    lists: UnsafeCell<Lists>,
}

// SAFETY: the type is private to this crate, where it is only the global
// allocator of a guest without threads (see the module doc) or, in the
// tests below, an instance per test used by that test's thread alone.
unsafe impl<A: Sync> Sync for Recycling<A> {}

impl<A> Recycling<A> {
    /// Empty lists over `inner`.
    pub(crate) const fn new(inner: A) -> Self {
        Self { inner, lists: UnsafeCell::new(Lists { heads: [ptr::null_mut(); CLASSES], counts: [0; CLASSES] }) }
    }

    /// Free blocks held in class `c`'s list.
    #[cfg(test)]
    fn held(&self, c: usize) -> usize {
        // SAFETY: single-threaded (see the `Sync` impl); no reference escapes.
        unsafe { (*self.lists.get()).counts[c] }
    }
}

// The three methods are kept out of line: inlined into every allocation site
// they added 65 KB to the component at opt-level 2 for no measured gain.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Recycling<A> {
    #[inline(never)]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(c) = class_of(layout) else { return unsafe { self.inner.alloc(layout) } };
        // SAFETY: single-threaded; no other reference to the lists is live.
        let lists = unsafe { &mut *self.lists.get() };
        let head = lists.heads[c];
        if head.is_null() {
            return unsafe { self.inner.alloc(block_layout(c)) };
        }
        // SAFETY: a listed block is ≥ 8 bytes, 8-aligned, and holds the next link.
        lists.heads[c] = unsafe { head.cast::<*mut u8>().read() };
        lists.counts[c] -= 1;
        head
    }

    #[inline(never)]
    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        let Some(c) = class_of(layout) else { return unsafe { self.inner.dealloc(block, layout) } };
        // SAFETY: as in `alloc`.
        let lists = unsafe { &mut *self.lists.get() };
        if (lists.counts[c] + 1) * block_layout(c).size() > KEEP_BYTES {
            return unsafe { self.inner.dealloc(block, block_layout(c)) };
        }
        // SAFETY: the block came from `alloc` for class `c`: ≥ 8 bytes, 8-aligned, ours now.
        unsafe { block.cast::<*mut u8>().write(lists.heads[c]) };
        lists.heads[c] = block;
        lists.counts[c] += 1;
    }

    #[inline(never)]
    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size`, rounded to `layout.align()`, fits `isize`.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (class_of(layout), class_of(new_layout)) {
            // The block already has room.
            (Some(a), Some(b)) if a == b => block,
            (None, None) => unsafe { self.inner.realloc(block, layout, new_size) },
            _ => {
                let moved = unsafe { self.alloc(new_layout) };
                if !moved.is_null() {
                    // SAFETY: both blocks are live and distinct; the copy fits both.
                    unsafe {
                        ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
                        self.dealloc(block, layout);
                    }
                }
                moved
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn classes_round_up_to_eight_bytes() {
        assert_eq!(class_of(layout(1, 1)), Some(0));
        assert_eq!(class_of(layout(8, 8)), Some(0));
        assert_eq!(class_of(layout(9, 1)), Some(1));
        assert_eq!(class_of(layout(256, 8)), Some(CLASSES - 1));
        assert_eq!(class_of(layout(257, 1)), None);
        assert_eq!(class_of(layout(16, 16)), None, "over-aligned goes to the system");
    }

    #[test]
    fn a_freed_block_is_handed_back_for_the_same_class() {
        let a = Recycling::new(System);
        unsafe {
            let p = a.alloc(layout(30, 1));
            p.write_bytes(7, 30);
            a.dealloc(p, layout(30, 1));
            assert_eq!(a.held(3), 1);
            let q = a.alloc(layout(25, 4)); // 25..=32 bytes: class 3 too
            assert_eq!(p, q);
            assert_eq!(a.held(3), 0);
            a.dealloc(q, layout(25, 4));
        }
    }

    #[test]
    fn each_class_keeps_a_bounded_amount() {
        let a = Recycling::new(System);
        let l = layout(MAX_SMALL, 8);
        let blocks: Vec<_> = (0..200).map(|_| unsafe { a.alloc(l) }).collect();
        for p in blocks {
            unsafe { a.dealloc(p, l) };
        }
        assert_eq!(a.held(CLASSES - 1), KEEP_BYTES / MAX_SMALL);
    }

    #[test]
    fn realloc_keeps_the_contents_across_classes_and_to_the_system() {
        let a = Recycling::new(System);
        unsafe {
            let mut p = a.alloc(layout(3, 1));
            p.copy_from_nonoverlapping(b"abc".as_ptr(), 3);
            let mut size = 3;
            for new_size in [5, 8, 40, 300, 5000, 100, 2] {
                p = a.realloc(p, layout(size, 1), new_size);
                assert!(!p.is_null());
                assert_eq!(std::slice::from_raw_parts(p, 2), b"ab", "{size} -> {new_size}");
                size = new_size;
            }
            a.dealloc(p, layout(size, 1));
        }
    }

    #[test]
    fn random_allocations_reallocations_and_frees_leave_live_blocks_intact() {
        let a = Recycling::new(System);
        let mut live: Vec<(*mut u8, Layout, u8)> = Vec::new();
        let mut x: u32 = 12345;
        for i in 0..30_000u32 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let size = 1 + (x as usize % 400);
            let intact = |p: *mut u8, l: Layout, fill: u8| {
                let bytes = unsafe { std::slice::from_raw_parts(p, l.size()) };
                assert!(bytes.iter().all(|&b| b == fill), "a block changed while live");
            };
            match (x % 5, live.is_empty()) {
                (0 | 1, false) => {
                    let (p, l, fill) = live.swap_remove(x as usize % live.len());
                    intact(p, l, fill);
                    unsafe { a.dealloc(p, l) };
                }
                (2, false) => {
                    let k = x as usize % live.len();
                    let (p, l, fill) = live[k];
                    intact(p, l, fill);
                    let q = unsafe { a.realloc(p, l, size) };
                    let grown = Layout::from_size_align(size, l.align()).unwrap();
                    assert_eq!(q as usize % l.align(), 0);
                    intact(q, Layout::from_size_align(size.min(l.size()), 1).unwrap(), fill);
                    unsafe { q.write_bytes(fill, size) };
                    live[k] = (q, grown, fill);
                }
                _ => {
                    let l = layout(size, 1 << (x % 5));
                    let p = unsafe { a.alloc(l) };
                    assert_eq!(p as usize % l.align(), 0);
                    unsafe { p.write_bytes(i as u8, size) };
                    live.push((p, l, i as u8));
                }
            }
        }
        for (p, l, fill) in live {
            let bytes = unsafe { std::slice::from_raw_parts(p, l.size()) };
            assert!(bytes.iter().all(|&b| b == fill));
            unsafe { a.dealloc(p, l) };
        }
    }
}
