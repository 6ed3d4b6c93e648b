/* Console: a test call (placed by a supervisor, played by the simulator) is answered here, with a button.
   Real calls are answered on the operator's phone, so the button shows only while a test call rings. */
"use strict";
(function () {
  const card = document.getElementById("call-card");
  const button = document.getElementById("btn-answer-test");
  if (!card || !button) return;
  const token = () => { const m = document.cookie.match(/csrftoken=([^;]+)/); return m ? m[1] : ""; };
  async function check() {
    if (card.hidden) { button.hidden = true; return; }
    const r = await fetch("/console/test-call/", {credentials: "same-origin"});
    button.hidden = !(r.ok && (await r.json()).test_call_ringing) || card.hidden;
  }
  new MutationObserver(check).observe(card, {attributes: true, attributeFilter: ["hidden"]});
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await fetch("/console/test-call/", {method: "POST", credentials: "same-origin",
                                          headers: {"X-CSRFToken": token()}});
    } finally { button.disabled = false; button.hidden = true; }
  });
  check();
})();
