// The model page: GET /v1/models, then cards, tables and a per-theme F1 chart drawn as inline SVG from the same
// figures (no image file, no chart library).
"use strict";

(() => {
  const { request, explain, showMessage, el } = NLP;
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  // Okabe–Ito colours: distinct for the common kinds of colour blindness; each series also has its own label.
  const SERIES = [
    { key: "classifier", colour: "#0b5fa5" },
    { key: "baseline", colour: "#e69f00" },
    { key: "agreement", colour: "#1f8a4c" },
  ];

  const num = (value, digits = 3) => (typeof value === "number" ? value.toFixed(digits) : "–");

  function facts(pairs) {
    const list = el("dl", { className: "facts" });
    for (const [term, value] of pairs) {
      if (value === null || value === undefined || value === "") continue;
      list.append(el("dt", { text: term }), el("dd", { text: String(value) }));
    }
    return list;
  }

  function card(title, version, loaded, pairs) {
    const status = loaded === undefined ? null : loaded === version ? "loaded now" : loaded ? `loaded: ${loaded}` : "not loaded yet";
    return el(
      "section",
      { className: "panel" },
      el("h3", { text: title }),
      facts([["version", version || "–"], ["in this service", status], ...pairs]),
    );
  }

  function renderVersions(info) {
    const c = info.classifier;
    const s = info.summarizer;
    const k = info.checker;
    const loaded = info.loaded || {};
    const ready = Object.keys(loaded).length > 0;
    const t = c.training || {};
    const v = c.validation || {};
    const rouge = s.validation_rouge || {};
    $("versions").replaceChildren(
      card("Classifier: countries, regions, themes", c.version, ready ? loaded.classifier || null : null, [
        ["base model", c.base_model],
        ["weights", c.weights],
        ["reads", c.reads_tokens ? `the first ${c.reads_tokens} tokens (+ a word model of the whole text)` : null],
        ["labels", `${c.themes} themes, ${c.regions} regions`],
        ["trained on", t.articles ? `${t.articles.toLocaleString("en")} articles (${t.sources})` : null],
        ["training", t.steps ? `${t.steps} steps, ${Math.round(t.seconds / 60)} min on ${t.device}` : null],
        ["validation", v.theme_micro_f1 ? `theme micro-F1 ${num(v.theme_micro_f1)}, country micro-F1 ${num(v.country_micro_f1)}` : null],
      ]),
      card("Summariser", s.version, ready ? loaded.summarizer || null : null, [
        ["method", s.default_method],
        ["length", s.max_words ? `at most ${s.max_words} words` : null],
        ["validation ROUGE", rouge.rouge1 ? `R-1 ${rouge.rouge1} / R-2 ${rouge.rouge2} / R-Lsum ${rouge.rougeLsum}` : null],
        ["also shipped", s.abstractive ? `${s.abstractive.version} (not the default)` : null],
      ]),
      card("Consistency checker (summary verdicts)", k.version, undefined, [
        ["base model", k.base_model],
        ["threshold", k.threshold],
        ["validation", k.validation && k.validation.balanced_accuracy ? `balanced accuracy ${num(k.validation.balanced_accuracy)} on ${k.validation.pairs} pairs` : null],
        ["catches", k.validation && k.validation.recall_unsupported ? `${Math.round(k.validation.recall_unsupported * 100)}% of unsupported summaries` : null],
        ["passes", k.validation && k.validation.pass_rate_supported ? `${Math.round(k.validation.pass_rate_supported * 100)}% of supported ones` : null],
      ]),
    );
  }

  function table(node, head, rows) {
    const thead = el("thead", {}, el("tr", {}, ...head.map((h, i) => el("th", { scope: "col", className: i ? "num" : null, text: h }))));
    const tbody = el("tbody");
    for (const row of rows) {
      tbody.append(el("tr", {}, ...row.map((cell, i) => (i ? el("td", { className: "num", text: cell }) : el("th", { scope: "row", text: cell })))));
    }
    node.replaceChildren(thead, tbody);
  }

  function renderQuality(info) {
    const q = info.quality;
    if (!q) {
      $("quality-source").textContent = "No measured figures are shipped with this installation; run make eval.";
      return;
    }
    const names = q.series || {};
    const loaded = (info.loaded || {}).classifier || info.classifier.version;
    let source = `${q.test_set}. Measured by ${q.source} on ${q.measured} for classifier ${q.classifier_version}.`;
    if (loaded && q.classifier_version !== loaded) source += ` The service runs ${loaded}: these figures describe an earlier model.`;
    $("quality-source").textContent = source;
    table(
      $("headline"),
      ["measure", names.classifier, names.baseline, names.gazetteer, names.agreement],
      q.headline.map((r) => [
        r.lower_is_better ? `${r.metric} (lower is better)` : r.metric,
        num(r.classifier),
        num(r.baseline),
        num(r.gazetteer),
        num(r.agreement),
      ]),
    );
    table(
      $("per-theme"),
      ["theme", "test articles", names.classifier, names.baseline, names.agreement],
      q.per_theme.map((r) => [r.theme, String(r.support ?? "–"), num(r.classifier), num(r.baseline), num(r.agreement)]),
    );
    const legend = $("chart-legend");
    legend.replaceChildren(...SERIES.map((s, i) => el("li", {}, el("span", { className: `swatch s${i}`, "aria-hidden": "true" }), names[s.key] || s.key)));
    const figure = $("chart");
    const draw = () => figure.replaceChildren(chart(q.per_theme, names, figure.clientWidth));
    draw();
    let pending = null;
    window.addEventListener("resize", () => {
      clearTimeout(pending);
      pending = setTimeout(draw, 150);
    });
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // A theme's short name for the chart's labels ("arts" for "arts, culture, entertainment and media"); the full
  // name is in each bar's tooltip and in the table.
  const shortName = (theme) => theme.split(",")[0];

  // Horizontal grouped bars: one group per theme, one bar per series, the value written at the bar's end. Drawn
  // at the figure's width in CSS pixels (redrawn when it changes), so the text keeps its size on a phone; below
  // 520 px each theme's name goes above its bars instead of beside them.
  function chart(rows, names, available) {
    const width = Math.max(280, Math.min(available || 760, 760));
    const narrow = width < 520;
    const labelWidth = narrow ? 0 : 190;
    const plotLeft = narrow ? 0 : labelWidth;
    const plotWidth = width - plotLeft - 42;
    const bar = 9;
    const labelLine = narrow ? 16 : 0;
    const group = labelLine + bar * SERIES.length + 12;
    const top = 28;
    const height = top + rows.length * group + 10;
    const root = svg("svg", {
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: "img",
      "aria-labelledby": "chart-svg-title",
      "font-family": "system-ui, sans-serif",
      "font-size": 12,
    });
    root.append(svg("title", { id: "chart-svg-title" }, `Theme F1 per theme: ${SERIES.map((s) => names[s.key] || s.key).join(", ")}`));
    for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
      const x = plotLeft + tick * plotWidth;
      const anchor = tick === 0 && narrow ? "start" : "middle";
      root.append(svg("line", { x1: x, x2: x, y1: top - 6, y2: height - 10, stroke: "#c9d1d9", "stroke-width": 1 }));
      root.append(svg("text", { x, y: top - 10, "text-anchor": anchor, fill: "#4a525c" }, tick.toFixed(2)));
    }
    rows.forEach((row, i) => {
      const y = top + i * group;
      const name = shortName(row.theme);
      const label = row.support !== undefined && row.support !== null ? `${name} (${row.support})` : name;
      if (narrow) {
        root.append(svg("text", { x: 0, y: y + 11, fill: "#1b1f24", "font-weight": 600 }, label));
      } else {
        root.append(svg("text", { x: labelWidth - 8, y: y + (bar * SERIES.length) / 2 + 4, "text-anchor": "end", fill: "#1b1f24" }, label));
      }
      SERIES.forEach((s, j) => {
        const value = row[s.key];
        if (typeof value !== "number") return;
        const by = y + labelLine + j * bar;
        const rect = svg("rect", { x: plotLeft, y: by, width: Math.max(1, value * plotWidth), height: bar - 1, fill: s.colour });
        rect.append(svg("title", {}, `${row.theme}, ${names[s.key] || s.key}: ${value.toFixed(3)}`));
        root.append(rect);
        root.append(svg("text", { x: plotLeft + value * plotWidth + 4, y: by + bar - 1.5, "font-size": 9, fill: "#1b1f24" }, value.toFixed(2)));
      });
    });
    return root;
  }

  function renderRules(info) {
    const rows = (info.classifier.rules || []).map((r) => [
      r.rule,
      r.enabled ? "on" : "off",
      r.metric || "",
      num(r.with),
      num(r.without),
      typeof r.with === "number" && typeof r.without === "number" ? (r.with - r.without >= 0 ? "+" : "") + (r.with - r.without).toFixed(4) : "–",
    ]);
    table($("rules"), ["rule", "state", "measure", "with", "without", "gain"], rows);
  }

  function renderDocs(info) {
    const list = $("docs");
    list.replaceChildren(
      ...info.docs.map((d) => el("li", {}, el("a", { href: d.url, text: `docs/${d.name}.md` }), ` — ${d.title}`)),
      el("li", {}, el("a", { href: "/docs", text: "API docs" }), " — try the HTTP API in the browser (Swagger UI)"),
      el("li", {}, el("a", { href: "/redoc", text: "API reference" }), " — the same API as one reference page (ReDoc)"),
    );
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const result = await request("/v1/models");
    if (!result.ok) {
      showMessage($("message"), explain(result, "describe its models"));
      return;
    }
    renderVersions(result.data);
    renderQuality(result.data);
    renderRules(result.data);
    renderDocs(result.data);
  });
})();
