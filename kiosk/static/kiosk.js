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
  // The roll: what the agent says the screen shows (the server's states with this kiosk's
  // unsent rolls on top), and the teacher's draft over it. A pupil's base is the value shown
  // before the teacher's first tap on them; the roll names only changed pupils, with their
  // bases, and the server applies each change only where it still has the base.
  let shown = {};          // pupil id -> code or null (nothing recorded: the default is shown)
  let shownTopic = null;
  let draft = {};          // pupil id -> code the teacher chose, until "Zapisz"
  let base = {};           // pupil id -> what was shown before the first tap
  let topicBase;           // the topic shown when the teacher started typing (undefined: untouched)
  let rollKey = null;      // one key per unsaved draft: the teacher's intent (docs/protocol.md)
  let loading = false;
  let lastActivity = 0;
  let gradeFor = null, gradeValue = null, gradeMod = "", gradeCategory = null, gradeKey = null;
  // A grade of the pupil's tapped in the dialog (null: a new grade), and what to do with it.
  let gradeTarget = null, gradeMode = null;
  let remarkFor = null, remarkKind = null, remarkKey = null;
  // A test or homework announced (issue 18): the kind, the lesson's date, one key per dialog.
  let homeworkKind = "test", homeworkDate = null, homeworkKey = null, homeworkDates = [];
  let pinTeacher = null;

  const newKey = () => crypto.randomUUID();

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
    roster = null; rosterLesson = null; draft = {}; base = {}; shown = {}; shownTopic = null;
    topicBase = undefined; rollKey = null;
    $("roster").replaceChildren();
    $("entries").replaceChildren();
    $("parked").replaceChildren();
    $("topic").value = "";
    $("lesson-title").textContent = "";
    $("lesson-teacher").textContent = "";
    ["grade-dialog", "remark-dialog", "homework-dialog"].forEach((id) => { if ($(id).open) $(id).close(); });
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
    else if (roster && session.roster && session.roster.lesson_id === rosterLesson) { follow(session.roster); }
    renderEntries($("entries"), session.entries);
    renderEntries($("parked"), session.parked);
    show("parked-box", session.parked.length > 0);
    $("parked-title").textContent = fmt(S.parkedq, { n: session.parked.length });
  }

  function renderEntries(list, entries) {
    const signature = JSON.stringify(entries);
    if (list.dataset.signature === signature) return; // unchanged: keep the buttons under the finger
    list.dataset.signature = signature;
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
      where.textContent = S[entry.state] + (entry.refusal ? ": " + entry.refusal : "");
      li.append(what, where);
      if (entry.conflicts.length) li.append(conflictList(entry));
      return li;
    }));
  }

  // A change the server kept because someone else had changed the value meanwhile: both values,
  // who made the other change, and one tap to keep theirs or to apply the teacher's.
  function conflictList(entry) {
    const ul = document.createElement("ul");
    ul.className = "conflicts";
    entry.conflicts.forEach((c) => {
      const li = document.createElement("li");
      li.className = "conflict";
      li.dataset.item = c.item;
      const text = document.createElement("span");
      text.textContent = fmt(S.conflict, { what: c.what, wanted: c.wanted, server: c.server, by: c.by, at: c.at, channel: c.channel });
      li.append(text);
      if (c.decision) {
        const done = document.createElement("span");
        done.className = "decided";
        done.textContent = c.decision === "mine" ? S.decidedmine : S.decidedkeep;
        li.append(done);
      } else {
        [["keep", fmt(S.keep, { server: c.server })], ["mine", fmt(S.mine, { wanted: c.wanted })]].forEach(([decision, label]) => {
          const button = document.createElement("button");
          button.type = "button";
          button.className = "chip decide";
          button.dataset.decision = decision;
          button.textContent = label;
          button.addEventListener("click", async () => {
            ul.querySelectorAll("button").forEach((b) => { b.disabled = true; });
            try {
              await api("POST", "/api/conflict", { key: entry.key, item: c.item, decision });
            } catch (error) { say("lesson-error", error.message); }
            render(await api("GET", "/api/state").catch(() => null));
          });
          li.append(button);
        });
      }
      ul.append(li);
    });
    return ul;
  }

  async function loadLesson(lessonId) {
    loading = true;
    try {
      const data = await api("POST", "/api/lesson", { lesson_id: lessonId });
      roster = data;
      rosterLesson = lessonId;
      draft = {}; base = {}; topicBase = undefined; rollKey = null;
      shown = {};
      data.pupils.forEach((p) => { shown[p.id] = (data.attendance && data.attendance[p.id]) || null; });
      shownTopic = data.topic || null;
      $("lesson-title").textContent = lessonLine(data.lesson);
      $("topic").value = shownTopic || "";
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

  // A pupil with nothing recorded shows the server's default state; a school without one shows
  // a dash (the server names the default, the agent never guesses it: docs/protocol.md, roster).
  function typeOf(code) {
    if (code === null) return { code: "", name: "—" };
    return roster.types.find((t) => t.code === code) || { code, name: code };
  }
  function fallback() { return roster.default_code || null; }
  function displayed(pupilId) { return pupilId in draft ? draft[pupilId] : (shown[pupilId] || fallback()); }

  // The agent's view of the roster changed (a change made elsewhere, an acknowledgement): redraw
  // the pupils the teacher has not touched; a draft keeps its base, so the server will report a
  // conflict instead of overwriting the other change.
  function follow(view) {
    let changed = false;
    roster.pupils.forEach((p) => {
      const code = (view.attendance && view.attendance[p.id]) || null;
      if (shown[p.id] !== code) { shown[p.id] = code; changed = true; }
    });
    if (changed) {
      document.querySelectorAll("#roster li.pupil").forEach((li) => paint(li, Number(li.dataset.pupil)));
    }
    shownTopic = view.topic || null;
    if (topicBase === undefined && $("topic").value !== (shownTopic || "")) $("topic").value = shownTopic || "";
  }

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
        if (!(pupil.id in draft)) base[pupil.id] = shown[pupil.id];
        draft[pupil.id] = codes[(codes.indexOf(displayed(pupil.id)) + 1) % codes.length];
        rollKey = rollKey || newKey();
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
    const type = typeOf(displayed(pupilId));
    li.dataset.state = type.code;
    li.dataset.touched = String(pupilId in draft);
    li.querySelector(".badge").textContent = type.name;
  }

  async function saveRoll() {
    if (!roster) return;
    const button = $("save-roll");
    if (button.disabled) return; // a save is in flight
    button.disabled = true;
    const states = {}, bases = {};
    Object.keys(draft).forEach((id) => {
      if (draft[id] !== (base[id] || fallback())) { states[id] = draft[id]; bases[id] = base[id]; }
    });
    const data = { lesson_id: rosterLesson, states, base: bases, key: rollKey || newKey() };
    const typed = $("topic").value.trim();
    if (topicBase !== undefined && typed !== (topicBase || "")) {
      data.topic = typed;
      data.base_topic = topicBase;
    }
    try {
      const saved = await api("POST", "/api/roll", data);
      say("lesson-error", "");
      // Saved on this computer: the draft of what was sent is done; a tap made meanwhile stays.
      Object.keys(states).forEach((id) => { if (draft[id] === states[id]) { delete draft[id]; delete base[id]; } });
      Object.keys(draft).forEach((id) => { if (draft[id] === (base[id] || fallback())) { delete draft[id]; delete base[id]; } });
      if ($("topic").value.trim() === typed) topicBase = undefined;
      rollKey = Object.keys(draft).length || topicBase !== undefined ? newKey() : null;
      follow({ attendance: saved.attendance, topic: saved.topic });
      document.querySelectorAll("#roster li.pupil").forEach((li) => paint(li, Number(li.dataset.pupil)));
    } catch (error) {
      if (error.code === "key_reused") rollKey = newKey();
      say("lesson-error", error.message);
    } finally {
      button.disabled = false;
    }
  }

  // -- grade and remark dialogs --------------------------------------------------------------------
  function chips(container, attribute, value) {
    container.querySelectorAll(".chip").forEach((chip) => chip.classList.toggle("selected", chip.dataset[attribute] === value));
  }

  async function openGrade(pupil) {
    gradeFor = pupil; gradeValue = null; gradeMod = ""; gradeKey = newKey();
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
    $("grade-descriptive").value = "";
    show("grade-descriptive-box", false);
    say("grade-error", "");
    target(null);
    // The pupil's grades first (local, a few ms), so that nothing moves under the finger.
    let listed = [];
    try {
      listed = (await api("POST", "/api/grades", { lesson_id: rosterLesson, pupil_id: pupil.id })).grades;
    } catch (error) { listed = []; }
    if (gradeFor !== pupil) return;
    $("grade-existing").replaceChildren(...listed.map((grade) => {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "chip" + (grade.mine ? " mine" : "");
      chip.dataset.grade = String(grade.id);
      chip.textContent = grade.value || S.descriptive;
      if (grade.descriptive) chip.title = grade.descriptive;
      chip.addEventListener("click", () => target(gradeTarget && gradeTarget.id === grade.id ? null : grade));
      return chip;
    }));
    show("grade-existing-box", listed.length > 0);
    if (!dialog.open) dialog.showModal();
  }

  // A tapped grade: today's own grade is most likely a slip (a correction), an earlier one a
  // poprawa; another teacher's grade can only be improved. The mode is one tap to change.
  function target(grade) {
    gradeTarget = grade;
    gradeMode = grade ? (grade.mine && grade.today ? "correct" : "improve") : null;
    chips($("grade-existing"), "grade", grade ? String(grade.id) : null);
    show("grade-modes", Boolean(grade));
    if (grade) {
      $("grade-modes").querySelector("[data-mode=correct]").hidden = !grade.mine;
      $("grade-remove").hidden = !grade.mine;
    }
    chips($("grade-modes"), "mode", gradeMode);
  }
  $("grade-modes").addEventListener("click", (event) => {
    const chip = event.target.closest(".chip");
    if (!chip) return;
    gradeMode = chip.dataset.mode;
    chips($("grade-modes"), "mode", gradeMode);
  });
  $("grade-remove").addEventListener("click", () => saving($("grade-remove"), async () => {
    if (!gradeTarget) return;
    try {
      await api("POST", "/api/grade/remove", { lesson_id: rosterLesson, grade_id: gradeTarget.id, key: gradeKey });
      $("grade-dialog").close();
    } catch (error) {
      if (error.code === "key_reused") gradeKey = newKey();
      say("grade-error", error.message);
    }
  }));

  $("grade-values").addEventListener("click", (event) => {
    const chip = event.target.closest(".chip");
    if (!chip) return;
    gradeValue = chip.dataset.value;
    chips($("grade-values"), "value", gradeValue);
    show("grade-descriptive-box", gradeValue === "descriptive");
    if (gradeValue === "descriptive") $("grade-descriptive").focus();
  });
  $("grade-modifiers").addEventListener("click", (event) => {
    const chip = event.target.closest(".chip");
    if (!chip) return;
    gradeMod = chip.dataset.mod;
    chips($("grade-modifiers"), "mod", gradeMod);
  });
  // One opened dialog is one intent, one key: a second tap (or a repeated request) on "Zapisz"
  // finds the entry already stored under it. The button also waits for the first save.
  async function saving(button, work) {
    if (button.disabled) return;
    button.disabled = true;
    try { await work(); } finally { button.disabled = false; }
  }
  $("grade-save").addEventListener("click", () => saving($("grade-save"), async () => {
    if (!gradeValue) { say("grade-error", S.choose); return; }
    const descriptive = gradeValue === "descriptive" ? $("grade-descriptive").value.trim() : null;
    if (descriptive === "") { say("grade-error", S.nodescriptive); return; }
    const value = descriptive !== null ? "" : /^[1-6]$/.test(gradeValue) ? gradeValue + gradeMod : gradeValue;
    const body = {
      lesson_id: rosterLesson, category_id: gradeCategory, value, descriptive,
      description: $("grade-description").value, key: gradeKey,
    };
    try {
      if (gradeTarget && gradeMode === "correct") {
        await api("POST", "/api/grade/correct", { ...body, grade_id: gradeTarget.id });
      } else {
        await api("POST", "/api/grade", {
          ...body, pupil_id: gradeFor.id, improves_id: gradeTarget ? gradeTarget.id : null,
        });
      }
      $("grade-dialog").close();
    } catch (error) {
      if (error.code === "key_reused") gradeKey = newKey();
      say("grade-error", error.message);
    }
  }));

  function openRemark(pupil) {
    remarkFor = pupil; remarkKind = null; remarkKey = newKey();
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
  $("remark-save").addEventListener("click", () => saving($("remark-save"), async () => {
    if (!remarkKind) { say("remark-error", S.choosekind); return; }
    try {
      await api("POST", "/api/remark", { lesson_id: rosterLesson, pupil_id: remarkFor.id, kind: remarkKind, text: $("remark-text").value, key: remarkKey });
      $("remark-dialog").close();
    } catch (error) {
      if (error.code === "key_reused") remarkKey = newKey();
      say("remark-error", error.message);
    }
  }));
  // -- a test or homework: the kind (a test by default), a day of the class's coming lessons
  // (the server's warnings marked on it), the text, "Zapisz"; over the statute's limit the
  // dialog shows the warning and "Zapisz mimo to".
  function drawHomeworkDates() {
    const box = $("homework-dates");
    box.replaceChildren(...homeworkDates.map((item) => {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "chip" + (item.date === homeworkDate ? " selected" : "");
      chip.dataset.date = item.date;
      const day = new Date(item.date + "T12:00:00Z").toLocaleDateString("pl-PL", { weekday: "short", day: "numeric", month: "numeric", timeZone: "UTC" });
      const warned = homeworkKind === "test" && item.test_warnings.length > 0;
      chip.textContent = day + (warned ? " · " + S.warned : "");
      if (warned) chip.classList.add("warned");
      return chip;
    }));
  }
  function homeworkWarning(text) {
    $("homework-warning-text").textContent = text || "";
    show("homework-warning", Boolean(text));
  }
  $("homework-open").addEventListener("click", async () => {
    if (!rosterLesson) return;
    homeworkKind = "test"; homeworkDate = null; homeworkKey = newKey(); homeworkDates = [];
    chips($("homework-kinds"), "kind", homeworkKind);
    $("homework-text").value = "";
    $("homework-due").value = "";
    show("homework-due-box", false);
    homeworkWarning("");
    say("homework-error", "");
    drawHomeworkDates();
    $("homework-dialog").showModal();
    try {
      homeworkDates = (await api("POST", "/api/homework/dates", { lesson_id: rosterLesson })).lessons;
      drawHomeworkDates();
    } catch (error) { say("homework-error", error.message); }
  });
  $("homework-kinds").addEventListener("click", (event) => {
    const chip = event.target.closest(".chip");
    if (!chip) return;
    homeworkKind = chip.dataset.kind;
    chips($("homework-kinds"), "kind", homeworkKind);
    show("homework-due-box", homeworkKind === "homework");
    homeworkWarning("");
    drawHomeworkDates();
  });
  $("homework-dates").addEventListener("click", (event) => {
    const chip = event.target.closest(".chip");
    if (!chip) return;
    homeworkDate = chip.dataset.date;
    homeworkWarning("");
    drawHomeworkDates();
    $("homework-text").focus();
  });
  async function announce(confirm) {
    if (!homeworkDate) { say("homework-error", S.nodate); return; }
    try {
      await api("POST", "/api/homework", {
        lesson_id: rosterLesson, kind: homeworkKind, date: homeworkDate,
        description: $("homework-text").value, due_date: $("homework-due").value || null,
        confirm, key: homeworkKey,
      });
      $("homework-dialog").close();
    } catch (error) {
      if (error.code === "test_limit") { say("homework-error", ""); homeworkWarning(error.message); return; }
      if (error.code === "key_reused") homeworkKey = newKey();
      say("homework-error", error.message);
    }
  }
  $("homework-save").addEventListener("click", () => saving($("homework-save"), () => announce(false)));
  $("homework-confirm").addEventListener("click", () => saving($("homework-confirm"), () => announce(true)));

  document.querySelectorAll("dialog .cancel").forEach((button) => button.addEventListener("click", () => button.closest("dialog").close()));

  // -- the rest of the controls --------------------------------------------------------------------
  $("save-roll").addEventListener("click", saveRoll);
  $("topic").addEventListener("input", () => {
    if (topicBase === undefined) topicBase = shownTopic;
    rollKey = rollKey || newKey();
  });
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
