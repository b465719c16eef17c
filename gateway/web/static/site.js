// ShortScience: progressive enhancement only. Every form works without this file.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // Votes without a page reload: the same POST, answered as JSON.
  function enhanceVotes() {
    document.querySelectorAll("form[data-vote]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        var button = event.submitter;
        if (!button || !window.fetch || !window.FormData) return;
        event.preventDefault();
        var data = new FormData(form);
        data.set("value", button.value);
        form.setAttribute("aria-busy", "true");
        fetch(form.action, {
          method: "POST", body: data, credentials: "same-origin",
          headers: { "Accept": "application/json", "X-CSRF-Token": csrfToken() }
        }).then(function (response) {
          if (!response.ok) throw new Error("vote refused");
          return response.json();
        }).then(function (result) {
          form.querySelector(".score").textContent = String(result.score);
          var up = form.querySelector(".vote-up"), down = form.querySelector(".vote-down");
          up.setAttribute("aria-pressed", result.my_vote === 1 ? "true" : "false");
          down.setAttribute("aria-pressed", result.my_vote === -1 ? "true" : "false");
          up.value = result.my_vote === 1 ? "0" : "1";
          down.value = result.my_vote === -1 ? "0" : "-1";
          up.setAttribute("aria-label", result.my_vote === 1 ? "Upvote (undo)" : "Upvote");
          down.setAttribute("aria-label", result.my_vote === -1 ? "Downvote (undo)" : "Downvote");
        }).catch(function () {
          // Let the server answer with a page (an error page says what went wrong).
          var fallback = document.createElement("input");
          fallback.type = "hidden"; fallback.name = "value"; fallback.value = button.value;
          form.appendChild(fallback);
          form.submit();
        }).finally(function () { form.removeAttribute("aria-busy"); });
      });
    });
  }

  // Live preview in the editor, rendered by the server's renderer.
  function enhanceEditor() {
    var form = document.querySelector("form[data-editor]");
    if (!form || !window.fetch) return;
    var body = form.querySelector("textarea[name=body]");
    var preview = document.getElementById("preview");
    var url = preview && preview.getAttribute("data-preview-url");
    if (!body || !preview || !url) return;
    var timer = null, sequence = 0;
    function render() {
      var mine = ++sequence;
      var data = new FormData();
      data.set("body", body.value);
      data.set("csrf_token", csrfToken());
      fetch(url, { method: "POST", body: data, credentials: "same-origin",
                   headers: { "X-CSRF-Token": csrfToken() } })
        .then(function (response) { return response.ok && !response.redirected ? response.text() : null; })
        .then(function (html) {
          if (html === null || mine !== sequence) return;
          // Sanitised on the server by the summaries renderer (the same HTML a publish stores).
          preview.innerHTML = html || '<p class="muted">Nothing to preview yet.</p>';
          preview.setAttribute("data-rendered", String(mine));
        })
        .catch(function () {});
    }
    body.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(render, 350);
    });
    var button = form.querySelector("[data-preview-button]");
    if (button) {
      button.addEventListener("click", function (event) { event.preventDefault(); render(); });
    }
    if (body.value.trim()) render();
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhanceVotes();
    enhanceEditor();
  });
})();
