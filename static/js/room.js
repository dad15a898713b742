// The consultation room (templates/consultations/room.html), live over the
// websocket whose protocol consultations/protocol.py documents.
//
// Without this module the page already works: the history is a plain list
// with an "Older messages" link, the composer and the file form POST and come
// back. With it:
//   - messages arrive and leave over the socket; a sent one shows as
//     "Sending…" until the server echoes it back with its client_id;
//   - ticks (sent, delivered, read) follow the `receipt` frames; the other
//     party's messages are reported read once they are on screen while the
//     page is visible;
//   - "… is typing", and whether the other person is online;
//   - older messages load when the top of the list scrolls into view;
//   - a dropped socket shows an offline banner and reconnects with
//     exponential back-off and jitter, then asks for what it missed
//     (`resync` after the last id it has); nothing is shown twice;
//   - files upload with a progress bar and appear as an image or a file card.
//
// Every piece of text a person wrote is inserted with textContent.
//
// Wiring, by data-* attributes only:
//   [data-room]           data-user, data-zone (IANA), data-other-name, data-ws-path, data-writable, data-has-more,
//                         data-live (false when showing an older page without JS cursor),
//                         data-attachment-url, data-file-{view,thumbnail,download}-url (FILE_ID placeholder)
//   [data-log]            the scrolling list region; [data-messages] the <ol>; [data-older] the no-JS link
//   [data-presence]       "online"/"offline"; [data-typing] the typing line
//   [data-offline]        the offline banner; [data-room-alert] refusals and errors
//   [data-composer]       the message form, [data-body] its textarea
//   [data-attach-form]    the file form: [data-attach-input], [data-attach-submit], [data-upload-progress]
//   [data-readonly]       the read-only note; [data-composer-box] hidden when the room closes

const root = document.querySelector("[data-room]");

const BACKOFF_BASE_MS = 1000;
const BACKOFF_MAX_MS = 30000;
// A socket that stayed up this long was healthy: the next drop starts the back-off again.
const STABLE_MS = 10000;
const TYPING_SEND_EVERY_MS = 3000;
const TYPING_IDLE_MS = 4000;
const TYPING_SHOWN_MS = 6000;
const READ_FLUSH_MS = 300;
const CLOSE_SIGNED_OUT = 4401;
const CLOSE_NOT_FOUND = 4404;

function newClientId() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

function csrfToken(scope) {
  const input = scope.querySelector("input[name=csrfmiddlewaretoken]");
  if (input) return input.value;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

// Times in the zone the person chose in their account (the page's data-zone),
// as the server-rendered history shows them; the device's zone if unknown.
function clock(iso, zone) {
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return "";
  const options = zone ? { timeZone: zone } : {};
  try {
    const day = (d) => d.toLocaleDateString("en-IN", { ...options, day: "numeric", month: "short" });
    const time = when.toLocaleTimeString("en-IN", { ...options, hour: "numeric", minute: "2-digit" });
    return day(when) === day(new Date()) ? time : `${day(when)}, ${time}`;
  } catch {
    return when.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
  }
}

function fileSize(bytes) {
  if (!Number.isFinite(bytes)) return "";
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const TICKS = { sent: "✓ Sent", delivered: "✓✓ Delivered", read: "✓✓ Read" };
const STATUS_WORDS = { completed: "completed", cancelled: "cancelled", no_show: "no-show", requested: "requested" };
const TICK_ORDER = { pending: 0, sent: 1, delivered: 2, read: 3 };

if (root) {
  const me = root.dataset.user;
  const otherName = root.dataset.otherName || "The other person";
  const log = root.querySelector("[data-log]");
  const list = root.querySelector("[data-messages]");
  const presence = root.querySelector("[data-presence]");
  const typingLine = root.querySelector("[data-typing]");
  const offline = root.querySelector("[data-offline]");
  const alertBox = root.querySelector("[data-room-alert]");
  const composer = root.querySelector("[data-composer]");
  const body = root.querySelector("[data-body]");
  const attachForm = root.querySelector("[data-attach-form]");
  const attachInput = root.querySelector("[data-attach-input]");
  const attachSubmit = root.querySelector("[data-attach-submit]");
  const progress = root.querySelector("[data-upload-progress]");
  const readonlyNote = root.querySelector("[data-readonly]");
  const composerBox = root.querySelector("[data-composer-box]");
  const fileUrl = (kind, id) => (root.dataset[`file${kind}Url`] || "").replace("FILE_ID", encodeURIComponent(id));

  // Showing an older page (?before=): the no-JS reading mode, left alone.
  const live = root.dataset.live !== "false";
  if (live) root.classList.add("room--scripted");

  let socket = null;
  let attempt = 0;
  let openedAt = 0;
  // Counts sockets opened: a pending message remembers the socket it went out on.
  let generation = 0;
  let retryTimer = null;
  let stopped = false;
  let writable = root.dataset.writable === "true";
  let hasMore = root.dataset.hasMore === "true";
  let loadingOlder = false;
  let typingSentAt = 0;
  let typingIdleTimer = null;
  let typingShownTimer = null;
  let lastReadSent = null;
  let readCandidate = null;
  let readTimer = null;

  const byId = new Map(); // message id -> <li>
  const pending = new Map(); // client_id -> {li, text, generation}

  const alertWith = (text) => {
    alertBox.textContent = text;
    alertBox.hidden = !text;
  };

  const atBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 48;
  const toBottom = () => {
    log.scrollTop = log.scrollHeight;
  };

  // --- drawing messages ---------------------------------------------------------------

  function setTicks(li, state) {
    const ticks = li.querySelector("[data-ticks]");
    if (!ticks || TICK_ORDER[state] <= TICK_ORDER[ticks.dataset.ticks]) return;
    ticks.dataset.ticks = state;
    ticks.textContent = TICKS[state];
    ticks.classList.toggle("msg__ticks--read", state === "read");
  }

  function attachmentNode(message) {
    const meta = message.metadata || {};
    const name = meta.name || "A file";
    if (meta.thumbnail) {
      const link = el("a", "msg__image");
      link.href = fileUrl("View", message.attachment);
      const img = el("img");
      img.src = fileUrl("Thumbnail", message.attachment);
      img.alt = name;
      img.loading = "lazy";
      link.append(img);
      return link;
    }
    const card = el("a", "msg__file");
    card.href = fileUrl("Download", message.attachment);
    card.append(el("span", "msg__file-name", name), " ", el("span", "msg__file-size", fileSize(meta.size)));
    return card;
  }

  function messageNode(message) {
    const li = el("li", "msg");
    li.dataset.messageId = message.id;
    li.dataset.kind = message.kind;
    const time = el("time", "", clock(message.created_at, root.dataset.zone));
    time.dateTime = message.created_at;
    const metaLine = el("p", "msg__meta");
    metaLine.append(time);
    if (!message.sender) {
      li.classList.add("msg--system");
      li.append(el("p", "msg__body", message.body), metaLine);
      return li;
    }
    li.dataset.sender = message.sender;
    const mine = message.sender === me;
    li.classList.add(mine ? "msg--mine" : "msg--theirs");
    const bubble = el("div", "msg__bubble");
    if (message.kind === "attachment" && message.attachment) bubble.append(attachmentNode(message));
    if (message.body) bubble.append(el("p", "msg__body", message.body));
    if (mine) {
      const ticks = el("span", "msg__ticks");
      ticks.dataset.ticks = "sent";
      ticks.textContent = TICKS.sent;
      metaLine.append(" ", ticks);
    }
    bubble.append(metaLine);
    li.append(bubble);
    if (mine) {
      if (message.read_at) setTicks(li, "read");
      else if (message.delivered_at) setTicks(li, "delivered");
    }
    return li;
  }

  function forgetEmpty() {
    const empty = root.querySelector("[data-empty]");
    if (empty) empty.remove();
  }

  // Append one saved message at the end, unless it is already shown (echo,
  // resync and the upload's own answer can all bring the same row).
  function addMessage(message, clientId) {
    const existing = byId.get(message.id);
    if (existing) return existing;
    const stick = atBottom() || message.sender === me;
    const li = messageNode(message);
    const waiting = clientId && pending.has(clientId) ? { ...pending.get(clientId), clientId } : matchPending(message);
    if (waiting) {
      waiting.li.replaceWith(li);
      pending.delete(waiting.clientId);
    } else {
      list.append(li);
    }
    byId.set(message.id, li);
    forgetEmpty();
    watchForRead(li);
    if (stick) toBottom();
    return li;
  }

  // A message of mine that came back through resync, not as an echo (the
  // socket dropped between send and echo): it answers the oldest pending
  // bubble with the same text, so the text is not shown twice.
  function matchPending(message) {
    if (message.sender !== me || message.kind !== "text") return null;
    for (const [clientId, entry] of pending) {
      if (entry.text === message.body) return { ...entry, clientId };
    }
    return null;
  }

  function prependMessages(messages) {
    const before = log.scrollHeight;
    const fragment = document.createDocumentFragment();
    for (const message of messages) {
      if (byId.has(message.id)) continue;
      const li = messageNode(message);
      byId.set(message.id, li);
      fragment.append(li);
      watchForRead(li);
    }
    list.prepend(fragment);
    forgetEmpty();
    log.scrollTop += log.scrollHeight - before;
  }

  function lastId() {
    const items = list.querySelectorAll("[data-message-id]");
    return items.length ? items[items.length - 1].dataset.messageId : null;
  }

  function firstId() {
    const first = list.querySelector("[data-message-id]");
    return first ? first.dataset.messageId : null;
  }

  // --- read receipts ------------------------------------------------------------------

  const readObserver =
    "IntersectionObserver" in window
      ? new IntersectionObserver(
          (entries) => {
            for (const entry of entries) {
              if (!entry.isIntersecting) continue;
              readObserver.unobserve(entry.target);
              considerRead(entry.target);
            }
          },
          { root: log, threshold: 0.5 },
        )
      : null;

  function watchForRead(li) {
    if (!li.classList.contains("msg--theirs") || !readObserver) return;
    readObserver.observe(li);
  }

  // The latest of the other party's messages seen on screen, in list order.
  function considerRead(li) {
    const items = Array.from(list.querySelectorAll(".msg--theirs"));
    const index = items.indexOf(li);
    const current = readCandidate ? items.findIndex((x) => x.dataset.messageId === readCandidate) : -1;
    if (index > current) readCandidate = li.dataset.messageId;
    scheduleRead();
  }

  function scheduleRead() {
    if (readTimer) return;
    readTimer = window.setTimeout(() => {
      readTimer = null;
      if (document.visibilityState !== "visible") return;
      if (!readCandidate || readCandidate === lastReadSent) return;
      if (send({ type: "read", up_to: readCandidate })) lastReadSent = readCandidate;
    }, READ_FLUSH_MS);
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") scheduleRead();
  });

  // --- the socket -----------------------------------------------------------------------

  function send(frame) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${window.location.host}${root.dataset.wsPath}`);
    socket.addEventListener("open", () => {
      // The back-off is reset by a socket that stays up (see "close"), not by
      // opening: a server that accepts and then closes at once (4503 while the
      // database is away) must not be knocked on every second.
      openedAt = Date.now();
      generation += 1;
      offline.hidden = true;
      root.classList.add("room--live");
      // Always ask for what follows the last message shown: the server-rendered
      // page may be a little old by the time the socket opens, and after a
      // reconnect this is exactly what was missed.
      send({ type: "resync", after: lastId() });
      lastReadSent = null;
      scheduleRead();
    });
    socket.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      handle(frame);
    });
    socket.addEventListener("close", (event) => {
      root.classList.remove("room--live");
      socket = null;
      setPresence(null);
      if (event.code === CLOSE_SIGNED_OUT) {
        stopped = true;
        alertWith("You have been signed out. Sign in again to continue the conversation.");
        return;
      }
      if (event.code === CLOSE_NOT_FOUND) {
        stopped = true;
        alertWith("This conversation is no longer available to you.");
        return;
      }
      if (stopped) return;
      offline.hidden = false;
      // Exponential back-off with full jitter: many phones coming back at once
      // after a network blip do not all knock at the same second.
      if (openedAt && Date.now() - openedAt > STABLE_MS) attempt = 0;
      openedAt = 0;
      const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
      attempt += 1;
      window.clearTimeout(retryTimer);
      retryTimer = window.setTimeout(connect, ceiling / 2 + Math.random() * (ceiling / 2));
    });
  }

  function handle(frame) {
    switch (frame.type) {
      case "message":
        addMessage(frame.message, frame.client_id);
        if (frame.message.sender && frame.message.sender !== me) showTyping(false);
        root.dispatchEvent(new CustomEvent("room:message", { detail: frame.message }));
        break;
      case "resync":
        for (const message of frame.messages) addMessage(message, null);
        if (!frame.complete) send({ type: "resync", after: lastId() });
        else resendUnsaved();
        break;
      case "history":
        loadingOlder = false;
        prependMessages(frame.messages);
        hasMore = frame.has_more;
        if (!hasMore) {
          const older = root.querySelector("[data-older]");
          if (older) older.closest("p").remove();
        }
        break;
      case "receipt":
        for (const id of frame.ids) {
          const li = byId.get(id);
          if (li) setTicks(li, frame.read_at ? "read" : "delivered");
        }
        break;
      case "typing":
        showTyping(frame.active);
        break;
      case "presence":
        setPresence(frame.online);
        break;
      case "readonly":
        if (writable && readonlyNote && frame.status) {
          // The words of messaging.ROOM_READ_ONLY, for the status the server sent.
          const status = STATUS_WORDS[frame.status] || frame.status.replace(/_/g, " ");
          readonlyNote.textContent = `This consultation is ${status}, so its chat is read-only.`;
        }
        closeRoom();
        root.dispatchEvent(new CustomEvent("room:readonly", { detail: frame }));
        break;
      case "error":
        // "unavailable": the server could not save it and closes the socket;
        // the message waits and goes again once the resync after the
        // reconnect shows it was not saved.
        if (frame.code === "unavailable") waitPending(frame.client_id);
        else failPending(frame.client_id, frame.detail);
        alertWith(frame.detail);
        break;
      default:
        // call.* frames are for the call panel (static/js/room-call.js): it is
        // told through a DOM event rather than owning a second socket.
        if (typeof frame.type === "string" && frame.type.startsWith("call.")) {
          root.dispatchEvent(new CustomEvent("room:call", { detail: frame }));
        }
        // assistant.* frames (an AI intake's streamed draft) are for static/js/room-intake.js.
        if (typeof frame.type === "string" && frame.type.startsWith("assistant.")) {
          root.dispatchEvent(new CustomEvent("room:assistant", { detail: frame }));
        }
    }
  }

  // The call panel sends its signalling through this socket.
  root.addEventListener("room:call-send", (event) => {
    send(event.detail);
  });

  function setPresence(online) {
    if (!presence) return;
    if (online === null) {
      presence.hidden = true;
      return;
    }
    presence.hidden = false;
    presence.textContent = online ? "Online" : "Offline";
    presence.dataset.online = String(online);
    if (!online) showTyping(false);
  }

  function showTyping(active) {
    window.clearTimeout(typingShownTimer);
    typingLine.hidden = !active;
    typingLine.textContent = active ? `${otherName} is typing…` : "";
    // A typing "stop" can be lost with a dropped socket: the line fades by itself.
    if (active) typingShownTimer = window.setTimeout(() => showTyping(false), TYPING_SHOWN_MS);
  }

  function closeRoom() {
    writable = false;
    if (composerBox) composerBox.hidden = true;
    if (readonlyNote) readonlyNote.hidden = false;
    for (const [clientId] of pending) failPending(clientId, readonlyNote ? readonlyNote.textContent : "");
  }

  // The server said it could not save this one (code "unavailable"): it is
  // sent again once a new socket's resync shows it is still missing.
  function waitPending(clientId) {
    const entry = clientId ? pending.get(clientId) : null;
    if (!entry) return;
    entry.unsaved = true;
    const ticks = entry.li.querySelector("[data-ticks]");
    if (ticks) ticks.textContent = "Waiting to send…";
  }

  // After a reconnect's resync is complete. A message the server refused to
  // save goes again, once per socket. One that was in flight when the socket
  // dropped may still be saved late by the old connection, so it is not sent
  // twice on a guess: it says so, and stays matched to its text in case its
  // echo arrives after all.
  function resendUnsaved() {
    for (const [clientId, entry] of pending) {
      if (entry.generation === generation || !writable) continue;
      const ticks = entry.li.querySelector("[data-ticks]");
      if (!entry.unsaved) {
        entry.generation = generation;
        if (ticks) ticks.textContent = "Not sent: the connection dropped. Send it again if it does not appear.";
        continue;
      }
      if (!send({ type: "message", text: entry.text, client_id: clientId })) return;
      entry.generation = generation;
      entry.unsaved = false;
      if (ticks) ticks.textContent = "Sending…";
    }
  }

  function failPending(clientId, detail) {
    const entry = clientId ? pending.get(clientId) : null;
    if (!entry) return;
    entry.li.classList.add("msg--failed");
    const ticks = entry.li.querySelector("[data-ticks]");
    if (ticks) ticks.textContent = `Not sent: ${detail}`;
    pending.delete(clientId);
  }

  // --- sending ----------------------------------------------------------------------------

  function sendTyping(active) {
    if (!writable) return;
    send({ type: "typing", active });
  }

  if (composer && body) {
    composer.addEventListener("submit", (event) => {
      // No socket: the form posts as it would without JavaScript.
      if (!socket || socket.readyState !== WebSocket.OPEN) return;
      event.preventDefault();
      const text = body.value.trim();
      if (!text) return;
      const clientId = newClientId();
      const li = messageNode({
        id: `pending-${clientId}`,
        kind: "text",
        sender: me,
        body: text,
        created_at: new Date().toISOString(),
      });
      delete li.dataset.messageId;
      li.classList.add("msg--pending");
      li.querySelector("[data-ticks]").dataset.ticks = "pending";
      li.querySelector("[data-ticks]").textContent = "Sending…";
      list.append(li);
      forgetEmpty();
      toBottom();
      pending.set(clientId, { li, text, generation });
      send({ type: "message", text, client_id: clientId });
      body.value = "";
      window.clearTimeout(typingIdleTimer);
      typingSentAt = 0;
      sendTyping(false);
      alertWith("");
      body.focus();
    });

    body.addEventListener("keydown", (event) => {
      // Enter sends on a keyboard; Shift+Enter is a new line. Phones keep Enter for new lines.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && window.matchMedia("(pointer: fine)").matches) {
        event.preventDefault();
        composer.requestSubmit();
      }
    });

    body.addEventListener("input", () => {
      const now = Date.now();
      if (body.value.trim() && now - typingSentAt > TYPING_SEND_EVERY_MS) {
        typingSentAt = now;
        sendTyping(true);
      }
      window.clearTimeout(typingIdleTimer);
      typingIdleTimer = window.setTimeout(() => {
        typingSentAt = 0;
        sendTyping(false);
      }, TYPING_IDLE_MS);
    });
  }

  // --- attachments ------------------------------------------------------------------------

  function upload(file) {
    const data = new FormData();
    data.append("file", file);
    data.append("csrfmiddlewaretoken", csrfToken(attachForm));
    const request = new XMLHttpRequest();
    request.open("POST", root.dataset.attachmentUrl);
    request.setRequestHeader("Accept", "application/json");
    request.setRequestHeader("X-CSRFToken", csrfToken(attachForm));
    progress.hidden = false;
    progress.value = 0;
    progress.textContent = "0%";
    request.upload.addEventListener("progress", (event) => {
      if (!event.lengthComputable) return;
      const percent = Math.round((event.loaded / event.total) * 100);
      progress.value = percent;
      progress.textContent = `${percent}%`;
    });
    request.addEventListener("load", () => {
      progress.hidden = true;
      attachInput.value = "";
      let answer = {};
      try {
        answer = JSON.parse(request.responseText);
      } catch {
        answer = {};
      }
      if (request.status === 200 && answer.message) {
        alertWith("");
        addMessage(answer.message, null);
      } else {
        alertWith(answer.error || "The file could not be sent. Please try again.");
      }
    });
    request.addEventListener("error", () => {
      progress.hidden = true;
      alertWith("The file could not be sent: the connection dropped. Please try again.");
    });
    request.send(data);
  }

  if (attachForm && attachInput && progress) {
    if (attachSubmit) attachSubmit.hidden = true;
    attachInput.addEventListener("change", () => {
      const file = attachInput.files && attachInput.files[0];
      if (file) upload(file);
    });
  }

  // --- older messages -----------------------------------------------------------------------

  function loadOlder() {
    if (loadingOlder || !hasMore) return;
    if (send({ type: "history", before: firstId() })) loadingOlder = true;
  }

  const older = root.querySelector("[data-older]");
  if (older && live) {
    older.addEventListener("click", (event) => {
      if (!socket || socket.readyState !== WebSocket.OPEN) return;
      event.preventDefault();
      loadOlder();
    });
    if ("IntersectionObserver" in window) {
      new IntersectionObserver(
        (entries) => {
          if (entries.some((entry) => entry.isIntersecting)) loadOlder();
        },
        { root: log },
      ).observe(older);
    }
  }

  // --- start ----------------------------------------------------------------------------------

  for (const li of list.querySelectorAll("[data-message-id]")) {
    byId.set(li.dataset.messageId, li);
    watchForRead(li);
  }
  if (live) {
    toBottom();
    connect();
  }
  window.addEventListener("pagehide", () => {
    stopped = true;
    window.clearTimeout(retryTimer);
    if (socket) socket.close();
  });
  window.addEventListener("pageshow", (event) => {
    // Back from the back/forward cache: the socket was closed on the way out.
    if (event.persisted && live) {
      stopped = false;
      connect();
    }
  });
}
