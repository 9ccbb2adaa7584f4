"""symphony.commons.config: layers, typed parsing, error reports, the section registry."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from symphony.commons import config as cfgmod
from symphony.commons.config import (
    Config,
    GeneralConfig,
    LimitsConfig,
    LoggingConfig,
    PathsConfig,
    config_section,
    load_config,
    registered_sections,
    rules,
    section_name,
)
from symphony.commons.errors import ConfigError, ValidationError
from symphony.commons.prevalidation import in_range


@pytest.fixture
def cdir(tmp_path: Path) -> Path:
    d = tmp_path / "conf"
    d.mkdir()
    return d


@pytest.fixture
def registry() -> Iterator[None]:
    """Restore the section registry after a test registers its own sections."""
    sections, names = dict(cfgmod._SECTIONS), dict(cfgmod._NAMES)
    yield
    cfgmod._SECTIONS.clear()
    cfgmod._SECTIONS.update(sections)
    cfgmod._NAMES.clear()
    cfgmod._NAMES.update(names)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def load(cdir: Path, env: str | None = None, **environ: str) -> cfgmod.LoadedConfig:
    return load_config(env, cdir, environ=environ)


def problems(exc: pytest.ExceptionInfo[ConfigError]) -> list[str]:
    found = exc.value.details["problems"]
    assert isinstance(found, list)
    return [str(p) for p in found]


# --------------------------------------------------------------------------- defaults
def test_defaults_without_files(cdir: Path) -> None:
    loaded = load(cdir)
    assert loaded.env == "default"
    assert loaded.config_dir == cdir
    assert loaded.searched == (cdir / "default.toml",)
    assert loaded.sources == ()
    assert loaded.env_overrides == ()
    assert loaded.origins == {}
    assert loaded.deferred_sections == ()
    c = loaded.config
    assert c.general == GeneralConfig()
    assert c.limits == LimitsConfig()
    assert c.paths == PathsConfig()
    # logging.directory follows [paths] log_dir when unset
    assert c.logging == dataclasses.replace(LoggingConfig(), directory=c.paths.log_dir)


def test_packaged_defaults_are_sane() -> None:
    c = Config.defaults()
    assert c.logging.level == "INFO"
    assert c.logging.console
    assert not c.logging.file
    assert not c.logging.json
    assert c.logging.directory is None
    assert c.limits.max_read_bytes == 64 * 1024 * 1024
    assert c.general.instance_name == "symphony"
    assert c.general.debug is False
    assert repr(c) == "Config(general, logging, paths, limits)"


def test_sections_are_frozen() -> None:
    c = Config.defaults()
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.logging.level = "DEBUG"  # type: ignore[misc]


def test_paths_default_to_platform_dirs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "d"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "s"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "r"))
    p = PathsConfig()
    assert p.data_dir == tmp_path / "d" / "symphony"
    assert p.cache_dir == tmp_path / "c" / "symphony"
    assert p.log_dir == tmp_path / "s" / "symphony" / "log"
    assert p.runtime_dir == tmp_path / "r" / "symphony"


def test_config_dir_from_env_var_or_platform(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, cdir: Path
) -> None:
    write(cdir / "default.toml", "[general]\ninstance_name = 'from-env-dir'\n")
    loaded = load_config(environ={"SYMPHONY_CONFIG_DIR": str(cdir)})
    assert loaded.config.general.instance_name == "from-env-dir"
    assert loaded.sources == (cdir / "default.toml",)

    xdg = tmp_path / "xdg"
    (xdg / "symphony").mkdir(parents=True)
    write(xdg / "symphony" / "default.toml", "[general]\ninstance_name = 'from-xdg'\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    loaded = load_config(environ={})
    assert loaded.config_dir == xdg / "symphony"
    assert loaded.config.general.instance_name == "from-xdg"
    # an explicit argument beats the variable
    assert load_config(None, xdg / "symphony", environ={"SYMPHONY_CONFIG_DIR": str(cdir)}).sources
    assert load_config(None, cdir, environ={}).config.general.instance_name == "from-env-dir"


# --------------------------------------------------------------------------- layers
@pytest.fixture
def layered(cdir: Path) -> Path:
    write(
        cdir / "default.toml",
        """
[general]
instance_name = "base"
debug = true

[logging]
level = "WARNING"
backup_count = 2
max_bytes = 1000
""",
    )
    write(cdir / "test.toml", '[logging]\nlevel = "ERROR"\nmax_bytes = 2000\n')
    write(cdir / "production.toml", '[logging]\nlevel = "CRITICAL"\n')
    return cdir


def test_precedence_default_file(layered: Path) -> None:
    loaded = load(layered)
    c = loaded.config
    assert loaded.sources == (layered / "default.toml",)
    assert (c.logging.level, c.logging.max_bytes, c.logging.backup_count) == ("WARNING", 1000, 2)
    assert c.general == GeneralConfig(instance_name="base", debug=True)


def test_precedence_env_file_over_default(layered: Path) -> None:
    loaded = load(layered, "test")
    assert loaded.env == "test"
    assert loaded.searched == (layered / "default.toml", layered / "test.toml")
    assert loaded.sources == loaded.searched
    c = loaded.config
    assert (c.logging.level, c.logging.max_bytes, c.logging.backup_count) == ("ERROR", 2000, 2)
    assert c.general.instance_name == "base"
    assert loaded.origins["logging.level"] == str(layered / "test.toml")
    assert loaded.origins["logging.backup_count"] == str(layered / "default.toml")
    assert "logging.color" not in loaded.origins


def test_env_name_from_variable(layered: Path) -> None:
    assert load(layered, SYMPHONY_ENV="production").config.logging.level == "CRITICAL"
    # the argument wins over the variable
    assert load(layered, "test", SYMPHONY_ENV="production").config.logging.level == "ERROR"
    # an environment without a file: only default.toml is read, and that is visible
    loaded = load(layered, "staging")
    assert loaded.searched[-1] == layered / "staging.toml"
    assert loaded.sources == (layered / "default.toml",)


def test_precedence_environment_variables_win(layered: Path) -> None:
    loaded = load(
        layered,
        "test",
        SYMPHONY_LOGGING__LEVEL="DEBUG",
        SYMPHONY_LOGGING__MAX_BYTES="3000",
        SYMPHONY_GENERAL__DEBUG="false",
    )
    c = loaded.config
    assert (c.logging.level, c.logging.max_bytes, c.logging.backup_count) == ("DEBUG", 3000, 2)
    assert c.general.debug is False
    assert loaded.env_overrides == (
        "SYMPHONY_GENERAL__DEBUG",
        "SYMPHONY_LOGGING__LEVEL",
        "SYMPHONY_LOGGING__MAX_BYTES",
    )
    assert loaded.origins["logging.level"] == "environment variable SYMPHONY_LOGGING__LEVEL"


def test_unrelated_symphony_variables_are_ignored(cdir: Path) -> None:
    loaded = load(
        cdir, SYMPHONY_PURE_PYTHON="1", SYMPHONY_KERNELS="x", OTHER__X="1", SYMPHONY_ENV=""
    )
    assert loaded.env_overrides == ()
    assert loaded.env == "default"


@pytest.mark.parametrize("bad", ["../etc", ".hidden", "a/b", "prod uction", "-x"])
def test_bad_env_name(cdir: Path, bad: str) -> None:
    with pytest.raises(ConfigError, match=r"environment variable SYMPHONY_ENV: expected"):
        load(cdir, SYMPHONY_ENV=bad)
    with pytest.raises(ConfigError, match=r"the env argument: expected .* found"):
        load(cdir, bad)


# --------------------------------------------------------------------------- env parsing
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *[("1", True), ("true", True), ("YES", True), (" on ", True)],
        *[("0", False), ("False", False), ("no", False), ("off", False)],
    ],
)
def test_env_bool(cdir: Path, text: str, expected: bool) -> None:
    assert load(cdir, SYMPHONY_GENERAL__DEBUG=text).config.general.debug is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0", 0), ("1_000", 1000), ("0x10", 16), ("010", 10), (" 42 ", 42), ("0o17", 15)],
)
def test_env_int(cdir: Path, text: str, expected: int) -> None:
    loaded = load(cdir, SYMPHONY_LIMITS__MAX_READ_BYTES=text)
    assert loaded.config.limits.max_read_bytes == expected
    assert type(loaded.config.limits.max_read_bytes) is int


def test_env_literal_is_case_insensitive_and_optional_is_emptiable(cdir: Path) -> None:
    c = load(
        cdir,
        SYMPHONY_LOGGING__LEVEL="debug",
        SYMPHONY_LOGGING__CONSOLE_LEVEL="warning",
        SYMPHONY_LOGGING__FILE_LEVEL="",
        SYMPHONY_LOGGING__COLOR="NEVER",
    ).config.logging
    assert (c.level, c.console_level, c.file_level, c.color) == ("DEBUG", "WARNING", None, "never")


def test_env_paths_are_absolute(
    cdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    c = load(
        cdir,
        SYMPHONY_PATHS__DATA_DIR="rel/data",
        SYMPHONY_PATHS__CACHE_DIR="~/cache",
        SYMPHONY_PATHS__LOG_DIR="/abs/log",
        SYMPHONY_LOGGING__DIRECTORY="",
    ).config
    assert c.paths.data_dir == tmp_path / "rel" / "data"
    assert c.paths.cache_dir == tmp_path / "home" / "cache"
    assert c.paths.log_dir == Path("/abs/log")
    assert c.logging.directory == Path("/abs/log")  # empty → follows paths.log_dir


def test_file_paths_are_relative_to_the_file(cdir: Path) -> None:
    write(cdir / "default.toml", '[paths]\ndata_dir = "data"\n[logging]\ndirectory = "/var/x"\n')
    c = load(cdir).config
    assert c.paths.data_dir == cdir / "data"
    assert c.logging.directory == Path("/var/x")


@given(st.integers(-(2**70), 2**70))
def test_env_int_property(n: int) -> None:
    environ = {"SYMPHONY_LIMITS__MAX_READ_BYTES": str(n)}
    if n >= 0:
        got = load_config(None, Path("/nonexistent-symphony-test"), environ=environ)
        assert got.config.limits.max_read_bytes == n
    else:
        with pytest.raises(ConfigError, match=f"{n} is below the minimum 0"):
            load_config(None, Path("/nonexistent-symphony-test"), environ=environ)


# --------------------------------------------------------------------------- bad values
def test_bad_value_names_file_key_type_and_value(cdir: Path) -> None:
    f = write(cdir / "default.toml", '[logging]\nmax_bytes = "10MB"\n')
    with pytest.raises(ConfigError) as info:
        load(cdir)
    assert problems(info) == [
        f"{f}: [logging] max_bytes: expected integer, found '10MB' (str)",
    ]
    assert str(info.value) == (
        f"1 configuration problem:\n  {f}: [logging] max_bytes: expected integer, "
        "found '10MB' (str)"
    )
    assert isinstance(info.value, ValidationError)
    assert info.value.category == "config"


def test_bad_env_value_names_variable(cdir: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(cdir, SYMPHONY_GENERAL__DEBUG="maybe")
    assert problems(info) == [
        "environment variable SYMPHONY_GENERAL__DEBUG: [general] debug: "
        "expected boolean, found 'maybe' (str)"
    ]


def test_every_problem_is_reported_together(cdir: Path) -> None:
    f = write(
        cdir / "default.toml",
        """
[logging]
level = "LOUD"
console = 1
levle = "DEBUG"
console_level = 3
[limits]
max_read_bytes = -5
max_frame_bytes = 1.5
[general]
debug = "yes"
""",
    )
    t = write(cdir / "test.toml", "[paths]\ndata_dir = 7\n")
    with pytest.raises(ConfigError) as info:
        load(cdir, "test", SYMPHONY_LIMITS__MAX_NESTING_DEPTH="deep")
    assert sorted(problems(info)) == sorted(
        [
            f"{f}: [logging] level: expected one of 'DEBUG', 'INFO', 'WARNING', 'ERROR', "
            "'CRITICAL', found 'LOUD' (str)",
            f"{f}: [logging] console: expected boolean, found 1 (int)",
            f"{f}: [logging] unknown key 'levle' (did you mean 'level'?); known keys: "
            + ", ".join(sorted(f.name for f in dataclasses.fields(LoggingConfig))),
            f"{f}: [logging] console_level: expected one of 'DEBUG', 'INFO', 'WARNING', "
            "'ERROR', 'CRITICAL' or empty, found 3 (int)",
            f"{f}: [limits] max_read_bytes: -5 is below the minimum 0",
            f"{f}: [limits] max_frame_bytes: expected integer, found 1.5 (float)",
            f"{f}: [general] debug: expected boolean, found 'yes' (str)",
            f"{t}: [paths] data_dir: expected path (string), found 7 (int)",
            "environment variable SYMPHONY_LIMITS__MAX_NESTING_DEPTH: [limits] "
            "max_nesting_depth: expected integer, found 'deep' (str)",
        ]
    )
    assert str(info.value).startswith("9 configuration problems:\n")


def test_unknown_key_without_suggestion(cdir: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[general\] unknown key 'zzz'; known keys"):
        load(cdir, SYMPHONY_GENERAL__ZZZ="1")


def test_invalid_toml(cdir: Path) -> None:
    f = write(cdir / "default.toml", "[logging\nlevel = 1\n")
    with pytest.raises(ConfigError, match=rf"{f}: invalid TOML: .*line 1"):
        load(cdir)


def test_top_level_value_is_not_a_table(cdir: Path) -> None:
    f = write(cdir / "default.toml", "level = 'DEBUG'\n")
    with pytest.raises(ConfigError, match=rf"{f}: top-level key 'level' must be a \[section\]"):
        load(cdir)


def test_not_utf8(cdir: Path) -> None:
    (cdir / "default.toml").write_bytes(b"[general]\ninstance_name = '\xff'\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load(cdir)


def test_oversized_and_unreadable_files(cdir: Path) -> None:
    big = cdir / "default.toml"
    big.write_bytes(b"#" * (cfgmod.MAX_CONFIG_FILE_BYTES + 1))
    with pytest.raises(ConfigError, match=r"cannot read.*over the limit"):
        load(cdir)
    big.unlink()
    (cdir / "default.toml").mkdir()
    with pytest.raises(ConfigError, match=r"default.toml: cannot read"):
        load(cdir)


def test_rule_failures_are_reported(cdir: Path) -> None:
    with pytest.raises(ConfigError, match=r"instance_name: length 0 is below the minimum 1"):
        load(cdir, SYMPHONY_GENERAL__INSTANCE_NAME="")
    with pytest.raises(ConfigError, match=r"backup_count: 1001 is above the maximum 1000"):
        load(cdir, SYMPHONY_LOGGING__BACKUP_COUNT="1001")


def test_malformed_override_variable(cdir: Path) -> None:
    with pytest.raises(ConfigError, match=r"SYMPHONY_9X__Y: expected SYMPHONY_<SECTION>__<KEY>"):
        load(cdir, SYMPHONY_9X__Y="1")
    with pytest.raises(ConfigError, match=r"SYMPHONY_LOGGING__: expected"):
        load(cdir, SYMPHONY_LOGGING__="1")


# --------------------------------------------------------------------------- registry
def test_builtin_sections_registered() -> None:
    reg = registered_sections()
    assert {k: reg[k] for k in ("general", "logging", "paths", "limits")} == {
        "general": GeneralConfig,
        "logging": LoggingConfig,
        "paths": PathsConfig,
        "limits": LimitsConfig,
    }
    assert section_name(LoggingConfig) == "logging"
    with pytest.raises(KeyError, match="not a registered config section"):
        section_name(int)


def test_a_later_section_plugs_in(cdir: Path, registry: None) -> None:
    @config_section("transport_test")
    @dataclass(frozen=True, slots=True)
    class TransportConfig:
        max_frame: int = field(default=1024, metadata=rules(in_range(1, 1 << 30)))
        ratio: float = 0.5
        names: tuple[str, ...] = ("a",)
        mode: Literal["fast", "safe"] = "safe"
        sizes: tuple[int, ...] = ()
        socket_dir: Path | None = None
        label: str | None = "x"

    write(
        cdir / "default.toml",
        '[transport_test]\nmax_frame = 4096\nratio = 2\nnames = ["x", "y"]\nmode = "fast"\n',
    )
    loaded = load(
        cdir,
        SYMPHONY_TRANSPORT_TEST__SIZES="1, 2,3,",
        SYMPHONY_TRANSPORT_TEST__RATIO="0.25",
        SYMPHONY_TRANSPORT_TEST__LABEL="",
    )
    t = loaded.config.section(TransportConfig)
    assert t == TransportConfig(
        max_frame=4096, ratio=0.25, names=("x", "y"), mode="fast", sizes=(1, 2, 3), label=None
    )
    assert type(t.ratio) is float
    assert loaded.config.section(TransportConfig) is t
    assert loaded.config.as_dict()["transport_test"]["names"] == ("x", "y")


def test_sections_registered_after_loading_are_parsed_lazily(cdir: Path, registry: None) -> None:
    f = write(cdir / "default.toml", "[late]\nworkers = 4\n[latebad]\nworkers = 'many'\n")
    loaded = load(cdir)
    assert loaded.deferred_sections == ("late", "latebad")

    @config_section("late")
    @dataclass(frozen=True)
    class Late:
        workers: int = 1

    @config_section("latebad")
    @dataclass(frozen=True)
    class LateBad:
        workers: int = 1

    @config_section("never_set")
    @dataclass(frozen=True)
    class NeverSet:
        workers: int = 1

    assert loaded.config.section(Late).workers == 4
    assert loaded.config.section(NeverSet) == NeverSet()
    with pytest.raises(
        ConfigError, match=rf"{f}: \[latebad\] workers: expected integer, found 'many'"
    ):
        loaded.config.section(LateBad)


def test_section_post_init_errors_are_reported(cdir: Path, registry: None) -> None:
    @config_section("ranged")
    @dataclass(frozen=True)
    class Ranged:
        low: int = 0
        high: int = 10

        def __post_init__(self) -> None:
            if self.low > self.high:
                raise ValueError(f"low={self.low} is above high={self.high}")

    f = write(cdir / "default.toml", "[ranged]\nlow = 50\n")
    with pytest.raises(ConfigError, match=rf"{f}: \[ranged\] low=50 is above high=10"):
        load(cdir)


def test_registration_rules(registry: None) -> None:
    with pytest.raises(ValueError, match="must match"):
        config_section("Bad-Name")

    @dataclass
    class Mutable:
        x: int = 0

    with pytest.raises(TypeError, match="must be frozen"):
        config_section("mutable")(Mutable)

    class NotADataclass:
        pass

    with pytest.raises(TypeError, match="not a dataclass"):
        config_section("plain")(NotADataclass)

    @dataclass(frozen=True)
    class Other:
        x: int = 0

    with pytest.raises(ValueError, match="already registered to LoggingConfig"):
        config_section("logging")(Other)
    # re-registering the same class is fine
    assert config_section("logging")(LoggingConfig) is LoggingConfig


def test_unsupported_field_type_is_a_programming_error(cdir: Path, registry: None) -> None:
    @config_section("weird")
    @dataclass(frozen=True)
    class Weird:
        data: frozenset[int] = field(default_factory=frozenset)

    write(cdir / "default.toml", "[weird]\ndata = [1]\n")
    with pytest.raises(TypeError, match="unsupported config field type"):
        load(cdir)


def test_table_fields_from_files_and_environment(cdir: Path, registry: None) -> None:
    @config_section("weighted")
    @dataclass(frozen=True)
    class Weighted:
        weights: dict[str, float] = field(default_factory=dict)

    write(cdir / "default.toml", "[weighted]\nweights = {alice = 2, bob = 0.5}\n")
    assert load(cdir).config.section(Weighted).weights == {"alice": 2.0, "bob": 0.5}
    env = load(cdir, SYMPHONY_WEIGHTED__WEIGHTS="carol=3, dave=1.5")
    assert env.config.section(Weighted).weights == {"carol": 3.0, "dave": 1.5}
    write(cdir / "default.toml", '[weighted]\nweights = {alice = "lots"}\n')
    with pytest.raises(ConfigError, match="weights") as info:
        load(cdir)
    assert "table of number" in str(info.value) and "lots" in str(info.value)


def test_as_dict(cdir: Path) -> None:
    d = load(cdir, SYMPHONY_PATHS__DATA_DIR="/d").config.as_dict()
    assert d["paths"]["data_dir"] == "/d"
    assert d["logging"]["level"] == "INFO"
    # Other subsystems register their own sections when imported (artifacts, runs, …).
    assert {"general", "logging", "paths", "limits"} <= set(d)
    assert set(d) == set(registered_sections())


def test_more_field_types(cdir: Path, registry: None) -> None:
    @config_section("typed")
    @dataclass(frozen=True)
    class Typed:
        level: Literal[1, 2, 3] = 1
        ratio: float = 1.0
        names: tuple[str, ...] = ()

    assert load(cdir, SYMPHONY_TYPED__LEVEL="2").config.section(Typed).level == 2
    assert load(cdir, SYMPHONY_TYPED__RATIO="1e-3").config.section(Typed).ratio == 0.001
    f = write(cdir / "default.toml", f'[typed]\nnames = "{"n" * 100}"\nratio = true\n')
    with pytest.raises(ConfigError) as info:
        load(cdir, SYMPHONY_TYPED__LEVEL="4")
    assert sorted(problems(info)) == sorted(
        [
            f"{f}: [typed] names: expected list of string, found '{'n' * 76}... (str)",
            f"{f}: [typed] ratio: expected number, found True (bool)",
            "environment variable SYMPHONY_TYPED__LEVEL: [typed] level: expected one of "
            "1, 2, 3, found '4' (str)",
        ]
    )
    (cdir / "default.toml").unlink()
    with pytest.raises(ConfigError, match=r"ratio: expected number, found 'fast'"):
        load(cdir, SYMPHONY_TYPED__RATIO="fast")
    with pytest.raises(ConfigError, match=r"level: expected one of 1, 2, 3, found 'x'"):
        load(cdir, SYMPHONY_TYPED__LEVEL="x")


def test_fixed_size_tuples_are_refused(cdir: Path, registry: None) -> None:
    @config_section("pair")
    @dataclass(frozen=True)
    class Pair:
        xy: tuple[int, int] = (0, 0)

    write(cdir / "default.toml", "[pair]\nxy = [1, 2]\n")
    with pytest.raises(TypeError, match=r"tuple\[X, \.\.\.\] only"):
        load(cdir)


def test_report(layered: Path) -> None:
    write(layered / "default.toml", "[loging]\nlevel = 'DEBUG'\n")
    loaded = load(layered, "staging", SYMPHONY_GENERAL__DEBUG="1")
    assert loaded.report() == "\n".join(
        [
            "environment: staging",
            f"config dir: {layered}",
            f"  {layered / 'default.toml'}: read",
            f"  {layered / 'staging.toml'}: not found",
            "overrides: SYMPHONY_GENERAL__DEBUG",
            "sections with no registered class (a typo, or not imported yet): [loging]",
        ]
    )
    assert "overrides: none" in load(layered).report().splitlines()


def test_default_toml_loads_back_to_the_defaults(cdir: Path, registry: None) -> None:
    @config_section("extra_for_toml")
    @dataclass(frozen=True)
    class Extra:
        text: str = 'quote " backslash \\ tab \t newline \n é ✓'
        names: tuple[str, ...] = ("a", "b")
        ratio: float = 0.1
        on: bool = False
        nothing: int | None = None

    text = cfgmod.default_toml()
    assert "[logging]\n" in text
    assert '# console_level = ""' in text
    assert "# data_dir = " in text  # machine-specific: commented out
    write(cdir / "default.toml", text)
    loaded = load(cdir)
    assert loaded.sources == (cdir / "default.toml",)
    assert loaded.config.section(Extra) == Extra()
    defaults = Config.defaults()
    assert loaded.config.general == defaults.general
    assert loaded.config.limits == defaults.limits
    assert loaded.config.logging == dataclasses.replace(
        defaults.logging, directory=loaded.config.paths.log_dir
    )
    assert "paths.data_dir" not in loaded.origins


def test_default_toml_covers_every_section_of_the_package(tmp_path: Path) -> None:
    """With every subsystem imported (each registers its sections), the defaults document
    is still writable TOML and loads back to the same values, mappings included."""
    import importlib
    import pkgutil

    import symphony

    for info in pkgutil.walk_packages(symphony.__path__, "symphony."):
        if not info.name.startswith("symphony.bench") and not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    text = cfgmod.default_toml()
    write(tmp_path / "default.toml", text)
    loaded = load(tmp_path)
    for name, cls in cfgmod.registered_sections().items():
        if name in ("paths", "logging"):  # machine-specific dirs: written commented out
            continue
        assert loaded.config.section(cls) == cls(), name


def test_default_toml_refuses_unknown_types(registry: None) -> None:
    @config_section("odd")
    @dataclass(frozen=True)
    class Odd:
        data: frozenset[int] = field(default_factory=lambda: frozenset({1}))

    with pytest.raises(TypeError, match="cannot write frozenset as TOML"):
        cfgmod.default_toml()


def test_default_toml_writes_mappings_as_inline_tables(cdir: Path, registry: None) -> None:
    @config_section("weighted")
    @dataclass(frozen=True)
    class Weighted:
        weights: dict[str, float] = field(default_factory=lambda: {"a b": 1.5, "é": 2.0})

    text = cfgmod.default_toml()
    assert '# weights = {"a b" = 1.5, "é" = 2.0}' in text  # a factory default: commented out
    write(cdir / "default.toml", text.replace("# weights", "weights"))
    assert load(cdir).config.section(Weighted) == Weighted()
