//! `myext._native`: the compiled half of the `myext` Python package.
//!
//! The Python-facing functions are thin wrappers around plain Rust helpers
//! (`fib_checked`, `parse_pair_str`, `count_primes_upto`) so that the helpers
//! can be unit-tested without a Python interpreter. The bindings themselves
//! are tested through an embedded interpreter (`pants test src/rust/myext:`
//! runs `cargo test` linked against the interpreter the module is built for).

use std::fmt;
use std::num::ParseIntError;

use pyo3::create_exception;
use pyo3::exceptions::{PyOverflowError, PyValueError};
use pyo3::prelude::*;

create_exception!(
    myext._native,
    ParseError,
    PyValueError,
    "Raised by parse_pair() when the input is not of the form \"<int>,<int>\"."
);

// ---------------------------------------------------------------------------
// Pure-Rust helpers
// ---------------------------------------------------------------------------

/// The `n`-th Fibonacci number (`fib(0) == 0`, `fib(1) == 1`), or `None` if it
/// does not fit in a `u64` (first happens at `n == 94`).
fn fib_checked(n: u32) -> Option<u64> {
    if n == 0 {
        return Some(0);
    }
    // Invariant: (a, b) == (fib(i - 1), fib(i)).
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 1..n {
        (a, b) = (b, a.checked_add(b)?);
    }
    Some(b)
}

/// Why a string could not be parsed as a pair of integers.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PairError {
    /// The input did not contain exactly one comma.
    WrongArity { parts: usize },
    /// One side of the comma was not a valid `i64`.
    BadInt { text: String, source: ParseIntError },
}

impl fmt::Display for PairError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PairError::WrongArity { parts } => write!(
                f,
                "expected two comma-separated integers like \"3,4\", got {parts} part(s)"
            ),
            PairError::BadInt { text, source } => {
                write!(f, "invalid integer {text:?}: {source}")
            }
        }
    }
}

impl std::error::Error for PairError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PairError::WrongArity { .. } => None,
            PairError::BadInt { source, .. } => Some(source),
        }
    }
}

impl From<PairError> for PyErr {
    fn from(err: PairError) -> PyErr {
        ParseError::new_err(err.to_string())
    }
}

/// Parse `"3,4"` (whitespace around either number is allowed) into `(3, 4)`.
fn parse_pair_str(s: &str) -> Result<(i64, i64), PairError> {
    let parts: Vec<&str> = s.split(',').collect();
    if parts.len() != 2 {
        return Err(PairError::WrongArity { parts: parts.len() });
    }
    let parse = |text: &str| {
        let text = text.trim();
        text.parse::<i64>().map_err(|source| PairError::BadInt {
            text: text.to_owned(),
            source,
        })
    };
    Ok((parse(parts[0])?, parse(parts[1])?))
}

/// Number of primes `p` with `p <= limit`, via a segmented sieve of
/// Eratosthenes (memory use is O(sqrt(limit)), not O(limit)).
fn count_primes_upto(limit: u64) -> u64 {
    if limit < 2 {
        return 0;
    }
    let root = limit.isqrt();

    // Simple sieve for the base primes <= sqrt(limit).
    let mut is_composite = vec![false; (root + 1) as usize];
    let mut base_primes = Vec::new();
    for i in 2..=root {
        if !is_composite[i as usize] {
            base_primes.push(i);
            let mut j = i * i;
            while j <= root {
                is_composite[j as usize] = true;
                j += i;
            }
        }
    }

    const SEGMENT: u64 = 1 << 16;
    let mut count = 0u64;
    let mut segment = vec![true; SEGMENT as usize];
    let mut low = 2u64;
    while low <= limit {
        let high = low.saturating_add(SEGMENT - 1).min(limit);
        let len = (high - low + 1) as usize;
        segment[..len].fill(true);
        for &p in &base_primes {
            if p * p > high {
                break;
            }
            // First multiple of p in [low, high] that is >= p*p.
            let mut m = (p * p).max(low.div_ceil(p) * p);
            while m <= high {
                segment[(m - low) as usize] = false;
                m += p;
            }
        }
        count += segment[..len].iter().filter(|&&prime| prime).count() as u64;
        if high == limit {
            break;
        }
        low = high + 1;
    }
    count
}

// ---------------------------------------------------------------------------
// Python bindings
// ---------------------------------------------------------------------------

/// Add two integers and return the result as a string.
#[pyfunction]
fn sum_as_string(a: u64, b: u64) -> PyResult<String> {
    a.checked_add(b)
        .map(|total| total.to_string())
        .ok_or_else(|| PyOverflowError::new_err("sum does not fit in 64 bits"))
}

/// The n-th Fibonacci number, computed in Rust. Raises OverflowError if the
/// result does not fit in an unsigned 64-bit integer (n > 93).
#[pyfunction]
fn fibonacci(n: u32) -> PyResult<u64> {
    fib_checked(n)
        .ok_or_else(|| PyOverflowError::new_err(format!("fibonacci({n}) does not fit in 64 bits")))
}

/// Parse "a,b" into a tuple of two ints. Raises ParseError when malformed.
#[pyfunction]
fn parse_pair(s: &str) -> PyResult<(i64, i64)> {
    Ok(parse_pair_str(s)?)
}

/// Count the primes <= limit. The GIL is released while counting, so several
/// Python threads can run this concurrently.
#[pyfunction]
fn count_primes(py: Python<'_>, limit: u64) -> u64 {
    py.detach(|| count_primes_upto(limit))
}

/// A simple integer counter living in Rust.
#[pyclass(module = "myext._native")]
struct Counter {
    value: i64,
}

#[pymethods]
impl Counter {
    #[new]
    #[pyo3(signature = (start = 0))]
    fn new(start: i64) -> Self {
        Counter { value: start }
    }

    /// Add `by` (default 1) to the counter and return the new value.
    #[pyo3(signature = (by = 1))]
    fn increment(&mut self, by: i64) -> PyResult<i64> {
        self.value = self
            .value
            .checked_add(by)
            .ok_or_else(|| PyOverflowError::new_err("Counter overflowed 64 bits"))?;
        Ok(self.value)
    }

    #[getter]
    fn value(&self) -> i64 {
        self.value
    }

    fn __repr__(&self) -> String {
        format!("Counter(value={})", self.value)
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(sum_as_string, m)?)?;
    m.add_function(wrap_pyfunction!(fibonacci, m)?)?;
    m.add_function(wrap_pyfunction!(parse_pair, m)?)?;
    m.add_function(wrap_pyfunction!(count_primes, m)?)?;
    m.add_class::<Counter>()?;
    m.add("ParseError", m.py().get_type::<ParseError>())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fib_checked_values_and_overflow() {
        let first: Vec<u64> = (0..10).map(|n| fib_checked(n).unwrap()).collect();
        assert_eq!(first, [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]);
        assert_eq!(fib_checked(50), Some(12_586_269_025));
        assert_eq!(fib_checked(93), Some(12_200_160_415_121_876_738));
        assert_eq!(fib_checked(94), None);
    }

    #[test]
    fn parse_pair_str_accepts_and_rejects() {
        assert_eq!(parse_pair_str("3,4"), Ok((3, 4)));
        assert_eq!(parse_pair_str(" -7 , 12 "), Ok((-7, 12)));
        assert_eq!(
            parse_pair_str("1,2,3"),
            Err(PairError::WrongArity { parts: 3 })
        );
        assert_eq!(
            parse_pair_str("34"),
            Err(PairError::WrongArity { parts: 1 })
        );
        assert!(matches!(
            parse_pair_str("3,x"),
            Err(PairError::BadInt { ref text, .. }) if text == "x"
        ));
    }

    #[test]
    fn count_primes_upto_matches_known_values() {
        let known = [
            (0, 0),
            (1, 0),
            (2, 1),
            (10, 4),
            (100, 25),
            (65_536, 6_542),
            (65_537, 6_543),
            (1_000_000, 78_498),
        ];
        for (limit, expected) in known {
            assert_eq!(count_primes_upto(limit), expected, "limit={limit}");
        }
    }

    /// The `_native` module as Python code sees it, in an embedded interpreter.
    fn with_module<R>(f: impl FnOnce(&Bound<'_, PyModule>) -> PyResult<R>) -> R {
        Python::initialize();
        Python::attach(|py| {
            let module = PyModule::new(py, "_native")?;
            _native(&module)?;
            f(&module)
        })
        .expect("calling the module failed")
    }

    #[test]
    fn bindings_convert_arguments_and_results() {
        with_module(|m| {
            let total: String = m.getattr("sum_as_string")?.call1((1u64, 2u64))?.extract()?;
            assert_eq!(total, "3");
            let pair: (i64, i64) = m.getattr("parse_pair")?.call1((" 5, -6",))?.extract()?;
            assert_eq!(pair, (5, -6));
            let counter = m.getattr("Counter")?.call1((10,))?;
            counter.call_method1("increment", (5,))?;
            assert_eq!(counter.getattr("value")?.extract::<i64>()?, 15);
            Ok(())
        });
    }

    #[test]
    fn bindings_raise_python_exceptions() {
        with_module(|m| {
            let err = m.getattr("fibonacci")?.call1((94u32,)).unwrap_err();
            assert!(err.is_instance_of::<PyOverflowError>(m.py()));
            let err = m.getattr("parse_pair")?.call1(("1,2,3",)).unwrap_err();
            assert!(err.is_instance_of::<ParseError>(m.py()));
            assert!(err.is_instance_of::<PyValueError>(m.py()));
            Ok(())
        });
    }
}
