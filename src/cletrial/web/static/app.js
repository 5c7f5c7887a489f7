/* cletrial pages: live previews without a framework.
 *
 * An element with data-live-url and data-live-form is a live region: whenever a field of the
 * named form changes, the whole form is posted (urlencoded, with its CSRF field) to the URL and
 * the element's content is replaced by the HTML fragment the server renders. The server parses
 * the form exactly as it does on save, so what is previewed is what will be stored.
 *
 * Other helpers: [data-add-row] clones the last row of a table body (adverse events);
 * [data-confirm] asks before submitting.
 */
(function () {
  "use strict";

  function debounce(fn, ms) {
    let timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function setupLive(region) {
    const form = document.getElementById(region.dataset.liveForm);
    if (!form) return;
    let sequence = 0;
    const refresh = async function () {
      const mine = ++sequence;
      region.setAttribute("aria-busy", "true");
      try {
        const body = new URLSearchParams(new FormData(form));
        const response = await fetch(region.dataset.liveUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-CSRF-Token": csrfToken(),
          },
          body: body,
        });
        const html = await response.text();
        if (mine !== sequence) return; // a newer request is under way
        if (response.ok) {
          region.innerHTML = html;
        } else if (response.status === 401) {
          region.innerHTML = '<p class="error" role="alert">Your session has ended: ' +
            '<a href="/login">log in again</a> (your entries on this page are not saved yet).</p>';
        } else {
          region.innerHTML = html.indexOf("<") === 0 ? html :
            '<p class="error" role="alert">Preview failed (HTTP ' + response.status + ').</p>';
        }
      } catch (err) {
        if (mine === sequence) {
          region.innerHTML = '<p class="error" role="alert">Preview unavailable: ' +
            'the server cannot be reached. Your entries are still on this page.</p>';
        }
      } finally {
        if (mine === sequence) region.removeAttribute("aria-busy");
      }
    };
    const later = debounce(refresh, 250);
    form.addEventListener("input", later);
    form.addEventListener("change", later);
  }

  function setupAddRow(button) {
    button.addEventListener("click", function () {
      const body = document.getElementById(button.dataset.addRow);
      if (!body || !body.lastElementChild) return;
      const row = body.lastElementChild.cloneNode(true);
      const index = body.children.length;
      row.querySelectorAll("input, select, textarea, label").forEach(function (el) {
        ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
          const value = el.getAttribute(attr);
          if (value) el.setAttribute(attr, value.replace(/\[\d+\]|-\d+(?=[-.]|$)/g, function (m) {
            return m.charAt(0) === "[" ? "[" + index + "]" : "-" + index;
          }));
        });
        if (el.tagName === "INPUT" && (el.type === "checkbox" || el.type === "radio")) {
          el.checked = false;
        } else if (el.tagName === "INPUT" || el.tagName === "TEXTAREA") {
          el.value = "";
        } else if (el.tagName === "SELECT") {
          el.selectedIndex = 0;
        }
        el.removeAttribute("aria-invalid");
      });
      row.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
      body.appendChild(row);
      const first = row.querySelector("input, select");
      if (first) first.focus();
    });
  }

  function setupConfirm(form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-live-url][data-live-form]").forEach(setupLive);
    document.querySelectorAll("[data-add-row]").forEach(setupAddRow);
    document.querySelectorAll("form[data-confirm]").forEach(setupConfirm);
  });
})();

// Unsaved changes: a form marked data-warn-unsaved that was changed asks before the page is
// left (link, reload, closing the tab); submitting it does not ask.
(function () {
  let dirty = false;
  for (const form of document.querySelectorAll("form[data-warn-unsaved]")) {
    form.addEventListener("input", function () { dirty = true; });
    form.addEventListener("change", function () { dirty = true; });
    form.addEventListener("submit", function () { dirty = false; });
  }
  window.addEventListener("beforeunload", function (event) {
    if (!dirty) { return undefined; }
    event.preventDefault();
    event.returnValue = "";
    return "";
  });
})();
