// The waiting room of an online consultation (templates/consultations/waiting_room.html), live.
//
// Without this module the page already works: the patient presses "Let the
// doctor know I'm here", the doctor presses "Admit and start", and reloading
// shows the latest state. With it:
//   - a countdown to the start;
//   - every few seconds the page tells the server "I am here" (a POST to the
//     presence URL with the CSRF token in a header) and shows, in a polite
//     live region, whether the other person is here too;
//   - the patient's page waits quietly until the room opens, then joins; once
//     the doctor admits them it says so and moves to the consultation page;
//   - the doctor's "Admit and start" button enables itself when starting is
//     allowed (the server checks again).
//
// Wiring, by data-* attributes only:
//   [data-waiting-room]   data-role (patient|doctor), data-other-name, data-presence-url,
//                         data-status, data-starts-at, data-opens-at, data-start-from (ISO),
//                         data-poll-seconds
//   [data-countdown]      the countdown line (role=timer, not announced)
//   [data-presence]       the live region; [data-presence-box] gets --here when the other is here
//   [data-admitted]       shown when the doctor has admitted the patient; [data-room-link] inside
//   [data-here-form]      the no-JavaScript "I'm here" button, hidden here
//   [data-admit]          the doctor's button; [data-admit-hint] says when it enables
//   [data-not-open]       the patient's "opens at" note, removed once the room opens

const root = document.querySelector("[data-waiting-room]");

const ADMITTED_MOVE_MS = 3000;
const ENDED = ["completed", "cancelled", "no_show"];

function csrfToken(scope) {
  const input = scope.querySelector("input[name=csrfmiddlewaretoken]");
  if (input) return input.value;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

function timeLeft(ms) {
  const seconds = Math.ceil(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, "0")} min`;
  if (m > 0) return `${m} min ${String(s).padStart(2, "0")} s`;
  return `${s} s`;
}

if (root) {
  const role = root.dataset.role;
  const other = root.dataset.otherName || (role === "patient" ? "Your doctor" : "Your patient");
  const url = root.dataset.presenceUrl;
  const startsAt = Date.parse(root.dataset.startsAt);
  const opensAt = Date.parse(root.dataset.opensAt);
  const startFrom = Date.parse(root.dataset.startFrom || "");
  const pollMs = Math.max(2, Number(root.dataset.pollSeconds) || 5) * 1000;

  const countdown = root.querySelector("[data-countdown]");
  const presence = root.querySelector("[data-presence]");
  const box = root.querySelector("[data-presence-box]");
  const admitted = root.querySelector("[data-admitted]");
  const roomLink = root.querySelector("[data-room-link]");
  const hereForm = root.querySelector("[data-here-form]");
  const admit = root.querySelector("[data-admit]");
  const admitHint = root.querySelector("[data-admit-hint]");
  const token = csrfToken(root);

  let status = root.dataset.status;
  let stopped = false;

  if (hereForm) hereForm.hidden = true;

  const say = (text) => {
    if (presence && presence.textContent !== text) presence.textContent = text;
  };

  const tick = () => {
    const now = Date.now();
    if (countdown) {
      if (status === "in_progress") countdown.textContent = "Started";
      else if (startsAt > now) countdown.textContent = `Starts in ${timeLeft(startsAt - now)}`;
      else countdown.textContent = "Starting now";
    }
    if (admit && admit.disabled && Number.isFinite(startFrom) && now >= startFrom) {
      admit.disabled = false;
      admit.removeAttribute("aria-describedby");
      admitHint?.remove();
    }
    if (role === "patient" && now >= opensAt) root.querySelector("[data-not-open]")?.remove();
  };

  const show = (data) => {
    status = data.status;
    tick();
    if (status === "in_progress") {
      stopped = true;
      if (role === "patient") {
        say(`${other} has admitted you. Taking you to the consultation…`);
        if (admitted) admitted.hidden = false;
        if (roomLink && data.room_url) roomLink.href = data.room_url;
        window.setTimeout(() => window.location.assign(data.room_url || data.detail_url), ADMITTED_MOVE_MS);
      } else {
        say("The consultation has started.");
      }
      return;
    }
    if (ENDED.includes(status)) {
      stopped = true;
      say(data.message || `This consultation is ${String(data.status_label).toLowerCase()}.`);
      window.location.assign(data.detail_url);
      return;
    }
    const here = role === "patient" ? data.doctor_present : data.patient_present;
    box?.classList.toggle("wait__status--here", Boolean(here));
    if (role === "patient") say(here ? `${other} has joined and will admit you shortly.` : `${other} has not joined yet.`);
    else say(here ? `${other} is waiting.` : `${other} has not arrived yet.`);
  };

  const beat = async () => {
    if (stopped) return;
    if (role === "patient" && Date.now() < opensAt) {
      // Not open yet: the server would refuse. Look again when it opens.
      window.setTimeout(beat, Math.min(pollMs, opensAt - Date.now() + 250));
      return;
    }
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "X-CSRFToken": token, Accept: "application/json" },
        credentials: "same-origin",
      });
      const type = response.headers.get("content-type") || "";
      if (response.redirected || !type.includes("application/json")) {
        // Signed out (the sign-in page answered) or the page is gone: reload to show why.
        window.location.reload();
        return;
      }
      const data = await response.json();
      if (response.status === 409) say(data.error);
      else if (response.ok) show(data);
    } catch {
      say("The connection dropped. Trying again…");
    }
    if (!stopped) window.setTimeout(beat, pollMs);
  };

  tick();
  window.setInterval(tick, 1000);
  beat();
}
