use pyo3::prelude::*;

/// triple: see the fixture's Python test.
#[pyfunction]
fn triple(x: i64) -> i64 {
    x * 3
}

#[pymodule]
fn wsext(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(triple, m)?)?;
    Ok(())
}
