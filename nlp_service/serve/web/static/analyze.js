// The analyze page: POST /v1/analyze (with theme evidence) and /v1/prepare (the text as the models read it, which
// the mention offsets refer to), then /v1/verify for the summary's verdict and unsupported spans.
"use strict";

(() => {
  const { postJSON, explain, showMessage, hide, el, score } = NLP;
  const $ = (id) => document.getElementById(id);

  const KIND = {
    name: "its name",
    code: "its code",
    demonym: "a demonym",
    capital: "its capital",
    city: "a city",
    subdivision: "a region or state",
    institution: "an institution",
  };
  const PROBLEM = {
    name: "a name the article does not mention",
    number: "a number the article does not give",
    negation: "a negation the article does not support",
    qualifier: "a qualifier the article does not support",
    claim: "a statement the article does not support",
  };

  const { chars, locate, mentionSpans, evidenceSpans } = NLPSpans;

  function mentionMark(span, content) {
    const c = span.country;
    const tip = `${c.name} (${c.code}) · ${span.kind}: mentions ${KIND[span.kind] || span.kind}`;
    return el("mark", {
      className: "mention",
      id: span.id,
      tabindex: 0,
      "data-country": c.code,
      "data-kind": span.kind,
      "data-tip": tip,
      "aria-description": tip,
      text: content,
    });
  }

  // The article's text with evidence sentences as outer <mark>s and mentions as <mark>s inside them.
  function renderArticle(view, text, record) {
    const cps = chars(text);
    const mentions = mentionSpans(cps, text, record.countries);
    const evidence = evidenceSpans(text, record.themes);
    const plain = (parent, start, end) => {
      let pos = start;
      for (const m of mentions) {
        if (m.end <= start || m.start >= end) continue;
        const s = Math.max(m.start, start);
        const e = Math.min(m.end, end);
        if (s > pos) parent.append(cps.slice(pos, s).join(""));
        parent.append(mentionMark(m, cps.slice(s, e).join("")));
        pos = e;
      }
      if (pos < end) parent.append(cps.slice(pos, end).join(""));
    };
    const fragment = document.createDocumentFragment();
    let pos = 0;
    for (const ev of evidence) {
      if (ev.start > pos) plain(fragment, pos, ev.start);
      const names = ev.themes.map((t) => t.name).join(", ");
      const tip = `Evidence for ${names}`;
      const mark = el("mark", {
        className: "evidence",
        id: ev.id,
        tabindex: 0,
        "data-themes": ev.themes.map((t) => t.name).join("|"),
        "data-tip": tip,
        "aria-description": tip,
      });
      plain(mark, ev.start, ev.end);
      fragment.append(mark);
      pos = ev.end;
    }
    plain(fragment, pos, cps.length);
    view.replaceChildren(fragment);
    return { mentions, evidence };
  }

  function scoreLine(name, value, extra) {
    return el(
      "div",
      { className: "tag-head" },
      el("span", { className: "tag-name", text: name }),
      el("meter", { min: 0, max: 1, value: typeof value === "number" ? value : 0, "aria-hidden": "true" }),
      el("span", { className: "score", text: `score ${score(value)}` }),
      extra || null,
    );
  }

  function renderCountries(list, countries, mentions) {
    list.replaceChildren();
    if (!countries || !countries.length) {
      list.append(el("li", { className: "empty", text: "No country found." }));
      return;
    }
    for (const c of countries) {
      const own = mentions.filter((m) => m.country === c);
      const item = el("li", { "data-code": c.code }, scoreLine(`${c.name} (${c.code})`, c.score));
      if (own.length) {
        const line = el("p", { className: "mentions" }, `${own.length} mention${own.length === 1 ? "" : "s"}: `);
        own.forEach((m, i) => {
          if (i) line.append(", ");
          line.append(el("a", { href: `#${m.id}`, text: `${textOf(m)} (${m.kind})` }));
        });
        item.append(line);
      }
      list.append(item);
    }
  }

  function textOf(span) {
    const node = document.getElementById(span.id);
    return node ? node.textContent : "";
  }

  function renderRegions(list, regions) {
    list.replaceChildren();
    if (!regions || !regions.length) {
      list.append(el("li", { className: "empty", text: "No region found." }));
      return;
    }
    for (const r of regions) {
      list.append(el("li", {}, scoreLine(r.name, r.score, el("span", { className: "score", text: r.continent }))));
    }
  }

  function renderThemes(list, themes, evidence) {
    list.replaceChildren();
    if (!themes || !themes.length) {
      list.append(el("li", { className: "empty", text: "No theme above its threshold." }));
      return;
    }
    for (const t of themes) {
      const item = el("li", { "data-theme": t.name }, scoreLine(t.name, t.score));
      const ev = t.evidence;
      if (ev && ev.sentence) {
        const where = evidence.find((e) => e.themes.includes(t));
        const line = el("p", { className: "evidence-text" }, "Evidence: ");
        line.append(el("mark", { className: "evidence", text: ev.sentence }));
        if (where) line.append(" ", el("a", { href: `#${where.id}`, text: "(in the article)" }));
        if (ev.terms && ev.terms.length) line.append(el("br"), `Words that weighed most: ${ev.terms.join(", ")}`);
        item.append(line);
      }
      list.append(item);
    }
  }

  // A summary with its unsupported spans marked, the verdict, and one line per problem.
  function renderVerdict(box, summary, verdict, label) {
    box.replaceChildren();
    const cps = chars(summary);
    const text = el("p", { className: "summary-text" });
    let pos = 0;
    const spans = (verdict.unsupported || []).slice().sort((a, b) => a.start - b.start);
    const problems = el("ul", { className: "problems" });
    spans.forEach((u) => {
      let range = [u.start, u.end];
      if (cps.slice(u.start, u.end).join("") !== u.span) range = locate(summary, u.span);
      const what = PROBLEM[u.kind] || u.kind;
      if (range && range[0] >= pos) {
        if (range[0] > pos) text.append(cps.slice(pos, range[0]).join(""));
        text.append(
          el("mark", {
            className: "unsupported",
            tabindex: 0,
            "data-kind": u.kind,
            "data-tip": `Not supported: ${what}`,
            "aria-description": `Not supported: ${what}`,
            text: cps.slice(range[0], range[1]).join(""),
          }),
        );
        pos = range[1];
      }
      const item = el("li", {}, el("strong", { text: `“${u.span}”` }), ` — ${what}.`);
      if (u.closest) item.append(el("br"), `Closest sentence in the article: “${u.closest}”`);
      problems.append(item);
    });
    if (pos < cps.length) text.append(cps.slice(pos).join(""));
    const good = verdict.faithful;
    const badge = el("span", {
      className: `verdict ${good ? "good" : "bad"}`,
      text: good ? "Supported by the article" : "Not supported by the article",
    });
    const details = el(
      "p",
      {},
      badge,
      " ",
      el("span", { className: "score", text: `checker score ${score(verdict.score)} (the estimated chance that it is supported)` }),
    );
    box.append(label ? el("p", { className: "hint", text: label }) : null, text, details);
    if (spans.length) {
      box.append(el("p", { text: `${spans.length} part${spans.length === 1 ? "" : "s"} not supported:` }), problems);
    } else if (!good) {
      box.append(el("p", { text: "The checker doubts the summary as a whole; no single word or number is to blame." }));
    }
    for (const w of verdict.warnings || []) box.append(el("p", { className: "hint", text: w }));
  }

  function normalised(summary) {
    // The checker reads the summary with its whitespace collapsed; its span offsets refer to that text.
    return summary.split(/\s+/).filter(Boolean).join(" ");
  }

  function showWarnings(box, warnings) {
    const list = (warnings || []).filter(Boolean);
    if (!list.length) {
      hide(box);
      return;
    }
    box.replaceChildren();
    for (const w of list) {
      const match = /looks like (.+?) \((\w+)\), not English/.exec(w);
      if (match) {
        box.append(
          el("strong", { text: `This text looks like ${match[1]}, not English.` }),
          el("p", { text: "The models were trained on English news only, so the countries, themes and summary below are likely to be wrong." }),
        );
      } else {
        box.append(el("p", { text: w.charAt(0).toUpperCase() + w.slice(1) + "." }));
      }
    }
    box.hidden = false;
  }

  async function summaryVerdict(text, record) {
    const box = $("summary");
    box.replaceChildren();
    if (!record.summary) {
      box.append(el("p", { className: "empty", text: "No summary was made." }));
      return;
    }
    const summary = normalised(record.summary);
    box.append(el("p", { className: "summary-text", text: summary }), el("p", { className: "busy", text: "Checking the summary…" }));
    const result = await postJSON("/v1/verify", { text, summary });
    if (!result.ok) {
      box.replaceChildren(el("p", { className: "summary-text", text: summary }));
      const note = el("div", { className: "message", role: "alert" });
      showMessage(note, explain(result, "check the summary"));
      box.append(note);
      return;
    }
    renderVerdict(box, summary, result.data, `Made by the ${record.summary_method} summariser.`);
  }

  async function analyze(event) {
    if (event) event.preventDefault();
    const text = $("article").value;
    const message = $("message");
    hide(message);
    if (!text.trim()) {
      showMessage(message, { title: "Nothing to analyse", text: "Paste an article into the box first." });
      $("article").focus();
      return;
    }
    const button = $("analyze");
    button.disabled = true;
    $("analyze-busy").textContent = "Analysing…";
    try {
      const [prepared, analysed] = await Promise.all([
        postJSON("/v1/prepare", { text }),
        postJSON("/v1/analyze", { text, explain: true }),
      ]);
      const failed = !analysed.ok ? analysed : !prepared.ok ? prepared : null;
      if (failed) {
        showMessage(message, explain(failed, "analyse this text"));
        $("results").hidden = true;
        hide($("notice"));
        return;
      }
      const record = analysed.data;
      const clean = prepared.data.text;
      showWarnings($("notice"), record.warnings);
      const { mentions, evidence } = renderArticle($("article-view"), clean, record);
      renderCountries($("countries"), record.countries, mentions);
      renderRegions($("regions"), record.regions);
      renderThemes($("themes"), record.themes, evidence);
      $("model-versions").textContent = Object.values(record.model || {}).join(", ") || "–";
      $("results").hidden = false;
      $("analyze-busy").textContent = "Checking the summary…";
      await summaryVerdict(text, record);
      $("analyze-busy").textContent = "Done.";
      $("results-title").focus();
    } finally {
      button.disabled = false;
      if ($("analyze-busy").textContent !== "Done.") $("analyze-busy").textContent = "";
    }
  }

  async function verifyOwn(event) {
    event.preventDefault();
    const text = $("article").value;
    const summary = $("own-summary").value;
    const message = $("verify-message");
    const result = $("verify-result");
    hide(message);
    if (!text.trim() || !summary.trim()) {
      showMessage(message, {
        title: "Two texts are needed",
        text: !text.trim() ? "Paste the article into the Article text box above first." : "Write your summary into the box first.",
      });
      (!text.trim() ? $("article") : $("own-summary")).focus();
      return;
    }
    const button = $("verify");
    button.disabled = true;
    $("verify-busy").textContent = "Checking…";
    try {
      const answer = await postJSON("/v1/verify", { text, summary });
      if (!answer.ok) {
        result.hidden = true;
        showMessage(message, explain(answer, "check this summary"));
        return;
      }
      renderVerdict(result, normalised(summary), answer.data, null);
      result.hidden = false;
      $("verify-busy").textContent = "Done.";
    } finally {
      button.disabled = false;
      if ($("verify-busy").textContent !== "Done.") $("verify-busy").textContent = "";
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("analyze-form").addEventListener("submit", analyze);
    $("verify-form").addEventListener("submit", verifyOwn);
    $("article").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) analyze(event);
    });
    $("clear").addEventListener("click", () => {
      $("article").value = "";
      $("results").hidden = true;
      hide($("message"));
      hide($("notice"));
      $("analyze-busy").textContent = "";
      $("article").focus();
    });
  });
})();
