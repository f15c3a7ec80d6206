"""Session-wide fixtures shared by the suites: each real part is started once per test run."""

pytest_plugins = [
    "tests.fixtures.docker_engine",
    "tests.fixtures.vm",
    "tests.fixtures.stack",
    "tests.fixtures.gate",
]


def pytest_collection_modifyitems(session, config, items):
    """The Node1 VM suite starts Lynis in the background right after its first apply, and Lynis needs about 26
    minutes inside the emulated VM. So the suite's tests before the first Lynis reader (boot, first apply and the
    checks of the applied node) run first in the session; the tests that read Lynis' report, and those after them
    in the suite's file (they tamper with and reboot the VM), run last; every other suite runs in between, while
    Lynis works, instead of the session waiting idle for it (CI waited 879 s when the VM suite began after the
    audit, e2e and engine suites). The VM, its first apply and the Lynis run are session-scoped, so moving these
    tests starts nothing twice."""
    first_reader = next((index for index, item in enumerate(items)
                         if item.path.name == "test_node1_vm.py" and "lynis_report" in getattr(item, "fixturenames", ())),
                        None)
    if first_reader is None:
        return
    module = items[first_reader].path
    late = [item for item in items[first_reader:] if item.path == module]
    early = [item for item in items[:first_reader] if item.path == module]
    rest = [item for item in items if item.path != module]
    if not rest:
        return  # the VM suite alone: file order already is the intended order
    items[:] = early + rest + late
