"""Session-wide fixtures shared by the suites: each real part is started once per test run."""

pytest_plugins = [
    "tests.fixtures.docker_engine",
    "tests.fixtures.vm",
    "tests.fixtures.stack",
    "tests.fixtures.gate",
]
