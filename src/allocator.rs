//! The binary's memory allocator: mimalloc for everything but huge buffers, the system
//! allocator for those.
//!
//! Reports build many mid-sized buffers on several threads at once. glibc grows each thread's
//! arena a few pages at a time (`mprotect`, then a page fault per 4 KiB page): a store report
//! took 32,000 page faults and spent a quarter of its time in the kernel. mimalloc maps large
//! regions and asks for transparent huge pages on them (`madvise`): 2,400 faults, the report
//! 25% faster, at some 20% more resident memory. But mimalloc grows a buffer by copying it,
//! where glibc grows a huge (memory-mapped) buffer in place with `mremap`: the reader doubling
//! its buffer for a 100 MiB line would hold the old and the new copy at once. Buffers of
//! [`HUGE`] bytes or more therefore stay with the system allocator. Which allocator owns a
//! block follows from its layout's size alone, which every call is given.
//!
//! mimalloc keeps freed memory for a second before it returns it to the OS, so what reading
//! freed still counts while the report's tables are built. A purge delay of [`PURGE_DELAY_MS`]
//! returns it in time: the NDJSON channel report's peak falls from about 275 to 185 MiB, at no
//! measurable cost in time.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::c_long;

use libmimalloc_sys::{mi_option_set, mi_option_t};
use mimalloc::MiMalloc;

/// The size from which a buffer belongs to the system allocator.
pub const HUGE: usize = 32 << 20;

/// mimalloc's `mi_option_purge_delay`, by its place in mimalloc 3's `mi_option_e` (the
/// bindings leave it unnamed).
const PURGE_DELAY: mi_option_t = 15;
/// How long freed memory stays with mimalloc before it goes back to the OS (its default: 1000).
const PURGE_DELAY_MS: c_long = 10;
/// The variable by which a user sets mimalloc's purge delay instead.
const PURGE_DELAY_VARIABLE: &str = "MIMALLOC_PURGE_DELAY";

/// Sets mimalloc's purge delay to [`PURGE_DELAY_MS`], unless the environment sets it.
pub fn return_freed_memory_promptly() {
    if std::env::var_os(PURGE_DELAY_VARIABLE).is_none() {
        // SAFETY: setting an option is a plain store mimalloc allows at any time.
        unsafe { mi_option_set(PURGE_DELAY, PURGE_DELAY_MS) }
    }
}

/// mimalloc below [`HUGE`] bytes, the system allocator from there on.
pub struct Allocator;

fn is_huge(size: usize) -> bool {
    size >= HUGE
}

// SAFETY: every call goes to the allocator that owns the block by its layout's size, and a
// block that changes owner on `realloc` is moved (allocated anew, copied, freed).
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe {
            if is_huge(layout.size()) {
                System.alloc(layout)
            } else {
                MiMalloc.alloc(layout)
            }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe {
            if is_huge(layout.size()) {
                System.alloc_zeroed(layout)
            } else {
                MiMalloc.alloc_zeroed(layout)
            }
        }
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: `layout` is the one `block` was allocated with, so it names its owner.
        unsafe {
            if is_huge(layout.size()) {
                System.dealloc(block, layout)
            } else {
                MiMalloc.dealloc(block, layout)
            }
        }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `layout` names the owner of `block`; a block that changes owner is copied
        // into a fresh block of the new owner (`new_size` is non-zero and, rounded to the
        // alignment, fits `isize`, per the caller's contract) before the old one is freed.
        unsafe {
            match (is_huge(layout.size()), is_huge(new_size)) {
                (true, true) => System.realloc(block, layout, new_size),
                (false, false) => MiMalloc.realloc(block, layout, new_size),
                _ => {
                    let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
                    let moved = self.alloc(new_layout);
                    if !moved.is_null() {
                        std::ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
                        self.dealloc(block, layout);
                    }
                    moved
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libmimalloc_sys::mi_option_get;

    /// mimalloc's purge delay now, in milliseconds.
    fn purge_delay_ms() -> c_long {
        // SAFETY: reading an option has no precondition.
        unsafe { mi_option_get(PURGE_DELAY) }
    }

    /// The option set is the purge delay: it starts at mimalloc 3's documented default.
    #[test]
    fn the_purge_delay_is_the_option_set() {
        if std::env::var_os(PURGE_DELAY_VARIABLE).is_some() {
            return;
        }
        assert_eq!(purge_delay_ms(), 1000, "mimalloc 3's default purge delay");
        return_freed_memory_promptly();
        assert_eq!(purge_delay_ms(), PURGE_DELAY_MS);
    }

    /// Grows and shrinks a block across the owner boundary, checking its bytes survive.
    #[test]
    fn blocks_keep_their_bytes_when_they_change_owner() {
        let sizes = [1000, HUGE - 1, HUGE, 2 * HUGE, HUGE + 7, HUGE - 8, 64];
        let allocator = Allocator;
        let mut layout = Layout::from_size_align(sizes[0], 16).unwrap();
        // SAFETY: every block is used within its layout and freed with it.
        unsafe {
            let mut block = allocator.alloc(layout);
            assert!(!block.is_null());
            std::ptr::write_bytes(block, 0xA5, layout.size());
            for &size in &sizes[1..] {
                let kept = layout.size().min(size);
                block = allocator.realloc(block, layout, size);
                assert!(!block.is_null());
                assert_eq!(block as usize % 16, 0, "alignment kept at {size}");
                let bytes = std::slice::from_raw_parts(block, kept);
                assert!(
                    bytes.iter().all(|&byte| byte == 0xA5),
                    "bytes kept at {size}"
                );
                layout = Layout::from_size_align(size, 16).unwrap();
                std::ptr::write_bytes(block, 0xA5, size);
            }
            allocator.dealloc(block, layout);
            let zeroed = Layout::from_size_align(HUGE, 8).unwrap();
            let block = allocator.alloc_zeroed(zeroed);
            assert!(
                std::slice::from_raw_parts(block, HUGE)
                    .iter()
                    .all(|&byte| byte == 0)
            );
            allocator.dealloc(block, zeroed);
        }
    }
}
