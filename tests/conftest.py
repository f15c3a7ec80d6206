"""Session-wide fixtures shared by the suites: each real part is started once per test run."""

pytest_plugins = [
    "tests.fixtures.docker_engine",
    "tests.fixtures.vm",
    "tests.fixtures.stack",
    "tests.fixtures.gate",
]


def pytest_collection_modifyitems(session, config, items):
    """The Node1 VM suite starts Lynis in the background right after its first apply; the tests that read Lynis'
    report, and those after them in the suite's file (they tamper with and reboot the VM), run at the end of the
    session, so the other suites run while Lynis works inside the VM instead of the session waiting for it. The
    VM, its first apply and the Lynis run are session-scoped, so moving these tests starts nothing twice."""
    late, first_reader = [], None
    for index, item in enumerate(items):
        if item.path.name == "test_node1_vm.py" and "lynis_report" in getattr(item, "fixturenames", ()):
            first_reader = index
            break
    if first_reader is None:
        return
    module = items[first_reader].path
    late = [item for item in items[first_reader:] if item.path == module]
    if len(late) == len(items) - first_reader:
        return  # nothing else follows them
    items[:] = [item for item in items if item not in late] + late
