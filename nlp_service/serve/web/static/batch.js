// The batch page: the file goes to POST /v1/jobs as it is; the page then polls GET /v1/jobs/{id}. The job's id is
// kept in the address (#job=…) and in localStorage, so a reload or a later visit finds the job again.
"use strict";

(() => {
  const { request, explain, showMessage, hide, el } = NLP;
  const $ = (id) => document.getElementById(id);
  const STORE_KEY = "nlp-service.job";
  const POLL_MS = 500;
  const FINISHED = new Set(["done", "failed", "cancelled"]);
  const PREVIEW_ROWS = 10;
  let timer = null;
  let current = null;
  let previewed = null;

  function remember(id) {
    try {
      if (id) localStorage.setItem(STORE_KEY, id);
      else localStorage.removeItem(STORE_KEY);
    } catch (_) {
      // Private windows may refuse storage; the address still holds the id.
    }
    history.replaceState(null, "", id ? `#job=${id}` : location.pathname);
  }

  function remembered() {
    const match = /job=([0-9a-f]+)/.exec(location.hash);
    if (match) return match[1];
    try {
      return localStorage.getItem(STORE_KEY);
    } catch (_) {
      return null;
    }
  }

  function formatOf(name) {
    const lower = name.toLowerCase();
    if (lower.endsWith(".csv")) return "csv";
    if (lower.endsWith(".jsonl") || lower.endsWith(".ndjson")) return "jsonl";
    return null;
  }

  function render(job) {
    current = job;
    $("job").hidden = false;
    $("job-file").textContent = job.filename;
    const progress = $("progress");
    progress.max = Math.max(job.total, 1);
    progress.value = job.done;
    const state = {
      queued: "Waiting for another job to finish…",
      running: "Analysing…",
      done: "Finished.",
      failed: `Stopped: ${job.message || "the job failed"}.`,
      cancelled: "Cancelled.",
    }[job.status] || job.status;
    const errors = job.failed ? `, ${job.failed} with errors` : "";
    $("progress-text").textContent = `${job.done} of ${job.total} rows done${errors}. ${state}`;
    const done = job.status === "done";
    for (const [id, kind] of [["download-jsonl", "jsonl"], ["download-csv", "csv"]]) {
      const link = $(id);
      link.hidden = !done;
      link.href = `/v1/jobs/${job.id}/records.${kind}`;
    }
    $("cancel").hidden = FINISHED.has(job.status);
    $("new-job").hidden = !FINISHED.has(job.status);
    const rows = $("error-rows");
    rows.replaceChildren();
    for (const e of job.errors || []) {
      rows.append(el("tr", {}, el("td", { text: e.row }), el("td", { text: e.id }), el("td", { className: "error", text: e.error })));
    }
    $("errors").hidden = !(job.errors && job.errors.length);
    if (done && previewed !== job.id) preview(job);
    if (!done) $("preview").hidden = true;
  }

  // The first records of a finished job as a table, so that the results can be seen without a download.
  async function preview(job) {
    previewed = job.id;
    const result = await request(`/v1/jobs/${job.id}/records.jsonl`);
    if (!result.ok || typeof result.data !== "string" || !current || current.id !== job.id) return;
    const records = result.data.split("\n").filter(Boolean).map((line) => JSON.parse(line));
    const shown = records.filter((r) => !r.error).slice(0, PREVIEW_ROWS);
    const names = (items) => (items || []).map((x) => x.name).join(", ");
    const rows = $("preview-rows");
    rows.replaceChildren(
      ...shown.map((r) =>
        el("tr", {}, el("td", { className: "id", text: r.id ?? "" }), el("td", { text: names(r.countries) }), el("td", { text: names(r.themes) }), el("td", { text: r.summary ?? "" })),
      ),
    );
    const ok = records.filter((r) => !r.error).length;
    $("preview-note").textContent = `${shown.length} of the ${ok} analysed rows; the downloads hold them all, with scores.`;
    $("preview").hidden = shown.length === 0;
  }

  async function poll(id) {
    clearTimeout(timer);
    const result = await request(`/v1/jobs/${id}`);
    if (current && current.id !== id) return; // another job was started meanwhile
    if (result.status === 404) {
      remember(null);
      $("job").hidden = true;
      showMessage($("message"), {
        title: "That job is no longer on the server",
        text: "Jobs are kept for a day, and not across a restart of the service. Upload the file again.",
      });
      return;
    }
    if (!result.ok) {
      showMessage($("message"), explain(result, "report the job's progress"));
      timer = setTimeout(() => poll(id), 2000);
      return;
    }
    hide($("message"));
    render(result.data);
    if (!FINISHED.has(result.data.status)) timer = setTimeout(() => poll(id), POLL_MS);
  }

  async function start(event) {
    event.preventDefault();
    const message = $("message");
    hide(message);
    const file = $("file").files[0];
    if (!file) {
      showMessage(message, { title: "No file chosen", text: "Choose a .jsonl or .csv file first." });
      $("file").focus();
      return;
    }
    const format = formatOf(file.name);
    if (!format) {
      showMessage(message, { title: "Not a JSONL or CSV file", text: `“${file.name}” does not end in .jsonl, .ndjson or .csv.` });
      return;
    }
    const maxBytes = Number(document.body.dataset.maxBytes);
    if (maxBytes && file.size > maxBytes) {
      showMessage(message, {
        title: "The file is too large",
        text: `It has ${file.size.toLocaleString("en")} bytes; the limit is ${maxBytes.toLocaleString("en")}. Split it into smaller files.`,
      });
      return;
    }
    const tasks = [...document.querySelectorAll('input[name="task"]:checked')].map((box) => box.value);
    if (!tasks.length) {
      showMessage(message, { title: "Nothing to find", text: "Tick at least one of the boxes under “What to find”." });
      return;
    }
    const button = $("start");
    button.disabled = true;
    try {
      const query = new URLSearchParams({ format, filename: file.name, tasks: tasks.join(",") });
      const result = await request(`/v1/jobs?${query}`, {
        method: "POST",
        headers: { "content-type": format === "csv" ? "text/csv" : "application/x-ndjson" },
        body: file,
      });
      if (!result.ok) {
        showMessage(message, explain(result, "read this file"));
        return;
      }
      remember(result.data.id);
      render(result.data);
      $("job-title").focus();
      poll(result.data.id);
    } finally {
      button.disabled = false;
    }
  }

  async function cancel() {
    if (!current) return;
    const id = current.id;
    clearTimeout(timer);
    await request(`/v1/jobs/${id}`, { method: "DELETE" });
    remember(null);
    current = null;
    $("job").hidden = true;
    showMessage($("message"), { title: "Job cancelled", text: "Its results were discarded." });
  }

  function reset() {
    clearTimeout(timer);
    remember(null);
    current = null;
    $("job").hidden = true;
    $("upload-form").reset();
    $("file").focus();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("upload-form").addEventListener("submit", start);
    $("cancel").addEventListener("click", cancel);
    $("new-job").addEventListener("click", reset);
    const id = remembered();
    if (id) {
      current = { id };
      remember(id);
      poll(id);
    }
  });
})();
