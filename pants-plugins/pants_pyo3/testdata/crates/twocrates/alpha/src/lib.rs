use pyo3::prelude::*;

/// first: see the fixture's Python test.
#[pyfunction]
fn first(items: Vec<i64>) -> Option<i64> {
    items.first().copied()
}

#[pymodule]
fn _alpha(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(first, m)?)?;
    Ok(())
}
