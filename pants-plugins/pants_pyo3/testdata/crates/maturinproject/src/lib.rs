use pyo3::prelude::*;

/// The crate's version, as cargo compiled it.
#[pyfunction]
fn crate_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[pymodule]
fn _lib(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(crate_version, m)?)?;
    Ok(())
}
