"""The replay viewer in a real headless browser (Debian's chromium, installed by devops/setup.sh).

The truth is the env itself: where each agent stood, its energy and inventory, and its
observation, read from the env while the episode was played; the page is read back through
its canvas pixels and its DOM.
"""
import time
import urllib.request

import numpy as np
import pytest

from metta import make_env
from metta.evals.play import play_episode
from metta.evals.policies import RandomPolicy
from metta.viz.render import ICE_COLOR, group_color
from metta.viz.replay import Recorder
from metta.viz.replay.viewer import PageServer, write_page

pytestmark = pytest.mark.slow  # every test drives the browser

STEPS = 40


class Watched(RandomPolicy):
    """A random policy that keeps the observations it was given, one per step."""

    def __init__(self, *args):
        super().__init__(*args)
        self.seen = []

    def act(self, obs, rewards=None, deterministic=False):
        self.seen.append({a: o.copy() for a, o in obs.items()})
        return super().act(obs, rewards, deterministic)


@pytest.fixture(scope="module")
def episode(tmp_path_factory):
    env = make_env("metta-teams", seed=4, max_steps=STEPS)
    policy = Watched(env.action_space("agent_0").n, 4)
    agents, recorder = [], Recorder("random")
    play_episode(env, policy, 4, film=lambda: agents.append(env.agent_variables()), record=recorder)
    out = tmp_path_factory.mktemp("viewer")
    path = str(out / "episode.replay.json.gz")
    recorder.write(path)
    page = write_page(path)
    truth = dict(agents=agents, obs=policy.seen, actions=recorder.replay()["actions"],
                 groups=recorder.replay()["groups"], objects=env.channel_names[:len(env.engine.object_names)],
                 action_names=env.action_names, n=env.num_agents_total)
    env.close()
    return page, truth


def wait_for(driver, script, timeout=60):
    """Poll ``script`` until it returns something true (a bounded wait, never a measured time)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"the page never satisfied: {script}")


def load(driver, url):
    driver.get_log("browser")  # start each page with an empty console
    driver.get(url)
    assert wait_for(driver, "return document.body.dataset.ready") == "1", driver.find_element("id", "error").text


def errors(driver):
    return [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]


def scrub(driver, t):
    driver.execute_script("const s = document.getElementById('scrub'); s.value = arguments[0];"
                          "s.dispatchEvent(new Event('input'));", t)
    assert driver.find_element("id", "step").get_attribute("data-step") == str(t)


def expected_color(group, frozen):
    c = np.array(group_color(group))
    if frozen:
        c = c * 0.4 + np.array(ICE_COLOR) * 0.6
    return np.round(255 * np.minimum(c, 1))


def test_page_loads_and_plays_without_console_errors(browser, episode):
    page, _ = episode
    load(browser, "file://" + page)
    browser.find_element("id", "play").click()
    wait_for(browser, "return Number(document.getElementById('step').dataset.step) >= 3")
    browser.find_element("id", "play").click()  # pause
    assert browser.find_element("id", "play").text == "play"
    browser.find_element("id", "next").click()
    assert errors(browser) == []


@pytest.mark.parametrize("t", [25, 33])  # on a keyframe of the page, and between two
def test_after_scrubbing_agents_are_drawn_where_the_env_had_them(browser, episode, t):
    page, truth = episode
    load(browser, "file://" + page)
    scrub(browser, t)
    tile = browser.execute_script("return mettaViewer.tile")
    pixel = "return Array.from(document.getElementById('map').getContext('2d').getImageData(arguments[0], " \
            "arguments[1], 1, 1).data.slice(0, 3))"
    moved = 0
    occupied = {a["location"] for a in truth["agents"][t]}
    for i, a in enumerate(truth["agents"][t]):
        x, y = a["location"]
        got = browser.execute_script(pixel, x * tile + tile // 2, y * tile + tile // 2)
        assert np.abs(np.array(got) - expected_color(truth["groups"][i], a["frozen"] > 0)).max() <= 2, (i, t)
        start = truth["agents"][0][i]["location"]
        if start not in occupied:  # where it stood at the reset, nothing of its colour is drawn now
            moved += 1
            got = browser.execute_script(pixel, start[0] * tile + tile // 2, start[1] * tile + tile // 2)
            assert np.abs(np.array(got) - expected_color(truth["groups"][i], False)).max() > 2, (i, t)
    assert moved >= 3  # the check above had agents to look at
    assert errors(browser) == []


def test_the_pages_world_is_the_envs_at_every_step(browser, episode):
    """What the page rebuilds from the replay (its keyframes and deltas) at each step: the env's agents then."""
    page, truth = episode
    load(browser, "file://" + page)
    pages = browser.execute_script(
        "const w = mettaViewer.world, out = [];"
        "for (let t = 0; t <= w.R.steps; t++) {"
        "  const agents = [...w.at(t).objects.values()].map(r => w.object(r))"
        ".filter(o => o.name === w.avatar && o.player >= 1);"
        "  agents.sort((a, b) => a.player - b.player);"
        "  out.push(agents.map(a => [a.x, a.y, a.vars.energy, a.vars.inventory, a.vars.shield, a.vars.frozen]));"
        "} return out;")
    want = [[[*a["location"], a["energy"], a["inventory"], a["shield"], a["frozen"]] for a in step]
            for step in truth["agents"]]
    assert len(pages) == STEPS + 1 and pages == want


def test_clicking_an_agent_shows_the_envs_values_and_its_own_view(browser, episode):
    from selenium.webdriver.common.action_chains import ActionChains

    page, truth = episode
    load(browser, "file://" + page)
    canvas = browser.find_element("id", "map")
    tile = browser.execute_script("return mettaViewer.tile")
    w, h = canvas.size["width"], canvas.size["height"]
    field = lambda k: browser.find_element("css selector", f'#agent-details [data-field="{k}"]').text  # noqa: E731
    names = truth["objects"]
    for t in (17, 30):
        scrub(browser, t)
        for i in (0, 9, truth["n"] - 1):
            a = truth["agents"][t][i]
            x, y = a["location"]
            # a real click at the cell's centre (offsets are from the element's centre; the border is 1 px)
            ActionChains(browser).move_to_element_with_offset(
                canvas, 1 + x * tile + tile // 2 - w // 2, 1 + y * tile + tile // 2 - h // 2).click().perform()
            assert field("name").startswith(f"agent_{i} "), (t, i)
            assert (field("energy"), field("max_energy"), field("inventory")) == \
                (str(a["energy"]), str(a["max_energy"]), str(a["inventory"])), (t, i)
            assert field("last_action") == truth["action_names"][truth["actions"][t - 1][i]]
            # its view, cell by cell, is what the env gave the agent as its observation at step t
            obs = truth["obs"][t][f"agent_{i}"]
            cells = browser.execute_script(
                "return Array.from(document.querySelectorAll('#agent-view div')).map("
                "d => [Number(d.dataset.ox), Number(d.dataset.oy), d.dataset.objects])")
            assert len(cells) == obs.shape[1] * obs.shape[2]
            for ox, oy, objs in cells:
                want = sorted(n for c, n in enumerate(names) if obs[c, ox, oy])
                assert sorted(filter(None, objs.split(","))) == want, (t, i, ox, oy)
    assert errors(browser) == []


def test_page_works_with_the_network_off(browser, episode):
    page, _ = episode
    html = open(page, encoding="utf-8").read()
    assert "http://" not in html and "https://" not in html  # nothing to fetch: every script and style is inline
    browser.set_network_conditions(offline=True, latency=0, download_throughput=0, upload_throughput=0)
    try:
        load(browser, "file://" + page)
        scrub(browser, 12)
        fetched = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert [u for u in fetched if not u.startswith(("data:", "blob:"))] == []
        assert errors(browser) == []
    finally:
        browser.delete_network_conditions()


def test_served_on_localhost(browser, episode):
    page, _ = episode
    server = PageServer(page, 0).start()
    try:
        assert server.url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(server.url) as r:
            assert r.read() == open(page, "rb").read()
        load(browser, server.url)
        assert errors(browser) == []
    finally:
        server.stop()


# markup that runs if it is ever parsed: in text, in an attribute value, and as a script
PAYLOAD = '"\'><img src=x onerror="window.pwned=1;document.title=\'PWNED\'"><script>window.pwned=2</script>'
# dicts whose keys are the format's own; every other dict is keyed by names from the game (styles, variables...)
FORMAT_KEYED = ("", "initial", "deltas", "bodies", "style")


def hostile(value, where=""):
    """Every string of a replay with PAYLOAD appended, names used as keys too: one mapping, so the replay's
    cross-references (avatar, object types, styles) still agree."""
    if isinstance(value, str):
        return value + PAYLOAD
    if isinstance(value, list):
        return [hostile(v, where) for v in value]
    if isinstance(value, dict):
        inner = {"styles": "style"}.get(where, "")  # a style is {shape, color}
        return {(k if where in FORMAT_KEYED else hostile(k)): hostile(v, k if where in FORMAT_KEYED else inner)
                for k, v in value.items()}
    return value


@pytest.fixture(scope="module")
def hostile_page(episode, tmp_path_factory):
    import gzip
    import json

    page, _ = episode
    with gzip.open(page[:-len(".html")] + ".json.gz", "rt", encoding="utf-8") as fh:
        replay = json.load(fh)
    bad = hostile(replay)
    bad["format"] = replay["format"]
    path = str(tmp_path_factory.mktemp("hostile") / "hostile.replay.json.gz")
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        json.dump(bad, fh)
    return write_page(path), bad


def test_a_hostile_replays_strings_show_as_text_and_never_run(browser, hostile_page):
    page, bad = hostile_page
    load(browser, "file://" + page)
    scrub(browser, 20)
    browser.execute_script("mettaViewer.selected = 0; mettaViewer.updatePanel();")  # the agent panel and its view
    assert browser.execute_script("return window.pwned") is None
    assert browser.title != "PWNED" and PAYLOAD in browser.title  # the env's name, as text
    assert browser.execute_script("return document.querySelectorAll('img, main script, aside script').length") == 0
    facts = browser.execute_script("return Array.from(document.querySelectorAll('#episode-facts dd'))"
                                   ".map(d => d.textContent)")
    assert bad["policy"] in facts and bad["env"] in facts and bad["game"] in facts
    legend = browser.find_element("id", "symbols").text
    assert any(name + " (" in legend for name in bad["styles"] if name != bad["avatar"])
    kin = browser.find_element("id", "agent-kinship").text
    assert bad["agents"][1] in kin
    objects = browser.execute_script("return Array.from(document.querySelectorAll('#agent-view div'))"
                                     ".map(d => d.dataset.objects).join(',')")
    assert PAYLOAD in objects  # the names, literally, as attribute values


def test_the_pages_policy_blocks_injected_handlers_and_scripts(browser, episode, tmp_path):
    # were markup ever to reach the page, its Content-Security-Policy still runs only the page's own script
    page, _ = episode
    html = open(page, encoding="utf-8").read()
    assert "Content-Security-Policy" in html
    injected = tmp_path / "injected.html"
    injected.write_text(html.replace("<main>", '<main><img src=x onerror="window.pwned=1">'
                                     '<script>window.pwned=2</script>', 1), encoding="utf-8")
    load(browser, "file://" + str(injected))
    assert browser.execute_script("return window.pwned") is None
    assert any("Content Security Policy" in e["message"] for e in errors(browser))
