use pyo3::prelude::*;

/// greet: see the fixture's Python test.
#[pyfunction]
fn greet(name: &str) -> String {
    format!("hello, {name}")
}

#[pymodule]
fn _rust(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(greet, m)?)?;
    Ok(())
}
