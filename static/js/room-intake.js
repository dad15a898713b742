// The AI intake's additions to the consultation room (templates/consultations/room.html
// with data-intake="true"). static/js/room.js owns the socket; it tells this
// module what arrives through DOM events on [data-room]:
//   room:message    a saved message: the assistant's brings its quick replies
//                   (metadata.chips) and replaces the streamed draft;
//   room:assistant  an `assistant.draft` frame: the reply so far, as a model writes it;
//   room:readonly   the intake closed (finished, or stopped for an emergency):
//                   the page is drawn again so the hand-off or the emergency
//                   guidance shows (the server decides which).
// Quick replies are buttons of small forms that work without JavaScript;
// here a tap puts the words in the composer and sends them the usual way
// (over the socket when it is open, as a form POST when not).
// Text is always inserted with textContent.

const root = document.querySelector('[data-room][data-intake="true"]');

if (root) {
  const me = root.dataset.user;
  const list = root.querySelector("[data-messages]");
  const chipsBox = root.querySelector("[data-chips]");
  const composer = root.querySelector("[data-composer]");
  const body = root.querySelector("[data-body]");
  let draft = null;
  // Once the intake closes no draft is drawn (a reply cut short by an emergency is never
  // saved). A page drawn closed starts closed: its socket hears "readonly" on connect.
  let closed = root.dataset.writable !== "true";

  function clearDraft() {
    if (draft) draft.remove();
    draft = null;
  }

  function showChips(chips) {
    if (!chipsBox) return;
    chipsBox.replaceChildren();
    for (const words of chips || []) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button button--secondary button--small";
      button.dataset.chip = "";
      button.textContent = words;
      chipsBox.append(button);
    }
    chipsBox.hidden = !(chips && chips.length);
  }

  if (chipsBox && composer && body) {
    chipsBox.addEventListener("click", (event) => {
      const button = event.target.closest("[data-chip]");
      if (!button) return;
      event.preventDefault();
      body.value = button.textContent.trim();
      composer.requestSubmit();
    });
  }

  root.addEventListener("room:message", (event) => {
    const message = event.detail;
    if (message.sender === me) {
      showChips([]);
      return;
    }
    clearDraft();
    showChips((message.metadata && message.metadata.chips) || []);
  });

  root.addEventListener("room:assistant", (event) => {
    const frame = event.detail;
    if (frame.type !== "assistant.draft" || !list || closed) return;
    if (!draft) {
      draft = document.createElement("li");
      draft.className = "msg msg--theirs msg--draft";
      draft.setAttribute("aria-busy", "true");
      draft.dataset.draft = "";
      const bubble = document.createElement("div");
      bubble.className = "msg__bubble";
      const text = document.createElement("p");
      text.className = "msg__body";
      bubble.append(text);
      draft.append(bubble);
      list.append(draft);
    }
    draft.querySelector(".msg__body").textContent = frame.text;
  });

  root.addEventListener("room:readonly", () => {
    // Only an intake that closes while this page shows it open is drawn again
    // (reloading a page drawn closed would reload it for ever).
    if (closed) return;
    closed = true;
    clearDraft();
    // Let the last message land first, then draw the closing panel.
    window.setTimeout(() => window.location.reload(), 400);
  });
}
