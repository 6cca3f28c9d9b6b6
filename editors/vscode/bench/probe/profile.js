// A V8 CPU profile summed by function: shared by the probe (the extension
// host's profile) and the driver, bench.js (the window renderer's).
'use strict';

/** Milliseconds of a V8 CPU profile by function: self (the leaf) and total (on the stack). */
function summariseProfile(prof) {
  const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const name = (n) => `${n.callFrame.functionName || '(anonymous)'} ${(n.callFrame.url || '').split('/').pop()}:${n.callFrame.lineNumber + 1}`;
  const self = new Map();
  const total = new Map();
  let ms = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = (prof.timeDeltas[i + 1] ?? prof.timeDeltas[i] ?? 0) / 1000;
    ms += dt;
    const leaf = nodes.get(prof.samples[i]);
    if (!leaf) continue;
    self.set(name(leaf), (self.get(name(leaf)) || 0) + dt);
    const seen = new Set();
    for (let id = leaf.id; id !== undefined; id = parent.get(id)) {
      const k = name(nodes.get(id));
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) || 0) + dt);
    }
  }
  const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => [k, Math.round(v)]);
  return { ms: Math.round(ms), self: top(self, 40), total: top(total, 80) };
}

module.exports = { summariseProfile };
