// gradebook.js: the grid's keyboard entry. One POST per cell (with the CSRF token and the grade
// and version the cell showed); the answer is the cell and its row's average as the server has
// them. A 409 (someone changed the cell meanwhile) shows the server's value in the cell and
// says so: nothing the other person saved is overwritten. No framework, no CDN.
const table = document.getElementById("grid");
const status = document.getElementById("grid-status");

function columnOf(td) {
  return Array.prototype.indexOf.call(td.parentElement.children, td);
}

function assessmentOf(td) {
  return table.tHead.rows[0].cells[columnOf(td)].dataset.a;
}

function move(input, rows) {
  const td = input.parentElement;
  const tr = td.parentElement;
  const body = tr.parentElement;
  const next = body.rows[tr.sectionRowIndex + rows];
  if (!next) return;
  const target = next.cells[columnOf(td)].querySelector("input");
  if (target) {
    target.focus();
    target.select();
  }
}

function say(td, text) {
  let msg = td.querySelector(".msg");
  if (!text) {
    if (msg) msg.remove();
    return;
  }
  if (!msg) {
    msg = document.createElement("span");
    msg.className = "msg";
    msg.setAttribute("role", "alert");
    td.append(msg);
  }
  msg.textContent = text;
}

function apply(td, input, answer) {
  for (const s of td.querySelectorAll("s")) s.remove();
  for (const earlier of answer.earlier ?? []) {
    const s = document.createElement("s");
    if (earlier.counted) s.className = "c";
    s.textContent = earlier.value;
    td.insertBefore(s, input);
  }
  if (answer.grade) {
    input.dataset.g = answer.grade;
    input.dataset.v = answer.version;
  } else {
    delete input.dataset.g;
    delete input.dataset.v;
  }
  const avg = td.parentElement.querySelector(".avg");
  avg.textContent = answer.average ?? "";
  avg.title = answer.explanation ?? "";
}

async function save(input) {
  const td = input.parentElement;
  const text = input.value.trim();
  if (text === input.defaultValue || input.dataset.sending === text) return;
  input.dataset.sending = text;
  td.className = "saving";
  const form = new FormData();
  form.set("csrf_token", table.dataset.csrf);
  form.set("assessment", assessmentOf(td));
  form.set("pupil", td.parentElement.dataset.p);
  form.set("text", text);
  form.set("grade", input.dataset.g ?? "");
  form.set("version", input.dataset.v ?? "");
  let answer;
  let code;
  try {
    const response = await fetch(table.dataset.save, {
      method: "POST",
      body: form,
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    code = response.status;
    answer = await response.json().catch(() => null);
  } catch {
    code = 0; // no answer at all: the network
  }
  if (!answer) {
    // No answer, or not the cell's (an expired session or form: the site's error page).
    td.className = "refused";
    say(td, code ? status.dataset.failed : status.dataset.offline);
    delete input.dataset.sending;
    return;
  }
  delete input.dataset.sending;
  apply(td, input, answer);
  if (answer.ok) {
    input.value = answer.value;
    input.defaultValue = answer.value;
    td.className = "saved";
    say(td, "");
    return;
  }
  if (code === 409) {
    // The server's value now shows in the cell; the teacher's stays in the message.
    input.value = answer.value;
    input.defaultValue = answer.value;
    td.className = "conflict";
  } else {
    td.className = "refused";
  }
  say(td, answer.message);
}

table.addEventListener("keydown", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement)) return;
  if (event.key === "Enter") {
    event.preventDefault();
    save(input);
    move(input, event.shiftKey ? -1 : 1);
  } else if (event.key === "ArrowDown") {
    event.preventDefault();
    move(input, 1);
  } else if (event.key === "ArrowUp") {
    event.preventDefault();
    move(input, -1);
  } else if (event.key === "Escape") {
    input.value = input.defaultValue;
    say(input.parentElement, "");
  }
});

table.addEventListener("change", (event) => {
  if (event.target instanceof HTMLInputElement) save(event.target);
});

// The average's explanation on a tap (a title shows only on hover).
table.addEventListener("click", (event) => {
  const avg = event.target.closest?.(".avg");
  if (avg) status.textContent = avg.title;
});
