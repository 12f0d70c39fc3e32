//! `pp3sum._pp3sum`: numeric helpers compiled against CPython's stable ABI (abi3), so that one
//! build imports on every CPython from 3.8 on.

use pyo3::prelude::*;

/// Kahan-compensated sum of `values`, so that many small terms are not lost.
fn kahan_sum(values: &[f64]) -> f64 {
    let (mut sum, mut compensation) = (0.0f64, 0.0f64);
    for &value in values {
        let y = value - compensation;
        let t = sum + y;
        compensation = (t - sum) - y;
        sum = t;
    }
    sum
}

// Declared as an inline module so that pyo3 can describe its members: pants-pyo3 generates
// `pp3sum/_pp3sum.pyi` from that description (`generate_stubs=True` in `src/python/pp3sum/BUILD`);
// a `#[pymodule] fn` would be opaque to it.
/// Compensated (Kahan) float sums, compiled against CPython's stable ABI.
#[pymodule]
mod _pp3sum {
    use pyo3::prelude::*;

    /// The sum of a sequence of floats, compensated for rounding errors.
    #[pyfunction]
    fn fsum(values: Vec<f64>) -> f64 {
        super::kahan_sum(&values)
    }

    /// The dot product of two equally long sequences of floats.
    #[pyfunction]
    fn dot(a: Vec<f64>, b: Vec<f64>) -> PyResult<f64> {
        if a.len() != b.len() {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "dot() needs sequences of equal length, got {} and {}",
                a.len(),
                b.len()
            )));
        }
        let products: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x * y).collect();
        Ok(super::kahan_sum(&products))
    }
}

#[cfg(test)]
mod tests {
    use super::kahan_sum;

    #[test]
    fn compensates_small_terms() {
        let mut values = vec![1.0e16];
        values.extend(std::iter::repeat_n(1.0, 10));
        assert_eq!(kahan_sum(&values), 1.0e16 + 10.0);
    }
}
