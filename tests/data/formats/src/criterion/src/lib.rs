//! Tiny crate whose Criterion.rs benchmarks feed perflab's format tests.

/// Sorts a copy of `xs`.
pub fn sorted(xs: &[u32]) -> Vec<u32> {
    let mut v = xs.to_vec();
    v.sort_unstable();
    v
}
