use pyo3::prelude::*;

/// double: see the fixture's Python test.
#[pyfunction]
fn double(x: i64) -> i64 {
    x * 2
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(double, m)?)?;
    Ok(())
}
