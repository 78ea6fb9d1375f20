// Ferry's web UI: a little progressive JavaScript. Every page works without it; with it,
// copy buttons copy, saving a bucket shows each check step as it runs, and progress
// tables refresh themselves. Text from users or AWS is only ever set as textContent; the
// HTML it inserts is rendered (and escaped) by Ferry.
"use strict";

function copyText(button) {
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  const text = source.textContent;
  const done = () => {
    const label = button.textContent;
    button.textContent = "Copied";
    button.dataset.copied = "true";
    setTimeout(() => { button.textContent = label; }, 2000);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => fallbackCopy(source, done));
  } else {
    fallbackCopy(source, done);
  }
}

function fallbackCopy(source, done) {
  const range = document.createRange();
  range.selectNodeContents(source);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  try { document.execCommand("copy"); } catch (e) { /* the text stays selected */ }
  done();
}

async function streamedSave(form, event) {
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  const live = document.getElementById("check-live");
  const result = document.getElementById("check-result");
  button.disabled = true;
  result.textContent = "";
  live.textContent = "";
  const heading = document.createElement("p");
  heading.textContent = "Checking the role, step by step…";
  const list = document.createElement("ol");
  list.className = "steps live";
  live.append(heading, list);
  try {
    const response = await fetch(form.action, {
      method: "POST",
      headers: { "Accept": "application/x-ndjson", "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
    });
    if (!response.ok || !response.body) {
      // The server's page says what went wrong; show it the plain way.
      form.submit();
      return;
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (value) buffer += decoder.decode(value, { stream: true });
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line.trim()) handleLine(JSON.parse(line), list, live, result);
      }
      if (done) break;
    }
  } catch (error) {
    heading.textContent = "The check could not finish: " + error + ". Press Save to try again.";
  } finally {
    button.disabled = false;
  }
}

function handleLine(message, list, live, result) {
  if (message.type === "step") {
    const item = document.createElement("li");
    item.className = "step " + message.status;
    const mark = message.status === "passed" ? "✓ " : message.status === "failed" ? "✗ " : "– ";
    const title = document.createElement("strong");
    title.textContent = message.title;
    const detail = document.createElement("span");
    detail.className = "detail";
    detail.textContent = message.detail;
    item.append(mark, title, " (" + message.status + ")", document.createElement("br"), detail);
    list.append(item);
  } else if (message.type === "done") {
    live.textContent = "";
    result.innerHTML = message.html;
    const heading = result.querySelector("h2");
    if (heading) { heading.tabIndex = -1; heading.focus(); }
  }
}

function startRefresh(element) {
  const every = Number(element.dataset.every || 5000);
  setInterval(async () => {
    if (document.hidden || element.contains(document.activeElement)) return;
    try {
      const response = await fetch(element.dataset.refresh, { credentials: "same-origin" });
      if (response.ok && response.headers.get("Content-Type")?.startsWith("text/html")) {
        element.innerHTML = await response.text();
      }
    } catch (e) { /* try again next time */ }
  }, every);
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button.copy");
  if (button) copyText(button);
});

document.addEventListener("DOMContentLoaded", () => {
  const save = document.getElementById("save-form");
  if (save && window.fetch && window.ReadableStream) {
    save.addEventListener("submit", (event) => streamedSave(save, event));
  }
  document.querySelectorAll("[data-refresh]").forEach(startRefresh);
});
