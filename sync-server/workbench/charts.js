// Pictures drawn by the page as SVG (no chart library, no CDN): bars for counts, a matrix for
// towns × states, a patrol's track over its check-in points. Every label is set as text.
const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

/** Horizontal bars: `rows` of {label, value, cls}; `title` is the accessible name. */
export function bars(rows, title) {
  const rowH = 22, labelW = 120, width = 420, valueW = 40;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const root = svg("svg", {
    viewBox: `0 0 ${width} ${Math.max(rowH, rows.length * rowH)}`, role: "img", class: "chart bars",
    "aria-label": title,
  });
  rows.forEach((r, i) => {
    const y = i * rowH;
    const w = Math.round(((width - labelW - valueW) * r.value) / max);
    const g = svg("g", { "data-key": r.key ?? r.label });
    g.append(svg("text", { x: labelW - 6, y: y + 15, "text-anchor": "end" }, r.label));
    g.append(svg("rect", { x: labelW, y: y + 4, width: Math.max(w, r.value ? 2 : 0), height: rowH - 8, class: r.cls || "bar" }));
    g.append(svg("text", { x: labelW + w + 4, y: y + 15, class: "value" }, r.value));
    root.append(g);
  });
  return root;
}

/** A matrix of counts: `rows` (labels), `cols` (labels), `cell(r, c)` → number. */
export function matrix(rows, cols, cell, title) {
  const cw = 64, rh = 24, lw = 140, hh = 28;
  const max = Math.max(1, ...rows.flatMap((r) => cols.map((c) => cell(r.key, c.key))));
  const root = svg("svg", {
    viewBox: `0 0 ${lw + cols.length * cw} ${hh + rows.length * rh}`, role: "img", class: "chart matrix",
    "aria-label": title,
  });
  cols.forEach((c, j) => root.append(svg("text", { x: lw + j * cw + cw / 2, y: 18, "text-anchor": "middle" }, c.label)));
  rows.forEach((r, i) => {
    const y = hh + i * rh;
    root.append(svg("text", { x: lw - 6, y: y + 16, "text-anchor": "end" }, r.label));
    cols.forEach((c, j) => {
      const n = cell(r.key, c.key);
      const g = svg("g", { "data-row": r.key, "data-col": c.key });
      g.append(svg("rect", {
        x: lw + j * cw + 1, y: y + 1, width: cw - 2, height: rh - 2, class: "cell",
        "fill-opacity": n ? 0.15 + 0.85 * (n / max) : 0.04,
      }));
      g.append(svg("text", { x: lw + j * cw + cw / 2, y: y + 16, "text-anchor": "middle" }, n));
      root.append(g);
    });
  });
  return root;
}

/** A patrol's track (points of {lat, lon}) as a line, with its check-ins as dots. */
export function track(points, checkins, title) {
  const size = 320, pad = 12;
  const all = [...points, ...checkins];
  const root = svg("svg", { viewBox: `0 0 ${size} ${size}`, role: "img", class: "chart track", "aria-label": title });
  if (!all.length) return root;
  const lats = all.map((p) => p.lat), lons = all.map((p) => p.lon);
  const [minLat, maxLat, minLon, maxLon] = [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)];
  const span = Math.max(maxLat - minLat, maxLon - minLon, 1e-6);
  const xy = (p) => [pad + ((p.lon - minLon) / span) * (size - 2 * pad), size - pad - ((p.lat - minLat) / span) * (size - 2 * pad)];
  if (points.length) {
    root.append(svg("polyline", { points: points.map((p) => xy(p).join(",")).join(" "), class: "route" }));
  }
  for (const c of checkins) {
    const [x, y] = xy(c);
    root.append(svg("circle", { cx: x, cy: y, r: 5, class: "checkin" }));
  }
  return root;
}
