/// The Rust API, usable without Python.
pub fn fib(n: u64) -> u64 {
    (0..n).fold((0, 1), |(a, b), _| (b, a + b)).0
}

#[cfg(feature = "python")]
mod python {
    use pyo3::prelude::*;

    /// fib: see the fixture's Python test.
    #[pyfunction]
    fn fib(n: u64) -> u64 {
        super::fib(n)
    }

    #[pymodule]
    fn gated(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add_function(wrap_pyfunction!(fib, m)?)?;
        Ok(())
    }
}
