//! `pants-pyo3-stubgen <pyo3 minor> <library> <module> <output directory>`: writes the type stub
//! of the PyO3 module `<module>` (its `#[pymodule]`'s name) that `<library>` defines, from the
//! introspection data pyo3's `experimental-inspect` feature compiled into it, with the
//! pyo3-introspection release that reads the data of pyo3 `<pyo3 minor>` (e.g. `0.29`).
//!
//! A module without submodules becomes `<output directory>/<module>.pyi`; one with submodules a
//! stub package, `<output directory>/<module>/__init__.pyi` and a file per submodule. The exit
//! code tells the plugin why nothing could be written (see `Failure`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::{env, fs};

/// Why no stub was written; the plugin maps each exit code to a message with the fix.
#[derive(Debug)]
enum Failure {
    /// Wrong arguments, or a file that can't be read or written.
    Usage(String),
    /// A pyo3 minor this program has no pyo3-introspection for.
    UnknownPyo3(String),
    /// The library has no symbol table (a profile with `strip = true`): the data is unreachable.
    Stripped,
    /// The library holds no introspection data at all (pyo3 built without `experimental-inspect`).
    NoData,
    /// Introspection data, but no module of that name: pyo3 only describes modules declared as an
    /// inline `#[pymodule] mod`, not by a `#[pymodule] fn`.
    NoModule(String),
    /// The module is there but describes nothing and is marked incomplete: it is declared by a
    /// `#[pymodule] fn`, whose body pyo3 can't see.
    NoMembers,
    /// pyo3-introspection failed otherwise.
    Introspection(String),
}

impl Failure {
    fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            Failure::UnknownPyo3(_) => 3,
            Failure::Stripped => 4,
            Failure::NoData => 5,
            Failure::NoModule(_) => 6,
            Failure::Introspection(_) => 7,
            Failure::NoMembers => 8,
        }
    }

    fn message(&self) -> String {
        match self {
            Failure::Usage(m) | Failure::Introspection(m) | Failure::NoModule(m) => m.clone(),
            Failure::UnknownPyo3(v) => format!("no pyo3-introspection for pyo3 {v}"),
            Failure::Stripped => "the library has no symbol table (stripped)".into(),
            Failure::NoData => "the library holds no pyo3 introspection data".into(),
            Failure::NoMembers => "the module's introspection data lists no members".into(),
        }
    }
}

/// The stub files of `module` in `library` (path -> content) from one pyo3-introspection crate, as
/// it lays them out (the module itself is `__init__.pyi`), or `Failure::NoMembers` if the module
/// describes nothing.
macro_rules! stubs_with {
    ($introspection:ident, $library:expr, $module:expr) => {
        $introspection::introspect_cdylib($library, $module).map(|m| {
            let described = !(m.modules.is_empty()
                && m.classes.is_empty()
                && m.functions.is_empty()
                && m.attributes.is_empty());
            (
                described || !m.incomplete,
                $introspection::module_stub_files(&m),
            )
        })
    };
}

/// The stub files of `module` in `library`, read with the pyo3-introspection of pyo3 `pyo3`.
fn stub_files(
    pyo3: &str,
    library: &Path,
    module: &str,
) -> Result<HashMap<PathBuf, String>, Failure> {
    let result = match pyo3 {
        "0.26" => stubs_with!(introspection_0_26, library, module),
        "0.27" => stubs_with!(introspection_0_27, library, module),
        "0.28" => stubs_with!(introspection_0_28, library, module),
        "0.29" => stubs_with!(introspection_0_29, library, module),
        "0.30" => stubs_with!(introspection_0_30, library, module),
        other => return Err(Failure::UnknownPyo3(other.to_string())),
    };
    match result {
        Ok((true, files)) => Ok(files),
        // A `#[pymodule] fn`: pyo3 knows the module exists, not what its function adds to it, so
        // the stub would only say "anything goes" (`def __getattr__(name) -> Incomplete`).
        Ok((false, _)) => Err(Failure::NoMembers),
        Err(e) => Err(explain(library, module, format!("{e:#}"))),
    }
}

/// Why pyo3-introspection found no module: the library's symbols tell a stripped library, one
/// without introspection data and one whose module is declared by a function apart.
fn explain(library: &Path, module: &str, error: String) -> Failure {
    if !error.starts_with(&format!("No module named {module} found")) {
        return Failure::Introspection(error);
    }
    let Ok(content) = fs::read(library) else {
        return Failure::Introspection(error);
    };
    match goblin::elf::Elf::parse(&content) {
        Ok(elf) if elf.syms.is_empty() => Failure::Stripped,
        Ok(elf) => {
            let has_data = elf.syms.iter().any(|sym| {
                let name = elf.strtab.get_at(sym.st_name).unwrap_or_default();
                name.trim_start_matches('_')
                    .starts_with("PYO3_INTROSPECTION_")
            });
            if has_data {
                Failure::NoModule(error)
            } else {
                Failure::NoData
            }
        }
        // Not ELF (Mach-O, PE): pyo3-introspection's own message.
        Err(_) => Failure::NoModule(error),
    }
}

/// Writes the stub files under `output`: a module without submodules as `<module>.pyi`, else as
/// the stub package `<module>/`.
fn write_stubs(
    files: &HashMap<PathBuf, String>,
    module: &str,
    output: &Path,
) -> Result<Vec<PathBuf>, Failure> {
    let single = files.len() == 1 && files.contains_key(Path::new("__init__.pyi"));
    let mut written = Vec::new();
    for (path, content) in files {
        let dest = if single {
            output.join(format!("{module}.pyi"))
        } else {
            output.join(module).join(path)
        };
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| Failure::Usage(format!("can't create {}: {e}", parent.display())))?;
        }
        fs::write(&dest, content)
            .map_err(|e| Failure::Usage(format!("can't write {}: {e}", dest.display())))?;
        written.push(dest);
    }
    written.sort();
    Ok(written)
}

fn run(args: &[String]) -> Result<Vec<PathBuf>, Failure> {
    let [pyo3, library, module, output] = args else {
        return Err(Failure::Usage(
            "usage: pants-pyo3-stubgen <pyo3 minor> <library> <module> <output directory>".into(),
        ));
    };
    let files = stub_files(pyo3, Path::new(library), module)?;
    write_stubs(&files, module, Path::new(output))
}

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    match run(&args) {
        Ok(written) => {
            for path in written {
                println!("{}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(failure) => {
            eprintln!("pants-pyo3-stubgen: {}", failure.message());
            ExitCode::from(failure.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_without_submodules_is_one_file() {
        let dir = env::temp_dir().join(format!("pants-pyo3-stubgen-{}", std::process::id()));
        let files = HashMap::from([(PathBuf::from("__init__.pyi"), "x: int\n".to_string())]);
        let written = write_stubs(&files, "_native", &dir).unwrap();
        assert_eq!(written, vec![dir.join("_native.pyi")]);
        let files = HashMap::from([
            (PathBuf::from("__init__.pyi"), String::new()),
            (PathBuf::from("sub.pyi"), String::new()),
        ]);
        let written = write_stubs(&files, "_native", &dir).unwrap();
        assert_eq!(
            written,
            vec![
                dir.join("_native/__init__.pyi"),
                dir.join("_native/sub.pyi")
            ]
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_unknown_pyo3_is_named() {
        let failure = stub_files("0.25", Path::new("/nonexistent"), "m")
            .err()
            .unwrap();
        assert_eq!(failure.exit_code(), 3);
        assert!(failure.message().contains("0.25"));
    }
}
