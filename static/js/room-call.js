// Audio and video calls in the consultation room (templates/consultations/_call_panel.html).
//
// WebRTC peer to peer; the room's websocket carries the signalling
// (consultations/protocol.py: call.offer, call.answer, call.ice, call.hangup,
// and call.config with the ICE servers). The server allows calls only between
// the two participants of an in-progress audio or video consultation and
// writes "Video call started" / "Call ended (mm:ss)" itself.
//
// The socket belongs to room.js. The interface between the two, on the
// [data-room] element:
//   room.js -> here   CustomEvent "room:call", detail = a call.* frame as received
//                     (call.config on connect, then relayed call.offer/answer/ice/hangup)
//   here -> room.js   CustomEvent "room:call-send", detail = the frame to send as is
//   socket state      room.js sets the class "room--live" on [data-room] while its socket
//                     is open; when it drops the server ends the call, so this side does too.
//   room closed       room.js shows [data-readonly] when the consultation stops being
//                     writable; a call in progress is then hung up (the server records its end).
//
// What it does:
//   - "Start call" (video or audio, per the consultation's mode) sends an offer;
//     the other side sees an incoming call with Accept and Decline;
//   - mute, camera on/off, switch to audio only (the camera is released), hang up,
//     a call timer from the moment media connects, the connection state in words;
//   - ICE restart when the connection fails, and when the browser comes back
//     online (a network change): the side that notices sends a new offer. Offers
//     that cross: the callee yields (it takes the caller's offer), the caller
//     ignores the callee's ("perfect negotiation", simplified to two roles);
//   - an unanswered call gives up after RING_TIMEOUT_MS.
//
// Wiring, by data-* attributes only:
//   [data-room]           data-mode (audio|video), data-other-name
//   [data-call-panel]     the section, shown once call.config arrives; inside it [data-call]
//                         (data-state: idle|calling|ringing|connecting|connected|reconnecting|failed|ended)
//   [data-call-state]     the state line; [data-call-timer] the timer; [data-call-title]
//   [data-call-incoming]  the incoming prompt: [data-call-incoming-text], [data-call-accept], [data-call-decline]
//   [data-call-media]     [data-call-remote] and [data-call-local] videos, [data-call-remote-note]
//   [data-call-start], [data-call-mute], [data-call-camera], [data-call-audio-only], [data-call-hangup]

const root = document.querySelector("[data-room]");
const panel = document.querySelector("[data-call-panel]");
const box = panel ? panel.querySelector("[data-call]") : null;

const RING_TIMEOUT_MS = 45000;

const STATE_TEXT = {
  idle: "Not in a call",
  calling: "Calling…",
  ringing: "Incoming call",
  connecting: "Connecting…",
  connected: "Connected",
  reconnecting: "Connection unstable, reconnecting…",
  failed: "Connection lost, trying again…",
  ended: "Call ended",
};

function twoDigits(n) {
  return String(n).padStart(2, "0");
}

function duration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h ? `${h}:${twoDigits(m)}:${twoDigits(s)}` : `${twoDigits(m)}:${twoDigits(s)}`;
}

if (root && box) {
  const find = (name) => box.querySelector(`[data-call-${name}]`);
  const stateLine = find("state");
  const timer = find("timer");
  const title = find("title");
  const incoming = find("incoming");
  const incomingText = find("incoming-text");
  const media = find("media");
  const remoteVideo = find("remote");
  const remoteNote = find("remote-note");
  const localVideo = find("local");
  const startButton = find("start");
  const muteButton = find("mute");
  const cameraButton = find("camera");
  const audioOnlyButton = find("audio-only");
  const hangupButton = find("hangup");
  const otherName = root.dataset.otherName || "The other person";

  let mode = root.dataset.mode === "audio" ? "audio" : "video";
  let iceServers = [];
  let pc = null;
  let localStream = null;
  let role = null; // "caller" or "callee" of the current call
  let pendingOffer = null; // the offer of a call ringing here
  let pendingCandidates = [];
  let connectedAt = null;
  let timerInterval = null;
  let ringTimer = null;
  let audioOnly = false;
  let closed = false; // the room went read-only: no new calls

  function send(frame) {
    root.dispatchEvent(new CustomEvent("room:call-send", { detail: frame }));
  }

  function setState(state, text) {
    box.dataset.state = state;
    stateLine.textContent = text || STATE_TEXT[state];
  }

  function inCall() {
    return pc !== null;
  }

  function showControls(active) {
    startButton.hidden = closed || active || pendingOffer !== null;
    hangupButton.hidden = !active;
    muteButton.hidden = !active;
    const video = active && mode === "video" && !audioOnly;
    cameraButton.hidden = !video;
    audioOnlyButton.hidden = !video;
    media.hidden = !active;
    box.classList.toggle("call--audio", mode === "audio" || audioOnly);
  }

  function configure(frame) {
    if (frame.mode === "audio" || frame.mode === "video") mode = frame.mode;
    iceServers = Array.isArray(frame.ice_servers) ? frame.ice_servers : [];
    const label = mode === "video" ? "Video call" : "Audio call";
    title.textContent = label;
    startButton.textContent = `Start ${label.toLowerCase()}`;
    panel.hidden = false;
    if (pc) pc.setConfiguration({ iceServers }); // fresh TURN credentials for the next ICE restart
  }

  function startTimer() {
    if (connectedAt !== null) return;
    connectedAt = Date.now();
    timer.hidden = false;
    timer.textContent = "00:00";
    timerInterval = window.setInterval(() => {
      timer.textContent = duration(Date.now() - connectedAt);
    }, 1000);
  }

  async function openMedia() {
    localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: mode === "video" });
    localVideo.srcObject = localStream;
    localVideo.hidden = mode !== "video";
  }

  function newPeer() {
    pc = new RTCPeerConnection({ iceServers });
    for (const track of localStream.getTracks()) pc.addTrack(track, localStream);
    pc.addEventListener("icecandidate", (event) => {
      send({ type: "call.ice", candidate: event.candidate ? event.candidate.toJSON() : null });
    });
    pc.addEventListener("track", (event) => {
      const [stream] = event.streams;
      if (remoteVideo.srcObject !== stream) remoteVideo.srcObject = stream;
      if (event.track.kind === "video") {
        // The other side turned its camera off or went audio only.
        event.track.addEventListener("mute", () => {
          remoteNote.hidden = false;
        });
        event.track.addEventListener("unmute", () => {
          remoteNote.hidden = true;
        });
      }
    });
    pc.addEventListener("connectionstatechange", () => {
      if (!pc) return;
      switch (pc.connectionState) {
        case "connected":
          setState("connected");
          startTimer();
          break;
        case "disconnected":
          setState("reconnecting");
          break;
        case "failed":
          setState("failed");
          break;
        default:
          if (connectedAt === null) setState("connecting");
      }
    });
    pc.addEventListener("iceconnectionstatechange", () => {
      if (pc && pc.iceConnectionState === "failed") restartIce();
    });
  }

  async function restartIce() {
    if (!pc || pc.signalingState !== "stable") return;
    const offer = await pc.createOffer({ iceRestart: true });
    await pc.setLocalDescription(offer);
    send({ type: "call.offer", sdp: pc.localDescription.sdp });
  }

  async function flushCandidates() {
    const queued = pendingCandidates;
    pendingCandidates = [];
    for (const candidate of queued) await addCandidate(candidate);
  }

  async function addCandidate(candidate) {
    try {
      await pc.addIceCandidate(candidate);
    } catch (error) {
      // A candidate for a description since replaced (an ICE restart): harmless.
      console.warn("ICE candidate refused", error);
    }
  }

  function cleanup(text) {
    window.clearTimeout(ringTimer);
    window.clearInterval(timerInterval);
    if (pc) {
      pc.close();
      pc = null;
    }
    if (localStream) {
      for (const track of localStream.getTracks()) track.stop();
      localStream = null;
    }
    localVideo.srcObject = null;
    remoteVideo.srcObject = null;
    remoteNote.hidden = true;
    role = null;
    pendingOffer = null;
    pendingCandidates = [];
    connectedAt = null;
    audioOnly = false;
    incoming.hidden = true;
    timer.hidden = true;
    muteButton.setAttribute("aria-pressed", "false");
    muteButton.textContent = "Mute";
    cameraButton.setAttribute("aria-pressed", "false");
    cameraButton.textContent = "Camera off";
    setState(text ? "ended" : "idle", text);
    showControls(false);
  }

  function mediaRefused(error) {
    const what = mode === "video" ? "camera and microphone" : "microphone";
    const text =
      error && error.name === "NotAllowedError"
        ? `The browser was not allowed to use your ${what}. Allow it in the site settings and try again.`
        : `Your ${what} could not be started.`;
    cleanup(text);
  }

  async function startCall() {
    if (inCall()) return;
    role = "caller";
    setState("calling", `Calling ${otherName}…`);
    try {
      await openMedia();
    } catch (error) {
      mediaRefused(error);
      return;
    }
    newPeer();
    showControls(true);
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    send({ type: "call.offer", sdp: pc.localDescription.sdp });
    ringTimer = window.setTimeout(() => {
      if (pc && connectedAt === null && pc.remoteDescription === null) {
        send({ type: "call.hangup" });
        cleanup(`${otherName} did not answer.`);
      }
    }, RING_TIMEOUT_MS);
  }

  async function accept() {
    const offer = pendingOffer;
    if (offer === null) return;
    incoming.hidden = true;
    role = "callee";
    setState("connecting");
    try {
      await openMedia();
    } catch (error) {
      send({ type: "call.hangup" });
      mediaRefused(error);
      return;
    }
    if (pendingOffer === null) {
      // The caller gave up while the camera was starting.
      for (const track of localStream.getTracks()) track.stop();
      localStream = null;
      return;
    }
    pendingOffer = null;
    newPeer();
    showControls(true);
    await pc.setRemoteDescription({ type: "offer", sdp: offer });
    await flushCandidates();
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    send({ type: "call.answer", sdp: pc.localDescription.sdp });
  }

  function decline() {
    send({ type: "call.hangup" });
    cleanup();
  }

  function hangUp() {
    send({ type: "call.hangup" });
    cleanup(connectedAt === null ? "Call cancelled" : `Call ended (${duration(Date.now() - connectedAt)})`);
  }

  async function onOffer(sdp) {
    if (!inCall()) {
      if (pendingOffer !== null) {
        pendingOffer = sdp; // the caller restarted before we answered
        return;
      }
      pendingOffer = sdp;
      pendingCandidates = [];
      incomingText.textContent = `${otherName} is calling (${mode === "video" ? "video" : "audio"})`;
      incoming.hidden = false;
      startButton.hidden = true;
      setState("ringing");
      return;
    }
    // A new offer within the call: an ICE restart (or a renegotiation).
    if (pc.signalingState === "have-local-offer") {
      if (role === "caller") return; // ours wins; the callee will take it
      await pc.setLocalDescription({ type: "rollback" });
    }
    await pc.setRemoteDescription({ type: "offer", sdp });
    await flushCandidates();
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    send({ type: "call.answer", sdp: pc.localDescription.sdp });
  }

  async function onAnswer(sdp) {
    if (!pc || pc.signalingState !== "have-local-offer") return;
    window.clearTimeout(ringTimer);
    setState("connecting");
    await pc.setRemoteDescription({ type: "answer", sdp });
    await flushCandidates();
  }

  async function onIce(candidate) {
    if (candidate === null) return; // end of candidates: nothing to do
    if (pc && pc.remoteDescription) await addCandidate(candidate);
    else pendingCandidates.push(candidate);
  }

  function onHangup(frame) {
    if (!inCall() && pendingOffer === null) return;
    let text;
    if (frame.reason === "disconnected") text = `${otherName}'s connection dropped. The call has ended.`;
    else if (pendingOffer !== null) text = `${otherName} cancelled the call.`;
    else if (connectedAt === null) text = `${otherName} declined the call.`;
    else text = `${otherName} ended the call (${duration(Date.now() - connectedAt)}).`;
    cleanup(text);
  }

  root.addEventListener("room:call", (event) => {
    const frame = event.detail || {};
    const handled = (() => {
      switch (frame.type) {
        case "call.config":
          configure(frame);
          return null;
        case "call.offer":
          return onOffer(frame.sdp);
        case "call.answer":
          return onAnswer(frame.sdp);
        case "call.ice":
          return onIce(frame.candidate);
        case "call.hangup":
          onHangup(frame);
          return null;
        default:
          return null;
      }
    })();
    if (handled) {
      handled.catch((error) => {
        console.warn("Call signalling failed", error);
        if (pc) {
          send({ type: "call.hangup" });
          cleanup("The call could not be set up.");
        }
      });
    }
  });

  // The room's socket dropped: the server has ended the call for both sides.
  new MutationObserver(() => {
    if (!root.classList.contains("room--live") && (inCall() || pendingOffer !== null)) {
      cleanup("Connection to the server lost. The call has ended; call again once you are back online.");
    }
  }).observe(root, { attributes: true, attributeFilter: ["class"] });

  // The consultation was completed or cancelled while the call was on.
  const readonlyNote = root.querySelector("[data-readonly]");
  if (readonlyNote) {
    new MutationObserver(() => {
      if (readonlyNote.hidden) return;
      closed = true;
      if (inCall() || pendingOffer !== null) {
        send({ type: "call.hangup" });
        cleanup("The consultation has ended, and so has the call.");
      } else {
        showControls(false);
      }
    }).observe(readonlyNote, { attributes: true, attributeFilter: ["hidden"] });
  }

  // A network change (Wi-Fi to mobile data): new candidates for the new route.
  window.addEventListener("online", () => {
    if (pc && connectedAt !== null) restartIce().catch((error) => console.warn("ICE restart failed", error));
  });

  startButton.addEventListener("click", () => {
    startCall().catch((error) => {
      console.warn("Call could not start", error);
      if (pc) send({ type: "call.hangup" });
      cleanup("The call could not be started.");
    });
  });
  box.querySelector("[data-call-accept]").addEventListener("click", () => {
    accept().catch((error) => {
      console.warn("Call could not be accepted", error);
      send({ type: "call.hangup" });
      cleanup("The call could not be connected.");
    });
  });
  box.querySelector("[data-call-decline]").addEventListener("click", decline);
  hangupButton.addEventListener("click", hangUp);

  muteButton.addEventListener("click", () => {
    if (!localStream) return;
    const muted = muteButton.getAttribute("aria-pressed") !== "true";
    for (const track of localStream.getAudioTracks()) track.enabled = !muted;
    muteButton.setAttribute("aria-pressed", String(muted));
    muteButton.textContent = muted ? "Unmute" : "Mute";
  });

  cameraButton.addEventListener("click", () => {
    if (!localStream) return;
    const off = cameraButton.getAttribute("aria-pressed") !== "true";
    for (const track of localStream.getVideoTracks()) track.enabled = !off;
    cameraButton.setAttribute("aria-pressed", String(off));
    cameraButton.textContent = off ? "Camera on" : "Camera off";
  });

  audioOnlyButton.addEventListener("click", () => {
    if (!pc || !localStream) return;
    // The camera is released and nothing more is sent; the other side's video
    // track goes quiet and shows "Camera off".
    for (const sender of pc.getSenders()) {
      if (sender.track && sender.track.kind === "video") sender.replaceTrack(null);
    }
    for (const track of localStream.getVideoTracks()) {
      track.stop();
      localStream.removeTrack(track);
    }
    audioOnly = true;
    localVideo.hidden = true;
    showControls(true);
  });

  window.addEventListener("pagehide", () => {
    if (inCall()) send({ type: "call.hangup" });
  });

  setState("idle");
}
