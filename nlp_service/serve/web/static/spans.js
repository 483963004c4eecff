// Where the analyze page's marks go: the record's mention offsets and evidence sentences as [start, end) ranges of
// the article's code points, sorted and without overlaps (analyze.js draws them).
"use strict";

const NLPSpans = (() => {
  // Offsets from the service count Unicode code points (Python); JavaScript strings count UTF-16 units, so the
  // text is handled as an array of code points.
  const chars = (text) => Array.from(text);

  // [start, end) of `needle` in `text`, in code points: the exact string first, then the same words with any
  // whitespace between them (a sentence splitter may have joined lines); null if absent.
  function locate(text, needle) {
    if (!needle) return null;
    let at = text.indexOf(needle);
    let length = needle.length;
    if (at < 0) {
      const words = needle.split(/\s+/).filter(Boolean).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
      if (!words.length) return null;
      const match = new RegExp(words.join("\\s+"), "u").exec(text);
      if (!match) return null;
      at = match.index;
      length = match[0].length;
    }
    const start = chars(text.slice(0, at)).length;
    return [start, start + chars(text.slice(at, at + length)).length];
  }

  // Mentions of the reported countries: [{start, end, country, kind, id}], sorted, without overlaps.
  function mentionSpans(cps, text, countries) {
    const spans = [];
    for (const country of countries || []) {
      for (const m of country.evidence || []) {
        let range = [m.start, m.end];
        if (cps.slice(m.start, m.end).join("") !== m.surface) {
          // The record's offsets always match the prepared text; this only guards against a text edited since.
          range = locate(text, m.surface);
          if (!range) continue;
        }
        spans.push({ start: range[0], end: range[1], country, kind: m.kind });
      }
    }
    spans.sort((a, b) => a.start - b.start || b.end - a.end);
    const kept = [];
    for (const span of spans) {
      if (kept.length && span.start < kept[kept.length - 1].end) continue;
      span.id = `mention-${kept.length + 1}`;
      kept.push(span);
    }
    return kept;
  }

  // Evidence sentences: [{start, end, themes: [theme, ...], id}], merged where they overlap.
  function evidenceSpans(text, themes) {
    const spans = [];
    for (const theme of themes || []) {
      const sentence = theme.evidence && theme.evidence.sentence;
      const range = sentence ? locate(text, sentence) : null;
      if (range) spans.push({ start: range[0], end: range[1], themes: [theme] });
    }
    spans.sort((a, b) => a.start - b.start);
    const merged = [];
    for (const span of spans) {
      const last = merged[merged.length - 1];
      if (last && span.start < last.end) {
        last.end = Math.max(last.end, span.end);
        last.themes.push(...span.themes);
      } else {
        merged.push(span);
      }
    }
    merged.forEach((span, i) => {
      span.id = `evidence-${i + 1}`;
    });
    return merged;
  }

  return { chars, locate, mentionSpans, evidenceSpans };
})();
