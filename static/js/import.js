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
    fetch(form.action, { method: "POST", body: new FormData(form) })
      .then(async (answer) => {
        polling = false;
        if (answer.redirected) { bar.value = bar.max; window.location.assign(answer.url); return; }
        document.open(); document.write(await answer.text()); document.close();  // the error page
      })
      .catch(() => { polling = false; form.submit(); });
  });
}
