// Metta's replay viewer. The replay (gzip'd JSON, docs/replay.md) is embedded in the page; this script
// decompresses it, rebuilds the world at any step from the first state and the per-step deltas, and draws
// it as the videos do: agents in their kinship group's colour, a ring for a raised shield, ice while
// frozen, an energy bar. Nothing is fetched from anywhere.
'use strict';

const ORIENT_FACING = [0, 0, 1, 2, 3];  // NONE, UP, RIGHT, DOWN, LEFT -> facing up, right, down, left
const ORIENT_NAMES = ['none', 'up', 'right', 'down', 'left'];
const ICE = [0.65, 0.85, 1.0];
const KEYFRAME_EVERY = 25;
const SERIES = [
  ['hearts', 'hearts', '#ff5d8f'], ['attacks_kin', 'attacks on kin', '#ff9f1c'],
  ['attacks_strangers', 'attacks on strangers', '#e63946'], ['gifts_kin', 'gifts to kin', '#2ec4b6'],
  ['gifts_strangers', 'gifts to strangers', '#8ecae6'],
];

const $ = (id) => document.getElementById(id);
// A replay is a shared file, so untrusted: every string from it reaches the page as text. Elements are built
// here and their strings added as text nodes or attribute values, never parsed as markup (no innerHTML).
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'style') Object.assign(node.style, v);
    else node.setAttribute(k, String(v));
  }
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? ''));
  return node;
}
const swatch = (color) => el('i', { class: 'swatch', style: { background: color } });
const rgb = (c, k = 1) => `rgb(${c.map((v) => Math.round(255 * Math.min(1, v * k))).join(',')})`;
const mix = (a, b, w) => a.map((v, i) => v * (1 - w) + b[i] * w);

async function loadReplay() {
  const text = $('replay-data').textContent.trim();
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return JSON.parse(await new Response(stream).text());
}

class World {
  // The replay's states: keyframes every KEYFRAME_EVERY steps, the steps between rebuilt from the deltas.
  constructor(R) {
    this.R = R;
    this.types = R.object_types;
    this.vars = R.object_variables;
    this.avatar = R.avatar;
    this.keyframes = [];
    let objects = new Map(R.initial.objects.map((row) => [row[0], row]));
    let globals = JSON.parse(JSON.stringify(R.initial.globals));
    this.keyframes.push([new Map(objects), JSON.parse(JSON.stringify(globals))]);
    const n = R.num_agents;
    const hearts = globals.hearts;
    this.series = Object.fromEntries(SERIES.map(([k]) => [k, new Float64Array(R.steps + 1)]));
    this.heartsByGroup = [];  // per step: group -> hearts so far
    const groupHearts = (h) => {
      const out = {};
      for (let i = 0; i < n; i++) out[R.groups[i]] = (out[R.groups[i]] || 0) + (h ? h[i + 1] : 0);
      return out;
    };
    this.heartsByGroup.push(groupHearts(hearts));
    this.series.hearts[0] = hearts ? hearts.slice(1).reduce((a, b) => a + b, 0) : 0;
    const counts = { attacks_kin: 0, attacks_strangers: 0, gifts_kin: 0, gifts_strangers: 0 };
    const byStep = new Map();
    for (const [t, kind, , , kin] of R.events) {
      const key = `${kind}_${kin ? 'kin' : 'strangers'}`;
      if (!byStep.has(t)) byStep.set(t, []);
      byStep.get(t).push(key);
    }
    this.rewardSoFar = [new Float64Array(n)];
    for (let t = 1; t <= R.steps; t++) {
      this.apply(objects, globals, R.deltas[t - 1]);
      if (t % KEYFRAME_EVERY === 0) this.keyframes.push([new Map(objects), JSON.parse(JSON.stringify(globals))]);
      const h = globals.hearts;
      this.series.hearts[t] = h ? h.slice(1).reduce((a, b) => a + b, 0) : 0;
      this.heartsByGroup.push(groupHearts(h));
      for (const key of byStep.get(t) || []) if (key in counts) counts[key] += 1;
      for (const key in counts) this.series[key][t] = counts[key];
      const prev = this.rewardSoFar[t - 1], now = new Float64Array(n);
      for (let i = 0; i < n; i++) now[i] = prev[i] + R.rewards[t - 1][i];
      this.rewardSoFar.push(now);
    }
  }

  apply(objects, globals, delta) {
    for (const id of delta.remove) objects.delete(id);
    for (const row of delta.set) objects.set(row[0], row);
    for (const name in delta.globals) for (const [i, v] of delta.globals[name]) globals[name][i] = v;
  }

  at(t) {
    // {objects: Map id -> row, globals} after step t
    const k = Math.floor(t / KEYFRAME_EVERY);
    const [kObjects, kGlobals] = this.keyframes[k];
    const objects = new Map(kObjects);
    const globals = JSON.parse(JSON.stringify(kGlobals));
    for (let s = k * KEYFRAME_EVERY + 1; s <= t; s++) this.apply(objects, globals, this.R.deltas[s - 1]);
    return { objects, globals };
  }

  object(row) {
    // a row as {name, x, y, facing, player, vars}
    const name = this.types[row[1]];
    const vars = {};
    this.vars[name].forEach((v, i) => { vars[v] = row[7 + i]; });
    return { id: row[0], name, x: row[2], y: row[3], orientation: row[4], facing: ORIENT_FACING[row[4]],
      player: row[5], vars };
  }
}

class Viewer {
  constructor(R) {
    this.R = R;
    this.world = new World(R);
    this.t = 0;
    this.playing = false;
    this.selected = null;  // agent index
    this.tile = Math.max(6, Math.min(24, Math.floor(640 / Math.max(R.width, R.height))));
    this.map = $('map');
    this.map.width = R.width * this.tile;
    this.map.height = R.height * this.tile;
    this.timeline = $('timeline');
    this.timeline.width = Math.max(480, this.map.width);
    $('timeline-legend').style.maxWidth = `${this.timeline.width}px`;
    $('scrub').max = R.steps;
    $('title').textContent = `${R.env}, seed ${R.seed}, ${R.policy || ''} (${R.num_agents} agents, ${R.steps} steps)`;
    this.buildLegend();
    this.bind();
    this.seek(0);
  }

  groupColor(i) { const g = this.R.groups[i]; return this.R.group_colors[(g - 1) % this.R.group_colors.length]; }

  bind() {
    $('play').addEventListener('click', () => this.toggle());
    $('prev').addEventListener('click', () => { this.pause(); this.seek(this.t - 1); });
    $('next').addEventListener('click', () => { this.pause(); this.seek(this.t + 1); });
    $('scrub').addEventListener('input', (e) => { this.pause(); this.seek(Number(e.target.value)); });
    this.map.addEventListener('click', (e) => {
      const r = this.map.getBoundingClientRect();  // the border box: the canvas starts clientLeft/Top inside it
      const x = Math.floor((e.clientX - r.left - this.map.clientLeft) * this.map.width / this.map.clientWidth / this.tile);
      const y = Math.floor((e.clientY - r.top - this.map.clientTop) * this.map.height / this.map.clientHeight / this.tile);
      const hit = this.agents.find((a) => a.x === x && a.y === y);
      this.selected = hit ? hit.player - 1 : null;
      this.draw();
    });
    this.timeline.addEventListener('click', (e) => {
      const r = this.timeline.getBoundingClientRect();
      this.pause();
      this.seek(Math.round((e.clientX - r.left) / r.width * this.R.steps));
    });
    document.addEventListener('keydown', (e) => {
      if (e.target.tagName === 'SELECT') return;
      if (e.key === ' ') { e.preventDefault(); this.toggle(); }
      if (e.key === 'ArrowRight' && e.target.id !== 'scrub') { this.pause(); this.seek(this.t + 1); }
      if (e.key === 'ArrowLeft' && e.target.id !== 'scrub') { this.pause(); this.seek(this.t - 1); }
    });
  }

  toggle() { if (this.playing) this.pause(); else this.play(); }

  play() {
    if (this.t >= this.R.steps) this.seek(0);
    this.playing = true;
    $('play').textContent = 'pause';
    let last = performance.now(), owed = 0;
    const tick = (now) => {
      if (!this.playing) return;
      owed += (now - last) / 1000 * Number($('speed').value);
      last = now;
      if (owed >= 1) {
        const n = Math.floor(owed);
        owed -= n;
        this.seek(this.t + n);
        if (this.t >= this.R.steps) { this.pause(); return; }
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  pause() { this.playing = false; $('play').textContent = 'play'; }

  seek(t) {
    this.t = Math.max(0, Math.min(this.R.steps, t));
    const { objects, globals } = this.world.at(this.t);
    this.objects = [...objects.values()].map((row) => this.world.object(row))
      .filter((o) => !o.name.startsWith('_') && o.x >= 0 && o.y >= 0);
    this.agents = this.objects.filter((o) => o.name === this.R.avatar && o.player >= 1);
    this.globals = globals;
    $('scrub').value = this.t;
    $('step').textContent = `step ${this.t} / ${this.R.steps}`;
    $('step').dataset.step = this.t;
    this.draw();
  }

  // ------------------------------------------------------------------ drawing
  draw() {
    const g = this.map.getContext('2d');
    const s = this.tile;
    g.fillStyle = '#000';
    g.fillRect(0, 0, this.map.width, this.map.height);
    for (const o of this.objects) if (o.name !== this.R.avatar) this.drawObject(g, o, s);
    for (const a of this.agents) this.drawAgent(g, a, s);
    const sel = this.agents.find((a) => a.player - 1 === this.selected);
    if (sel) {
      g.strokeStyle = '#ffe45c';
      g.lineWidth = 2;
      g.strokeRect(sel.x * s + 1, sel.y * s + 1, s - 2, s - 2);
    }
    this.drawTimeline();
    this.updateGroups();
    this.updatePanel();
  }

  drawShape(g, shape, cx, cy, r, facing) {
    g.beginPath();
    if (shape === 'circle') g.arc(cx, cy, r, 0, 2 * Math.PI);
    else if (shape === 'triangle') {
      const rot = facing * Math.PI / 2;
      for (const [px, py] of [[0, -r], [r, r], [-r, r]]) {
        g.lineTo(cx + px * Math.cos(rot) - py * Math.sin(rot), cy + px * Math.sin(rot) + py * Math.cos(rot));
      }
    } else if (shape === 'pentagon' || shape === 'hexagon') {
      const k = shape === 'pentagon' ? 5 : 6;
      for (let i = 0; i < k; i++) {
        const a = -Math.PI / 2 + 2 * Math.PI * i / k;
        g.lineTo(cx + r * Math.cos(a), cy + r * Math.sin(a));
      }
    } else g.rect(cx - r, cy - r, 2 * r, 2 * r);
    g.closePath();
    g.fill();
  }

  drawObject(g, o, s) {
    const style = this.R.styles[o.name] || { shape: 'square', color: [0.6, 0.6, 0.6], scale: 0.8 };
    g.fillStyle = rgb(style.color, o.vars.cooldown > 0 ? 0.45 : 1);
    this.drawShape(g, style.shape, (o.x + 0.5) * s, (o.y + 0.5) * s, s * (style.scale ?? 0.8) / 2, 0);
  }

  drawAgent(g, a, s) {
    const color = this.groupColor(a.player - 1);
    const cx = (a.x + 0.5) * s, cy = (a.y + 0.5) * s;
    const frozen = a.vars.frozen > 0;
    if (frozen) { g.fillStyle = rgb(ICE, 0.55); g.fillRect(a.x * s, a.y * s, s, s); }
    g.fillStyle = rgb(frozen ? mix(color, ICE, 0.6) : color);
    const style = this.R.styles[a.name] || { shape: 'triangle' };
    this.drawShape(g, style.shape, cx, cy, s * 0.36, a.facing);
    if (a.vars.shield > 0) {
      g.strokeStyle = '#fff';
      g.lineWidth = Math.max(1, s * 0.09);
      g.beginPath();
      g.arc(cx, cy, s * 0.435, 0, 2 * Math.PI);
      g.stroke();
    }
    if ('energy' in a.vars) {
      const full = Math.max(0, Math.min(1, a.vars.energy / Math.max(1, a.vars.max_energy || 1)));
      const x0 = cx - s * 0.42, w = s * 0.84, y0 = cy + s * 0.34, h = Math.max(1, s * 0.16);
      g.fillStyle = rgb([0.25, 0.25, 0.25]);
      g.fillRect(x0, y0, w, h);
      g.fillStyle = rgb(mix([0.9, 0.15, 0.1], [0.2, 0.9, 0.2], full));
      g.fillRect(x0, y0, w * full, h);
    }
  }

  drawTimeline() {
    const c = this.timeline, g = c.getContext('2d'), T = Math.max(1, this.R.steps);
    const pad = 4, w = c.width, h = c.height;
    g.fillStyle = '#0d0e11';
    g.fillRect(0, 0, w, h);
    const top = Math.max(1, ...SERIES.map(([k]) => this.world.series[k][this.R.steps]));
    for (const [k, , color] of SERIES) {
      const ys = this.world.series[k];
      g.strokeStyle = color;
      g.lineWidth = 1.5;
      g.beginPath();
      for (let t = 0; t <= this.R.steps; t++) {
        g.lineTo(t / T * w, h - pad - ys[t] / top * (h - 2 * pad));
      }
      g.stroke();
    }
    g.strokeStyle = '#fff';
    g.lineWidth = 1;
    g.beginPath();
    g.moveTo(this.t / T * w, 0);
    g.lineTo(this.t / T * w, h);
    g.stroke();
    $('timeline-legend').replaceChildren(
      ...SERIES.map(([k, label, color]) => el('span', { 'data-series': k }, swatch(color), `${label}: `,
        el('b', {}, this.world.series[k][this.t]))),
      el('span', {}, `(so far, of ${top} at most)`));
  }

  buildLegend() {
    const R = this.R, facts = $('episode-facts');
    const m = R.metrics ? R.metrics[0] : {};
    const rows = [['env', R.env], ['game', R.game], ['seed', R.seed], ['policy', R.policy], ['agents', R.num_agents],
      ['steps', `${R.steps} of ${R.max_steps}`], ['bonds', R.bonds.length]];
    for (const k of ['efficiency', 'equality', 'peace', 'attack_kin_stranger_ratio']) {
      if (m[k] !== undefined && m[k] !== null) rows.push([k, Number(m[k]).toFixed(3)]);
    }
    facts.replaceChildren(...rows.flatMap(([k, v]) => [el('dt', { title: k }, k), el('dd', {}, v ?? '—')]));
    const symbols = [['white ring', 'shield raised'], ['ice block', 'frozen'],
      ['bar, green to red', 'energy / max energy'], ['triangle', 'facing']];
    const objects = Object.entries(R.styles).filter(([n]) => n !== R.avatar)
      .map(([n, st]) => el('li', {}, swatch(rgb(st.color)), `${n} (${st.shape})`));
    $('symbols').replaceChildren(...symbols.map(([a, b]) => el('li', {}, `${a}: ${b}`)), ...objects,
      el('li', {}, 'dimmed: cooling down'));
  }

  updateGroups() {
    const R = this.R, hearts = this.world.heartsByGroup[this.t];
    const members = {};
    R.groups.forEach((g, i) => { (members[g] = members[g] || []).push(i); });
    $('groups').replaceChildren(el('tr', {}, el('th'), el('th', {}, 'group'), el('th', {}, 'agents'), el('th', {}, 'hearts')),
      ...Object.keys(members).map((g) => el('tr', { 'data-group': g },
        el('td', {}, swatch(rgb(this.groupColor(members[g][0])))), el('td', {}, g),
        el('td', {}, members[g].join(', ')), el('td', {}, hearts[g] || 0))));
  }

  updatePanel() {
    const R = this.R, i = this.selected;
    const a = this.agents.find((o) => o.player - 1 === i);
    $('agent-hint').hidden = !!a;
    $('agent-details').hidden = !a;
    if (!a) return;
    const field = (k, v) => { document.querySelector(`#agent-details [data-field="${k}"]`).textContent = v; };
    field('name', `${R.agents[i]} (player ${a.player})`);
    field('group', R.groups[i]);
    for (const k of ['energy', 'max_energy', 'inventory']) field(k, k in a.vars ? a.vars[k] : '—');
    field('body', R.bodies.names[R.bodies.ids[i]] ?? R.bodies.ids[i]);
    field('shield', a.vars.shield > 0 ? 'raised' : 'down');
    field('frozen', a.vars.frozen > 0 ? `${a.vars.frozen} steps` : 'no');
    field('cell', `(${a.x}, ${a.y}) facing ${ORIENT_NAMES[a.orientation]}`);
    field('last_action', this.t > 0 ? R.action_names[R.actions[this.t - 1][i]] : '— (the reset)');
    field('hearts', this.globals.hearts ? this.globals.hearts[i + 1] : '—');
    field('reward', this.world.rewardSoFar[this.t][i].toFixed(2));
    this.drawView(a);
    const others = R.kinship[i].map((k, j) => [k, j]).filter(([, j]) => j !== i).sort((p, q) => q[0] - p[0]);
    $('agent-kinship').replaceChildren(...others.map(([k, j]) => el('tr', { 'data-agent': j },
      el('td', {}, swatch(rgb(this.groupColor(j))), R.agents[j]), el('td', {}, Number(k).toFixed(2)),
      el('td', {}, k >= R.kin_threshold ? 'kin' : 'stranger'))));
  }

  drawView(a) {
    // the agent's own window, cut from the state as the env cuts observations (metta.griddly_ext.windows)
    const [w, h, rotate] = this.R.window;
    const f = rotate ? a.facing : 0;
    const at = new Map();
    for (const o of this.objects) {
      const key = `${o.x},${o.y}`;
      if (!at.has(key)) at.set(key, []);
      at.get(key).push(o);
    }
    const view = $('agent-view');
    view.style.gridTemplateColumns = `repeat(${w}, 18px)`;
    const cells = [];
    for (let oy = 0; oy < h; oy++) {
      for (let ox = 0; ox < w; ox++) {
        const u = ox - Math.floor(w / 2), v = oy - Math.floor(h / 2);
        const [dx, dy] = [[u, v], [-v, u], [-u, -v], [v, -u]][f];
        const gx = a.x + dx, gy = a.y + dy;
        const off = gx < 0 || gy < 0 || gx >= this.R.width || gy >= this.R.height;
        const here = off ? [] : (at.get(`${gx},${gy}`) || []);
        const names = here.map((o) => o.name).sort();
        const top = here.find((o) => o.name === this.R.avatar) || here[0];
        let bg = '#000';
        if (top && top.name === this.R.avatar) bg = rgb(this.groupColor(top.player - 1));
        else if (top) bg = rgb((this.R.styles[top.name] || { color: [0.6, 0.6, 0.6] }).color);
        const props = { 'data-ox': ox, 'data-oy': oy, 'data-off': off ? 1 : 0, 'data-objects': names.join(','),
          title: names.join(', ') || (off ? 'off the map' : 'empty'), style: { background: off ? '' : bg } };
        if (u === 0 && v === 0) props.class = 'me';
        cells.push(el('div', props));
      }
    }
    view.replaceChildren(...cells);
  }
}

loadReplay().then((R) => {
  window.mettaViewer = new Viewer(R);
  document.body.dataset.ready = '1';
}).catch((err) => {
  $('error').hidden = false;
  $('error').textContent = `This replay could not be shown: ${err}`;
  document.body.dataset.ready = 'error';
  throw err;
});
