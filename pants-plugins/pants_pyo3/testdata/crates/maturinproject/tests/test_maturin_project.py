import maturin_project


def test_version_comes_from_cargo() -> None:
    assert str(maturin_project.version()) == "0.3.1" == maturin_project.__version__
