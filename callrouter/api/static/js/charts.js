// Small inline-SVG charts drawn by the app itself (no library, no CDN): horizontal bars, vertical bars,
// stacked bars and a 3 x 3 matrix. Each is drawn for the width of its box in CSS pixels (so texts keep
// their size on a phone), is one `role="img"` with an aria-label, and carries a <title> per bar for
// pointer users; texts are always text nodes.
const NS = "http://www.w3.org/2000/svg";
const NARROW = 520;

/** The drawing width for a box `width` CSS pixels wide (phones up to wide desktop panels). */
export function drawingWidth(width) {
  return Math.round(Math.min(Math.max(width || 480, 280), 960));
}

/** An SVG element with attributes and children (strings become text nodes). */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined && value !== false) node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function frame(width, height, label, kind) {
  return svg("svg", {
    viewBox: `0 0 ${width} ${height}`, width, height, class: `chart-svg ${kind}`, role: "img", "aria-label": label,
    preserveAspectRatio: "xMinYMin meet",
  }, svg("title", {}, label));
}

/**
 * Horizontal bars, one row per item: `{key, label, value, text, color}`; `text` is written after the bar.
 * On a narrow box each label sits above its bar instead of beside it.
 */
export function horizontalBars(items, label, width) {
  const narrow = width < NARROW;
  const row = narrow ? 46 : 34;
  const left = narrow ? 0 : Math.min(190, width * 0.35);
  const right = 110;
  const max = Math.max(1, ...items.map((i) => i.value));
  const root = frame(width, items.length * row + 8, label, "hbars");
  items.forEach((item, index) => {
    const y = 4 + index * row;
    const barY = narrow ? y + 20 : y + 5;
    const barHeight = narrow ? row - 24 : row - 10;
    const length = ((width - left - right) * item.value) / max;
    root.append(
      narrow
        ? svg("text", { x: 0, y: y + 10, class: "axis-label", "dominant-baseline": "middle" }, item.label)
        : svg("text", { x: left - 8, y: y + row / 2, class: "axis-label", "text-anchor": "end", "dominant-baseline": "middle" }, item.label),
      svg("rect", {
        x: left, y: barY, width: Math.max(length, item.value ? 2 : 0), height: barHeight, rx: 3,
        class: "bar", fill: item.color, "data-key": item.key, "data-value": item.value,
      }, svg("title", {}, `${item.label}: ${item.text}`)),
      svg("text", { x: left + length + 6, y: barY + barHeight / 2, class: "value-label", "dominant-baseline": "middle" }, item.text),
    );
  });
  return root;
}

/** Vertical bars over a 0..1 scale (shares), one per item `{key, label, value, text, color}`; a null
 * value draws no bar but keeps its slot (and says "no data" in its title). */
export function verticalBars(items, label, noData, width) {
  const height = 220;
  const bottom = 40;
  const top = 22;
  const slot = (width - 40) / Math.max(1, items.length);
  const plot = height - bottom - top;
  const root = frame(width, height, label, "vbars");
  for (const tick of [0, 0.5, 1]) {
    const y = top + plot * (1 - tick);
    root.append(
      svg("line", { x1: 36, x2: width, y1: y, y2: y, class: "grid" }),
      svg("text", { x: 32, y, class: "axis-label small", "text-anchor": "end", "dominant-baseline": "middle" }, `${tick * 100}%`),
    );
  }
  const every = Math.ceil(items.length / Math.max(1, Math.floor(width / 80)));
  items.forEach((item, index) => {
    const x = 40 + index * slot;
    const h = item.value === null ? 0 : plot * Math.min(1, item.value);
    root.append(svg("rect", {
      x: x + slot * 0.15, y: top + plot - h, width: slot * 0.7, height: h, rx: 2,
      class: "bar", fill: item.color, "data-key": item.key, "data-value": item.value ?? "",
    }, svg("title", {}, `${item.label}: ${item.value === null ? noData : item.text}`)));
    if (index % every === 0) {
      root.append(svg("text", {
        x: x + slot / 2, y: height - bottom + 16, class: "axis-label small", "text-anchor": "middle",
      }, item.label));
    }
  });
  return root;
}

/** Stacked vertical bars: `groups` `[{key, label, segments: [{value, color, text}]}]` on a count scale. */
export function stackedBars(groups, label, width) {
  const height = 220;
  const bottom = 40;
  const top = 22;
  const plot = height - bottom - top;
  const slot = (width - 40) / Math.max(1, groups.length);
  const max = Math.max(1, ...groups.map((g) => g.segments.reduce((sum, s) => sum + s.value, 0)));
  const root = frame(width, height, label, "stacked");
  root.append(
    svg("line", { x1: 36, x2: width, y1: top + plot, y2: top + plot, class: "grid" }),
    svg("text", { x: 32, y: top, class: "axis-label small", "text-anchor": "end", "dominant-baseline": "middle" }, max),
  );
  const every = Math.ceil(groups.length / Math.max(1, Math.floor(width / 80)));
  groups.forEach((group, index) => {
    const x = 40 + index * slot;
    let y = top + plot;
    const bar = svg("g", { class: "bar", "data-key": group.key });
    for (const segment of group.segments) {
      const h = (plot * segment.value) / max;
      y -= h;
      bar.append(svg("rect", {
        x: x + slot * 0.15, y, width: slot * 0.7, height: h, fill: segment.color, class: "segment",
      }, svg("title", {}, `${group.label}: ${segment.text}`)));
    }
    root.append(bar);
    if (index % every === 0) {
      root.append(svg("text", {
        x: x + slot / 2, y: height - bottom + 16, class: "axis-label small", "text-anchor": "middle",
      }, group.label));
    }
  });
  return root;
}

// light to mid blue: dark text on every shade keeps a contrast above 6:1
const LOW = [245, 248, 253];
const HIGH = [127, 163, 227];

function shade(t) {
  const [r, g, b] = LOW.map((low, i) => Math.round(low + (HIGH[i] - low) * t));
  return `rgb(${r}, ${g}, ${b})`;
}

/** A rows x columns matrix of cells `{row, column, value, lines: [text...], title}`, shaded by value. */
export function matrix(rows, columns, cells, label, boxWidth) {
  const size = Math.min(130, Math.floor((boxWidth - 28) / columns.length));
  const head = 28;
  const width = head + columns.length * size;
  const height = head + rows.length * (size * 0.62);
  const cellHeight = size * 0.62;
  const max = Math.max(1, ...cells.map((c) => c.value));
  const root = svg("svg", {
    viewBox: `0 0 ${width} ${height}`, width, height, class: "chart-svg matrix", role: "img", "aria-label": label,
  }, svg("title", {}, label));
  columns.forEach((column, index) => root.append(svg("text", {
    x: head + index * size + size / 2, y: head / 2 + 2, class: "axis-label strong", "text-anchor": "middle",
    "dominant-baseline": "middle",
  }, column)));
  rows.forEach((row, index) => root.append(svg("text", {
    x: head / 2, y: head + index * cellHeight + cellHeight / 2, class: "axis-label strong",
    "text-anchor": "middle", "dominant-baseline": "middle",
  }, row)));
  for (const cell of cells) {
    const x = head + columns.indexOf(cell.column) * size;
    const y = head + rows.indexOf(cell.row) * cellHeight;
    root.append(svg("rect", {
      x: x + 2, y: y + 2, width: size - 4, height: cellHeight - 4, rx: 4, class: "cell",
      fill: shade(cell.value / max), "data-key": `${cell.row}${cell.column}`, "data-value": cell.value,
    }, svg("title", {}, cell.title)));
    cell.lines.forEach((line, n) => root.append(svg("text", {
      x: x + size / 2, y: y + cellHeight / 2 + (n - (cell.lines.length - 1) / 2) * 20,
      class: n === 0 ? "cell-label strong" : "cell-label", "text-anchor": "middle", "dominant-baseline": "middle",
    }, line)));
  }
  return root;
}

/** A legend: coloured keys with their labels, as an HTML list. */
export function legend(entries) {
  const list = document.createElement("ul");
  list.className = "legend";
  for (const { color, text } of entries) {
    const item = document.createElement("li");
    const key = document.createElement("span");
    key.className = "key";
    key.style.background = color;
    item.append(key, document.createTextNode(text));
    list.append(item);
  }
  return list;
}
