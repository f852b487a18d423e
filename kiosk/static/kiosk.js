// The kiosk screen. It keeps nothing outside this page's memory: the agent holds the teacher's
// session and the entries; a reload or a browser restart gets a new screen token and the lock screen.
(function () {
  "use strict";

  const token = document.querySelector('meta[name="kiosk-screen"]').content;
  const $ = (id) => document.getElementById(id);
  const S = {};
  $("strings").content.querySelectorAll("[data-k]").forEach((el) => { S[el.dataset.k] = el.textContent; });
  const fmt = (text, values) => text.replace(/\{(\w+)\}/g, (_, k) => (k in values ? values[k] : ""));

  let state = null;
  let roster = null;       // the open lesson's roster (from the agent)
  let rosterLesson = null; // its lesson id
  let draft = {};          // pupil id -> attendance code, until "Zapisz"
  let loading = false;
  let lastActivity = 0;
  let gradeFor = null, gradeValue = null, gradeMod = "", gradeCategory = null;
  let remarkFor = null, remarkKind = null;
  let pinTeacher = null;

  async function api(method, path, data) {
    const options = { method, headers: { "X-Kiosk-Screen": token }, cache: "no-store", credentials: "omit" };
    if (data !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(data);
    }
    const response = await fetch(path, options);
    let body = {};
    try { body = await response.json(); } catch (e) { body = {}; }
    if (!response.ok) {
      const error = new Error(body.message || body.error || String(response.status));
      error.code = body.error;
      error.status = response.status;
      throw error;
    }
    return body;
  }

  function show(id, visible) { $(id).hidden = !visible; }
  function say(id, text) { const el = $(id); el.textContent = text || ""; el.hidden = !text; }

  function time(iso) {
    return new Date(iso).toLocaleTimeString("pl-PL", { timeZone: "Europe/Warsaw", hour: "2-digit", minute: "2-digit" });
  }

  function lessonLine(lesson) {
    if (!lesson) return S.none;
    const parts = [lesson.subject, lesson["class"], lesson.teacher].filter(Boolean).join(", ");
    return time(lesson.starts_at) + "–" + time(lesson.ends_at) + " " + parts;
  }

  // -- activity: the agent locks after a few idle minutes ------------------------------------------
  function activity() {
    const now = Date.now();
    if (now - lastActivity < 1000 || !state || !state.session) return;
    lastActivity = now;
    api("POST", "/api/activity", {}).catch(() => {});
  }
  ["pointerdown", "keydown", "input"].forEach((name) => document.addEventListener(name, activity, true));

  // -- polling the agent ---------------------------------------------------------------------------
  async function poll() {
    try {
      render(await api("GET", "/api/state"));
    } catch (error) {
      if (error.status === 409) { render(null); return; } // another page took over: stay locked
    }
    setTimeout(poll, 1000);
  }

  function render(next) {
    state = next;
    const screen = next ? next.screen : "lock";
    ["lock", "lesson", "revoked", "unenrolled"].forEach((id) => show(id, id === screen));
    if (screen !== "lesson") forgetLesson();
    if (!next) return;
    $("room").textContent = next.room ? fmt(S.room, { room: next.room }) : "";
    $("school").textContent = next.school || "";
    $("clock").textContent = time(next.now);
    const link = $("link");
    link.textContent = S[next.connection] || next.connection;
    link.className = "link " + next.connection;
    link.dataset.state = next.connection;
    if (screen === "lock") renderLock(next);
    if (screen === "revoked") {
      $("revoked-message").textContent = next.revoked_message || S.revoked;
      $("revoked-queue").textContent = next.outbox.saved ? fmt(S.queue, { n: next.outbox.saved }) : "";
    }
    if (screen === "lesson") renderLesson(next.session);
  }

  function renderLock(s) {
    $("lesson-now").textContent = lessonLine(s.lesson_now);
    $("lesson-next").textContent = lessonLine(s.lesson_next);
    say("notice", s.notice);
    const queue = [];
    if (s.outbox.saved) queue.push(fmt(S.queue, { n: s.outbox.saved }));
    if (s.outbox.parked) queue.push(fmt(S.parkedq, { n: s.outbox.parked }));
    say("queue", queue.join(" · "));
    const box = $("pin-teachers");
    const ids = s.pin_teachers.map((t) => t.id).join(",");
    if (box.dataset.ids !== ids) {
      box.dataset.ids = ids;
      box.replaceChildren(...s.pin_teachers.map((teacher) => {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "chip big";
        button.textContent = teacher.name;
        button.addEventListener("click", () => {
          pinTeacher = teacher.id;
          $("pin-who").textContent = teacher.name;
          show("pin-form", true);
          say("pin-error", "");
          $("pin").value = "";
          $("pin").focus();
        });
        return button;
      }));
      if (!s.pin_teachers.some((t) => t.id === pinTeacher)) { pinTeacher = null; show("pin-form", false); }
    }
    show("pin-card", s.pin_teachers.length > 0);
  }

  function forgetLesson() {
    // Locked: nothing of the lesson stays on the page.
    roster = null; rosterLesson = null; draft = {};
    $("roster").replaceChildren();
    $("entries").replaceChildren();
    $("parked").replaceChildren();
    $("topic").value = "";
    $("lesson-title").textContent = "";
    $("lesson-teacher").textContent = "";
    ["grade-dialog", "remark-dialog"].forEach((id) => { if ($(id).open) $(id).close(); });
  }

  function renderLesson(session) {
    $("lesson-teacher").textContent = session.teacher;
    show("offline-mode", session.mode !== "online");
    const pick = $("lesson-pick");
    const key = session.lessons.map((l) => l.id).join(",") + "/" + session.lesson_id;
    if (pick.dataset.key !== key) {
      pick.dataset.key = key;
      const head = new Option(S.pick, "");
      head.disabled = true;
      pick.replaceChildren(head, ...session.lessons.map((l) => {
        // A lesson in another room opens only at that room's kiosk: listed, not selectable.
        const option = new Option(lessonLine(l) + (l.room ? " (" + fmt(S.room, { room: l.room }) + ")" : ""), l.id);
        option.disabled = !l.here || l.status === "cancelled";
        return option;
      }));
      pick.value = session.lesson_id === null ? "" : String(session.lesson_id);
    }
    show("no-lesson", session.lesson_id === null);
    if (session.lesson_id === null) { show("roll", false); }
    else if (session.lesson_id !== rosterLesson && !loading) { loadLesson(session.lesson_id); }
    renderEntries($("entries"), session.entries);
    renderEntries($("parked"), session.parked);
    show("parked-box", session.parked.length > 0);
    $("parked-title").textContent = fmt(S.parkedq, { n: session.parked.length });
  }

  function renderEntries(list, entries) {
    list.replaceChildren(...entries.slice().reverse().map((entry) => {
      const li = document.createElement("li");
      li.className = "entry " + entry.state;
      li.dataset.key = entry.key;
      li.dataset.state = entry.state;
      const what = document.createElement("span");
      what.className = "what";
      what.textContent = time(entry.created_at) + " " + entry.summary;
      const where = document.createElement("span");
      where.className = "where-state";
      where.textContent = S[entry.state] + (entry.refusal ? ": " + entry.refusal : "")
        + (entry.conflicts ? " · " + fmt(S.conflicts, { n: entry.conflicts }) : "");
      li.append(what, where);
      return li;
    }));
  }

  async function loadLesson(lessonId) {
    loading = true;
    try {
      const data = await api("POST", "/api/lesson", { lesson_id: lessonId });
      roster = data;
      rosterLesson = lessonId;
      const fallback = data.default_code || (data.types[0] && data.types[0].code);
      draft = {};
      data.pupils.forEach((p) => { draft[p.id] = (data.attendance && data.attendance[p.id]) || fallback; });
      $("lesson-title").textContent = lessonLine(data.lesson);
      $("topic").value = (data.lesson && data.lesson.topic) || "";
      say("lesson-error", "");
      drawRoster();
      show("roll", true);
      $("topic").focus();
    } catch (error) {
      say("lesson-error", error.message);
      rosterLesson = lessonId;
    } finally {
      loading = false;
    }
  }

  function typeOf(code) { return roster.types.find((t) => t.code === code) || { code, name: code }; }

  function drawRoster() {
    $("roster").replaceChildren(...roster.pupils.map((pupil, index) => {
      const li = document.createElement("li");
      li.className = "pupil";
      li.dataset.pupil = pupil.id;
      const tap = document.createElement("button");
      tap.type = "button";
      tap.className = "mark";
      tap.dataset.role = "cycle";
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = (index + 1) + ". " + pupil.name;
      const badge = document.createElement("span");
      badge.className = "badge";
      tap.append(name, badge);
      tap.addEventListener("click", () => {
        const codes = roster.types.map((t) => t.code);
        draft[pupil.id] = codes[(codes.indexOf(draft[pupil.id]) + 1) % codes.length];
        paint(li, pupil.id);
      });
      const grade = document.createElement("button");
      grade.type = "button";
      grade.className = "side";
      grade.dataset.role = "grade";
      grade.textContent = S.grade;
      grade.addEventListener("click", () => openGrade(pupil));
      const remark = document.createElement("button");
      remark.type = "button";
      remark.className = "side";
      remark.dataset.role = "remark";
      remark.textContent = S.remark;
      remark.addEventListener("click", () => openRemark(pupil));
      li.append(tap, grade, remark);
      paint(li, pupil.id);
      return li;
    }));
  }

  function paint(li, pupilId) {
    const type = typeOf(draft[pupilId]);
    li.dataset.state = type.code;
    li.querySelector(".badge").textContent = type.name;
  }

  async function saveRoll() {
    if (!roster) return;
    const button = $("save-roll");
    button.disabled = true;
    try {
      await api("POST", "/api/roll", { lesson_id: rosterLesson, states: draft, topic: $("topic").value });
      say("lesson-error", "");
    } catch (error) {
      say("lesson-error", error.message);
    } finally {
      button.disabled = false;
    }
  }

  // -- grade and remark dialogs --------------------------------------------------------------------
  function chips(container, attribute, value) {
    container.querySelectorAll(".chip").forEach((chip) => chip.classList.toggle("selected", chip.dataset[attribute] === value));
  }

  function openGrade(pupil) {
    gradeFor = pupil; gradeValue = null; gradeMod = "";
    const dialog = $("grade-dialog");
    dialog.querySelector(".pupil-name").textContent = pupil.name;
    const box = $("grade-categories");
    box.replaceChildren(...roster.categories.map((category) => {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "chip";
      chip.dataset.category = String(category.id);
      chip.textContent = category.name;
      chip.addEventListener("click", () => { gradeCategory = category.id; chips(box, "category", String(category.id)); });
      return chip;
    }));
    if (!roster.categories.some((c) => c.id === gradeCategory)) gradeCategory = roster.categories.length ? roster.categories[0].id : null;
    chips(box, "category", String(gradeCategory));
    chips($("grade-values"), "value", null);
    chips($("grade-modifiers"), "mod", "");
    $("grade-description").value = "";
    say("grade-error", "");
    dialog.showModal();
  }

  $("grade-values").addEventListener("click", (event) => {
    const chip = event.target.closest(".chip");
    if (!chip) return;
    gradeValue = chip.dataset.value;
    chips($("grade-values"), "value", gradeValue);
  });
  $("grade-modifiers").addEventListener("click", (event) => {
    const chip = event.target.closest(".chip");
    if (!chip) return;
    gradeMod = chip.dataset.mod;
    chips($("grade-modifiers"), "mod", gradeMod);
  });
  $("grade-save").addEventListener("click", async () => {
    if (!gradeValue) { say("grade-error", S.choose); return; }
    const value = /^[1-6]$/.test(gradeValue) ? gradeValue + gradeMod : gradeValue;
    try {
      await api("POST", "/api/grade", {
        lesson_id: rosterLesson, pupil_id: gradeFor.id, category_id: gradeCategory,
        value, description: $("grade-description").value,
      });
      $("grade-dialog").close();
    } catch (error) { say("grade-error", error.message); }
  });

  function openRemark(pupil) {
    remarkFor = pupil; remarkKind = null;
    const dialog = $("remark-dialog");
    dialog.querySelector(".pupil-name").textContent = pupil.name;
    chips($("remark-kinds"), "kind", null);
    $("remark-text").value = "";
    say("remark-error", "");
    dialog.showModal();
    $("remark-text").focus();
  }
  $("remark-kinds").addEventListener("click", (event) => {
    const chip = event.target.closest(".chip");
    if (!chip) return;
    remarkKind = chip.dataset.kind;
    chips($("remark-kinds"), "kind", remarkKind);
    $("remark-text").focus();
  });
  $("remark-save").addEventListener("click", async () => {
    if (!remarkKind) { say("remark-error", S.choosekind); return; }
    try {
      await api("POST", "/api/remark", { lesson_id: rosterLesson, pupil_id: remarkFor.id, kind: remarkKind, text: $("remark-text").value });
      $("remark-dialog").close();
    } catch (error) { say("remark-error", error.message); }
  });
  document.querySelectorAll("dialog .cancel").forEach((button) => button.addEventListener("click", () => button.closest("dialog").close()));

  // -- the rest of the controls --------------------------------------------------------------------
  $("save-roll").addEventListener("click", saveRoll);
  [["lock-now", "/api/lock"], ["end-day", "/api/end-day"]].forEach(([id, path]) => {
    $(id).addEventListener("click", async () => {
      forgetLesson();
      try { await api("POST", path, {}); } catch (e) { /* locked anyway on the next poll */ }
      render(await api("GET", "/api/state").catch(() => null));
    });
  });
  $("lesson-pick").addEventListener("change", async (event) => {
    const id = Number(event.target.value);
    if (!id) return;
    rosterLesson = null;
    loading = true;
    try { await api("POST", "/api/lesson", { lesson_id: id }); } catch (error) { say("lesson-error", error.message); }
    loading = false;
    render(await api("GET", "/api/state").catch(() => null));
  });

  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const login = $("login").value, password = $("password").value, pin = $("new-pin").value;
    $("password").value = "";
    $("new-pin").value = "";
    if (pin && !/^[0-9]{4,8}$/.test(pin)) { say("login-error", S.pinlen); return; }
    try {
      await api("POST", "/api/login", { login, password, pin });
      $("login").value = "";
      say("login-error", "");
      render(await api("GET", "/api/state"));
    } catch (error) { say("login-error", error.message); }
  });

  $("pin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const pin = $("pin").value;
    $("pin").value = "";
    try {
      await api("POST", "/api/unlock", { teacher_id: pinTeacher, pin });
      say("pin-error", "");
      show("pin-form", false);
      render(await api("GET", "/api/state"));
    } catch (error) { say("pin-error", error.message); }
  });

  poll();
})();
