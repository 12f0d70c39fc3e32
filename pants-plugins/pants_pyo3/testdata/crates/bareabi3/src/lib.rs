use pyo3::prelude::*;

/// shout: see the fixture's Python test.
#[pyfunction]
fn shout(s: &str) -> String {
    s.to_uppercase()
}

#[pymodule]
fn bareabi3(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(shout, m)?)?;
    Ok(())
}
