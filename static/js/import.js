// The import's commit with a progress bar: the form is sent in the background and the page asks
// how far it has got until the answer comes; then it follows the answer's redirect. Without
// this script the form is sent as usual (the page waits, then shows the result).
const form = document.getElementById("import-commit");
if (form) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    const box = document.getElementById("import-progress-box");
    const bar = document.getElementById("import-progress");
    button.disabled = true;
    box.hidden = false;
    let polling = true;
    const poll = async () => {
      while (polling) {
        try {
          const answer = await fetch(form.dataset.progress, { headers: { Accept: "application/json" } });
          if (answer.ok) {
            const state = await answer.json();
            if (state.total) { bar.max = state.total; bar.value = state.done; }
          }
        } catch (_error) { /* the next poll tries again */ }
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    };
    poll();
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
    })
      .then(async (answer) => {
        polling = false;
        if ((answer.headers.get("Content-Type") || "").startsWith("application/json")) {
          const done = await answer.json();
          if (done.location) {
            bar.value = bar.max;
            window.location.assign(done.location);
          } else {  // refused or failed: nothing was saved; the reason, and the button again
            const error = document.getElementById("import-error");
            error.textContent = done.message || "";
            error.hidden = false;
            box.hidden = true;
            button.disabled = false;
          }
          return;
        }
        // Anything else is a page to show (an error page, or the page a form sent twice went to).
        document.open(); document.write(await answer.text()); document.close();
      })
      .catch(() => { polling = false; form.submit(); });
  });
}
