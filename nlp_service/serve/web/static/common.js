// Shared by the pages: requests to the service (same origin only) and the wording of its errors for people who
// do not read status codes.
"use strict";

const NLP = (() => {
  // One request. Never throws: a network failure comes back as status 0 so that every caller shows a message.
  async function request(url, options = {}) {
    let response;
    try {
      response = await fetch(url, options);
    } catch (error) {
      return { ok: false, status: 0, data: null, error: String(error && error.message ? error.message : error) };
    }
    let data = null;
    const type = response.headers.get("content-type") || "";
    try {
      // application/json only: a JSONL download (application/x-ndjson) is text, one record per line.
      data = /^application\/([\w.-]+\+)?json\b/.test(type) ? await response.json() : await response.text();
    } catch (_) {
      data = null;
    }
    const retry = Number.parseInt(response.headers.get("retry-after") || "", 10);
    return { ok: response.ok, status: response.status, data, retryAfter: Number.isFinite(retry) ? retry : null };
  }

  function postJSON(url, body) {
    return request(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  function detailOf(result) {
    const data = result.data;
    if (data && typeof data === "object" && data.detail) return String(data.detail);
    if (typeof data === "string" && data.trim() && data.length < 300) return data.trim();
    return "";
  }

  function seconds(n) {
    return `${n} second${n === 1 ? "" : "s"}`;
  }

  // {title, text} for a failed request; `what` names the action ("analyse this text").
  function explain(result, what) {
    const detail = detailOf(result);
    const status = result.status;
    if (status === 0) {
      return {
        title: "The service cannot be reached",
        text: `The page could not talk to nlp-service (${result.error}). Check that it is still running, then try again.`,
      };
    }
    if (status === 503) {
      const wait = result.retryAfter || 5;
      if (/failed to load/.test(detail)) {
        return {
          title: "The models failed to load (503)",
          text: "The service is running but its models could not be loaded. Whoever runs it can find the reason in the server log.",
        };
      }
      if (/loading/.test(detail)) {
        return {
          title: "The models are still loading (503)",
          text: `The service has just started and is loading its models. Try again in ${seconds(wait)}.`,
          retryAfter: wait,
        };
      }
      return {
        title: "The service is busy (503)",
        text: `Too many requests are waiting (${detail || "the queue is full"}). Try again in ${seconds(wait)}.`,
        retryAfter: wait,
      };
    }
    if (status === 504) {
      return {
        title: "No answer in time (504)",
        text: `The service did not finish within its time limit (${detail || "timeout"}). It is probably busy: try again in a moment, or with a shorter text.`,
      };
    }
    if (status === 413) {
      return {
        title: "Too large (413)",
        text: `${capitalise(detail) || "The request is too large"}. Shorten the text, or split the file into smaller ones.`,
      };
    }
    if (status === 422) {
      return { title: `The service could not ${what} (422)`, text: detail ? `${capitalise(detail)}.` : "The input is not valid." };
    }
    if (status >= 400 && status < 500) {
      return { title: `The request was refused (${status})`, text: detail || "The service could not read the request." };
    }
    return {
      title: `Something went wrong in the service (${status})`,
      text: "This is a fault in the service, not in your text. Try again; if it happens again, the server log says why.",
    };
  }

  function capitalise(text) {
    return text ? text[0].toUpperCase() + text.slice(1) : text;
  }

  // Fill a role="alert" box with a title and a sentence (textContent only: a detail is never parsed as HTML).
  function showMessage(box, message) {
    box.replaceChildren();
    const title = document.createElement("strong");
    title.textContent = message.title;
    const text = document.createElement("span");
    text.textContent = message.text;
    box.append(title, text);
    box.hidden = false;
  }

  function hide(box) {
    box.hidden = true;
    box.replaceChildren();
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "className") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  function score(value) {
    return typeof value === "number" ? value.toFixed(2) : "–";
  }

  // The header's status line: whether the models are loaded (polled until they are).
  async function watchReady(line) {
    if (!line) return;
    const result = await request("/readyz");
    if (result.ok) {
      line.textContent = "Models ready";
      return;
    }
    const reason = result.data && result.data.reason ? result.data.reason : "the service cannot be reached";
    line.textContent = /failed/.test(reason) ? "The models failed to load" : "Models loading…";
    if (!/failed/.test(reason)) setTimeout(() => watchReady(line), 2000);
  }

  document.addEventListener("DOMContentLoaded", () => watchReady(document.getElementById("service-status")));

  return { request, postJSON, explain, showMessage, hide, el, score };
})();
