/* Centralino admin: small progressive enhancements. Without JavaScript every field shows and forms post as usual. */
"use strict";
(function () {
  const savingLabel = () => (document.querySelector('meta[name="centralino-saving"]') || {}).content || "Saving…";

  // Fieldsets that matter for one choice only: <fieldset class="depends depends-on-FIELD when-VALUE">.
  function toggleDependents() {
    document.querySelectorAll("fieldset.depends").forEach((fs) => {
      const on = [...fs.classList].find((c) => c.startsWith("depends-on-"));
      const select = on && document.getElementById("id_" + on.slice("depends-on-".length));
      if (!select) return;
      const wanted = [...fs.classList].filter((c) => c.startsWith("when-")).map((c) => c.slice(5));
      fs.hidden = !wanted.includes(select.value);
    });
  }

  // A slow save gets feedback at once: the buttons are disabled and the clicked one says "Saving…".
  function onSubmit(event) {
    const form = event.target;
    if (form.dataset.submitting) { event.preventDefault(); return; }
    form.dataset.submitting = "1";
    const button = event.submitter;
    if (button && button.name) {  // a disabled button is not posted: keep which one was clicked
      const keep = document.createElement("input");
      keep.type = "hidden"; keep.name = button.name; keep.value = button.value;
      form.appendChild(keep);
    }
    setTimeout(() => {  // after the browser has collected the form
      form.querySelectorAll("input[type=submit], button[type=submit], button:not([type])").forEach((b) => {
        b.disabled = true;
      });
      if (button) {
        if (button.tagName === "INPUT") button.value = savingLabel(); else button.textContent = savingLabel();
        button.classList.add("saving");
      }
    }, 0);
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("fieldset.depends").forEach((fs) => {
      const on = [...fs.classList].find((c) => c.startsWith("depends-on-"));
      const select = on && document.getElementById("id_" + on.slice("depends-on-".length));
      if (select) select.addEventListener("change", toggleDependents);
    });
    toggleDependents();
    document.querySelectorAll("#content form[method=post], #content form[method=POST]").forEach((form) => {
      form.addEventListener("submit", onSubmit);
    });
    // A page restored from the back-forward cache must not stay "Saving…".
    window.addEventListener("pageshow", (e) => { if (e.persisted) window.location.reload(); });
  });
})();
