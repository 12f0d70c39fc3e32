use pyo3::prelude::*;

/// last: see the fixture's Python test.
#[pyfunction]
fn last(items: Vec<i64>) -> Option<i64> {
    items.last().copied()
}

#[pymodule]
fn _beta(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(last, m)?)?;
    Ok(())
}
