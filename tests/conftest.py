import contextlib
import os
import tempfile
from collections import Counter

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GAME = os.path.join(ROOT, "games", "metta.yaml")
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"

# Under this variable (set by `make test` when CI is set) every test must run: a test that would skip because a
# system component is missing fails instead, naming it. Without it (a developer's run, maybe not root) such tests
# skip, and one line at the end of the run names the missing components.
REQUIRE_ALL = "METTA_REQUIRE_ALL"


def require_all() -> bool:
    return os.environ.get(REQUIRE_ALL, "").strip().lower() not in ("", "0", "false", "no")


def require(component: str, present: bool, why: str) -> None:
    """A test (or fixture) needs a system component of this machine: ``component`` names it (a command, a
    package, a kernel feature), ``present`` says whether it is here and ``why`` what the test needs it for and how
    to get it. Missing, the test fails under METTA_REQUIRE_ALL, else it skips; either way the message names it."""
    if present:
        return
    if require_all():
        err = pytest.fail.Exception(f"missing system component: {component}: {why} ({REQUIRE_ALL} is set, so this "
                                    f"fails instead of skipping)", pytrace=False)
    else:
        err = pytest.skip.Exception(f"missing system component: {component}: {why}")
    err.missing_component = component  # type: ignore[attr-defined]  # counted by pytest_runtest_makereport
    raise err


MISSING = pytest.StashKey[Counter]()  # component -> how many tests went without it


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    component = getattr(call.excinfo.value, "missing_component", None) if call.excinfo is not None else None
    if component:
        item.config.stash.setdefault(MISSING, Counter())[component] += 1
    return report


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """After the -ra list, one line naming every system component some test went without."""
    result = yield
    missing = config.stash.get(MISSING, Counter())
    if missing:
        tests = sum(missing.values())
        names = ", ".join(f"{name} ({n})" for name, n in sorted(missing.items()))
        if require_all():
            terminalreporter.write_sep("=", f"{tests} test(s) failed, missing system components: {names}; "
                                            f"`bash devops/setup.sh` as root installs the packages", red=True)
        else:
            terminalreporter.write_sep("=", f"{tests} test(s) skipped, missing system components: {names}; "
                                            f"`bash devops/setup.sh` as root installs the packages; "
                                            f"{REQUIRE_ALL}=1 (CI's `make test`) fails them instead", yellow=True)
    return result


@contextlib.contextmanager
def config_error(*words):
    """Expect a ConfigError whose message contains every one of ``words``; yields the message holder."""
    from metta import ConfigError

    with pytest.raises(ConfigError) as err:
        yield err
    msg = str(err.value)
    for w in words:
        assert w in msg, f"{w!r} not in: {msg}"


class Scene:
    """A scripted level on the real game: act by action name, read Griddly's own state."""

    def __init__(self, level: str, game: str | None = None, **overrides):
        from metta import make_env

        # regeneration off unless a test asks for it, so energy moves only by the rule under test
        overrides.setdefault("agent_energy_regen", 0)
        self.env = make_env("metta-solo", level=level, game=game, overrides=overrides)
        self.env.reset(seed=0)
        self.values = self.env.game.named_values()
        self.rewards = None

    def a(self, name: str, action_id: int = 1) -> int:
        return self.env.engine.action_index(name, action_id)

    def act(self, *per_agent):
        """One step; per_agent[i] is None (wait), an action name, or (name, input id)."""
        actions = {}
        for i, act in enumerate(per_agent):
            if act is None:
                actions[f"agent_{i}"] = 0
            elif isinstance(act, tuple):
                actions[f"agent_{i}"] = self.a(*act)
            else:
                actions[f"agent_{i}"] = self.a(act)
        obs, rew, term, trunc, info = self.env.step(actions)
        self.rewards = [rew.get(f"agent_{i}", 0.0) for i in range(len(self.env.possible_agents))]
        return obs

    def agent(self, i: int) -> dict:
        return self.env.agent_variables()[i]

    def objects(self, name: str) -> list[dict]:
        return [dict(location=tuple(o["Location"]), **o["Variables"]) for o in self.env.state()["Objects"]
                if o["Name"] == name]


@pytest.fixture
def scene():
    return Scene


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, headless and offline, driven through chromedriver (one per test module)."""
    for component, path in (("chromium", CHROMIUM), ("chromium-driver", CHROMEDRIVER)):
        require(component, os.path.exists(path), f"the browser tests drive Debian's {component} ({path})")
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not look for (or download) a browser
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="metta-chromium-")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={profile}", "--window-size=1400,1000"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    yield driver
    driver.quit()
